"""Dependency checks for GET /health: each dependency answers up/down with the latency of one cheap call.

The calls themselves (the probes) live beside each client: taskapp.data.tasks, taskapp.redis_client, messaging.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from taskapp.data import tasks as task_store
from taskapp.redis_client import RedisUnavailable, failure_name, ping
from taskapp.schemas.health import DependencyStatus, HealthOut
from taskapp.settings import ingest_settings


def _timed(check: Callable[[], object]) -> DependencyStatus:
    """Run one check; a dict it returns becomes the dependency's `details` (lag, queue depths)."""
    started = time.perf_counter()
    try:
        result = check()
    except Exception as exc:  # noqa: BLE001 - any failure means the dependency is down; report, don't raise
        return DependencyStatus(status="down", latency_ms=_elapsed_ms(started), error=type(exc).__name__)
    details = result if isinstance(result, dict) else None
    return DependencyStatus(status="up", latency_ms=_elapsed_ms(started), details=details)


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def check_dynamodb() -> DependencyStatus:
    return _timed(task_store.probe)


def check_redis() -> DependencyStatus:
    """Through the breaker: while it is open Redis is reported down at once, without waiting on a socket.

    The error names Redis' own failure (ConnectionError, TimeoutError, ...), plus the breaker when it is open.
    """
    started = time.perf_counter()
    try:
        ping()
    except RedisUnavailable as exc:
        return DependencyStatus(status="down", latency_ms=_elapsed_ms(started), error=failure_name(exc))
    except Exception as exc:  # noqa: BLE001 - e.g. a REDIS_URL the client cannot even be built from
        return DependencyStatus(status="down", latency_ms=_elapsed_ms(started), error=type(exc).__name__)
    return DependencyStatus(status="up", latency_ms=_elapsed_ms(started))


def _kafka_report() -> dict[str, Any]:
    from taskapp.messaging.kafka import consumer_group_lag

    settings = ingest_settings()
    lag = consumer_group_lag(settings.ingest_topic, settings.ingest_consumer_group)
    return {"topic": settings.ingest_topic, "consumerGroup": settings.ingest_consumer_group, "partitions": lag}


def check_kafka() -> DependencyStatus:
    """Broker reachable, plus the ingestion consumer group's lag per partition of task.ingested."""
    return _timed(_kafka_report)


def _rabbitmq_report() -> dict[str, Any]:
    from taskapp.messaging.rabbitmq import queue_depths

    return {"queues": queue_depths()}


def check_rabbitmq() -> DependencyStatus:
    """Broker reachable, plus the depth of task.notifications and its dead-letter queue."""
    return _timed(_rabbitmq_report)


DEPENDENCY_CHECKS: dict[str, Callable[[], DependencyStatus]] = {
    "dynamodb": check_dynamodb,
    "redis": check_redis,
    "kafka": check_kafka,
    "rabbitmq": check_rabbitmq,
}


def check_health() -> HealthOut:
    results = {name: check() for name, check in DEPENDENCY_CHECKS.items()}
    overall = "ok" if all(result.status == "up" for result in results.values()) else "degraded"
    return HealthOut(status=overall, dependencies=results)
