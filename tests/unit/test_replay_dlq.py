"""Recovery of original messages from dead letters, checked against what the real DLQ writers produce."""

from __future__ import annotations

import json

import pytest

from infra.bridge.events import KafkaRecord
from infra.bridge.kafka_poller import dead_letter_headers
from infra.replay_dlq import (
    REPLAYED_FROM_HEADER,
    DeadRecord,
    NotReplayable,
    Summary,
    build_parser,
    rabbit_destination,
    rabbit_names,
    recover_kafka_record,
    replay_headers,
    topic_of_source,
)
from taskapp.domain.ingestion import InboundRecord, InvalidRecord, _dead_letter, parse_record

VALID_SHAPE = {"id": "t-1", "ownerId": "u-1", "task": {"title": ""}}


def _ingestion_dead_letter(key: bytes | None, value: bytes | None) -> tuple[DeadRecord, str]:
    """Run the ingestion function's own validation and dead-lettering on a poison record."""
    inbound = InboundRecord(topic="task.ingested", partition=2, offset=41, key=key, value=value)
    with pytest.raises(InvalidRecord) as caught:
        parse_record(inbound)
    outgoing = _dead_letter(inbound, caught.value)
    dead = DeadRecord(outgoing.topic, 0, 9, outgoing.key, outgoing.value, list(outgoing.headers))
    return dead, caught.value.reason


def test_validation_error_recovers_the_original_json_key_and_topic() -> None:
    value = json.dumps(VALID_SHAPE, indent=2).encode()
    dead, reason = _ingestion_dead_letter(b"t-1", value)
    original = recover_kafka_record(dead)
    assert (reason, original.reason, original.topic, original.key) == (
        "VALIDATION_ERROR",
        "VALIDATION_ERROR",
        "task.ingested",
        b"t-1",
    )
    assert json.loads(original.value or b"") == VALID_SHAPE  # same JSON; whitespace is not preserved
    assert original.headers == [(REPLAYED_FROM_HEADER, b"task.ingested.dlq-0@9")]


def test_key_mismatch_keeps_the_original_key() -> None:
    dead, reason = _ingestion_dead_letter(b"other", json.dumps({**VALID_SHAPE, "task": {"title": "ok"}}).encode())
    original = recover_kafka_record(dead)
    assert reason == "KEY_MISMATCH"
    assert original.key == b"other"


def test_malformed_json_comes_back_as_the_exact_text() -> None:
    dead, reason = _ingestion_dead_letter(b"t-2", b'{"id": "t-2", oops')
    original = recover_kafka_record(dead)
    assert reason == "MALFORMED_JSON"
    assert original.value == b'{"id": "t-2", oops'


def test_json_string_value_is_not_mistaken_for_text() -> None:
    dead, reason = _ingestion_dead_letter(b"t-3", b'"just a string"')
    assert reason == "VALIDATION_ERROR"
    assert recover_kafka_record(dead).value == b'"just a string"'


def test_missing_value_and_missing_key_come_back_missing() -> None:
    dead, reason = _ingestion_dead_letter(None, None)
    original = recover_kafka_record(dead)
    assert reason == "EMPTY_VALUE"
    assert (original.key, original.value) == (None, None)


def test_bridge_dead_letter_is_the_original_record_without_dlq_headers() -> None:
    source = KafkaRecord(
        topic="orders-eu.ingested",
        partition=1,
        offset=7,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=b"\xff raw bytes",
        headers=[("content-type", b"application/json")],
    )
    headers = dead_letter_headers(source, "FunctionError", "fn", 3)
    dead = DeadRecord("orders-eu.ingested.dlq", 0, 4, source.key, source.value, headers)
    original = recover_kafka_record(dead)
    assert original.topic == "orders-eu.ingested"  # a dash in the topic name is not the partition separator
    assert (original.key, original.value, original.reason) == (b"k", b"\xff raw bytes", "FunctionError")
    assert original.headers == [
        ("content-type", b"application/json"),
        (REPLAYED_FROM_HEADER, b"orders-eu.ingested.dlq-0@4"),
    ]


