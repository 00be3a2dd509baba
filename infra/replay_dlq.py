"""Replay dead letters after a fix: `python -m infra.replay_dlq kafka|rabbitmq [--dry-run] [--limit N]`.

Kafka: a dead letter on `task.ingested.dlq` is the original record plus `dlq-*` headers, whichever of its two
writers (the ingestion function, the event-source bridge) produced it; `taskapp.messaging.dead_letter` owns that
contract, and its `DeadLetter.decode` gives back the original key, value and headers (and reads the ingestion
function's former JSON envelope too). Records are read from the committed position of a dedicated consumer group
(`dlq-replay`) up to the end offsets seen at start, produced back to their source topic with `acks=all`, and only
then committed: a crash replays again (at-least-once; the ingestion consumer dedupes by task id), a second run
replays nothing twice.

RabbitMQ: messages are taken from the DLQ queue with basic.get, republished (publisher confirms, mandatory) to
the exchange and routing key recorded in their `x-death` header, with their properties (message id included, so
the notification consumer's idempotency dedupes a message that had in fact been processed) minus the death
headers, and acked only once the broker confirmed the publish.

Hand-written on purpose: neither kafka-python nor pika offers a redrive, and SQS's StartMessageMoveTask has no
equivalent for these brokers.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from taskapp.messaging.dead_letter import DeadLetter, NotADeadLetter, RecordPosition

DEFAULT_KAFKA_DLQ_TOPIC = "task.ingested.dlq"
DEFAULT_SOURCE_TOPIC = "task.ingested"
DEFAULT_GROUP = "dlq-replay"
REPLAYED_FROM_HEADER = "dlq-replayed-from"
UNRECOGNIZED = "UNRECOGNIZED"
DEATH_HEADER_PREFIXES = ("x-death", "x-first-death-", "x-last-death-")


class NotReplayable(Exception):
    """A dead letter this tool cannot turn back into its original message: it is skipped and reported."""


# --------------------------------------------------------------------------------------------- Kafka recovery


@dataclass(frozen=True)
class DeadRecord:
    """A record as read from the DLQ topic (the fields recovery needs)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]] = ()

    @property
    def position(self) -> str:
        return str(RecordPosition(self.topic, self.partition, self.offset))


