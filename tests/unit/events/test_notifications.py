"""Outbox publisher (tasks stream -> events), notification function (events -> activity) and GET /activity."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from taskapp.data.notifications import NotificationModel
from taskapp.messaging.rabbitmq import RabbitMqUnavailable
from tests.support.api_client import ApiClient
from tests.support.lambda_events import FakeLambdaContext, load_function, rmq_event, sample_event
from tests.unit.events.conftest import FakePublisher

OWNER = "user-sample-1"
# The entry fields issue 11 added, as an entry of a personal task changed by a writer that records no actor has them.
NO_COLLABORATION = {"actorId": None, "projectId": None, "subjectUserId": None, "commentId": None}


@pytest.fixture
def publisher(monkeypatch: pytest.MonkeyPatch) -> FakePublisher:
    fake = FakePublisher()
    monkeypatch.setattr(load_function("outbox_publisher"), "publisher", fake)
    return fake


def _publish(event: dict[str, Any]) -> dict[str, Any]:
    return load_function("outbox_publisher").handler(event, FakeLambdaContext("outbox-publisher"))


def _notify(event: dict[str, Any]) -> dict[str, Any]:
    return load_function("notification").handler(event, FakeLambdaContext("notification"))


def test_stream_sample_becomes_created_updated_completed_deleted(aws: None, publisher: FakePublisher) -> None:
    result = _publish(sample_event("outbox_publisher", "task-lifecycle"))
    assert result == {"published": 4, "skipped": 1}  # the rewrite with an unchanged version is not an event
    assert [(event.type.value, event.version) for event in publisher.published] == [
        ("task.created", 1),
        ("task.updated", 2),
        ("task.completed", 3),
        ("task.deleted", 3),
    ]
    assert publisher.published[0].event_id == "sample-task-1:1:task.created"
    assert publisher.published[1].occurred_at.isoformat() == "2026-11-23T09:05:00+00:00"
    assert all(event.owner_id == OWNER for event in publisher.published)


def test_broker_down_fails_the_whole_batch_so_the_stream_retries(aws: None, publisher: FakePublisher) -> None:
    publisher.fail_after = 2
    with pytest.raises(RabbitMqUnavailable):
        _publish(sample_event("outbox_publisher", "task-lifecycle"))
    publisher.fail_after = None
    publisher.published.clear()
    _publish(sample_event("outbox_publisher", "task-lifecycle"))  # the retry publishes every event again
    assert len(publisher.published) == 4


def test_rabbitmq_sample_records_activity_and_notification_once(client: ApiClient) -> None:
    result = _notify(sample_event("notification", "rabbitmq-batch"))
    assert result == {"recorded": 2, "duplicates": 1}
    assert _notify(sample_event("notification", "rabbitmq-batch")) == {"recorded": 0, "duplicates": 3}
    notifications = list(NotificationModel.query(OWNER))
    assert [n.message for n in notifications] == [
        'Task "Write the quarterly report" was created',
        'Task "Write the quarterly report" was completed',
    ]
    assert not any(n.read for n in notifications)


def test_poison_message_fails_the_batch_after_recording_the_valid_ones(aws: None) -> None:
    with pytest.raises(Exception, match="poison-1"):
        _notify(sample_event("notification", "rabbitmq-poison"))
    assert [n.event_id for n in NotificationModel.query(OWNER)] == ["sample-task-1:1:task.created"]


def test_activity_sample_lists_newest_first(client: ApiClient, fake_redis: Any) -> None:
    _notify(sample_event("notification", "rabbitmq-batch"))
    result = load_function("list_activity").handler(sample_event("list_activity", "first-page"), FakeLambdaContext())
    assert result["statusCode"] == 200, result
    items = json.loads(result["body"])["items"]
    assert items == [
        {
            "type": "task.completed",
            "taskId": "sample-task-1",
            "title": "Write the quarterly report",
            "timestamp": "2026-11-23T09:10:00+00:00",
            "message": 'Task "Write the quarterly report" was completed',
            "eventType": "task.completed",
            **NO_COLLABORATION,
        },
        {
            "type": "task.created",
            "taskId": "sample-task-1",
            "title": "Write the quarterly report",
            "timestamp": "2026-11-23T09:00:00+00:00",
            "message": 'Task "Write the quarterly report" was created',
            "eventType": "task.created",
            **NO_COLLABORATION,
        },
    ]


def _register(client: ApiClient, email: str) -> str:
    client.post("/auth/register", json_body={"name": "N", "email": email, "password": "s3cret-pass"})
    return str(client.post("/auth/login", json_body={"email": email, "password": "s3cret-pass"}).json()["accessToken"])


def _stream_event_from_table_changes(changes: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]]) -> Any:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    records = []
    for n, (name, new, old) in enumerate(changes):
        body: dict[str, Any] = {"ApproximateCreationDateTime": int(time.time()), "SequenceNumber": str(n)}
        if new is not None:
            body["NewImage"] = {k: serializer.serialize(v) for k, v in new.items()}
        if old is not None:
            body["OldImage"] = {k: serializer.serialize(v) for k, v in old.items()}
        records.append({"eventID": str(n), "eventName": name, "eventSource": "aws:dynamodb", "dynamodb": body})
    return {"Records": records}


def test_api_changes_flow_into_the_callers_feed_and_pages_with_a_cursor(
    client: ApiClient, publisher: FakePublisher
) -> None:
    """Create, update, complete and delete through the API; feed the table's images through the whole chain."""
    from taskapp.data.tasks import TaskModel

    token = _register(client, "feed@example.com")
    other = _register(client, "other@example.com")
    created = client.post("/tasks", json_body={"title": "Plan sprint"}, token=token).json()
    v1 = TaskModel.get(*_key(created)).serialize()
    client.patch(f"/tasks/{created['id']}", json_body={"version": 1, "title": "Plan the sprint"}, token=token)
    v2 = TaskModel.get(*_key(created)).serialize()
    client.patch(f"/tasks/{created['id']}", json_body={"version": 2, "status": "done"}, token=token)
    v3 = TaskModel.get(*_key(created)).serialize()
    client.delete(f"/tasks/{created['id']}", token=token)
    images = [_plain(v) for v in (v1, v2, v3)]
    changes: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]] = [
        ("INSERT", images[0], None),
        ("MODIFY", images[1], images[0]),
        ("MODIFY", images[2], images[1]),
        ("REMOVE", None, images[2]),
    ]
    _publish(_stream_event_from_table_changes(changes))
    assert _notify(rmq_event(publisher.published))["recorded"] == 4

    first = client.get("/activity", token=token, query={"limit": "3"})
    assert first.status_code == 200, first.body
    page = first.json()
    assert [item["type"] for item in page["items"]] == ["task.deleted", "task.completed", "task.updated"]
    second = client.get("/activity", token=token, query={"limit": "3", "nextToken": page["nextToken"]}).json()
    assert [item["type"] for item in second["items"]] == ["task.created"]
    assert second["items"][0]["message"] == 'Task "Plan sprint" was created'
    assert client.get("/activity", token=other).json()["items"] == []
    forged = client.get("/activity", token=other, query={"nextToken": page["nextToken"]})
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "INVALID_CURSOR"


