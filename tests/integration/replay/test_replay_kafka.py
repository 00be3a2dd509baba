"""Poison records in a private DLQ topic go back to their source topic once, and only once."""

from __future__ import annotations

import json
import secrets

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from infra.replay_dlq import REPLAYED_FROM_HEADER, main

pytestmark = pytest.mark.integration


def _create_topics(servers: str, *names: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=servers)
    try:
        admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1) for name in names])
    finally:
        admin.close()


def _read_all(servers: str, topic: str) -> list:
    consumer = KafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        records: list = []
        # Until an empty poll: Tansu under-reports the end offset of a multi-record batch.
        while batch := consumer.poll(timeout_ms=1500):
            for partition_records in batch.values():
                records.extend(partition_records)
        return records
    finally:
        consumer.close()


def test_kafka_dead_letters_are_replayed_once_to_their_source_topic(kafka_broker: str) -> None:
    run = secrets.token_hex(4)
    source, dlq, group = f"replay-src-{run}", f"replay-src-{run}.dlq", f"dlq-replay-{run}"
    _create_topics(kafka_broker, source, dlq)
    original_value = {"id": "t-1", "ownerId": "u-1", "task": {"title": ""}}
    producer = KafkaProducer(bootstrap_servers=kafka_broker, acks="all")
    # As the ingestion function writes it: a JSON envelope around the original value.
    envelope = {
        "reason": "VALIDATION_ERROR",
        "details": [{"field": "task.title", "message": "too short"}],
        "source": {"topic": source, "partition": 0, "offset": 7},
        "key": "t-1",
        "value": original_value,
        "deadLetteredAt": "2026-11-23T10:00:00+00:00",
    }
    producer.send(
        dlq,
        key=b"t-1",
        value=json.dumps(envelope).encode(),
        headers=[("dlq-reason", b"VALIDATION_ERROR"), ("dlq-source", f"{source}-0@7".encode())],
    )
    # As the bridge writes it: the original record, its headers plus dlq-* headers.
    producer.send(
        dlq,
        key=b"t-2",
        value=b"{not json",
        headers=[
            ("content-type", b"application/json"),
            ("dlq-reason", b"FunctionError"),
            ("dlq-function", b"fn"),
            ("dlq-source", f"{source}-0@8".encode()),
            ("dlq-attempts", b"3"),
        ],
    )
    producer.flush()
    producer.close()
    args = ["kafka", "--bootstrap-servers", kafka_broker, "--topic", dlq, "--group", group]

    dry_lines: list[str] = []
    main([*args, "--dry-run"], out=dry_lines.append)
    assert "would replay 2, skipped 0" in dry_lines[-1], dry_lines
    assert _read_all(kafka_broker, source) == []

    lines: list[str] = []
    main(args, out=lines.append)
    summary = "\n".join(lines)
    assert "replayed 2, skipped 0" in summary
    assert "replayed FunctionError: 1" in summary
    assert "replayed VALIDATION_ERROR: 1" in summary

    replayed = {record.key: record for record in _read_all(kafka_broker, source)}
    assert set(replayed) == {b"t-1", b"t-2"}
    assert json.loads(replayed[b"t-1"].value) == original_value
    assert replayed[b"t-2"].value == b"{not json"
    assert ("content-type", b"application/json") in replayed[b"t-2"].headers
    assert not any(name.startswith("dlq-") and name != REPLAYED_FROM_HEADER for name, _ in replayed[b"t-2"].headers)
    assert (REPLAYED_FROM_HEADER, f"{dlq}-0@0".encode()) in replayed[b"t-1"].headers

    again: list[str] = []
    main(args, out=again.append)
    assert "replayed 0, skipped 0" in again[-1]
    assert len(_read_all(kafka_broker, source)) == 2


def test_kafka_limit_replays_the_oldest_and_commits_only_those(kafka_broker: str) -> None:
    run = secrets.token_hex(4)
    source, dlq, group = f"replay-lim-{run}", f"replay-lim-{run}.dlq", f"dlq-replay-{run}"
    _create_topics(kafka_broker, source, dlq)
    producer = KafkaProducer(bootstrap_servers=kafka_broker, acks="all")
    for index in range(3):
        producer.send(
            dlq,
            key=f"k{index}".encode(),
            value=f"v{index}".encode(),
            headers=[
                ("dlq-reason", b"FunctionError"),
                ("dlq-function", b"fn"),
                ("dlq-source", f"{source}-0@{index}".encode()),
            ],
        )
    producer.send(dlq, key=b"junk", value=b"junk")  # no dlq headers: skipped, never produced
    producer.flush()
    producer.close()
    args = ["kafka", "--bootstrap-servers", kafka_broker, "--topic", dlq, "--group", group]

    first: list[str] = []
    main([*args, "--limit", "2"], out=first.append)
    assert "replayed 2, skipped 0" in first[-1]
    assert [record.value for record in _read_all(kafka_broker, source)] == [b"v0", b"v1"]

    rest: list[str] = []
    main(args, out=rest.append)
    assert "replayed 1, skipped 1" in rest[-1]
    assert "skipped UNRECOGNIZED: 1" in rest[-1]
    assert [record.value for record in _read_all(kafka_broker, source)] == [b"v0", b"v1", b"v2"]
