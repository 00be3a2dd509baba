"""Comments on tasks: one partition per task, oldest first.

Table `CommentsTable` (hash `taskId`, range `commentKey` = `{createdAt ISO, microseconds}#{commentId}`, unique and
sortable, so a Query on the task's partition lists its comments in the order they were written). Attributes:
commentId, taskId, taskOwnerId, projectId (absent for a personal task), authorId, body, mentions (a string set of
user ids, absent when there are none), createdAt, updatedAt, version, updatedBy (who made the last write; the
stream's images carry it as the actor of comment events).
GSI `byCommentId` (commentId, KEYS_ONLY): from an id to the comment's key, then one strongly consistent GetItem.
The table's stream (NEW_AND_OLD_IMAGES) is the outbox of comment events: nothing else is written to it.

A task id is unique per owner only (ingestion accepts client-chosen ids), so two owners' tasks may share one: every
read here is also scoped to the task's owner (`taskOwnerId`, fixed for a task's life), and a comment of a same-id
task of someone else is never returned, counted or changed. Without such a collision the owner filter drops
nothing and a Query reads exactly what it returns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from taskapp.data.base import is_condition_failure, model_meta
from taskapp.domain.records import Page
from taskapp.domain.records.comments import Comment
from taskapp.settings import comments_table_settings

# Every commentKey starts with a year: a range condition on it reads comments and nothing else.
FIRST_KEY = "0"


class ByCommentIdIndex(GlobalSecondaryIndex["CommentModel"]):
    class Meta:
        index_name = "byCommentId"
        projection = KeysOnlyProjection()

    comment_id = UnicodeAttribute(hash_key=True, attr_name="commentId")


class CommentModel(Model):
    Meta = model_meta(comments_table_settings().comments_table)

    task_id = UnicodeAttribute(hash_key=True, attr_name="taskId")
    comment_key = UnicodeAttribute(range_key=True, attr_name="commentKey")
    comment_id = UnicodeAttribute(attr_name="commentId")
    task_owner_id = UnicodeAttribute(attr_name="taskOwnerId")
    project_id = UnicodeAttribute(null=True, attr_name="projectId")
    author_id = UnicodeAttribute(attr_name="authorId")
    body = UnicodeAttribute()
    mentions = UnicodeSetAttribute(null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    version = NumberAttribute(default=1)
    updated_by = UnicodeAttribute(attr_name="updatedBy")

    by_comment_id = ByCommentIdIndex()


class CommentAlreadyExists(Exception):
    pass


class CommentChanged(Exception):
    """A write's condition failed: the comment is gone or not at the version the caller read."""


def comment_key(created_at: datetime, comment_id: str) -> str:
    return f"{created_at.isoformat(timespec='microseconds')}#{comment_id}"


def to_model(comment: Comment) -> CommentModel:
    return CommentModel(
        comment.task_id,
        comment_key(comment.created_at, comment.comment_id),
        comment_id=comment.comment_id,
        task_owner_id=comment.task_owner_id,
        project_id=comment.project_id,
        author_id=comment.author_id,
        body=comment.body,
        mentions=set(comment.mentions) or None,
        created_at=comment.created_at,
        updated_at=comment.updated_at,
        version=comment.version,
        updated_by=comment.updated_by,
    )


def to_record(model: CommentModel) -> Comment:
    return Comment(
        comment_id=model.comment_id,
        task_id=model.task_id,
        task_owner_id=model.task_owner_id,
        project_id=model.project_id,
        author_id=model.author_id,
        body=model.body,
        mentions=frozenset(model.mentions or ()),
        created_at=model.created_at,
        updated_at=model.updated_at,
        version=int(model.version),
        updated_by=model.updated_by,
    )


def _key_of(comment: Comment) -> CommentModel:
    return CommentModel(comment.task_id, comment_key(comment.created_at, comment.comment_id))


def count_comments(task_id: str, task_owner_id: str, up_to: int) -> int:
    """How many comments the task has, counting no further than `up_to`, so a limit check reads at most `up_to`
    of the task's comments whatever it holds (one page when the partition is the task's alone).

    A Query for the keys rather than pynamodb's `count()`: with `Select=COUNT` it pages through the whole
    partition, `limit` only sizing each page."""
    results = CommentModel.query(
        task_id,
        CommentModel.comment_key >= FIRST_KEY,
        filter_condition=CommentModel.task_owner_id == task_owner_id,
        consistent_read=True,
        limit=up_to,
        page_size=up_to,
        attributes_to_get=["taskId", "commentKey", "taskOwnerId"],
    )
    return sum(1 for _ in results)


