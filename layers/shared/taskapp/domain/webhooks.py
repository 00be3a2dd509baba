"""Webhook subscriptions of one owner: create (the secret shown once), read, change, delete, rotate the secret,
ping, read the delivery log, redeliver.

Personal subscriptions receive the events of the caller's own personal tasks (never those of project tasks, even
ones the caller created). Project subscriptions (`projectId`) receive the events of that project; their creator
must be an admin (or the owner) of it when creating, changing or redelivering, and still be one when each event is
fanned out and delivered (taskapp.domain.webhook_fanout, taskapp.domain.webhook_delivery): a demoted or removed
creator's subscription stops receiving at once, and serves again if they regain the role.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from taskapp.cursor import decode_cursor, encode_cursor
from taskapp.data import webhook_secrets
from taskapp.data import webhooks as store
from taskapp.domain.records.webhooks import Delivery, DeliveryJob, Webhook
from taskapp.domain.webhook_signing import new_secret
from taskapp.domain.webhook_urls import check_url
from taskapp.errors import Conflict, NotFound
from taskapp.schemas.webhooks import (
    PING_EVENT,
    CreateWebhookRequest,
    DeliveryAcceptedOut,
    DeliveryAttemptOut,
    DeliveryListOut,
    DeliveryOut,
    DeliveryOutcome,
    SecretRotatedOut,
    UpdateWebhookRequest,
    WebhookCreatedOut,
    WebhookListOut,
    WebhookOut,
)
from taskapp.settings import webhook_secret_settings, webhook_url_settings

WEBHOOK_NOT_FOUND = "Webhook not found"
# Subscriptions per owner: bounds the fan-out of one event (one SQS message and one POST per subscription).
MAX_WEBHOOKS_PER_OWNER = 25
# Subscriptions per project (all its admins together): bounds the fan-out of one project event the same way.
MAX_WEBHOOKS_PER_PROJECT = 25
DELIVERY_NOT_FOUND = "Delivery not found"
_WEBHOOK_ID = re.compile(r"wh_[0-9a-f]{32}", re.ASCII)
_DELIVERY_ID = re.compile(r"dlv_[0-9]{13}_[0-9a-f]{16}", re.ASCII)


class JobQueue(Protocol):
    def send(self, jobs: list[DeliveryJob]) -> None: ...


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def to_view(webhook: Webhook) -> WebhookOut:
    return WebhookOut(
        id=webhook.webhook_id,
        url=webhook.url,
        events=list(webhook.events),
        description=webhook.description,
        project_id=webhook.project_id,
        enabled=webhook.enabled,
        disabled_reason=webhook.disabled_reason,
        consecutive_failures=webhook.consecutive_failures,
        previous_secret_expires_at=_iso(webhook.previous_secret_expires_at),
        created_at=webhook.created_at.isoformat(),
        updated_at=webhook.updated_at.isoformat(),
    )


def delivery_view(delivery: Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.delivery_id,
        event_id=delivery.event_id,
        message_id=delivery.message_id,
        type=delivery.type,
        attempts=delivery.attempts,
        last_status_code=delivery.last_status_code,
        last_latency_ms=delivery.last_latency_ms,
        last_error=delivery.last_error,
        next_retry_at=delivery.next_retry_at,
        outcome=DeliveryOutcome(delivery.outcome),
        created_at=delivery.created_at,
        updated_at=delivery.updated_at,
        attempt_log=[DeliveryAttemptOut(**attempt._asdict()) for attempt in delivery.attempt_log],
    )


def _checked_url(url: str) -> str:
    check_url(url, webhook_url_settings().webhook_allow_loopback_http)
    return url


def _require(owner_id: str, webhook_id: str) -> Webhook:
    webhook = store.get_webhook(owner_id, webhook_id) if _WEBHOOK_ID.fullmatch(webhook_id) else None
    if webhook is None:
        raise NotFound(WEBHOOK_NOT_FOUND, details={"id": webhook_id[:100]})
    return webhook


def _require_admin(owner_id: str, webhook_id: str, *, widens: bool = True) -> Webhook:
    """The caller's subscription; for a project subscription that the change `widens`, the caller must still be
    an admin of the project (403 / 404 / 409 like any project write): a demoted creator may read, disable or delete
    their subscription, not point it elsewhere or replay the project's events through it."""
    webhook = _require(owner_id, webhook_id)
    if widens and webhook.project_id is not None:
        _authorize_admin(webhook.project_id, owner_id)
    return webhook


