"""One dead-letter contract (issue 10 item 4): both writers produce the same record, and decode is its inverse."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from infra.bridge.events import KafkaRecord, kafka_event
from infra.bridge.kafka_poller import dead_letter
from taskapp.domain.ingestion import InboundRecord, InvalidRecord, _dead_letter, parse_record, records_of
from taskapp.messaging.dead_letter import DeadLetter, NotADeadLetter, RecordPosition
from tests.support.lambda_events import FakeLambdaContext, load_function
from tests.unit.events.conftest import FakeKafka

HEADERS = (("content-type", b"application/json"), ("trace", b"\xff\x00"))


def test_position_text_round_trips_with_dashes_in_the_topic() -> None:
    position = RecordPosition("orders-eu.ingested", 12, 345)
    assert str(position) == "orders-eu.ingested-12@345"
    assert RecordPosition.parse(str(position)) == position


@pytest.mark.parametrize("text", ["", "t-1", "t@1", "t-x@1", "-1@2", "t-1@", "t-\u0661@1"])
def test_malformed_positions_are_refused(text: str) -> None:
    with pytest.raises(NotADeadLetter):
        RecordPosition.parse(text)


@pytest.mark.parametrize(("key", "value"), [(b"k", b"\xff raw"), (None, None), (b"", b""), (b"t-1", b'{"id": "t-1"}')])
def test_decode_is_the_inverse_of_encode(key: bytes | None, value: bytes | None) -> None:
    letter = DeadLetter(
        reason="VALIDATION_ERROR",
        source=RecordPosition("task.ingested", 2, 41),
        key=key,
        value=value,
        headers=HEADERS,
        function="fn",
        attempts=3,
        details=[{"field": "task.title", "message": "é too short"}],
        dead_lettered_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
    )
    encoded = letter.encode()
    assert (encoded.key, encoded.value) == (key, value)  # the record itself is untouched
    assert DeadLetter.decode(encoded.key, encoded.value, encoded.headers) == letter


def _ingestion_letter(record: InboundRecord) -> Any:
    with pytest.raises(InvalidRecord) as caught:
        parse_record(record)
    return _dead_letter(record, caught.value, "ingestion-fn")


def test_both_writers_produce_the_same_shape() -> None:
    value = b'{"id": "t-1", "ownerId": "u-1", "task": {"title": ""}}'
    from_function = _ingestion_letter(InboundRecord("task.ingested", 1, 7, b"t-1", value, HEADERS))
    from_bridge = dead_letter(KafkaRecord("task.ingested", 1, 7, 0, 0, b"t-1", value, list(HEADERS)), "Err", "fn", 4)
    for key, produced, headers in (
        (from_function.key, from_function.value, from_function.headers),
        (from_bridge.key, from_bridge.value, from_bridge.headers),
    ):
        assert (key, produced) == (b"t-1", value)
        assert list(headers[:2]) == list(HEADERS)  # the original headers travel first, unchanged
        names = [name for name, _ in headers[2:]]
        assert names[:4] == ["dlq-reason", "dlq-source", "dlq-function", "dlq-attempts"]
        assert dict(headers)["dlq-source"] == b"task.ingested-1@7"
    function_letter = DeadLetter.decode(from_function.key, from_function.value, from_function.headers)
    assert (function_letter.reason, function_letter.function, function_letter.attempts) == (
        "VALIDATION_ERROR",
        "ingestion-fn",
        1,
    )
    assert function_letter.details and function_letter.details[0]["field"] == "task.title"
    assert DeadLetter.decode(from_bridge.key, from_bridge.value, from_bridge.headers).attempts == 4


def test_the_former_ingestion_envelope_still_decodes_to_the_original_record() -> None:
    envelope = {
        "reason": "KEY_MISMATCH",
        "details": {"key": None, "id": "t-9"},
        "source": {"topic": "task.ingested", "partition": 2, "offset": 5},
        "key": None,
        "value": {"id": "t-9"},
        "deadLetteredAt": "2026-11-23T10:00:00+00:00",
    }
    headers = [("dlq-reason", b"KEY_MISMATCH"), ("dlq-source", b"task.ingested-2@5")]
    letter = DeadLetter.decode(b"", json.dumps(envelope).encode(), headers)
    assert letter.legacy_envelope
    assert (letter.source, letter.key, letter.value) == (RecordPosition("task.ingested", 2, 5), None, b'{"id":"t-9"}')
    assert letter.dead_lettered_at == datetime(2026, 11, 23, 10, tzinfo=UTC)


def test_records_are_decoded_with_powertools_kafka_event_keeping_headers_and_odd_base64() -> None:
    event = kafka_event(
        [
            KafkaRecord("task.ingested", 1, 9, 0, 0, b"b", b"{}", [("h", b"\xff"), ("h", b"2")]),
            KafkaRecord("task.ingested", 0, 3, 0, 0, None, b"x", []),
        ],
        "b:9092",
    )
    event["records"]["task.ingested-1"][0]["value"] = "not base64!"
    del event["records"]["task.ingested-0"][0]["value"]
    first, second = records_of(event)
    assert (first.partition, first.offset, first.key, first.value) == (0, 3, None, None)
    assert (second.value, second.headers) == (b"\x00undecodable-base64:not base64!", (("h", b"\xff"), ("h", b"2")))
    assert second.identifier == {"partition": "task.ingested-1", "offset": 9}
    assert records_of({"eventSource": "SelfManagedKafka"}) == []


def test_the_function_dead_letters_with_its_own_name_and_the_original_headers(aws: None, fake_kafka: FakeKafka) -> None:
    event = kafka_event([KafkaRecord("task.ingested", 0, 1, 0, 0, b"t-1", b"{oops", list(HEADERS))], "b:9092")
    result = load_function("task_ingestion").handler(event, FakeLambdaContext("stack-TaskIngestionFunction-1"))
    assert result == {"batchItemFailures": []}
    [parked] = fake_kafka.on("task.ingested.dlq")
    letter = DeadLetter.decode(parked.key, parked.value, parked.headers)
    assert (letter.reason, letter.function, letter.value, letter.headers) == (
        "MALFORMED_JSON",
        "stack-TaskIngestionFunction-1",
        b"{oops",
        HEADERS,
    )
