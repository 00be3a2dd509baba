"""One consumer per queue of an `MQ` event: take a batch, invoke, then ack (or dead-letter) it.

Messages are acked only after a successful invoke; after the retries run out they are nacked without requeue,
so the queue's dead-letter exchange routes them to its DLQ. Unacked messages of a bridge that died are
redelivered by RabbitMQ to the next one (`redelivered: true` in the event). The queue is declared by the
application (with its dead-letter exchange): the bridge only checks it passively and waits until it exists.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPError, ChannelClosedByBroker

from infra.bridge.delivery import BatchResult, Invoker, RetryPolicy, StopRequested, deliver_rabbit_batch
from infra.bridge.events import RabbitMessage, rabbit_event
from infra.bridge.log import logger
from infra.bridge.settings import BridgeSettings
from infra.bridge.template import RabbitSource

RECONNECT_SECONDS = 2.0
IDLE_TICK_SECONDS = 0.2  # how often an idle consumer checks for a stop request
NOT_FOUND = 404


def to_message(method: Any, properties: Any, body: bytes) -> RabbitMessage:
    return RabbitMessage(
        delivery_tag=method.delivery_tag,
        redelivered=bool(method.redelivered),
        body=body,
        content_type=properties.content_type,
        content_encoding=properties.content_encoding,
        headers=properties.headers,
        delivery_mode=properties.delivery_mode,
        priority=properties.priority,
        correlation_id=properties.correlation_id,
        reply_to=properties.reply_to,
        expiration=properties.expiration,
        message_id=properties.message_id,
        timestamp=properties.timestamp,
        type=properties.type,
        user_id=properties.user_id,
        app_id=properties.app_id,
        cluster_id=properties.cluster_id,
    )


class RabbitPoller:
    def __init__(
        self,
        source: RabbitSource,
        *,
        queue: str,
        function_name: str,
        settings: BridgeSettings,
        invoke: Invoker,
        stop: threading.Event,
    ) -> None:
        self.source = source
        self.queue = queue
        self.function_name = function_name
        self.settings = settings
        self.invoke = invoke
        self.stop = stop
        self.ready = threading.Event()  # set once connected to the broker (the queue may not exist yet)
        self.policy = RetryPolicy(settings.max_retries, settings.backoff_base_seconds, settings.backoff_max_seconds)

    def run(self) -> None:
        """Thread body: (re)connect and consume until stopped."""
        waiting_logged = False
        while not self.stop.is_set():
            try:
                connection = pika.BlockingConnection(self._parameters())
            except AMQPError as exc:
                logger.warning("rabbitmq unreachable", extra={"queue": self.queue, "error": repr(exc)})
                self.stop.wait(RECONNECT_SECONDS)
                continue
            self.ready.set()
            try:
                channel = connection.channel()
                channel.queue_declare(self.queue, passive=True)
                waiting_logged = False
                self._consume(connection, channel)
            except ChannelClosedByBroker as exc:
                if exc.reply_code != NOT_FOUND:
                    logger.warning("rabbitmq channel closed", extra={"queue": self.queue, "error": repr(exc)})
                elif not waiting_logged:
                    logger.info("waiting for queue to be declared", extra={"queue": self.queue})
                    waiting_logged = True
            except AMQPError as exc:
                logger.warning("rabbitmq connection lost", extra={"queue": self.queue, "error": repr(exc)})
            finally:
                if connection.is_open:
                    connection.close()  # unacked messages go back to the queue
            self.stop.wait(RECONNECT_SECONDS)
        logger.info("rabbitmq consumer stopped", extra={"source": self.source.label, "queue": self.queue})

    def _parameters(self) -> pika.URLParameters:
        parameters = pika.URLParameters(self.settings.rabbitmq_url)
        parameters.virtual_host = self.source.virtual_host  # the template's VIRTUAL_HOST decides, as on AWS
        if "heartbeat" not in self.settings.rabbitmq_url:
            # A batch blocks the thread during invoke and retries: keep the connection from being declared dead.
            parameters.heartbeat = 600
        return parameters

    def _consume(self, connection: pika.BlockingConnection, channel: BlockingChannel) -> None:
        channel.basic_qos(prefetch_count=self.source.batch_size)
        logger.info("rabbitmq consumer started", extra={"source": self.source.label, "queue": self.queue})
        batch: list[RabbitMessage] = []
        deadline = 0.0
        for method, properties, body in channel.consume(self.queue, inactivity_timeout=IDLE_TICK_SECONDS):
            if method is not None:
                if not batch:
                    deadline = time.monotonic() + self.source.batching_window_seconds
                batch.append(to_message(method, properties, body))
            full = len(batch) >= self.source.batch_size
            if batch and (full or time.monotonic() >= deadline or self.stop.is_set()):
                if self.stop.is_set():
                    break  # leave the batch unacked: RabbitMQ redelivers it
                self._handle(connection, channel, batch)
                batch = []
            if self.stop.is_set():
                break
        channel.cancel()

    def _handle(
        self, connection: pika.BlockingConnection, channel: BlockingChannel, batch: Sequence[RabbitMessage]
    ) -> None:
        started = time.monotonic()

        def sleep(seconds: float) -> None:
            # Sleep through the connection so heartbeats keep flowing; wake up on stop.
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                if self.stop.is_set():
                    raise StopRequested
                connection.sleep(min(IDLE_TICK_SECONDS, max(0.0, end - time.monotonic())))

        def build(messages: Sequence[RabbitMessage]) -> dict[str, Any]:
            return rabbit_event(self.queue, self.source.virtual_host, messages, self.source.broker_arn)

        try:
            result = deliver_rabbit_batch(
                self.function_name, batch, build_event=build, invoke=self.invoke, policy=self.policy, sleep=sleep
            )
        except StopRequested:
            self._log_batch(batch, started, "abandoned-on-stop", None)
            return
        last_tag = max(message.delivery_tag for message in batch)
        if result.dead_letters:
            channel.basic_nack(delivery_tag=last_tag, multiple=True, requeue=False)
        else:
            channel.basic_ack(delivery_tag=last_tag, multiple=True)
        self._log_batch(batch, started, result.outcome, result)

    def _log_batch(
        self, batch: Sequence[RabbitMessage], started: float, outcome: str, result: BatchResult | None
    ) -> None:
        logger.info(
            "batch",
            extra={
                "function": self.function_name,
                "source": f"rabbitmq:{self.queue}::{self.source.virtual_host}",
                "size": len(batch),
                "result": outcome,
                "attempts": result.attempts if result else None,
                "dead_letters": len(result.dead_letters) if result else 0,
                "error": result.last_error if result else None,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
