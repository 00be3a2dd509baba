"""Tasks-table stream -> EventBridge Scheduler: keeps exactly one one-time schedule per task reminder in step.

A second consumer of the stream beside the outbox publisher, so a Scheduler outage delays reminders only and never
the task events. Records are handled in stream order; the first one that fails (the Scheduler unreachable, throttled)
is reported with every later one, and the stream retries from there (taskapp.domain.reminders).
"""

# First of all: pauses the garbage collector while the modules below load; ready() at the end resumes it.
from taskapp import coldstart

# isort: split
from collections import Counter
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from taskapp.domain.outbox_batch import OrderedStreamProcessor
from taskapp.domain.reminders import sync_schedule
from taskapp.messaging.scheduler import EventBridgeSchedules
from taskapp.observability import instrumented, logger, metrics

schedules = EventBridgeSchedules()
processor = OrderedStreamProcessor(logger=logger)


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcomes: Counter[str] = Counter()

    def record_handler(record: DynamoDBRecord) -> None:
        outcomes[sync_schedule(record, schedules)] += 1

    response = dict(process_partial_response(event, record_handler, processor, context))
    result: dict[str, Any] = dict(outcomes)
    if response.get("batchItemFailures"):
        result["batchItemFailures"] = response["batchItemFailures"]
    metrics.add_metric(name="ReminderSchedulesChanged", unit="Count", value=outcomes["upserted"] + outcomes["deleted"])
    logger.info("reminder schedules in step", extra=result)
    return result


coldstart.ready()
