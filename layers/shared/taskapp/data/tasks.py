"""Tasks, partitioned by owner (the user who created the task); personal or in a shared project.

Table: hash `ownerId`, range `taskId`. Every index below is sparse: an item is in an index only when it carries
the index's hash and range attributes, all derived here from the record (`derived_keys`) on every write.
Personal tasks (no `projectId`), as before projects:
- GSI `byCreated` (ownerId, createdKey): the caller's personal tasks newest first.
- GSI `byStatus` (ownerStatus, createdKey): the caller's personal tasks in one status, newest first.
  Only personal tasks carry `createdKey` and `ownerStatus`, so a project task never shows in a personal list.
Every task (personal or project) also carries a *scope*, `U#{ownerId}` or `P#{projectId}`, and the filter indexes:
- `byScope` (scope, createdSort), `byScopeStatus` (scopeStatus, createdSort), `byScopeAssignee` (scopeAssignee,
  createdSort), `byScopeAssigneeStatus` (scopeAssigneeStatus, createdSort), `byScopePriority` (scopePriority,
  createdSort): one filter each, newest first.
- `byScopeDue` (scope, dueSort): by due date, soonest first, tasks without one last; a due range is its key range.
- `byScopeRank` (scope, prioritySort): by priority, high first, newest first within one priority.
- `byProjectTask` (projectTaskId, KEYS_ONLY): where a project task lives when the caller is not its owner (a
  member). Sparse: only project tasks carry `projectTaskId` (= taskId), so a personal task (ingestion lets clients
  choose ids) can never shadow a project task's id there.
Tags are a set and cannot be a GSI key: each tag of a task is one item of the tag table (hash `tagKey` =
`{scope}#{tag}`, range `createdSort`, holding the task's key): put before the task's write, deleted after it, so a
failure leaves at most an extra item, which readers skip (never a tagged task missing from its tag list).
`createdKey`/`createdSort` are `{createdAt ISO}#{taskId}`, unique and sortable. docs/data-model.md lists every
access pattern and the index that serves it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any, NamedTuple, TypeVar

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
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
# Priority as a sortable digit: a descending Query on `prioritySort` lists high first.
PRIORITY_RANK = {"high": "3", "medium": "2", "low": "1"}
NO_DUE_DATE = "~"  # sorts after every ISO date: tasks without a due date come last in a by-due-date list
LAST_DUE_KEY = "9999-12-31$"  # above every dated `dueSort`, below NO_DUE_DATE

_T = TypeVar("_T")
_R = TypeVar("_R")


def _index(name: str, hash_attr: str, range_attr: str) -> type[GlobalSecondaryIndex[Any]]:
    """A GSI class over the tasks model, all attributes projected (a list page needs no second read)."""
    meta = type("Meta", (), {"index_name": name, "projection": AllProjection()})
    attributes = {
        "Meta": meta,
        "hash_value": UnicodeAttribute(hash_key=True, attr_name=hash_attr),
        "range_value": UnicodeAttribute(range_key=True, attr_name=range_attr),
    }
    return type(f"{name}Index", (GlobalSecondaryIndex,), attributes)


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


class ByProjectTaskIndex(GlobalSecondaryIndex["TaskModel"]):
    class Meta:
        index_name = "byProjectTask"
        projection = KeysOnlyProjection()

    project_task_id = UnicodeAttribute(hash_key=True, attr_name="projectTaskId")


# Index name -> (hash attribute, range attribute) of the filter indexes; the template declares the same.
FILTER_INDEXES: Mapping[str, tuple[str, str]] = {
    "byScope": ("scope", "createdSort"),
    "byScopeStatus": ("scopeStatus", "createdSort"),
    "byScopeAssignee": ("scopeAssignee", "createdSort"),
    "byScopeAssigneeStatus": ("scopeAssigneeStatus", "createdSort"),
    "byScopePriority": ("scopePriority", "createdSort"),
    "byScopeDue": ("scope", "dueSort"),
    "byScopeRank": ("scope", "prioritySort"),
}
_FILTER_INDEX_CLASSES = {name: _index(name, *keys) for name, keys in FILTER_INDEXES.items()}


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
    project_id = UnicodeAttribute(null=True, attr_name="projectId")
    assignee_id = UnicodeAttribute(null=True, attr_name="assigneeId")
    updated_by = UnicodeAttribute(null=True, attr_name="updatedBy")
    # Index keys (`derived_keys`), null when the record puts the item outside that index.
    created_key = UnicodeAttribute(null=True, attr_name="createdKey")
    owner_status = UnicodeAttribute(null=True, attr_name="ownerStatus")
    scope = UnicodeAttribute(null=True)
    created_sort = UnicodeAttribute(null=True, attr_name="createdSort")
    scope_status = UnicodeAttribute(null=True, attr_name="scopeStatus")
    scope_assignee = UnicodeAttribute(null=True, attr_name="scopeAssignee")
    scope_assignee_status = UnicodeAttribute(null=True, attr_name="scopeAssigneeStatus")
    scope_priority = UnicodeAttribute(null=True, attr_name="scopePriority")
    due_sort = UnicodeAttribute(null=True, attr_name="dueSort")
    priority_sort = UnicodeAttribute(null=True, attr_name="prioritySort")
    project_task_id = UnicodeAttribute(null=True, attr_name="projectTaskId")

    by_created = ByCreatedIndex()
    by_status = ByStatusIndex()
    by_project_task = ByProjectTaskIndex()
    by_scope = _FILTER_INDEX_CLASSES["byScope"]()
    by_scope_status = _FILTER_INDEX_CLASSES["byScopeStatus"]()
    by_scope_assignee = _FILTER_INDEX_CLASSES["byScopeAssignee"]()
    by_scope_assignee_status = _FILTER_INDEX_CLASSES["byScopeAssigneeStatus"]()
    by_scope_priority = _FILTER_INDEX_CLASSES["byScopePriority"]()
    by_scope_due = _FILTER_INDEX_CLASSES["byScopeDue"]()
    by_scope_rank = _FILTER_INDEX_CLASSES["byScopeRank"]()


_ATTRIBUTE_BY_NAME: dict[str, Any] = {
    attribute.attr_name: attribute for attribute in TaskModel.get_attributes().values()
}


class TagModel(Model):
    """One tag of one task: the key of `GET /tasks?tag=` (a Query on `tagKey`, newest first).

    `writtenVersion` is the task version whose write put the item: a writer removing the tag deletes the item only
    if no later write put it back.
    """

    Meta = model_meta(tasks_table_settings().task_tags_table)

    tag_key = UnicodeAttribute(hash_key=True, attr_name="tagKey")
    created_sort = UnicodeAttribute(range_key=True, attr_name="createdSort")
    owner_id = UnicodeAttribute(attr_name="ownerId")
    task_id = UnicodeAttribute(attr_name="taskId")
    written_version = NumberAttribute(attr_name="writtenVersion")


class TaskAlreadyExists(Exception):
    pass


class VersionConflict(Exception):
    """The stored version differs from the one the caller read (or the task vanished meanwhile)."""


def owner_status_key(owner_id: str, status: str) -> str:
    return f"{owner_id}#{status}"


def created_key(task: Task) -> str:
    return f"{task.created_at.isoformat()}#{task.task_id}"


def personal_scope(owner_id: str) -> str:
    return f"U#{owner_id}"


def project_scope(project_id: str) -> str:
    return f"P#{project_id}"


def scope_of(task: Task) -> str:
    return project_scope(task.project_id) if task.project_id else personal_scope(task.owner_id)


def tag_key(scope: str, tag: str) -> str:
    return f"{scope}#{tag}"


def derived_keys(task: Task) -> dict[str, str | None]:
    """Every index key of the item, by attribute name; None = the item is not in that index."""
    scope = scope_of(task)
    personal = task.project_id is None
    assigned = task.assignee_id is not None
    created = created_key(task)
    return {
        "createdKey": created if personal else None,
        "ownerStatus": owner_status_key(task.owner_id, task.status) if personal else None,
        "scope": scope,
        "createdSort": created,
        "scopeStatus": f"{scope}#{task.status}",
        "scopeAssignee": f"{scope}#{task.assignee_id}" if assigned else None,
        "scopeAssigneeStatus": f"{scope}#{task.assignee_id}#{task.status}" if assigned else None,
        "scopePriority": f"{scope}#{task.priority}",
        "dueSort": f"{task.due_date or NO_DUE_DATE}#{task.task_id}",
        "prioritySort": f"{PRIORITY_RANK.get(task.priority, '0')}#{created}",
        "projectTaskId": None if personal else task.task_id,
    }


def to_model(task: Task) -> TaskModel:
    keys = derived_keys(task)
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
        project_id=task.project_id,
        assignee_id=task.assignee_id,
        updated_by=task.updated_by,
        created_key=keys["createdKey"],
        owner_status=keys["ownerStatus"],
        scope=keys["scope"],
        created_sort=keys["createdSort"],
        scope_status=keys["scopeStatus"],
        scope_assignee=keys["scopeAssignee"],
        scope_assignee_status=keys["scopeAssigneeStatus"],
        scope_priority=keys["scopePriority"],
        due_sort=keys["dueSort"],
        priority_sort=keys["prioritySort"],
        project_task_id=keys["projectTaskId"],
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
        project_id=model.project_id,
        assignee_id=model.assignee_id,
        updated_by=model.updated_by,
    )


def _tag_items(task: Task) -> list[TagModel]:
    scope, created = scope_of(task), created_key(task)
    return [
        TagModel(
            tag_key(scope, tag), created, owner_id=task.owner_id, task_id=task.task_id, written_version=task.version
        )
        for tag in task.tags
    ]


def _put_tag_items(items: Sequence[TagModel]) -> None:
    """Before the task's own write: a tag item without its task (that write failed) is skipped by readers; a task
    without its tag item would silently be missing from the tag list, so that order never happens."""
    if not items:
        return
    with TagModel.batch_write() as batch:
        for item in items:
            batch.save(item)


def _delete_tag_items(items: Iterable[TagModel], up_to_version: int) -> None:
    """After the task's write: items of tags it no longer has, unless a later write put them back."""
    for item in items:
        try:
            item.delete(condition=TagModel.written_version <= up_to_version)
        except DeleteError as exc:
            if not is_condition_failure(exc):
                raise


