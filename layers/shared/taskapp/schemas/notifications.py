"""Notifications: the inbox routes, the preferences routes, and the types and channels both name."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from taskapp.schemas.common import ApiModel


class NotificationType(StrEnum):
    """What a notification is about; the recipients of each are in taskapp.domain.notification_rules."""

    TASK_CREATED = "task.created"
    TASK_UPDATED = "task.updated"
    TASK_COMPLETED = "task.completed"
    TASK_DELETED = "task.deleted"
    TASK_DUE_REMINDER = "task.due_reminder"
    TASK_ASSIGNED = "task.assigned"
    TASK_UNASSIGNED = "task.unassigned"
    COMMENT_ADDED = "comment.added"
    MEMBER_INVITED = "member.invited"


class Channel(StrEnum):
    INBOX = "inbox"
    EMAIL = "email"
    PUSH = "push"


class NotificationOut(ApiModel):
    id: str = Field(description="Opaque; names the notification in POST /notifications/{id}/read")
    # A plain string, not NotificationType: other producers (webhooks' "subscription disabled") add their own types.
    type: str
    task_id: str | None
    project_id: str | None
    title: str
    actor: str | None = Field(description="User id of whoever caused it; null for the system (a reminder)")
    message: str
    created_at: str
    read_at: str | None


class NotificationPageOut(ApiModel):
    items: list[NotificationOut]
    next_token: str | None


class UnreadCountOut(ApiModel):
    unread: int


class ReadAllOut(ApiModel):
    marked_read: int


class NotificationPreferences(ApiModel):
    """Per notification type, the channels it is delivered on; PUT may name only the types it changes."""

    channels: dict[NotificationType, list[Channel]] = Field(
        description="Notification type -> channels (inbox, email, push); an empty list silences the type"
    )
