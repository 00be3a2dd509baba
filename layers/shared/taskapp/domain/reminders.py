"""Due reminders: one EventBridge Scheduler one-time schedule per task with `remindAt`, kept in step from the stream.

Driven from the tasks table's stream (ReminderSchedulerFunction), not from the request path: a failed Scheduler call
fails the record, the stream retries it, and the user's request never waits for or fails with the scheduler. Every
change is an idempotent upsert or delete of the schedule named after the task, so a retried or replayed record leaves
exactly one schedule (or none):

* created, or `remindAt` moved, with the task open and the time ahead -> upsert `at(remindAt)`
* `remindAt` cleared or passed, the task completed, or deleted -> delete (a missing schedule is fine)
* anything else (a title edit) -> no call

When the schedule fires, ReminderFunction re-reads the task and tells the rule's recipients only if the task still
exists, is open and still wants a reminder at that time: a schedule deleted a moment too late never reminds anyone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from taskapp.domain.records.notifications import Occurrence
from taskapp.schemas.tasks import TaskStatus

REMINDER = "task.due_reminder"
UPSERTED, DELETED, UNCHANGED = "upserted", "deleted", "unchanged"


class ReminderTarget(NamedTuple):
    """What the schedule hands ReminderFunction (the schedule's target Input)."""

    owner_id: str
    task_id: str
    remind_at: str

    def as_input(self) -> dict[str, str]:
        return {"ownerId": self.owner_id, "taskId": self.task_id, "remindAt": self.remind_at}

    @classmethod
    def from_input(cls, payload: dict[str, Any]) -> ReminderTarget:
        return cls(str(payload["ownerId"]), str(payload["taskId"]), str(payload["remindAt"]))


class Schedules(Protocol):
    def upsert(self, name: str, at: datetime, target: ReminderTarget) -> None: ...
    def delete(self, name: str) -> None: ...


def schedule_name(task_id: str) -> str:
    """One name per task (<= 64 characters): upserting it again moves the one schedule instead of adding another."""
    return f"reminder-{task_id}"


def _remind_at(image: dict[str, Any]) -> datetime | None:
    raw = image.get("remindAt")
    if not raw:
        return None
    parsed = datetime.fromisoformat(str(raw))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _wants_reminder(image: dict[str, Any], now: datetime) -> datetime | None:
    at = _remind_at(image)
    if at is None or str(image.get("status") or "") == TaskStatus.DONE or at <= now:
        return None
    return at


def sync_schedule(record: DynamoDBRecord, schedules: Schedules, now: datetime | None = None) -> str:
    """Bring the task's schedule in step with this change; returns UPSERTED, DELETED or UNCHANGED."""
    stream = record.dynamodb
    if stream is None:
        return UNCHANGED
    new, old = stream.new_image or {}, stream.old_image or {}
    image = old if record.event_name == DynamoDBRecordEventName.REMOVE else new
    task_id, owner_id = image.get("taskId"), image.get("ownerId")
    if not task_id or not owner_id:
        return UNCHANGED
    moment = now or datetime.now(UTC)
    had = old.get("remindAt") and str(old.get("status") or "") != TaskStatus.DONE
    wanted = None if record.event_name == DynamoDBRecordEventName.REMOVE else _wants_reminder(new, moment)
    if wanted is not None:
        unchanged = record.event_name == DynamoDBRecordEventName.MODIFY and _remind_at(old) == wanted and had
        if unchanged:
            return UNCHANGED
        target = ReminderTarget(str(owner_id), str(task_id), wanted.isoformat())
        schedules.upsert(schedule_name(str(task_id)), wanted, target)
        return UPSERTED
    if had or (record.event_name == DynamoDBRecordEventName.INSERT and new.get("remindAt")):
        schedules.delete(schedule_name(str(task_id)))
        return DELETED
    return UNCHANGED


def reminder_occurrence(target: ReminderTarget, title: str, assignee_id: str | None = None) -> Occurrence:
    """The reminder as the recipient rules see it: nobody acted (the system did), so nobody is left out."""
    return Occurrence(
        event_id=f"{target.task_id}:reminder:{target.remind_at}",
        type=REMINDER,
        occurred_at=target.remind_at,
        actor_id=None,
        title=title,
        owner_id=target.owner_id,
        task_id=target.task_id,
        creator_id=target.owner_id,
        assignee_id=assignee_id,
    )
