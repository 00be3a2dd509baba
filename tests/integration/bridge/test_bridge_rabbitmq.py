"""The bridge against the real RabbitMQ and MiniStack: AWS `aws:rmq` events, acks, DLX dead-lettering, redelivery."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

import pika
import pytest

from tests.support.bridge_harness import (
    RABBITMQ_URL,
    FixtureStack,
    declare_queue_with_dlx,
    queue_depth,
)
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

BROKER_ARN = "arn:aws:mq:us-east-1:000000000000:broker:bridge-test:b-00000000-0000-0000-0000-000000000000"
TIMESTAMP = 1_763_888_400  # 2025-11-23 09:00:00 UTC


def publish(stack: FixtureStack, bodies: list[dict[str, Any]]) -> None:
    with pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL)) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        for body in bodies:
            channel.basic_publish(
                "",
                stack.queue,
                json.dumps(body).encode(),
                pika.BasicProperties(
                    content_type="application/json",
                    delivery_mode=pika.DeliveryMode.Persistent,
                    message_id=body["id"],
                    correlation_id=f"corr-{body['id']}",
                    app_id="bridge-tests",
                    timestamp=TIMESTAMP,
                    headers={"kind": "test", "attempt": 1},
                ),
                mandatory=True,
            )


def delivered(stack: FixtureStack, ids: list[str]) -> bool:
    return all(stack.item(f"delivered#{i}") for i in ids)


def rmq_messages(stack: FixtureStack) -> list[dict[str, Any]]:
    events = [e for e in stack.events() if e.get("eventSource") == "aws:rmq"]
    return [m for e in events for messages in e["rmqMessagesByQueue"].values() for m in messages]


def test_messages_arrive_in_aws_shape_and_are_acked_even_if_the_queue_came_after_the_bridge(
    fixture_stack, start_bridge
):
    bridge = start_bridge()  # the queue may not exist yet: the bridge waits for it
    declare_queue_with_dlx(fixture_stack)
    ids = [f"rmq-{secrets.token_hex(3)}-{n}" for n in range(12)]
    publish(fixture_stack, [{"id": i, "mode": "ok"} for i in ids])
    wait_until("all 12 messages to be delivered", lambda: delivered(fixture_stack, ids), timeout=60, interval=0.25)

    events = [e for e in fixture_stack.events() if e.get("eventSource") == "aws:rmq"]
    assert {e["eventSourceArn"] for e in events} == {BROKER_ARN}
    assert {key for e in events for key in e["rmqMessagesByQueue"]} == {f"{fixture_stack.queue}::/"}
    assert all(len(m) <= 5 for e in events for m in e["rmqMessagesByQueue"].values())  # BatchSize: 5
    message = next(m for m in rmq_messages(fixture_stack) if m["basicProperties"]["messageId"] == ids[0])
    body = base64.b64decode(message["data"])
    assert json.loads(body) == {"id": ids[0], "mode": "ok"}
    assert message["redelivered"] is False
    assert message["basicProperties"] == {
        "contentType": "application/json",
        "contentEncoding": None,
        "headers": {"kind": {"bytes": list(b"test")}, "attempt": 1},
        "deliveryMode": 2,
        "priority": None,
        "correlationId": f"corr-{ids[0]}",
        "replyTo": None,
        "expiration": None,
        "messageId": ids[0],
        "timestamp": "Nov 23, 2025, 9:00:00 AM",
        "type": None,
        "userId": None,
        "appId": "bridge-tests",
        "clusterId": None,
        "bodySize": len(body),
    }
    assert bridge.stop() == 0
    # Closing the connection would have put unacked messages back: an empty queue means every one was acked.
    assert queue_depth(fixture_stack.queue) == 0


def test_a_message_that_keeps_failing_is_dead_lettered_through_the_queue_dlx(fixture_stack, start_bridge):
    declare_queue_with_dlx(fixture_stack)
    bridge = start_bridge()
    poison = f"rmq-poison-{secrets.token_hex(3)}"
    publish(fixture_stack, [{"id": poison, "mode": "fail"}])

    def dead_lettered() -> Any:
        with pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL)) as connection:
            channel = connection.channel()
            while True:
                method, properties, body = channel.basic_get(fixture_stack.rabbit_dlq, auto_ack=False)
                if method is None:
                    return None
                if properties.message_id == poison:
                    channel.basic_ack(method.delivery_tag)
                    return properties, body
                channel.basic_nack(method.delivery_tag, requeue=True)
                return None

    properties, body = wait_until("the poison message in the DLQ", dead_lettered, timeout=60, interval=0.25)
    assert json.loads(body) == {"id": poison, "mode": "fail"}
    death = properties.headers["x-death"][0]
    assert death["reason"] == "rejected"
    assert death["queue"] == fixture_stack.queue
    assert int(fixture_stack.item(f"attempt#{poison}")["attempts"]) == 3  # first attempt + 2 retries
    assert any(b["result"] == "dead-lettered" for b in bridge.batches())
    assert bridge.stop() == 0
    assert queue_depth(fixture_stack.queue) == 0


def test_messages_unacked_by_a_killed_bridge_are_redelivered(fixture_stack, start_bridge):
    declare_queue_with_dlx(fixture_stack)
    first = start_bridge()
    ids = [f"rmq-kill-{secrets.token_hex(3)}-{n}" for n in range(10)]
    # 0.5 s per message: a batch of 5 is in the function for ~2.5 s, long enough to kill the bridge inside it.
    publish(fixture_stack, [{"id": i, "mode": "ok", "sleep": 0.5} for i in ids])
    wait_until(
        "the first batch to be in flight",
        lambda: any(fixture_stack.item(f"delivered#{i}") for i in ids),
        timeout=60,
        interval=0.25,
    )
    first.kill()

    start_bridge()
    wait_until("every message after the restart", lambda: delivered(fixture_stack, ids), timeout=120, interval=0.25)
    redelivered = [
        m for m in rmq_messages(fixture_stack) if m["basicProperties"]["messageId"] in ids and m["redelivered"]
    ]
    assert redelivered, "the batch in flight at the kill was not redelivered"
