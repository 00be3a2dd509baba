"""The activity feed: one entry (and one owner notification) per task event, read newest first."""

from __future__ import annotations

from typing import Any

from taskapp.cursor import decode_cursor, encode_cursor
from taskapp.data import activity as store
from taskapp.domain.records.activity import ActivityEntry
from taskapp.schemas.events import ActivityEntryOut, ActivityPageOut, TaskEvent, TaskEventType

_MESSAGES = {
    TaskEventType.CREATED: 'Task "{title}" was created',
    TaskEventType.UPDATED: 'Task "{title}" was updated',
    TaskEventType.COMPLETED: 'Task "{title}" was completed',
    TaskEventType.DELETED: 'Task "{title}" was deleted',
}


def human_message(event: TaskEvent) -> str:
    return _MESSAGES[event.type].format(title=event.title)


def record_event(event: TaskEvent) -> bool:
    """Store the activity entry and the notification; False when this event id was already recorded."""
    entry = ActivityEntry(
        owner_id=event.owner_id,
        event_id=event.event_id,
        type=event.type.value,
        task_id=event.task_id,
        title=event.title,
        occurred_at=event.occurred_at.isoformat(),
        message=human_message(event),
        version=event.version,
    )
    return store.record_once(entry)


def to_view(entry: ActivityEntry) -> ActivityEntryOut:
    return ActivityEntryOut(
        type=TaskEventType(entry.type),
        task_id=entry.task_id,
        title=entry.title,
        timestamp=entry.occurred_at,
        message=entry.message,
    )


def list_activity(owner_id: str, limit: int, next_token: str | None) -> ActivityPageOut:
    scope = f"activity|{owner_id}"
    start_key: dict[str, Any] | None = decode_cursor(next_token, scope) if next_token else None
    page = store.list_activity(owner_id, limit, start_key)
    cursor = encode_cursor(page.last_evaluated_key, scope) if page.last_evaluated_key else None
    return ActivityPageOut(items=[to_view(entry) for entry in page.items], next_token=cursor)
