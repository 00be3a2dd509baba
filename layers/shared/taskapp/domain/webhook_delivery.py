"""One delivery attempt and what follows it: delivered, retried later, or failed for good.

Retries ride on the SQS message: a failed attempt sets the message's visibility timeout to the backoff delay and
reports it as a batch item failure, so SQS hands it out again after the delay and counts the receive. Backoff is
exponential with jitter ("equal jitter": half fixed, half random), capped: with the defaults (60 s base, 1 h cap,
8 attempts) the attempts span about two hours. The last attempt's failure sends the job to the dead-letter queue
with the reason, marks the delivery failed and counts one more failed event on the subscription; N in a row
(WEBHOOK_DISABLE_AFTER_FAILURES) disable it and notify its owner. A delivered event resets the count.

A job whose delivery is already delivered (a repeated fan-out) is dropped without sending. A ping is never counted
against the subscription. A project subscription's job is skipped when its creator is no longer an admin of the
project (asked before every attempt, so retries queued before a demotion stop too).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from taskapp.data import notifications as inbox
from taskapp.data import webhooks as store
from taskapp.domain.records.notifications import Notification
from taskapp.domain.records.webhooks import DeliveryAttempt, DeliveryJob, Webhook
from taskapp.domain.webhook_signing import signed_headers
from taskapp.domain.webhooks import active_secrets, creator_may_receive
from taskapp.messaging.webhook_http import AttemptResult
from taskapp.schemas.webhooks import PING_EVENT, DeliveryOutcome
from taskapp.settings import notification_delivery_settings, webhook_delivery_settings, webhook_url_settings

DUPLICATE = "duplicate"
# The inbox notification a disabled subscription leaves its creator (NotificationOut.type is a plain string).
WEBHOOK_DISABLED = "webhook.disabled"
CREATOR_LOST_ROLE = "its creator is no longer an admin of the project"


class RetryLater(Exception):
    """The attempt failed and the message was delayed: report it as a batch item failure."""


class Sender(Protocol):
    def __call__(
        self, url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_loopback_http: bool
    ) -> AttemptResult: ...


class RetryQueue(Protocol):
    def retry_later(self, receipt_handle: str, delay_seconds: int) -> None: ...

    def dead_letter(self, body: str, reason: str, attempts: int) -> None: ...


def backoff_seconds(receive_count: int, rand: Callable[[], float] = random.random) -> int:
    """Delay before the attempt after `receive_count` failed ones: base * 2^(n-1), capped, with equal jitter."""
    settings = webhook_delivery_settings()
    ceiling = min(settings.webhook_retry_max_seconds, settings.webhook_retry_base_seconds * 2 ** (receive_count - 1))
    return max(1, min(43_200, round(ceiling / 2 + rand() * ceiling / 2)))  # SQS allows at most 12 h


def _reason(result: AttemptResult) -> str:
    if result.error:
        return result.error
    return f"HTTP {result.status_code}"


def _disable_after_failures(webhook: Webhook, now: datetime) -> None:
    count = store.count_failed_event(webhook.owner_id, webhook.webhook_id)
    limit = webhook_delivery_settings().webhook_disable_after_failures
    if count is None or limit <= 0 or count < limit:
        return
    reason = f"disabled after {count} consecutive failed events"
    if store.disable_webhook(webhook.owner_id, webhook.webhook_id, reason, now):
        _notify_owner(webhook, count, now)


def _notify_owner(webhook: Webhook, count: int, now: datetime) -> None:
    """An unread inbox notification for the subscription's creator (taskapp.data.notifications, the inbox's API)."""
    stamp = now.isoformat()
    notification = Notification(
        recipient_id=webhook.owner_id,
        event_id=f"webhook.disabled:{webhook.webhook_id}:{stamp}",
        type=WEBHOOK_DISABLED,
        task_id=None,
        project_id=webhook.project_id,
        title=webhook.description or webhook.url[:200],
        actor_id=None,
        message=f"Webhook to {webhook.url[:200]} ({webhook.webhook_id}) was disabled after {count} consecutive failed "
        "events; fix the receiver, then PATCH it with enabled: true",
        created_at=stamp,
    )
    ttl_days = notification_delivery_settings().notification_ttl_days
    inbox.put_once(notification, int((now + timedelta(days=ttl_days)).timestamp()))


def deliver(
    job: DeliveryJob,
    *,
    raw_body: str,
    receive_count: int,
    receipt_handle: str,
    send: Sender,
    queue: RetryQueue,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> str:
    """Attempt the job once; returns the outcome, or raises RetryLater after delaying the message."""
    settings = webhook_delivery_settings()
    webhook = store.get_webhook(job.owner_id, job.webhook_id)
    started = now()
    if webhook is None or (not webhook.enabled and job.type != PING_EVENT):
        why = "subscription deleted" if webhook is None else "subscription disabled"
        if webhook is not None:
            store.set_outcome(job, DeliveryOutcome.SKIPPED.value, started, error=why)
        return DeliveryOutcome.SKIPPED.value
    if webhook.project_id and job.type != PING_EVENT and not creator_may_receive(webhook.project_id, job.owner_id):
        store.set_outcome(job, DeliveryOutcome.SKIPPED.value, started, error=CREATOR_LOST_ROLE)
        return DeliveryOutcome.SKIPPED.value
    existing = store.get_delivery(job.webhook_id, job.delivery_id)
    if existing is not None and existing.outcome == DeliveryOutcome.DELIVERED.value:
        return DUPLICATE
    headers = signed_headers(job.message_id, started, job.payload, active_secrets(webhook, started))
    result = send(
        webhook.url,
        job.payload.encode("utf-8"),
        headers,
        timeout=settings.webhook_timeout_seconds,
        allow_loopback_http=webhook_url_settings().webhook_allow_loopback_http,
    )
    attempt = DeliveryAttempt(
        attempt=(existing.attempts if existing else 0) + 1,
        at=started.isoformat(),
        status_code=result.status_code,
        latency_ms=result.latency_ms,
        error=None if result.delivered else _reason(result),
    )
    finished = now()
    if result.delivered:
        store.record_attempt(job, attempt, DeliveryOutcome.DELIVERED.value, None, finished)
        if webhook.consecutive_failures and job.type != PING_EVENT:
            store.clear_failures(job.owner_id, job.webhook_id)
        return DeliveryOutcome.DELIVERED.value
    if receive_count < settings.webhook_max_attempts:
        delay = backoff_seconds(receive_count)
        next_retry = (finished + timedelta(seconds=delay)).isoformat()
        store.record_attempt(job, attempt, DeliveryOutcome.PENDING.value, next_retry, finished)
        queue.retry_later(receipt_handle, delay)
        raise RetryLater(f"attempt {receive_count} failed ({_reason(result)}); next in {delay} s")
    delivery = store.record_attempt(job, attempt, DeliveryOutcome.FAILED.value, None, finished)
    queue.dead_letter(raw_body, f"{_reason(result)} after {receive_count} attempts", delivery.attempts)
    if job.type != PING_EVENT:
        _disable_after_failures(webhook, finished)
    return DeliveryOutcome.FAILED.value