@pytest.mark.parametrize(
    ("headers", "value"),
    [
        ([], b"{}"),  # not a dead letter at all
        ([("dlq-reason", b"VALIDATION_ERROR")], b"not json"),
        ([("dlq-reason", b"VALIDATION_ERROR")], b'{"reason": "VALIDATION_ERROR"}'),  # no key/value
        ([("dlq-reason", b"X"), ("dlq-function", b"fn"), ("dlq-source", b"nonsense")], b"v"),
    ],
)
def test_unrecognized_dead_letters_are_refused(headers: list[tuple[str, bytes]], value: bytes) -> None:
    with pytest.raises(NotReplayable):
        recover_kafka_record(DeadRecord("task.ingested.dlq", 0, 0, b"k", value, headers))


def test_topic_of_source() -> None:
    assert topic_of_source("a-b-c-12@345") == "a-b-c"
    with pytest.raises(NotReplayable):
        topic_of_source("no-offset-1")


def test_rabbit_destination_is_the_oldest_death() -> None:
    headers = {
        "x-death": [
            {"queue": "q.dlq", "exchange": "q.dlx", "routing-keys": ["task.updated"], "reason": "expired"},
            {"queue": "q", "exchange": "task.events.me", "routing-keys": ["task.updated"], "reason": "rejected"},
        ],
        "x-first-death-exchange": "task.events.me",
    }
    destination = rabbit_destination(headers, "task.updated", "task.events")
    assert (destination.exchange, destination.routing_key, destination.reason) == (
        "task.events.me",
        "task.updated",
        "rejected",
    )


def test_rabbit_destination_without_death_headers_is_refused() -> None:
    with pytest.raises(NotReplayable):
        rabbit_destination({"trace": "x"}, "task.created", "task.events")


def test_replay_headers_drop_the_death_bookkeeping_only() -> None:
    headers = {"x-death": [], "x-first-death-queue": "q", "x-last-death-reason": "r", "trace": "t"}
    assert replay_headers(headers, "q.dlq") == {"trace": "t", REPLAYED_FROM_HEADER: "q.dlq"}


def test_summary_counts_per_reason() -> None:
    summary = Summary(dry_run=True)
    summary.replayed.update(["rejected", "rejected", "delivery_limit"])
    summary.skipped["UNRECOGNIZED"] += 1
    assert summary.render("rabbitmq q.dlq").splitlines() == [
        "rabbitmq q.dlq: would replay 3, skipped 1",
        "  would replay delivery_limit: 1",
        "  would replay rejected: 2",
        "  skipped UNRECOGNIZED: 1",
    ]


def test_cli_defaults_follow_the_stack_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFICATIONS_QUEUE", "task.notifications.test")
    monkeypatch.delenv("NOTIFICATIONS_DLQ", raising=False)
    args = build_parser().parse_args(["rabbitmq", "--limit", "3"])
    assert (rabbit_names(args), args.limit, args.dry_run) == (("task.notifications.test.dlq", "task.events"), 3, False)
    explicit = build_parser().parse_args(["rabbitmq", "--queue", "q.dlq", "--exchange", "ex"])
    assert rabbit_names(explicit) == ("q.dlq", "ex")
    kafka = build_parser().parse_args(["kafka", "--dry-run"])
    assert (kafka.topic, kafka.group, kafka.dry_run) == ("task.ingested.dlq", "dlq-replay", True)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["kafka", "--limit", "0"])


def test_stack_parameters_name_the_rabbitmq_queue_and_exchange(monkeypatch: pytest.MonkeyPatch) -> None:
    from infra import replay_dlq

    monkeypatch.setattr(
        replay_dlq,
        "stack_parameters",
        lambda name: {"NotificationsQueue": f"task.notifications.{name}", "EventsExchange": f"task.events.{name}"},
    )
    args = build_parser().parse_args(["rabbitmq", "--stack", "me"])
    assert rabbit_names(args) == ("task.notifications.me.dlq", "task.events.me")
