"""Webhook records: a subscription, one delivery (an event for one subscription) and the job that carries it."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class Webhook(NamedTuple):
    """A subscription of one owner. Secrets are KMS ciphertexts (base64); the plain text never reaches storage."""

    owner_id: str
    webhook_id: str
    url: str
    events: tuple[str, ...]
    description: str
    project_id: str | None
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    secret_ciphertext: str
    previous_secret_ciphertext: str | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class DeliveryAttempt(NamedTuple):
    attempt: int
    at: str  # ISO-8601
    status_code: int | None
    latency_ms: float | None
    error: str | None


class Delivery(NamedTuple):
    """One event for one subscription, across all its attempts; `message_id` is its stable `webhook-id`."""

    webhook_id: str
    delivery_id: str
    owner_id: str
    event_id: str
    message_id: str
    type: str
    payload: str  # the exact JSON body sent on every attempt
    attempts: int
    last_status_code: int | None
    last_latency_ms: float | None
    last_error: str | None
    next_retry_at: str | None
    outcome: str
    created_at: str
    updated_at: str
    attempt_log: tuple[DeliveryAttempt, ...]


class DeliveryJob(NamedTuple):
    """What one SQS message carries: enough to deliver without reading the event again."""

    owner_id: str
    webhook_id: str
    delivery_id: str
    event_id: str
    message_id: str
    type: str
    payload: str
