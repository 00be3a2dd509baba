"""EventBridge Scheduler: the one-time `at()` schedules of due reminders (taskapp.domain.reminders)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from botocore.exceptions import ClientError

from taskapp.domain.reminders import ReminderTarget
from taskapp.settings import reminder_schedule_settings, runtime_settings


@lru_cache(maxsize=1)
def _scheduler() -> Any:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"})
    return boto3.client("scheduler", region_name=runtime_settings().region, config=config)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class EventBridgeSchedules:
    """Upsert and delete by name; both are idempotent, so the stream may retry a record any number of times."""

    def _request(self, name: str, at: datetime, target: ReminderTarget) -> dict[str, Any]:
        settings = reminder_schedule_settings()
        return {
            "Name": name,
            "GroupName": settings.reminder_schedule_group,
            "ScheduleExpression": f"at({at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')})",
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "Target": {
                "Arn": settings.reminder_function_arn,
                "RoleArn": settings.scheduler_role_arn,
                "Input": json.dumps(target.as_input()),
                "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600},
            },
        }

    def upsert(self, name: str, at: datetime, target: ReminderTarget) -> None:
        request = self._request(name, at, target)
        try:
            _scheduler().update_schedule(**request)
        except ClientError as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise
            try:
                _scheduler().create_schedule(**request)
            except ClientError as again:
                if _code(again) != "ConflictException":  # created meanwhile by a retry of this record: update it
                    raise
                _scheduler().update_schedule(**request)

    def delete(self, name: str) -> None:
        try:
            _scheduler().delete_schedule(Name=name, GroupName=reminder_schedule_settings().reminder_schedule_group)
        except ClientError as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise


class ScheduleGroupInactive(Exception):
    """The reminders' schedule group exists but is being deleted: new reminders cannot be scheduled."""


@lru_cache(maxsize=1)
def _probe_client() -> Any:
    """For GET /health only: one attempt with 1 s timeouts, its own session (the checks run in threads)."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=1, read_timeout=1, retries={"total_max_attempts": 1})
    return boto3.session.Session().client("scheduler", region_name=runtime_settings().region, config=config)


def probe() -> dict[str, Any]:
    """GET /health: GetScheduleGroup of the reminders' group, plus the target its schedules invoke."""
    settings = reminder_schedule_settings()
    group = _probe_client().get_schedule_group(Name=settings.reminder_schedule_group)
    details = {"group": group.get("Name"), "state": group.get("State"), "target": settings.reminder_function_arn}
    if group.get("State") not in (None, "ACTIVE"):
        raise ScheduleGroupInactive(str(group.get("State")))
    return details
