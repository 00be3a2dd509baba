"""Webhooks: what `/webhooks` reads and answers, and the body every delivery carries (docs/webhooks.md)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictBool, StrictStr, StringConstraints, model_validator

from taskapp.schemas.common import ApiModel
from taskapp.schemas.events import CommentEventType, ProjectEventType, TaskEventType

PING_EVENT = "webhook.ping"
ALL_EVENTS = "*"
# What a subscription can ask for: the events the fan-out delivers, or "*". `webhook.ping` is sent on request
# whatever the list. Task events come from the tasks stream; project and member events (a project's subscriptions
# only: they always carry a projectId) from the projects stream; comment events from the comments stream (a project
# task's comments to the project's subscriptions, a personal task's to its owner's personal ones). The assignment
# events (issue 11) are not delivered to webhooks (yet), so they are not offered.
TASK_EVENTS = frozenset(
    event.value for event in TaskEventType if event not in (TaskEventType.ASSIGNED, TaskEventType.UNASSIGNED)
)
PROJECT_EVENTS = frozenset(event.value for event in ProjectEventType)
COMMENT_EVENTS = frozenset(event.value for event in CommentEventType)
SUBSCRIBABLE_EVENTS = TASK_EVENTS | PROJECT_EVENTS | COMMENT_EVENTS


def _known_events(values: list[str]) -> list[str]:
    unknown = sorted(set(values) - SUBSCRIBABLE_EVENTS - {ALL_EVENTS})
    if unknown:
        raise ValueError(f"unknown event types {unknown}; known: {sorted(SUBSCRIBABLE_EVENTS)} or '*'")
    if len(set(values)) != len(values):
        raise ValueError("event types must be unique")
    return values


Url = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]
EventTypes = Annotated[
    list[Annotated[StrictStr, StringConstraints(max_length=64)]],
    Field(min_length=1, max_length=10, description="Event types to receive, or ['*'] for all"),
    AfterValidator(_known_events),
]
Description = Annotated[StrictStr, StringConstraints(max_length=500)]
ProjectId = Annotated[StrictStr, StringConstraints(min_length=1, max_length=100)]


class DeliveryOutcome(StrEnum):
    PENDING = "pending"  # queued, or waiting for its next retry
    DELIVERED = "delivered"
    FAILED = "failed"  # every attempt failed: the message is in the dead-letter queue
    SKIPPED = "skipped"  # the subscription was disabled or deleted before the delivery was attempted


class CreateWebhookRequest(ApiModel):
    url: Url
    events: EventTypes
    project_id: ProjectId | None = Field(default=None, description="Events of this project (admins only)")
    description: Description = ""


class UpdateWebhookRequest(ApiModel):
    """A partial update; re-enabling a subscription clears its failure count."""

    url: Url | None = None
    events: EventTypes | None = None
    enabled: StrictBool | None = None
    description: Description | None = None

    @model_validator(mode="before")
    @classmethod
    def _something_and_no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if not data:
                raise ValueError("send at least one of url, events, enabled, description")
            nulls = sorted(name for name, value in data.items() if value is None)
            if nulls:
                raise ValueError(f"may not be null: {nulls}; omit a field to leave it unchanged")
        return data

    def changes(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class WebhookOut(ApiModel):
    id: str
    url: str
    events: list[str]
    description: str
    project_id: str | None
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    previous_secret_expires_at: str | None
    created_at: str
    updated_at: str


class WebhookCreatedOut(WebhookOut):
    """The only answer that carries the signing secret: it is never shown again."""

    secret: str


class WebhookListOut(ApiModel):
    items: list[WebhookOut]
    next_token: str | None


class SecretRotatedOut(ApiModel):
    """The new secret (shown once); the previous one keeps signing until `previousSecretExpiresAt`."""

    secret: str
    previous_secret_expires_at: str


class DeliveryAttemptOut(ApiModel):
    attempt: int
    at: str
    status_code: int | None
    latency_ms: float | None
    error: str | None


class DeliveryOut(ApiModel):
    id: str
    event_id: str
    message_id: str = Field(description="The webhook-id header: the same on every retry, receivers dedupe on it")
    type: str
    attempts: int
    last_status_code: int | None
    last_latency_ms: float | None
    last_error: str | None
    next_retry_at: str | None
    outcome: DeliveryOutcome
    created_at: str
    updated_at: str
    attempt_log: list[DeliveryAttemptOut]


class DeliveryListOut(ApiModel):
    items: list[DeliveryOut]
    next_token: str | None


class DeliveryAcceptedOut(ApiModel):
    """A ping or a redelivery was queued; follow it in GET /webhooks/{id}/deliveries."""

    delivery_id: str
    message_id: str
