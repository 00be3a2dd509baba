"""Shared pieces of the event-source bridge's integration tests: the fixture stack, a bridge child process, and
small Kafka / RabbitMQ / DynamoDB helpers. Fixtures live in tests/integration/bridge/conftest.py."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pika
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from tests.support.servers import KAFKA, RABBITMQ_URL, ROOT
from tests.support.waiting import wait_until

FIXTURE_TEMPLATE = ROOT / "tests" / "integration" / "bridge" / "fixture_stack" / "template.yaml"

for _name, _value in {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
    "SAM_CLI_TELEMETRY": "0",
}.items():
    os.environ.setdefault(_name, _value)


@dataclass(frozen=True)
class FixtureStack:
    run_id: str
    stack_name: str
    topic: str
    dlq_topic: str
    group_id: str
    queue: str
    rabbit_dlq: str
    table_name: str

    @property
    def table(self) -> Any:
        return boto3.resource("dynamodb").Table(self.table_name)

    def item(self, pk: str) -> dict[str, Any] | None:
        return self.table.get_item(Key={"pk": pk}, ConsistentRead=True).get("Item")

    def items(self, prefix: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = self.table.scan(ConsistentRead=True, **kwargs)
            found += [i for i in page["Items"] if i["pk"].startswith(prefix)]
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(item["event"]) for item in self.items("event#")]


class BridgeProcess:
    """`python -m infra.bridge` for the fixture stack, as a child process the test can stop or kill."""

    def __init__(self, stack: FixtureStack, log_dir: Path, **env: str) -> None:
        self.stack = stack
        self.ready_file = log_dir / f"bridge-{secrets.token_hex(3)}.ready"
        self.log_path = log_dir / f"{self.ready_file.stem}.log"
        self.env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": KAFKA,
            "RABBITMQ_URL": RABBITMQ_URL,
            "BRIDGE_MAX_RETRIES": "2",
            "BRIDGE_BACKOFF_BASE_SECONDS": "0.2",
            "BRIDGE_BACKOFF_MAX_SECONDS": "1",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.ready_seconds: float | None = None

    def start(self) -> BridgeProcess:
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "infra.bridge",
                    "--stack-name",
                    self.stack.stack_name,
                    "--template",
                    str(FIXTURE_TEMPLATE),
                    "--ready-file",
                    str(self.ready_file),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 90
        while not self.ready_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"the bridge did not become ready; log:\n{self.log()[-4000:]}")
            time.sleep(0.1)
        self.ready_seconds = time.monotonic() - started
        return self

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def batches(self) -> list[dict[str, Any]]:
        lines = (json.loads(line) for line in self.log().splitlines() if line.startswith("{"))
        return [line for line in lines if line.get("message") == "batch"]


def committed_offsets(group_id: str, topic: str) -> dict[int, int]:
    admin = KafkaAdminClient(bootstrap_servers=KAFKA)
    try:
        offsets = admin.list_group_offsets(group_id).get(group_id, {})
    finally:
        admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset >= 0}


def end_offsets(topic: str, partitions: int = 3) -> dict[int, int]:
    consumer = KafkaConsumer(bootstrap_servers=KAFKA, enable_auto_commit=False)
    try:
        ends = consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
    finally:
        consumer.close()
    return {tp.partition: offset for tp, offset in ends.items()}


def read_topic(topic: str, partitions: int = 1, timeout: float = 3.0) -> list[Any]:
    """Every record currently in the topic (no consumer group, from the beginning)."""
    consumer = KafkaConsumer(bootstrap_servers=KAFKA, enable_auto_commit=False, consumer_timeout_ms=int(timeout * 1000))
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        consumer.seek_to_beginning()
        return list(consumer)
    finally:
        consumer.close()


# --- RabbitMQ helpers -----------------------------------------------------------------------------------------


def declare_queue_with_dlx(stack: FixtureStack) -> None:
    """What the application does for its queues: durable queue whose rejected messages go to `<queue>.dlq`."""
    with pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL)) as connection:
        channel = connection.channel()
        channel.exchange_declare(f"{stack.queue}.dlx", "fanout", durable=True)
        channel.queue_declare(stack.rabbit_dlq, durable=True)
        channel.queue_bind(stack.rabbit_dlq, f"{stack.queue}.dlx")
        channel.queue_declare(stack.queue, durable=True, arguments={"x-dead-letter-exchange": f"{stack.queue}.dlx"})


def queue_depth(queue: str) -> int:
    with pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL)) as connection:
        return int(connection.channel().queue_declare(queue, passive=True).method.message_count)


def wait_until_committed_to_end(stack: FixtureStack, timeout: float, what: str) -> None:
    """The group's committed offset of every non-empty partition reaches the partition's end."""
    seen: dict[str, dict[int, int]] = {}

    def caught_up() -> bool:
        ends = {p: end for p, end in end_offsets(stack.topic).items() if end > 0}
        committed = committed_offsets(stack.group_id, stack.topic)
        seen.update(ends=ends, committed=committed)
        return all(committed.get(p, 0) >= end for p, end in ends.items())

    try:
        wait_until(what, lambda: caught_up() or None, timeout=timeout, interval=0.25)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last seen {seen}") from None
