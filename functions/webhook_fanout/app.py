"""Tasks, projects and comments streams -> one webhook delivery job (SQS message) per matching subscription.

All or nothing per batch: SQS or DynamoDB failing fails the invocation and the stream retries the batch (jobs sent
twice carry the same delivery id; the worker drops delivered ones). See taskapp/domain/webhook_fanout.py.
"""

# First of all: pauses the garbage collector while the modules below load; ready() at the end resumes it.
from taskapp import coldstart

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from taskapp.domain.webhook_fanout import fan_out
from taskapp.messaging.webhook_queue import WebhookQueue
from taskapp.observability import instrumented, logger, metrics

queue = WebhookQueue()


@instrumented
@event_source(data_class=DynamoDBStreamEvent)
def handler(event: DynamoDBStreamEvent, context: LambdaContext) -> dict[str, Any]:
    counts = fan_out(event.records, queue)
    metrics.add_metric(name="WebhookJobsQueued", unit="Count", value=counts["jobs"])
    logger.info("webhook fan-out", extra=counts)
    return counts


coldstart.ready()