def comment_authors(
    task_id: str, task_owner_id: str, up_to: int, before: tuple[datetime, str] | None = None
) -> tuple[str, ...]:
    """The distinct authors of the task's comments, oldest comment first, stopping at `up_to` authors: a
    notification's watchers. `before` (a comment's created_at and id) keeps only the comments written before that
    one: someone who commented later is not a watcher of an earlier comment, however late its notification is
    worked out. Reads only the keys and `authorId`, and at most the task's comment limit of items (the comments
    domain refuses more), so the lookup is bounded whatever the task holds."""
    range_condition = CommentModel.comment_key >= FIRST_KEY
    if before is not None:
        range_condition = CommentModel.comment_key < comment_key(*before)
    results = CommentModel.query(
        task_id,
        range_condition,
        filter_condition=CommentModel.task_owner_id == task_owner_id,
        scan_index_forward=True,
        attributes_to_get=["taskId", "commentKey", "taskOwnerId", "authorId"],
    )
    authors: dict[str, None] = {}
    for model in results:
        authors.setdefault(model.author_id)
        if len(authors) >= up_to:
            break
    return tuple(authors)


def create_comment(comment: Comment) -> None:
    try:
        to_model(comment).save(condition=CommentModel.comment_key.does_not_exist())
    except PutError as exc:
        if is_condition_failure(exc):
            raise CommentAlreadyExists(comment.comment_id) from exc
        raise


def get_comment(task_id: str, task_owner_id: str, comment_id: str) -> Comment | None:
    """The task's comment with this id, or None (missing, or a comment of another task: the id alone finds it,
    the task and its owner must match). The index may lag a just-written comment by a moment; the item read is
    strongly consistent."""
    for keys in CommentModel.by_comment_id.query(comment_id, limit=1):
        if keys.task_id != task_id:
            return None
        try:
            model = CommentModel.get(keys.task_id, keys.comment_key, consistent_read=True)
        except DoesNotExist:
            return None
        return to_record(model) if model.task_owner_id == task_owner_id else None
    return None


def list_comments(task_id: str, task_owner_id: str, limit: int, start_key: dict[str, Any] | None) -> Page[Comment]:
    """Oldest first, strongly consistent: a comment just posted is on the next listing."""
    results = CommentModel.query(
        task_id,
        CommentModel.comment_key >= FIRST_KEY,
        filter_condition=CommentModel.task_owner_id == task_owner_id,
        scan_index_forward=True,
        consistent_read=True,
        limit=limit,
        last_evaluated_key=start_key,
    )
    items = tuple(to_record(model) for model in results)
    return Page(items=items, last_evaluated_key=results.last_evaluated_key)


def update_comment(
    comment: Comment, body: str, mentions: frozenset[str], updated_by: str, updated_at: datetime
) -> Comment:
    """New body and mentions, only at the version the caller read; the version goes up in the same write."""
    model = _key_of(comment)
    actions: list[Action] = [
        CommentModel.body.set(body),
        CommentModel.mentions.set(set(mentions)) if mentions else CommentModel.mentions.remove(),
        CommentModel.updated_at.set(updated_at),
        CommentModel.updated_by.set(updated_by),
        CommentModel.version.set(comment.version + 1),
    ]
    try:
        model.update(
            actions=actions,
            condition=CommentModel.comment_key.exists() & (CommentModel.version == comment.version),
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            raise CommentChanged(comment.comment_id) from exc
        raise
    return to_record(model)


def delete_comment(comment: Comment, deleted_by: str) -> None:
    """Delete the version the caller read. When someone other than the last writer deletes it, `updatedBy` is set
    to them first, version unchanged (the outbox skips a same-version rewrite), so the stream's REMOVE image names
    who deleted it."""
    if comment.updated_by != deleted_by:
        try:
            _key_of(comment).update(
                actions=[CommentModel.updated_by.set(deleted_by)],
                condition=CommentModel.comment_key.exists() & (CommentModel.version == comment.version),
            )
        except UpdateError as exc:
            if is_condition_failure(exc):
                raise CommentChanged(comment.comment_id) from exc
            raise
    try:
        _key_of(comment).delete(condition=CommentModel.comment_key.exists() & (CommentModel.version == comment.version))
    except DeleteError as exc:
        if is_condition_failure(exc):
            raise CommentChanged(comment.comment_id) from exc
        raise
