"""Issue 15 defect 5: no Kafka event the bridge builds exceeds Lambda's 6 MB payload, whatever the headers hold,
and every record still goes out, in order, in a later event."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from infra.bridge.delivery import InvokeOutcome, RetryPolicy, deliver_kafka_partitions, event_chunks
from infra.bridge.events import (
    LAMBDA_PAYLOAD_LIMIT_BYTES,
    MAX_KAFKA_EVENT_BYTES,
    KafkaRecord,
    encode_event,
    kafka_event,
)

BOOTSTRAP = "broker-1:9092,broker-2:9092"
ENVELOPE_BYTES = len(encode_event(kafka_event([], BOOTSTRAP)))


def adversarial(count: int, partitions: int = 3) -> list[KafkaRecord]:
    """Headers whose JSON is as long as it gets: 3-digit bytes, escaped control characters, astral characters."""
    records = []
    for n in range(count):
        header = bytes(200 + (i + n) % 56 for i in range(1400))  # "2xx, ": 5 bytes per byte
        headers = [
            ("bin", header),
            ('\x01ctl\x1f"\\', b"\x00" * 10),  # each control char is written \u00XX
            ("名前😀" * 3, "välüe😀".encode()),  # non-ASCII names: \uXXXX, astral ones as a surrogate pair
            ("empty", None),
        ]
        records.append(
            KafkaRecord(
                "task.ingested", n % partitions, n, 1_700_000_000_000, 0, b"\xff\x00k", "é\n\x7f".encode() * 40, headers
            )
        )
    return records


class RecordingInvoker:
    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.delivered: list[tuple[str, int, int]] = []
        self._lock = threading.Lock()

    def __call__(self, function_name: str, event: Mapping[str, Any]) -> InvokeOutcome:
        size = len(encode_event(event))  # exactly what the Lambda invoker sends
        with self._lock:
            self.sizes.append(size)
            self.delivered += [
                (r["topic"], r["partition"], r["offset"]) for rs in event["records"].values() for r in rs
            ]
        return InvokeOutcome(payload={"batchItemFailures": []})


@pytest.mark.parametrize("concurrent", [False, True])
def test_6000_records_with_1400_byte_binary_headers_stay_under_the_limit_and_all_go_out(concurrent: bool) -> None:
    records = adversarial(6000)
    invoker = RecordingInvoker()
    executor = None
    if concurrent:
        from concurrent.futures import ThreadPoolExecutor

        executor = ThreadPoolExecutor(3)
    try:
        for start in range(0, len(records), 3000):  # polled batches of 1000 per partition
            deliver_kafka_partitions(
                "fn",
                records[start : start + 3000],
                build_event=lambda rs: kafka_event(rs, BOOTSTRAP),
                invoke=invoker,
                policy=RetryPolicy(0),
                sleep=lambda seconds: None,
                executor=executor,
                max_records=1000,
            )
    finally:
        if executor is not None:
            executor.shutdown()
    assert max(invoker.sizes) <= ENVELOPE_BYTES + MAX_KAFKA_EVENT_BYTES <= LAMBDA_PAYLOAD_LIMIT_BYTES
    assert max(invoker.sizes) > MAX_KAFKA_EVENT_BYTES * 0.9  # the events are cut at the limit, not far below it
    assert sorted(invoker.delivered) == sorted(r.identifier for r in records)
    assert len(set(invoker.delivered)) == len(records)
    for partition in range(3):
        offsets = [offset for _, p, offset in invoker.delivered if p == partition]
        assert offsets == sorted(offsets)


def records_bytes(chunk: Sequence[KafkaRecord]) -> int:
    return len(encode_event(kafka_event(chunk, BOOTSTRAP))) - ENVELOPE_BYTES


def test_each_event_is_cut_exactly_where_the_next_record_would_pass_the_limit() -> None:
    limit = 300_000
    records = adversarial(200, partitions=2)
    chunks = event_chunks(records, max_event_bytes=limit)
    assert [r for chunk in chunks for r in chunk] == sorted(records, key=lambda r: r.identifier)
    for chunk, following in itertools.pairwise(chunks):
        assert records_bytes(chunk) <= limit
        assert records_bytes([*chunk, following[0]]) > limit  # exact: not one more record would have fitted
    assert records_bytes(chunks[-1]) <= limit
