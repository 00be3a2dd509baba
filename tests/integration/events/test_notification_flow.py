"""Flows 2 and 3 with the real brokers: tasks table stream -> outbox -> RabbitMQ -> bridge -> activity feed."""

from __future__ import annotations

import subprocess
import uuid
from typing import Any

import pika

from tests.integration.events.conftest import RABBITMQCTL, Stack, User
from tests.support.waiting import wait_until


def _types_for(user: User, task_id: str) -> list[str]:
    return sorted(item["type"] for item in user.activity() if item["taskId"] == task_id)


def test_task_changes_made_through_the_api_appear_in_the_activity_feed(user: User) -> None:
    created = user.post("/tasks", {"title": "Feed me"})
    assert created.status_code == 201, created.text
    task = created.json()
    assert user.patch(f"/tasks/{task['id']}", {"version": 1, "status": "done"}).status_code == 200
    wait_until(
        "task.created and task.completed in the feed",
        lambda: _types_for(user, task["id"]) == ["task.completed", "task.created"],
    )
    feed = user.activity()
    assert feed[0]["type"] == "task.completed" and feed[0]["message"] == 'Task "Feed me" was completed'
    assert feed[0]["timestamp"] >= feed[1]["timestamp"]


def _rabbitmqctl(*args: str) -> None:
    result = subprocess.run([*RABBITMQCTL, *args], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, f"rabbitmqctl {' '.join(args)} failed: {result.stderr}"


def test_no_event_is_lost_while_rabbitmq_is_down(user: User) -> None:
    """Stops the stack's RabbitMQ node (the private one under infra/test-all.sh) and always starts it again."""
    _rabbitmqctl("stop_app")
    try:
        ids = []
        for n in range(5):
            response = user.post("/tasks", {"title": f"written during the outage {n}"})
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
    finally:
        _rabbitmqctl("start_app")
        _rabbitmqctl("await_startup")
    wait_until(
        "every event written during the outage",
        lambda: {item["taskId"] for item in user.activity() if item["type"] == "task.created"} >= set(ids),
        timeout=180,
    )


def _dead_lettered(channel: Any, dlq: str, message_id: str) -> bool:
    """Look through the DLQ for our message; requeue everybody else's."""
    seen = []
    found = False
    while True:
        method, properties, _ = channel.basic_get(dlq, auto_ack=False)
        if method is None:
            break
        if properties.message_id == message_id:
            channel.basic_ack(method.delivery_tag)
            found = True
            break
        seen.append(method.delivery_tag)
    for tag in seen:
        channel.basic_nack(tag, requeue=True)
    return found


def test_a_message_that_always_fails_ends_in_the_dead_letter_queue(stack: Stack, rabbitmq_channel: Any) -> None:
    exchange, queue = stack.parameter("EventsExchange"), stack.parameter("NotificationsQueue")
    message_id = f"poison-{uuid.uuid4().hex}"
    rabbitmq_channel.confirm_delivery()
    rabbitmq_channel.basic_publish(
        exchange,
        "task.created",
        b'{"type": "task.exploded"}',
        pika.BasicProperties(content_type="application/json", delivery_mode=2, message_id=message_id),
        mandatory=True,
    )
    wait_until(
        f"{message_id} in {queue}.dlq", lambda: _dead_lettered(rabbitmq_channel, f"{queue}.dlq", message_id), 120
    )
