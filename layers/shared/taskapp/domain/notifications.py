"""Notifications: deliver an occurrence to its recipients on the channels they chose, and the inbox they read.

Delivery per recipient: the preferences pick the channels; the inbox item is written once per (event id, recipient)
even when the inbox is off (it is what makes the other channels idempotent); the email is claimed on that item before
it is sent, so a redelivery never sends it twice; push goes out only with a freshly written item. A permanent email
failure is recorded and skipped; a transient one is given back and reported, so the caller fails its batch after
every recipient was served and the redelivery retries just that email.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from taskapp.cursor import decode_cursor, encode_cursor
from taskapp.data import notifications as store
from taskapp.domain.notification_rules import recipients_for
from taskapp.domain.notification_templates import inbox_message, render_email
from taskapp.domain.records.notifications import Notification, Occurrence, Recipient
from taskapp.errors import NotFound
from taskapp.messaging.email import EmailFailed
from taskapp.schemas.events import TaskEvent
from taskapp.schemas.notifications import (
    Channel,
    NotificationOut,
    NotificationPageOut,
    NotificationPreferences,
    NotificationType,
    ReadAllOut,
    UnreadCountOut,
)
from taskapp.settings import notification_delivery_settings

_ALL = [Channel.INBOX, Channel.EMAIL, Channel.PUSH]
# Sensible defaults: your own task changes stay in the inbox (and live views); what needs you also goes by email.
DEFAULT_CHANNELS: dict[NotificationType, list[Channel]] = {
    NotificationType.TASK_CREATED: [Channel.INBOX, Channel.PUSH],
    NotificationType.TASK_UPDATED: [Channel.INBOX, Channel.PUSH],
    NotificationType.TASK_DELETED: [Channel.INBOX, Channel.PUSH],
    NotificationType.TASK_COMPLETED: _ALL,
    NotificationType.TASK_DUE_REMINDER: _ALL,
}
_FALLBACK_CHANNELS = [Channel.INBOX, Channel.PUSH]  # a type with no default of its own (another producer's)


class Mailer(Protocol):
    def send(self, to_address: str, subject: str, text: str, html: str) -> str: ...


class Pusher(Protocol):
    def push(self, user_id: str, payload: dict[str, Any]) -> int: ...


class Addresses(Protocol):
    def email_of(self, user_id: str) -> str | None: ...


class UserAddresses:
    """Recipients' email addresses from the users table, looked up once per user and invocation."""

    def __init__(self) -> None:
        self._known: dict[str, str | None] = {}

    def email_of(self, user_id: str) -> str | None:
        if user_id not in self._known:
            from taskapp.data import users  # only deliveries that email need the users table

            user = users.find_by_user_id(user_id)
            self._known[user_id] = user.email if user else None
        return self._known[user_id]


class Delivery(NamedTuple):
    notified: int = 0
    duplicates: int = 0
    emailed: int = 0
    email_failed: int = 0
    email_retry: int = 0  # transient failures: the caller fails its batch so these are retried
    pushed: int = 0


class _Tally:
    def __init__(self) -> None:
        self.counts = dict.fromkeys(Delivery._fields, 0)

    def add(self, field: str, amount: int = 1) -> None:
        self.counts[field] += amount

    def result(self) -> Delivery:
        return Delivery(**self.counts)


def occurrence_of(event: TaskEvent) -> Occurrence:
    """Today's task events: the owner created the task (no assignees, watchers or comments before issue 11)."""
    return Occurrence(
        event_id=event.event_id,
        type=event.type.value,
        occurred_at=event.occurred_at.isoformat(),
        actor_id=event.actor_id,
        title=event.title,
        owner_id=event.owner_id,
        task_id=event.task_id,
        creator_id=event.owner_id,
    )


def channels_for(user_id: str | None, notification_type: str) -> list[Channel]:
    """The user's saved choice for the type, else the default; email-only recipients get the defaults."""
    saved = store.get_preferences(user_id) if user_id else {}
    if notification_type in saved:
        return [Channel(channel) for channel in saved[notification_type] if channel in Channel._value2member_map_]
    if notification_type in NotificationType._value2member_map_:
        return list(DEFAULT_CHANNELS[NotificationType(notification_type)])
    return list(_FALLBACK_CHANNELS)


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