def delete_tag_items(task: Task) -> None:
    """The tag items of a task just deleted (best effort: one left behind is skipped by readers)."""
    _delete_tag_items(_tag_items(task), task.version)


def create_task(task: Task) -> None:
    """Its tag items first, then the task; an id already taken is TaskAlreadyExists."""
    _put_tag_items(_tag_items(task))
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


# Project tasks sharing one id: none from POST /tasks (server uuids); only two personal tasks with a client-chosen
# id moved into projects at the same moment could (a move checks first). Looked at: this many, at most.
MAX_PROJECT_TASKS_PER_ID = 5


def find_project_tasks(task_id: str) -> list[Task]:
    """The project tasks with this id (normally one), by `byProjectTask` (KEYS_ONLY, one small Query) and then
    the item itself, strongly consistent. The index may lag a write by a moment; the item never does."""
    found = []
    for key in TaskModel.by_project_task.query(task_id, limit=MAX_PROJECT_TASKS_PER_ID):
        task = get_task(key.owner_id, task_id)
        if task is not None and task.project_id is not None:
            found.append(task)
    return found


class ListQuery(NamedTuple):
    """One list request, already checked by the domain to be one the indexes serve (see `index_for`)."""

    scope: str
    personal_owner: str | None  # the owner, for a personal list (the legacy indexes serve its plain pages)
    status: str | None = None
    assignee_id: str | None = None
    priority: str | None = None
    tag: str | None = None
    due_after: str | None = None
    due_before: str | None = None
    sort: str = "createdAt"


