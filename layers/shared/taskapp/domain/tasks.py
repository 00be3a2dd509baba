"""Task lifecycle for one owner: create, list, read, update with optimistic locking, delete.

Works with `records.Task` only; keys, update expressions and conditions are taskapp.data.tasks' business.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from taskapp.cursor import decode_cursor, encode_cursor
from taskapp.data import tasks as store
from taskapp.domain.records.tasks import Task
from taskapp.errors import Conflict, NotFound
from taskapp.schemas.tasks import CreateTaskRequest, TaskListOut, TaskOut, TaskPriority, TaskStatus, UpdateTaskRequest

TASK_NOT_FOUND = "Task not found"


def to_view(task: Task) -> TaskOut:
    return TaskOut(
        id=task.task_id,
        title=task.title,
        description=task.description,
        status=TaskStatus(task.status),
        priority=TaskPriority(task.priority),
        due_date=task.due_date,
        tags=sorted(task.tags),
        created_at=task.created_at.isoformat(),
        updated_at=task.updated_at.isoformat(),
        version=task.version,
    )


def new_task_id() -> str:
    return str(uuid.uuid4())


def new_task(
    owner_id: str, request: CreateTaskRequest, task_id: str | None = None, now: datetime | None = None
) -> Task:
    created = now or datetime.now(UTC)
    return Task(
        owner_id=owner_id,
        task_id=task_id or new_task_id(),
        title=request.title,
        description=request.description,
        status=request.status.value,
        priority=request.priority.value,
        due_date=request.due_date,
        tags=frozenset(request.tags),
        created_at=created,
        updated_at=created,
        version=1,
    )


def create_task(owner_id: str, request: CreateTaskRequest) -> TaskOut:
    task = new_task(owner_id, request)
    try:
        store.create_task(task)
    except store.TaskAlreadyExists as exc:
        raise Conflict(
            "A task with this id already exists", code="TASK_ALREADY_EXISTS", details={"id": task.task_id}
        ) from exc
    return to_view(task)


def _require(owner_id: str, task_id: str) -> Task:
    task = store.get_task(owner_id, task_id)
    if task is None:
        raise NotFound(TASK_NOT_FOUND, details={"id": task_id})
    return task


def get_task(owner_id: str, task_id: str) -> TaskOut:
    return to_view(_require(owner_id, task_id))


def list_tasks(owner_id: str, status: TaskStatus | None, limit: int, next_token: str | None) -> TaskListOut:
    scope = f"{owner_id}|{status.value if status else '*'}"
    start_key: dict[str, Any] | None = decode_cursor(next_token, scope) if next_token else None
    page = store.list_tasks(owner_id, status.value if status else None, limit, start_key)
    cursor = encode_cursor(page.last_evaluated_key, scope) if page.last_evaluated_key else None
    return TaskListOut(items=[to_view(task) for task in page.items], next_token=cursor)


def update_task(owner_id: str, task_id: str, request: UpdateTaskRequest) -> TaskOut:
    task = _require(owner_id, task_id)
    if task.version != request.version:
        raise Conflict(
            "Task was modified by someone else; reload it and retry",
            code="VERSION_CONFLICT",
            details={"currentVersion": task.version},
        )
    changes = {**_stored_changes(request.changes()), "updated_at": datetime.now(UTC)}
    try:
        updated = store.update_task(task, changes, request.version)
    except store.VersionConflict as exc:
        latest = store.get_task(owner_id, task_id)
        if latest is None:
            raise NotFound(TASK_NOT_FOUND, details={"id": task_id}) from exc
        raise Conflict(
            "Task was modified by someone else; reload it and retry",
            code="VERSION_CONFLICT",
            details={"currentVersion": latest.version},
        ) from exc
    return to_view(updated)


def _stored_changes(changes: dict[str, Any]) -> dict[str, object]:
    """The request's changes as Task field values: enums by value, tags as a set; an empty due date or tag list
    clears the field (None), a title or description sent as null leaves it unchanged."""
    stored: dict[str, object] = {}
    for field, value in changes.items():
        if field in {"status", "priority"}:
            stored[field] = value.value
        elif field == "tags":
            stored[field] = frozenset(value) if value else None
        elif field == "due_date":
            stored[field] = value or None
        elif field in {"title", "description"} and value is not None:
            stored[field] = value
    return stored


def delete_task(owner_id: str, task_id: str) -> None:
    _require(owner_id, task_id)
    if not store.delete_task(owner_id, task_id):
        raise NotFound(TASK_NOT_FOUND, details={"id": task_id})
