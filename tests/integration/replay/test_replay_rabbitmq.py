"""A rejected event in a private notifications DLQ goes back through the events exchange once, properties intact."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator

import pika
import pytest
from pika.adapters.blocking_connection import BlockingChannel

from infra.replay_dlq import REPLAYED_FROM_HEADER, main

pytestmark = pytest.mark.integration


@pytest.fixture
def private_topology(rabbitmq: str) -> Iterator[tuple[BlockingChannel, str, str, str]]:
    """The application's topology (exchange, quorum queue with a DLX, DLQ) under names no one else uses."""
    run = secrets.token_hex(4)
    exchange, queue = f"task.events.replay-{run}", f"task.notifications.replay-{run}"
    dlx, dlq = f"{queue}.dlx", f"{queue}.dlq"
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq))
    channel = connection.channel()
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    channel.exchange_declare(dlx, exchange_type="fanout", durable=True)
    channel.queue_declare(dlq, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(dlq, dlx)
    channel.queue_declare(
        queue,
        durable=True,
        arguments={"x-queue-type": "quorum", "x-delivery-limit": 5, "x-dead-letter-exchange": dlx},
    )
    channel.queue_bind(queue, exchange, routing_key="task.#")
    try:
        yield channel, exchange, queue, dlq
    finally:
        for name in (queue, dlq):
            channel.queue_delete(name)
        for name in (exchange, dlx):
            channel.exchange_delete(name)
        connection.close()


def _depth(channel: BlockingChannel, queue: str) -> int:
    return channel.queue_declare(queue, passive=True).method.message_count


def _wait_for_depth(channel: BlockingChannel, queue: str, expected: int) -> None:
    deadline = time.monotonic() + 10
    while _depth(channel, queue) != expected:
        if time.monotonic() > deadline:
            pytest.fail(f"{queue} holds {_depth(channel, queue)} messages, expected {expected}")
        time.sleep(0.1)


def test_rabbitmq_dead_letters_return_to_the_exchange_once(
    rabbitmq: str, private_topology: tuple[BlockingChannel, str, str, str]
) -> None:
    channel, exchange, queue, dlq = private_topology
    body = json.dumps({"eventId": "t-1:1:task.created", "type": "task.created"}).encode()
    properties = pika.BasicProperties(
        message_id="t-1:1:task.created",
        type="task.created",
        content_type="application/json",
        delivery_mode=2,
        app_id="taskapp",
        headers={"trace": "abc"},
    )
    channel.basic_publish(exchange, "task.created", body, properties)
    _wait_for_depth(channel, queue, 1)
    method, _, _ = channel.basic_get(queue)
    channel.basic_nack(method.delivery_tag, requeue=False)  # poison: the DLX routes it to the DLQ
    _wait_for_depth(channel, dlq, 1)
    args = ["rabbitmq", "--url", rabbitmq, "--queue", dlq]

    dry: list[str] = []
    main([*args, "--dry-run"], out=dry.append)
    assert "would replay 1, skipped 0" in dry[-1]
    assert f"-> {exchange} routing key 'task.created' reason=rejected" in dry[0]
    _wait_for_depth(channel, dlq, 1)
    assert _depth(channel, queue) == 0

    lines: list[str] = []
    main(args, out=lines.append)
    assert "replayed 1, skipped 0" in lines[-1]
    assert "replayed rejected: 1" in lines[-1]
    _wait_for_depth(channel, queue, 1)
    assert _depth(channel, dlq) == 0

    method, replayed, replayed_body = channel.basic_get(queue, auto_ack=True)
    assert method.exchange == exchange
    assert method.routing_key == "task.created"
    assert replayed_body == body
    assert replayed.message_id == "t-1:1:task.created"
    assert (replayed.type, replayed.content_type, replayed.app_id) == ("task.created", "application/json", "taskapp")
    assert replayed.delivery_mode == 2
    assert replayed.headers["trace"] == "abc"
    assert replayed.headers[REPLAYED_FROM_HEADER] == dlq
    assert not any(name.startswith(("x-death", "x-first-death")) for name in replayed.headers)

    again: list[str] = []
    main(args, out=again.append)
    assert "replayed 0, skipped 0" in again[-1]
    assert _depth(channel, queue) == 0


def test_unroutable_replay_stops_and_leaves_the_message_in_the_dlq(
    rabbitmq: str, private_topology: tuple[BlockingChannel, str, str, str]
) -> None:
    channel, exchange, queue, dlq = private_topology
    channel.basic_publish(exchange, "task.deleted", b"{}", pika.BasicProperties(message_id="m-1", delivery_mode=2))
    _wait_for_depth(channel, queue, 1)
    method, _, _ = channel.basic_get(queue)
    channel.basic_nack(method.delivery_tag, requeue=False)
    _wait_for_depth(channel, dlq, 1)
    nowhere = f"{exchange}.unbound"
    channel.exchange_declare(nowhere, exchange_type="topic", durable=False, auto_delete=False)
    try:
        with pytest.raises(SystemExit, match="not confirmed"):
            main(["rabbitmq", "--url", rabbitmq, "--queue", dlq, "--exchange", nowhere], out=lambda _: None)
    finally:
        channel.exchange_delete(nowhere)
    _wait_for_depth(channel, dlq, 1)
    assert _depth(channel, queue) == 0
