"""Activity feed entries, written once per (event, feed) (notifications have their own module, data.notifications).

Table: hash `ownerId` = the feed (a user id, or `project#{projectId}` for a project's feed: user ids never contain
`#`), range `entryKey` = `{occurredAt ISO}#{eventId}`: the key is derived from the event alone, so a redelivered
event targets the same item in each feed and the conditional put turns it into a no-op. Range keys sort by time, so
a newest-first feed is a plain descending query.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from taskapp.data.base import is_condition_failure, model_meta
from taskapp.domain.records import Page
from taskapp.domain.records.activity import ActivityEntry
from taskapp.settings import activity_table_settings


class ActivityModel(Model):
    Meta = model_meta(activity_table_settings().activity_table)

    owner_id = UnicodeAttribute(hash_key=True, attr_name="ownerId")
    entry_key = UnicodeAttribute(range_key=True, attr_name="entryKey")
    event_id = UnicodeAttribute(attr_name="eventId")
    type = UnicodeAttribute()
    task_id = UnicodeAttribute(null=True, attr_name="taskId")
    title = UnicodeAttribute()
    occurred_at = UnicodeAttribute(attr_name="occurredAt")
    message = UnicodeAttribute()
    version = NumberAttribute(null=True)
    # Collaboration (issue 11); absent on entries written before it.
    actor_id = UnicodeAttribute(null=True, attr_name="actorId")
    project_id = UnicodeAttribute(null=True, attr_name="projectId")
    subject_user_id = UnicodeAttribute(null=True, attr_name="subjectUserId")
    comment_id = UnicodeAttribute(null=True, attr_name="commentId")


def project_feed_id(project_id: str) -> str:
    """The partition of a project's feed."""
    return f"project#{project_id}"


def entry_key(occurred_at: str, event_id: str) -> str:
    return f"{occurred_at}#{event_id}"


def to_record(model: ActivityModel) -> ActivityEntry:
    return ActivityEntry(
        owner_id=model.owner_id,
        event_id=model.event_id,
        type=model.type,
        task_id=model.task_id,
        title=model.title,
        occurred_at=model.occurred_at,
        message=model.message,
        version=int(model.version) if model.version is not None else None,
        actor_id=model.actor_id,
        project_id=model.project_id,
        subject_user_id=model.subject_user_id,
        comment_id=model.comment_id,
    )


def record_once(entry: ActivityEntry) -> bool:
    """Store the entry unless this event was already recorded in its feed; False means a duplicate delivery."""
    key = entry_key(entry.occurred_at, entry.event_id)
    activity = ActivityModel(
        entry.owner_id,
        key,
        event_id=entry.event_id,
        type=entry.type,
        task_id=entry.task_id,
        title=entry.title,
        occurred_at=entry.occurred_at,
        message=entry.message,
        version=entry.version,
        actor_id=entry.actor_id,
        project_id=entry.project_id,
        subject_user_id=entry.subject_user_id,
        comment_id=entry.comment_id,
    )
    try:
        activity.save(condition=ActivityModel.entry_key.does_not_exist())
    except PutError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def list_activity(feed_id: str, limit: int, start_key: dict[str, Any] | None) -> Page[ActivityEntry]:
    """One page of a feed (a user id or `project#{projectId}`), newest first."""
    results = ActivityModel.query(feed_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key)
    items = tuple(to_record(model) for model in results)
    return Page(items=items, last_evaluated_key=results.last_evaluated_key)
