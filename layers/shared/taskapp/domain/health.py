"""Dependency checks for GET /health: each dependency answers up/down with the latency of one cheap call."""

from __future__ import annotations

import time
from collections.abc import Callable

from taskapp.data.tasks import TaskModel
from taskapp.redis_client import get_redis
from taskapp.schemas import DependencyStatus, HealthOut


def _timed(check: Callable[[], object]) -> DependencyStatus:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - any failure means the dependency is down; report, don't raise
        return DependencyStatus(status="down", latency_ms=_elapsed_ms(started), error=type(exc).__name__)
    return DependencyStatus(status="up", latency_ms=_elapsed_ms(started))


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def check_dynamodb() -> DependencyStatus:
    return _timed(TaskModel.describe_table)


def check_redis() -> DependencyStatus:
    return _timed(lambda: get_redis().ping())  # building the client can fail too (bad REDIS_URL): report it


DEPENDENCY_CHECKS: dict[str, Callable[[], DependencyStatus]] = {
    "dynamodb": check_dynamodb,
    "redis": check_redis,
}


def check_health() -> HealthOut:
    results = {name: check() for name, check in DEPENDENCY_CHECKS.items()}
    overall = "ok" if all(result.status == "up" for result in results.values()) else "degraded"
    return HealthOut(status=overall, dependencies=results)
