"""Tasks, projects and comments table streams -> `task.events` exchange: the outbox publisher.

Publishes every record's event in stream order with publisher confirms. A row it cannot read goes to the failure
queue with the reason and the batch goes on; RabbitMQ down fails the whole batch so the stream retries it (already
published events are deduped downstream by message id); see taskapp/domain/outbox_batch.py.
"""

# First of all: pauses the garbage collector while the modules below load; ready() at the end resumes it.
from taskapp import coldstart

# isort: split
from collections import Counter
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from taskapp.domain.outbox_batch import DEAD_LETTERED, OrderedStreamProcessor, publish_record, summary
from taskapp.messaging.outbox_failures import OutboxFailureQueue
from taskapp.messaging.rabbitmq import EventPublisher
from taskapp.observability import instrumented, logger, metrics

publisher = EventPublisher()
failure_queue = OutboxFailureQueue()
processor = OrderedStreamProcessor(logger=logger)


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcomes: Counter[str] = Counter()

    def record_handler(record: DynamoDBRecord) -> None:
        outcomes.update(publish_record(record, publisher, failure_queue))

    response = process_partial_response(event, record_handler, processor, context)
    result = summary(outcomes, dict(response))
    metrics.add_metric(name="TaskEventsPublished", unit="Count", value=outcomes["published"])
    if outcomes[DEAD_LETTERED]:
        metrics.add_metric(name="TaskEventsDeadLettered", unit="Count", value=outcomes[DEAD_LETTERED])
        logger.warning("outbox set unreadable rows aside", extra={"deadLettered": outcomes[DEAD_LETTERED]})
    logger.info("outbox batch published", extra=result)
    return result


coldstart.ready()
