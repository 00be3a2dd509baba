"""Tasks: what `/tasks` reads and answers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    StrictInt,
    StrictStr,
    StringConstraints,
    field_validator,
    model_serializer,
)

from taskapp.schemas.common import ApiModel


def _is_iso_date(value: str) -> str:
    date.fromisoformat(value)  # raises ValueError for 2026-02-30 and friends
    return value


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("tags must be unique")
    return values


def _in_the_future(value: datetime) -> datetime:
    if value <= datetime.now(UTC):
        raise ValueError("must be in the future")
    return value.astimezone(UTC)


# An ISO 8601 date and time with its offset (`2026-12-01T09:00:00+01:00`), stored and answered in UTC.
RemindAt = Annotated[
    AwareDatetime,
    AfterValidator(_in_the_future),
    Field(description="When to send the due reminder: ISO 8601 with a timezone, in the future"),
]
Title = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[StrictStr, StringConstraints(max_length=2000)]
IsoDate = Annotated[StrictStr, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$"), AfterValidator(_is_iso_date)]
Tag = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Tags = Annotated[list[Tag], Field(max_length=10), AfterValidator(_unique)]
# Project and user ids are uuids in this product; the pattern keeps key separators (`#`) and junk out of index keys.
EntityId = Annotated[
    StrictStr,
    StringConstraints(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
]
ProjectId = Annotated[EntityId, Field(description="The shared project the task belongs to (you need member rights)")]
AssigneeId = Annotated[
    EntityId,
    Field(description="The assigned user: an active member of the task's project, or for a personal task its owner"),
]


class TaskStatus(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class TaskPriority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class PersonalTaskRequest(ApiModel):
    """A task's own fields: what batch ingestion accepts (always the caller's personal tasks)."""

    title: Title
    description: Description = ""
    status: TaskStatus = TaskStatus.TODO
    priority: TaskPriority = TaskPriority.MEDIUM
    due_date: IsoDate | None = None
    tags: Tags = Field(default_factory=list)
    remind_at: RemindAt | None = None


class CreateTaskRequest(PersonalTaskRequest):
    project_id: ProjectId | None = None  # absent: a personal task, exactly as before projects
    assignee_id: AssigneeId | None = None


class UpdateTaskRequest(ApiModel):
    """A partial update; `version` is the one the client last read (optimistic locking).

    `version` may be left out when the request sends `If-Match` with the task's ETag instead; one of the two is
    required (the domain says which answer a request with neither gets).
    """

    version: Annotated[StrictInt, Field(ge=1)] | None = None
    title: Title | None = None
    description: Description | None = None
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    due_date: IsoDate | None = None
    tags: Tags | None = None
    remind_at: RemindAt | None = None  # null cancels the reminder
    project_id: ProjectId | None = None  # moves the task to another project (member rights in both)
    assignee_id: AssigneeId | None = None  # null unassigns

    @field_validator("title", "description", "status", "priority", "tags", "project_id", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        """Only `dueDate`, `remindAt` and `assigneeId` can be cleared with null; a null anywhere else is a client
        mistake, not "no change" (a project task stays in a project: `projectId` moves it, never to personal)."""
        if value is None:
            raise ValueError("may not be null; omit the field to leave it unchanged")
        return value

    def changes(self) -> dict[str, object]:
        """Fields the client actually sent, `dueDate: null` included (it clears the date)."""
        return {name: getattr(self, name) for name in self.model_fields_set if name != "version"}


class TaskOut(ApiModel):
    id: str
    title: str
    description: str
    status: TaskStatus
    priority: TaskPriority
    due_date: str | None
    tags: list[str]
    created_at: str
    updated_at: str
    version: int
    remind_at: str | None = None
    project_id: str | None = Field(default=None, description="Present on project tasks only")
    assignee_id: str | None = Field(default=None, description="Present when the task is assigned")
    updated_by: str | None = Field(default=None, description="Who wrote last; present on project tasks only")

    @model_serializer(mode="wrap")
    def _personal_tasks_as_before(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        """A personal task answers exactly the fields it always did: the project fields appear only when set."""
        data = handler(self)
        if isinstance(data, dict):
            for field, key in (("project_id", "projectId"), ("assignee_id", "assigneeId"), ("updated_by", "updatedBy")):
                if getattr(self, field) is None or (field == "updated_by" and self.project_id is None):
                    data.pop(key if info.by_alias else field, None)
        return data


class TaskListOut(ApiModel):
    items: list[TaskOut]
    next_token: str | None
