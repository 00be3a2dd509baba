"""RabbitMQ topology and publishing with pika: the single place where exchanges and queues are declared.

Topology (declared idempotently by the outbox publisher on connect and by `python -m taskapp.messaging.rabbitmq`):
- durable topic exchange `task.events`; routing key = event type (`task.created`, ...);
- quorum queue `task.notifications` bound with `task.#`, `project.#`, `member.#`, `invitation.#` and `comment.#`
  (every event type the outbox publishes, ROUTING_PATTERNS), `x-delivery-limit` bounding redeliveries of a message that
  keeps being rejected with requeue, and `x-dead-letter-exchange` = `task.notifications.dlx`;
- durable fanout exchange `task.notifications.dlx` feeding the durable quorum queue `task.notifications.dlq`.
A consumer that gives up on a message nacks it without requeue: RabbitMQ dead-letters it to the DLQ.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from taskapp.settings import rabbitmq_settings

if TYPE_CHECKING:
    from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

    from taskapp.schemas.events import AnyEvent

# The notification queue's bindings: one pattern per family of event types (taskapp.schemas.events). Publishes are
# mandatory, so a type no pattern routes would fail the outbox batch: a new family needs its pattern here.
ROUTING_PATTERNS = ("task.#", "project.#", "member.#", "invitation.#", "comment.#")


class RabbitMqUnavailable(Exception):
    """A publish was not confirmed by the broker: the caller must fail so the outbox retries."""


def dead_letter_exchange() -> str:
    return f"{rabbitmq_settings().notifications_queue}.dlx"


def declare_topology(channel: BlockingChannel) -> None:
    settings = rabbitmq_settings()
    channel.exchange_declare(settings.events_exchange, exchange_type="topic", durable=True)
    channel.exchange_declare(dead_letter_exchange(), exchange_type="fanout", durable=True)
    channel.queue_declare(settings.notifications_dlq, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(settings.notifications_dlq, dead_letter_exchange())
    channel.queue_declare(
        settings.notifications_queue,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": settings.notifications_delivery_limit,
            "x-dead-letter-exchange": dead_letter_exchange(),
        },
    )
    for pattern in ROUTING_PATTERNS:
        channel.queue_bind(settings.notifications_queue, settings.events_exchange, routing_key=pattern)


def broker_url() -> str:
    """The AMQP URL with its credentials: from Secrets Manager when RABBITMQ_URL_SECRET_ARN is set (AWS), else
    RABBITMQ_URL (local stacks), so the credentials never sit in a deployed function's plain environment."""
    settings = rabbitmq_settings()
    url = _secret_url(settings.rabbitmq_url_secret_arn) if settings.rabbitmq_url_secret_arn else settings.rabbitmq_url
    if not url:
        raise RabbitMqUnavailable("no broker configured: set RABBITMQ_URL_SECRET_ARN (AWS) or RABBITMQ_URL (local)")
    return url


def _secret_url(secret_arn: str) -> str:
    """Powertools caches the secret for five minutes: one read per environment and a rotation seen within 5 min."""
    # Imported here: Powertools' parameters utility builds boto3 clients, which only this setting needs.
    from aws_lambda_powertools.utilities.parameters import get_secret

    secret = get_secret(secret_arn, max_age=300)
    return (secret if isinstance(secret, str) else secret.decode("utf-8")).strip()


def connect() -> BlockingConnection:
    import pika

    settings = rabbitmq_settings()
    parameters = pika.URLParameters(broker_url())
    parameters.socket_timeout = settings.broker_timeout_seconds
    parameters.blocked_connection_timeout = settings.broker_timeout_seconds
    parameters.stack_timeout = settings.broker_timeout_seconds * 2
    parameters.connection_attempts = 1
    parameters.heartbeat = 60
    return pika.BlockingConnection(parameters)


class EventPublisher:
    """A confirmed channel kept across invocations; reconnects (and re-declares the topology) after any failure."""

    def __init__(self) -> None:
        self._connection: BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._lock = threading.Lock()

    def _open_channel(self) -> BlockingChannel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self.close()
        self._connection = connect()
        channel = self._connection.channel()
        declare_topology(channel)
        channel.confirm_delivery()
        self._channel = channel
        return channel

    def publish(self, event: AnyEvent) -> None:
        """Returns only once the broker confirmed the persistent message was routed to a queue."""
        import pika
        from pika.exceptions import AMQPError

        body = event.model_dump_json(by_alias=True).encode("utf-8")
        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=event.event_id,
            type=event.type.value,
            timestamp=int(event.occurred_at.timestamp()),
            app_id="taskapp",
        )
        with self._lock:
            # A connection kept from an earlier invocation may have died with a broker restart: one fresh retry.
            for attempt in (1, 2):
                reused = self._channel is not None
                try:
                    self._open_channel().basic_publish(
                        rabbitmq_settings().events_exchange, event.type.value, body, properties, mandatory=True
                    )
                    return
                except (AMQPError, OSError) as exc:
                    self.close()
                    if attempt == 2 or not reused:
                        raise RabbitMqUnavailable(str(exc) or type(exc).__name__) from exc

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(Exception):  # a broken connection may fail to close; it is discarded anyway
                connection.close()


def queue_depths() -> dict[str, Any]:
    """Ready-message counts of the notification queue and its DLQ (passive declares: nothing is created)."""
    settings = rabbitmq_settings()
    connection = connect()
    try:
        depths: dict[str, Any] = {}
        for queue in (settings.notifications_queue, settings.notifications_dlq):
            channel = connection.channel()
            try:
                depths[queue] = channel.queue_declare(queue, passive=True).method.message_count
            except Exception:  # noqa: BLE001 - a missing queue closes the channel; report it, keep checking
                depths[queue] = None
        return depths
    finally:
        connection.close()


def main(argv: list[str]) -> int:
    """`python -m taskapp.messaging.rabbitmq declare`: create the topology before consumers or the bridge start."""
    if argv[1:] != ["declare"]:
        print("usage: python -m taskapp.messaging.rabbitmq declare", file=sys.stderr)
        return 2
    connection = connect()
    try:
        declare_topology(connection.channel())
    finally:
        connection.close()
    settings = rabbitmq_settings()
    report = {
        "declaredAt": datetime.now(UTC).isoformat(),
        "exchange": settings.events_exchange,
        "queue": settings.notifications_queue,
        "dlq": settings.notifications_dlq,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
