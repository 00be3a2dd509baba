"""One Redis connection pool per execution environment, with short timeouts so a dead Redis never hangs a request."""

from __future__ import annotations

from functools import lru_cache

import redis

from taskapp.settings import get_settings


@lru_cache(maxsize=1)
def get_redis() -> redis.Redis:
    settings = get_settings()
    return redis.Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
        health_check_interval=30,
        decode_responses=True,
    )
