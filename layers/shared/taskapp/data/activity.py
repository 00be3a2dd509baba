"""Activity feed entries, written once per task event (notifications have their own module, data.notifications).

Table: hash `ownerId`, range `entryKey` = `{occurredAt ISO}#{eventId}`: the key is derived from the event alone, so
a redelivered event targets the same item and the conditional put turns it into a no-op. Range keys sort by time, so
the newest-first feed is a plain descending query.
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
    task_id = UnicodeAttribute(attr_name="taskId")
    title = UnicodeAttribute()
    occurred_at = UnicodeAttribute(attr_name="occurredAt")
    message = UnicodeAttribute()
    version = NumberAttribute()


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
        version=int(model.version),
    )


def record_once(entry: ActivityEntry) -> bool:
    """Store the entry unless this event was already recorded; False means a duplicate delivery."""
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
    )
    try:
        activity.save(condition=ActivityModel.entry_key.does_not_exist())
    except PutError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def list_activity(owner_id: str, limit: int, start_key: dict[str, Any] | None) -> Page[ActivityEntry]:
    results = ActivityModel.query(owner_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key)
    items = tuple(to_record(model) for model in results)
    return Page(items=items, last_evaluated_key=results.last_evaluated_key)
