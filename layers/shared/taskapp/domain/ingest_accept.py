"""Bulk ingestion, producing side: POST /tasks/ingest validates, assigns ids and produces one record per task.

Apart from the consuming side (taskapp.domain.ingestion) because it never touches DynamoDB: the ingest_tasks
function then loads no DynamoDB client library. The record schema is in docs/events.md.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

# Every request of this function produces: load kafka-python with the module, where the import budget counts it,
# not inside the first produce (taskapp.messaging.kafka imports it lazily for functions that rarely need it).
import kafka  # noqa: F401

from taskapp.errors import ServiceUnavailable
from taskapp.messaging.kafka import KafkaUnavailable, OutgoingRecord, produce_all
from taskapp.observability import logger, metrics
from taskapp.schemas.ingest import IngestAcceptedOut, IngestedTaskMessage, IngestTaskItem
from taskapp.schemas.tasks import PersonalTaskRequest
from taskapp.settings import ingest_settings


def accept_tasks(owner_id: str, items: list[IngestTaskItem]) -> IngestAcceptedOut:
    """Produce every task to Kafka and return their ids; nothing is accepted unless Kafka acknowledged all."""
    settings = ingest_settings()
    now = datetime.now(UTC)
    records = []
    ids = []
    for item in items:
        task_id = item.id or str(uuid.uuid4())
        message = IngestedTaskMessage(
            id=task_id,
            owner_id=owner_id,
            created_at=now,
            task=PersonalTaskRequest.model_validate(item.model_dump(exclude={"id"})),
        )
        records.append(
            OutgoingRecord(
                topic=settings.ingest_topic,
                key=task_id.encode("utf-8"),
                value=message.model_dump_json(by_alias=True, exclude_none=True).encode("utf-8"),
                headers=[("content-type", b"application/json"), ("schema-version", b"1")],
            )
        )
        ids.append(task_id)
    try:
        produce_all(records)
    except KafkaUnavailable as exc:
        logger.warning("ingest produce failed", extra={"error": str(exc)})
        raise ServiceUnavailable("Ingestion queue is unavailable; try again", code="INGEST_UNAVAILABLE") from exc
    metrics.add_metric(name="TasksAccepted", unit="Count", value=len(ids))
    return IngestAcceptedOut(ids=ids, topic=settings.ingest_topic)
