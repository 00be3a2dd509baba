"""Delivery decisions, kept free of brokers and network so they are unit-tested with a fake invoker.

At-least-once like AWS: the caller commits Kafka offsets / acks RabbitMQ messages only after `deliver_*`
returns, i.e. after a successful invoke or after the records that kept failing were handed to the dead-letter
path. A stop request in the middle of the retries aborts without committing, so the batch is redelivered.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Protocol

from infra.bridge.events import (
    MAX_KAFKA_EVENT_BYTES,
    RECORD_SEPARATOR_BYTES,
    KafkaRecord,
    RabbitMessage,
    kafka_record_json_bytes,
    partition_group_bytes,
)
from taskapp.messaging.dead_letter import NotADeadLetter, RecordPosition


@dataclass(frozen=True)
class InvokeOutcome:
    """What one Invoke call gave: a payload (parsed JSON, or None) or the reason it failed."""

    payload: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Invoker(Protocol):
    def __call__(self, function_name: str, event: Mapping[str, Any]) -> InvokeOutcome: ...


class StopRequested(Exception):
    """The bridge is shutting down: abandon the batch uncommitted; it is redelivered on restart."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff, `max_retries` retries after the first attempt (like MaximumRetryAttempts)."""

    max_retries: int = 3
    base_seconds: float = 0.5
    max_seconds: float = 8.0

    def delay(self, retry_number: int) -> float:
        return float(min(self.max_seconds, self.base_seconds * 2 ** (retry_number - 1)))


class Sleeper:
    """Backoff sleep that wakes up at once when the bridge is asked to stop."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop

    def __call__(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise StopRequested


@dataclass
class BatchResult:
    attempts: int = 0
    # Records/messages that exhausted their retries, with the reason of the last failure.
    dead_letters: list[tuple[Any, str]] = field(default_factory=list)
    last_error: str | None = None

    @property
    def outcome(self) -> str:
        if not self.dead_letters:
            return "delivered" if self.attempts == 1 else "delivered-after-retry"
        return "dead-lettered"


def batch_log_fields(
    function_name: str, source: str, *, size: int, outcome: str, result: BatchResult | None, started: float
) -> dict[str, Any]:
    """The per-batch log record both pollers write (docs/bridge.md): one shape to grep, whatever the source."""
    return {
        "function": function_name,
        "source": source,
        "size": size,
        "result": outcome,
        "attempts": result.attempts if result else None,
        "dead_letters": len(result.dead_letters) if result else 0,
        "error": result.last_error if result else None,
        "duration_ms": round((time.monotonic() - started) * 1000, 1),
    }


class InvalidBatchResponse(ValueError):
    """A batchItemFailures entry that names no record of the batch: AWS treats that as a failed batch."""


def parse_item_identifier(identifier: Any) -> tuple[str, int, int]:
    """Accept both identifier forms for a Kafka record (documented in docs/bridge.md).

    - Powertools / AWS form: `{"partition": "<topic>-<partition>", "offset": <offset>}`
    - string form: `"<topic>-<partition>@<offset>"`
    Topic names may contain '-', so the partition number is taken after the last one.
    """
    if isinstance(identifier, str) and "@" in identifier:
        try:
            position = RecordPosition.parse(identifier)
        except NotADeadLetter as exc:
            raise InvalidBatchResponse(f"itemIdentifier {identifier!r} is not '<topic>-<partition>@<offset>'") from exc
        return position.topic, position.partition, position.offset
    if isinstance(identifier, Mapping):
        topic_partition, offset = identifier.get("partition"), identifier.get("offset")
    else:
        raise InvalidBatchResponse(f"unrecognised itemIdentifier {identifier!r}")
    if not isinstance(topic_partition, str) or "-" not in topic_partition:
        raise InvalidBatchResponse(f"itemIdentifier {identifier!r} has no '<topic>-<partition>'")
    topic, partition = topic_partition.rsplit("-", 1)
    try:
        return topic, int(partition), int(offset)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise InvalidBatchResponse(f"itemIdentifier {identifier!r} has a non-numeric partition/offset") from exc


def failed_kafka_records(payload: Any, batch: Sequence[KafkaRecord]) -> list[KafkaRecord]:
    """The records a `{"batchItemFailures": [...]}` response names; [] for any success response."""
    if not isinstance(payload, Mapping) or not payload.get("batchItemFailures"):
        return []
    by_id = {record.identifier: record for record in batch}
    failed: list[KafkaRecord] = []
    for entry in payload["batchItemFailures"]:
        key = parse_item_identifier(entry.get("itemIdentifier") if isinstance(entry, Mapping) else None)
        if key not in by_id:
            raise InvalidBatchResponse(f"itemIdentifier {key} is not a record of this batch")
        failed.append(by_id[key])
    return failed


def retry_from_first_failure(batch: Sequence[KafkaRecord], failed: Sequence[KafkaRecord]) -> list[KafkaRecord]:
    """Like AWS's Kafka poller: each partition with a failure is retried from its first failed offset on."""
    first_failed: dict[tuple[str, int], int] = {}
    for record in failed:
        key = (record.topic, record.partition)
        first_failed[key] = min(first_failed.get(key, record.offset), record.offset)
    return [
        r for r in batch if (r.topic, r.partition) in first_failed and r.offset >= first_failed[(r.topic, r.partition)]
    ]


