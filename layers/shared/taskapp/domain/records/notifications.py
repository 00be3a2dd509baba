"""The notification record: one event told to one recipient."""

from __future__ import annotations

from typing import NamedTuple


class Notification(NamedTuple):
    """`recipient_id` is a user id, or `email:<address>` for someone told before they registered (invitations)."""

    recipient_id: str
    event_id: str
    type: str
    task_id: str | None
    project_id: str | None
    title: str
    actor_id: str | None
    message: str
    created_at: str  # ISO-8601 from the event: part of the key, so a redelivered event targets the same item
    read_at: str | None = None
    in_inbox: bool = True  # False when the recipient turned the inbox off for this type: the item only dedupes


class Recipient(NamedTuple):
    """Who a rule names: a user (by id) or, before registration, an email address alone."""

    user_id: str | None
    email: str | None = None

    @property
    def key(self) -> str:
        return self.user_id or f"email:{self.email}"


class Occurrence(NamedTuple):
    """Something that may tell people: a task event, a due reminder, an assignment, a comment, an invitation.

    The fields the recipient rules and the templates read; a producer fills what it knows
    (taskapp.domain.notification_delivery builds one per event kind)."""

    event_id: str
    type: str
    occurred_at: str  # ISO-8601
    actor_id: str | None  # never told; None when the event does not say (or the system acted)
    title: str
    owner_id: str | None = None
    task_id: str | None = None
    project_id: str | None = None
    creator_id: str | None = None
    assignee_id: str | None = None
    watcher_ids: tuple[str, ...] = ()
    mentioned_ids: tuple[str, ...] = ()
    invitee_email: str | None = None
    previous_assignee_id: str | None = None
    detail: str = ""  # user text shown below the title in emails (a comment's excerpt), escaped in HTML
