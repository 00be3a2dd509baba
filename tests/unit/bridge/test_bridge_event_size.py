"""Issue 15 defect 5: no Kafka event the bridge builds exceeds Lambda's 6 MB payload, whatever the headers hold,
and every record still goes out, in order, in a later event."""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from infra.bridge.delivery import InvokeOutcome, RetryPolicy, deliver_kafka_partitions, event_chunks
from infra.bridge.events import (
    LAMBDA_PAYLOAD_LIMIT_BYTES,
    MAX_KAFKA_EVENT_BYTES,
    KafkaRecord,
    RabbitMessage,
    encode_event,
    kafka_event,
    kafka_record_json,
    kafka_record_json_bytes,
)
from infra.bridge.rabbit_poller import RabbitPoller
from infra.bridge.settings import BridgeSettings
from infra.bridge.template import RabbitSource

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


class RecordingChannel:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def basic_ack(self, delivery_tag: int, multiple: bool = False) -> None:
        self.calls.append(("ack", delivery_tag))

    def basic_nack(self, delivery_tag: int, multiple: bool = False, requeue: bool = True) -> None:
        self.calls.append(("nack", delivery_tag))


class NoSleepConnection:
    def sleep(self, seconds: float) -> None:
        return None


def test_rabbitmq_events_are_cut_under_the_limit_too_and_every_message_is_acked_once() -> None:
    """The same class of defect on the RabbitMQ side: a batch went out as one event, whatever its size."""
    invoker = RecordingInvoker()

    def invoke(function_name: str, event: Mapping[str, Any]) -> InvokeOutcome:
        invoker.sizes.append(len(encode_event(event)))
        invoker.delivered += [(m["basicProperties"]["messageId"], 0, 0) for m in event["rmqMessagesByQueue"]["q::/"]]
        return InvokeOutcome(payload=None)

    settings = BridgeSettings("k:9092", "amqp://x", 0, 0.0, 0.0, 6000, 1000)
    source = RabbitSource("Fn", "Mq", ("q",), "arn", batch_size=40)
    poller = RabbitPoller(
        source, queue="q", function_name="fn", settings=settings, invoke=invoke, stop=threading.Event()
    )
    body = bytes(range(256)) * 1024  # 256 KB: base64 makes ~341 KB of JSON per message, 40 of them ~13.7 MB
    batch = [
        RabbitMessage(
            tag, False, body, message_id=f"m{tag}", headers={"bin": bytes(200 + tag % 56 for _ in range(1400))}
        )
        for tag in range(1, 41)
    ]
    channel = RecordingChannel()
    poller._handle(NoSleepConnection(), channel, batch, 0.0)
    assert len(invoker.sizes) > 1 and max(invoker.sizes) <= LAMBDA_PAYLOAD_LIMIT_BYTES
    assert [message_id for message_id, _, _ in invoker.delivered] == [f"m{tag}" for tag in range(1, 41)]
    acked = [tag for kind, tag in channel.calls if kind == "ack"]
    assert acked == sorted(acked) and acked[-1] == 40 and not [c for c in channel.calls if c[0] == "nack"]


def test_the_counted_record_size_is_exactly_its_json_for_any_header_and_value() -> None:
    rng = random.Random(15)
    alphabet = [chr(code) for code in (0, 1, 31, 34, 47, 65, 92, 127, 0xE9, 0x2028, 0x5B57, 0xFFFF, 0x1F600)]
    for _ in range(500):
        headers = [
            (
                "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))),
                bytes(rng.randrange(256) for _ in range(rng.randint(0, 40))) if rng.random() > 0.2 else None,
            )
            for _ in range(rng.randint(0, 4))
        ]
        key = rng.choice([None, b"", b"\xff\x00", bytes(rng.randrange(256) for _ in range(7))])
        value = rng.choice([None, b"", bytes(rng.randrange(256) for _ in range(rng.randint(0, 90)))])
        record = KafkaRecord(
            "t.x-1", rng.randint(0, 99), rng.randint(0, 10**15), 1, rng.randint(0, 2), key, value, headers
        )
        assert kafka_record_json_bytes(record) == len(encode_event(kafka_record_json(record))), record
