"""The outbox's failure queue (SQS): task changes whose event could not be published, and why.

Two writers share it. The outbox publisher sends its own record for a stream row it cannot read (`kind:
"outbox.unreadable-row"`, below), carrying the keys and the reason, and goes on with the batch. Lambda sends its
on-failure invocation record (`DDBStreamBatchInfo`: stream ARN, shard, first and last sequence number, no keys)
for a batch it gave up on after MaximumRetryAttempts / MaximumRecordAgeInSeconds. `make replay-dlq BROKER=outbox`
(infra/replay_outbox.py) reads both: it re-reads each task from the table by key and publishes its event.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from taskapp.settings import outbox_failure_settings, runtime_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    from mypy_boto3_sqs import SQSClient

UNREADABLE_ROW = "outbox.unreadable-row"
MAX_ERROR_CHARS = 2000


@lru_cache(maxsize=1)
def _sqs() -> SQSClient:
    import boto3

    return boto3.client("sqs", region_name=runtime_settings().region)


def unreadable_row_record(record: DynamoDBRecord, error: Exception) -> dict[str, Any]:
    """What replay needs to find the task again (table, keys, change) and what a person needs to fix the row.

    The new image is left out (the table has the row); a REMOVE keeps its old image, the only copy left of it.
    """
    raw = record.raw_event
    stream = raw.get("dynamodb") or {}
    letter: dict[str, Any] = {
        "kind": UNREADABLE_ROW,
        "reason": f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS],
        "deadLetteredAt": datetime.now(UTC).isoformat(),
        "eventName": raw.get("eventName"),
        "eventID": raw.get("eventID"),
        "eventSourceARN": raw.get("eventSourceARN"),
        "sequenceNumber": stream.get("SequenceNumber"),
        "approximateCreationDateTime": stream.get("ApproximateCreationDateTime"),
        "keys": stream.get("Keys"),
    }
    if raw.get("eventName") == "REMOVE":
        letter["oldImage"] = stream.get("OldImage")
    return letter


class OutboxFailureQueue:
    """Sends unreadable rows to the queue; a failed send raises, so the record fails instead of being lost."""

    def send_unreadable_row(self, record: DynamoDBRecord, error: Exception) -> None:
        letter = unreadable_row_record(record, error)
        _sqs().send_message(
            QueueUrl=outbox_failure_settings().outbox_failure_queue_url,
            MessageBody=json.dumps(letter, default=str),
            MessageAttributes={"kind": {"DataType": "String", "StringValue": UNREADABLE_ROW}},
        )