def _key(task: dict[str, Any]) -> tuple[str, str]:
    from taskapp.data.tasks import TaskModel

    item = next(iter(TaskModel.scan(TaskModel.task_id == task["id"])))
    return item.owner_id, item.task_id


def _plain(serialized: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {key: deserializer.deserialize(value) for key, value in serialized.items()}


def test_activity_requires_a_token(client: ApiClient) -> None:
    assert client.get("/activity").status_code == 401


def test_health_reports_kafka_and_rabbitmq(client: ApiClient) -> None:
    body = client.get("/health").json()
    assert {"dynamodb", "redis", "kafka", "rabbitmq"} <= set(body["dependencies"])


def test_unreachable_brokers_are_reported_down_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Port 9 (discard) is closed on test machines: both checks must answer 'down', not hang the health call."""
    from taskapp import settings
    from taskapp.domain import health

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9")
    monkeypatch.setenv("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:9/%2F")
    monkeypatch.setenv("BROKER_TIMEOUT_SECONDS", "1")
    settings.clear_cache()
    try:
        kafka, rabbitmq = health.check_kafka(), health.check_rabbitmq()
    finally:
        settings.clear_cache()
    assert (kafka.status, kafka.error) == ("down", "KafkaUnavailable")
    assert rabbitmq.status == "down"
