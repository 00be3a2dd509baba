"""Webhook subscriptions and their deliveries.

Tables:
- webhooks: hash `ownerId`, range `webhookId`. The fan-out reads one owner's subscriptions with one query, and
  another user's subscription is simply not under the caller's key (404). The sparse GSI `byProject` (hash
  `projectId`, range `webhookId`, all attributes) holds only project subscriptions: the fan-out's one query for
  an event of a project task.
- deliveries: hash `webhookId`, range `deliveryId`. A delivery id starts with the event's time in fixed-width
  milliseconds, so the newest-first log is a descending query, and ends with a hash of (subscription, event), so
  a fan-out that runs twice for one event names the same delivery. Items expire (`expiresAt`, TTL).
Every attempt is one UpdateItem that creates the delivery on its first attempt (if_not_exists for what never
changes), so the fan-out itself writes nothing to DynamoDB.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from taskapp.data.base import is_condition_failure, model_meta, storage_failures_translated
from taskapp.domain.records import Page
from taskapp.domain.records.webhooks import Delivery, DeliveryAttempt, DeliveryJob, Webhook
from taskapp.settings import webhook_tables_settings

# How long the delivery log keeps a delivery (DynamoDB TTL on `expiresAt`).
DELIVERY_RETENTION_DAYS = 30


class ByProjectIndex(GlobalSecondaryIndex["WebhookModel"]):
    class Meta:
        index_name = "byProject"
        projection = AllProjection()

    project_id = UnicodeAttribute(hash_key=True, attr_name="projectId")
    webhook_id = UnicodeAttribute(range_key=True, attr_name="webhookId")


class WebhookModel(Model):
    Meta = model_meta(webhook_tables_settings().webhooks_table)

    owner_id = UnicodeAttribute(hash_key=True, attr_name="ownerId")
    webhook_id = UnicodeAttribute(range_key=True, attr_name="webhookId")
    url = UnicodeAttribute()
    events = ListAttribute[str](of=UnicodeAttribute)  # type: ignore[arg-type]  # pynamodb types `of` loosely
    description = UnicodeAttribute(default="")
    project_id = UnicodeAttribute(null=True, attr_name="projectId")
    enabled = BooleanAttribute(default=True)
    disabled_reason = UnicodeAttribute(null=True, attr_name="disabledReason")
    consecutive_failures = NumberAttribute(default=0, attr_name="consecutiveFailures")
    secret_ciphertext = UnicodeAttribute(attr_name="secretCiphertext")
    previous_secret_ciphertext = UnicodeAttribute(null=True, attr_name="previousSecretCiphertext")
    previous_secret_expires_at = UTCDateTimeAttribute(null=True, attr_name="previousSecretExpiresAt")
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")

    by_project = ByProjectIndex()


class DeliveryModel(Model):
    Meta = model_meta(webhook_tables_settings().webhook_deliveries_table)

    webhook_id = UnicodeAttribute(hash_key=True, attr_name="webhookId")
    delivery_id = UnicodeAttribute(range_key=True, attr_name="deliveryId")
    owner_id = UnicodeAttribute(attr_name="ownerId")
    event_id = UnicodeAttribute(attr_name="eventId")
    message_id = UnicodeAttribute(attr_name="messageId")
    type = UnicodeAttribute()
    payload = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    last_status_code = NumberAttribute(null=True, attr_name="lastStatusCode")
    last_latency_ms = NumberAttribute(null=True, attr_name="lastLatencyMs")
    last_error = UnicodeAttribute(null=True, attr_name="lastError")
    next_retry_at = UnicodeAttribute(null=True, attr_name="nextRetryAt")
    outcome = UnicodeAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    attempt_log = ListAttribute[str](of=UnicodeAttribute, null=True, attr_name="attemptLog")  # type: ignore[arg-type]
    expires_at = NumberAttribute(null=True, attr_name="expiresAt")


class WebhookMissing(Exception):
    """The subscription was deleted meanwhile (a condition on its existence failed)."""


def to_model(webhook: Webhook) -> WebhookModel:
    return WebhookModel(
        webhook.owner_id,
        webhook.webhook_id,
        url=webhook.url,
        events=list(webhook.events),
        description=webhook.description,
        project_id=webhook.project_id,
        enabled=webhook.enabled,
        disabled_reason=webhook.disabled_reason,
        consecutive_failures=webhook.consecutive_failures,
        secret_ciphertext=webhook.secret_ciphertext,
        previous_secret_ciphertext=webhook.previous_secret_ciphertext,
        previous_secret_expires_at=webhook.previous_secret_expires_at,
        created_at=webhook.created_at,
        updated_at=webhook.updated_at,
    )


def to_record(model: WebhookModel) -> Webhook:
    return Webhook(
        owner_id=model.owner_id,
        webhook_id=model.webhook_id,
        url=model.url,
        events=tuple(model.events or ()),
        description=model.description or "",
        project_id=model.project_id,
        enabled=bool(model.enabled),
        disabled_reason=model.disabled_reason,
        consecutive_failures=int(model.consecutive_failures or 0),
        secret_ciphertext=model.secret_ciphertext,
        previous_secret_ciphertext=model.previous_secret_ciphertext,
        previous_secret_expires_at=model.previous_secret_expires_at,
        created_at=model.created_at,
        updated_at=model.updated_at,
    )


@storage_failures_translated
def create_webhook(webhook: Webhook) -> None:
    to_model(webhook).save(condition=WebhookModel.webhook_id.does_not_exist())


@storage_failures_translated
def get_webhook(owner_id: str, webhook_id: str) -> Webhook | None:
    try:
        return to_record(WebhookModel.get(owner_id, webhook_id, consistent_read=True))
    except DoesNotExist:
        return None


@storage_failures_translated
def list_webhooks(owner_id: str, limit: int, start_key: dict[str, Any] | None) -> Page[Webhook]:
    results = WebhookModel.query(owner_id, limit=limit, last_evaluated_key=start_key)
    items = tuple(to_record(model) for model in results)
    return Page(items=items, last_evaluated_key=results.last_evaluated_key)


@storage_failures_translated
def count_webhooks(owner_id: str) -> int:
    return int(WebhookModel.count(owner_id))


@storage_failures_translated
def enabled_webhooks_of(owner_id: str) -> list[Webhook]:
    """Every enabled subscription of an owner (personal and project ones: the fan-out tells them apart)."""
    return [to_record(m) for m in WebhookModel.query(owner_id, filter_condition=WebhookModel.enabled == True)]  # noqa: E712


@storage_failures_translated
def count_project_webhooks(project_id: str) -> int:
    return int(WebhookModel.by_project.count(project_id))


@storage_failures_translated
def enabled_project_webhooks(project_id: str) -> list[Webhook]:
    """Every enabled subscription to a project's events, whoever created it (the fan-out checks their role)."""
    query = WebhookModel.by_project.query(project_id, filter_condition=WebhookModel.enabled == True)  # noqa: E712
    return [to_record(model) for model in query]


