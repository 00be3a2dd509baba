"""GET /health's Kafka lag: never negative, and a broker whose end offset is below the committed one is flagged."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from taskapp.messaging import kafka


class FakeConsumer:
    """kafka-python's KafkaConsumer as consumer_group_lag uses it, answering what Tansu answered (issue 15)."""

    committed_offsets = {0: 10, 1: 3, 2: None}
    end = {0: 1, 1: 7, 2: 4}

    def __init__(self, **config: Any) -> None:
        self.config = config

    def partitions_for_topic(self, topic: str) -> set[int]:
        return set(self.end)

    def end_offsets(self, partitions: list[Any]) -> dict[Any, int]:
        return {tp: self.end[tp.partition] for tp in partitions}

    def committed(self, tp: Any) -> int | None:
        return self.committed_offsets[tp.partition]

    def close(self, autocommit: bool = True) -> None:
        pass


def test_lag_is_never_negative_and_an_end_below_the_committed_offset_is_flagged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import kafka as kafka_python

    monkeypatch.setattr(kafka_python, "KafkaConsumer", FakeConsumer)
    monkeypatch.setattr(kafka, "_require_reachable", lambda servers: None)

    with caplog.at_level(logging.WARNING):
        report = kafka.consumer_group_lag("task.ingested", "group")

    assert report == {
        "0": {"committed": 10, "end": 1, "lag": 0, "inconsistent": True},
        "1": {"committed": 3, "end": 7, "lag": 4},
        "2": {"committed": None, "end": 4, "lag": 4},
    }
    assert all(entry["lag"] >= 0 for entry in report.values())
    flagged = [r for r in caplog.records if "end offset below the committed offset" in r.getMessage()]
    assert len(flagged) == 1


@pytest.mark.parametrize(("committed", "end", "lag"), [(None, 0, 0), (0, 0, 0), (5, 5, 0), (5, 9, 4)])
def test_consistent_offsets_report_their_lag_unflagged(committed: int | None, end: int, lag: int) -> None:
    assert kafka.partition_lag("t", 0, committed, end) == {"committed": committed, "end": end, "lag": lag}
