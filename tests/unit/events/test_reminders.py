"""Issue 12, due reminders: `remindAt` on tasks, one schedule per task kept in step from the stream, and the
reminder function that tells the recipients only while the reminder still stands."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from taskapp.data.notifications import NotificationModel
from taskapp.domain.reminders import DELETED, UNCHANGED, UPSERTED, ReminderTarget, schedule_name, sync_schedule
from tests.support.api_client import ApiClient
from tests.support.lambda_events import FakeLambdaContext, load_function
from tests.unit.conftest import Account

FUTURE = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


@dataclass
class FakeSchedules:
    live: dict[str, tuple[datetime, ReminderTarget]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def upsert(self, name: str, at: datetime, target: ReminderTarget) -> None:
        self.calls.append(f"upsert {name}")
        self.live[name] = (at, target)

    def delete(self, name: str) -> None:
        self.calls.append(f"delete {name}")
        self.live.pop(name, None)


def _record(name: str, new: dict[str, Any] | None, old: dict[str, Any] | None) -> DynamoDBRecord:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    body: dict[str, Any] = {"ApproximateCreationDateTime": int(time.time()), "SequenceNumber": "1"}
    if new is not None:
        body["NewImage"] = {k: serializer.serialize(v) for k, v in new.items()}
    if old is not None:
        body["OldImage"] = {k: serializer.serialize(v) for k, v in old.items()}
    return DynamoDBRecord({"eventID": "1", "eventName": name, "eventSource": "aws:dynamodb", "dynamodb": body})


def _task(**fields: Any) -> dict[str, Any]:
    return {"ownerId": "owner-1", "taskId": "task-1", "title": "Pay rent", "status": "todo", "version": 1, **fields}


NOW = datetime(2029, 12, 31, tzinfo=UTC)


def test_each_change_keeps_exactly_one_schedule_in_step() -> None:
    schedules = FakeSchedules()
    created = _task(remindAt=FUTURE.isoformat())
    assert sync_schedule(_record("INSERT", created, None), schedules, NOW) == UPSERTED
    retitled = {**created, "title": "Pay the rent", "version": 2}
    assert sync_schedule(_record("MODIFY", retitled, created), schedules, NOW) == UNCHANGED
    moved = {**retitled, "remindAt": (FUTURE + timedelta(hours=1)).isoformat(), "version": 3}
    assert sync_schedule(_record("MODIFY", moved, retitled), schedules, NOW) == UPSERTED
    assert sync_schedule(_record("MODIFY", moved, retitled), schedules, NOW) == UPSERTED  # a retried record
    assert list(schedules.live) == [schedule_name("task-1")]
    assert schedules.live[schedule_name("task-1")][0] == FUTURE + timedelta(hours=1)
    done = {**moved, "status": "done", "version": 4}
    assert sync_schedule(_record("MODIFY", done, moved), schedules, NOW) == DELETED
    assert schedules.live == {}


def test_clearing_deleting_or_a_past_time_removes_the_schedule() -> None:
    schedules = FakeSchedules()
    task = _task(remindAt=FUTURE.isoformat())
    sync_schedule(_record("INSERT", task, None), schedules, NOW)
    cleared = {key: value for key, value in task.items() if key != "remindAt"}
    assert sync_schedule(_record("MODIFY", cleared, task), schedules, NOW) == DELETED
    sync_schedule(_record("MODIFY", task, cleared), schedules, NOW)
    assert sync_schedule(_record("REMOVE", None, task), schedules, NOW) == DELETED
    assert schedules.live == {}
    assert sync_schedule(_record("INSERT", task, None), schedules, FUTURE + timedelta(seconds=1)) == DELETED
    assert sync_schedule(_record("INSERT", _task(), None), schedules, NOW) == UNCHANGED
    assert schedules.live == {}


@pytest.fixture
def reminder_target_configured(monkeypatch: pytest.MonkeyPatch) -> Any:
    from taskapp import settings

    monkeypatch.setenv("REMINDER_FUNCTION_ARN", "arn:aws:lambda:us-east-1:123456789012:function:unit-reminder")
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", "arn:aws:iam::123456789012:role/unit-scheduler")
    settings.clear_cache()
    yield
    settings.clear_cache()


def test_eventbridge_schedules_upsert_and_delete_idempotently(aws: None, reminder_target_configured: None) -> None:
    from taskapp.messaging import scheduler as module

    module._scheduler.cache_clear()
    client = boto3.client("scheduler", region_name="us-east-1")
    schedules = module.EventBridgeSchedules()
    target = ReminderTarget("owner-1", "task-1", FUTURE.isoformat())
    schedules.upsert("reminder-task-1", FUTURE, target)
    schedules.upsert("reminder-task-1", FUTURE + timedelta(minutes=5), target)
    stored = client.get_schedule(Name="reminder-task-1", GroupName="default")
    assert stored["ScheduleExpression"] == "at(2030-01-01T09:05:00)"
    assert stored["ActionAfterCompletion"] == "DELETE"
    assert json.loads(stored["Target"]["Input"]) == target.as_input()
    schedules.delete("reminder-task-1")
    schedules.delete("reminder-task-1")  # already gone: fine
    assert client.list_schedules()["Schedules"] == []


def _remind(payload: dict[str, Any]) -> dict[str, Any]:
    return load_function("reminder").handler(payload, FakeLambdaContext("reminder"))


def test_api_accepts_remind_at_with_a_timezone_in_the_future_only(client: ApiClient, caller: Account) -> None:
    token = caller.access_token
    ahead = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    local = ahead.astimezone(datetime.now().astimezone().tzinfo).isoformat()
    created = client.post("/tasks", json_body={"title": "Call", "remindAt": local}, token=token)
    assert created.status_code == 201, created.body
    assert created.json()["remindAt"] == ahead.isoformat()
    for bad in ["2020-01-01T00:00:00+00:00", "2030-01-01T09:00:00", "tomorrow"]:
        answer = client.post("/tasks", json_body={"title": "Call", "remindAt": bad}, token=token)
        assert answer.status_code == 400, (bad, answer.body)
    task = created.json()
    cleared = client.patch(f"/tasks/{task['id']}", json_body={"version": 1, "remindAt": None}, token=token)
    assert cleared.status_code == 200 and cleared.json()["remindAt"] is None


def test_reminder_notifies_the_owner_once_and_a_stale_one_nobody(client: ApiClient, alice: Account) -> None:
    ahead = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    task = client.post(
        "/tasks", json_body={"title": "Water plants", "remindAt": ahead.isoformat()}, token=alice.access_token
    ).json()
    payload = ReminderTarget(alice.user_id, task["id"], ahead.isoformat()).as_input()
    assert _remind(payload) == {"reminded": 1, "stale": False}
    assert _remind(payload) == {"reminded": 0, "stale": False}  # Scheduler retried: no second notification
    inbox = client.get("/notifications", token=alice.access_token).json()["items"]
    assert [(item["type"], item["message"], item["actor"]) for item in inbox] == [
        ("task.due_reminder", 'Reminder: "Water plants" is due', None)
    ]
    moved = ReminderTarget(alice.user_id, task["id"], (ahead + timedelta(minutes=1)).isoformat()).as_input()
    assert _remind(moved)["stale"] is True
    client.patch(f"/tasks/{task['id']}", json_body={"version": 1, "status": "done"}, token=alice.access_token)
    assert _remind(payload)["stale"] is True
    client.delete(f"/tasks/{task['id']}", token=alice.access_token)
    assert _remind(payload)["stale"] is True
    assert len(list(NotificationModel.query(alice.user_id))) == 1


def test_reminder_scheduler_function_reports_a_failed_record_for_retry(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_function("reminder_scheduler")

    class Down(FakeSchedules):
        def upsert(self, name: str, at: datetime, target: ReminderTarget) -> None:
            raise RuntimeError("scheduler unreachable")

    monkeypatch.setattr(module, "schedules", Down())
    without = _record("INSERT", _task(), None).raw_event
    failing = _record("INSERT", _task(taskId="task-2", remindAt=FUTURE.isoformat()), None).raw_event
    failing["dynamodb"]["SequenceNumber"] = "2"
    result = module.handler({"Records": [without, failing]}, FakeLambdaContext("reminder-scheduler"))
    assert result["batchItemFailures"] == [{"itemIdentifier": "2"}]


def test_stream_sample_creates_moves_then_deletes_the_schedule(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.lambda_events import sample_event

    module = load_function("reminder_scheduler")
    fake = FakeSchedules()
    monkeypatch.setattr(module, "schedules", fake)
    result = module.handler(sample_event("reminder_scheduler", "task-reminder-lifecycle"), FakeLambdaContext())
    assert result == {"upserted": 2, "deleted": 1, "unchanged": 1}  # deleting a completed task: nothing to remove
    assert fake.calls == [f"{verb} reminder-sample-task-1" for verb in ("upsert", "upsert", "delete")]
    assert fake.live == {}


def test_reminder_sample_for_a_task_that_is_gone_reminds_nobody(aws: None) -> None:
    from tests.support.lambda_events import sample_event

    assert _remind(sample_event("reminder", "due")) == {"reminded": 0, "stale": True}