def _authorize_admin(project_id: str, user_id: str) -> None:
    """The projects domain's check (404 non-member, 403 role too low, 409 archived). Imported here: only project
    subscriptions need the projects table, so the other webhook routes never load it."""
    from taskapp.domain.policy import Action
    from taskapp.domain.projects import authorize

    authorize(project_id, user_id, Action.WEBHOOK_MANAGE)


def creator_may_receive(project_id: str, user_id: str) -> bool:
    """A project subscription serves only while its creator may still manage the project's webhooks (asked by the
    fan-out per batch and by the worker before each attempt, so a demotion stops even queued retries)."""
    from taskapp.domain.policy import Action
    from taskapp.domain.projects import member_may

    return member_may(project_id, user_id, Action.WEBHOOK_MANAGE)


def _too_many(limit: int, scope: str) -> Conflict:
    return Conflict(
        f"At most {limit} webhooks per {scope}; delete one first", {"limit": limit}, code="TOO_MANY_WEBHOOKS"
    )


def create_webhook(owner_id: str, request: CreateWebhookRequest, now: datetime | None = None) -> WebhookCreatedOut:
    if request.project_id is not None:
        # Before the URL check: a non-member learns nothing about the project from the order of the errors.
        _authorize_admin(request.project_id, owner_id)
    url = _checked_url(request.url)
    if store.count_webhooks(owner_id) >= MAX_WEBHOOKS_PER_OWNER:
        raise _too_many(MAX_WEBHOOKS_PER_OWNER, "user")
    if request.project_id is not None and store.count_project_webhooks(request.project_id) >= MAX_WEBHOOKS_PER_PROJECT:
        raise _too_many(MAX_WEBHOOKS_PER_PROJECT, "project")
    created = now or datetime.now(UTC)
    webhook_id = f"wh_{uuid.uuid4().hex}"
    secret = new_secret()
    webhook = Webhook(
        owner_id=owner_id,
        webhook_id=webhook_id,
        url=url,
        events=tuple(request.events),
        description=request.description,
        project_id=request.project_id,
        enabled=True,
        disabled_reason=None,
        consecutive_failures=0,
        secret_ciphertext=webhook_secrets.encrypt(secret, webhook_id),
        previous_secret_ciphertext=None,
        previous_secret_expires_at=None,
        created_at=created,
        updated_at=created,
    )
    store.create_webhook(webhook)
    return WebhookCreatedOut(**to_view(webhook).model_dump(), secret=secret)


def list_webhooks(owner_id: str, limit: int, next_token: str | None) -> WebhookListOut:
    scope = f"webhooks|{owner_id}"
    start_key: dict[str, Any] | None = decode_cursor(next_token, scope) if next_token else None
    page = store.list_webhooks(owner_id, limit, start_key)
    cursor = encode_cursor(page.last_evaluated_key, scope) if page.last_evaluated_key else None
    return WebhookListOut(items=[to_view(webhook) for webhook in page.items], next_token=cursor)


def get_webhook(owner_id: str, webhook_id: str) -> WebhookOut:
    return to_view(_require(owner_id, webhook_id))


def _updated(owner_id: str, webhook_id: str, changes: dict[str, object]) -> Webhook:
    try:
        return store.update_webhook(owner_id, webhook_id, changes)
    except store.WebhookMissing as exc:
        raise NotFound(WEBHOOK_NOT_FOUND, details={"id": webhook_id}) from exc


def update_webhook(owner_id: str, webhook_id: str, request: UpdateWebhookRequest) -> WebhookOut:
    # Disabling it or changing its description stays open to a demoted creator; what widens it does not.
    widens = request.url is not None or request.events is not None or request.enabled is True
    _require_admin(owner_id, webhook_id, widens=widens)
    changes: dict[str, object] = {**request.changes(), "updated_at": datetime.now(UTC)}
    if request.url is not None:
        changes["url"] = _checked_url(request.url)
    if request.enabled is True:
        # Re-enabling starts a fresh count: the failures that disabled it were dealt with.
        changes.update(consecutive_failures=0, disabled_reason=None)
    elif request.enabled is False:
        changes["disabled_reason"] = "disabled by its owner"
    return to_view(_updated(owner_id, webhook_id, changes))


def delete_webhook(owner_id: str, webhook_id: str) -> None:
    _require(owner_id, webhook_id)
    if not store.delete_webhook(owner_id, webhook_id):
        raise NotFound(WEBHOOK_NOT_FOUND, details={"id": webhook_id})


