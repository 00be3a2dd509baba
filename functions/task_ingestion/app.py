"""Kafka `task.ingested` consumer: stores valid tasks in batches, parks invalid records on task.ingested.dlq.

Why not Powertools' BatchProcessor: it calls the record handler one record at a time, which would mean one
DynamoDB write per record; storing a batch with BatchWriteItem needs the whole batch at once. The partial
failure response keeps the exact shape BatchProcessor(EventType.Kafka) emits, and only transient failures
(storage or DLQ unreachable) are reported; an invalid record is parked and counts as done.
"""

# First of all: pauses the garbage collector while the modules below load; ready() at the end resumes it.
from taskapp import coldstart

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from taskapp.domain.ingestion import ingest_batch, records_of
from taskapp.observability import instrumented, logger


@instrumented
@event_source(data_class=KafkaEvent)
def handler(event: KafkaEvent, context: LambdaContext) -> dict[str, Any]:
    records = records_of(event)
    outcome = ingest_batch(records, function_name=context.function_name)
    logger.info(
        "ingest batch done",
        extra={
            "records": len(records),
            "stored": outcome.stored,
            "duplicates": outcome.duplicates,
            "deadLettered": outcome.dead_lettered,
            "failed": len(outcome.failed),
        },
    )
    return {"batchItemFailures": [{"itemIdentifier": record.identifier} for record in outcome.failed]}


coldstart.ready()
