"""Notification preferences: per type, the channels a user is told on; sensible defaults where they chose nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from taskapp.data import notification_preferences as store
from taskapp.schemas.notifications import Channel, NotificationPreferences, NotificationType

_ALL = [Channel.INBOX, Channel.EMAIL, Channel.PUSH]

# Sensible defaults: your own task changes stay in the inbox (and live views); what needs you also goes by email.
DEFAULT_CHANNELS: dict[NotificationType, list[Channel]] = {
    NotificationType.TASK_CREATED: [Channel.INBOX, Channel.PUSH],
    NotificationType.TASK_UPDATED: [Channel.INBOX, Channel.PUSH],
    NotificationType.TASK_DELETED: [Channel.INBOX, Channel.PUSH],
    NotificationType.TASK_COMPLETED: _ALL,
    NotificationType.TASK_DUE_REMINDER: _ALL,
    NotificationType.TASK_ASSIGNED: _ALL,  # work handed to you
    NotificationType.TASK_UNASSIGNED: [Channel.INBOX, Channel.PUSH],
    NotificationType.COMMENT_ADDED: _ALL,  # a reply or a mention on a task you watch
    # Invitations go to an address, not an account: email is the only channel that reaches someone who has not
    # registered. A registered invitee's saved choice for this type applies (see notification_delivery).
    NotificationType.MEMBER_INVITED: [Channel.EMAIL],
}
_FALLBACK_CHANNELS = [Channel.INBOX, Channel.PUSH]  # a type with no default of its own (another producer's)


def channels_for(user_id: str | None, notification_type: str) -> list[Channel]:
    """The user's saved choice for the type, else the default; email-only recipients get the defaults."""
    saved = store.get_preferences(user_id) if user_id else {}
    if notification_type in saved:
        return [Channel(channel) for channel in saved[notification_type] if channel in Channel._value2member_map_]
    if notification_type in NotificationType._value2member_map_:
        return list(DEFAULT_CHANNELS[NotificationType(notification_type)])
    return list(_FALLBACK_CHANNELS)


def get_preferences(user_id: str) -> NotificationPreferences:
    """Every type with its effective channels (saved choice, else the default)."""
    return NotificationPreferences(channels={kind: channels_for(user_id, kind.value) for kind in NotificationType})


def put_preferences(user_id: str, request: NotificationPreferences) -> NotificationPreferences:
    """Types named replace their saved choice; types left out keep theirs (or the default)."""
    saved = store.get_preferences(user_id)
    for kind, channels in request.channels.items():
        saved[kind.value] = sorted({channel.value for channel in channels}, key=[c.value for c in _ALL].index)
    store.put_preferences(user_id, saved, datetime.now(UTC).isoformat())
    return get_preferences(user_id)
