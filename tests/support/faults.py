"""Helpers for hardening tests: settings overrides that reset cached state, and a Redis that is down."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis

Configure = Callable[..., None]


def settings_configurer(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Configure:
    """Set env vars the way the template would, and rebuild the cached settings and breaker around them."""
    from taskapp import redis_client
    from taskapp.settings import get_settings

    def reset() -> None:
        get_settings.cache_clear()
        redis_client.redis_breaker.cache_clear()

    def configure(**env: Any) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, str(value))
        reset()

    request.addfinalizer(reset)
    return configure


class DownRedis:
    """Stands in for a Redis whose connections are refused; counts how often anyone tried to use it."""

    def __init__(self) -> None:
        self.attempts = 0

    def __getattr__(self, name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            self.attempts += 1
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        return refuse


def switch_redis(monkeypatch: pytest.MonkeyPatch, server: Any) -> None:
    """Point every Redis call at `server` (a fakeredis, a DownRedis, or a real client)."""
    from taskapp import redis_client

    monkeypatch.setattr(redis_client, "get_redis", lambda: server)
