"""The inbox: a user's notifications, newest first, unread filter and count, marking read.

Delivery (who is told, on which channel) is taskapp.domain.notification_delivery; preferences are
taskapp.domain.notification_preferences. Kept apart so the inbox routes load neither.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from taskapp.cursor import decode_cursor, encode_cursor
from taskapp.data import notifications as store
from taskapp.domain.records.notifications import Notification
from taskapp.errors import NotFound
from taskapp.schemas.notifications import NotificationOut, NotificationPageOut, ReadAllOut, UnreadCountOut


def to_view(notification: Notification) -> NotificationOut:
    return NotificationOut(
        id=store.notification_id(store.entry_key(notification.created_at, notification.event_id)),
        type=notification.type,
        task_id=notification.task_id,
        project_id=notification.project_id,
        title=notification.title,
        actor=notification.actor_id,
        message=notification.message,
        created_at=notification.created_at,
        read_at=notification.read_at,
    )


def _now() -> datetime:
    return datetime.now(UTC)


def list_notifications(user_id: str, limit: int, next_token: str | None, unread_only: bool) -> NotificationPageOut:
    scope = f"notifications{'-unread' if unread_only else ''}|{user_id}"
    start_key: dict[str, Any] | None = decode_cursor(next_token, scope) if next_token else None
    page = store.list_inbox(user_id, limit, start_key, int(_now().timestamp()), unread_only)
    cursor = encode_cursor(page.last_evaluated_key, scope) if page.last_evaluated_key else None
    return NotificationPageOut(items=[to_view(item) for item in page.items], next_token=cursor)


def unread_count(user_id: str) -> UnreadCountOut:
    return UnreadCountOut(unread=store.count_unread(user_id, int(_now().timestamp())))


def mark_read(user_id: str, notification_id: str) -> NotificationOut:
    key = store.entry_key_of(notification_id)
    marked = store.mark_read(user_id, key, _now().isoformat()) if key else None
    if marked is None:
        raise NotFound("Notification not found", {"id": notification_id})
    return to_view(marked)


def mark_all_read(user_id: str) -> ReadAllOut:
    return ReadAllOut(marked_read=store.mark_all_read(user_id, _now().isoformat()))
