"""Bulk ingestion: POST /tasks/ingest and the `task.ingested` Kafka records it produces."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field, StrictStr, StringConstraints

from taskapp.schemas.common import ApiModel
from taskapp.schemas.tasks import PersonalTaskRequest

MAX_INGEST_TASKS = 500
TaskId = Annotated[StrictStr, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")]


class IngestTaskItem(PersonalTaskRequest):
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
    task: PersonalTaskRequest  # never a project or an assignee: ingestion writes personal tasks only
