"""Flow 1 with the real brokers: records on task.ingested -> bridge -> TaskIngestionFunction -> DynamoDB."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from taskapp.messaging.dead_letter import DeadLetter
from tests.integration.events.conftest import KAFKA, RABBITMQ_URL, Stack
from tests.support.private_servers import process_dead
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[3]
TOPIC, DLQ = "task.ingested", "task.ingested.dlq"


def _message(task_id: str, owner_id: str, title: str) -> bytes:
    body = {"schemaVersion": 1, "id": task_id, "ownerId": owner_id, "createdAt": datetime.now(UTC).isoformat()}
    body["task"] = {"title": title, "tags": ["kafka"]}
    return json.dumps(body).encode()


def _produce(producer: KafkaProducer, records: list[tuple[bytes, bytes]]) -> None:
    futures = [producer.send(TOPIC, key=key, value=value) for key, value in records]
    producer.flush()
    for future in futures:
        future.get(timeout=10)


def _bridge(action: str, stack: Stack) -> None:
    # A restarted bridge must reach the stack's own brokers (private ones under infra/test-all.sh).
    env = {**os.environ, "STACK_NAME": stack.name, "KAFKA_BOOTSTRAP_SERVERS": KAFKA, "RABBITMQ_URL": RABBITMQ_URL}
    result = subprocess.run(
        [str(ROOT / "infra" / "bridge.sh"), action], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"bridge.sh {action} failed:\n{result.stdout}\n{result.stderr}"


def _kill_bridge(stack: Stack) -> None:
    """SIGKILL, not a clean stop: nothing is committed or acked on the way out.

    A crashed process leaves a stale pid file; once the process is gone (or a zombie nobody reaped yet, which
    `kill -0` would still report alive) the file is removed, as an operator would after a crash.
    """
    pid_file = ROOT / ".local" / "pids" / f"bridge-{stack.name}.pid"
    assert pid_file.exists(), f"no bridge runs for {stack.name} ({pid_file} missing)"
    pid = int(pid_file.read_text().strip())
    os.kill(pid, signal.SIGKILL)
    wait_until(f"bridge pid {pid} to die", lambda: process_dead(pid), timeout=30, interval=0.1)
    pid_file.unlink()


def test_thousand_tasks_land_exactly_once_even_when_the_bridge_is_killed_midway(
    stack: Stack, kafka_producer: KafkaProducer
) -> None:
    owner = f"kafka-it-{uuid.uuid4().hex[:10]}"
    records = [(f"{owner}-{n:04d}".encode(), _message(f"{owner}-{n:04d}", owner, f"bulk {n}")) for n in range(1000)]
    _produce(kafka_producer, records[:600])
    wait_until("the first ingested tasks", lambda: stack.count("TasksTableName", owner) > 0, timeout=120, interval=0.2)
    try:
        _kill_bridge(stack)
        stored_at_kill = stack.count("TasksTableName", owner)
        _produce(kafka_producer, records[600:])
    finally:
        _bridge("start", stack)
    wait_until("all 1,000 tasks stored", lambda: stack.count("TasksTableName", owner) == 1000, timeout=300)
    print(f"tasks stored when the bridge was killed: {stored_at_kill}/1000")
    ids = sorted(item["taskId"] for item in stack.items("TasksTableName", owner))
    assert ids == sorted(key.decode() for key, _ in records)
    # Each task also produced exactly one task.created activity entry (redeliveries are deduped by event id).
    wait_until("1,000 activity entries", lambda: stack.count("ActivityTableName", owner) >= 1000, timeout=300)
    entries = stack.items("ActivityTableName", owner)
    assert len(entries) == 1000
    assert {entry["eventId"] for entry in entries} == {f"{task_id}:1:task.created" for task_id in ids}


def _dlq_end() -> int:
    consumer = KafkaConsumer(bootstrap_servers=KAFKA.split(","), enable_auto_commit=False)
    try:
        partition = TopicPartition(DLQ, 0)
        return int(consumer.end_offsets([partition])[partition])
    finally:
        consumer.close()


def _dead_letters_since(offset: int, keys: set[bytes]) -> dict[bytes, Any]:
    consumer = KafkaConsumer(bootstrap_servers=KAFKA.split(","), enable_auto_commit=False, consumer_timeout_ms=2000)
    partition = TopicPartition(DLQ, 0)
    consumer.assign([partition])
    consumer.seek(partition, offset)
    try:
        return {record.key: record for record in consumer if record.key in keys}
    finally:
        consumer.close()


def test_poison_records_are_dead_lettered_with_a_reason_and_the_rest_stored(
    stack: Stack, kafka_producer: KafkaProducer
) -> None:
    owner = f"poison-it-{uuid.uuid4().hex[:10]}"
    start = _dlq_end()
    good = [(f"{owner}-ok-{n}".encode(), _message(f"{owner}-ok-{n}", owner, f"fine {n}")) for n in range(5)]
    bad = [
        (f"{owner}-json".encode(), b'{"schemaVersion": 1, "id": '),
        (f"{owner}-invalid".encode(), _message(f"{owner}-invalid", owner, "")),
        (f"{owner}-mismatch".encode(), _message(f"{owner}-other", owner, "key differs")),
    ]
    _produce(kafka_producer, [good[0], bad[0], good[1], bad[1], good[2], bad[2], good[3], good[4]])
    wait_until("the 5 valid tasks", lambda: stack.count("TasksTableName", owner) == 5, timeout=120)
    keys = {key for key, _ in bad}

    def all_three() -> dict[bytes, Any] | None:
        found = _dead_letters_since(start, keys)
        return found if len(found) == 3 else None

    letters = wait_until("3 dead letters", all_three, timeout=60)
    reasons = {key: dict(record.headers)["dlq-reason"].decode() for key, record in letters.items()}
    assert reasons == {
        f"{owner}-json".encode(): "MALFORMED_JSON",
        f"{owner}-invalid".encode(): "VALIDATION_ERROR",
        f"{owner}-mismatch".encode(): "KEY_MISMATCH",
    }
    invalid = letters[f"{owner}-invalid".encode()]
    body = DeadLetter.decode(invalid.key, invalid.value, invalid.headers)
    assert body.reason == "VALIDATION_ERROR" and json.loads(body.value or b"")["ownerId"] == owner
    assert stack.count("TasksTableName", owner) == 5
