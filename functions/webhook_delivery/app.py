"""Webhook delivery queue (SQS) -> one signed POST per message; failures are retried through the message.

Records of a batch are attempted at once, each on its own thread, so a receiver that hangs until the timeout does
not hold up the others. A failed attempt delays its message (visibility timeout) and is reported in
batchItemFailures; the last failed attempt dead-letters the job (taskapp/domain/webhook_delivery.py).
"""

# First of all: pauses the garbage collector while the modules below load; ready() at the end resumes it.
from taskapp import coldstart

# isort: split
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from taskapp.domain.webhook_delivery import deliver
from taskapp.messaging import webhook_http
from taskapp.messaging.webhook_queue import WebhookQueue, decode_job
from taskapp.observability import instrumented, logger, metrics

queue = WebhookQueue()


class ConcurrentBatchProcessor(BatchProcessor):
    """Powertools' SQS batch processor, with the batch's records handled side by side instead of one by one."""

    def process(self) -> list[tuple[Any, ...]]:
        with ThreadPoolExecutor(max_workers=max(1, min(10, len(self.records)))) as pool:
            return list(pool.map(self._process_record, self.records))


# No logger: a retried attempt is routine and is logged as a count, not as a traceback.
processor = ConcurrentBatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False)


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcomes: Counter[str] = Counter()

    def record_handler(record: SQSRecord) -> None:
        try:
            job = decode_job(record.body)
        except (ValueError, KeyError, TypeError) as exc:
            queue.dead_letter(record.body, f"not a delivery job: {type(exc).__name__}", 0)
            outcomes["malformed"] += 1
            return
        receive_count = int(record.attributes.approximate_receive_count or 1)
        outcome = deliver(
            job,
            raw_body=record.body,
            receive_count=receive_count,
            receipt_handle=record.receipt_handle,
            send=webhook_http.post,
            queue=queue,
        )
        outcomes[outcome] += 1

    response = process_partial_response(event, record_handler, processor, context)
    retried = len(response.get("batchItemFailures", []))
    metrics.add_metric(name="WebhookDelivered", unit="Count", value=outcomes["delivered"])
    if outcomes["failed"]:
        metrics.add_metric(name="WebhookDeadLettered", unit="Count", value=outcomes["failed"])
    logger.info("webhook deliveries", extra={**outcomes, "retried": retried})
    return dict(response)


coldstart.ready()
