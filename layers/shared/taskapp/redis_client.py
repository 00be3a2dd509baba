"""One Redis connection pool per execution environment, behind a circuit breaker, so a dead Redis never hangs a request.

Every Redis call goes through `guarded(...)`: it is bounded by the socket timeout (one immediate retry, for a pooled
connection that died with a Redis restart), and after `REDIS_BREAKER_FAIL_MAX` consecutive failures the breaker
opens and calls fail at once, without touching the network, for `REDIS_BREAKER_RESET_SECONDS`; then one trial call
decides whether it closes again. Callers decide what "unavailable" means: the revocation check fails closed, the rate
limiter fails open, /health reports Redis as down.

The breaker is pybreaker (maintained, thread-safe, listeners for logging) rather than hand-rolled; its state lives in
memory, per execution environment, which is what a Lambda needs: each instance learns on its own that Redis is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

import pybreaker
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from taskapp.observability import logger
from taskapp.settings import redis_settings

T = TypeVar("T")


class RedisUnavailable(Exception):
    """Redis did not answer in time, refused the connection, or the breaker is open."""


@lru_cache(maxsize=1)
def get_redis() -> redis.Redis:
    settings = redis_settings()
    return redis.Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
        retry=Retry(NoBackoff(), 1),
        health_check_interval=30,
        decode_responses=True,
    )


class _LogStateChanges(pybreaker.CircuitBreakerListener):
    def state_change(self, cb: pybreaker.CircuitBreaker, old_state: object, new_state: object) -> None:
        logger.warning(
            "redis circuit breaker changed state",
            extra={"from": getattr(old_state, "name", str(old_state)), "to": getattr(new_state, "name", "")},
        )


def _not_a_redis_failure(exc: BaseException) -> bool:
    """Only Redis' own errors count against the breaker; a bug in the caller's code must not open it."""
    return not isinstance(exc, redis.RedisError)


@lru_cache(maxsize=1)
def redis_breaker() -> pybreaker.CircuitBreaker:
    settings = redis_settings()
    return pybreaker.CircuitBreaker(
        fail_max=settings.redis_breaker_fail_max,
        reset_timeout=settings.redis_breaker_reset_seconds,
        exclude=[_not_a_redis_failure],
        listeners=[_LogStateChanges()],
        name="redis",
    )


def guarded(operation: Callable[[redis.Redis], T]) -> T:
    """Run one Redis operation through the breaker; every failure surfaces as RedisUnavailable."""
    try:
        return redis_breaker().call(lambda: operation(get_redis()))
    except pybreaker.CircuitBreakerError as exc:
        # The call that trips the breaker raises CircuitBreakerError with the Redis error as its context.
        cause = exc.__context__
        detail = f" after {type(cause).__name__}: {cause}" if isinstance(cause, redis.RedisError) else ""
        raise RedisUnavailable(f"circuit breaker open{detail}") from exc
    except redis.RedisError as exc:
        raise RedisUnavailable(f"{type(exc).__name__}: {exc}") from exc


def breaker_state() -> str:
    return str(redis_breaker().current_state)


def ping() -> None:
    """The cheapest call that proves Redis answers (GET /health), through the breaker like every other call."""
    guarded(lambda r: r.ping())


def failure_name(exc: RedisUnavailable) -> str:
    """Redis' own failure behind `exc` (ConnectionError, TimeoutError, ...), plus the breaker when it is open."""
    cause = exc.__cause__
    if isinstance(cause, redis.RedisError):
        return type(cause).__name__
    opened_by = getattr(cause, "__context__", None)  # the Redis error of the call that tripped the breaker
    name = type(opened_by).__name__ if isinstance(opened_by, redis.RedisError) else "RedisUnavailable"
    return f"{name} (circuit breaker {breaker_state()})"
