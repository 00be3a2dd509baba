"""The outbox: every change of the tasks table, read from its DynamoDB stream, becomes one task event.

Why a stream and not a transactional outbox table: the stream is written by DynamoDB in the same write as the task
(no second item, no code path can forget it), ingestion's BatchWriteItem gets events for free, and Lambda's
stream poller retries a failed batch until it succeeds (records live 24 h). The event id is derived from the task
and its version, so a batch that is published twice yields the same message ids and consumers dedupe them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from taskapp.schemas.events import TaskEvent, TaskEventType
from taskapp.schemas.tasks import TaskStatus


def _version(image: dict[str, Any]) -> int:
    return int(image.get("version") or 1)


def _previous_version(image: dict[str, Any]) -> int | None:
    """The old image only tells whether the version changed: one the outbox cannot read (the row an operator just
    repaired) means "changed", so the repaired row's event goes out instead of failing like the bad row did."""
    try:
        return _version(image)
    except (TypeError, ValueError):
        return None


def _status(image: dict[str, Any]) -> TaskStatus | None:
    raw = str(image.get("status") or "")
    return TaskStatus(raw) if raw in TaskStatus._value2member_map_ else None


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _occurred_at(event_type: TaskEventType, image: dict[str, Any], record_time: int | None) -> datetime:
    """When the change happened, from the record alone so a redelivery yields the same value.

    Creates and updates carry `updatedAt`. A delete has no change time of its own: the stream record's time
    (whole seconds) is used, never earlier than the task's last update so the feed keeps the right order.
    """
    updated = _parse_time(image.get("updatedAt"))
    if event_type != TaskEventType.DELETED and updated is not None:
        return updated
    recorded = datetime.fromtimestamp(record_time, UTC) if record_time else None
    candidates = [moment for moment in (updated, recorded) if moment is not None]
    return max(candidates) if candidates else datetime.now(UTC)


def event_from_stream_record(record: DynamoDBRecord) -> TaskEvent | None:
    """None for changes that are not task events (e.g. a rewrite that kept the same version).

    Raises (ValueError, pydantic's ValidationError, ...) for a row it cannot read, e.g. `version: "two"` or
    `updatedAt: "yesterday"`: the publisher sends such a record to the failure queue (domain/outbox_batch.py).
    """
    stream = record.dynamodb
    if stream is None:
        return None
    new, old = stream.new_image or {}, stream.old_image or {}
    if record.event_name == DynamoDBRecordEventName.INSERT:
        image, event_type = new, TaskEventType.CREATED
    elif record.event_name == DynamoDBRecordEventName.MODIFY:
        if _version(new) == _previous_version(old):
            return None
        image = new
        completed = _status(new) == TaskStatus.DONE and _status(old) != TaskStatus.DONE
        event_type = TaskEventType.COMPLETED if completed else TaskEventType.UPDATED
    elif record.event_name == DynamoDBRecordEventName.REMOVE:
        image, event_type = old, TaskEventType.DELETED
    else:
        return None
    if not image.get("ownerId") or not image.get("taskId"):
        return None
    occurred = _occurred_at(event_type, image, stream.approximate_creation_date_time)
    version = _version(image)
    task_id = str(image["taskId"])
    return TaskEvent(
        event_id=f"{task_id}:{version}:{event_type.value}",
        type=event_type,
        occurred_at=occurred,
        owner_id=str(image["ownerId"]),
        task_id=task_id,
        title=str(image.get("title") or ""),
        status=_status(image),
        version=version,
        actor_id=str(image["updatedBy"]) if image.get("updatedBy") else None,
        project_id=str(image["projectId"]) if image.get("projectId") else None,
        assignee_id=str(image["assigneeId"]) if image.get("assigneeId") else None,
        previous_assignee_id=str(old["assigneeId"]) if old.get("assigneeId") else None,
    )