_FIELDS = {
    "url": WebhookModel.url,
    "events": WebhookModel.events,
    "description": WebhookModel.description,
    "enabled": WebhookModel.enabled,
    "disabled_reason": WebhookModel.disabled_reason,
    "consecutive_failures": WebhookModel.consecutive_failures,
    "secret_ciphertext": WebhookModel.secret_ciphertext,
    "previous_secret_ciphertext": WebhookModel.previous_secret_ciphertext,
    "previous_secret_expires_at": WebhookModel.previous_secret_expires_at,
    "updated_at": WebhookModel.updated_at,
}


@storage_failures_translated
def update_webhook(owner_id: str, webhook_id: str, changes: dict[str, object]) -> Webhook:
    """Apply field changes (None removes a nullable field); raises WebhookMissing if it was deleted meanwhile."""
    actions: list[Action] = []
    for name, value in changes.items():
        attribute: Any = _FIELDS[name]
        stored = list(value) if name == "events" and isinstance(value, list | tuple) else value
        actions.append(attribute.remove() if stored is None else attribute.set(stored))
    model = WebhookModel(owner_id, webhook_id)
    try:
        model.update(actions=actions, condition=WebhookModel.webhook_id.exists())
    except UpdateError as exc:
        if is_condition_failure(exc):
            raise WebhookMissing(webhook_id) from exc
        raise
    return to_record(model)


@storage_failures_translated
def delete_webhook(owner_id: str, webhook_id: str) -> bool:
    try:
        WebhookModel(owner_id, webhook_id).delete(condition=WebhookModel.webhook_id.exists())
    except DeleteError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


@storage_failures_translated
def count_failed_event(owner_id: str, webhook_id: str) -> int | None:
    """One more event that failed for good; the new count, or None when the subscription is gone."""
    model = WebhookModel(owner_id, webhook_id)
    try:
        model.update(actions=[WebhookModel.consecutive_failures.add(1)], condition=WebhookModel.webhook_id.exists())
    except UpdateError as exc:
        if is_condition_failure(exc):
            return None
        raise
    return int(model.consecutive_failures or 0)


