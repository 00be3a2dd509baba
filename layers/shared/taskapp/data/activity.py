"""Activity feed entries and owner notifications, written together once per task event.

Tables (both hash `ownerId`, range `entryKey` = `{occurredAt ISO}#{eventId}`): the key is derived from the event
alone, so a redelivered event targets the same items and the conditional put turns it into a no-op. Range keys
sort by time, so the newest-first feed is a plain descending query.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from taskapp.data.base import model_meta
from taskapp.settings import get_settings


class ActivityModel(Model):
    Meta = model_meta(get_settings().activity_table)

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
    Meta = model_meta(get_settings().notifications_table)

    owner_id = UnicodeAttribute(hash_key=True, attr_name="ownerId")
    entry_key = UnicodeAttribute(range_key=True, attr_name="entryKey")
    event_id = UnicodeAttribute(attr_name="eventId")
    task_id = UnicodeAttribute(attr_name="taskId")
    message = UnicodeAttribute()
    read = BooleanAttribute(default=False)


@dataclass(frozen=True)
class ActivityPage:
    items: list[ActivityModel]
    last_evaluated_key: dict[str, Any] | None


def entry_key(occurred_at: str, event_id: str) -> str:
    return f"{occurred_at}#{event_id}"


@lru_cache(maxsize=1)
def _connection() -> Connection:
    """One connection per execution environment: building a botocore client costs far more than a write."""
    meta = ActivityModel.Meta
    return Connection(region=meta.region, host=getattr(meta, "host", None))


def record_once(entry: ActivityModel, notification: NotificationModel) -> bool:
    """Store both items atomically unless this event was already recorded; False means a duplicate delivery."""
    try:
        with TransactWrite(connection=_connection()) as tx:
            tx.save(entry, condition=ActivityModel.entry_key.does_not_exist())
            tx.save(notification, condition=NotificationModel.entry_key.does_not_exist())
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        if any(reason is not None and reason.code == "ConditionalCheckFailed" for reason in reasons):
            return False
        raise
    return True


def list_activity(owner_id: str, limit: int, start_key: dict[str, Any] | None) -> ActivityPage:
    results = ActivityModel.query(owner_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key)
    items = list(results)
    return ActivityPage(items=items, last_evaluated_key=results.last_evaluated_key)
