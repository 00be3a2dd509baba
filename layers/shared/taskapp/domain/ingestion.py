"""Bulk ingestion through Kafka: accept tasks at the API, and store what arrives on `task.ingested`.

Producing side: POST /tasks/ingest validates with the same rules as POST /tasks, assigns ids, and produces one
record per task (key = task id). Consuming side: every record of a batch is validated; valid tasks that are not
stored yet are written with BatchWriteItem; invalid records are parked on `task.ingested.dlq` with the reason
(the dead-letter contract is `taskapp.messaging.dead_letter`). A redelivered record finds its task already stored
and is skipped, so a task is created exactly once.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEvent, KafkaEventRecord
from pydantic import ValidationError

from taskapp.data import StorageUnavailable
from taskapp.data import tasks as store
from taskapp.domain.records.tasks import Task
from taskapp.domain.tasks import new_task
from taskapp.messaging.dead_letter import DeadLetter, RecordPosition
from taskapp.messaging.kafka import KafkaUnavailable, OutgoingRecord, produce_all
from taskapp.observability import logger, metrics
from taskapp.schemas.ingest import IngestedTaskMessage
from taskapp.settings import ingest_settings


@dataclass(frozen=True)
class InboundRecord:
    """The fields of one AWS Kafka event record the ingestion needs (key/value already base64-decoded)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()

    @property
    def position(self) -> RecordPosition:
        return RecordPosition(self.topic, self.partition, self.offset)

    @property
    def identifier(self) -> dict[str, Any]:
        """AWS's Kafka batchItemFailures identifier (the same one Powertools' BatchProcessor emits)."""
        return {"partition": f"{self.topic}-{self.partition}", "offset": self.offset}


@dataclass
class BatchOutcome:
    stored: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    failed: list[InboundRecord] = field(default_factory=list)


class InvalidRecord(Exception):
    def __init__(self, reason: str, details: Any = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


def records_of(event: KafkaEvent | dict[str, Any]) -> list[InboundRecord]:
    """Every record of the `records` map (keyed `topic-partition`), in partition order, offsets ascending."""
    kafka_event = event if isinstance(event, KafkaEvent) else KafkaEvent(event)
    if not kafka_event.get("records"):
        return []
    records = [_inbound(record) for record in kafka_event.records]
    return sorted(records, key=lambda record: (record.topic, record.partition, record.offset))


def _inbound(record: KafkaEventRecord) -> InboundRecord:
    # Not Powertools' decoded_key/decoded_value: they accept any text as base64, and a value may be absent.
    return InboundRecord(
        topic=str(record.topic),
        partition=int(record.partition),
        offset=int(record.offset),
        key=_b64(record.key),
        value=_b64(record.get("value")),
        # A list per header keeps repeated names (decoded_headers is a dict); & 0xFF reads signed bytes too.
        headers=tuple(
            (name, bytes(byte & 0xFF for byte in values or ()))
            for header in record.get("headers") or ()
            for name, values in header.items()
        ),
    )


def _b64(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b"\x00undecodable-base64:" + text.encode("utf-8", "replace")


def parse_record(record: InboundRecord) -> Task:
    if record.value is None:
        raise InvalidRecord("EMPTY_VALUE")
    try:
        payload = json.loads(record.value)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRecord("MALFORMED_JSON", str(exc)) from exc
    try:
        message = IngestedTaskMessage.model_validate(payload)
    except ValidationError as exc:
        details = [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
        raise InvalidRecord("VALIDATION_ERROR", details) from exc
    key = record.key.decode("utf-8", "replace") if record.key is not None else None
    if key != message.id:
        raise InvalidRecord("KEY_MISMATCH", {"key": key, "id": message.id})
    return new_task(message.owner_id, message.task, task_id=message.id, now=message.created_at)


def _dead_letter(record: InboundRecord, error: InvalidRecord, function_name: str = "") -> OutgoingRecord:
    letter = DeadLetter(
        reason=error.reason,
        source=record.position,
        key=record.key,
        value=record.value,
        headers=record.headers,
        function=function_name,
        details=error.details,
    ).encode()
    return OutgoingRecord(ingest_settings().ingest_dlq_topic, letter.key, letter.value, letter.headers)


def ingest_batch(records: Iterable[InboundRecord], function_name: str = "") -> BatchOutcome:
    """Validate, park the invalid, store the new; transient failures come back in `failed` for a retry.

    `function_name` (the consumer's own) goes into each dead letter's `dlq-function` header.
    """
    outcome = BatchOutcome()
    valid: dict[tuple[str, str], tuple[InboundRecord, Task]] = {}
    dead: list[tuple[InboundRecord, OutgoingRecord]] = []
    for record in records:
        try:
            task = parse_record(record)
        except InvalidRecord as error:
            logger.warning("invalid ingest record", extra={"reason": error.reason, "source": record.identifier})
            dead.append((record, _dead_letter(record, error, function_name)))
            continue
        valid[(task.owner_id, task.task_id)] = (record, task)  # same id twice in a batch: the later one wins

    if dead:
        try:
            produce_all(outgoing for _, outgoing in dead)
            outcome.dead_lettered = len(dead)
        except KafkaUnavailable:
            logger.exception("cannot reach the dead-letter topic; records will be retried")
            outcome.failed.extend(record for record, _ in dead)

    if valid:
        try:
            existing = store.existing_task_ids(list(valid))
            fresh = [task for key, (_, task) in valid.items() if key not in existing]
            store.put_tasks(fresh)
            outcome.stored, outcome.duplicates = len(fresh), len(valid) - len(fresh)
        except StorageUnavailable:  # transient: report every record for a retry
            logger.exception("batch write failed; records will be retried")
            outcome.failed.extend(record for record, _ in valid.values())
    metrics.add_metric(name="TasksIngested", unit="Count", value=outcome.stored)
    metrics.add_metric(name="IngestRecordsDeadLettered", unit="Count", value=outcome.dead_lettered)
    return outcome
