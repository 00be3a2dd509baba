"""RabbitMQ `task.notifications` consumer: each event's activity entries, and its notifications.

Every event (task, comment, project) is recorded in each feed it belongs to (taskapp.domain.activity: the people's
own feeds and the project's), then told to the recipients its rule names (taskapp.domain.notification_rules:
assignments, comments and mentions, invitations by email, ...); a type without a rule tells nobody.

Each event is told to the recipients its rule names (taskapp.domain.notification_rules) on the channels each chose:
the inbox item once per (event id, recipient), the email once (SES), a push to open WebSocket connections.

Lambda's RabbitMQ trigger has no partial batch response: every valid message of the batch is handled first
(idempotently, keyed by event id and recipient), then the invocation fails if any message was unusable or an email
failed transiently, so the batch is redelivered a bounded number of times and then dead-lettered. Redelivered
messages are no-ops except for the emails still owed. A permanently failing email never blocks anyone.
"""

# First of all: pauses the garbage collector while the modules below load; ready() at the end resumes it.
from taskapp import coldstart

# isort: split
import base64
import binascii
import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.rabbit_mq_event import RabbitMQEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from taskapp.domain.activity import record_event
from taskapp.domain.notification_delivery import StoreContext, UserAddresses, deliver, occurrence_for
from taskapp.domain.push import ConnectionPusher
from taskapp.messaging.email import SesMailer
from taskapp.messaging.websocket import ConnectionPoster
from taskapp.observability import instrumented, logger, metrics
from taskapp.schemas.events import AnyEvent, CommentEvent, ProjectEvent, TaskEvent
from taskapp.settings import websocket_settings

mailer = SesMailer()
# Live push only when the stack has a WebSocket API (the template sets WEBSOCKET_API_ID).
pusher = ConnectionPusher(ConnectionPoster()) if websocket_settings().websocket_api_id else None


class PoisonMessages(Exception):
    """Some messages of the batch can never be processed: fail so they reach the dead-letter queue."""


class EmailsOwed(Exception):
    """Some emails failed transiently: fail the batch so the redelivery sends them (nothing else repeats)."""


_SCHEMAS: dict[str, type[TaskEvent] | type[CommentEvent] | type[ProjectEvent]] = {
    "task": TaskEvent,
    "comment": CommentEvent,
    "project": ProjectEvent,
    "member": ProjectEvent,
    "invitation": ProjectEvent,
}


def _decode(data: str) -> AnyEvent:
    """The schema is chosen by the type's family (`task.`, `comment.`, ...); an unknown family is unusable."""
    body = json.loads(base64.b64decode(data, validate=True))
    family = str(body.get("type") or "").split(".", 1)[0] if isinstance(body, dict) else ""
    schema = _SCHEMAS.get(family)
    if schema is None:
        raise ValueError(f"unknown event type {body.get('type') if isinstance(body, dict) else None!r}")
    return schema.model_validate(body)


@instrumented
@event_source(data_class=RabbitMQEvent)
def handler(event: RabbitMQEvent, context: LambdaContext) -> dict[str, Any]:
    recorded = duplicates = notified = emailed = owed = 0
    poison: list[dict[str, Any]] = []
    addresses, stores = UserAddresses(), StoreContext()
    for queue, messages in event.rmq_messages_by_queue.items():
        for message in messages:
            message_id = message.basic_properties.message_id
            try:
                decoded = _decode(message.raw_event["data"])
            except (KeyError, ValueError, binascii.Error, ValidationError) as exc:
                poison.append({"queue": queue, "messageId": message_id, "error": type(exc).__name__})
                continue
            if record_event(decoded):
                recorded += 1
            else:
                duplicates += 1
            delivery = deliver(occurrence_for(decoded, stores), addresses, mailer, pusher)
            notified, emailed, owed = (
                notified + delivery.notified,
                emailed + delivery.emailed,
                owed + delivery.email_retry,
            )
    metrics.add_metric(name="ActivityRecorded", unit="Count", value=recorded)
    metrics.add_metric(name="NotificationsCreated", unit="Count", value=notified)
    metrics.add_metric(name="NotificationEmailsSent", unit="Count", value=emailed)
    summary = {
        "recorded": recorded,
        "duplicates": duplicates,
        "notified": notified,
        "emailed": emailed,
        "poison": poison,
    }
    logger.info("notification batch", extra=summary)
    if poison:
        raise PoisonMessages(json.dumps(poison))
    if owed:
        raise EmailsOwed(f"{owed} emails failed transiently; the redelivered batch sends them")
    return {"recorded": recorded, "duplicates": duplicates}


coldstart.ready()
