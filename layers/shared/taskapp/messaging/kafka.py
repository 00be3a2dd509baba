"""Kafka producing and inspection with kafka-python: one long-lived producer per execution environment.

kafka-python is imported inside the functions so an API function that never produces does not pay for it.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from taskapp.settings import kafka_settings

if TYPE_CHECKING:
    from kafka import KafkaProducer


class KafkaUnavailable(Exception):
    """The broker did not acknowledge a produce in time: the caller should fail or retry, never drop."""


@dataclass(frozen=True)
class OutgoingRecord:
    topic: str
    key: bytes | None
    value: bytes | None  # None only for a dead letter of a record that had no value
    headers: Sequence[tuple[str, bytes]] = ()


def _timeout_ms() -> int:
    return int(kafka_settings().broker_timeout_seconds * 1000)


@lru_cache(maxsize=1)
def get_producer() -> KafkaProducer:
    from kafka import KafkaProducer

    return KafkaProducer(
        bootstrap_servers=kafka_settings().servers,
        acks="all",  # a record is acknowledged only once every in-sync replica has it
        linger_ms=5,
        retries=3,
        max_in_flight_requests_per_connection=1,  # retries keep per-key order
        request_timeout_ms=_timeout_ms(),
        max_block_ms=_timeout_ms(),
    )


def produce_all(records: Iterable[OutgoingRecord]) -> int:
    """Send every record and wait for every acknowledgement; any failure raises KafkaUnavailable.

    The whole call gets one budget of 2 x broker_timeout_seconds (6 s by default), well inside the ingest
    function's 10 s Lambda timeout: a broker that is down or restarting makes the API answer 503 instead of the
    function timing out (a 502 from the gateway). Found by the fault suite, which SIGKILLs the broker mid-stream.
    """
    from kafka.errors import KafkaError

    timeout = kafka_settings().broker_timeout_seconds
    deadline = time.monotonic() + 2 * timeout
    producer = None
    try:
        # A broker that refuses connections fails in milliseconds here, not after kafka-python's waits.
        _require_reachable(kafka_settings().servers)
        producer = get_producer()
        futures = [
            producer.send(record.topic, key=record.key, value=record.value, headers=list(record.headers))
            for record in records
        ]
        producer.flush(timeout=max(deadline - time.monotonic(), 0.01))
        for future in futures:
            future.get(timeout=max(deadline - time.monotonic(), 0.01))
    except (KafkaError, OSError, KafkaUnavailable) as exc:
        if producer is not None:
            _discard(producer)
        if isinstance(exc, KafkaUnavailable):
            raise
        raise KafkaUnavailable(str(exc) or type(exc).__name__) from exc
    return len(futures)


def _discard(producer: KafkaProducer) -> None:
    """Drop a producer that failed: closed at once, so records it still holds are not delivered minutes later
    after the caller was told 503 (and retried); the next call builds a new one."""
    get_producer.cache_clear()
    # Closing a broken producer must not hide the original error.
    with contextlib.suppress(Exception):
        producer.close(timeout=0)


def _require_reachable(servers: list[str]) -> None:
    """Fail in broker_timeout_seconds when no bootstrap server accepts TCP: kafka-python's own metadata wait
    for an unreachable cluster is 30 s, longer than the health function may run."""
    errors = []
    for server in servers:
        host, _, port = server.strip().rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=kafka_settings().broker_timeout_seconds).close()
        except OSError as exc:
            errors.append(f"{server}: {exc}")
            continue
        return
    raise KafkaUnavailable("; ".join(errors) or "no bootstrap servers configured")


def partition_lag(topic: str, partition: int, committed: int | None, end: int) -> dict[str, Any]:
    """One partition's health entry; the lag is never negative.

    Tansu reports the end of a partition whose last batch holds several records as that batch's base offset + 1,
    so a group can have committed past the reported end (seen: committed 10, end 1). A negative lag is not a
    number anyone can act on: it is reported as 0 with `inconsistent: true`, and logged.
    """
    lag = end - (committed or 0)
    if lag >= 0:
        return {"committed": committed, "end": end, "lag": lag}
    from taskapp.observability import logger

    logger.warning(
        "broker reported an end offset below the committed offset",
        extra={"topic": topic, "partition": partition, "committed": committed, "end": end},
    )
    return {"committed": committed, "end": end, "lag": 0, "inconsistent": True}


def consumer_group_lag(topic: str, group_id: str) -> dict[str, Any]:
    """Committed offset, end offset and lag per partition of `topic` for `group_id` (health report).

    A consumer that carries the group id but never subscribes reads the group's committed offsets without
    joining the group, so the check cannot trigger a rebalance of the real consumers.
    """
    from kafka import KafkaConsumer, TopicPartition

    servers = kafka_settings().servers
    _require_reachable(servers)
    consumer = KafkaConsumer(
        bootstrap_servers=servers,
        group_id=group_id,
        enable_auto_commit=False,
        request_timeout_ms=_timeout_ms(),
    )
    try:
        partitions = sorted(consumer.partitions_for_topic(topic) or [])
        if not partitions:
            raise LookupError(f"topic {topic} does not exist")
        topic_partitions = [TopicPartition(topic, partition) for partition in partitions]
        end_offsets = consumer.end_offsets(topic_partitions)
        report: dict[str, Any] = {}
        for tp in topic_partitions:
            end = int(end_offsets.get(tp, 0))
            committed = consumer.committed(tp)
            report[str(tp.partition)] = partition_lag(topic, tp.partition, committed, end)
        return report
    finally:
        consumer.close(autocommit=False)