def index_for(query: ListQuery) -> str | None:
    """The index that answers the query with a key condition alone, or None when none does (the domain refuses)."""
    filters = {
        name
        for name, value in (
            ("status", query.status),
            ("assignee", query.assignee_id),
            ("priority", query.priority),
            ("tag", query.tag),
            ("due", query.due_after or query.due_before),
        )
        if value
    }
    if query.sort == "dueDate":
        return "byScopeDue" if filters <= {"due"} else None
    if "due" in filters:
        return None
    if query.sort == "priority":
        return "byScopeRank" if not filters else None
    by_filters = {
        frozenset(): "byCreated" if query.personal_owner else "byScope",
        frozenset({"status"}): "byStatus" if query.personal_owner else "byScopeStatus",
        frozenset({"assignee"}): "byScopeAssignee",
        frozenset({"assignee", "status"}): "byScopeAssigneeStatus",
        frozenset({"priority"}): "byScopePriority",
        frozenset({"tag"}): "tags",
    }
    return by_filters.get(frozenset(filters))


def list_tasks(query: ListQuery, limit: int, start_key: dict[str, Any] | None) -> Page[Task]:
    """One Query on one index, a key condition and no filter: DynamoDB reads exactly the items it returns."""
    index = index_for(query)
    if index is None:
        raise ValueError(f"no index serves {query}")
    if index == "tags":
        return _list_by_tag(query, limit, start_key)
    scope = query.scope
    hash_value: str
    range_condition = None
    forward = False
    if index == "byCreated":
        results = TaskModel.by_created.query(
            str(query.personal_owner), scan_index_forward=False, limit=limit, last_evaluated_key=start_key
        )
        return _page(results)
    if index == "byStatus":
        results = TaskModel.by_status.query(
            owner_status_key(str(query.personal_owner), str(query.status)),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start_key,
        )
        return _page(results)
    gsi = getattr(TaskModel, _ATTRIBUTE_NAME_OF_INDEX[index])
    if index in {"byScope", "byScopeRank"}:
        hash_value = scope
    elif index == "byScopeDue":
        hash_value, forward = scope, True
        low = f"{query.due_after}$" if query.due_after else "0"
        high = query.due_before or (LAST_DUE_KEY if query.due_after else None)
        if high is not None:
            if low > high:  # nothing is due after dueAfter and before an earlier dueBefore (BETWEEN would refuse)
                return Page(items=(), last_evaluated_key=None)
            range_condition = _FILTER_INDEX_CLASSES[index].range_value.between(low, high)  # type: ignore[attr-defined]
    elif index == "byScopeStatus":
        hash_value = f"{scope}#{query.status}"
    elif index == "byScopeAssignee":
        hash_value = f"{scope}#{query.assignee_id}"
    elif index == "byScopeAssigneeStatus":
        hash_value = f"{scope}#{query.assignee_id}#{query.status}"
    else:  # byScopePriority
        hash_value = f"{scope}#{query.priority}"
    results = gsi.query(
        hash_value, range_condition, scan_index_forward=forward, limit=limit, last_evaluated_key=start_key
    )
    return _page(results)


