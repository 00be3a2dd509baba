"""Build the exact event payloads AWS Lambda's Kafka and RabbitMQ pollers send.

Shapes follow the AWS documentation's sample events (self-managed Kafka; Amazon MQ for RabbitMQ), so a
handler that works here works unchanged behind a real event-source mapping.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

TIMESTAMP_TYPES = {0: "CREATE_TIME", 1: "LOG_APPEND_TIME"}


@dataclass(frozen=True)
class KafkaRecord:
    """The broker-independent part of a consumed record (kafka-python's ConsumerRecord maps onto it)."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]]

    @property
    def identifier(self) -> tuple[str, int, int]:
        return self.topic, self.partition, self.offset


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def kafka_record_json(record: KafkaRecord) -> dict[str, Any]:
    """One element of `records["topic-partition"]`; header values become lists of unsigned byte values."""
    item: dict[str, Any] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": record.timestamp,
        "timestampType": TIMESTAMP_TYPES.get(record.timestamp_type, "NO_TIMESTAMP_TYPE"),
    }
    if record.key is not None:  # AWS omits the key of a record produced without one
        item["key"] = _b64(record.key)
    item["value"] = _b64(record.value or b"")
    item["headers"] = [{name: list(value or b"")} for name, value in record.headers]
    return item


# Lambda's synchronous invoke payload limit is 6 MB; the records of one event stay under this, which leaves
# 64 KB for the envelope (`eventSource`, `bootstrapServers`), far more than it takes.
LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024
MAX_KAFKA_EVENT_BYTES = LAMBDA_PAYLOAD_LIMIT_BYTES - 64 * 1024


def encode_event(event: Mapping[str, Any]) -> bytes:
    """The Invoke payload: the one encoding both the invoker and the size budget use, so they cannot drift.

    ASCII-only (`ensure_ascii`), so its length in characters is its length in bytes; NaN and infinities are
    refused rather than written as the invalid JSON tokens `json.dumps` allows by default.
    """
    return json.dumps(event, allow_nan=False).encode("ascii")


_BELOW_10 = bytes(range(10))
_BELOW_100 = bytes(range(100))


def byte_list_json_bytes(value: bytes) -> int:
    """The length of `json.dumps(list(value))` minus that of `[]`, counted in C: 1-3 digits per byte, `, ` between."""
    if not value:
        return 0
    digits = len(value) + len(value.translate(None, _BELOW_10)) + len(value.translate(None, _BELOW_100))
    return digits + 2 * (len(value) - 1)


def kafka_record_json_bytes(record: KafkaRecord) -> int:
    """The exact encoded size of `kafka_record_json(record)`.

    Measured, not estimated: a header byte costs 1 to 5 bytes as a list element (`255, `), a non-ASCII header
    name up to 12 per character (`\\ud83d\\ude00`), base64 4/3; any guess per byte is either wasteful or wrong.
    The record is encoded with its header values left empty, and their lists are counted (json.dumps of a long
    list of ints costs ~0.2 ms per KB of header, which would double the bridge's encoding work).
    """
    skeleton = replace(record, headers=[(name, b"") for name, _ in record.headers])
    return len(encode_event(kafka_record_json(skeleton))) + sum(
        byte_list_json_bytes(value or b"") for _, value in record.headers
    )


def partition_group_bytes(topic: str, partition: int) -> int:
    """What a `"topic-partition": [...]` group adds to `records` besides its records: key, `": []"`, `", "`."""
    return len(json.dumps(f"{topic}-{partition}")) + len(": []") + len(", ")


RECORD_SEPARATOR_BYTES = len(", ")


