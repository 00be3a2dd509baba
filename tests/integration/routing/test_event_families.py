"""The outbox's publisher against the real broker: every event family it publishes (task, project, member,
invitation, comment) is routed to the notification queue, under private names so no stack consumes them."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pika
import pytest

from taskapp import settings
from taskapp.messaging.rabbitmq import EventPublisher
from taskapp.schemas.events import (
    AnyEvent,
    CommentEvent,
    CommentEventType,
    ProjectEvent,
    ProjectEventType,
    TaskEvent,
    TaskEventType,
)

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def private_names(rabbitmq: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    run = secrets.token_hex(4)
    exchange, queue = f"task.events.routing-{run}", f"task.notifications.routing-{run}"
    for name, value in {
        "RABBITMQ_URL": rabbitmq,
        "EVENTS_EXCHANGE": exchange,
        "NOTIFICATIONS_QUEUE": queue,
        "NOTIFICATIONS_DLQ": f"{queue}.dlq",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("RABBITMQ_URL_SECRET_ARN", raising=False)
    settings.clear_cache()
    yield exchange, queue
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq))
    channel = connection.channel()
    for name in (queue, f"{queue}.dlq"):
        channel.queue_delete(name)
    for name in (exchange, f"{queue}.dlx"):
        channel.exchange_delete(name)
    connection.close()
    settings.clear_cache()


def _one_of_each_family() -> list[AnyEvent]:
    task = TaskEvent(
        event_id="t-1:1:task.assigned",
        type=TaskEventType.ASSIGNED,
        occurred_at=AT,
        owner_id="u-1",
        task_id="t-1",
        title="Ship it",
        version=1,
        actor_id="u-1",
        project_id="p-1",
        assignee_id="u-2",
    )
    project = [
        ProjectEvent(event_id=f"e-{kind.value}", type=kind, occurred_at=AT, project_id="p-1", actor_id="u-1")
        for kind in (
            ProjectEventType.PROJECT_UPDATED,
            ProjectEventType.MEMBER_JOINED,
            ProjectEventType.INVITATION_DECLINED,
        )
    ]
    comment = CommentEvent(
        event_id="c-1:1:comment.added",
        type=CommentEventType.ADDED,
        occurred_at=AT,
        task_id="t-1",
        comment_id="c-1",
        author_id="u-2",
        actor_id="u-2",
        task_owner_id="u-1",
        version=1,
    )
    return [task, *project, comment]


def test_every_event_family_is_confirmed_and_routed_to_the_notification_queue(
    rabbitmq: str, private_names: tuple[str, str]
) -> None:
    _, queue = private_names
    events = _one_of_each_family()
    publisher = EventPublisher()
    try:
        for event in events:
            publisher.publish(event)  # mandatory + confirms: an unroutable type would raise RabbitMqUnavailable
    finally:
        publisher.close()
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq))
    try:
        channel = connection.channel()
        received = []
        while (delivery := channel.basic_get(queue, auto_ack=True))[0] is not None:
            _, properties, _ = delivery
            received.append((properties.message_id, properties.type))
    finally:
        connection.close()
    assert received == [(event.event_id, event.type.value) for event in events]
