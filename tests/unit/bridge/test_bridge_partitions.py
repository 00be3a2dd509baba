"""Partition-parallel Kafka delivery: concurrency across partitions, order within one, the 6 MB event cut."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from infra.bridge.delivery import (
    InvokeOutcome,
    RetryPolicy,
    StopRequested,
    deliver_kafka_partitions,
    partition_chunks,
)
from infra.bridge.events import (
    MAX_KAFKA_EVENT_BYTES,
    KafkaRecord,
    kafka_event,
    kafka_record_json,
    kafka_record_json_bytes,
)

POLICY = RetryPolicy(max_retries=1, base_seconds=0.01, max_seconds=0.01)


def rec(partition: int, offset: int, value: bytes | None = None, topic: str = "orders-eu") -> KafkaRecord:
    return KafkaRecord(topic, partition, offset, 0, 0, b"k", value or f"{partition}:{offset}".encode(), [])


def build(records: Sequence[KafkaRecord]) -> dict[str, Any]:
    return kafka_event(records, "b:9092")


def offsets(event: Mapping[str, Any]) -> list[tuple[str, int]]:
    return [(key, r["offset"]) for key, items in event["records"].items() for r in items]


class ThreadSafeInvoker:
    def __init__(self, answer: Any = None) -> None:
        self.answer = answer
        self.events: list[Mapping[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, function_name: str, event: Mapping[str, Any]) -> InvokeOutcome:
        with self._lock:
            self.events.append(event)
        answer = self.answer(event) if callable(self.answer) else self.answer
        return answer if isinstance(answer, InvokeOutcome) else InvokeOutcome(payload=answer)


def no_sleep(seconds: float) -> None:
    return None


def test_record_size_estimate_is_never_below_the_real_json():
    for record in (
        rec(0, 1, b""),
        rec(0, 1, b"x" * 1000),
        KafkaRecord("t", 0, 123456789, 1, 0, None, b"\xff" * 77, [("h", b"abc"), ("empty", None)]),
    ):
        assert kafka_record_json_bytes(record) >= len(json.dumps(kafka_record_json(record)))


def test_chunks_are_per_partition_in_offset_order():
    batch = [rec(1, 5), rec(0, 2), rec(1, 4), rec(0, 1)]
    assert [[[r.identifier for r in chunk] for chunk in part] for part in partition_chunks(batch)] == [
        [[("orders-eu", 0, 1), ("orders-eu", 0, 2)]],
        [[("orders-eu", 1, 4), ("orders-eu", 1, 5)]],
    ]


def test_a_partition_is_cut_before_its_event_would_pass_the_payload_limit():
    big = b"x" * (MAX_KAFKA_EVENT_BYTES // 3)  # base64 makes each ~4/9 of the limit: two fit, three do not
    batch = [rec(0, n, big) for n in range(5)]
    parts = partition_chunks(batch)
    assert [[r.offset for r in chunk] for chunk in parts[0]] == [[0, 1], [2, 3], [4]]
    assert all(len(json.dumps(build(chunk))) < 6 * 1024 * 1024 for chunk in parts[0])


def test_a_record_bigger_than_the_limit_goes_alone():
    batch = [rec(0, 1), rec(0, 2, b"x" * MAX_KAFKA_EVENT_BYTES), rec(0, 3)]
    assert [[r.offset for r in chunk] for chunk in partition_chunks(batch)[0]] == [[1], [2], [3]]


def test_partitions_are_invoked_concurrently():
    both_in_flight = threading.Barrier(2, timeout=5)

    def answer(event: Mapping[str, Any]) -> InvokeOutcome:
        both_in_flight.wait()  # raises BrokenBarrierError unless the other partition's invoke runs meanwhile
        return InvokeOutcome(payload={})

    invoker = ThreadSafeInvoker(answer)
    with ThreadPoolExecutor(4) as pool:
        result = deliver_kafka_partitions(
            "fn",
            [rec(0, 1), rec(1, 1)],
            build_event=build,
            invoke=invoker,
            policy=POLICY,
            sleep=no_sleep,
            executor=pool,
        )
    assert (result.attempts, result.dead_letters) == (1, [])
    assert sorted(offsets(e)[0] for e in invoker.events) == [("orders-eu-0", 1), ("orders-eu-1", 1)]


def test_one_event_per_partition_and_chunks_of_a_partition_in_order():
    big = b"x" * (MAX_KAFKA_EVENT_BYTES // 3)
    batch = [rec(0, n, big) for n in range(4)] + [rec(1, 7), rec(1, 8)]
    invoker = ThreadSafeInvoker({})
    with ThreadPoolExecutor(4) as pool:
        deliver_kafka_partitions(
            "fn", batch, build_event=build, invoke=invoker, policy=POLICY, sleep=no_sleep, executor=pool
        )
    calls = [offsets(e) for e in invoker.events]
    assert [("orders-eu-1", 7), ("orders-eu-1", 8)] in calls
    partition_0 = [call for call in calls if call[0][0] == "orders-eu-0"]
    assert partition_0 == [[("orders-eu-0", 0), ("orders-eu-0", 1)], [("orders-eu-0", 2), ("orders-eu-0", 3)]]


def test_dead_letters_of_every_partition_are_combined():
    def answer(event: Mapping[str, Any]) -> InvokeOutcome:
        if "orders-eu-1" in event["records"]:
            return InvokeOutcome(payload={"batchItemFailures": [{"itemIdentifier": "orders-eu-1@8"}]})
        return InvokeOutcome(payload={})

    batch = [rec(0, 1), rec(1, 7), rec(1, 8), rec(2, 3)]
    with ThreadPoolExecutor(4) as pool:
        result = deliver_kafka_partitions(
            "fn",
            batch,
            build_event=build,
            invoke=ThreadSafeInvoker(answer),
            policy=POLICY,
            sleep=no_sleep,
            executor=pool,
        )
    assert [r.identifier for r, _ in result.dead_letters] == [("orders-eu", 1, 8)]
    assert result.attempts == 2 and result.outcome == "dead-lettered"
    assert "batchItemFailures" in (result.last_error or "")


def test_a_stop_during_one_partitions_backoff_abandons_the_whole_batch():
    def answer(event: Mapping[str, Any]) -> InvokeOutcome:
        return InvokeOutcome(error="boom") if "orders-eu-0" in event["records"] else InvokeOutcome(payload={})

    def stopping_sleep(seconds: float) -> None:
        raise StopRequested

    invoker = ThreadSafeInvoker(answer)
    with ThreadPoolExecutor(4) as pool, pytest.raises(StopRequested):
        deliver_kafka_partitions(
            "fn",
            [rec(0, 1), rec(1, 1)],
            build_event=build,
            invoke=invoker,
            policy=POLICY,
            sleep=stopping_sleep,
            executor=pool,
        )
    assert len(invoker.events) == 2  # the healthy partition still finished before the stop was raised


def test_without_an_executor_the_batch_is_one_event_as_before():
    invoker = ThreadSafeInvoker({})
    result = deliver_kafka_partitions(
        "fn", [rec(1, 1), rec(0, 1)], build_event=build, invoke=invoker, policy=POLICY, sleep=no_sleep
    )
    assert result.attempts == 1
    assert [offsets(e) for e in invoker.events] == [[("orders-eu-0", 1), ("orders-eu-1", 1)]]


def test_without_an_executor_a_batch_over_the_limit_is_cut_in_offset_order():
    big = b"x" * (MAX_KAFKA_EVENT_BYTES // 3)
    invoker = ThreadSafeInvoker({})
    batch = [rec(1, 1, big), rec(0, 2, big), rec(0, 1, big)]
    deliver_kafka_partitions("fn", batch, build_event=build, invoke=invoker, policy=POLICY, sleep=no_sleep)
    assert [offsets(e) for e in invoker.events] == [[("orders-eu-0", 1), ("orders-eu-0", 2)], [("orders-eu-1", 1)]]


def test_events_never_pass_max_records():
    batch = [rec(0, n) for n in range(5)] + [rec(1, n) for n in range(3)]
    assert [[len(c) for c in part] for part in partition_chunks(batch, max_records=2)] == [[2, 2, 1], [2, 1]]
    invoker = ThreadSafeInvoker({})
    deliver_kafka_partitions(
        "fn", batch, build_event=build, invoke=invoker, policy=POLICY, sleep=no_sleep, max_records=3
    )
    assert [len(offsets(e)) for e in invoker.events] == [3, 3, 2]
    assert [o for e in invoker.events for o in offsets(e)] == sorted(o for e in invoker.events for o in offsets(e))
