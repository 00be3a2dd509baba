"""A poison stream record no longer blocks the outbox (issue 15 defect 6), and its replay publishes it once fixed.

moto plays SQS (the failure queue), DynamoDB and DynamoDB Streams; RabbitMQ is the FakePublisher.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infra.replay_outbox import replay_outbox
from taskapp import settings
from taskapp.messaging import outbox_failures
from taskapp.messaging.rabbitmq import RabbitMqUnavailable
from tests.support.lambda_events import FakeLambdaContext, load_function, sample_event
from tests.unit.events.conftest import FakePublisher

TASKS_TABLE = "unit-tasks"  # the moto table of TaskModel (tests/unit/conftest.py)


@pytest.fixture
def publisher(monkeypatch: pytest.MonkeyPatch) -> FakePublisher:
    fake = FakePublisher()
    monkeypatch.setattr(load_function("outbox_publisher"), "publisher", fake)
    return fake


@pytest.fixture
def failure_queue(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh moto queue as OUTBOX_FAILURE_QUEUE_URL."""
    url = boto3.client("sqs").create_queue(QueueName=f"outbox-failures-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    monkeypatch.setenv("OUTBOX_FAILURE_QUEUE_URL", url)
    settings.clear_cache()
    outbox_failures._sqs.cache_clear()
    yield url
    settings.clear_cache()
    outbox_failures._sqs.cache_clear()


def _queued(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    messages: list[Any] = []
    while page := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages"):
        messages.extend(page)
        if len(messages) > 100:
            break
        for message in page:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(message["Body"]) for message in messages]


def _lifecycle() -> dict[str, Any]:
    """INSERT v1, MODIFY v2, MODIFY v3 (done), a rewrite of v3 (not an event), REMOVE of task sample-task-1;
    the stream of the unit tests' tasks table."""
    event = sample_event("outbox_publisher", "task-lifecycle")
    for record in event["Records"]:
        record["eventSourceARN"] = record["eventSourceARN"].replace("table/taskapp-tasks/", f"table/{TASKS_TABLE}/")
    return event


@pytest.fixture
def rows(aws: None) -> Iterator[list[dict[str, Any]]]:
    """Rows a test writes with the low-level client, deleted before `aws` empties the tables through TaskModel
    (which cannot read a row with `version: "two"`)."""
    written: list[dict[str, Any]] = []
    yield written
    for key in written:
        boto3.client("dynamodb").delete_item(TableName=TASKS_TABLE, Key=key)


def _poisoned(event: dict[str, Any]) -> dict[str, Any]:
    """Issue 15's rows: `updatedAt: "yesterday"` on the INSERT of a second task, `version: "two"` on its MODIFY;
    the first task's lifecycle around them must go out untouched and in order."""
    event = copy.deepcopy(event)
    insert = copy.deepcopy(event["Records"][0])
    for image in ("Keys", "NewImage"):
        insert["dynamodb"][image]["taskId"] = {"S": "poison-task"}
    insert["dynamodb"]["NewImage"]["updatedAt"] = {"S": "yesterday"}
    insert["dynamodb"]["SequenceNumber"] = "1000000000000000000015"
    modify = copy.deepcopy(event["Records"][1])
    for image in ("Keys", "NewImage", "OldImage"):
        modify["dynamodb"][image]["taskId"] = {"S": "poison-task"}
    modify["dynamodb"]["NewImage"]["version"] = {"S": "two"}
    modify["dynamodb"]["SequenceNumber"] = "1000000000000000000025"
    records = event["Records"]
    event["Records"] = [records[0], insert, records[1], modify, *records[2:]]
    return event


def _publish(event: dict[str, Any]) -> dict[str, Any]:
    return load_function("outbox_publisher").handler(event, FakeLambdaContext("outbox-publisher"))


def test_unreadable_rows_go_to_the_failure_queue_with_the_reason_and_the_batch_goes_on(
    publisher: FakePublisher, failure_queue: str
) -> None:
    result = _publish(_poisoned(_lifecycle()))

    assert result == {"published": 4, "skipped": 1, "deadLettered": 2}  # no batchItemFailures: nothing to retry
    assert [event.event_id for event in publisher.published] == [
        "sample-task-1:1:task.created",
        "sample-task-1:2:task.updated",
        "sample-task-1:3:task.completed",
        "sample-task-1:3:task.deleted",
    ]
    letters = sorted(_queued(failure_queue), key=lambda letter: letter["sequenceNumber"])
    assert [(letter["kind"], letter["eventName"], letter["keys"]["taskId"]["S"]) for letter in letters] == [
        ("outbox.unreadable-row", "INSERT", "poison-task"),
        ("outbox.unreadable-row", "MODIFY", "poison-task"),
    ]
    assert "yesterday" in letters[0]["reason"] and letters[0]["reason"].startswith("ValueError")
    assert "two" in letters[1]["reason"]
    assert letters[0]["eventSourceARN"].startswith("arn:aws:dynamodb:")
    assert "oldImage" not in letters[0]  # the table has the row; only a REMOVE keeps its image


def test_a_broker_outage_still_fails_every_record_even_with_a_poison_row_in_the_batch(
    publisher: FakePublisher, failure_queue: str
) -> None:
    publisher.fail_after = 1

    with pytest.raises(RabbitMqUnavailable):
        _publish(_poisoned(_lifecycle()))

    assert len(publisher.published) == 1  # nothing after the failed publish was tried: order holds on the retry
    publisher.fail_after = None
    publisher.published.clear()
    _publish(_lifecycle())
    assert len(publisher.published) == 4


def test_when_the_failure_queue_is_unreachable_the_batch_is_retried_from_the_poison_record_on(
    publisher: FakePublisher, failure_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTBOX_FAILURE_QUEUE_URL", failure_queue + "-missing")
    settings.clear_cache()
    event = _poisoned(_lifecycle())

    result = _publish(event)

    sequence_numbers = [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]
    assert result["batchItemFailures"] == [{"itemIdentifier": number} for number in sequence_numbers[1:]]
    assert [event.event_id for event in publisher.published] == ["sample-task-1:1:task.created"]


def test_a_repaired_row_is_published_although_its_old_image_is_unreadable(
    publisher: FakePublisher, failure_queue: str
) -> None:
    event = _lifecycle()
    repair = event["Records"][1]
    repair["dynamodb"]["OldImage"]["version"] = {"S": "two"}
    event["Records"] = [repair]

    assert _publish(event) == {"published": 1, "skipped": 0}
    assert publisher.published[0].event_id == "sample-task-1:2:task.updated"


# ------------------------------------------------------------------------------------------------------ replay


def _replay(failure_queue: str, publisher: FakePublisher, *, dry_run: bool = False) -> list[str]:
    lines: list[str] = []
    replay_outbox(
        boto3.client("sqs"),
        boto3.client("dynamodb"),
        boto3.client("dynamodbstreams"),
        publisher,
        failure_queue,
        dry_run=dry_run,
        limit=None,
        out=lines.append,
    )
    return lines


def _put_row(image: dict[str, Any], rows: list[dict[str, Any]], table: str = TASKS_TABLE) -> None:
    boto3.client("dynamodb").put_item(TableName=table, Item=image)
    if table == TASKS_TABLE:
        rows.append({"ownerId": image["ownerId"], "taskId": image["taskId"]})


def test_replay_publishes_the_fixed_row_and_keeps_what_is_still_unreadable(
    publisher: FakePublisher, failure_queue: str, rows: list[dict[str, Any]]
) -> None:
    poisoned = _poisoned(_lifecycle())
    _publish(poisoned)
    publisher.published.clear()
    row = copy.deepcopy(poisoned["Records"][3]["dynamodb"]["NewImage"])  # the MODIFY's row, version "two"
    _put_row(row, rows)

    lines = _replay(failure_queue, publisher, dry_run=True)  # changes nothing
    assert publisher.published == []
    assert sum("keep message" in line for line in lines) == 2

    row["version"], row["updatedAt"] = {"N": "2"}, {"S": "2026-11-23T09:05:00.000000+0000"}  # the fix
    _put_row(row, rows)
    _replay(failure_queue, publisher)

    # both letters name the same task: its current row is published once per change type, with its version
    assert sorted(event.event_id for event in publisher.published) == [
        "poison-task:2:task.created",
        "poison-task:2:task.updated",
    ]
    assert _queued(failure_queue) == []


def test_replay_keeps_a_message_whose_row_is_still_unreadable(
    publisher: FakePublisher, failure_queue: str, rows: list[dict[str, Any]]
) -> None:
    poisoned = _poisoned(_lifecycle())
    poisoned["Records"] = [poisoned["Records"][1]]  # the INSERT with updatedAt "yesterday"
    _publish(poisoned)
    _put_row(poisoned["Records"][0]["dynamodb"]["NewImage"], rows)

    lines = _replay(failure_queue, publisher)

    assert publisher.published == []
    assert any("still unreadable" in line and "yesterday" in line for line in lines)
    assert len(_queued(failure_queue)) == 1


def test_replay_of_a_remove_uses_the_old_image_it_carried(publisher: FakePublisher, failure_queue: str) -> None:
    event = _lifecycle()
    remove = event["Records"][4]
    remove["dynamodb"]["OldImage"]["updatedAt"] = {"S": "yesterday"}
    event["Records"] = [remove]
    _publish(event)
    letter = _queued(failure_queue)[0]
    assert letter["oldImage"]["taskId"] == {"S": "sample-task-1"}
    letter["oldImage"]["updatedAt"] = {"S": "2026-11-23T09:10:00.000000+0000"}  # as an operator would fix it
    boto3.client("sqs").send_message(QueueUrl=failure_queue, MessageBody=json.dumps(letter))

    _replay(failure_queue, publisher)

    assert [event.event_id for event in publisher.published] == ["sample-task-1:3:task.deleted"]


def test_replay_of_lambdas_on_failure_record_reads_the_changes_back_from_the_stream(
    publisher: FakePublisher, failure_queue: str
) -> None:
    """On AWS the on-failure record has only the shard and the sequence range: the keys come from the stream."""
    dynamodb = boto3.client("dynamodb")
    table = f"streamed-tasks-{uuid.uuid4().hex[:6]}"
    stream_arn = dynamodb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "ownerId", "AttributeType": "S"},
            {"AttributeName": "taskId", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "ownerId", "KeyType": "HASH"}, {"AttributeName": "taskId", "KeyType": "RANGE"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    images = [record["dynamodb"]["NewImage"] for record in _lifecycle()["Records"][:3]]
    for image in images:  # INSERT v1, MODIFY v2, MODIFY v3 (done): the batch Lambda gave up on
        _put_row(image, [], table)
    streams = boto3.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    sequence = [
        r["dynamodb"]["SequenceNumber"] for r in streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    ]
    on_failure = {
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 1001},
        "version": "1.0",
        "DDBStreamBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": sequence[1],  # the MODIFY to v2 ...
            "endSequenceNumber": sequence[2],  # ... and the one to v3
            "batchSize": 2,
            "streamArn": stream_arn,
        },
    }
    boto3.client("sqs").send_message(QueueUrl=failure_queue, MessageBody=json.dumps(on_failure))

    _replay(failure_queue, publisher)

    # each change is re-read from the table: the row is at v3 now, so both MODIFYs publish its current event
    assert [event.event_id for event in publisher.published] == [
        "sample-task-1:3:task.completed",
        "sample-task-1:3:task.completed",
    ]
    assert _queued(failure_queue) == []


def test_the_stream_mapping_bounds_retries_and_sends_what_it_gives_up_on_to_the_alarmed_queue() -> None:
    from tests.support.api_client import load_template

    resources = load_template()["Resources"]
    function = resources["OutboxPublisherFunction"]["Properties"]
    mapping = function["Events"]["TaskChanges"]["Properties"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 0 < mapping["MaximumRetryAttempts"] <= 10_000
    assert 60 <= mapping["MaximumRecordAgeInSeconds"] < 24 * 3600  # room left to replay from the stream
    assert mapping["BisectBatchOnFunctionError"] is True
    # Type SQS: SAM grants sqs:SendMessage on this queue only, used by Lambda's on-failure and by the function
    assert mapping["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["OutboxFailureQueue", "Arn"]},
    }
    assert "Policies" not in function
    alarm = resources["OutboxFailureAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["OutboxFailureQueue", "QueueName"]}}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
