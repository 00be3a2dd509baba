"""Request and response models: the one place where field rules live, shared by handlers and the OpenAPI spec.

Requests forbid unknown fields and use strict types, so `"5"` is not silently an int and a typo is a 400.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    StringConstraints,
    field_validator,
)
from pydantic.alias_generators import to_camel

EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$"


def _is_iso_date(value: str) -> str:
    date.fromisoformat(value)  # raises ValueError for 2026-02-30 and friends
    return value


def _within_bcrypt_limit(value: str) -> str:
    if len(value.encode("utf-8")) > 72:
        raise ValueError("password must be at most 72 bytes in UTF-8")
    return value


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("tags must be unique")
    return values


Title = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[StrictStr, StringConstraints(max_length=2000)]
IsoDate = Annotated[StrictStr, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$"), AfterValidator(_is_iso_date)]
Tag = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Tags = Annotated[list[Tag], Field(max_length=10), AfterValidator(_unique)]
Email = Annotated[StrictStr, StringConstraints(strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN)]
Password = Annotated[StrictStr, StringConstraints(min_length=8), AfterValidator(_within_bcrypt_limit)]


class TaskStatus(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class TaskPriority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ApiModel(BaseModel):
    # defer_build: a model's validator and serializer are built when it is first used, not when this module is
    # imported. Every function imports all the models here but uses two or three; the others are never built.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)


class RegisterRequest(ApiModel):
    name: Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    email: Email
    password: Password


class LoginRequest(ApiModel):
    email: Email
    # Same 72-byte ceiling as registration: no account can have a longer password, and bcrypt 5 raises on one.
    password: Annotated[StrictStr, StringConstraints(min_length=1), AfterValidator(_within_bcrypt_limit)]


class RefreshRequest(ApiModel):
    refresh_token: Annotated[StrictStr, StringConstraints(min_length=1, max_length=512)]


class UserOut(ApiModel):
    id: str
    name: str
    email: str
    created_at: str


class TokenPairOut(ApiModel):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret


class CreateTaskRequest(ApiModel):
    title: Title
    description: Description = ""
    status: TaskStatus = TaskStatus.TODO
    priority: TaskPriority = TaskPriority.MEDIUM
    due_date: IsoDate | None = None
    tags: Tags = Field(default_factory=list)


class UpdateTaskRequest(ApiModel):
    """A partial update; `version` is the one the client last read (optimistic locking)."""

    version: Annotated[StrictInt, Field(ge=1)]
    title: Title | None = None
    description: Description | None = None
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    due_date: IsoDate | None = None
    tags: Tags | None = None

    @field_validator("title", "description", "status", "priority", "tags", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        """Only `dueDate` can be cleared with null; a null anywhere else is a client mistake, not "no change"."""
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


class TaskListOut(ApiModel):
    items: list[TaskOut]
    next_token: str | None


class DependencyStatus(ApiModel):
    status: str
    latency_ms: float | None = None
    error: str | None = None
    details: dict[str, Any] | None = None


class HealthOut(ApiModel):
    status: str
    dependencies: dict[str, DependencyStatus]


class ChangePasswordRequest(ApiModel):
    current_password: Annotated[StrictStr, StringConstraints(min_length=1, max_length=1024)]
    new_password: Password


MAX_INGEST_TASKS = 500
TaskId = Annotated[StrictStr, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")]


class IngestTaskItem(CreateTaskRequest):
    """One task of a bulk ingest; `id` is optional and makes a client's retry of the same request idempotent."""

    id: TaskId | None = None


def _unique_ids(items: list[IngestTaskItem]) -> list[IngestTaskItem]:
    ids = [item.id for item in items if item.id]
    if len(set(ids)) != len(ids):
        raise ValueError("task ids must be unique within one request")
    return items


class IngestTasksRequest(ApiModel):
    tasks: Annotated[
        list[IngestTaskItem], Field(min_length=1, max_length=MAX_INGEST_TASKS), AfterValidator(_unique_ids)
    ]


class IngestAcceptedOut(ApiModel):
    ids: list[str]
    topic: str


class IngestedTaskMessage(ApiModel):
    """The value of a `task.ingested` record (schema in docs/events.md); the record key is `id`."""

    schema_version: Literal[1] = 1
    id: TaskId
    owner_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=128)]
    created_at: AwareDatetime | None = None
    task: CreateTaskRequest


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


class ActivityEntryOut(ApiModel):
    type: TaskEventType
    task_id: str
    title: str
    timestamp: str
    message: str


class ActivityPageOut(ApiModel):
    items: list[ActivityEntryOut]
    next_token: str | None
