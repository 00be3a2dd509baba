"""The fan-out: every task event becomes one delivery job (SQS message) per matching subscription.

It reads the tasks table's stream, the outbox's source (docs/webhooks.md says why a second stream reader and not a
RabbitMQ queue). The batch is all or nothing: if SQS or DynamoDB fails, the invocation fails and the stream retries
the batch; jobs already sent are sent again under the same delivery id and the worker drops a delivered one.
A row the outbox cannot read is its business (it goes to OutboxFailureQueue); here it is skipped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any, Protocol

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from taskapp.data import webhooks as store
from taskapp.domain.outbox import event_from_stream_record
from taskapp.domain.records.webhooks import DeliveryJob, Webhook
from taskapp.schemas.events import TaskEvent
from taskapp.schemas.webhooks import ALL_EVENTS


class JobQueue(Protocol):
    def send(self, jobs: list[DeliveryJob]) -> None: ...


def message_id_for(event_id: str) -> str:
    """The `webhook-id` of an event: the same on every attempt and every redelivery, opaque to receivers."""
    return "msg_" + hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:32]


def delivery_id_for(occurred_ms: int, webhook_id: str, event_id: str) -> str:
    """Sorts by event time (fixed-width ms) and is the same for a repeated fan-out of one event."""
    digest = hashlib.sha256(f"{webhook_id}|{event_id}".encode()).hexdigest()[:16]
    return f"dlv_{occurred_ms:013d}_{digest}"


def payload_of(event: TaskEvent, message_id: str) -> str:
    """The body: {id, type, timestamp, data}; `data` is the task event without its routing fields."""
    data: dict[str, Any] = {
        "eventId": event.event_id,
        "taskId": event.task_id,
        "ownerId": event.owner_id,
        "title": event.title,
        "status": event.status.value if event.status else None,
        "version": event.version,
    }
    body = {"id": message_id, "type": event.type.value, "timestamp": event.occurred_at.isoformat(), "data": data}
    return json.dumps(body, separators=(",", ":"))


def subscribed(webhook: Webhook, event_type: str) -> bool:
    return webhook.enabled and (ALL_EVENTS in webhook.events or event_type in webhook.events)


def jobs_for(event: TaskEvent, webhooks: Iterable[Webhook]) -> list[DeliveryJob]:
    message_id = message_id_for(event.event_id)
    payload = payload_of(event, message_id)
    occurred_ms = int(event.occurred_at.timestamp() * 1000)
    return [
        DeliveryJob(
            owner_id=webhook.owner_id,
            webhook_id=webhook.webhook_id,
            delivery_id=delivery_id_for(occurred_ms, webhook.webhook_id, event.event_id),
            event_id=event.event_id,
            message_id=message_id,
            type=event.type.value,
            payload=payload,
        )
        for webhook in webhooks
        if subscribed(webhook, event.type.value)
    ]


def fan_out(records: Iterable[DynamoDBRecord], queue: JobQueue) -> dict[str, int]:
    """Send the batch's jobs; raises (StorageUnavailable, WebhookQueueUnavailable) so the stream retries it."""
    jobs: list[DeliveryJob] = []
    subscriptions: dict[str, list[Webhook]] = {}
    events = skipped = 0
    for record in records:
        try:
            event = event_from_stream_record(record)
        except Exception:  # noqa: BLE001 - an unreadable row: the outbox sets it aside with the reason
            skipped += 1
            continue
        if event is None:
            continue
        events += 1
        if event.owner_id not in subscriptions:
            subscriptions[event.owner_id] = store.enabled_webhooks_of(event.owner_id)
        jobs.extend(jobs_for(event, subscriptions[event.owner_id]))
    if jobs:
        queue.send(jobs)
    return {"events": events, "jobs": len(jobs), "unreadable": skipped}
