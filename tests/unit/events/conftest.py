"""Fakes for the brokers: a Kafka producer that records (or refuses) records, a RabbitMQ publisher likewise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from infra.bridge.events import KafkaRecord, kafka_event
from taskapp.messaging.kafka import KafkaUnavailable, OutgoingRecord
from taskapp.messaging.rabbitmq import RabbitMqUnavailable
from taskapp.schemas.events import TaskEvent


@dataclass
class FakeKafka:
    produced: list[OutgoingRecord] = field(default_factory=list)
    down: bool = False

    def produce_all(self, records: Any) -> int:
        batch = list(records)
        if self.down:
            raise KafkaUnavailable("broker down (fake)")
        self.produced.extend(batch)
        return len(batch)

    def on(self, topic: str) -> list[OutgoingRecord]:
        return [record for record in self.produced if record.topic == topic]

    def as_kafka_event(self, topic: str, partitions: int = 3) -> dict[str, Any]:
        """The AWS SelfManagedKafka event the bridge would build from what was produced to `topic`."""
        consumed = [
            KafkaRecord(
                topic, hash(record.key) % partitions, offset, 1795424400000, 0, record.key, record.value, record.headers
            )
            for offset, record in enumerate(self.on(topic))
        ]
        return kafka_event(consumed, "fake:9092")


@pytest.fixture
def fake_kafka(monkeypatch: pytest.MonkeyPatch) -> FakeKafka:
    from taskapp.domain import ingest_accept, ingestion

    fake = FakeKafka()
    monkeypatch.setattr(ingest_accept, "produce_all", fake.produce_all)  # POST /tasks/ingest
    monkeypatch.setattr(ingestion, "produce_all", fake.produce_all)  # the consumer's dead-letter topic
    return fake


@dataclass
class FakePublisher:
    published: list[TaskEvent] = field(default_factory=list)
    fail_after: int | None = None

    def publish(self, event: TaskEvent) -> None:
        if self.fail_after is not None and len(self.published) >= self.fail_after:
            raise RabbitMqUnavailable("broker down (fake)")
        self.published.append(event)
