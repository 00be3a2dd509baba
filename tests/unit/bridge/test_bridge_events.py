"""The events the bridge builds are exactly the shapes AWS's Kafka and RabbitMQ pollers send."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from infra.bridge.events import KafkaRecord, RabbitMessage, kafka_event, rabbit_event


def record(partition: int, offset: int, *, key: bytes | None = b"k", value: bytes | None = b"v") -> KafkaRecord:
    return KafkaRecord(
        topic="task.ingested",
        partition=partition,
        offset=offset,
        timestamp=1_700_000_000_123,
        timestamp_type=0,
        key=key,
        value=value,
        headers=[("source", b"api"), ("empty", None)],
    )


def test_kafka_event_groups_by_topic_partition_in_offset_order():
    event = kafka_event([record(1, 5), record(0, 9), record(1, 4)], "127.0.0.1:9092")
    assert event["eventSource"] == "SelfManagedKafka"
    assert event["bootstrapServers"] == "127.0.0.1:9092"
    assert list(event["records"]) == ["task.ingested-0", "task.ingested-1"]
    assert [r["offset"] for r in event["records"]["task.ingested-1"]] == [4, 5]


def test_kafka_record_fields_base64_and_headers_as_byte_lists():
    item = kafka_event([record(2, 7, key=b"task-1", value=b'{"title":"x"}')], "b:9092")["records"]["task.ingested-2"][0]
    assert item == {
        "topic": "task.ingested",
        "partition": 2,
        "offset": 7,
        "timestamp": 1_700_000_000_123,
        "timestampType": "CREATE_TIME",
        "key": base64.b64encode(b"task-1").decode(),
        "value": base64.b64encode(b'{"title":"x"}').decode(),
        "headers": [{"source": [97, 112, 105]}, {"empty": []}],
    }


def test_kafka_record_without_key_omits_it_and_log_append_time_is_named():
    raw = KafkaRecord("t", 0, 0, 1, 1, None, None, [])
    item = kafka_event([raw], "b")["records"]["t-0"][0]
    assert "key" not in item
    assert item["value"] == ""
    assert item["timestampType"] == "LOG_APPEND_TIME"


def test_topic_names_with_dashes_keep_the_partition_suffix():
    raw = KafkaRecord("bridge-test.run-1", 2, 0, 1, 0, None, b"x", [])
    assert list(kafka_event([raw], "b")["records"]) == ["bridge-test.run-1-2"]


def test_rabbit_event_shape():
    message = RabbitMessage(
        delivery_tag=3,
        redelivered=True,
        body=b'{"type":"task.created"}',
        content_type="application/json",
        headers={"kind": "task", "n": 1, "flag": True, "raw": b"\x01\x02"},
        delivery_mode=2,
        message_id="m-1",
        timestamp=int(datetime(2026, 11, 23, 21, 5, 9, tzinfo=UTC).timestamp()),
    )
    event = rabbit_event("task.notifications", "/", [message], "arn:aws:mq:us-east-1:0:broker:b:b-1")
    assert event["eventSource"] == "aws:rmq"
    assert event["eventSourceArn"] == "arn:aws:mq:us-east-1:0:broker:b:b-1"
    assert list(event["rmqMessagesByQueue"]) == ["task.notifications::/"]
    item = event["rmqMessagesByQueue"]["task.notifications::/"][0]
    assert item["redelivered"] is True
    assert base64.b64decode(item["data"]) == b'{"type":"task.created"}'
    assert item["basicProperties"] == {
        "contentType": "application/json",
        "contentEncoding": None,
        "headers": {"kind": {"bytes": [116, 97, 115, 107]}, "n": 1, "flag": True, "raw": {"bytes": [1, 2]}},
        "deliveryMode": 2,
        "priority": None,
        "correlationId": None,
        "replyTo": None,
        "expiration": None,
        "messageId": "m-1",
        "timestamp": "Nov 23, 2026, 9:05:09 PM",
        "type": None,
        "userId": None,
        "appId": None,
        "clusterId": None,
        "bodySize": 23,
    }


def test_rabbit_virtual_host_is_part_of_the_key_and_empty_properties_are_null():
    event = rabbit_event("q", "/tenant", [RabbitMessage(delivery_tag=1, redelivered=False, body=b"")], "arn")
    item = event["rmqMessagesByQueue"]["q::/tenant"][0]
    assert item["basicProperties"]["headers"] is None
    assert item["basicProperties"]["timestamp"] is None
    assert item["basicProperties"]["bodySize"] == 0
    assert item["data"] == ""