@dataclass(frozen=True)
class OriginalRecord:
    """What to produce back: the original record, plus a header naming the dead letter it came from."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    reason: str


def topic_of_source(source: str) -> str:
    """`dlq-source` is `topic-partition@offset`; topic names may contain dashes, the partition is after the last."""
    try:
        return RecordPosition.parse(source).topic
    except NotADeadLetter as exc:
        raise NotReplayable(f"malformed dlq-source header {source!r}") from exc


def recover_kafka_record(dead: DeadRecord, default_topic: str = DEFAULT_SOURCE_TOPIC) -> OriginalRecord:
    """The original record of a dead letter, back to the topic it was read from, its `dlq-*` headers dropped."""
    try:
        letter = DeadLetter.decode(dead.key, dead.value, dead.headers)
    except NotADeadLetter as exc:
        raise NotReplayable(str(exc)) from exc
    topic = letter.source.topic if letter.source is not None else default_topic
    headers = [*letter.headers, (REPLAYED_FROM_HEADER, dead.position.encode())]
    return OriginalRecord(topic, letter.key, letter.value, headers, letter.reason)


# ------------------------------------------------------------------------------------------ RabbitMQ recovery


@dataclass(frozen=True)
class Destination:
    exchange: str
    routing_key: str
    reason: str


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def rabbit_destination(
    headers: dict[str, Any] | None, delivered_routing_key: str, default_exchange: str
) -> Destination:
    """Where the message was first published: the oldest `x-death` entry (RabbitMQ puts the newest first)."""
    headers = headers or {}
    deaths = headers.get("x-death") or []
    if deaths:
        first = deaths[-1]
        routing_keys = first.get("routing-keys") or [delivered_routing_key]
        exchange = _text(first.get("exchange", "")) or default_exchange
        return Destination(exchange, _text(routing_keys[0]), _text(first.get("reason", "unknown")))
    if "x-first-death-exchange" in headers:
        return Destination(
            _text(headers["x-first-death-exchange"]) or default_exchange,
            delivered_routing_key,
            _text(headers.get("x-first-death-reason", "unknown")),
        )
    raise NotReplayable("no x-death header: the message was not dead-lettered by RabbitMQ")


def replay_headers(headers: dict[str, Any] | None, dlq: str) -> dict[str, Any]:
    """The message's own headers without RabbitMQ's death bookkeeping, plus where it was replayed from."""
    kept = {name: value for name, value in (headers or {}).items() if not name.startswith(DEATH_HEADER_PREFIXES)}
    kept[REPLAYED_FROM_HEADER] = dlq
    return kept


# ----------------------------------------------------------------------------------------------------- summary


@dataclass
class Summary:
    replayed: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    dry_run: bool = False

    def render(self, what: str) -> str:
        verb = "would replay" if self.dry_run else "replayed"
        lines = [f"{what}: {verb} {sum(self.replayed.values())}, skipped {sum(self.skipped.values())}"]
        lines += [f"  {verb} {reason}: {count}" for reason, count in sorted(self.replayed.items())]
        lines += [f"  skipped {reason}: {count}" for reason, count in sorted(self.skipped.items())]
        return "\n".join(lines)


Printer = Callable[[str], None]


# ---------------------------------------------------------------------------------------------------- Kafka I/O


def _read_backlog(consumer: Any, topic: str, limit: int | None) -> Iterator[Any]:
    """Every record after the group's committed offsets, at most `limit`, until the topic is drained.

    Not bounded by `end_offsets`: Tansu reports the end of a partition whose last batch holds several records as
    that batch's base offset + 1, which would leave records behind. Instead the read stops at the second empty poll
    in a row once every partition reached at least its reported end.
    """
    from kafka import TopicPartition

    partitions = sorted(consumer.partitions_for_topic(topic) or [])
    if not partitions:
        raise SystemExit(f"topic {topic} does not exist")
    assigned = [TopicPartition(topic, partition) for partition in partitions]
    consumer.assign(assigned)
    end_offsets = consumer.end_offsets(assigned)
    beginning = consumer.beginning_offsets(assigned)
    for tp in assigned:
        committed = consumer.committed(tp)
        consumer.seek(tp, committed if committed is not None else beginning[tp])
    delivered = 0
    empty_polls = 0
    while True:
        batch = consumer.poll(timeout_ms=1000, max_records=500)
        empty_polls = 0 if batch else empty_polls + 1
        # Two empty polls in a row: one can be a fetch still under way on a loaded machine.
        if empty_polls >= 2 and all(consumer.position(tp) >= end_offsets[tp] for tp in assigned):
            return
        for records in batch.values():
            for record in records:
                if limit is not None and delivered >= limit:
                    return
                delivered += 1
                yield record


def replay_kafka(
    bootstrap_servers: str,
    dlq_topic: str,
    group: str,
    default_topic: str,
    *,
    dry_run: bool,
    limit: int | None,
    out: Printer = print,
) -> Summary:
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    servers = bootstrap_servers.split(",")
    summary = Summary(dry_run=dry_run)
    consumer = KafkaConsumer(
        bootstrap_servers=servers, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    producer = None if dry_run else KafkaProducer(bootstrap_servers=servers, acks="all", retries=3)
    try:
        futures = []
        next_offsets: dict[Any, int] = {}
        for raw in _read_backlog(consumer, dlq_topic, limit):
            dead = DeadRecord(raw.topic, raw.partition, raw.offset, raw.key, raw.value, list(raw.headers or []))
            next_offsets[TopicPartition(raw.topic, raw.partition)] = raw.offset + 1
            try:
                original = recover_kafka_record(dead, default_topic)
            except NotReplayable as exc:
                summary.skipped[UNRECOGNIZED] += 1
                out(f"skip {dead.position}: {exc}")
                continue
            summary.replayed[original.reason] += 1
            key = original.key.decode("utf-8", "replace") if original.key is not None else None
            out(
                f"{'would replay' if dry_run else 'replay'} {dead.position} -> {original.topic} key={key!r} "
                f"reason={original.reason}"
            )
            if producer is not None:
                futures.append(
                    producer.send(original.topic, key=original.key, value=original.value, headers=original.headers)
                )
        if producer is not None:
            producer.flush(timeout=30)
            for future in futures:
                future.get(timeout=30)  # any failed produce raises here, before anything is committed
            if next_offsets:
                consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in next_offsets.items()})
        return summary
    finally:
        if producer is not None:
            producer.close(timeout=10)
        consumer.close(autocommit=False)


# ------------------------------------------------------------------------------------------------- RabbitMQ I/O


def replay_rabbitmq(
    url: str,
    queue: str,
    default_exchange: str,
    *,
    exchange_override: str | None,
    dry_run: bool,
    limit: int | None,
    out: Printer = print,
) -> Summary:
    import pika
    from pika.exceptions import NackError, UnroutableError

    summary = Summary(dry_run=dry_run)
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        backlog = channel.queue_declare(queue=queue, passive=True).method.message_count
        # Only the messages present at start: a message put back (dry run, failure) is never read twice.
        to_read = backlog if limit is None else min(backlog, limit)
        taken: list[int] = []
        for _ in range(to_read):
            method, properties, body = channel.basic_get(queue=queue, auto_ack=False)
            if method is None:
                break
            taken.append(method.delivery_tag)
            try:
                destination = rabbit_destination(properties.headers, method.routing_key, default_exchange)
            except NotReplayable as exc:
                summary.skipped[UNRECOGNIZED] += 1
                out(f"skip message {properties.message_id!r}: {exc}")
                continue
            exchange = exchange_override or destination.exchange
            out(
                f"{'would replay' if dry_run else 'replay'} message {properties.message_id!r} -> {exchange} "
                f"routing key {destination.routing_key!r} reason={destination.reason}"
            )
            summary.replayed[destination.reason] += 1
            if dry_run:
                continue
            properties.headers = replay_headers(properties.headers, queue)
            try:
                channel.basic_publish(exchange, destination.routing_key, body, properties, mandatory=True)
            except (NackError, UnroutableError) as exc:
                raise SystemExit(
                    f"publish of {properties.message_id!r} not confirmed ({exc}); it stays in {queue}"
                ) from exc
            channel.basic_ack(method.delivery_tag)  # confirmed: only now leave the DLQ
            taken.remove(method.delivery_tag)
        for tag in taken:  # dry run and unrecognized messages go back where they were
            channel.basic_nack(tag, requeue=True)
        return summary
    finally:
        if connection.is_open:
            connection.close()  # anything still unacked is requeued by the broker


# --------------------------------------------------------------------------------------------------------- CLI


def positive_int(text: str) -> int:
    """argparse type for --limit-style options of the replay tools."""
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infra.replay_dlq", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="broker", required=True)
    kafka = sub.add_parser("kafka", help="replay task.ingested.dlq to the records' source topic")
    kafka.add_argument("--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    kafka.add_argument(
        "--topic",
        default=os.environ.get("INGEST_DLQ_TOPIC", DEFAULT_KAFKA_DLQ_TOPIC),
        help="the DLQ topic (env INGEST_DLQ_TOPIC)",
    )
    kafka.add_argument(
        "--source-topic",
        default=os.environ.get("INGEST_TOPIC", DEFAULT_SOURCE_TOPIC),
        help="where to replay when a dead letter does not name its source",
    )
    kafka.add_argument("--group", default=os.environ.get("DLQ_REPLAY_GROUP", DEFAULT_GROUP))
    rabbit = sub.add_parser("rabbitmq", help="move task.notifications.dlq back to the events exchange")
    rabbit.add_argument("--url", default=os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"))
    rabbit.add_argument(
        "--stack",
        default=None,
        help="take the queue and exchange names from this deployed stack's EventsExchange/NotificationsQueue",
    )
    rabbit.add_argument(
        "--queue", default=None, help="the DLQ queue (default: env NOTIFICATIONS_DLQ, else $NOTIFICATIONS_QUEUE.dlq)"
    )
    rabbit.add_argument(
        "--exchange", default=None, help="publish here instead of the exchange the message was first published to"
    )
    for each in (kafka, rabbit):
        each.add_argument("--dry-run", action="store_true", help="list what would be replayed, change nothing")
        each.add_argument("--limit", type=positive_int, default=None, help="replay at most N messages")
    return parser


def stack_parameters(stack_name: str) -> dict[str, str]:
    """The deployed stack's parameter values (infra/common.sh points boto3 at the local stack)."""
    from infra.stack import Stack

    return Stack(stack_name).parameters()


