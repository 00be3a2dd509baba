"""Issue 15 defect 4: every AMQP field type pika can decode becomes valid JSON in the aws:rmq event, and a message
whose headers cannot be carried is dead-lettered alone instead of stopping the poller."""

from __future__ import annotations

import io
import json
import math
import struct
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pika.data
import pytest

from infra.bridge import amqp_floats
from infra.bridge.aws import LambdaInvoker
from infra.bridge.delivery import InvokeOutcome
from infra.bridge.events import RabbitMessage, UnconvertibleHeader, encode_event, rabbit_message_json
from infra.bridge.rabbit_poller import RabbitPoller
from infra.bridge.settings import BridgeSettings
from infra.bridge.template import RabbitSource

WHEN = datetime(2025, 11, 23, 9, 0, tzinfo=UTC)


def field(kind: bytes, layout: str, value: Any) -> bytes:
    return kind + struct.pack(layout, value)


def table(**fields: bytes) -> bytes:
    """An AMQP field table as on the wire, so kinds pika cannot encode (f, d, b, s, L, ...) are covered too."""
    body = b"".join(bytes([len(name)]) + name.encode() + encoded for name, encoded in fields.items())
    return struct.pack(">I", len(body)) + body


def long_string(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack(">I", len(data)) + data


def decoded(wire: bytes) -> dict[str, Any]:
    amqp_floats.install()
    value, _ = pika.data.decode_table(wire, 0)
    return dict(value)


def header_json(headers: Mapping[str, Any]) -> Any:
    message = RabbitMessage(delivery_tag=1, redelivered=False, body=b"{}", headers=headers)
    return json.loads(encode_event(rabbit_message_json(message)))["basicProperties"]["headers"]


def test_every_amqp_field_type_decodes_and_encodes_to_valid_json() -> None:
    nested = table(inner=long_string(b"S", b"deep"), n=field(b"I", ">i", -7))
    array_items = long_string(b"S", b"a") + field(b"t", ">B", 0) + b"V" + field(b"d", ">d", 2.25)
    wire = table(
        text=long_string(b"S", "é!".encode()),
        binary_string=long_string(b"S", b"\xff\x00"),  # not UTF-8: pika keeps bytes
        byte_array=long_string(b"x", b"\x01\x02"),
        flag=field(b"t", ">B", 1),
        int8=field(b"b", ">b", -5),
        uint8=field(b"B", ">B", 250),
        int16=field(b"s", ">h", -300),
        uint16=field(b"u", ">H", 65000),
        int32=field(b"I", ">i", -70000),
        uint32=field(b"i", ">I", 4_000_000_000),
        int64=field(b"l", ">q", -(2**40)),
        float32=field(b"f", ">f", 1.5),
        double=field(b"d", ">d", 0.1),
        nan=field(b"d", ">d", math.nan),
        inf=field(b"d", ">d", math.inf),
        minus_inf=field(b"f", ">f", -math.inf),
        decimal=b"D" + struct.pack(">Bi", 2, 12345),
        whole_decimal=b"D" + struct.pack(">Bi", 0, 42),
        timestamp=field(b"T", ">Q", int(WHEN.timestamp())),
        void=b"V",
        table=b"F" + nested,
        array=b"A" + struct.pack(">I", len(array_items)) + array_items,
    )
    headers = decoded(wire)
    assert isinstance(headers["decimal"], Decimal) and isinstance(headers["timestamp"], datetime)
    assert header_json(headers) == {
        "text": {"bytes": list("é!".encode())},
        "binary_string": {"bytes": [255, 0]},
        "byte_array": {"bytes": [1, 2]},
        "flag": True,
        "int8": -5,
        "uint8": 250,
        "int16": -300,
        "uint16": 65000,
        "int32": -70000,
        "uint32": 4_000_000_000,
        "int64": -(2**40),
        "float32": 1.5,  # pika alone truncates it to 1
        "double": 0.1,
        "nan": "NaN",
        "inf": "Infinity",
        "minus_inf": "-Infinity",
        "decimal": 123.45,
        "whole_decimal": 42,
        "timestamp": "Nov 23, 2025, 9:00:00 AM",  # like basicProperties.timestamp
        "void": None,
        "table": {"inner": {"bytes": list(b"deep")}, "n": -7},
        "array": [{"bytes": [97]}, False, None, 2.25],
    }


def test_pika_alone_would_raise_on_a_nan_double_inside_its_frame_decoding() -> None:
    unpatched = pika.data.decode_value.wrapped if hasattr(pika.data.decode_value, "wrapped") else None
    original = unpatched or pika.data.decode_value
    with pytest.raises(ValueError, match="NaN"):
        original(field(b"d", ">d", math.nan), 0)
    assert math.isnan(decoded(table(x=field(b"d", ">d", math.nan)))["x"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("NaN"), "NaN"),
        (Decimal("sNaN"), "NaN"),
        (Decimal("-Infinity"), "-Infinity"),
        (Decimal("1.50"), 1.5),
        (float("nan"), "NaN"),
        (datetime(2025, 11, 23, 9, 0), "Nov 23, 2025, 9:00:00 AM"),  # naive: taken as UTC, as pika decodes
        ((1, "a"), [1, {"bytes": [97]}]),
        (bytearray(b"\x00"), {"bytes": [0]}),
    ],
)
def test_values_built_in_python_are_converted_too(value: Any, expected: Any) -> None:
    assert header_json({"h": value}) == {"h": expected}


