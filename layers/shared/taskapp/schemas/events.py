"""Task events on the `task.events` exchange and the activity feed built from them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, StrictInt, StrictStr, StringConstraints

from taskapp.schemas.common import ApiModel
from taskapp.schemas.tasks import TaskStatus


class TaskEventType(StrEnum):
    CREATED = "task.created"
    UPDATED = "task.updated"
    COMPLETED = "task.completed"
    DELETED = "task.deleted"


class TaskEvent(ApiModel):
    """A task change as published on the `task.events` exchange (routing key = type); schema in docs/events.md."""

    event_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=300)]
    type: TaskEventType
    occurred_at: AwareDatetime
    owner_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=128)]
    task_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=100)]
    title: StrictStr
    status: TaskStatus | None = None
    version: StrictInt
    # Who made the change, when the row records it (`updatedBy`); absent for writers that do not (today's task
    # routes, ingestion). Notification rules never tell the actor (taskapp.domain.notification_rules).
    actor_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=128)] | None = None
    # Collaboration (issue 11, contract): the task's project (None = a personal task), its assignee, and the
    # assignee before this change (from the old image).
    project_id: StrictStr | None = None
    assignee_id: StrictStr | None = None
    previous_assignee_id: StrictStr | None = None


class ProjectEventType(StrEnum):
    """Changes of shared projects (taskapp.domain.projects), written to the projects table's outbox items."""

    PROJECT_CREATED = "project.created"
    PROJECT_UPDATED = "project.updated"
    PROJECT_ARCHIVED = "project.archived"
    PROJECT_TRANSFERRED = "project.transferred"
    MEMBER_INVITED = "member.invited"
    MEMBER_JOINED = "member.joined"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_REMOVED = "member.removed"
    INVITATION_DECLINED = "invitation.declined"


class ProjectEvent(ApiModel):
    """A project change as it will be published on the `task.events` exchange (routing key = type); the outbox
    items carry exactly these fields (docs/events.md, "Project events")."""

    event_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=100)]
    type: ProjectEventType
    occurred_at: AwareDatetime
    project_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=100)]
    actor_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=128)]
    subject_user_id: StrictStr | None = None
    email: StrictStr | None = None
    role: StrictStr | None = None
    previous_role: StrictStr | None = None
    version: StrictInt | None = None


class CommentEventType(StrEnum):
    """Changes of comments on tasks (contract of issue 11; mapped from the comments table's stream)."""

    ADDED = "comment.added"
    UPDATED = "comment.updated"
    DELETED = "comment.deleted"


class CommentEvent(ApiModel):
    """A comment change; `event_id` is `{commentId}:{version}:{type}`, `excerpt` the body's first 200 characters."""

    event_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=300)]
    type: CommentEventType
    occurred_at: AwareDatetime
    task_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=100)]
    project_id: StrictStr | None = None
    comment_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=100)]
    author_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=128)]
    actor_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=128)]
    task_owner_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=128)]
    mentions: list[StrictStr] = []
    excerpt: StrictStr = ""
    version: StrictInt


class ActivityEntryOut(ApiModel):
    type: TaskEventType
    task_id: str
    title: str
    timestamp: str
    message: str


class ActivityPageOut(ApiModel):
    items: list[ActivityEntryOut]
    next_token: str | None
