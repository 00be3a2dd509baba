"""produce_all under a broker outage: a 503 within its budget, never a Lambda timeout (found by the fault suite)."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from kafka.errors import KafkaTimeoutError

from taskapp import settings
from taskapp.messaging import kafka
from taskapp.messaging.kafka import KafkaUnavailable, OutgoingRecord

RECORD = OutgoingRecord(topic="task.ingested", key=b"k", value=b"{}")


class StuckProducer:
    """Accepts records but never gets them acknowledged: flush waits its whole timeout, then gives up."""

    def __init__(self) -> None:
        self.flush_timeouts: list[float] = []
        self.closed_with: float | None = None

    def send(self, *args: Any, **kwargs: Any) -> Any:
        return None

    def flush(self, timeout: float) -> None:
        self.flush_timeouts.append(timeout)
        raise KafkaTimeoutError(f"flush timed out after {timeout}")

    def close(self, timeout: float) -> None:
        self.closed_with = timeout


class CachedFactory:
    """Stands in for the lru_cached get_producer; None means no producer may be built."""

    def __init__(self, producer: StuckProducer | None) -> None:
        self.producer = producer
        self.cleared = 0

    def __call__(self) -> StuckProducer:
        if self.producer is None:
            pytest.fail("no producer may be built for a broker that is down")
        return self.producer

    def cache_clear(self) -> None:
        self.cleared += 1


@pytest.fixture
def listening_port() -> Any:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("BROKER_TIMEOUT_SECONDS", "3")
    settings.clear_cache()
    kafka.get_producer.cache_clear()
    yield
    kafka.get_producer.cache_clear()
    settings.clear_cache()


def test_a_broker_that_refuses_connections_fails_at_once_without_building_a_producer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{closed_port}")
    settings.clear_cache()
    monkeypatch.setattr(kafka, "get_producer", CachedFactory(None))
    started = time.monotonic()
    with pytest.raises(KafkaUnavailable):
        kafka.produce_all([RECORD])
    assert time.monotonic() - started < 1


def test_an_unacknowledged_produce_gives_up_within_the_budget_and_discards_the_producer(
    monkeypatch: pytest.MonkeyPatch, listening_port: int
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{listening_port}")
    settings.clear_cache()
    stuck = StuckProducer()
    monkeypatch.setattr(kafka, "get_producer", CachedFactory(stuck))
    with pytest.raises(KafkaUnavailable, match="flush timed out"):
        kafka.produce_all([RECORD, RECORD])
    # One budget of 2 x BROKER_TIMEOUT_SECONDS for the whole call, inside the 10 s Lambda timeout.
    assert 0 < stuck.flush_timeouts[0] <= 6
    assert stuck.closed_with == 0, "a failed producer must be closed at once, not left to deliver later"
    assert kafka.get_producer.cache_clear is not None and kafka.get_producer.cleared >= 1  # type: ignore[attr-defined]
