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
    assert set(report["dependencies"]) == {"dynamodb", "redis", "kafka", "rabbitmq", "ses", "scheduler"}
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
        "ses": "up",  # moto's SES
        "scheduler": "up",  # moto's Scheduler: the default group
    }


@pytest.mark.usefixtures("client")
def test_health_does_not_check_the_revocation_blacklist_for_a_caller(redis_server: fakeredis.FakeServer) -> None:
    """No auth on /health: a dead Redis must show up in the report, not as the guard's 401 or 503."""
    redis_server.connected = False
    answer = invoke("health", api_event("GET", "/health"))
    assert answer.status_code == 503
    assert "dependencies" in answer.body


@pytest.mark.usefixtures("aws")
def test_ses_is_up_with_its_quota() -> None:
    from taskapp.domain import health
    from taskapp.messaging import email

    email._probe_client.cache_clear()  # built inside moto's mock
    status = health.check_ses()
    assert status.status == "up", status
    assert set(status.details or {}) == {"max24HourSend", "sentLast24Hours", "maxSendRate"}


def test_ses_is_down_naming_the_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError, ConnectTimeoutError

    from taskapp.domain import health
    from taskapp.messaging import email

    class Failing:
        def __init__(self, error: Exception) -> None:
            self.error = error

        def get_send_quota(self) -> dict[str, Any]:
            raise self.error

    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetSendQuota")
    slow = ConnectTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com")
    for error, name in ((denied, "ClientError"), (slow, "ConnectTimeoutError")):
        monkeypatch.setattr(email, "_probe_client", lambda error=error: Failing(error))
        status = health.check_ses()
        assert (status.status, status.error) == ("down", name)


def test_the_ses_probe_gives_up_after_one_short_attempt() -> None:
    from taskapp.messaging import email

    email._probe_client.cache_clear()
    config = email._probe_client().meta.config
    assert (config.connect_timeout, config.read_timeout) == (1, 1)
    assert config.retries["total_max_attempts"] == 1
    email._probe_client.cache_clear()


@pytest.mark.usefixtures("aws")
def test_the_scheduler_is_up_for_its_group_and_names_the_target(set_setting: Any) -> None:
    from taskapp.domain import health
    from taskapp.messaging import scheduler

    scheduler._probe_client.cache_clear()
    set_setting("REMINDER_FUNCTION_ARN", "arn:aws:lambda:us-east-1:123456789012:function:unit-reminder")
    status = health.check_scheduler()
    assert status.status == "up", status
    assert status.details == {
        "group": "default",
        "state": "ACTIVE",
        "target": "arn:aws:lambda:us-east-1:123456789012:function:unit-reminder",
    }
    set_setting("REMINDER_SCHEDULE_GROUP", "no-such-group")
    missing = health.check_scheduler()
    assert (missing.status, missing.error) == ("down", "ResourceNotFoundException")


def test_the_checks_run_side_by_side(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check waits for all the others at a barrier: run one after another, the first would wait in vain
    (and be reported down); side by side, all pass it. The answer takes the slowest check's time, not the sum."""
    import threading

    from taskapp.domain import health
    from taskapp.schemas.health import DependencyStatus

    barrier = threading.Barrier(len(health.DEPENDENCY_CHECKS), timeout=10)

    def check() -> DependencyStatus:
        barrier.wait()
        return DependencyStatus(status="up", latency_ms=0.0)

    for name in list(health.DEPENDENCY_CHECKS):
        monkeypatch.setitem(health.DEPENDENCY_CHECKS, name, check)
    report = health.check_health()
    assert report.status == "ok" and len(report.dependencies) == 6
