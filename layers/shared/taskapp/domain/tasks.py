"""Task lifecycle for one owner: create, list, read, update with optimistic locking, delete.

Works with `records.Task` only; keys, update expressions and conditions are taskapp.data.tasks' business.

A write names the version it expects either in the body (`version`) or as an entity tag (`If-Match`, a
`conditional.EntityTagCondition`); a stale version is 409 VERSION_CONFLICT, a stale tag 412 PRECONDITION_FAILED.
Single reads go through the Redis task cache when TASK_CACHE_ENABLED is on (taskapp.data.task_cache says why it
never serves an older version than one already sent). A read that cannot reach Redis reads DynamoDB; a write that
cannot raise the cache's version floor first is refused (503 CACHE_UNAVAILABLE, retryable) rather than risk a
reader elsewhere being served the version it replaces. With REVOCATION_FAIL_OPEN off (the default) such a write
was already refused by the token check, so the cache adds no new way to fail.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from taskapp.conditional import EntityTagCondition, entity_tag
from taskapp.cursor import decode_cursor, encode_cursor
from taskapp.data import task_cache
from taskapp.data import tasks as store
from taskapp.domain.records.tasks import Task
from taskapp.errors import (
    Conflict,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ServiceUnavailable,
    ValidationFailed,
)
from taskapp.observability import metrics
from taskapp.schemas.tasks import CreateTaskRequest, TaskListOut, TaskOut, TaskPriority, TaskStatus, UpdateTaskRequest
from taskapp.settings import conditional_request_settings

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
        remind_at=task.remind_at,
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
        remind_at=request.remind_at.isoformat() if request.remind_at else None,
    )


def create_task(owner_id: str, request: CreateTaskRequest) -> TaskOut:
    task = new_task(owner_id, request)
    try:
        store.create_task(task)
    except store.TaskAlreadyExists as exc:
        raise Conflict(
            "A task with this id already exists", code="TASK_ALREADY_EXISTS", details={"id": task.task_id}
        ) from exc
    view = to_view(task)
    _cache_after_write(owner_id, view)
    return view


def _require(owner_id: str, task_id: str) -> Task:
    task = store.get_task(owner_id, task_id)
    if task is None:
        raise NotFound(TASK_NOT_FOUND, details={"id": task_id})
    return task


def get_task(owner_id: str, task_id: str) -> TaskOut:
    """The caller's task; with the cache on, a hit costs one Redis round trip and no DynamoDB read."""
    if not task_cache.enabled():
        return to_view(_require(owner_id, task_id))
    cached = task_cache.read(owner_id, task_id)
    if cached:
        metrics.add_metric(name="TaskCacheHit", unit="Count", value=1)
        return TaskOut.model_validate_json(cached)
    view = to_view(_require(owner_id, task_id))
    task_cache.offer(owner_id, task_id, view.version, _cache_payload(view))
    return view


def list_tasks(owner_id: str, status: TaskStatus | None, limit: int, next_token: str | None) -> TaskListOut:
    scope = f"{owner_id}|{status.value if status else '*'}"
    start_key: dict[str, Any] | None = decode_cursor(next_token, scope) if next_token else None
    page = store.list_tasks(owner_id, status.value if status else None, limit, start_key)
    cursor = encode_cursor(page.last_evaluated_key, scope) if page.last_evaluated_key else None
    return TaskListOut(items=[to_view(task) for task in page.items], next_token=cursor)


def _version_conflict(current_version: int) -> Conflict:
    return Conflict(
        "Task was modified by someone else; reload it and retry",
        code="VERSION_CONFLICT",
        details={"currentVersion": current_version},
    )


def _precondition_failed(task_id: str, current_version: int) -> PreconditionFailed:
    return PreconditionFailed(
        "If-Match does not name the task's current version; reload it and retry",
        details={"currentETag": entity_tag(task_id, current_version), "currentVersion": current_version},
    )


