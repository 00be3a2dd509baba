"""Notifications: the one API for the notifications table (webhooks write through it too).

Notifications table: hash `ownerId` (the recipient: a user id, or `email:<address>` before registration), range
`entryKey` = `{createdAt ISO}#{eventId}`. The key comes from the event and the recipient alone, so a redelivered event
targets the same item and the conditional put makes it a no-op: idempotent per (event id, recipient). Range keys sort
by time, so the inbox is a descending query. `unreadKey` (= entryKey while unread) is the range key of the sparse
index `byUnread`: the unread filter, the unread count and read-all read only unread items. `expiresAt` (epoch
seconds) is the table's TTL attribute; DynamoDB deletes expired items within days, so reads filter them out too.

Email delivery state lives on the item (`emailState`): `sending` while one invocation owns the send, `pending` when a
transient failure gave it back for the retry, `sent` or `failed` once decided. Claiming is a conditional update, so a
redelivered event never sends a second email (a crash between claim and send loses that one email instead).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from taskapp.data.base import is_condition_failure, model_meta
from taskapp.domain.records import Page
from taskapp.domain.records.notifications import Notification
from taskapp.settings import notifications_table_settings

EMAIL_SENDING, EMAIL_PENDING, EMAIL_SENT, EMAIL_FAILED = "sending", "pending", "sent", "failed"


class UnreadIndex(GlobalSecondaryIndex["NotificationModel"]):
    class Meta:
        index_name = "byUnread"
        projection = AllProjection()

    owner_id = UnicodeAttribute(hash_key=True, attr_name="ownerId")
    unread_key = UnicodeAttribute(range_key=True, attr_name="unreadKey")


class NotificationModel(Model):
    Meta = model_meta(notifications_table_settings().notifications_table)

    owner_id = UnicodeAttribute(hash_key=True, attr_name="ownerId")
    entry_key = UnicodeAttribute(range_key=True, attr_name="entryKey")
    unread_key = UnicodeAttribute(null=True, attr_name="unreadKey")
    event_id = UnicodeAttribute(attr_name="eventId")
    type = UnicodeAttribute(default="task.updated")
    task_id = UnicodeAttribute(null=True, attr_name="taskId")
    project_id = UnicodeAttribute(null=True, attr_name="projectId")
    title = UnicodeAttribute(default="")
    actor_id = UnicodeAttribute(null=True, attr_name="actorId")
    message = UnicodeAttribute()
    created_at = UnicodeAttribute(null=True, attr_name="createdAt")
    read_at = UnicodeAttribute(null=True, attr_name="readAt")
    hidden = NumberAttribute(null=True)  # 1: the inbox channel was off; the item exists to dedupe the other channels
    email_state = UnicodeAttribute(null=True, attr_name="emailState")
    expires_at = NumberAttribute(null=True, attr_name="expiresAt")

    by_unread = UnreadIndex()

    @property
    def read(self) -> bool:
        return self.read_at is not None


def entry_key(created_at: str, event_id: str) -> str:
    return f"{created_at}#{event_id}"


def notification_id(key: str) -> str:
    """The public id: the range key, URL-safe, so POST /notifications/{id}/read finds the item with one GetItem."""
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def entry_key_of(notification_id: str) -> str | None:
    """None for an id this module never made (the route answers 404)."""
    try:
        raw = base64.urlsafe_b64decode(notification_id + "=" * (-len(notification_id) % 4))
        key = raw.decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return key if "#" in key and len(raw) <= 1024 else None  # DynamoDB's range key limit, in bytes


def to_record(model: NotificationModel) -> Notification:
    return Notification(
        recipient_id=model.owner_id,
        event_id=model.event_id,
        type=model.type,
        task_id=model.task_id,
        project_id=model.project_id,
        title=model.title,
        actor_id=model.actor_id,
        message=model.message,
        created_at=model.created_at or model.entry_key.split("#", 1)[0],
        read_at=model.read_at,
        in_inbox=not model.hidden,
    )


def to_model(notification: Notification, expires_at: int, email_state: str | None) -> NotificationModel:
    key = entry_key(notification.created_at, notification.event_id)
    visible_unread = notification.in_inbox and notification.read_at is None
    return NotificationModel(
        notification.recipient_id,
        key,
        unread_key=key if visible_unread else None,
        event_id=notification.event_id,
        type=notification.type,
        task_id=notification.task_id,
        project_id=notification.project_id,
        title=notification.title,
        actor_id=notification.actor_id,
        message=notification.message,
        created_at=notification.created_at,
        read_at=notification.read_at,
        hidden=None if notification.in_inbox else 1,
        email_state=email_state,
        expires_at=expires_at,
    )


def put_once(notification: Notification, expires_at: int, email_state: str | None = None) -> bool:
    """Store the notification unless this (event id, recipient) already has one; False means a duplicate.

    `email_state=EMAIL_SENDING` claims the email in the same write, so a fresh notification costs one request."""
    model = to_model(notification, expires_at, email_state)
    try:
        model.save(condition=NotificationModel.entry_key.does_not_exist())
    except PutError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def _set_email_state(recipient_id: str, event_key: str, new: str, expected: str) -> bool:
    model = NotificationModel(recipient_id, event_key)
    try:
        model.update(
            actions=[NotificationModel.email_state.set(new)],
            condition=NotificationModel.email_state == expected,
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def claim_email(recipient_id: str, event_key: str) -> bool:
    """Take over an email a failed attempt gave back (`pending`); False when it is sent, failed, or being sent."""
    return _set_email_state(recipient_id, event_key, EMAIL_SENDING, EMAIL_PENDING)


def email_sent(recipient_id: str, event_key: str) -> None:
    _set_email_state(recipient_id, event_key, EMAIL_SENT, EMAIL_SENDING)


def email_failed(recipient_id: str, event_key: str) -> None:
    """A permanent failure (rejected address, ...): never retried."""
    _set_email_state(recipient_id, event_key, EMAIL_FAILED, EMAIL_SENDING)


def release_email(recipient_id: str, event_key: str) -> None:
    """A transient failure: give the send back so the redelivered event claims it again."""
    _set_email_state(recipient_id, event_key, EMAIL_PENDING, EMAIL_SENDING)


def list_inbox(
    recipient_id: str, limit: int, start_key: dict[str, Any] | None, now: int, unread_only: bool
) -> Page[Notification]:
    """Newest first; the unread view reads the sparse index, the full view the table (hidden items filtered)."""
    alive = NotificationModel.expires_at > now
    if unread_only:
        results = NotificationModel.by_unread.query(
            recipient_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key, filter_condition=alive
        )
    else:
        results = NotificationModel.query(
            recipient_id,
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start_key,
            filter_condition=alive & NotificationModel.hidden.does_not_exist(),
        )
    items = tuple(to_record(model) for model in results)
    return Page(items=items, last_evaluated_key=results.last_evaluated_key)


def count_unread(recipient_id: str, now: int) -> int:
    return NotificationModel.count(
        recipient_id, index_name=UnreadIndex.Meta.index_name, filter_condition=NotificationModel.expires_at > now
    )


def get(recipient_id: str, event_key: str) -> Notification | None:
    try:
        model = NotificationModel.get(recipient_id, event_key)
    except NotificationModel.DoesNotExist:
        return None
    return None if model.hidden else to_record(model)


def mark_read(recipient_id: str, event_key: str, read_at: str) -> Notification | None:
    """Set readAt once (a second call keeps the first time); None when there is no such visible notification."""
    model = NotificationModel(recipient_id, event_key)
    try:
        model.update(
            actions=[NotificationModel.read_at.set(read_at), NotificationModel.unread_key.remove()],
            condition=NotificationModel.entry_key.exists()
            & NotificationModel.read_at.does_not_exist()
            & NotificationModel.hidden.does_not_exist(),
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
        return get(recipient_id, event_key)
    return to_record(model)


def mark_all_read(recipient_id: str, read_at: str) -> int:
    """Every unread notification of the recipient; returns how many this call marked."""
    marked = 0
    for unread in NotificationModel.by_unread.query(recipient_id):
        if mark_read(recipient_id, unread.entry_key, read_at) is not None:
            marked += 1
    return marked