_ATTRIBUTE_NAME_OF_INDEX = {
    "byScope": "by_scope",
    "byScopeStatus": "by_scope_status",
    "byScopeAssignee": "by_scope_assignee",
    "byScopeAssigneeStatus": "by_scope_assignee_status",
    "byScopePriority": "by_scope_priority",
    "byScopeDue": "by_scope_due",
    "byScopeRank": "by_scope_rank",
}


def _page(results: Any) -> Page[Task]:
    items = tuple(to_record(model) for model in results)
    return Page(items=items, last_evaluated_key=results.last_evaluated_key)


def _list_by_tag(query: ListQuery, limit: int, start_key: dict[str, Any] | None) -> Page[Task]:
    """A page of tag items (one Query), then their tasks (one strongly consistent BatchGetItem), in tag order."""
    results = TagModel.query(
        tag_key(query.scope, str(query.tag)), scan_index_forward=False, limit=limit, last_evaluated_key=start_key
    )
    keys = [(item.owner_id, item.task_id) for item in results]
    found = {(model.owner_id, model.task_id): model for model in TaskModel.batch_get(keys, consistent_read=True)}
    # A tag item whose task is gone, or no longer carries the tag in this scope, was left by a failed or raced
    # write (see _put_tag_items): skipped, so the page may be short, never wrong.
    records = (to_record(found[key]) for key in keys if key in found)
    items = tuple(task for task in records if query.tag in task.tags and scope_of(task) == query.scope)
    return Page(items=items, last_evaluated_key=results.last_evaluated_key)


def apply_changes(task: Task, changes: Mapping[str, object], expected_version: int) -> Task:
    """The record as it will be stored after the update (version bumped)."""
    stored = {**changes, "tags": changes["tags"] or frozenset()} if "tags" in changes else changes
    return task._replace(**stored, version=expected_version + 1)  # type: ignore[arg-type]


