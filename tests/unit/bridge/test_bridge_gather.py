"""How the Kafka poller gathers a batch: per-partition BatchSize, balanced partitions, the window, pause/resume."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from typing import Any, cast

import pytest
from kafka import KafkaConsumer, TopicPartition

from infra.bridge.delivery import InvokeOutcome
from infra.bridge.events import KafkaRecord
from infra.bridge.kafka_poller import KafkaPoller
from infra.bridge.settings import BridgeSettings
from infra.bridge.template import KafkaSource

TOPIC = "orders-eu"


class FakeConsumer:
    """Serves records the way kafka-python's fetcher does.

    Each partition's fetch holds up to `fetch_records`; poll drains the completed fetches in order, and a drained
    (or seeked) partition's next fetch queues up behind the others. Seek moves a position back.
    """

    def __init__(self, backlog: dict[int, int], fetch_records: int = 2800) -> None:
        self.logs = {
            TopicPartition(TOPIC, p): [KafkaRecord(TOPIC, p, o, 0, 0, b"k", b"v", []) for o in range(n)]
            for p, n in backlog.items()
        }
        self.fetch_records = fetch_records
        self.position = dict.fromkeys(self.logs, 0)
        self.fetch_end = dict.fromkeys(self.logs, fetch_records)
        self.queue = deque(sorted(self.logs, key=lambda t: t.partition))
        self.polls: list[tuple[int, int]] = []
        self.seeks: list[tuple[int, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return set(self.logs)

    def _refetch(self, tp: TopicPartition) -> None:
        if tp in self.queue:
            self.queue.remove(tp)
        self.fetch_end[tp] = self.position[tp] + self.fetch_records
        self.queue.append(tp)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.position[partition] = offset
        self.seeks.append((partition.partition, offset))
        self._refetch(partition)

    def poll(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        self.polls.append((timeout_ms, max_records))
        out: dict[TopicPartition, list[Any]] = {}
        left = max_records
        for _ in range(len(self.queue)):
            if not left:
                break
            tp = self.queue[0]
            end = min(self.fetch_end[tp], self.position[tp] + left)
            take = self.logs[tp][self.position[tp] : end]
            if take:
                out.setdefault(tp, []).extend(take)
                self.position[tp] += len(take)
                left -= len(take)
            if self.position[tp] >= self.fetch_end[tp] or not take:
                self._refetch(tp)
        return out


def never_invoked(function_name: str, event: Mapping[str, Any]) -> InvokeOutcome:
    raise AssertionError("gathering a batch must not invoke")


def poller(consumer: FakeConsumer, batch_size: int, concurrency: int, window: float = 0.2) -> KafkaPoller:
    settings = BridgeSettings("k:9092", "amqp://", 0, 0.0, 0.0, 6000, 1000, kafka_partition_concurrency=concurrency)
    source = KafkaSource("Fn", "Kafka", (TOPIC,), batch_size=batch_size, batching_window_seconds=window)
    instance = KafkaPoller(
        source, function_name="fn", group_id="g", settings=settings, invoke=never_invoked, stop=threading.Event()
    )
    instance._consumer = cast(KafkaConsumer, consumer)
    return instance


def per_partition(batch: list[KafkaRecord]) -> dict[int, list[int]]:
    result: dict[int, list[int]] = {}
    for record in batch:
        result.setdefault(record.partition, []).append(record.offset)
    return result


def test_with_concurrency_every_partition_with_a_backlog_fills_its_own_batch():
    consumer = FakeConsumer({0: 2500, 1: 2500, 2: 2500})
    batch = poller(consumer, batch_size=1000, concurrency=8)._next_batch()
    got = per_partition(batch)
    assert {p: len(o) for p, o in got.items()} == {0: 1000, 1: 1000, 2: 1000}
    assert all(offsets == list(range(1000)) for offsets in got.values())


def test_records_over_a_partitions_quota_come_again_in_the_next_batch():
    consumer = FakeConsumer({0: 2500, 1: 1200, 2: 10})
    gatherer = poller(consumer, batch_size=1000, concurrency=8)
    delivered: dict[int, list[int]] = {}
    for _ in range(5):
        for partition, offsets in per_partition(gatherer._next_batch()).items():
            delivered.setdefault(partition, []).extend(offsets)
    assert delivered == {0: list(range(2500)), 1: list(range(1200)), 2: list(range(10))}  # none lost, none twice
    assert consumer.seeks and all(offset % 1000 == 0 for _, offset in consumer.seeks)


def test_no_partition_ever_passes_batch_size():
    consumer = FakeConsumer({0: 700, 1: 5000, 2: 40})
    batch = poller(consumer, batch_size=500, concurrency=8)._next_batch()
    assert {p: len(o) for p, o in per_partition(batch).items()} == {0: 500, 1: 500, 2: 40}


def test_a_backlog_on_one_partition_does_not_wait_out_the_window():
    consumer = FakeConsumer({0: 5000, 1: 0, 2: 0})
    gatherer = poller(consumer, batch_size=1000, concurrency=8, window=30)
    batch = gatherer._next_batch()  # a 30 s window would hang the test if the gathering waited for it
    assert len(batch) == 1000
    assert consumer.polls[-1][0] == 0  # once a partition was full, only what is ready already is taken


def test_without_concurrency_a_batch_is_batch_size_in_all():
    consumer = FakeConsumer({0: 2500, 1: 2500, 2: 2500})
    batch = poller(consumer, batch_size=1000, concurrency=1)._next_batch()
    assert len(batch) == 1000 and consumer.seeks == []


@pytest.mark.parametrize("concurrency", [1, 8])
def test_a_trickle_is_delivered_after_the_window(concurrency: int):
    consumer = FakeConsumer({0: 3, 1: 2, 2: 0})
    batch = poller(consumer, batch_size=1000, concurrency=concurrency, window=0.05)._next_batch()
    assert {p: len(o) for p, o in per_partition(batch).items()} == {0: 3, 1: 2}


def test_an_unexpected_error_rewinds_the_batch_and_the_poller_carries_on():
    """Issue 15 defect 4's class on the Kafka side: an error outside the delivery rules must not end the thread."""
    consumer = FakeConsumer({0: 3})

    def broken(function_name: str, event: Mapping[str, Any]) -> InvokeOutcome:
        raise TypeError("not JSON serializable")

    instance = poller(consumer, batch_size=10, concurrency=1, window=0.0)
    instance.invoke = broken
    batch = instance._next_batch()
    instance._handle(batch)  # must not raise
    assert consumer.seeks[-1] == (0, 0)  # rewound to the batch's first record: delivered again, never skipped
