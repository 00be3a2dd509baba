"""Retry, backoff, partial-failure and dead-letter decisions, with a fake invoker (no network)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from infra.bridge.delivery import (
    InvalidBatchResponse,
    InvokeOutcome,
    RetryPolicy,
    deliver_kafka_batch,
    deliver_rabbit_batch,
    parse_item_identifier,
    retry_from_first_failure,
)
from infra.bridge.events import KafkaRecord, RabbitMessage, kafka_event, rabbit_event
from infra.bridge.topics import parse_topics_file

POLICY = RetryPolicy(max_retries=3, base_seconds=0.5, max_seconds=2.0)


def rec(partition: int, offset: int, topic: str = "orders-eu") -> KafkaRecord:
    return KafkaRecord(topic, partition, offset, 0, 0, None, f"{partition}:{offset}".encode(), [])


class FakeInvoker:
    """Answers each invoke from a script, and remembers the events it was given."""

    def __init__(self, *answers: InvokeOutcome) -> None:
        self.answers = list(answers)
        self.events: list[Mapping[str, Any]] = []

    def __call__(self, function_name: str, event: Mapping[str, Any]) -> InvokeOutcome:
        self.events.append(event)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def offsets(self, call: int) -> list[tuple[str, int]]:
        return [(key, r["offset"]) for key, items in self.events[call]["records"].items() for r in items]


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def build(records: Sequence[KafkaRecord]) -> dict[str, Any]:
    return kafka_event(records, "b:9092")


def failures(*pairs: tuple[str, int]) -> InvokeOutcome:
    return InvokeOutcome(
        payload={"batchItemFailures": [{"itemIdentifier": {"partition": p, "offset": o}} for p, o in pairs]}
    )


def test_backoff_is_exponential_and_capped():
    assert [POLICY.delay(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 2.0, 2.0]


def test_success_first_time_is_one_attempt_no_sleep():
    invoker, sleeps = FakeInvoker(InvokeOutcome(payload=None)), Sleeps()
    result = deliver_kafka_batch("fn", [rec(0, 1)], build_event=build, invoke=invoker, policy=POLICY, sleep=sleeps)
    assert (result.attempts, result.dead_letters, result.outcome, sleeps) == (1, [], "delivered", [])


@pytest.mark.parametrize("payload", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}, "ok"])
def test_every_aws_success_response_counts_as_success(payload):
    invoker = FakeInvoker(InvokeOutcome(payload=payload))
    result = deliver_kafka_batch("fn", [rec(0, 1)], build_event=build, invoke=invoker, policy=POLICY, sleep=Sleeps())
    assert result.dead_letters == [] and result.attempts == 1


def test_function_error_is_retried_with_backoff_then_every_record_is_a_dead_letter():
    invoker, sleeps = FakeInvoker(InvokeOutcome(error="Unhandled: boom")), Sleeps()
    batch = [rec(0, 1), rec(1, 4)]
    result = deliver_kafka_batch("fn", batch, build_event=build, invoke=invoker, policy=POLICY, sleep=sleeps)
    assert result.attempts == 4  # first attempt + 3 retries
    assert sleeps == [0.5, 1.0, 2.0]
    assert result.dead_letters == [(batch[0], "Unhandled: boom"), (batch[1], "Unhandled: boom")]
    assert result.outcome == "dead-lettered"


def test_transient_error_then_success_needs_no_dead_letter():
    invoker, sleeps = FakeInvoker(InvokeOutcome(error="throttled"), InvokeOutcome(payload={})), Sleeps()
    result = deliver_kafka_batch("fn", [rec(0, 1)], build_event=build, invoke=invoker, policy=POLICY, sleep=sleeps)
    assert (result.attempts, result.dead_letters, result.outcome, sleeps) == (2, [], "delivered-after-retry", [0.5])


def test_partial_failure_retries_each_failed_partition_from_its_first_failed_offset():
    batch = [rec(0, 10), rec(0, 11), rec(0, 12), rec(1, 20), rec(1, 21), rec(2, 30)]
    invoker = FakeInvoker(failures(("orders-eu-0", 11), ("orders-eu-1", 21)), InvokeOutcome(payload={}))
    result = deliver_kafka_batch("fn", batch, build_event=build, invoke=invoker, policy=POLICY, sleep=Sleeps())
    assert result.dead_letters == []
    assert invoker.offsets(1) == [("orders-eu-0", 11), ("orders-eu-0", 12), ("orders-eu-1", 21)]


def test_partial_failure_that_persists_dead_letters_only_the_records_still_reported():
    batch = [rec(0, 10), rec(0, 11), rec(0, 12)]
    invoker = FakeInvoker(failures(("orders-eu-0", 11)))
    result = deliver_kafka_batch("fn", batch, build_event=build, invoke=invoker, policy=POLICY, sleep=Sleeps())
    assert result.attempts == 4
    assert [r for r, _ in result.dead_letters] == [batch[1]]
    assert "batchItemFailures" in result.dead_letters[0][1]
    assert all(invoker.offsets(call) == [("orders-eu-0", 11), ("orders-eu-0", 12)] for call in (1, 2, 3))


def test_identifier_naming_no_record_of_the_batch_fails_the_whole_batch():
    batch = [rec(0, 10), rec(0, 11)]
    invoker = FakeInvoker(failures(("orders-eu-0", 99)))
    result = deliver_kafka_batch("fn", batch, build_event=build, invoke=invoker, policy=POLICY, sleep=Sleeps())
    assert [r for r, _ in result.dead_letters] == batch
    assert "invalid batch response" in result.dead_letters[0][1]


def test_zero_retries_dead_letters_after_the_first_attempt():
    invoker, sleeps = FakeInvoker(InvokeOutcome(error="x")), Sleeps()
    policy = RetryPolicy(max_retries=0)
    result = deliver_kafka_batch("fn", [rec(0, 1)], build_event=build, invoke=invoker, policy=policy, sleep=sleeps)
    assert result.attempts == 1 and len(result.dead_letters) == 1 and sleeps == []


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ({"partition": "orders-eu-3", "offset": 7}, ("orders-eu", 3, 7)),
        ({"partition": "orders-eu-3", "offset": "7"}, ("orders-eu", 3, 7)),
        ("orders-eu-3@7", ("orders-eu", 3, 7)),
        ("task.ingested-0@0", ("task.ingested", 0, 0)),
    ],
)
def test_item_identifier_forms(identifier, expected):
    assert parse_item_identifier(identifier) == expected


@pytest.mark.parametrize("identifier", [None, "", "7", {"partition": "nodash", "offset": 1}, "t-x@1", {"offset": 1}])
def test_malformed_item_identifiers_are_rejected(identifier):
    with pytest.raises(InvalidBatchResponse):
        parse_item_identifier(identifier)


def test_retry_from_first_failure_keeps_untouched_partitions_out():
    batch = [rec(0, 1), rec(0, 2), rec(1, 1)]
    assert retry_from_first_failure(batch, [batch[1]]) == [batch[1]]


def rabbit_build(messages: Sequence[RabbitMessage]) -> dict[str, Any]:
    return rabbit_event("q", "/", messages, "arn")


def test_rabbit_batch_retries_whole_batch_then_dead_letters_all():
    messages = [RabbitMessage(delivery_tag=n, redelivered=False, body=b"x") for n in (1, 2)]
    invoker, sleeps = FakeInvoker(InvokeOutcome(error="Unhandled: no")), Sleeps()
    result = deliver_rabbit_batch("fn", messages, build_event=rabbit_build, invoke=invoker, policy=POLICY, sleep=sleeps)
    assert result.attempts == 4 and sleeps == [0.5, 1.0, 2.0]
    assert [m for m, _ in result.dead_letters] == messages
    assert all(len(e["rmqMessagesByQueue"]["q::/"]) == 2 for e in invoker.events)


def test_rabbit_batch_success_after_a_retry():
    messages = [RabbitMessage(delivery_tag=1, redelivered=True, body=b"x")]
    invoker = FakeInvoker(InvokeOutcome(error="e"), InvokeOutcome(payload=None))
    result = deliver_rabbit_batch(
        "fn", messages, build_event=rabbit_build, invoke=invoker, policy=POLICY, sleep=Sleeps()
    )
    assert result.attempts == 2 and result.dead_letters == []


def test_topics_file_parsing_ignores_comments_and_blank_lines():
    text = "# name partitions\n\ntask.ingested 3\ntask.ingested.dlq 1  # dead letters\n"
    assert parse_topics_file(text) == {"task.ingested": 3, "task.ingested.dlq": 1}
