"""Issue 15 defect 4 against the real RabbitMQ: a message carrying every AMQP field type is delivered as valid
JSON (floats as floats: pika alone truncates them), and the poller keeps serving the messages after it.

NaN and infinite doubles never reach a consumer: RabbitMQ (Erlang has no such floats) closes the publisher's
connection with 541 INTERNAL_ERROR. The test shows that too; their conversion is unit-tested
(tests/unit/bridge/test_bridge_rabbit_headers.py) for brokers or clients that let them through.

The poller runs in-process with a recording invoker that encodes each event exactly as the Lambda invoker does,
so no stack is needed: what is under test is pika's decoding of a real frame and the event built from it.
"""

from __future__ import annotations

import json
import math
import secrets
import struct
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pika
import pika.data
import pytest

from infra.bridge.delivery import InvokeOutcome
from infra.bridge.events import encode_event
from infra.bridge.rabbit_poller import RabbitPoller
from infra.bridge.settings import BridgeSettings
from infra.bridge.template import RabbitSource
from tests.support import servers
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

rabbitmq = servers.rabbitmq  # held here as well, so this file also runs alone (`--noconftest`: no stack needed)

WHEN = datetime(2025, 11, 23, 9, 0, tzinfo=UTC)
EVERY_TYPE: dict[str, Any] = {
    "text": "é!",
    "binary": b"\xff\x00",
    "flag": True,
    "small": 7,
    "big": 2**40,
    "double": 0.1,
    "decimal": Decimal("123.45"),
    "timestamp": WHEN,
    "void": None,
    "table": {"inner": "deep", "n": -7},
    "array": ["a", False, None, 2.25],
}
EXPECTED_JSON = {
    "text": {"bytes": list("é!".encode())},
    "binary": {"bytes": [255, 0]},
    "flag": True,
    "small": 7,
    "big": 2**40,
    "double": 0.1,
    "decimal": 123.45,
    "timestamp": "Nov 23, 2025, 9:00:00 AM",
    "void": None,
    "table": {"inner": {"bytes": list(b"deep")}, "n": -7},
    "array": [{"bytes": [97]}, False, None, 2.25],
}


@pytest.fixture
def float_headers_publishable(monkeypatch: pytest.MonkeyPatch) -> None:
    """pika cannot encode float headers; other clients (the Java one behind many producers) send them as `d`."""
    encode = pika.data.encode_value

    def encode_value(pieces: list[bytes], value: Any) -> int:
        if isinstance(value, float):
            pieces.append(b"d" + struct.pack(">d", value))
            return 9
        return int(encode(pieces, value))

    monkeypatch.setattr(pika.data, "encode_value", encode_value)


@pytest.fixture
def queue(rabbitmq: str) -> Iterator[str]:
    name = f"bridge-headers.{secrets.token_hex(4)}"
    with pika.BlockingConnection(pika.URLParameters(rabbitmq)) as connection:
        connection.channel().queue_declare(name, durable=False, auto_delete=False)
    yield name
    with pika.BlockingConnection(pika.URLParameters(rabbitmq)) as connection:
        connection.channel().queue_delete(name)


def publish(url: str, queue: str, message_id: str, headers: dict[str, Any]) -> None:
    with pika.BlockingConnection(pika.URLParameters(url)) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            "", queue, b"{}", pika.BasicProperties(message_id=message_id, headers=headers), mandatory=True
        )


class RecordingInvoker:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, function_name: str, event: Mapping[str, Any]) -> InvokeOutcome:
        sent = json.loads(encode_event(event))  # the bytes the Lambda invoker would send
        with self._lock:
            self.messages += [m for batch in sent["rmqMessagesByQueue"].values() for m in batch]
        return InvokeOutcome(payload=None)

    def ids(self) -> list[str]:
        with self._lock:
            return [m["basicProperties"]["messageId"] for m in self.messages]


def test_a_message_with_every_field_type_is_delivered_and_the_poller_survives(
    rabbitmq: str, queue: str, float_headers_publishable: None
) -> None:
    settings = BridgeSettings("127.0.0.1:9092", rabbitmq, 1, 0.01, 0.01, 6000, 1000)
    source = RabbitSource("Fn", "Mq", (queue,), "arn:aws:mq:us-east-1:0:broker:b:b-1", batch_size=1)
    invoker, stop = RecordingInvoker(), threading.Event()
    poller = RabbitPoller(source, queue=queue, function_name="fn", settings=settings, invoke=invoker, stop=stop)
    thread = threading.Thread(target=poller.run, daemon=True)
    thread.start()
    try:
        publish(rabbitmq, queue, "odd", EVERY_TYPE)
        for non_finite in (math.nan, math.inf):
            with pytest.raises(pika.exceptions.ConnectionClosedByBroker, match="INTERNAL_ERROR"):
                publish(rabbitmq, queue, "non-finite", {"x": non_finite})
        publish(rabbitmq, queue, "after", {"kind": "plain"})
        wait_until("both messages delivered", lambda: invoker.ids() == ["odd", "after"], timeout=60, interval=0.1)
        assert thread.is_alive()
        assert invoker.messages[0]["basicProperties"]["headers"] == EXPECTED_JSON
        with pika.BlockingConnection(pika.URLParameters(rabbitmq)) as connection:
            assert connection.channel().queue_declare(queue, passive=True).method.message_count == 0  # both acked
    finally:
        stop.set()
        thread.join(timeout=10)
