"""One long-lived Kafka consumer per `SelfManagedKafka` event: poll a batch, invoke, then commit.

Offsets are committed only after the batch was delivered or its failing records were produced to the
`{topic}.dlq` topic, so a crash at any point redelivers (at-least-once) and a poison batch never blocks a
partition forever. The consumer stays in its group for the bridge's whole life: a rejoin costs a rebalance.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from infra.bridge.delivery import (
    BatchResult,
    Invoker,
    RetryPolicy,
    Sleeper,
    StopRequested,
    batch_log_fields,
    deliver_kafka_partitions,
)
from infra.bridge.events import KafkaRecord, kafka_event
from infra.bridge.log import logger
from infra.bridge.settings import BridgeSettings
from infra.bridge.template import KafkaSource
from infra.bridge.topics import ensure_topics
from taskapp.messaging.dead_letter import DeadLetter, EncodedRecord, RecordPosition

DLQ_SUFFIX = ".dlq"
POLL_IDLE_MS = 500  # how often an idle poller checks for a stop request


def default_group_id(stack_name: str, source: KafkaSource) -> str:
    """AWS names the group after the mapping's UUID; here the stack and function name it, stable across restarts."""
    return source.consumer_group_id or f"{stack_name}-{source.function_logical_id}"


def to_record(raw: Any) -> KafkaRecord:
    return KafkaRecord(
        topic=raw.topic,
        partition=raw.partition,
        offset=raw.offset,
        timestamp=raw.timestamp,
        timestamp_type=raw.timestamp_type,
        key=raw.key,
        value=raw.value,
        headers=list(raw.headers or []),
    )


def dead_letter(record: KafkaRecord, reason: str, function_name: str, attempts: int) -> EncodedRecord:
    """The record as the DLQ contract writes it: untouched, plus why and from where it was dead-lettered."""
    return DeadLetter(
        reason=reason,
        source=RecordPosition(record.topic, record.partition, record.offset),
        key=record.key,
        value=record.value,
        headers=tuple((name, value or b"") for name, value in record.headers),
        function=function_name,
        attempts=attempts,
    ).encode()


def dead_letter_headers(record: KafkaRecord, reason: str, function_name: str, attempts: int) -> list[tuple[str, bytes]]:
    """The original headers plus why and from where the record was dead-lettered."""
    return list(dead_letter(record, reason, function_name, attempts).headers)


