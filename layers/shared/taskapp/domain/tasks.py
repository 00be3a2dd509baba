"""Task lifecycle for one owner: create, list, read, update with optimistic locking, delete."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pynamodb.expressions.update import Action

from taskapp.cursor import decode_cursor, encode_cursor
from taskapp.data import tasks as store
from taskapp.errors import Conflict, NotFound
from taskapp.schemas.tasks import CreateTaskRequest, TaskListOut, TaskOut, TaskPriority, TaskStatus, UpdateTaskRequest

TASK_NOT_FOUND = "Task not found"


def to_view(task: store.TaskModel) -> TaskOut:
    return TaskOut(
        id=task.task_id,
        title=task.title,
        description=task.description or "",
        status=TaskStatus(task.status),
        priority=TaskPriority(task.priority),
        due_date=task.due_date,
        tags=sorted(task.tags or []),
        created_at=task.created_at.isoformat(),
        updated_at=task.updated_at.isoformat(),
        version=int(task.version),
    )


def new_task_model(
    owner_id: str, request: CreateTaskRequest, task_id: str | None = None, now: datetime | None = None
) -> store.TaskModel:
    created = now or datetime.now(UTC)
    task_id = task_id or str(uuid.uuid4())
    return store.TaskModel(
        owner_id,
        task_id,
        title=request.title,
        description=request.description,
        status=request.status.value,
        priority=request.priority.value,
        due_date=request.due_date,
        tags=set(request.tags) or None,
        created_at=created,
        updated_at=created,
        version=1,
        created_key=f"{created.isoformat()}#{task_id}",
        owner_status=store.owner_status_key(owner_id, request.status.value),
    )


def create_task(owner_id: str, request: CreateTaskRequest) -> TaskOut:
    task = new_task_model(owner_id, request)
    store.create_task(task)
    return to_view(task)


def _require(owner_id: str, task_id: str) -> store.TaskModel:
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
    actions = _update_actions(owner_id, request.changes())
    actions.append(store.TaskModel.updated_at.set(datetime.now(UTC)))
    try:
        store.update_task(task, actions, request.version)
    except store.VersionConflict as exc:
        latest = store.get_task(owner_id, task_id)
        if latest is None:
            raise NotFound(TASK_NOT_FOUND, details={"id": task_id}) from exc
        raise Conflict(
            "Task was modified by someone else; reload it and retry",
            code="VERSION_CONFLICT",
            details={"currentVersion": latest.version},
        ) from exc
    return to_view(task)


def _update_actions(owner_id: str, changes: dict[str, Any]) -> list[Action]:
    model = store.TaskModel
    actions: list[Action] = []
    for field, value in changes.items():
        if field == "status":
            actions += [
                model.status.set(value.value),
                model.owner_status.set(store.owner_status_key(owner_id, value.value)),
            ]
        elif field == "priority":
            actions.append(model.priority.set(value.value))
        elif field == "tags":
            actions.append(model.tags.set(set(value)) if value else model.tags.remove())
        elif field == "due_date":
            actions.append(model.due_date.set(value) if value else model.due_date.remove())
        elif field in {"title", "description"} and value is not None:
            actions.append(getattr(model, field).set(value))
    return actions


def delete_task(owner_id: str, task_id: str) -> None:
    task = _require(owner_id, task_id)
    if not store.delete_task(task):
        raise NotFound(TASK_NOT_FOUND, details={"id": task_id})
