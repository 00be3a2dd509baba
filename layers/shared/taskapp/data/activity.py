"""Activity feed entries and owner notifications, written together once per task event.

Tables (both hash `ownerId`, range `entryKey` = `{occurredAt ISO}#{eventId}`): the key is derived from the event
alone, so a redelivered event targets the same items and the conditional put turns it into a no-op. Range keys
sort by time, so the newest-first feed is a plain descending query.
"""

from __future__ import annotations

from typing import Any

# Every write of this module is a transaction: load pynamodb's with the module, where the import budget counts it,
# not inside the first request (taskapp.data.base.transaction imports it lazily for modules that rarely need it).
import pynamodb.transactions  # noqa: F401
from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model

from taskapp.data.base import is_condition_failure, model_meta, transaction
from taskapp.domain.records import Page
from taskapp.domain.records.activity import ActivityEntry
from taskapp.settings import activity_tables_settings


class ActivityModel(Model):
    Meta = model_meta(activity_tables_settings().activity_table)

    owner_id = UnicodeAttribute(hash_key=True, attr_name="ownerId")
    entry_key = UnicodeAttribute(range_key=True, attr_name="entryKey")
    event_id = UnicodeAttribute(attr_name="eventId")
    type = UnicodeAttribute()
    task_id = UnicodeAttribute(attr_name="taskId")
    title = UnicodeAttribute()
    occurred_at = UnicodeAttribute(attr_name="occurredAt")
    message = UnicodeAttribute()
    version = NumberAttribute()


class NotificationModel(Model):
    Meta = model_meta(activity_tables_settings().notifications_table)

    owner_id = UnicodeAttribute(hash_key=True, attr_name="ownerId")
    entry_key = UnicodeAttribute(range_key=True, attr_name="entryKey")
    event_id = UnicodeAttribute(attr_name="eventId")
    task_id = UnicodeAttribute(attr_name="taskId")
    message = UnicodeAttribute()
    read = BooleanAttribute(default=False)


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
    """Store the entry and its unread notification atomically unless this event was already recorded; False means
    a duplicate delivery."""
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
    notification = NotificationModel(
        entry.owner_id, key, event_id=entry.event_id, task_id=entry.task_id, message=entry.message, read=False
    )
    try:
        with transaction() as tx:
            tx.save(activity, condition=ActivityModel.entry_key.does_not_exist())
            tx.save(notification, condition=NotificationModel.entry_key.does_not_exist())
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def list_activity(owner_id: str, limit: int, start_key: dict[str, Any] | None) -> Page[ActivityEntry]:
    results = ActivityModel.query(owner_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key)
    items = tuple(to_record(model) for model in results)
    return Page(items=items, last_evaluated_key=results.last_evaluated_key)