class _Run:
    """One delivery of one occurrence: the channels' clients, the counts, and one clock reading for the TTL."""

    def __init__(self, addresses: Addresses, mailer: Mailer | None, pusher: Pusher | None) -> None:
        self.addresses, self.mailer, self.pusher = addresses, mailer, pusher
        self.tally = _Tally()
        self.expires_at = int(
            (datetime.now(UTC) + timedelta(days=notification_delivery_settings().notification_ttl_days)).timestamp()
        )

    def send_email(self, notification: Notification, address: str, mailer: Mailer) -> None:
        key = store.entry_key(notification.created_at, notification.event_id)
        email = render_email(notification.type, notification.title)
        try:
            mailer.send(address, email.subject, email.text, email.html)
        except EmailFailed as exc:
            if exc.permanent:
                store.email_failed(notification.recipient_id, key)
                self.tally.add("email_failed")
            else:
                store.release_email(notification.recipient_id, key)
                self.tally.add("email_retry")
            return
        store.email_sent(notification.recipient_id, key)
        self.tally.add("emailed")

    def deliver_to(self, occurrence: Occurrence, recipient: Recipient) -> None:
        channels = channels_for(recipient.user_id, occurrence.type)
        if not channels:
            return
        notification = Notification(
            recipient_id=recipient.key,
            event_id=occurrence.event_id,
            type=occurrence.type,
            task_id=occurrence.task_id,
            project_id=occurrence.project_id,
            title=occurrence.title,
            actor_id=occurrence.actor_id,
            message=inbox_message(occurrence.type, occurrence.title),
            created_at=occurrence.occurred_at,
            in_inbox=Channel.INBOX in channels,
        )
        mailer = self.mailer if Channel.EMAIL in channels else None
        address = None
        if mailer is not None:
            address = recipient.email or (self.addresses.email_of(recipient.user_id) if recipient.user_id else None)
        created = store.put_once(notification, self.expires_at, store.EMAIL_SENDING if address else None)
        self.tally.add("notified" if created else "duplicates")
        if address and mailer is not None:
            key = store.entry_key(notification.created_at, notification.event_id)
            if created or store.claim_email(notification.recipient_id, key):
                self.send_email(notification, address, mailer)
        if created and self.pusher is not None and recipient.user_id and Channel.PUSH in channels:
            view = to_view(notification).model_dump(mode="json", by_alias=True)
            self.tally.add(
                "pushed", self.pusher.push(recipient.user_id, {"kind": "notification", "notification": view})
            )


def deliver(
    occurrence: Occurrence,
    addresses: Addresses,
    mailer: Mailer | None = None,
    pusher: Pusher | None = None,
    recipients: Iterable[Recipient] | None = None,
) -> Delivery:
    """Tell every recipient the rules name (or `recipients`, for producers with their own list)."""
    run = _Run(addresses, mailer, pusher)
    for recipient in recipients_for(occurrence) if recipients is None else recipients:
        run.deliver_to(occurrence, recipient)
    return run.tally.result()


# The inbox API ------------------------------------------------------------------------------------------------------


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


def get_preferences(user_id: str) -> NotificationPreferences:
    """Every type with its effective channels (saved choice, else the default)."""
    return NotificationPreferences(channels={kind: channels_for(user_id, kind.value) for kind in NotificationType})


def put_preferences(user_id: str, request: NotificationPreferences) -> NotificationPreferences:
    """Types named replace their saved choice; types left out keep theirs (or the default)."""
    saved = store.get_preferences(user_id)
    for kind, channels in request.channels.items():
        saved[kind.value] = sorted({channel.value for channel in channels}, key=[c.value for c in _ALL].index)
    store.put_preferences(user_id, saved, _now().isoformat())
    return get_preferences(user_id)
