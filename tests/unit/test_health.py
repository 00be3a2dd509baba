"""GET /health: each dependency's status and latency; 503 naming whichever is down."""

from __future__ import annotations

from typing import Any

import fakeredis
import pytest

from tests.support.api_client import ApiClient
from tests.support.lambda_events import api_event
from tests.unit.helpers import invoke


def _health(client: ApiClient) -> Any:
    return client.get("/health")


def test_health_is_200_with_every_dependency_up_and_its_latency(client: ApiClient) -> None:
    answer = _health(client)
    assert answer.status_code == 200, answer.body
    report = answer.json()
    assert report["status"] == "ok"
    assert set(report["dependencies"]) == {"dynamodb", "redis", "kafka", "rabbitmq"}
    for dependency in report["dependencies"].values():
        assert dependency["status"] == "up"
        assert isinstance(dependency["latencyMs"], int | float) and dependency["latencyMs"] >= 0
        assert dependency["error"] is None


def test_health_needs_no_token_and_is_never_cached(client: ApiClient) -> None:
    answer = _health(client)
    assert answer.status_code == 200
    assert answer.headers.get("Cache-Control") == "no-store"


def test_health_is_503_naming_redis_when_redis_is_down(client: ApiClient, redis_server: fakeredis.FakeServer) -> None:
    redis_server.connected = False
    answer = _health(client)
    assert answer.status_code == 503
    report = answer.json()
    assert report["status"] == "degraded"
    assert report["dependencies"]["redis"]["status"] == "down"
    assert report["dependencies"]["redis"]["error"] == "ConnectionError"
    assert report["dependencies"]["dynamodb"]["status"] == "up"


def test_health_is_503_naming_redis_when_its_client_cannot_be_built(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskapp import redis_client

    def bad_url() -> Any:
        raise ValueError("Redis URL must specify one of the following schemes")

    monkeypatch.setattr(redis_client, "get_redis", bad_url)
    answer = _health(client)
    assert answer.status_code == 503
    assert answer.json()["dependencies"]["redis"]["status"] == "down"


def test_health_is_503_naming_dynamodb_when_the_table_is_missing(client: ApiClient) -> None:
    from taskapp.data.tasks import TaskModel

    TaskModel.delete_table()
    answer = _health(client)
    assert answer.status_code == 503
    report = answer.json()
    assert report["dependencies"]["dynamodb"]["status"] == "down"
    assert report["dependencies"]["dynamodb"]["error"]
    assert report["dependencies"]["redis"]["status"] == "up"


def test_health_is_503_naming_both_when_both_are_down(client: ApiClient, redis_server: fakeredis.FakeServer) -> None:
    from taskapp.data.tasks import TaskModel

    TaskModel.delete_table()
    redis_server.connected = False
    report = _health(client).json()
    assert {name: dep["status"] for name, dep in report["dependencies"].items()} == {
        "dynamodb": "down",
        "redis": "down",
        "kafka": "up",  # stubbed in unit tests; the integration suite checks the real brokers
        "rabbitmq": "up",
    }


@pytest.mark.usefixtures("client")
def test_health_does_not_check_the_revocation_blacklist_for_a_caller(redis_server: fakeredis.FakeServer) -> None:
    """No auth on /health: a dead Redis must show up in the report, not as the guard's 401 or 503."""
    redis_server.connected = False
    answer = invoke("health", api_event("GET", "/health"))
    assert answer.status_code == 503
    assert "dependencies" in answer.body
