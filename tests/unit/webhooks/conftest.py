"""Webhook unit tests: moto DynamoDB, KMS and SQS; receivers are real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from taskapp import settings
from taskapp.schemas.events import TaskEvent, TaskEventType
from tests.support.api_client import ApiClient
from tests.support.lambda_events import FakeLambdaContext, load_function
from tests.unit.conftest import Account

# Small numbers so every path (retries, dead letter, auto-disable) runs in a few calls.
WORKER_ENV = {
    "WEBHOOK_ALLOW_LOOPBACK_HTTP": "true",
    "WEBHOOK_MAX_ATTEMPTS": "3",
    "WEBHOOK_RETRY_BASE_SECONDS": "1",
    "WEBHOOK_RETRY_MAX_SECONDS": "4",
    "WEBHOOK_DISABLE_AFTER_FAILURES": "2",
    "WEBHOOK_TIMEOUT_SECONDS": "1",
}


@pytest.fixture
def webhook_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in WORKER_ENV.items():
        monkeypatch.setenv(name, value)
    settings.clear_cache()
    yield
    monkeypatch.undo()
    settings.clear_cache()


@pytest.fixture
def empty_queues(aws: None) -> Iterator[None]:
    yield
    sqs = boto3.client("sqs")  # PurgeQueue works once a minute: take the messages out instead
    for url in (settings.webhook_queue_settings().webhook_queue_url, settings.webhook_queue_settings().webhook_dlq_url):
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages"
        ):
            for message in messages:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def owner(new_account: Callable[..., Account]) -> Account:
    return new_account()


def subscribe(client: ApiClient, account: Account, url: str, events: list[str] | None = None) -> dict[str, Any]:
    answer = client.post("/webhooks", json_body={"url": url, "events": events or ["*"]}, token=account.access_token)
    assert answer.status_code == 201, answer.body
    created: dict[str, Any] = answer.json()
    return created


def task_event(
    owner_id: str,
    task_id: str = "task-1",
    kind: TaskEventType = TaskEventType.CREATED,
    project_id: str | None = None,
    version: int = 1,
) -> TaskEvent:
    return TaskEvent(
        event_id=f"{task_id}:{version}:{kind.value}",
        type=kind,
        occurred_at=datetime.now(UTC),
        owner_id=owner_id,
        task_id=task_id,
        title="Ship webhooks",
        status=None,
        version=version,
        project_id=project_id,
    )


def publish(event: TaskEvent) -> int:
    """The fan-out of one event (what the stream handler does per record); returns the jobs queued."""
    from taskapp.domain.webhook_fanout import Subscriptions, jobs_for
    from taskapp.messaging.webhook_queue import WebhookQueue

    jobs = jobs_for(event, Subscriptions().of(event))
    WebhookQueue().send(jobs)
    return len(jobs)


def _sqs_event(messages: list[Any]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message["Attributes"],
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:unit-webhooks",
                "awsRegion": "us-east-1",
            }
            for message in messages
        ]
    }


def deliver_once(
    skip_backoff: bool = True, order: Callable[[dict[str, Any]], Any] | None = None
) -> dict[str, Any] | None:
    """One poll of the delivery queue, as Lambda's SQS poller does it: receive, invoke, delete what succeeded.

    `skip_backoff` makes retried messages visible again at once (after checking they were delayed), so a test
    runs every attempt without waiting out the backoff; the receive count still grows per attempt.
    """
    sqs = boto3.client("sqs")
    url = settings.webhook_queue_settings().webhook_queue_url
    # Received with no visibility timeout of their own: only the worker's backoff can hide a message afterwards.
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=0)
    messages = received.get("Messages", [])
    if not messages:
        return None
    if order is not None:  # the batch's record order, by a key of each job
        messages.sort(key=lambda message: order(json.loads(message["Body"])))
    result: dict[str, Any] = load_function("webhook_delivery").handler(
        _sqs_event(messages), FakeLambdaContext("webhook-delivery")
    )
    failed = {failure["itemIdentifier"] for failure in result.get("batchItemFailures", [])}
    for message in messages:
        if message["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    if failed:
        assert visible_messages() == 0, "a failed attempt must delay its message"
    for message in messages:
        if message["MessageId"] in failed and skip_backoff:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return result


def visible_messages() -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=settings.webhook_queue_settings().webhook_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def drain(rounds: int = 10) -> int:
    """Poll until the queue is empty; returns how many polls found messages."""
    polls = 0
    for _ in range(rounds):
        if deliver_once() is None:
            break
        polls += 1
    return polls


def dead_letters() -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    url = settings.webhook_queue_settings().webhook_dlq_url
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    return [json.loads(message["Body"]) for message in messages.get("Messages", [])]