def deliver_kafka_batch(
    function_name: str,
    batch: Sequence[KafkaRecord],
    *,
    build_event: Callable[[Sequence[KafkaRecord]], Mapping[str, Any]],
    invoke: Invoker,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> BatchResult:
    """Invoke until the batch succeeds or the retries run out; what still fails then becomes a dead letter."""
    result = BatchResult()
    pending = list(batch)
    while True:
        result.attempts += 1
        outcome = invoke(function_name, build_event(pending))
        if outcome.ok:
            try:
                failed = failed_kafka_records(outcome.payload, pending)
            except InvalidBatchResponse as exc:
                failed, result.last_error = list(pending), f"invalid batch response: {exc}"
            else:
                if not failed:
                    return result
                result.last_error = f"batchItemFailures: {len(failed)} record(s) reported failed"
            retry = retry_from_first_failure(pending, failed)
        else:
            failed, retry, result.last_error = list(pending), list(pending), outcome.error
        if result.attempts > policy.max_retries:
            reason = result.last_error or "failed"
            result.dead_letters = [(record, reason) for record in failed]
            return result
        sleep(policy.delay(result.attempts))
        pending = retry


def event_chunks(
    records: Iterable[KafkaRecord],
    max_event_bytes: int = MAX_KAFKA_EVENT_BYTES,
    max_records: int | None = None,
    record_bytes: Callable[[KafkaRecord], int] = kafka_record_json_bytes,
) -> list[list[KafkaRecord]]:
    """The records in (topic, partition, offset) order, cut into events under the payload limit and BatchSize.

    Like AWS's poller, which cuts a batch at 6 MB. The size counted is exactly what the records add to the
    encoded event: each record's JSON, the `", "` between records, and each `"topic-partition": [...]` group.
    A record bigger than the limit goes alone: its invoke fails and the record ends in the DLQ, as on AWS.
    """
    chunks: list[list[KafkaRecord]] = [[]]
    size = 0
    for record in sorted(records, key=lambda r: r.identifier):
        current = chunks[-1]
        new_group = not current or (current[-1].topic, current[-1].partition) != (record.topic, record.partition)
        overhead = partition_group_bytes(record.topic, record.partition) if new_group else RECORD_SEPARATOR_BYTES
        own = record_bytes(record)
        needed = own + overhead
        too_many = max_records is not None and len(current) >= max_records
        if current and (too_many or size + needed > max_event_bytes):
            chunks.append([])
            needed = own + partition_group_bytes(record.topic, record.partition)
            size = 0
        chunks[-1].append(record)
        size += needed
    return chunks if chunks[0] else []


def partition_chunks(
    batch: Iterable[KafkaRecord], max_event_bytes: int = MAX_KAFKA_EVENT_BYTES, max_records: int | None = None
) -> list[list[list[KafkaRecord]]]:
    """Per topic-partition, its events (see `event_chunks`): the outer list is the unit of concurrency."""
    by_partition: dict[tuple[str, int], list[KafkaRecord]] = {}
    for record in sorted(batch, key=lambda r: r.identifier):
        by_partition.setdefault((record.topic, record.partition), []).append(record)
    return [event_chunks(records, max_event_bytes, max_records) for records in by_partition.values()]


def deliver_kafka_partitions(
    function_name: str,
    batch: Sequence[KafkaRecord],
    *,
    build_event: Callable[[Sequence[KafkaRecord]], Mapping[str, Any]],
    invoke: Invoker,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    executor: Executor | None = None,
    max_event_bytes: int = MAX_KAFKA_EVENT_BYTES,
    max_records: int | None = None,
) -> BatchResult:
    """Deliver a polled batch: with an executor, partitions concurrently, each partition's records in order;
    without one, the whole batch in one event (cut at the payload limit and at `max_records`) as before.

    The caller commits only after this returns, i.e. after every partition was delivered or dead-lettered, so
    commit-after-success holds for the whole batch. If any partition sees a stop request, StopRequested is
    raised once the others have finished and nothing is committed (redelivery is harmless: at-least-once).
    """

    def one_partition(chunks: list[list[KafkaRecord]]) -> list[BatchResult]:
        return [
            deliver_kafka_batch(
                function_name, chunk, build_event=build_event, invoke=invoke, policy=policy, sleep=sleep
            )
            for chunk in chunks
        ]

    partitions = partition_chunks(batch, max_event_bytes, max_records) if executor is not None else []
    if len(partitions) <= 1:
        results = one_partition(event_chunks(batch, max_event_bytes, max_records))
    else:
        assert executor is not None
        futures = [executor.submit(one_partition, chunks) for chunks in partitions]
        errors = [future.exception() for future in futures]  # wait for all: none may outlive the commit
        for error in errors:
            if isinstance(error, StopRequested):
                raise error
        for error in errors:
            if error is not None:
                raise error
        results = [result for future in futures for result in future.result()]
    combined = BatchResult(attempts=max((r.attempts for r in results), default=0))
    for result in results:
        combined.dead_letters.extend(result.dead_letters)
        combined.last_error = combined.last_error or result.last_error
    return combined


def rabbit_event_chunks(
    sized: Sequence[tuple[RabbitMessage, int]], max_event_bytes: int = MAX_KAFKA_EVENT_BYTES
) -> list[list[RabbitMessage]]:
    """Messages (with their exact encoded sizes) in order, cut into events under the payload limit.

    Like AWS's MQ poller, which also stops a batch at 6 MB. A message bigger than the limit goes alone: its
    invoke fails and, after the retries, it is dead-lettered.
    """
    chunks: list[list[RabbitMessage]] = []
    size = 0
    for message, encoded in sized:
        needed = encoded + RECORD_SEPARATOR_BYTES
        if not chunks or size + needed > max_event_bytes:
            chunks.append([])
            size = 0
        chunks[-1].append(message)
        size += needed
    return chunks


def deliver_rabbit_batch(
    function_name: str,
    batch: Sequence[RabbitMessage],
    *,
    build_event: Callable[[Sequence[RabbitMessage]], Mapping[str, Any]],
    invoke: Invoker,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> BatchResult:
    """RabbitMQ has no partial batch response on AWS: the whole batch succeeds or, after retries, is dead-lettered."""
    result = BatchResult()
    event = build_event(batch)
    while True:
        result.attempts += 1
        outcome = invoke(function_name, event)
        if outcome.ok:
            return result
        result.last_error = outcome.error
        if result.attempts > policy.max_retries:
            result.dead_letters = [(message, outcome.error or "failed") for message in batch]
            return result
        sleep(policy.delay(result.attempts))


def describe_payload(payload: Any, limit: int = 300) -> str:
    """A short, loggable rendering of a function's error payload."""
    text = payload if isinstance(payload, str) else json.dumps(payload, default=str)
    return text[:limit]
