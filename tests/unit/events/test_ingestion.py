"""POST /tasks/ingest and the Kafka ingestion function, over the sample events and the records the API produced."""

from __future__ import annotations

import json
from typing import Any

import pytest

from taskapp.data.tasks import TaskModel
from taskapp.messaging.dead_letter import DeadLetter
from taskapp.schemas.ingest import IngestedTaskMessage
from tests.support.api_client import ApiClient, load_template
from tests.support.lambda_events import FakeLambdaContext, load_function, sample_event
from tests.unit.events.conftest import FakeKafka

OWNER = "user-sample-1"


def _ingest(event: dict[str, Any]) -> dict[str, Any]:
    return load_function("task_ingestion").handler(event, FakeLambdaContext("task-ingestion"))


def _api(name: str) -> dict[str, Any]:
    result = load_function("ingest_tasks").handler(sample_event("ingest_tasks", name), FakeLambdaContext())
    return {"status": result["statusCode"], "body": json.loads(result["body"])}


def _stored(owner: str = OWNER) -> dict[str, TaskModel]:
    return {task.task_id: task for task in TaskModel.query(owner)}


def _token(client: ApiClient) -> str:
    client.post("/auth/register", json_body={"name": "Ann", "email": "ann@example.com", "password": "s3cret-pass"})
    login = client.post("/auth/login", json_body={"email": "ann@example.com", "password": "s3cret-pass"})
    return str(login.json()["accessToken"])


def test_ingest_sample_is_accepted_and_produced_keyed_by_task_id(client: ApiClient, fake_kafka: FakeKafka) -> None:
    response = _api("accepted")
    assert response["status"] == 202, response
    ids = response["body"]["ids"]
    assert ids[0] == "sample-task-1" and len(ids) == 2 and ids[1]
    assert response["body"]["topic"] == "task.ingested"
    produced = fake_kafka.on("task.ingested")
    assert [(record.key or b"").decode() for record in produced] == ids
    message = IngestedTaskMessage.model_validate_json(produced[0].value or b"")
    assert message.owner_id == OWNER and message.task.title == "Write the quarterly report"
    assert message.task.due_date == "2026-12-15" and message.created_at is not None


def test_ingest_invalid_sample_is_a_400_listing_each_bad_field(client: ApiClient, fake_kafka: FakeKafka) -> None:
    response = _api("invalid")
    assert response["status"] == 400
    fields = {detail["field"] for detail in response["body"]["error"]["details"]}
    assert {"tasks.0.title", "tasks.1.status"} <= fields
    assert fake_kafka.produced == []


@pytest.mark.parametrize(
    "body",
    [
        {"tasks": []},
        {"tasks": [{"title": f"t{i}"} for i in range(501)]},
        {"tasks": [{"id": "same", "title": "a"}, {"id": "same", "title": "b"}]},
        {"tasks": [{"id": "has space", "title": "a"}]},
        {"tasks": [{"title": "a", "ownerId": "someone-else"}]},
    ],
)
def test_ingest_rejects_bad_requests(client: ApiClient, fake_kafka: FakeKafka, body: dict[str, Any]) -> None:
    response = client.post("/tasks/ingest", json_body=body, token=_token(client))
    assert response.status_code == 400, response.body
    assert fake_kafka.produced == []


def test_ingest_accepts_500_tasks_beyond_the_default_body_limit(client: ApiClient, fake_kafka: FakeKafka) -> None:
    functions = load_template()["Resources"]
    limit = int(functions["IngestTasksFunction"]["Properties"]["Environment"]["Variables"]["MAX_BODY_BYTES"])
    tasks = [{"title": f"task {i}", "description": "x" * 500} for i in range(500)]
    assert 16 * 1024 < len(json.dumps({"tasks": tasks})) < limit
    token = _token(client)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAX_BODY_BYTES", str(limit))
        from taskapp import settings

        settings.clear_cache()
        try:
            response = client.post("/tasks/ingest", json_body={"tasks": tasks}, token=token)
        finally:
            patch.undo()
            settings.clear_cache()
    assert response.status_code == 202, response.body[:300]
    assert len(response.json()["ids"]) == 500 == len(fake_kafka.produced)


