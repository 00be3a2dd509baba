"""Replay the outbox's failure queue after a fix: `python -m infra.replay_outbox [--stack S] [--dry-run] [--limit N]`.

(`make replay-dlq BROKER=outbox`.) The queue holds two shapes (taskapp/messaging/outbox_failures.py):
* the publisher's `outbox.unreadable-row` records: table (from the stream ARN), keys, change type, reason;
* Lambda's on-failure records for a batch it gave up on: `DDBStreamBatchInfo` with the stream ARN, shard and the
  first/last sequence number, and no keys. The changes are read back from the stream (AT_SEQUENCE_NUMBER), which
  only works while the stream still holds them: 24 h after the change.
Either way each item (task, comment or project outbox item) is re-read from its table by key and the events of its
current row are published (publisher confirms) with the change type of the original record; a REMOVE uses the old
image it carried (the row is gone).
A message is deleted only once every change in it is published, skipped as not an event, or obsolete (the task
was deleted since, and its deletion went out on its own); a row that is still unreadable keeps its message in the
queue and is reported. Re-publishing an event that did go out is harmless: the message id is the same and the
notification consumer dedupes it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from infra.replay_dlq import positive_int
from infra.stack import Stack, StackLookupError, default_stack_name
from taskapp.messaging.outbox_failures import UNREADABLE_ROW

STREAM_BATCH = "stream-batch"

Printer = Callable[[str], None]


class NotReplayable(Exception):
    """A change this tool cannot publish (yet): its message stays in the queue."""


@dataclass(frozen=True)
class Change:
    """One task change to publish again: where the row lives and what happened to it."""

    table: str
    keys: dict[str, Any]
    event_name: str
    old_image: dict[str, Any] | None = None
    sequence_number: str | None = None


class Publisher(Protocol):
    def publish(self, event: Any) -> None: ...


def table_of_stream(stream_arn: str) -> str:
    """`arn:aws:dynamodb:region:account:table/NAME/stream/LABEL` -> NAME."""
    _, _, resource = stream_arn.partition(":table/")
    name = resource.split("/stream/", 1)[0]
    if not name:
        raise NotReplayable(f"not a DynamoDB stream ARN: {stream_arn!r}")
    return name


def changes_in_stream(streams: Any, info: dict[str, Any]) -> list[Change]:
    """The changes of an on-failure record's sequence range, read back from the stream."""
    stream_arn = str(info.get("streamArn") or "")
    table = table_of_stream(stream_arn)
    first, last = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn,
            ShardId=info["shardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=info["startSequenceNumber"],
        )["ShardIterator"]
    except Exception as exc:  # TrimmedDataAccessException, ResourceNotFoundException: the records are gone
        raise NotReplayable(f"the stream no longer holds {first}..{last}: {exc}") from exc
    changes: list[Change] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        records = page.get("Records") or []
        for record in records:
            stream = record["dynamodb"]
            if int(stream["SequenceNumber"]) > last:
                return changes
            changes.append(
                Change(table, stream["Keys"], record["eventName"], stream.get("OldImage"), stream["SequenceNumber"])
            )
        if not records:
            break
        iterator = page.get("NextShardIterator")
    return changes


def changes_of(message_body: str, streams: Any) -> tuple[str, list[Change]]:
    """(kind, changes) of one queue message, whichever writer produced it."""
    try:
        letter = json.loads(message_body)
    except ValueError as exc:
        raise NotReplayable(f"not JSON: {exc}") from exc
    if not isinstance(letter, dict):
        raise NotReplayable("not a JSON object")
    if letter.get("kind") == UNREADABLE_ROW:
        if not letter.get("keys") or not letter.get("eventName"):
            raise NotReplayable("unreadable-row record without keys or eventName")
        table = table_of_stream(str(letter.get("eventSourceARN") or ""))
        old_image, sequence_number = letter.get("oldImage"), letter.get("sequenceNumber")
        return UNREADABLE_ROW, [Change(table, letter["keys"], letter["eventName"], old_image, sequence_number)]
    if isinstance(letter.get("DDBStreamBatchInfo"), dict):
        return STREAM_BATCH, changes_in_stream(streams, letter["DDBStreamBatchInfo"])
    raise NotReplayable("neither an outbox unreadable-row record nor a Lambda on-failure record")


