"""Tasks-table stream -> `task.events` exchange: the outbox publisher.

Publishes every record's event in stream order with publisher confirms and raises on the first failure, so the
whole batch is retried by the stream poller (already published events are deduped downstream by message id).
"""

# First of all: pauses the garbage collector while the modules below load; ready() at the end resumes it.
from taskapp import coldstart

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from taskapp.domain.outbox import event_from_stream_record
from taskapp.messaging.rabbitmq import EventPublisher
from taskapp.observability import instrumented, logger, metrics

publisher = EventPublisher()


@instrumented
@event_source(data_class=DynamoDBStreamEvent)
def handler(event: DynamoDBStreamEvent, context: LambdaContext) -> dict[str, Any]:
    published = skipped = 0
    for record in event.records:
        task_event = event_from_stream_record(record)
        if task_event is None:
            skipped += 1
            continue
        publisher.publish(task_event)  # raises RabbitMqUnavailable: the batch is retried
        published += 1
    metrics.add_metric(name="TaskEventsPublished", unit="Count", value=published)
    logger.info("outbox batch published", extra={"published": published, "skipped": skipped})
    return {"published": published, "skipped": skipped}


coldstart.ready()