@storage_failures_translated
def clear_failures(owner_id: str, webhook_id: str) -> None:
    """A delivered event ends the run of failures; a no-op (no write) when there was none."""
    try:
        WebhookModel(owner_id, webhook_id).update(
            actions=[WebhookModel.consecutive_failures.set(0)],
            condition=WebhookModel.webhook_id.exists() & (WebhookModel.consecutive_failures > 0),
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise


@storage_failures_translated
def disable_webhook(owner_id: str, webhook_id: str, reason: str, now: datetime) -> bool:
    """Disable an enabled subscription; False when it already was disabled (or is gone), so one notification."""
    try:
        WebhookModel(owner_id, webhook_id).update(
            actions=[
                WebhookModel.enabled.set(False),
                WebhookModel.disabled_reason.set(reason),
                WebhookModel.updated_at.set(now),
            ],
            condition=WebhookModel.webhook_id.exists() & (WebhookModel.enabled == True),  # noqa: E712
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


# --- deliveries ---------------------------------------------------------------------------------------------------


def _attempts_of(log: list[str] | None) -> tuple[DeliveryAttempt, ...]:
    attempts = []
    for raw in log or ():
        entry = json.loads(raw)
        attempts.append(
            DeliveryAttempt(
                attempt=int(entry["attempt"]),
                at=str(entry["at"]),
                status_code=entry.get("statusCode"),
                latency_ms=entry.get("latencyMs"),
                error=entry.get("error"),
            )
        )
    return tuple(attempts)


def _delivery_record(model: DeliveryModel) -> Delivery:
    return Delivery(
        webhook_id=model.webhook_id,
        delivery_id=model.delivery_id,
        owner_id=model.owner_id,
        event_id=model.event_id,
        message_id=model.message_id,
        type=model.type,
        payload=model.payload,
        attempts=int(model.attempts or 0),
        last_status_code=None if model.last_status_code is None else int(model.last_status_code),
        last_latency_ms=None if model.last_latency_ms is None else float(model.last_latency_ms),
        last_error=model.last_error,
        next_retry_at=model.next_retry_at,
        outcome=model.outcome,
        created_at=model.created_at,
        updated_at=model.updated_at,
        attempt_log=_attempts_of(model.attempt_log),
    )


@storage_failures_translated
def get_delivery(webhook_id: str, delivery_id: str) -> Delivery | None:
    try:
        return _delivery_record(DeliveryModel.get(webhook_id, delivery_id, consistent_read=True))
    except DoesNotExist:
        return None


@storage_failures_translated
def list_deliveries(webhook_id: str, limit: int, start_key: dict[str, Any] | None) -> Page[Delivery]:
    results = DeliveryModel.query(webhook_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key)
    items = tuple(_delivery_record(model) for model in results)
    return Page(items=items, last_evaluated_key=results.last_evaluated_key)


def _expiry(now: datetime) -> int:
    return int((now + timedelta(days=DELIVERY_RETENTION_DAYS)).timestamp())


def _job_fields(job: DeliveryJob, now: datetime) -> list[Action]:
    """What never changes after the first write of a delivery: set only if not there yet."""
    stamp = now.isoformat()
    return [
        DeliveryModel.owner_id.set(DeliveryModel.owner_id | job.owner_id),
        DeliveryModel.event_id.set(DeliveryModel.event_id | job.event_id),
        DeliveryModel.message_id.set(DeliveryModel.message_id | job.message_id),
        DeliveryModel.type.set(DeliveryModel.type | job.type),
        DeliveryModel.payload.set(DeliveryModel.payload | job.payload),
        DeliveryModel.created_at.set(DeliveryModel.created_at | stamp),
        DeliveryModel.expires_at.set(_expiry(now)),
        DeliveryModel.updated_at.set(stamp),
    ]


@storage_failures_translated
def record_attempt(
    job: DeliveryJob, attempt: DeliveryAttempt, outcome: str, next_retry_at: str | None, now: datetime
) -> Delivery:
    """Log one attempt and the delivery's state after it; creates the delivery on its first attempt."""
    entry = {
        "attempt": attempt.attempt,
        "at": attempt.at,
        "statusCode": attempt.status_code,
        "latencyMs": attempt.latency_ms,
        "error": attempt.error,
    }
    actions = [
        *_job_fields(job, now),
        DeliveryModel.attempts.add(1),
        DeliveryModel.outcome.set(outcome),
        DeliveryModel.attempt_log.set((DeliveryModel.attempt_log | []).append([json.dumps(entry)])),
        DeliveryModel.last_status_code.remove()
        if attempt.status_code is None
        else DeliveryModel.last_status_code.set(attempt.status_code),
        DeliveryModel.last_latency_ms.remove()
        if attempt.latency_ms is None
        else DeliveryModel.last_latency_ms.set(attempt.latency_ms),
        DeliveryModel.last_error.remove() if attempt.error is None else DeliveryModel.last_error.set(attempt.error),
        DeliveryModel.next_retry_at.remove()
        if next_retry_at is None
        else DeliveryModel.next_retry_at.set(next_retry_at),
    ]
    model = DeliveryModel(job.webhook_id, job.delivery_id)
    model.update(actions=actions)
    return _delivery_record(model)


@storage_failures_translated
def set_outcome(job: DeliveryJob, outcome: str, now: datetime, error: str | None = None) -> None:
    """A state change without an attempt: queued (ping, redelivery) or skipped (subscription disabled)."""
    actions = [*_job_fields(job, now), DeliveryModel.outcome.set(outcome), DeliveryModel.next_retry_at.remove()]
    if error is not None:
        actions.append(DeliveryModel.last_error.set(error))
    DeliveryModel(job.webhook_id, job.delivery_id).update(actions=actions)