def events_of(change: Change, dynamodb: Any) -> list[Any]:
    """The events of the item's current row ([]: gone, or not an event), whichever table (tasks, projects,
    comments) it lives in; NotReplayable while the row stays unreadable."""
    from taskapp.domain.outbox import events_from_stream_record

    if change.event_name == "REMOVE":
        if not change.old_image:
            raise NotReplayable("a REMOVE without its old image")
        images: dict[str, Any] = {"OldImage": change.old_image}
    else:
        item = dynamodb.get_item(TableName=change.table, Key=change.keys, ConsistentRead=True).get("Item")
        if item is None:
            return []  # deleted since: that REMOVE is a change of its own (published or in this queue)
        images = {"NewImage": item, **({"OldImage": change.old_image} if change.old_image else {})}
    record = DynamoDBRecord(
        {
            "eventName": change.event_name,
            "dynamodb": {"Keys": change.keys, "SequenceNumber": change.sequence_number, **images},
        }
    )
    try:
        return events_from_stream_record(record)
    except Exception as exc:  # the row is still unreadable: say why, keep the message
        raise NotReplayable(f"the row is still unreadable: {type(exc).__name__}: {exc}") from exc


@dataclass
class Summary:
    outcomes: Counter[str] = field(default_factory=Counter)
    dry_run: bool = False

    def render(self, queue_url: str) -> str:
        verb = "would replay" if self.dry_run else "replayed"
        lines = [f"outbox {queue_url}: {verb} {self.outcomes['published']}"]
        lines += [f"  {name}: {count}" for name, count in sorted(self.outcomes.items()) if name != "published"]
        return "\n".join(lines)


def _messages(sqs: Any, queue_url: str, limit: int | None) -> Iterator[dict[str, Any]]:
    """Receive until the queue answers empty; messages stay invisible meanwhile, so none is read twice."""
    delivered = 0
    while limit is None or delivered < limit:
        batch = min(10, limit - delivered) if limit is not None else 10
        page = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=batch, WaitTimeSeconds=1, VisibilityTimeout=300
        )
        messages = page.get("Messages") or []
        if not messages:
            return
        for message in messages:
            delivered += 1
            yield message


def replay_outbox(
    sqs: Any,
    dynamodb: Any,
    streams: Any,
    publisher: Publisher,
    queue_url: str,
    *,
    dry_run: bool,
    limit: int | None,
    out: Printer = print,
) -> Summary:
    summary = Summary(dry_run=dry_run)
    kept: list[str] = []  # made visible again at the end, so this run does not receive them twice
    try:
        for message in _messages(sqs, queue_url, limit):
            if _replay_message(message, dynamodb, streams, publisher, summary=summary, out=out):
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            else:
                kept.append(message["ReceiptHandle"])
    finally:
        for handle in kept:
            sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
    return summary


def _replay_message(
    message: dict[str, Any], dynamodb: Any, streams: Any, publisher: Publisher, *, summary: Summary, out: Printer
) -> bool:
    """Publish one message's changes; True when the message may leave the queue."""
    try:
        kind, changes = changes_of(message["Body"], streams)
        events = [(change, events_of(change, dynamodb)) for change in changes]
    except NotReplayable as exc:
        summary.outcomes["kept (not replayable)"] += 1
        out(f"keep message {message['MessageId']}: {exc}")
        return False
    for change, change_events in events:
        key = ",".join(str(next(iter(value.values()))) for value in change.keys.values())
        if not change_events:
            summary.outcomes["obsolete or not an event"] += 1
            out(f"skip {change.event_name} {key}: the item is gone or the change is not an event")
            continue
        for event in change_events:
            summary.outcomes["published"] += 1
            out(f"{'would publish' if summary.dry_run else 'publish'} {event.event_id} ({kind})")
            if not summary.dry_run:
                publisher.publish(event)  # raises when unconfirmed: the message stays in the queue
    return not summary.dry_run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infra.replay_outbox", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default=default_stack_name(), help="take the queue from here")
    parser.add_argument("--queue-url", default=None, help="the failure queue (default: the stack's output)")
    parser.add_argument("--dry-run", action="store_true", help="list what would be published, change nothing")
    parser.add_argument("--limit", type=positive_int, default=None, help="read at most N messages")
    return parser


def main(argv: Sequence[str] | None = None, out: Printer = print) -> int:
    """Publishes with the deployed stack's broker settings: RABBITMQ_URL and EVENTS_EXCHANGE from the environment
    (infra/common.sh), or the stack's EventsExchange parameter."""
    import boto3

    args = build_parser().parse_args(argv)
    stack = Stack(args.stack)
    try:
        queue_url = args.queue_url or stack.output("OutboxFailureQueueUrl")
        if not args.queue_url and "EVENTS_EXCHANGE" not in os.environ:
            exchange = stack.parameters().get("EventsExchange")
            if exchange:
                os.environ["EVENTS_EXCHANGE"] = exchange
    except StackLookupError as exc:
        raise SystemExit(str(exc)) from exc
    from taskapp.messaging.rabbitmq import EventPublisher

    publisher = EventPublisher()
    try:
        summary = replay_outbox(
            boto3.client("sqs"),
            boto3.client("dynamodb"),
            boto3.client("dynamodbstreams"),
            publisher,
            queue_url,
            dry_run=args.dry_run,
            limit=args.limit,
            out=out,
        )
    finally:
        publisher.close()
    out(summary.render(queue_url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
