"""Bulk ingestion through Kafka: accept tasks at the API, and store what arrives on `task.ingested`.

Producing side: POST /tasks/ingest validates with the same rules as POST /tasks, assigns ids, and produces one
record per task (key = task id). Consuming side: every record of a batch is validated; valid tasks that are not
stored yet are written with BatchWriteItem; invalid records are parked on `task.ingested.dlq` with the reason.
A redelivered record finds its task already stored and is skipped, so a task is created exactly once.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from taskapp.data import StorageUnavailable
from taskapp.data import tasks as store
from taskapp.domain.records.tasks import Task
from taskapp.domain.tasks import new_task
from taskapp.messaging.kafka import KafkaUnavailable, OutgoingRecord, json_bytes, produce_all
from taskapp.observability import logger, metrics
from taskapp.schemas.ingest import IngestedTaskMessage
from taskapp.settings import get_settings


@dataclass(frozen=True)
class InboundRecord:
    """The fields of one AWS Kafka event record the ingestion needs (key/value already base64-decoded)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None

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


def records_of(event: dict[str, Any]) -> list[InboundRecord]:
    """Flatten `records` (keyed `topic-partition`) in partition order, offsets ascending."""
    flattened = []
    for batch in (event.get("records") or {}).values():
        for raw in batch:
            flattened.append(
                InboundRecord(
                    topic=str(raw["topic"]),
                    partition=int(raw["partition"]),
                    offset=int(raw["offset"]),
                    key=_b64(raw.get("key")),
                    value=_b64(raw.get("value")),
                )
            )
    return sorted(flattened, key=lambda record: (record.topic, record.partition, record.offset))


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


def _dead_letter(record: InboundRecord, error: InvalidRecord) -> OutgoingRecord:
    value = record.value or b""
    try:
        original: Any = json.loads(value)
    except ValueError:
        original = value.decode("utf-8", "replace")
    body = {
        "reason": error.reason,
        "details": error.details,
        "source": {"topic": record.topic, "partition": record.partition, "offset": record.offset},
        "key": record.key.decode("utf-8", "replace") if record.key is not None else None,
        "value": original,
        "deadLetteredAt": datetime.now(UTC).isoformat(),
    }
    return OutgoingRecord(
        topic=get_settings().ingest_dlq_topic,
        key=record.key or b"",
        value=json_bytes(body),
        headers=[
            ("dlq-reason", error.reason.encode()),
            ("dlq-source", f"{record.topic}-{record.partition}@{record.offset}".encode()),
        ],
    )


def ingest_batch(records: Iterable[InboundRecord]) -> BatchOutcome:
    """Validate, park the invalid, store the new; transient failures come back in `failed` for a retry."""
    outcome = BatchOutcome()
    valid: dict[tuple[str, str], tuple[InboundRecord, Task]] = {}
    dead: list[tuple[InboundRecord, OutgoingRecord]] = []
    for record in records:
        try:
            task = parse_record(record)
        except InvalidRecord as error:
            logger.warning("invalid ingest record", extra={"reason": error.reason, "source": record.identifier})
            dead.append((record, _dead_letter(record, error)))
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
