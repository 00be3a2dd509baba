"""One consumer per queue of an `MQ` event: take a batch, invoke, then ack (or dead-letter) it.

A push consumer (`basic_consume`, prefetch = BatchSize): RabbitMQ sends messages as they are routed and the
batch goes to the function as soon as it is full, or its batching window (MaximumBatchingWindowInSeconds, AWS
default 0.5 s) has elapsed since its first message, or, with a window of 0, as soon as the queue is momentarily
empty (no further message within QUEUE_IDLE_SECONDS): a lone event is invoked at once, a burst still batches.

Messages are acked only after a successful invoke; after the retries run out they are nacked without requeue,
so the queue's dead-letter exchange routes them to its DLQ. Unacked messages of a bridge that died are
redelivered by RabbitMQ to the next one (`redelivered: true` in the event). The queue is declared by the
application (with its dead-letter exchange): the bridge only checks it passively and waits until it exists.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPError, ChannelClosedByBroker

from infra.bridge import amqp_floats
from infra.bridge.delivery import (
    BatchResult,
    Invoker,
    RetryPolicy,
    StopRequested,
    batch_log_fields,
    deliver_rabbit_batch,
    rabbit_event_chunks,
)
from infra.bridge.events import RabbitMessage, encode_event, rabbit_event, rabbit_message_json
from infra.bridge.log import logger
from infra.bridge.settings import BridgeSettings
from infra.bridge.template import RabbitSource

RECONNECT_SECONDS = 2.0
IDLE_TICK_SECONDS = 0.2  # how often an idle consumer checks for a stop request
# With a batching window of 0, "the queue is momentarily empty" = no message arrived for this long. Long enough
# for a burst already on the wire to join the batch, short enough not to show in the end-to-end latency.
QUEUE_IDLE_SECONDS = 0.005
NOT_FOUND = 404
MAX_LOGGED_IDS = 10

amqp_floats.install()  # before any frame is decoded: float/double headers arrive as floats, NaN included


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


@dataclass
class BatchCollector:
    """When is the batch being gathered due? Pure timing decisions (clock passed in), unit-tested."""

    batch_size: int
    window_seconds: float
    messages: list[RabbitMessage] = field(default_factory=list)
    first_at: float = 0.0

    def add(self, message: RabbitMessage, now: float) -> None:
        if not self.messages:
            self.first_at = now
        self.messages.append(message)

    def wait_seconds(self, now: float) -> float:
        """How long to wait for more messages before asking `due` again."""
        if not self.messages:
            return IDLE_TICK_SECONDS
        if self.window_seconds <= 0:
            return QUEUE_IDLE_SECONDS
        return max(0.0, min(IDLE_TICK_SECONDS, self.first_at + self.window_seconds - now))

    def due(self, now: float, *, arrived: bool) -> bool:
        """`arrived`: whether any message came in during the last wait (if not, the queue is momentarily empty)."""
        if not self.messages:
            return False
        if len(self.messages) >= self.batch_size:
            return True
        if self.window_seconds <= 0:
            return not arrived
        return now >= self.first_at + self.window_seconds

    def take(self) -> list[RabbitMessage]:
        batch, self.messages = self.messages, []
        return batch


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
            except Exception:  # noqa: BLE001 - no message and no bug may end the poller: reconnect instead
                # Closing the connection requeues what was not acked yet, so nothing is lost.
                logger.exception("rabbitmq poller error, reconnecting", extra={"queue": self.queue})
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
        collector = BatchCollector(self.source.batch_size, self.source.batching_window_seconds)

        def on_message(_channel: BlockingChannel, method: Any, properties: Any, body: bytes) -> None:
            collector.add(to_message(method, properties, body), time.monotonic())

        consumer_tag = channel.basic_consume(self.queue, on_message_callback=on_message)
        logger.info("rabbitmq consumer started", extra={"source": self.source.label, "queue": self.queue})
        while not self.stop.is_set():
            before = len(collector.messages)
            # Returns as soon as deliveries were dispatched to on_message, or after the wait.
            connection.process_data_events(time_limit=collector.wait_seconds(time.monotonic()))
            arrived = len(collector.messages) > before
            if collector.due(time.monotonic(), arrived=arrived) and not self.stop.is_set():
                waited = time.monotonic() - collector.first_at
                self._handle(connection, channel, collector.take(), waited)
        # On stop, a batch still being gathered stays unacked: RabbitMQ redelivers it to the next consumer.
        channel.basic_cancel(consumer_tag)

    def _handle(
        self,
        connection: pika.BlockingConnection,
        channel: BlockingChannel,
        batch: Sequence[RabbitMessage],
        waited: float,
    ) -> None:
        started = time.monotonic()
        for event_messages in rabbit_event_chunks(self._encodable(channel, batch)):
            if not self._deliver(connection, channel, event_messages, started, waited):
                return

    def _deliver(
        self,
        connection: pika.BlockingConnection,
        channel: BlockingChannel,
        batch: Sequence[RabbitMessage],
        started: float,
        waited: float,
    ) -> bool:
        """One event: ack its messages after a successful invoke, nack them after the retries; False on stop."""

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
            self._log_batch(batch, started, waited, "abandoned-on-stop", None)
            return False
        last_tag = max(message.delivery_tag for message in batch)
        if result.dead_letters:
            channel.basic_nack(delivery_tag=last_tag, multiple=True, requeue=False)
        else:
            channel.basic_ack(delivery_tag=last_tag, multiple=True)
        self._log_batch(batch, started, waited, result.outcome, result)
        return True

    def _encodable(self, channel: BlockingChannel, batch: Sequence[RabbitMessage]) -> list[tuple[RabbitMessage, int]]:
        """Each message the event can carry, with its exact encoded size; the others are dead-lettered (nack, no
        requeue) one by one, with the reason in the log."""
        kept = []
        for message in batch:
            try:
                size = len(encode_event(rabbit_message_json(message)))
            except (TypeError, ValueError) as exc:
                channel.basic_nack(delivery_tag=message.delivery_tag, requeue=False)
                logger.warning(
                    "message dead-lettered: not encodable as an aws:rmq event",
                    extra={"queue": self.queue, "message_id": message.message_id, "reason": str(exc)},
                )
            else:
                kept.append((message, size))
        return kept

    def _log_batch(
        self,
        batch: Sequence[RabbitMessage],
        started: float,
        waited: float,
        outcome: str,
        result: BatchResult | None,
    ) -> None:
        source = f"rabbitmq:{self.queue}::{self.source.virtual_host}"
        fields = batch_log_fields(
            self.function_name, source, size=len(batch), outcome=outcome, result=result, started=started
        )
        # From the batch's first message to the invoke: the batching window's share of the latency.
        fields["waited_ms"] = round(waited * 1000, 1)
        fields["message_ids"] = [message.message_id for message in batch[:MAX_LOGGED_IDS]]
        logger.info("batch", extra=fields)