def rabbit_names(args: argparse.Namespace) -> tuple[str, str]:
    """(DLQ queue, fallback exchange): flags, then the stack's parameters, then the environment, then defaults."""
    queue = os.environ.get("NOTIFICATIONS_QUEUE", "task.notifications")
    dlq = os.environ.get("NOTIFICATIONS_DLQ", f"{queue}.dlq")
    exchange = os.environ.get("EVENTS_EXCHANGE", "task.events")
    if args.stack:
        parameters = stack_parameters(args.stack)
        dlq = f"{parameters.get('NotificationsQueue') or 'task.notifications'}.dlq"
        exchange = parameters.get("EventsExchange") or exchange
    return args.queue or dlq, args.exchange or exchange


def main(argv: Sequence[str] | None = None, out: Printer = print) -> int:
    args = build_parser().parse_args(argv)
    if args.broker == "kafka":
        summary = replay_kafka(
            args.bootstrap_servers,
            args.topic,
            args.group,
            args.source_topic,
            dry_run=args.dry_run,
            limit=args.limit,
            out=out,
        )
        out(summary.render(f"kafka {args.topic} (group {args.group})"))
    else:
        queue, exchange = rabbit_names(args)
        summary = replay_rabbitmq(
            args.url,
            queue,
            exchange,
            exchange_override=args.exchange,
            dry_run=args.dry_run,
            limit=args.limit,
            out=out,
        )
        out(summary.render(f"rabbitmq {queue}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
