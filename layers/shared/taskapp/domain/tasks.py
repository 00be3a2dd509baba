"""Task lifecycle: create, list, read, update with optimistic locking, delete; personal or in a shared project.

Who may touch a task is `taskapp.domain.access.resolve_task` (imported where used, so the functions that only
build tasks, ingestion's, load no project storage). A personal task behaves exactly as before projects. A project
task is read by any member (viewer and up) and written by members and up, per `taskapp.domain.policy`; its
`assigneeId` must be an active member of its project, a personal task's its owner. Every write records its actor
in `updatedBy`, so events know who did it.

Works with `records.Task` only; keys, update expressions and conditions are taskapp.data.tasks' business.

A write names the version it expects either in the body (`version`) or as an entity tag (`If-Match`, a
`conditional.EntityTagCondition`); a stale version is 409 VERSION_CONFLICT, a stale tag 412 PRECONDITION_FAILED.
Single reads go through the Redis task cache when TASK_CACHE_ENABLED is on (taskapp.data.task_cache says why it
never serves an older version than one already sent). A read that cannot reach Redis reads DynamoDB; a write that
cannot raise the cache's version floor first is refused (503 CACHE_UNAVAILABLE, retryable) rather than risk a
reader elsewhere being served the version it replaces. With REVOCATION_FAIL_OPEN off (the default) such a write
was already refused by the token check, so the cache adds no new way to fail.

Project tasks are never cached: their read needs the membership GetItem anyway (a cached copy must never reach a
member removed a moment ago), so a cache hit would save one GetItem out of two and add a second source of truth
shared by many readers. A personal task moving into a project raises its floor (so its personal copy is never
served again) and writes nothing through; a cached payload that names a project is treated as a miss.
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
from taskapp.domain.policy import Action
from taskapp.domain.records.tasks import Task
from taskapp.errors import (
    AppError,
    Conflict,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ServiceUnavailable,
    Unprocessable,
    ValidationFailed,
)
from taskapp.observability import metrics
from taskapp.schemas.queries import ListTasksQuery, TaskSort
from taskapp.schemas.tasks import (
    CreateTaskRequest,
    PersonalTaskRequest,
    TaskListOut,
    TaskOut,
    TaskPriority,
    TaskStatus,
    UpdateTaskRequest,
)
from taskapp.settings import conditional_request_settings

# The list filters one index Query serves, besides the scope (your personal tasks, or `projectId`'s).
SUPPORTED_FILTERS = (
    "no filter, sort=createdAt|dueDate|priority",
    "status",
    "assignee",
    "assignee+status",
    "priority",
    "tag",
    "dueBefore and/or dueAfter with sort=dueDate (or no sort)",
)

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
        project_id=task.project_id,
        assignee_id=task.assignee_id,
        updated_by=task.updated_by or task.owner_id,
    )


def new_task_id() -> str:
    return str(uuid.uuid4())


def new_task(
    owner_id: str, request: PersonalTaskRequest, task_id: str | None = None, now: datetime | None = None
) -> Task:
    """The record of a new task; only a CreateTaskRequest (POST /tasks) can name a project or an assignee."""
    created = now or datetime.now(UTC)
    placed = request if isinstance(request, CreateTaskRequest) else None
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
        project_id=placed.project_id if placed else None,
        assignee_id=placed.assignee_id if placed else None,
        updated_by=owner_id,
    )


def _assignee_refused(message: str, assignee_id: str, code: str) -> Unprocessable:
    return Unprocessable(message, code=code, details={"assigneeId": assignee_id})


def _check_assignee(task: Task) -> None:
    """A project task's assignee is an active member of its project (one GetItem); a personal task's, its owner."""
    import taskapp.domain.task_access as access

    if task.assignee_id is None:
        return
    if task.project_id is None:
        if task.assignee_id != task.owner_id:
            raise _assignee_refused(
                "A personal task can only be assigned to its owner", task.assignee_id, "ASSIGNEE_NOT_ALLOWED"
            )
        return
    if not access.is_member(task.project_id, task.assignee_id):
        raise _assignee_refused(
            "The assignee must be a member of the task's project", task.assignee_id, "ASSIGNEE_NOT_MEMBER"
        )


def create_task(owner_id: str, request: CreateTaskRequest) -> TaskOut:
    """A personal task as always; with `projectId`, the caller needs TASK_CREATE there (non-member: 404)."""
    task = new_task(owner_id, request)
    if task.project_id is not None:
        import taskapp.domain.task_access as access

        project_id = task.project_id
        role = access.project_role(
            project_id, owner_id, Action.TASK_CREATE, lambda: access.project_not_found(project_id)
        )
        if task.assignee_id is not None:
            access.require(role, Action.TASK_ASSIGN)
    _check_assignee(task)
    try:
        store.create_task(task)
    except store.TaskAlreadyExists as exc:
        raise Conflict(
            "A task with this id already exists", code="TASK_ALREADY_EXISTS", details={"id": task.task_id}
        ) from exc
    view = to_view(task)
    if task.project_id is None:
        _cache_after_write(owner_id, view)
    return view


def _resolve(caller_id: str, task_id: str, action: Action) -> Task:
    # Imported here, so that ingestion (which only builds tasks) loads no project storage; by module path, which
    # tests/support/settings_reach follows (a package's attribute it cannot resolve).
    import taskapp.domain.task_access as access

    return access.resolve_task(caller_id, task_id, action).task


def get_task(caller_id: str, task_id: str) -> TaskOut:
    """The caller's task or a task of a project they are a member of; with the cache on, a personal task's hit
    costs one Redis round trip and no DynamoDB read (project tasks are never cached: module docstring)."""
    if not task_cache.enabled():
        return to_view(_resolve(caller_id, task_id, Action.TASK_READ))
    cached = task_cache.read(caller_id, task_id)
    if cached:
        view = TaskOut.model_validate_json(cached)
        if view.project_id is None:
            metrics.add_metric(name="TaskCacheHit", unit="Count", value=1)
            return view
    task = _resolve(caller_id, task_id, Action.TASK_READ)
    view = to_view(task)
    if task.project_id is None:
        task_cache.offer(caller_id, task_id, view.version, _cache_payload(view))
    return view


def _list_query(caller_id: str, query: ListTasksQuery) -> store.ListQuery:
    assignee = caller_id if query.assignee == "me" else query.assignee
    sort = query.sort or (TaskSort.DUE_DATE if query.due_before or query.due_after else TaskSort.CREATED_AT)
    scope = store.project_scope(query.project_id) if query.project_id else store.personal_scope(caller_id)
    wanted = store.ListQuery(
        scope=scope,
        personal_owner=None if query.project_id else caller_id,
        status=query.status.value if query.status else None,
        assignee_id=assignee,
        priority=query.priority.value if query.priority else None,
        tag=query.tag,
        due_after=query.due_after,
        due_before=query.due_before,
        sort=sort.value,
    )
    if store.index_for(wanted) is None:
        # A bad request (400) like any other: no index serves it with a key condition alone.
        raise AppError(
            "This combination of filters is not supported; one of: " + "; ".join(SUPPORTED_FILTERS),
            details={"supported": list(SUPPORTED_FILTERS)},
            code="UNSUPPORTED_FILTER",
        )
    return wanted


def list_tasks(
    caller_id: str, query: ListTasksQuery | TaskStatus | None, limit: int = 20, next_token: str | None = None
) -> TaskListOut:
    """`GET /tasks` with its whole query; or, as it was called before the filters, the caller's personal tasks in
    one status (or all), newest first, with `limit` and `next_token`."""
    if not isinstance(query, ListTasksQuery):
        wire: dict[str, object] = {"status": query, "limit": limit, "nextToken": next_token}
        query = ListTasksQuery.model_validate(wire)
    return find_tasks(caller_id, query)


def find_tasks(caller_id: str, query: ListTasksQuery) -> TaskListOut:
    """The caller's personal tasks, or with `projectId` that project's (members only: 404 otherwise, like a missing
    project); one index Query per page, no filter expression. An archived project's tasks are listed only with
    `archived=true`."""
    wanted = _list_query(caller_id, query)
    if query.project_id is not None:
        import taskapp.domain.task_access as access

        project_id = query.project_id
        access.project_role(project_id, caller_id, Action.TASK_READ, lambda: access.project_not_found(project_id))
        if not query.archived and access.is_archived(project_id):
            return TaskListOut(items=[], next_token=None)
    cursor_scope = "|".join([caller_id, *(str(value) for value in wanted)])
    if wanted == store.ListQuery(store.personal_scope(caller_id), caller_id, status=wanted.status):
        cursor_scope = f"{caller_id}|{wanted.status or '*'}"  # the personal list's cursors, as before the filters
    start_key: dict[str, Any] | None = decode_cursor(query.next_token, cursor_scope) if query.next_token else None
    page = store.list_tasks(wanted, query.limit, start_key)
    cursor = encode_cursor(page.last_evaluated_key, cursor_scope) if page.last_evaluated_key else None
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


def _check_move(caller_id: str, task: Task, target_project_id: str) -> None:
    """Moving a task into (another) project needs member rights there too: TASK_UPDATE, or TASK_CREATE for a
    personal task becoming a project task. A project the caller is not a member of is 404, like a missing one."""
    import taskapp.domain.task_access as access

    action = Action.TASK_UPDATE if task.project_id else Action.TASK_CREATE
    access.project_role(target_project_id, caller_id, action, lambda: access.project_not_found(target_project_id))
    if task.project_id is None and store.find_project_tasks(task.task_id):
        # A personal task's id may have been chosen by its client (ingestion): it joins a project only if no project
        # task has it already, so no member lookup by id can be confused between the two.
        raise Conflict(
            "A project task already has this id; create the task in the project instead",
            code="TASK_ID_TAKEN",
            details={"id": task.task_id},
        )


def update_task(
    caller_id: str, task_id: str, request: UpdateTaskRequest, if_match: EntityTagCondition | None = None
) -> TaskOut:
    """Apply a partial update if the client saw the current version (body `version`, `If-Match`, or both)."""
    import taskapp.domain.task_access as access

    _require_a_precondition(request.version, if_match)
    resolved = access.resolve_task(caller_id, task_id, Action.TASK_UPDATE)
    task = resolved.task
    _check_preconditions(task, request.version, if_match)
    changes = {**_stored_changes(request.changes()), "updated_at": datetime.now(UTC), "updated_by": caller_id}
    if "assignee_id" in changes:
        access.require(resolved.role, Action.TASK_ASSIGN)
    if changes.get("project_id") == task.project_id:
        changes.pop("project_id", None)
    if "project_id" in changes:
        _check_move(caller_id, task, str(changes["project_id"]))
    if "project_id" in changes or "assignee_id" in changes:
        _check_assignee(task._replace(**changes))  # type: ignore[arg-type]
    was_personal = task.project_id is None
    if was_personal:
        _cache_before_write(task.owner_id, task_id, task.version + 1)
    try:
        updated = store.update_task(task, changes, task.version)
    except store.VersionConflict as exc:
        latest = store.get_task(task.owner_id, task_id)
        if latest is None:
            raise NotFound(TASK_NOT_FOUND, details={"id": task_id}) from exc
        raise _stale(task_id, latest.version, if_match) from exc
    view = to_view(updated)
    if was_personal and updated.project_id is None:
        _cache_after_write(task.owner_id, view)
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
        elif field == "assignee_id":
            stored[field] = value or None
        elif field in {"title", "description", "project_id"} and value is not None:
            stored[field] = value
    return stored


def delete_task(caller_id: str, task_id: str, if_match: EntityTagCondition | None = None, *, retries: int = 1) -> None:
    """Delete the task; with If-Match, only the version it names (a concurrent write in between is 412). Without
    it, a write landing between the actor's stamp and our read is read again (`retries` times)."""
    task = _resolve(caller_id, task_id, Action.TASK_DELETE)
    _check_preconditions(task, None, if_match)
    expected_version = task.version if if_match is not None and not if_match.any else None
    if task.project_id is None and task_cache.enabled():
        _or_refuse_the_write(lambda: task_cache.before_delete(task.owner_id, task_id))
    try:
        if (task.updated_by or task.owner_id) != caller_id:
            task = _stamp_actor(task, caller_id)
        deleted = store.delete_task(task.owner_id, task_id, expected_version)
    except store.VersionConflict as exc:
        latest = store.get_task(task.owner_id, task_id)
        if latest is None:
            raise NotFound(TASK_NOT_FOUND, details={"id": task_id}) from exc
        if if_match is None and retries > 0:
            delete_task(caller_id, task_id, if_match, retries=retries - 1)
            return
        raise _precondition_failed(task_id, latest.version) from exc
    if not deleted:
        raise NotFound(TASK_NOT_FOUND, details={"id": task_id})
    store.delete_tag_items(task)


def _stamp_actor(task: Task, actor_id: str) -> Task:
    """A delete by someone other than the last writer first records them in `updatedBy` (same version: no new
    content), so the stream's old image of the removal names its actor."""
    return store.stamp_actor(task, actor_id)


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
