"""RabbitMQ `task.notifications` consumer: one activity entry and one owner notification per task event.

Lambda's RabbitMQ trigger has no partial batch response: every valid message of the batch is recorded first
(idempotently, keyed by event id), then the invocation fails if any message was unusable, so the batch is
redelivered a bounded number of times and then dead-lettered. Redelivered valid messages are no-ops.
"""

# First of all: pauses the garbage collector while the modules below load; ready() at the end resumes it.
from taskapp import coldstart

# isort: split
import base64
import binascii
import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.rabbit_mq_event import RabbitMQEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from taskapp.domain.activity import record_event
from taskapp.observability import instrumented, logger, metrics
from taskapp.schemas.events import TaskEvent


class PoisonMessages(Exception):
    """Some messages of the batch can never be processed: fail so they reach the dead-letter queue."""


def _decode(data: str) -> TaskEvent:
    return TaskEvent.model_validate(json.loads(base64.b64decode(data, validate=True)))


@instrumented
@event_source(data_class=RabbitMQEvent)
def handler(event: RabbitMQEvent, context: LambdaContext) -> dict[str, Any]:
    recorded = duplicates = 0
    poison: list[dict[str, Any]] = []
    for queue, messages in event.rmq_messages_by_queue.items():
        for message in messages:
            message_id = message.basic_properties.message_id
            try:
                task_event = _decode(message.raw_event["data"])
            except (KeyError, ValueError, binascii.Error, ValidationError) as exc:
                poison.append({"queue": queue, "messageId": message_id, "error": type(exc).__name__})
                continue
            if record_event(task_event):
                recorded += 1
            else:
                duplicates += 1
    metrics.add_metric(name="ActivityRecorded", unit="Count", value=recorded)
    logger.info("notification batch", extra={"recorded": recorded, "duplicates": duplicates, "poison": poison})
    if poison:
        raise PoisonMessages(json.dumps(poison))
    return {"recorded": recorded, "duplicates": duplicates}


coldstart.ready()
