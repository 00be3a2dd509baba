"""The fan-out: every task, comment or project event becomes one delivery job (SQS message) per matching subscription.

An event of a personal task (its change, or a comment on it) goes to its owner's personal subscriptions. An event
with a `project_id` (a project task's event or one of its comments'; every project and member event, from the
projects stream) goes to that project's subscriptions only, each while its creator is still an admin of the project
(checked here per batch, and again by the worker before each attempt). A personal subscription never sees a
project's event, not even one about a task its owner created.

It reads the tasks, projects and comments tables' streams, the outbox's sources (docs/webhooks.md says why a second
stream reader and not a RabbitMQ queue). The batch is all or nothing: if SQS or DynamoDB fails, the invocation fails
and the stream retries the batch; jobs already sent are sent again under the same delivery id and the worker drops a
delivered one. A row the outbox cannot read is its business (it goes to OutboxFailureQueue); here it is skipped."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Protocol

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from taskapp.data import webhooks as store
from taskapp.domain.outbox import COMMENTS, PROJECTS, event_from_stream_record, events_from_stream_record, source_of
from taskapp.domain.records.webhooks import DeliveryJob, Webhook
from taskapp.domain.webhooks import creator_may_receive
from taskapp.schemas.events import CommentEvent, ProjectEvent, TaskEvent
from taskapp.schemas.webhooks import ALL_EVENTS, SUBSCRIBABLE_EVENTS


class JobQueue(Protocol):
    def send(self, jobs: list[DeliveryJob]) -> None: ...


def message_id_for(event_id: str) -> str:
    """The `webhook-id` of an event: the same on every attempt and every redelivery, opaque to receivers."""
    return "msg_" + hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:32]


def delivery_id_for(occurred_ms: int, webhook_id: str, event_id: str) -> str:
    """Sorts by event time (fixed-width ms) and is the same for a repeated fan-out of one event."""
    digest = hashlib.sha256(f"{webhook_id}|{event_id}".encode()).hexdigest()[:16]
    return f"dlv_{occurred_ms:013d}_{digest}"


WebhookEvent = TaskEvent | CommentEvent | ProjectEvent


def payload_of(event: WebhookEvent, message_id: str) -> str:
    """The body: {id, type, timestamp, data}; `data` is the event without its routing fields (type, time)."""
    data = event.model_dump(mode="json", by_alias=True, exclude={"type", "occurred_at"})
    body = {"id": message_id, "type": event.type.value, "timestamp": event.occurred_at.isoformat(), "data": data}
    return json.dumps(body, separators=(",", ":"))


def subscribed(webhook: Webhook, event_type: str) -> bool:
    return webhook.enabled and (ALL_EVENTS in webhook.events or event_type in webhook.events)


def jobs_for(event: WebhookEvent, webhooks: Iterable[Webhook]) -> list[DeliveryJob]:
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


def personal_owner_of(event: WebhookEvent) -> str | None:
    """Whose personal subscriptions an event goes to: the owner of a personal task; nobody's for a project's."""
    if event.project_id:
        return None
    if isinstance(event, TaskEvent):
        return event.owner_id
    if isinstance(event, CommentEvent):
        return event.task_owner_id
    return None


class Subscriptions:
    """The subscriptions an event matches, each lookup once per batch: an owner's personal ones (one query on the
    table's key), a project's (one query on `byProject`) with their creators' roles checked (one GetItem each)."""

    def __init__(self, may_receive: Callable[[str, str], bool] = creator_may_receive) -> None:
        self._may_receive = may_receive
        self._personal: dict[str, list[Webhook]] = {}
        self._project: dict[str, list[Webhook]] = {}
        self._allowed: dict[tuple[str, str], bool] = {}
        self.refused = 0  # project subscriptions skipped because their creator lost the role

    def _creator_allowed(self, project_id: str, user_id: str) -> bool:
        key = (project_id, user_id)
        if key not in self._allowed:
            self._allowed[key] = self._may_receive(project_id, user_id)
        return self._allowed[key]

    def of(self, event: WebhookEvent) -> list[Webhook]:
        if event.project_id:
            project_id = event.project_id
            if project_id not in self._project:
                self._project[project_id] = store.enabled_project_webhooks(project_id)
            matching = [w for w in self._project[project_id] if subscribed(w, event.type.value)]
            allowed = [w for w in matching if self._creator_allowed(project_id, w.owner_id)]
            self.refused += len(matching) - len(allowed)
            return allowed
        owner_id = personal_owner_of(event)
        if owner_id is None:
            return []
        if owner_id not in self._personal:
            # An owner's project subscriptions are under their key too: they serve project events only.
            self._personal[owner_id] = [w for w in store.enabled_webhooks_of(owner_id) if w.project_id is None]
        return self._personal[owner_id]


def events_of(record: DynamoDBRecord) -> list[WebhookEvent]:
    """The record's events that webhooks deliver: a task record's change (never its assignment events), a project
    outbox item's event, a comment's added/updated/deleted; [] for everything else (project META/MEMBER/INVITE
    items, TTL removals, a comment rewrite that kept its version)."""
    if source_of(record) in (PROJECTS, COMMENTS):
        return [event for event in events_from_stream_record(record) if event.type.value in SUBSCRIBABLE_EVENTS]
    mapped = event_from_stream_record(record)
    return [mapped] if mapped is not None else []


def fan_out(
    records: Iterable[DynamoDBRecord], queue: JobQueue, subscriptions: Subscriptions | None = None
) -> dict[str, int]:
    """Send the batch's jobs; raises (StorageUnavailable, WebhookQueueUnavailable) so the stream retries it."""
    jobs: list[DeliveryJob] = []
    matcher = subscriptions or Subscriptions()
    events = skipped = 0
    for record in records:
        try:
            mapped = events_of(record)
        except Exception:  # noqa: BLE001 - an unreadable row: the outbox sets it aside with the reason
            skipped += 1
            continue
        for event in mapped:
            events += 1
            jobs.extend(jobs_for(event, matcher.of(event)))
    if jobs:
        queue.send(jobs)
    return {"events": events, "jobs": len(jobs), "unreadable": skipped, "refused": matcher.refused}
