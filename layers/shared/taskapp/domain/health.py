"""Dependency checks for GET /health: each dependency answers up/down with the latency of one cheap call.

The calls themselves (the probes) live beside each client: taskapp.data.tasks, taskapp.redis_client, messaging
(Kafka, RabbitMQ, SES, EventBridge Scheduler). They run side by side.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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


def _ses_report() -> dict[str, Any]:
    from taskapp.messaging.email import probe

    return probe()


def check_ses() -> DependencyStatus:
    """SES answers (GetAccount, nothing sent) and the account may send; quota in the details."""
    return _timed(_ses_report)


def _scheduler_report() -> dict[str, Any]:
    from taskapp.messaging.scheduler import probe

    return probe()


def check_scheduler() -> DependencyStatus:
    """EventBridge Scheduler answers for the reminders' schedule group (GetScheduleGroup); the target in details."""
    return _timed(_scheduler_report)


DEPENDENCY_CHECKS: dict[str, Callable[[], DependencyStatus]] = {
    "dynamodb": check_dynamodb,
    "redis": check_redis,
    "kafka": check_kafka,
    "rabbitmq": check_rabbitmq,
    "ses": check_ses,
    "scheduler": check_scheduler,
}


def check_health() -> HealthOut:
    """Every check at once, each in its own thread: the answer takes as long as the slowest check, not the sum
    (each bounds itself: Redis 0.5 s, brokers BROKER_TIMEOUT_SECONDS, SES and Scheduler 1 s + 1 s, one attempt)."""
    with ThreadPoolExecutor(max_workers=len(DEPENDENCY_CHECKS), thread_name_prefix="health") as pool:
        futures = {name: pool.submit(check) for name, check in DEPENDENCY_CHECKS.items()}
        results = {name: future.result() for name, future in futures.items()}
    overall = "ok" if all(result.status == "up" for result in results.values()) else "degraded"
    return HealthOut(status=overall, dependencies=results)
