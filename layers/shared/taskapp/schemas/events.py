"""Events on the `task.events` exchange (task, project and comment changes) and the activity feeds built from them.

Every event is published with routing key = its type; schemas and examples in docs/events.md.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field, StrictInt, StrictStr, StringConstraints

from taskapp.schemas.common import ApiModel
from taskapp.schemas.tasks import TaskStatus


class TaskEventType(StrEnum):
    CREATED = "task.created"
    UPDATED = "task.updated"
    COMPLETED = "task.completed"
    DELETED = "task.deleted"
    # Derived by the outbox from the old/new images, beside the event above of the same stream record.
    ASSIGNED = "task.assigned"  # assigneeId changed to a user
    UNASSIGNED = "task.unassigned"  # assigneeId removed, or changed to another user (a reassignment: both events)


UserId = Annotated[StrictStr, StringConstraints(min_length=1, max_length=128)]


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
    actor_id: UserId | None = None
    # Collaboration (issue 11): the task's project (absent = personal task), its assignee after the change and, for
    # a change that had one, the assignee before it (from the stream's old image).
    project_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=100)] | None = None
    assignee_id: UserId | None = None
    previous_assignee_id: UserId | None = None
    # The task's project before the change (a MODIFY's old image; absent = it was personal): a move between
    # projects is recorded in the old project's feed too (taskapp.domain.activity.feeds_of).
    previous_project_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=100)] | None = None


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
    """Changes of comments on tasks (the comments table's stream)."""

    ADDED = "comment.added"
    UPDATED = "comment.updated"
    DELETED = "comment.deleted"


EXCERPT_CHARS = 200


class CommentEvent(ApiModel):
    """A comment change as published on the `task.events` exchange (routing key = type); docs/events.md."""

    event_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=300)]
    type: CommentEventType
    occurred_at: AwareDatetime
    task_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=100)]
    project_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=100)] | None = None
    comment_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=100)]
    author_id: UserId
    actor_id: UserId
    task_owner_id: UserId
    mentions: list[UserId] = Field(default_factory=list)
    excerpt: Annotated[StrictStr, StringConstraints(max_length=EXCERPT_CHARS)] = ""
    version: StrictInt


# Everything the outbox publishes and the notification consumer reads.
AnyEvent = TaskEvent | ProjectEvent | CommentEvent
EventType = TaskEventType | ProjectEventType | CommentEventType


class ActivityEntryOut(ApiModel):
    """One feed entry. `type`, `taskId`, `title`, `timestamp` and `message` are the original fields (kept for the
    clients of `GET /activity`); `eventType` repeats `type` under the name the project feed documents."""

    type: EventType
    task_id: str | None = Field(description="The task the event is about; null for project and member events")
    title: str
    timestamp: str
    message: str
    event_type: EventType
    actor_id: str | None = Field(description="Who made the change; null when the writer did not record it")
    project_id: str | None
    subject_user_id: str | None = Field(
        description="Whom a member event or an assignment is about (the member, the assignee)"
    )
    comment_id: str | None


class ActivityPageOut(ApiModel):
    items: list[ActivityEntryOut]
    next_token: str | None