_FIELD_ATTRIBUTES = {
    "title": "title",
    "description": "description",
    "status": "status",
    "priority": "priority",
    "due_date": "dueDate",
    "remind_at": "remindAt",
    "tags": "tags",
    "updated_at": "updatedAt",
    "project_id": "projectId",
    "assignee_id": "assigneeId",
    "updated_by": "updatedBy",
}


def _update_actions(after: Task, changes: Mapping[str, object]) -> list[Action]:
    """One SET (or REMOVE, for None) per changed field, and every index key the new record derives: a new status,
    assignee, priority, due date or project moves the item between indexes in the same write."""
    actions: list[Action] = []
    for field in changes:
        name = _FIELD_ATTRIBUTES.get(field)
        if name is None:
            raise ValueError(f"not a field a task update can change: {field}")
        value = getattr(after, field)
        attribute = _ATTRIBUTE_BY_NAME[name]
        if field == "tags":
            actions.append(attribute.set(set(value)) if value else attribute.remove())
        elif value is None:
            actions.append(attribute.remove())
        else:
            actions.append(attribute.set(value))
    # Every index key, changed or not: an item written before the filter indexes existed gets them all now.
    for name, value in derived_keys(after).items():
        attribute = _ATTRIBUTE_BY_NAME[name]
        actions.append(attribute.set(value) if value is not None else attribute.remove())
    return actions


def update_task(task: Task, changes: Mapping[str, object], expected_version: int) -> Task:
    """Apply the changes (Task field -> new value) only if nobody else wrote since `expected_version`, bumping the
    version in the same write; returns the task as stored after it (UpdateItem's ALL_NEW, no extra read). A change
    of tags or of project puts the new tag items before the write and deletes the old ones after it."""
    after = apply_changes(task, changes, expected_version)
    model = TaskModel(task.owner_id, task.task_id)
    old_tags = {(item.tag_key, item.created_sort): item for item in _tag_items(task)}
    new_tags = {(item.tag_key, item.created_sort): item for item in _tag_items(after)}
    _put_tag_items([item for key, item in new_tags.items() if key not in old_tags])
    try:
        model.update(
            actions=[*_update_actions(after, changes), TaskModel.version.set(expected_version + 1)],
            condition=TaskModel.task_id.exists() & (TaskModel.version == expected_version),
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            raise VersionConflict(task.task_id) from exc
        raise
    _delete_tag_items([item for key, item in old_tags.items() if key not in new_tags], after.version)
    return to_record(model)


def delete_task(owner_id: str, task_id: str, expected_version: int | None = None) -> bool:
    """Returns False when the task was already gone (a concurrent delete), so callers can answer 404.

    With `expected_version`, only that version is deleted: VersionConflict when another write landed first.
    The caller then removes its tag items (`delete_tag_items`).
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


def stamp_actor(task: Task, actor_id: str) -> Task:
    """Record who is about to delete the task (no version bump: nothing in it changes); VersionConflict when
    another write landed since `task` was read."""
    try:
        TaskModel(task.owner_id, task.task_id).update(
            actions=[TaskModel.updated_by.set(actor_id)],
            condition=TaskModel.task_id.exists() & (TaskModel.version == task.version),
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            raise VersionConflict(task.task_id) from exc
        raise
    return task._replace(updated_by=actor_id)


def assigned_in_project(project_id: str, assignee_id: str, limit: int, start_key: dict[str, Any] | None) -> Page[Task]:
    """The tasks of a project assigned to one user (the `byScopeAssignee` index): what a removal unassigns."""
    return list_tasks(ListQuery(project_scope(project_id), None, assignee_id=assignee_id), limit, start_key)


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
    # pynamodb resends UnprocessedItems with backoff and raises PutError if they persist. Tag items first, as
    # everywhere (_put_tag_items); a retried batch rewrites the same items.
    _put_tag_items([item for task in tasks for item in _tag_items(task)])
    with TaskModel.batch_write() as batch:
        for task in tasks:
            batch.save(to_model(task))


@storage_failures_translated
def put_tasks(tasks: Sequence[Task]) -> None:
    """BatchWriteItem in chunks of 25, several in flight at once; StorageUnavailable if any chunk was not stored.

    A failure may leave other chunks written: the caller retries the whole batch and skips what is stored.
    """
    _in_parallel(_write, _chunks(tasks, BATCH_WRITE_LIMIT))