class KafkaPoller:
    def __init__(
        self,
        source: KafkaSource,
        *,
        function_name: str,
        group_id: str,
        settings: BridgeSettings,
        invoke: Invoker,
        stop: threading.Event,
    ) -> None:
        if source.starting_position not in ("TRIM_HORIZON", "LATEST"):
            raise ValueError(f"{source.label}: StartingPosition {source.starting_position} is not supported")
        self.source = source
        self.function_name = function_name
        self.group_id = group_id
        self.settings = settings
        self.invoke = invoke
        self.stop = stop
        self.ready = threading.Event()
        self.policy = RetryPolicy(settings.max_retries, settings.backoff_base_seconds, settings.backoff_max_seconds)
        self._consumer: KafkaConsumer | None = None
        self._producer: KafkaProducer | None = None
        self._partition_pool = (
            ThreadPoolExecutor(settings.kafka_partition_concurrency, thread_name_prefix=f"kafka-{source.label}")
            if settings.kafka_partition_concurrency > 1
            else None
        )

    # --- lifecycle -------------------------------------------------------------------------------------------
    def run(self) -> None:
        """Thread body: consume until stopped; broker errors are logged and retried, never fatal."""
        ensure_topics(self.settings.kafka_bootstrap_servers, {f"{t}{DLQ_SUFFIX}": 1 for t in self.source.topics})
        self._consumer = KafkaConsumer(
            *self.source.topics,
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=self.group_id,
            client_id=f"event-bridge-{self.source.function_logical_id}",
            enable_auto_commit=False,
            auto_offset_reset="earliest" if self.source.starting_position == "TRIM_HORIZON" else "latest",
            max_poll_records=self.source.batch_size,
            session_timeout_ms=self.settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=self.settings.kafka_heartbeat_interval_ms,
            # A batch may spend the function timeout times every retry in invoke: never get kicked for it.
            max_poll_interval_ms=3_600_000,
        )
        self._producer = KafkaProducer(bootstrap_servers=self.settings.kafka_bootstrap_servers, acks="all")
        logger.info("kafka consumer started", extra={"source": self.source.label, "group": self.group_id})
        try:
            while not self.stop.is_set():
                try:
                    batch = self._next_batch()
                except KafkaError as exc:  # broker restarting or unreachable: keep trying, loudly
                    logger.warning("kafka poll failed", extra={"source": self.source.label, "error": repr(exc)})
                    self.stop.wait(1.0)
                    continue
                if batch:
                    self._handle(batch)
        finally:
            # close() leaves the group at once, so the next bridge gets the partitions without a session timeout.
            self._consumer.close(autocommit=False)
            self._producer.close(timeout=5)
            if self._partition_pool is not None:
                self._partition_pool.shutdown(wait=True)
            logger.info("kafka consumer stopped", extra={"source": self.source.label})

    # --- batching ----------------------------------------------------------------------------------------------
    def _poll(self, timeout_ms: int, max_records: int) -> list[KafkaRecord]:
        assert self._consumer is not None
        polled = self._consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
        if not self.ready.is_set() and self._consumer.assignment():
            self.ready.set()
            logger.info(
                "kafka partitions assigned",
                extra={
                    "source": self.source.label,
                    "partitions": sorted(f"{tp.topic}-{tp.partition}" for tp in self._consumer.assignment()),
                },
            )
        return [to_record(raw) for records in polled.values() for raw in records]

    def _next_batch(self) -> list[KafkaRecord]:
        """Up to BatchSize records per assigned partition, waiting at most the batching window after the first.

        With partition concurrency on, partitions are gathered side by side so they can be invoked side by side
        (kafka-python's poll drains one partition's backlog before the next). Once a partition is full, the
        gathering ends at the first poll that adds nothing, so a one-partition backlog never waits out the
        window. Without concurrency: BatchSize records in all, as AWS.
        """
        assert self._consumer is not None
        quota = self.source.batch_size
        concurrent = self._partition_pool is not None
        total = quota * (max(1, len(self._consumer.assignment())) if concurrent else 1)
        gathered: dict[TopicPartition, list[KafkaRecord]] = {}
        if not self._keep(gathered, self._poll(POLL_IDLE_MS, total), quota):
            return []
        deadline = time.monotonic() + self.source.batching_window_seconds
        while not self.stop.is_set():
            size = sum(len(records) for records in gathered.values())
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if size >= total or remaining_ms <= 0:
                break
            full = any(len(records) >= quota for records in gathered.values())
            try:
                more = self._poll(0 if full else remaining_ms, total - size)
            except KafkaError as exc:
                # The records already polled moved the consumer's position: deliver them rather than drop them.
                logger.warning("kafka poll failed", extra={"source": self.source.label, "error": repr(exc)})
                break
            if not self._keep(gathered, more, quota) and full:
                break
        return [record for records in gathered.values() for record in records]

    def _keep(self, gathered: dict[TopicPartition, list[KafkaRecord]], polled: list[KafkaRecord], quota: int) -> int:
        """Add at most `quota` records per partition; how many were added.

        A partition's records beyond its quota are given back by seeking to the first of them, so they come again
        in the next batch. (Not `pause()`: kafka-python 3.0.12 never hands back records it parked for a paused
        partition once another partition's records were drained, and that partition stalls.)
        """
        added = 0
        over_quota: list[KafkaRecord] = []
        for record in polled:
            tp = TopicPartition(record.topic, record.partition)
            kept = gathered.setdefault(tp, [])
            if len(kept) >= quota:
                over_quota.append(record)
            else:
                kept.append(record)
                added += 1
        self._rewind(over_quota)
        return added

    # --- delivery ----------------------------------------------------------------------------------------------
    def _handle(self, batch: Sequence[KafkaRecord]) -> None:
        started = time.monotonic()
        try:
            # Partitions are invoked concurrently, each in offset order; the commit waits for all of them.
            result = deliver_kafka_partitions(
                self.function_name,
                batch,
                build_event=self._build_event,
                invoke=self.invoke,
                policy=self.policy,
                sleep=Sleeper(self.stop),
                executor=self._partition_pool,
                max_records=self.source.batch_size,
            )
            self._dead_letter(result)
            self._commit(batch)
        except StopRequested:
            self._log_batch(batch, started, "abandoned-on-stop", None)
            return
        except KafkaError as exc:
            # DLQ produce or commit failed: rewind so the batch is delivered again rather than lost.
            self._rewind(batch)
            self._log_batch(batch, started, "broker-error", None, error=repr(exc))
            self.stop.wait(1.0)
            return
        except Exception as exc:  # noqa: BLE001 - no record and no bug may end the poller (the runner would stop)
            # Same as a broker error: nothing was committed, so rewinding redelivers the batch; nothing is lost.
            logger.exception("kafka batch failed unexpectedly", extra={"source": self.source.label})
            self._rewind(batch)
            self._log_batch(batch, started, "bridge-error", None, error=repr(exc))
            self.stop.wait(1.0)
            return
        self._log_batch(batch, started, result.outcome, result)

    def _build_event(self, records: Sequence[KafkaRecord]) -> dict[str, Any]:
        return kafka_event(records, self.settings.kafka_bootstrap_servers)

    def _dead_letter(self, result: BatchResult) -> None:
        assert self._producer is not None
        letters = [
            (record.topic, dead_letter(record, reason, self.function_name, result.attempts))
            for record, reason in result.dead_letters
        ]
        futures = [
            self._producer.send(
                f"{topic}{DLQ_SUFFIX}", key=letter.key, value=letter.value, headers=list(letter.headers)
            )
            for topic, letter in letters
        ]
        for future in futures:
            future.get(timeout=30)  # raise if the dead letter was not stored: then nothing is committed

    def _commit(self, batch: Sequence[KafkaRecord]) -> None:
        assert self._consumer is not None
        next_offsets: dict[TopicPartition, int] = {}
        for record in batch:
            tp = TopicPartition(record.topic, record.partition)
            next_offsets[tp] = max(next_offsets.get(tp, 0), record.offset + 1)
        self._consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in next_offsets.items()})

    def _rewind(self, batch: Sequence[KafkaRecord]) -> None:
        assert self._consumer is not None
        first: dict[TopicPartition, int] = {}
        for record in batch:
            tp = TopicPartition(record.topic, record.partition)
            first[tp] = min(first.get(tp, record.offset), record.offset)
        for tp, offset in first.items():
            if tp in self._consumer.assignment():
                self._consumer.seek(tp, offset)

    def _log_batch(
        self,
        batch: Sequence[KafkaRecord],
        started: float,
        outcome: str,
        result: BatchResult | None,
        error: str | None = None,
    ) -> None:
        partitions = sorted({f"{r.topic}-{r.partition}" for r in batch})
        fields = batch_log_fields(
            self.function_name,
            f"kafka:{','.join(partitions)}",
            size=len(batch),
            outcome=outcome,
            result=result,
            started=started,
        )
        if error:
            fields["error"] = error
        logger.info("batch", extra=fields)


def start_thread(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread
