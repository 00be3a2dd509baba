"""The bridge against real Tansu and MiniStack: AWS-shaped delivery, commits after success, restarts, DLQ."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

import pytest
from kafka import KafkaProducer

from tests.support.bridge_harness import (
    FixtureStack,
    committed_offsets,
    end_offsets,
    read_topic,
    wait_until_committed_to_end,
)
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def produce(producer: KafkaProducer, stack: FixtureStack, bodies: list[dict[str, Any]], **kwargs: Any) -> None:
    for body in bodies:
        producer.send(
            stack.topic,
            key=body["id"].encode(),
            value=json.dumps(body).encode(),
            headers=[("trace", body["id"].encode())],
            **kwargs,
        )
    producer.flush()


def delivered_ids(stack: FixtureStack) -> set[str]:
    return {item["pk"].removeprefix("delivered#") for item in stack.items("delivered#")}


def test_records_arrive_in_aws_shape_and_offsets_are_committed(fixture_stack, producer, start_bridge):
    bridge = start_bridge()
    ids = [f"shape-{secrets.token_hex(3)}-{n}" for n in range(30)]
    produce(producer, fixture_stack, [{"id": i, "mode": "ok"} for i in ids])

    wait_until(
        "all 30 records to be delivered", lambda: set(ids) <= delivered_ids(fixture_stack), timeout=60, interval=0.25
    )
    wait_until_committed_to_end(fixture_stack, 30, "the group's committed offsets to reach the end of every partition")

    events = [e for e in fixture_stack.events() if e.get("eventSource") == "SelfManagedKafka"]
    assert events, "the function recorded no Kafka event"
    event = events[0]
    assert event["bootstrapServers"] == "127.0.0.1:9092"
    for key, records in event["records"].items():
        topic, partition = key.rsplit("-", 1)
        assert topic == fixture_stack.topic
        offsets = [r["offset"] for r in records]
        assert offsets == sorted(offsets)
        for record in records:
            assert record["partition"] == int(partition)
            assert record["topic"] == fixture_stack.topic
            assert record["timestampType"] == "CREATE_TIME"
            assert isinstance(record["timestamp"], int)
            body = json.loads(base64.b64decode(record["value"]))
            assert base64.b64decode(record["key"]).decode() == body["id"]
            assert record["headers"] == [{"trace": list(body["id"].encode())}]
    assert all(len(records) <= 20 for e in events for records in e["records"].values())  # BatchSize: 20
    assert any(b["result"] == "delivered" for b in bridge.batches())


def test_nothing_is_committed_while_the_function_fails_and_a_stopped_bridge_leaves_the_batch(
    fixture_stack, producer, start_bridge
):
    before = committed_offsets(fixture_stack.group_id, fixture_stack.topic).get(0, 0)
    poison = f"hold-{secrets.token_hex(3)}"
    # A long backoff keeps the bridge between retries while the test looks at the committed offsets.
    bridge = start_bridge(BRIDGE_BACKOFF_BASE_SECONDS="120", BRIDGE_BACKOFF_MAX_SECONDS="120")
    produce(producer, fixture_stack, [{"id": poison, "mode": "fail"}], partition=0)
    poison_offset = end_offsets(fixture_stack.topic)[0] - 1
    assert poison_offset >= before

    wait_until(
        "the first (failing) attempt", lambda: fixture_stack.item(f"attempt#{poison}"), timeout=60, interval=0.25
    )
    assert committed_offsets(fixture_stack.group_id, fixture_stack.topic).get(0, 0) <= poison_offset
    assert bridge.stop() == 0
    assert any(b["result"] == "abandoned-on-stop" for b in bridge.batches())
    assert committed_offsets(fixture_stack.group_id, fixture_stack.topic).get(0, 0) <= poison_offset

    # A new bridge picks the same record up again, retries it and dead-letters it (next test checks the DLQ).
    start_bridge()
    wait_until(
        "the poison record to be dead-lettered and committed",
        lambda: committed_offsets(fixture_stack.group_id, fixture_stack.topic).get(0, 0) > poison_offset,
        timeout=90,
        interval=0.25,
    )
    attempts = int(fixture_stack.item(f"attempt#{poison}")["attempts"])
    assert attempts == 1 + 3  # one before the stop, then the first attempt + 2 retries


def test_failing_function_is_retried_then_its_records_go_to_the_dlq_topic(fixture_stack, producer, start_bridge):
    bridge = start_bridge()
    poison = f"poison-{secrets.token_hex(3)}"
    produce(producer, fixture_stack, [{"id": poison, "mode": "fail"}], partition=1)

    def dead_letter() -> Any:
        return next((r for r in read_topic(fixture_stack.dlq_topic) if r.key == poison.encode()), None)

    record = wait_until("the poison record in the DLQ topic", dead_letter, timeout=60, interval=0.25)
    headers = {name: value.decode() for name, value in record.headers}
    assert json.loads(record.value) == {"id": poison, "mode": "fail"}
    assert "recorder asked to fail" in headers["dlq-reason"]
    assert headers["dlq-attempts"] == "3"
    assert headers["dlq-source"].startswith(f"{fixture_stack.topic}-1@")
    assert headers["dlq-function"].startswith(f"{fixture_stack.stack_name}-KafkaRecorderFunction")
    assert headers["trace"] == poison  # the original headers travel with the record
    assert int(fixture_stack.item(f"attempt#{poison}")["attempts"]) == 3
    wait_until_committed_to_end(fixture_stack, 30, "offsets committed past the dead-lettered record")
    assert any(b["result"] == "dead-lettered" for b in bridge.batches())


def test_partial_batch_failure_retries_only_from_the_failed_record(fixture_stack, producer, start_bridge):
    start_bridge()
    tag = secrets.token_hex(3)
    bodies = [{"id": f"part-{tag}-{n}", "mode": "ok"} for n in range(5)]
    bodies.insert(2, {"id": f"part-{tag}-bad", "mode": "partial"})
    produce(producer, fixture_stack, bodies, partition=2)

    def dead_letter() -> Any:
        return next((r for r in read_topic(fixture_stack.dlq_topic) if r.key == f"part-{tag}-bad".encode()), None)

    record = wait_until("the partially failed record in the DLQ topic", dead_letter, timeout=60, interval=0.25)
    assert "batchItemFailures" in dict(record.headers)["dlq-reason"].decode()
    ok_ids = {b["id"] for b in bodies if b["mode"] == "ok"}
    wait_until(
        "every good record of the batch", lambda: ok_ids <= delivered_ids(fixture_stack), timeout=30, interval=0.25
    )
    deliveries = {i: int(fixture_stack.item(f"delivered#{i}")["deliveries"]) for i in ok_ids}
    # Records before the failed one were done after the first invoke; those after it were sent again with it.
    assert deliveries[f"part-{tag}-0"] == deliveries[f"part-{tag}-1"] == 1
    assert deliveries[f"part-{tag}-2"] == deliveries[f"part-{tag}-3"] == 3
    dead = [r for r in read_topic(fixture_stack.dlq_topic) if r.key and r.key.decode().startswith(f"part-{tag}")]
    assert [r.key.decode() for r in dead] == [f"part-{tag}-bad"]


def test_bridge_killed_midway_loses_nothing(fixture_stack, producer, start_bridge):
    tag = secrets.token_hex(3)
    ids = [f"kill-{tag}-{n}" for n in range(300)]
    first = start_bridge()
    # 20 ms per record: ~0.4 s per batch of 20, so the stream is still flowing when the bridge is killed.
    produce(producer, fixture_stack, [{"id": i, "mode": "ok", "sleep": 0.02} for i in ids])
    wait_until(
        "the first batches", lambda: len(set(ids) & delivered_ids(fixture_stack)) >= 40, timeout=60, interval=0.25
    )
    first.kill()  # SIGKILL: no clean shutdown, no leaving the group
    assert len(set(ids) & delivered_ids(fixture_stack)) < len(ids), "the stream finished before the kill"

    second = start_bridge()
    wait_until(
        "every record after the restart", lambda: set(ids) <= delivered_ids(fixture_stack), timeout=120, interval=0.25
    )
    print(f"bridge ready after a SIGKILL restart in {second.ready_seconds:.1f}s")
    wait_until_committed_to_end(fixture_stack, 30, "offsets committed to the end after the restart")