def _stale(task_id: str, current_version: int, if_match: EntityTagCondition | None) -> Conflict | PreconditionFailed:
    """A stale precondition answers in the terms the client used: 412 for If-Match, 409 for the body's version."""
    return _precondition_failed(task_id, current_version) if if_match else _version_conflict(current_version)


def _check_preconditions(task: Task, body_version: int | None, if_match: EntityTagCondition | None) -> None:
    if if_match is not None and not if_match.matches_strongly(entity_tag(task.task_id, task.version)):
        raise _precondition_failed(task.task_id, task.version)
    if body_version is not None and body_version != task.version:
        raise _version_conflict(task.version)


def _require_a_precondition(body_version: int | None, if_match: EntityTagCondition | None) -> None:
    if body_version is not None or if_match is not None:
        return
    if conditional_request_settings().require_if_match:
        raise PreconditionRequired(
            "Send If-Match with the task's ETag (or the version you last read) to update it",
            details={"header": "If-Match"},
        )
    # Without the setting the body's version stays required, as it always was: the same 400 the model gave.
    missing = {"location": "body", "field": "version", "message": "Field required", "type": "missing"}
    raise ValidationFailed("Request is not valid", [missing])


def update_task(
    owner_id: str, task_id: str, request: UpdateTaskRequest, if_match: EntityTagCondition | None = None
) -> TaskOut:
    """Apply a partial update if the client saw the current version (body `version`, `If-Match`, or both)."""
    _require_a_precondition(request.version, if_match)
    task = _require(owner_id, task_id)
    _check_preconditions(task, request.version, if_match)
    changes = {**_stored_changes(request.changes()), "updated_at": datetime.now(UTC)}
    _cache_before_write(owner_id, task_id, task.version + 1)
    try:
        updated = store.update_task(task, changes, task.version)
    except store.VersionConflict as exc:
        latest = store.get_task(owner_id, task_id)
        if latest is None:
            raise NotFound(TASK_NOT_FOUND, details={"id": task_id}) from exc
        raise _stale(task_id, latest.version, if_match) from exc
    view = to_view(updated)
    _cache_after_write(owner_id, view)
    return view


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
        elif field == "remind_at":
            stored[field] = value.isoformat() if value else None
        elif field in {"title", "description"} and value is not None:
            stored[field] = value
    return stored


def delete_task(owner_id: str, task_id: str, if_match: EntityTagCondition | None = None) -> None:
    """Delete the task; with If-Match, only the version it names (a concurrent write in between is 412)."""
    task = _require(owner_id, task_id)
    _check_preconditions(task, None, if_match)
    expected_version = task.version if if_match is not None and not if_match.any else None
    if task_cache.enabled():
        _or_refuse_the_write(lambda: task_cache.before_delete(owner_id, task_id))
    try:
        deleted = store.delete_task(owner_id, task_id, expected_version)
    except store.VersionConflict as exc:
        latest = store.get_task(owner_id, task_id)
        if latest is None:
            raise NotFound(TASK_NOT_FOUND, details={"id": task_id}) from exc
        raise _precondition_failed(task_id, latest.version) from exc
    if not deleted:
        raise NotFound(TASK_NOT_FOUND, details={"id": task_id})


# --- the task cache: a failed read or write-through is a miss (data.task_cache logs it); a failed floor refuses ----


def _cache_payload(view: TaskOut) -> str:
    return view.model_dump_json(by_alias=True)


def _or_refuse_the_write(raise_floor: Callable[[], None]) -> None:
    try:
        raise_floor()
    except task_cache.CacheUnavailable as exc:
        raise ServiceUnavailable(
            "The task cache cannot be told about this write; try again", code="CACHE_UNAVAILABLE"
        ) from exc


def _cache_before_write(owner_id: str, task_id: str, next_version: int) -> None:
    if task_cache.enabled():
        _or_refuse_the_write(lambda: task_cache.before_write(owner_id, task_id, next_version))


def _cache_after_write(owner_id: str, view: TaskOut) -> None:
    if task_cache.enabled():
        task_cache.after_write(owner_id, view.id, view.version, _cache_payload(view))