def test_a_value_of_no_amqp_type_is_refused_by_name() -> None:
    with pytest.raises(UnconvertibleHeader, match="object"):
        rabbit_message_json(RabbitMessage(1, False, b"", headers={"h": object()}))


class RecordingChannel:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, bool]] = []

    def basic_nack(self, delivery_tag: int, multiple: bool = False, requeue: bool = True) -> None:
        self.calls.append(("nack", delivery_tag, requeue))

    def basic_ack(self, delivery_tag: int, multiple: bool = False) -> None:
        self.calls.append(("ack", delivery_tag, multiple))


class RecordingConnection:
    def sleep(self, seconds: float) -> None:
        return None


def test_an_unencodable_message_is_dead_lettered_alone_and_the_rest_of_the_batch_is_delivered() -> None:
    invoked: list[Mapping[str, Any]] = []

    def invoke(function_name: str, event: Mapping[str, Any]) -> InvokeOutcome:
        encode_event(event)  # what the real invoker sends: must not raise
        invoked.append(event)
        return InvokeOutcome(payload=None)

    settings = BridgeSettings("k:9092", "amqp://x", 0, 0.0, 0.0, 6000, 1000)
    source = RabbitSource("Fn", "Mq", ("q",), "arn")
    poller = RabbitPoller(
        source, queue="q", function_name="fn", settings=settings, invoke=invoke, stop=threading.Event()
    )
    channel = RecordingChannel()
    batch = [
        RabbitMessage(1, False, b"a", headers={"ok": Decimal("1.5")}),
        RabbitMessage(2, False, b"b", headers={"poison": object()}),
        RabbitMessage(3, False, b"c", headers={"ok": float("nan")}),
    ]
    poller._handle(RecordingConnection(), channel, batch, 0.0)
    assert channel.calls == [("nack", 2, False), ("ack", 3, True)]
    [event] = invoked
    assert [m["data"] for m in event["rmqMessagesByQueue"]["q::/"]] == ["YQ==", "Yw=="]


class FakeLambda:
    def __init__(self) -> None:
        self.payloads: list[bytes] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.payloads.append(kwargs["Payload"])
        return {"Payload": io.BytesIO(b"null")}


def test_the_invoker_never_sends_invalid_json_and_never_raises_for_an_event_it_cannot_encode() -> None:
    client = FakeLambda()
    invoker = LambdaInvoker(client=client)
    assert not invoker("fn", {"x": float("nan")}).ok
    assert not invoker("fn", {"x": Decimal("1")}).ok
    assert invoker("fn", {"x": 1.5}).ok
    assert client.payloads == [b'{"x": 1.5}']
