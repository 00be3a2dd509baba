"""The webhook delivery queue (SQS) and its dead-letter queue: one message per (event, subscription).

Standard, not FIFO: deliveries of different subscriptions are independent, a FIFO group would hold every later
event of a subscription behind one failing receiver for hours, and FIFO caps throughput. Receivers get no order
guarantee (docs/webhooks.md) and dedupe on `webhook-id`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from taskapp.domain.records.webhooks import DeliveryJob
from taskapp.settings import runtime_settings, webhook_queue_settings

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SEND_BATCH_LIMIT = 10  # entries per SendMessageBatch (SQS's limit)
MAX_REASON_CHARS = 1000


class WebhookQueueUnavailable(Exception):
    """SQS refused or could not take a message: the caller fails so its own source retries."""


@lru_cache(maxsize=1)
def _sqs() -> SQSClient:
    import boto3

    return boto3.client("sqs", region_name=runtime_settings().region)


def encode_job(job: DeliveryJob) -> str:
    return json.dumps(job._asdict(), separators=(",", ":"))


def decode_job(body: str) -> DeliveryJob:
    """Raises (ValueError, KeyError, TypeError) for a body that is not a job: the worker dead-letters it."""
    data = json.loads(body)
    return DeliveryJob(**{field: str(data[field]) for field in DeliveryJob._fields})


class WebhookQueue:
    """Sends jobs, delays a retry, and dead-letters a job with the reason it failed for good."""

    def send(self, jobs: list[DeliveryJob]) -> None:
        """All or nothing for the caller: any entry SQS did not take raises, and the whole batch is retried."""
        from botocore.exceptions import BotoCoreError, ClientError

        url = webhook_queue_settings().webhook_queue_url
        for start in range(0, len(jobs), SEND_BATCH_LIMIT):
            chunk = jobs[start : start + SEND_BATCH_LIMIT]
            entries: list[Any] = [{"Id": str(i), "MessageBody": encode_job(job)} for i, job in enumerate(chunk)]
            try:
                answer = _sqs().send_message_batch(QueueUrl=url, Entries=entries)
            except (BotoCoreError, ClientError) as exc:
                raise WebhookQueueUnavailable(f"{type(exc).__name__}: {exc}") from exc
            if answer.get("Failed"):
                raise WebhookQueueUnavailable(f"SQS refused {len(answer['Failed'])} of {len(chunk)} messages")

    def retry_later(self, receipt_handle: str, delay_seconds: int) -> None:
        """The message becomes visible again after the delay: its next attempt is SQS's next receive."""
        _sqs().change_message_visibility(
            QueueUrl=webhook_queue_settings().webhook_queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=delay_seconds,
        )

    def dead_letter(self, body: str, reason: str, attempts: int) -> None:
        letter = {
            "kind": "webhook.delivery-failed",
            "reason": reason[:MAX_REASON_CHARS],
            "attempts": attempts,
            "deadLetteredAt": datetime.now(UTC).isoformat(),
            "job": body,
        }
        _sqs().send_message(
            QueueUrl=webhook_queue_settings().webhook_dlq_url,
            MessageBody=json.dumps(letter),
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:MAX_REASON_CHARS] or "-"}},
        )
