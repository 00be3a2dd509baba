"""Comments on tasks: add, list (oldest first), edit (author only, optimistic version), delete (author, or an
admin and up of the task's project).

Every call starts with `task_access.resolve_task` (a missing or foreign task is a 404, a role too low a 403, a write
on an archived project's task a 409), then asks taskapp.domain.policy about the comment itself; nothing here
decides a permission. `@mentions` are parsed from the text (taskapp.domain.mentions, at most
MAX_MENTIONS distinct tokens: 422 past it) and only those naming a member of the task's project (for a personal
task: its owner) are kept, re-parsed on every edit.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from taskapp.cursor import decode_cursor, encode_cursor
from taskapp.data import comments as store
from taskapp.domain import policy
from taskapp.domain.mentions import TooManyMentions, parse_mentions
from taskapp.domain.policy import Action
from taskapp.domain.records.comments import Comment
from taskapp.domain.records.tasks import Task
from taskapp.domain.task_access import TaskAccess, resolve_task
from taskapp.errors import Conflict, Forbidden, NotFound, Unprocessable
from taskapp.schemas.comments import CommentListOut, CommentOut, CreateCommentRequest, UpdateCommentRequest
from taskapp.settings import comment_limit_settings

COMMENT_NOT_FOUND = "Comment not found"
MAX_MENTIONS = 20


def to_view(comment: Comment) -> CommentOut:
    return CommentOut(
        id=comment.comment_id,
        task_id=comment.task_id,
        project_id=comment.project_id,
        author_id=comment.author_id,
        body=comment.body,
        mentions=sorted(comment.mentions),
        created_at=comment.created_at.isoformat(),
        updated_at=comment.updated_at.isoformat(),
        version=comment.version,
    )


def _not_found(comment_id: str) -> NotFound:
    return NotFound(COMMENT_NOT_FOUND, code="COMMENT_NOT_FOUND", details={"id": comment_id})


def _require(task: Task, comment_id: str) -> Comment:
    """The task's comment: an id of another task's comment is a 404, exactly like a missing one."""
    comment = store.get_comment(task.task_id, task.owner_id, comment_id)
    if comment is None:
        raise _not_found(comment_id)
    return comment


def _forbidden(action: Action, access: TaskAccess, message: str) -> Forbidden:
    role = access.role.value if access.role else None
    return Forbidden(message, details={"action": action.value, "role": role})


# --- mentions ---------------------------------------------------------------------------------------------------


def _mentions(body: str, task: Task) -> frozenset[str]:
    """User ids of the body's mentions that are members of the task's project (the owner, for a personal task)."""
    try:
        tokens = parse_mentions(body, MAX_MENTIONS)
    except TooManyMentions as exc:
        raise Unprocessable(
            f"A comment may mention at most {exc.limit} people",
            code="TOO_MANY_MENTIONS",
            details={"limit": exc.limit},
        ) from exc
    candidates = set(tokens.user_ids)
    if tokens.emails:
        from taskapp.data.users import user_ids_by_email  # only comments with email mentions read the users table

        candidates |= set(user_ids_by_email(tokens.emails).values())
    if not candidates:
        return frozenset()
    if task.project_id is None:
        return frozenset(candidates & {task.owner_id})
    from taskapp.data.projects import members_among

    return members_among(task.project_id, candidates)


# --- the routes -------------------------------------------------------------------------------------------------


def add_comment(caller_id: str, task_id: str, request: CreateCommentRequest) -> CommentOut:
    access = resolve_task(caller_id, task_id, Action.COMMENT_CREATE)
    task = access.task
    body = request.body
    limit = comment_limit_settings().comment_limit_per_task
    mentions = _mentions(body, task)
    if store.count_comments(task_id, task.owner_id, limit) >= limit:
        raise Conflict(
            f"This task has reached its limit of {limit} comments",
            code="LIMIT_REACHED",
            details={"limit": limit, "of": "comments"},
        )
    now = datetime.now(UTC)
    comment = Comment(
        comment_id=uuid.uuid4().hex,
        task_id=task_id,
        task_owner_id=task.owner_id,
        project_id=task.project_id,
        author_id=caller_id,
        body=body,
        mentions=mentions,
        created_at=now,
        updated_at=now,
        version=1,
        updated_by=caller_id,
    )
    store.create_comment(comment)
    return to_view(comment)


def list_comments(caller_id: str, task_id: str, limit: int, next_token: str | None) -> CommentListOut:
    task = resolve_task(caller_id, task_id, Action.COMMENT_READ).task
    scope = f"{caller_id}|{task_id}|comments"
    start_key: dict[str, Any] | None = decode_cursor(next_token, scope) if next_token else None
    page = store.list_comments(task_id, task.owner_id, limit, start_key)
    cursor = encode_cursor(page.last_evaluated_key, scope) if page.last_evaluated_key else None
    return CommentListOut(items=[to_view(comment) for comment in page.items], next_token=cursor)


def _version_conflict(current_version: int) -> Conflict:
    return Conflict(
        "Comment was modified meanwhile; reload it and retry",
        code="VERSION_CONFLICT",
        details={"currentVersion": current_version},
    )


def edit_comment(caller_id: str, task_id: str, comment_id: str, request: UpdateCommentRequest) -> CommentOut:
    access = resolve_task(caller_id, task_id, Action.COMMENT_EDIT_OWN)
    comment = _require(access.task, comment_id)
    if not policy.may_edit_comment(is_author=comment.author_id == caller_id):
        raise _forbidden(Action.COMMENT_EDIT_OWN, access, "Only its author can edit a comment")
    if comment.version != request.version:
        raise _version_conflict(comment.version)
    mentions = _mentions(request.body, access.task)
    try:
        updated = store.update_comment(comment, request.body, mentions, caller_id, datetime.now(UTC))
    except store.CommentChanged as exc:
        latest = store.get_comment(task_id, access.task.owner_id, comment_id)
        if latest is None:
            raise _not_found(comment_id) from exc
        raise _version_conflict(latest.version) from exc
    return to_view(updated)


def delete_comment(caller_id: str, task_id: str, comment_id: str) -> None:
    access = resolve_task(caller_id, task_id, Action.COMMENT_DELETE_OWN)
    comment = _require(access.task, comment_id)
    if not policy.may_delete_comment(access.role, is_author=comment.author_id == caller_id):
        raise _forbidden(
            Action.COMMENT_DELETE_ANY, access, "Only its author or a project admin can delete this comment"
        )
    try:
        store.delete_comment(comment, caller_id)
    except store.CommentChanged as exc:
        if store.get_comment(task_id, access.task.owner_id, comment_id) is None:
            raise _not_found(comment_id) from exc
        raise Conflict(
            "The comment changed meanwhile; reload it and retry", code="CONCURRENT_CHANGE", details={"id": comment_id}
        ) from exc
