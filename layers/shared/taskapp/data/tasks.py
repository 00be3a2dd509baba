"""Tasks, partitioned by owner: another user's task is simply not under the caller's key, so it answers 404.

Table: hash `ownerId`, range `taskId`.
- GSI `byCreated` (ownerId, createdKey): the caller's tasks newest first.
- GSI `byStatus` (ownerStatus, createdKey): the caller's tasks in one status, newest first.
`createdKey` is `{createdAt ISO}#{taskId}`, unique and sortable; `ownerStatus` is `{ownerId}#{status}`. Both are
derived here from the record, on every write that changes what they are built from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any, TypeVar, cast

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from taskapp.data.base import is_condition_failure, model_meta, storage_failures_translated
from taskapp.domain.records import Page
from taskapp.domain.records.tasks import Task
from taskapp.settings import tasks_table_settings

BATCH_GET_LIMIT = 100  # keys per BatchGetItem (DynamoDB's limit)
BATCH_WRITE_LIMIT = 25  # items per BatchWriteItem (DynamoDB's limit)
# Requests in flight at once: they overlap the client's serialisation with the server's work. 8 beat 1, 2 and 4
# in every round on MiniStack (benchmarks/ingest-batching.md); pynamodb's HTTP pool holds 10 connections.
BATCH_PARALLELISM = 8

_T = TypeVar("_T")
_R = TypeVar("_R")


class ByCreatedIndex(GlobalSecondaryIndex["TaskModel"]):
    class Meta:
        index_name = "byCreated"
        projection = AllProjection()

    owner_id = UnicodeAttribute(hash_key=True, attr_name="ownerId")
    created_key = UnicodeAttribute(range_key=True, attr_name="createdKey")


class ByStatusIndex(GlobalSecondaryIndex["TaskModel"]):
    class Meta:
        index_name = "byStatus"
        projection = AllProjection()

    owner_status = UnicodeAttribute(hash_key=True, attr_name="ownerStatus")
    created_key = UnicodeAttribute(range_key=True, attr_name="createdKey")


class TaskModel(Model):
    Meta = model_meta(tasks_table_settings().tasks_table)

    owner_id = UnicodeAttribute(hash_key=True, attr_name="ownerId")
    task_id = UnicodeAttribute(range_key=True, attr_name="taskId")
    title = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    status = UnicodeAttribute()
    priority = UnicodeAttribute()
    due_date = UnicodeAttribute(null=True, attr_name="dueDate")
    remind_at = UnicodeAttribute(null=True, attr_name="remindAt")
    tags = UnicodeSetAttribute(null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    version = NumberAttribute(default=1)
    created_key = UnicodeAttribute(attr_name="createdKey")
    owner_status = UnicodeAttribute(attr_name="ownerStatus")

    by_created = ByCreatedIndex()
    by_status = ByStatusIndex()


class TaskAlreadyExists(Exception):
    pass


class VersionConflict(Exception):
    """The stored version differs from the one the caller read (or the task vanished meanwhile)."""


def owner_status_key(owner_id: str, status: str) -> str:
    return f"{owner_id}#{status}"


def created_key(task: Task) -> str:
    return f"{task.created_at.isoformat()}#{task.task_id}"


def to_model(task: Task) -> TaskModel:
    return TaskModel(
        task.owner_id,
        task.task_id,
        title=task.title,
        description=task.description,
        status=task.status,
        priority=task.priority,
        due_date=task.due_date,
        remind_at=task.remind_at,
        tags=set(task.tags) or None,
        created_at=task.created_at,
        updated_at=task.updated_at,
        version=task.version,
        created_key=created_key(task),
        owner_status=owner_status_key(task.owner_id, task.status),
    )


def to_record(model: TaskModel) -> Task:
    return Task(
        owner_id=model.owner_id,
        task_id=model.task_id,
        title=model.title,
        description=model.description or "",
        status=model.status,
        priority=model.priority,
        due_date=model.due_date,
        tags=frozenset(model.tags or ()),
        created_at=model.created_at,
        updated_at=model.updated_at,
        version=int(model.version),
        remind_at=model.remind_at,
    )


def create_task(task: Task) -> None:
    try:
        to_model(task).save(condition=TaskModel.task_id.does_not_exist())
    except PutError as exc:
        if is_condition_failure(exc):
            raise TaskAlreadyExists(task.task_id) from exc
        raise


def get_task(owner_id: str, task_id: str) -> Task | None:
    try:
        return to_record(TaskModel.get(owner_id, task_id, consistent_read=True))
    except DoesNotExist:
        return None


def list_tasks(owner_id: str, status: str | None, limit: int, start_key: dict[str, Any] | None) -> Page[Task]:
    if status:
        results = TaskModel.by_status.query(
            owner_status_key(owner_id, status),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start_key,
        )
    else:
        results = TaskModel.by_created.query(
            owner_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key
        )
    items = tuple(to_record(model) for model in results)
    return Page(items=items, last_evaluated_key=results.last_evaluated_key)


def _update_actions(owner_id: str, changes: Mapping[str, object]) -> list[Action]:
    """One SET per changed field; None clears an optional field. A new status moves the task in `byStatus` too."""
    actions: list[Action] = []
    for field, value in changes.items():
        if field == "status":
            status = str(value)
            actions += [TaskModel.status.set(status), TaskModel.owner_status.set(owner_status_key(owner_id, status))]
        elif field == "tags":
            tags = cast("frozenset[str] | None", value)
            actions.append(TaskModel.tags.set(set(tags)) if tags else TaskModel.tags.remove())
        elif field == "due_date":
            actions.append(TaskModel.due_date.set(str(value)) if value else TaskModel.due_date.remove())
        elif field == "remind_at":
            actions.append(TaskModel.remind_at.set(str(value)) if value else TaskModel.remind_at.remove())
        elif field in {"title", "description", "priority", "updated_at"}:
            actions.append(getattr(TaskModel, field).set(value))
        else:
            raise ValueError(f"not a field a task update can change: {field}")
    return actions


def update_task(task: Task, changes: Mapping[str, object], expected_version: int) -> Task:
    """Apply the changes (Task field -> new value) only if nobody else wrote since `expected_version`, bumping the
    version in the same write; returns the task as stored after it (UpdateItem's ALL_NEW, no extra read)."""
    model = TaskModel(task.owner_id, task.task_id)
    try:
        model.update(
            actions=[*_update_actions(task.owner_id, changes), TaskModel.version.set(expected_version + 1)],
            condition=TaskModel.task_id.exists() & (TaskModel.version == expected_version),
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            raise VersionConflict(task.task_id) from exc
        raise
    return to_record(model)


def delete_task(owner_id: str, task_id: str, expected_version: int | None = None) -> bool:
    """Returns False when the task was already gone (a concurrent delete), so callers can answer 404.

    With `expected_version`, only that version is deleted: VersionConflict when another write landed first.
    """
    condition = TaskModel.task_id.exists()
    if expected_version is not None:
        condition = condition & (TaskModel.version == expected_version)
    try:
        TaskModel(owner_id, task_id).delete(condition=condition)
    except DeleteError as exc:
        if not is_condition_failure(exc):
            raise
        if expected_version is not None:
            raise VersionConflict(task_id) from exc
        return False
    return True


def probe() -> None:
    """The cheapest call that proves the tasks table answers (GET /health)."""
    TaskModel.describe_table()


def _chunks(items: Sequence[_T], size: int) -> list[Sequence[_T]]:
    return [items[first : first + size] for first in range(0, len(items), size)]


@cache
def _batch_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=BATCH_PARALLELISM, thread_name_prefix="dynamodb-batch")


def _in_parallel(work: Callable[[Sequence[_T]], _R], chunks: list[Sequence[_T]]) -> list[_R]:
    """Run one request per chunk, a few at a time; the first exception is re-raised once all have finished.

    A single chunk runs inline: no thread hop for the common small batch. The pool lives as long as the Lambda
    container, so warm invocations reuse its threads (and pynamodb's pooled HTTP connections).
    """
    if len(chunks) <= 1:
        return [work(chunk) for chunk in chunks]
    pool = _batch_pool()
    futures = [pool.submit(work, chunk) for chunk in chunks]
    errors = [future.exception() for future in futures]  # wait for every request, so none outlives the call
    first_error = next((error for error in errors if error is not None), None)
    if first_error is not None:
        raise first_error
    return [future.result() for future in futures]


def _found(keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    return {
        (task.owner_id, task.task_id) for task in TaskModel.batch_get(keys, attributes_to_get=["ownerId", "taskId"])
    }


@storage_failures_translated
def existing_task_ids(keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (ownerId, taskId) keys are already stored: one BatchGetItem per 100 keys, several in parallel."""
    found: set[tuple[str, str]] = set()
    for chunk_found in _in_parallel(_found, _chunks(list(keys), BATCH_GET_LIMIT)):
        found |= chunk_found
    return found


def _write(tasks: Sequence[Task]) -> None:
    # pynamodb resends UnprocessedItems with backoff and raises PutError if they persist.
    with TaskModel.batch_write() as batch:
        for task in tasks:
            batch.save(to_model(task))


@storage_failures_translated
def put_tasks(tasks: Sequence[Task]) -> None:
    """BatchWriteItem in chunks of 25, several in flight at once; StorageUnavailable if any chunk was not stored.

    A failure may leave other chunks written: the caller retries the whole batch and skips what is stored.
    """
    _in_parallel(_write, _chunks(tasks, BATCH_WRITE_LIMIT))
