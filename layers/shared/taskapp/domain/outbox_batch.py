"""How the outbox publisher treats one stream batch: what is published, what is set aside, what is retried.

* A row it cannot read (`version: "two"`, `updatedAt: "yesterday"`) will never become readable by retrying: it is
  sent to the failure queue with the reason (messaging/outbox_failures.py) and the batch goes on. Before, it raised
  and the stream redelivered the same batch until the record expired, blocking every later change of the shard.
* RabbitMQ unavailable: the whole invocation fails, so the stream retries every record of the batch, in order
  (events already published are published again with the same message id; consumers dedupe). Reporting only the
  unpublished records would do on AWS, but MiniStack's stream poller ignores batchItemFailures and would drop them.
* Anything else failing on a record (the failure queue unreachable, a bug): that record and every later one are
  reported in batchItemFailures, so Lambda resumes from the first failed record. Powertools' BatchProcessor goes on
  with the records after a failure, which for a stream would publish a task's later change before the failed
  earlier one; this processor stops at the first failure, as its SqsFifoPartialProcessor does for FIFO queues.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any, Protocol

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from taskapp.domain.outbox import events_from_stream_record
from taskapp.messaging.rabbitmq import RabbitMqUnavailable
from taskapp.schemas.events import AnyEvent

PUBLISHED, SKIPPED, DEAD_LETTERED = "published", "skipped", "deadLettered"


class Publisher(Protocol):
    def publish(self, event: AnyEvent) -> None: ...


class FailureQueue(Protocol):
    def send_unreadable_row(self, record: DynamoDBRecord, error: Exception) -> None: ...


class EarlierRecordFailed(Exception):
    """Reported for the records after a failed one: they are retried with it, in stream order."""


class OrderedStreamProcessor(BatchProcessor):
    """DynamoDB stream batches, partial failures reported from the first failed record on; a broker outage fails
    the whole invocation."""

    _earlier_failure = (EarlierRecordFailed, EarlierRecordFailed("an earlier record of the batch failed"), None)

    def __init__(self, logger: logging.Logger | Any = None) -> None:
        super().__init__(EventType.DynamoDBStreams, logger=logger)  # the logger gets each failure's traceback

    def _process_record(self, record: dict[str, Any]) -> Any:
        if self.fail_messages:
            return self.failure_handler(DynamoDBRecord(record), self._earlier_failure)
        return super()._process_record(record)

    def _clean(self) -> None:
        outage = next((exc for _, exc, _ in self.exceptions if isinstance(exc, RabbitMqUnavailable)), None)
        if outage is not None:
            raise outage
        super()._clean()


def publish_record(record: DynamoDBRecord, publisher: Publisher, failures: FailureQueue) -> Counter[str]:
    """Publish one change's events (tasks, projects or comments table); counts PUBLISHED events, or one SKIPPED
    (the change is no event) or DEAD_LETTERED (unreadable) record.

    Every event of the record is built before the first is published: an unreadable row publishes none of them.
    """
    try:
        events = events_from_stream_record(record)
    except Exception as exc:  # noqa: BLE001 - whatever makes a row unreadable, the row is set aside with it
        failures.send_unreadable_row(record, exc)
        return Counter({DEAD_LETTERED: 1})
    if not events:
        return Counter({SKIPPED: 1})
    for event in events:
        publisher.publish(event)  # RabbitMqUnavailable fails the whole batch (OrderedStreamProcessor._clean)
    return Counter({PUBLISHED: len(events)})


def summary(outcomes: Counter[str], response: dict[str, Any]) -> dict[str, Any]:
    """The handler's answer: counts for the logs, plus batchItemFailures when a record must be retried."""
    result: dict[str, Any] = {PUBLISHED: outcomes[PUBLISHED], SKIPPED: outcomes[SKIPPED]}
    if outcomes[DEAD_LETTERED]:
        result[DEAD_LETTERED] = outcomes[DEAD_LETTERED]
    if response.get("batchItemFailures"):
        result["batchItemFailures"] = response["batchItemFailures"]
    return result
