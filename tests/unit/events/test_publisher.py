"""EventPublisher: persistent, confirmed, mandatory publishes; one fresh retry after a stale connection."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pika.exceptions import AMQPConnectionError, StreamLostError

from taskapp.messaging import rabbitmq
from taskapp.messaging.rabbitmq import EventPublisher, RabbitMqUnavailable
from taskapp.schemas.events import TaskEvent, TaskEventType


class FakeChannel:
    def __init__(self, broker: FakeBroker) -> None:
        self.broker = broker
        self.is_open = True
        self.confirming = False

    def exchange_declare(self, name: str, **kwargs: Any) -> None:
        self.broker.declared.append(("exchange", name, kwargs))

    def queue_declare(self, name: str, **kwargs: Any) -> None:
        self.broker.declared.append(("queue", name, kwargs))

    def queue_bind(self, queue: str, exchange: str, routing_key: str | None = None) -> None:
        self.broker.declared.append(("bind", queue, {"exchange": exchange, "routing_key": routing_key}))

    def confirm_delivery(self) -> None:
        self.confirming = True

    def basic_publish(self, exchange: str, routing_key: str, body: bytes, properties: Any, mandatory: bool) -> None:
        if self.broker.drop_next:
            self.broker.drop_next = False
            self.is_open = False
            raise StreamLostError("connection reset")
        assert self.confirming and mandatory
        self.broker.published.append((exchange, routing_key, body, properties))


class FakeConnection:
    def __init__(self, broker: FakeBroker) -> None:
        self.broker = broker
        self.is_open = True

    def channel(self) -> FakeChannel:
        return FakeChannel(self.broker)

    def close(self) -> None:
        self.is_open = False


class FakeBroker:
    def __init__(self) -> None:
        self.up = True
        self.drop_next = False
        self.connections = 0
        self.declared: list[tuple[str, str, dict[str, Any]]] = []
        self.published: list[tuple[str, str, bytes, Any]] = []

    def connect(self) -> FakeConnection:
        if not self.up:
            raise AMQPConnectionError("refused")
        self.connections += 1
        return FakeConnection(self)


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> FakeBroker:
    fake = FakeBroker()
    monkeypatch.setattr(rabbitmq, "connect", fake.connect)
    return fake


EVENT = TaskEvent(
    event_id="t-1:1:task.created",
    type=TaskEventType.CREATED,
    occurred_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    owner_id="owner-1",
    task_id="t-1",
    title="Write it",
    version=1,
)


def test_publish_is_persistent_and_declares_the_dead_lettered_quorum_queue(broker: FakeBroker) -> None:
    EventPublisher().publish(EVENT)
    exchange, routing_key, body, properties = broker.published[0]
    assert (exchange, routing_key) == ("task.events", "task.created")
    assert properties.delivery_mode == 2 and properties.message_id == "t-1:1:task.created"
    assert TaskEvent.model_validate_json(body) == EVENT
    queue = next(kwargs for kind, name, kwargs in broker.declared if kind == "queue" and name == "task.notifications")
    assert queue["durable"] and queue["arguments"]["x-queue-type"] == "quorum"
    assert queue["arguments"]["x-dead-letter-exchange"] == "task.notifications.dlx"
    assert queue["arguments"]["x-delivery-limit"] == 5


def test_a_connection_that_died_between_invocations_is_replaced_once(broker: FakeBroker) -> None:
    publisher = EventPublisher()
    publisher.publish(EVENT)
    broker.drop_next = True  # e.g. RabbitMQ restarted while the function was idle
    publisher.publish(EVENT)
    assert len(broker.published) == 2 and broker.connections == 2


def test_broker_down_raises_so_the_stream_batch_is_retried(broker: FakeBroker) -> None:
    broker.up = False
    with pytest.raises(RabbitMqUnavailable):
        EventPublisher().publish(EVENT)
    assert broker.published == []