def kafka_event(records: Iterable[KafkaRecord], bootstrap_servers: str) -> dict[str, Any]:
    """`SelfManagedKafka` event: records grouped by `"{topic}-{partition}"`, each group in offset order."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for record in sorted(records, key=lambda r: r.identifier):
        grouped.setdefault(f"{record.topic}-{record.partition}", []).append(kafka_record_json(record))
    return {"eventSource": "SelfManagedKafka", "bootstrapServers": bootstrap_servers, "records": grouped}


@dataclass(frozen=True)
class RabbitMessage:
    """A delivered AMQP message, as much of it as the AWS event carries (pika's properties map onto it)."""

    delivery_tag: int
    redelivered: bool
    body: bytes
    content_type: str | None = None
    content_encoding: str | None = None
    headers: Mapping[str, Any] | None = None
    delivery_mode: int | None = None
    priority: int | None = None
    correlation_id: str | None = None
    reply_to: str | None = None
    expiration: str | None = None
    message_id: str | None = None
    timestamp: int | None = None
    type: str | None = None
    user_id: str | None = None
    app_id: str | None = None
    cluster_id: str | None = None


class UnconvertibleHeader(TypeError):
    """A header value of a type no AMQP field type decodes to: the message is dead-lettered with this reason."""


NON_FINITE_NAMES = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _finite_or_name(number: float | Decimal) -> float | int | str:
    """JSON has no NaN or infinity: they become the names Jackson writes by default ("NaN", "Infinity")."""
    if isinstance(number, Decimal):
        if number.is_nan():
            return "NaN"
        if number.is_infinite():
            return "Infinity" if number > 0 else "-Infinity"
        # An AMQP decimal is an int32 with a scale (at most 10 digits): a float keeps every digit of it.
        return int(number) if number == number.to_integral_value() else float(number)
    if not math.isfinite(number):
        return NON_FINITE_NAMES[str(number)]
    return number


def _rabbit_header_value(value: Any) -> Any:
    """Every value pika decodes from an AMQP field table, converted the way AWS's MQ poller writes it.

    AWS serialises the RabbitMQ Java client's values: long strings (and byte arrays) as `{"bytes": [...]}`,
    numbers and booleans as they are, decimals as numbers, timestamps like `basicProperties.timestamp`, nested
    tables and arrays element by element, void as null. Anything else raises `UnconvertibleHeader`.
    """
    if isinstance(value, Mapping):
        return {str(key): _rabbit_header_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rabbit_header_value(item) for item in value]
    return _rabbit_scalar(value)


def _rabbit_scalar(value: Any) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str | bytes | bytearray):
        return {"bytes": list(value.encode() if isinstance(value, str) else value)}
    if isinstance(value, float | Decimal):
        return _finite_or_name(value)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)  # pika decodes AMQP timestamps as UTC
        return _rabbit_timestamp(int(moment.timestamp()))
    raise UnconvertibleHeader(f"header value of type {type(value).__name__} has no AMQP field type")


def _rabbit_timestamp(seconds: int | None) -> str | None:
    """AWS renders the AMQP timestamp like Java's default date format: `Jan 1, 1970, 12:33:41 AM`."""
    if seconds is None:
        return None
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    hour = moment.hour % 12 or 12
    return f"{moment:%b} {moment.day}, {moment.year}, {hour}:{moment:%M:%S} {moment:%p}"


def rabbit_message_json(message: RabbitMessage) -> dict[str, Any]:
    return {
        "basicProperties": {
            "contentType": message.content_type,
            "contentEncoding": message.content_encoding,
            "headers": _rabbit_header_value(dict(message.headers)) if message.headers else None,
            "deliveryMode": message.delivery_mode,
            "priority": message.priority,
            "correlationId": message.correlation_id,
            "replyTo": message.reply_to,
            "expiration": message.expiration,
            "messageId": message.message_id,
            "timestamp": _rabbit_timestamp(message.timestamp),
            "type": message.type,
            "userId": message.user_id,
            "appId": message.app_id,
            "clusterId": message.cluster_id,
            "bodySize": len(message.body),
        },
        "redelivered": message.redelivered,
        "data": _b64(message.body),
    }


def rabbit_event(queue: str, virtual_host: str, messages: Iterable[RabbitMessage], broker_arn: str) -> dict[str, Any]:
    """`aws:rmq` event: messages keyed by `"{queue}::{virtual host}"`."""
    return {
        "eventSource": "aws:rmq",
        "eventSourceArn": broker_arn,
        "rmqMessagesByQueue": {f"{queue}::{virtual_host}": [rabbit_message_json(m) for m in messages]},
    }
