"""Reminder schedules against MiniStack's EventBridge Scheduler: the request shape it accepts, the upsert that moves
one schedule instead of adding another, and deletes that tolerate a schedule already gone (issue 12)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from infra.stack import Stack
from tests.integration.conftest import ENDPOINT_URL, REGION, STACK_NAME


@pytest.fixture
def group(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from taskapp import settings
    from taskapp.messaging import scheduler

    name = Stack(STACK_NAME).output("ReminderScheduleGroupName")
    monkeypatch.setenv("AWS_ENDPOINT_URL", ENDPOINT_URL)
    monkeypatch.setenv("REMINDER_SCHEDULE_GROUP", name)
    # A target that never runs here: the schedule is an hour ahead and deleted before the test ends.
    monkeypatch.setenv("REMINDER_FUNCTION_ARN", f"arn:aws:lambda:{REGION}:000000000000:function:never-invoked")
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", "arn:aws:iam::000000000000:role/never-assumed")
    settings.clear_cache()
    scheduler._scheduler.cache_clear()
    yield name
    settings.clear_cache()
    scheduler._scheduler.cache_clear()


def test_upsert_moves_the_one_schedule_and_delete_is_idempotent(group: str) -> None:
    from taskapp.domain.reminders import ReminderTarget, schedule_name
    from taskapp.messaging.scheduler import EventBridgeSchedules

    client = boto3.client("scheduler", endpoint_url=ENDPOINT_URL, region_name=REGION)
    task_id = str(uuid.uuid4())
    name = schedule_name(task_id)
    at = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    schedules = EventBridgeSchedules()
    target = ReminderTarget("owner-it", task_id, at.isoformat())
    schedules.upsert(name, at, target)
    schedules.upsert(name, at + timedelta(minutes=30), target)
    stored = client.get_schedule(Name=name, GroupName=group)
    assert stored["ScheduleExpression"] == f"at({(at + timedelta(minutes=30)).strftime('%Y-%m-%dT%H:%M:%S')})"
    assert stored["ActionAfterCompletion"] == "DELETE" and stored["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert json.loads(stored["Target"]["Input"]) == target.as_input()
    listed = client.list_schedules(GroupName=group, NamePrefix=name)["Schedules"]
    assert [schedule["Name"] for schedule in listed] == [name]
    schedules.delete(name)
    schedules.delete(name)
    assert client.list_schedules(GroupName=group, NamePrefix=name)["Schedules"] == []