def test_ingest_answers_503_when_kafka_is_down(client: ApiClient, fake_kafka: FakeKafka) -> None:
    fake_kafka.down = True
    response = client.post("/tasks/ingest", json_body={"tasks": [{"title": "a"}]}, token=_token(client))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "INGEST_UNAVAILABLE"


def test_batch_with_bad_records_stores_the_good_and_dead_letters_the_bad(aws: None, fake_kafka: FakeKafka) -> None:
    result = _ingest(sample_event("task_ingestion", "batch-with-bad-record"))
    assert result == {"batchItemFailures": []}
    stored = _stored()
    assert set(stored) == {"ingested-task-1", "ingested-task-2"}
    assert stored["ingested-task-1"].priority == "high" and stored["ingested-task-2"].tags == {"security"}
    dead = fake_kafka.on("task.ingested.dlq")
    letters = [DeadLetter.decode(record.key, record.value, record.headers) for record in dead]
    reasons = {letter.source.offset: letter.reason for letter in letters if letter.source}
    assert reasons == {7: "MALFORMED_JSON", 8: "VALIDATION_ERROR", 9: "KEY_MISMATCH"}
    assert all(dict(record.headers)["dlq-reason"] for record in dead)
    assert dict(dead[0].headers)["dlq-source"] == b"task.ingested-1@7"


def test_redelivered_batch_creates_no_second_task_and_keeps_later_updates(aws: None, fake_kafka: FakeKafka) -> None:
    event = sample_event("task_ingestion", "batch-with-bad-record")
    _ingest(event)
    task = _stored()["ingested-task-1"]
    task.update(actions=[TaskModel.title.set("renamed by the owner"), TaskModel.version.set(2)])
    assert _ingest(event) == {"batchItemFailures": []}
    stored = _stored()
    assert len(stored) == 2
    assert stored["ingested-task-1"].title == "renamed by the owner"


def test_storage_failure_reports_every_valid_record_for_retry(
    aws: None, fake_kafka: FakeKafka, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskapp.data import StorageUnavailable
    from taskapp.data import tasks as store
    from taskapp.domain.records.tasks import Task

    def failing_put(tasks: list[Task]) -> None:
        raise StorageUnavailable("Failed to batch write items: max_retry_attempts exceeded")

    monkeypatch.setattr(store, "put_tasks", failing_put)
    result = _ingest(sample_event("task_ingestion", "batch-with-bad-record"))
    assert result["batchItemFailures"] == [
        {"itemIdentifier": {"partition": "task.ingested-0", "offset": 10}},
        {"itemIdentifier": {"partition": "task.ingested-0", "offset": 11}},
    ]
    assert len(fake_kafka.on("task.ingested.dlq")) == 3  # the bad records are parked regardless


def test_unreachable_dead_letter_topic_retries_the_bad_records_but_stores_the_good(
    aws: None, fake_kafka: FakeKafka
) -> None:
    fake_kafka.down = True
    result = _ingest(sample_event("task_ingestion", "batch-with-bad-record"))
    failed = {(f["itemIdentifier"]["partition"], f["itemIdentifier"]["offset"]) for f in result["batchItemFailures"]}
    assert failed == {("task.ingested-1", 7), ("task.ingested-1", 8), ("task.ingested-1", 9)}
    assert set(_stored()) == {"ingested-task-1", "ingested-task-2"}


def test_tasks_ingested_through_the_api_are_listed_once_stored(client: ApiClient, fake_kafka: FakeKafka) -> None:
    token = _token(client)
    tasks = [{"title": f"bulk {i}", "tags": ["bulk"]} for i in range(120)]
    accepted = client.post("/tasks/ingest", json_body={"tasks": tasks}, token=token)
    assert accepted.status_code == 202, accepted.body
    event = fake_kafka.as_kafka_event("task.ingested")
    assert _ingest(event) == {"batchItemFailures": []}
    assert _ingest(event) == {"batchItemFailures": []}  # at-least-once delivery: a replay is harmless
    listed: list[str] = []
    token_param: dict[str, str] = {"limit": "100"}
    while True:
        page = client.get("/tasks", token=token, query=token_param).json()
        listed += [item["id"] for item in page["items"]]
        if not page["nextToken"]:
            break
        token_param = {"limit": "100", "nextToken": page["nextToken"]}
    assert sorted(listed) == sorted(accepted.json()["ids"])
