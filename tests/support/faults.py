"""Helpers for hardening tests: settings overrides that reset cached state, and a Redis that is down."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis

Configure = Callable[..., None]


def settings_configurer(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Configure:
    """Set env vars the way the template would, and rebuild the cached settings and breaker around them."""
    from taskapp import redis_client, settings

    def reset() -> None:
        settings.clear_cache()
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


class DynamoDbFaults:
    """Make chosen DynamoDB operations fail the way AWS fails them, after botocore's own retries gave up.

    Patches botocore's client entry point, so pynamodb's error wrapping and the app's error mapping run unchanged.
    `fail("PutItem", "ProvisionedThroughputExceededException", times=1)` fails the next PutItem once.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import botocore.client

        self._plan: dict[str, list[str]] = {}
        self.failed: list[str] = []
        original = getattr(botocore.client.BaseClient, "_make_api_call")  # noqa: B009 - private, untyped in stubs

        def make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            codes = self._plan.get(operation_name)
            if codes:
                code = codes.pop(0)
                self.failed.append(operation_name)
                raise self.client_error(operation_name, code)
            return original(client, operation_name, api_params)

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)

    def fail(self, operation: str, code: str, times: int = 1_000) -> None:
        self._plan[operation] = [code] * times

    def heal(self) -> None:
        self._plan.clear()

    @staticmethod
    def client_error(operation: str, code: str) -> Exception:
        from botocore.exceptions import ClientError

        status = 500 if code in {"InternalServerError", "ServiceUnavailable"} else 400
        response: Any = {
            "Error": {"Code": code, "Message": f"injected {code}"},
            "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": 3},
        }
        if code == "TransactionCanceledException":
            response["CancellationReasons"] = [{"Code": "ThrottlingError"}, {"Code": "None"}, {"Code": "None"}]
        return ClientError(response, operation)
