"""Unit tests: DynamoDB is moto, Redis is fakeredis; nothing leaves the process."""

from __future__ import annotations

import os

# The environment a deployed function gets from the template, set before any taskapp module is imported.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "USERS_TABLE": "unit-users",
        "TASKS_TABLE": "unit-tasks",
        "SESSIONS_TABLE": "unit-sessions",
        "JWT_SECRET": "unit-test-secret-that-is-long-enough-0123456789",
        "BCRYPT_ROUNDS": "4",
        "POWERTOOLS_METRICS_NAMESPACE": "TaskAppTests",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
        "REDIS_URL": "redis://unit-test-redis:6379/0",
    }
)
for leaked in ("AWS_ENDPOINT_URL", "DYNAMODB_ENDPOINT", "JWT_SECRET_ARN", "AWS_PROFILE"):
    os.environ.pop(leaked, None)

from collections.abc import Iterator  # noqa: E402

import fakeredis  # noqa: E402
import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from tests.support.api_client import ApiClient  # noqa: E402


@pytest.fixture
def fake_redis(monkeypatch: pytest.MonkeyPatch) -> fakeredis.FakeRedis:
    from taskapp import redis_client

    server = fakeredis.FakeRedis(decode_responses=True)
    redis_client.get_redis.cache_clear()
    monkeypatch.setattr(redis_client, "get_redis", lambda: server)
    # modules that imported the function by name
    from taskapp.auth import revocation
    from taskapp.domain import health

    monkeypatch.setattr(revocation, "get_redis", lambda: server)
    monkeypatch.setattr(health, "get_redis", lambda: server)
    return server


@pytest.fixture(autouse=True)
def brokers_reported_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests have no Kafka or RabbitMQ: health reports them from stubs (integration tests use the real ones)."""
    from taskapp.domain import health
    from taskapp.schemas import DependencyStatus

    monkeypatch.setitem(health.DEPENDENCY_CHECKS, "kafka", lambda: DependencyStatus(status="up", details={}))
    monkeypatch.setitem(health.DEPENDENCY_CHECKS, "rabbitmq", lambda: DependencyStatus(status="up", details={}))


@pytest.fixture
def aws() -> Iterator[None]:
    """Fresh moto DynamoDB with the tables created from the same models the code uses."""
    with mock_aws():
        from taskapp.data.activity import ActivityModel, NotificationModel
        from taskapp.data.sessions import SessionItem
        from taskapp.data.tasks import TaskModel
        from taskapp.data.users import UserModel

        for model in (UserModel, TaskModel, SessionItem, ActivityModel, NotificationModel):
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        yield


@pytest.fixture
def client(aws: None, fake_redis: fakeredis.FakeRedis) -> ApiClient:
    return ApiClient()
