"""When the RabbitMQ poller hands a batch to the function: full, window elapsed, or (window 0) queue idle."""

from __future__ import annotations

import pytest

from infra.bridge.events import RabbitMessage
from infra.bridge.rabbit_poller import IDLE_TICK_SECONDS, QUEUE_IDLE_SECONDS, BatchCollector


def message(tag: int) -> RabbitMessage:
    return RabbitMessage(delivery_tag=tag, redelivered=False, body=b"{}", message_id=f"m-{tag}")


def test_an_empty_collector_is_never_due_and_waits_a_tick() -> None:
    collector = BatchCollector(batch_size=10, window_seconds=0)
    assert not collector.due(100.0, arrived=False)
    assert collector.wait_seconds(100.0) == IDLE_TICK_SECONDS


def test_window_zero_flushes_a_lone_message_once_the_queue_is_momentarily_empty() -> None:
    collector = BatchCollector(batch_size=10, window_seconds=0)
    collector.add(message(1), now=100.0)
    assert collector.wait_seconds(100.0) == QUEUE_IDLE_SECONDS
    assert not collector.due(100.0, arrived=True)  # it just arrived: look once more for a burst behind it
    assert collector.due(100.005, arrived=False)
    assert [m.delivery_tag for m in collector.take()] == [1]
    assert collector.messages == []


def test_window_zero_keeps_gathering_while_a_burst_is_arriving_until_the_batch_is_full() -> None:
    collector = BatchCollector(batch_size=3, window_seconds=0)
    collector.add(message(1), now=100.0)
    collector.add(message(2), now=100.001)
    assert not collector.due(100.001, arrived=True)
    collector.add(message(3), now=100.002)
    assert collector.due(100.002, arrived=True)  # full: no need to wait for the queue to go quiet
    assert len(collector.take()) == 3


def test_a_positive_window_waits_for_it_even_when_the_queue_is_empty_like_aws() -> None:
    collector = BatchCollector(batch_size=10, window_seconds=0.5)
    collector.add(message(1), now=100.0)
    assert not collector.due(100.3, arrived=False)
    assert collector.wait_seconds(100.0) == IDLE_TICK_SECONDS  # wakes up at least every tick to see a stop
    assert collector.wait_seconds(100.45) == pytest.approx(0.05)
    assert collector.wait_seconds(100.7) == 0.0
    assert collector.due(100.5, arrived=False)


def test_a_positive_window_is_cut_short_by_a_full_batch() -> None:
    collector = BatchCollector(batch_size=2, window_seconds=5)
    collector.add(message(1), now=100.0)
    collector.add(message(2), now=100.1)
    assert collector.due(100.1, arrived=True)


def test_the_window_starts_with_the_first_message_of_each_batch() -> None:
    collector = BatchCollector(batch_size=10, window_seconds=1)
    collector.add(message(1), now=100.0)
    collector.take()
    collector.add(message(2), now=200.0)
    assert not collector.due(200.9, arrived=False)
    assert collector.due(201.0, arrived=False)