def rotate_secret(owner_id: str, webhook_id: str, now: datetime | None = None) -> SecretRotatedOut:
    """A new secret signs from now on; the current one keeps signing too until the grace period ends. A rotation
    during a grace period ends the older secret at once (two secrets at most). A new secret is a credential to the
    project's events: for a project subscription only a current admin mints one."""
    webhook = _require_admin(owner_id, webhook_id)
    moment = now or datetime.now(UTC)
    expires = moment + timedelta(seconds=webhook_secret_settings().webhook_secret_grace_seconds)
    secret = new_secret()
    changes: dict[str, object] = {
        "secret_ciphertext": webhook_secrets.encrypt(secret, webhook_id),
        "previous_secret_ciphertext": webhook.secret_ciphertext,
        "previous_secret_expires_at": expires,
        "updated_at": moment,
    }
    _updated(owner_id, webhook_id, changes)
    return SecretRotatedOut(secret=secret, previous_secret_expires_at=expires.isoformat())


def active_secrets(webhook: Webhook, now: datetime) -> list[str]:
    """The secrets that sign a request sent now: the current one, and the previous one during its grace period."""
    active = [webhook_secrets.decrypt(webhook.secret_ciphertext, webhook.webhook_id)]
    expires = webhook.previous_secret_expires_at
    if webhook.previous_secret_ciphertext and expires is not None and now < expires:
        active.append(webhook_secrets.decrypt(webhook.previous_secret_ciphertext, webhook.webhook_id))
    return active


def ping(owner_id: str, webhook_id: str, queue: JobQueue, now: datetime | None = None) -> DeliveryAcceptedOut:
    """Queue a `webhook.ping` delivery through the same pipeline as events (also for a disabled subscription, so
    its owner can check a receiver before enabling it again)."""
    _require(owner_id, webhook_id)
    moment = now or datetime.now(UTC)
    nonce = uuid.uuid4().hex
    message_id = f"msg_ping_{nonce}"
    body = {"id": message_id, "type": PING_EVENT, "timestamp": moment.isoformat(), "data": {"webhookId": webhook_id}}
    job = DeliveryJob(
        owner_id=owner_id,
        webhook_id=webhook_id,
        delivery_id=f"dlv_{int(moment.timestamp() * 1000):013d}_{nonce[:16]}",
        event_id=f"ping:{nonce}",
        message_id=message_id,
        type=PING_EVENT,
        payload=json.dumps(body, separators=(",", ":")),
    )
    store.set_outcome(job, DeliveryOutcome.PENDING.value, moment)
    queue.send([job])
    return DeliveryAcceptedOut(delivery_id=job.delivery_id, message_id=message_id)


def list_deliveries(owner_id: str, webhook_id: str, limit: int, next_token: str | None) -> DeliveryListOut:
    _require(owner_id, webhook_id)
    scope = f"deliveries|{webhook_id}"
    start_key: dict[str, Any] | None = decode_cursor(next_token, scope) if next_token else None
    page = store.list_deliveries(webhook_id, limit, start_key)
    cursor = encode_cursor(page.last_evaluated_key, scope) if page.last_evaluated_key else None
    return DeliveryListOut(items=[delivery_view(d) for d in page.items], next_token=cursor)


def redeliver(owner_id: str, webhook_id: str, delivery_id: str, queue: JobQueue) -> DeliveryAcceptedOut:
    """Send a delivery again, with its original body and `webhook-id`, as a new series of attempts."""
    _require_admin(owner_id, webhook_id)
    delivery = store.get_delivery(webhook_id, delivery_id) if _DELIVERY_ID.fullmatch(delivery_id) else None
    if delivery is None:
        raise NotFound(DELIVERY_NOT_FOUND, details={"id": delivery_id[:100]})
    if delivery.outcome == DeliveryOutcome.PENDING.value:
        # Its message is still queued or waiting for a retry: a second one would only send it twice.
        raise Conflict(
            "This delivery is still being attempted; redeliver it once it is delivered or failed",
            {"id": delivery_id, "nextRetryAt": delivery.next_retry_at},
            code="DELIVERY_IN_PROGRESS",
        )
    job = DeliveryJob(
        owner_id=owner_id,
        webhook_id=webhook_id,
        delivery_id=delivery.delivery_id,
        event_id=delivery.event_id,
        message_id=delivery.message_id,
        type=delivery.type,
        payload=delivery.payload,
    )
    store.set_outcome(job, DeliveryOutcome.PENDING.value, datetime.now(UTC))
    queue.send([job])
    return DeliveryAcceptedOut(delivery_id=job.delivery_id, message_id=job.message_id)
