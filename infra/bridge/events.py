"""Build the exact event payloads AWS Lambda's Kafka and RabbitMQ pollers send.

Shapes follow the AWS documentation's sample events (self-managed Kafka; Amazon MQ for RabbitMQ), so a
handler that works here works unchanged behind a real event-source mapping.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
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


# Lambda's synchronous invoke payload limit is 6 MB; stay under it with room for the event's envelope.
MAX_KAFKA_EVENT_BYTES = 6 * 1024 * 1024 - 64 * 1024


def kafka_record_json_bytes(record: KafkaRecord) -> int:
    """An upper estimate of `kafka_record_json(record)`'s JSON size, without encoding it (base64 is 4/3)."""
    key = len(record.key) if record.key is not None else 0
    value = len(record.value or b"")
    headers = sum(len(name) + 4 * len(value or b"") + 8 for name, value in record.headers)
    return 4 * (key + value + 2) // 3 + headers + len(record.topic) + 160


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


def _rabbit_header_value(value: Any) -> Any:
    """AWS sends string (and bytes) header values as `{"bytes": [...]}`; numbers and booleans stay as they are."""
    if isinstance(value, str):
        return {"bytes": list(value.encode())}
    if isinstance(value, bytes | bytearray):
        return {"bytes": list(value)}
    if isinstance(value, Mapping):
        return {key: _rabbit_header_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rabbit_header_value(item) for item in value]
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value


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
