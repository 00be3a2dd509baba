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
        "TASK_TAGS_TABLE": "unit-task-tags",
        "SESSIONS_TABLE": "unit-sessions",
        "IDEMPOTENCY_TABLE": "unit-idempotency",
        "PROJECTS_TABLE": "unit-projects",
        "COMMENTS_TABLE": "unit-comments",
        "WEBHOOKS_TABLE": "unit-webhooks",
        "WEBHOOK_DELIVERIES_TABLE": "unit-webhook-deliveries",
        "JWT_SECRET": "unit-test-secret-that-is-long-enough-0123456789",
        "BCRYPT_ROUNDS": "4",
        "POWERTOOLS_METRICS_NAMESPACE": "TaskAppTests",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
        "REDIS_URL": "redis://unit-test-redis:6379/0",
        # Unit tests log in many times from one fake IP; tests of the limiter set their own limits.
        "RATE_LIMIT_USER_PER_MINUTE": "100000",
        "RATE_LIMIT_REGISTRATIONS_PER_IP": "100000",
        "RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT": "100000",
        "RATE_LIMIT_LOGIN_FAILURES_PER_IP": "100000",
        "RATE_LIMIT_REFRESHES_PER_SESSION": "100000",
    }
)
for leaked in ("AWS_ENDPOINT_URL", "DYNAMODB_ENDPOINT", "JWT_SECRET_ARN", "RABBITMQ_URL_SECRET_ARN", "AWS_PROFILE"):
    os.environ.pop(leaked, None)

import functools  # noqa: E402
import threading  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import fakeredis  # noqa: E402
import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402
from pynamodb.models import Model  # noqa: E402

from tests.support.api_client import ApiClient  # noqa: E402

JWT_SECRET = os.environ["JWT_SECRET"]
PASSWORD = "correct-horse-battery"


@pytest.fixture
def redis_server() -> fakeredis.FakeServer:
    """The fake Redis server; set `.connected = False` to make every command fail like a dead Redis."""
    return fakeredis.FakeServer()


@pytest.fixture
def fake_redis(monkeypatch: pytest.MonkeyPatch, redis_server: fakeredis.FakeServer) -> fakeredis.FakeRedis:
    from taskapp import redis_client

    server = fakeredis.FakeRedis(server=redis_server, decode_responses=True)
    redis_client.get_redis.cache_clear()
    redis_client.redis_breaker.cache_clear()  # every test starts with a closed breaker
    # Every Redis call goes through redis_client.guarded(), which looks get_redis up on the module.
    monkeypatch.setattr(redis_client, "get_redis", lambda: server)
    return server


@pytest.fixture(autouse=True)
def brokers_reported_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests have no Kafka or RabbitMQ: health reports them from stubs (integration tests use the real ones)."""
    from taskapp.domain import health
    from taskapp.schemas.health import DependencyStatus

    monkeypatch.setitem(
        health.DEPENDENCY_CHECKS, "kafka", lambda: DependencyStatus(status="up", latency_ms=0.0, details={})
    )
    monkeypatch.setitem(
        health.DEPENDENCY_CHECKS, "rabbitmq", lambda: DependencyStatus(status="up", latency_ms=0.0, details={})
    )


def _models() -> tuple[type[Model], ...]:
    from taskapp.data.activity import ActivityModel
    from taskapp.data.comments import CommentModel
    from taskapp.data.connections import ConnectionModel
    from taskapp.data.notification_preferences import PreferencesModel
    from taskapp.data.notifications import NotificationModel
    from taskapp.data.sessions import SessionItem
    from taskapp.data.tasks import TagModel, TaskModel
    from taskapp.data.users import UserModel
    from taskapp.data.webhooks import DeliveryModel, WebhookModel

    return (
        *(UserModel, TaskModel, SessionItem, ActivityModel, NotificationModel, PreferencesModel, ConnectionModel),
        *(WebhookModel, DeliveryModel, CommentModel, TagModel),
    )


def _webhook_infrastructure() -> None:
    """The KMS key and the SQS queues of the webhook pipeline, in moto, named where the settings look for them."""
    import boto3

    from taskapp import settings

    key_id = boto3.client("kms").create_key(Description="unit webhook secrets")["KeyMetadata"]["Arn"]
    sqs = boto3.client("sqs")
    os.environ["WEBHOOK_KMS_KEY_ID"] = key_id
    os.environ["WEBHOOK_QUEUE_URL"] = sqs.create_queue(QueueName="unit-webhooks")["QueueUrl"]
    os.environ["WEBHOOK_DLQ_URL"] = sqs.create_queue(QueueName="unit-webhooks-dlq")["QueueUrl"]
    settings.clear_cache()


def _create_idempotency_table() -> None:
    """Powertools' table has no pynamodb model: created from its key, as template.yaml declares it."""
    import boto3

    boto3.client("dynamodb").create_table(
        TableName=os.environ["IDEMPOTENCY_TABLE"],
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )


# Tables shared by several pynamodb models (single-table designs) are created from template.yaml as they are
# deployed, indexes and all, by the same code the in-process API uses; emptied with the others after each test.
_TEMPLATE_TABLES = {"ProjectsTable": "PROJECTS_TABLE"}


def _create_template_tables() -> None:
    import boto3

    from infra.local_api.tables import _CREATE_TABLE_KEYS
    from tests.support.api_client import load_template

    resources = load_template()["Resources"]
    for logical_id, variable in _TEMPLATE_TABLES.items():
        props = resources[logical_id]["Properties"]
        kwargs = {key: props[key] for key in _CREATE_TABLE_KEYS if key in props}
        boto3.client("dynamodb").create_table(TableName=os.environ[variable], BillingMode="PAY_PER_REQUEST", **kwargs)


# moto's DynamoDB backend methods that change items.
MOTO_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


@contextmanager
def _atomic_moto_writes() -> Iterator[None]:
    """DynamoDB applies a conditional write atomically; moto checks the condition and writes in two Python steps,
    so two threads could both pass it (test_idempotency's two concurrent requests both created their task, about one
    run in four on a loaded machine). One lock around moto's writes gives the service's guarantee."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    originals = {name: getattr(DynamoDBBackend, name) for name in MOTO_WRITES}

    def locked(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def write(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(*args, **kwargs)

        return write

    for name, original in originals.items():
        setattr(DynamoDBBackend, name, locked(original))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(DynamoDBBackend, name, original)


@pytest.fixture(scope="session")
def _moto() -> Iterator[None]:
    with mock_aws(), _atomic_moto_writes():
        _webhook_infrastructure()
        for model in _models():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        _create_idempotency_table()
        _create_template_tables()
        yield


def _moto_tables() -> dict[str, Any]:
    """moto's own tables by name (its in-memory backend for this account and region)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    tables: dict[str, Any] = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]].tables
    return tables


@pytest.fixture
def aws(_moto: None) -> Iterator[None]:
    """Empty moto DynamoDB tables, created from the same models the code uses.

    The mock lives for the whole session and each test empties the tables afterwards: recreating three tables
    with their indexes for every test (or even asking moto whether they exist) costs more than the tests. They are
    emptied in moto's backend itself (its indexes are read from the items, so they empty too): scanning and
    deleting every item through botocore was 0.12 s of every test, a third of the unit suite's time.
    """
    yield
    tables = _moto_tables()
    for model in _models():
        table = tables.get(model.Meta.table_name)
        if table is None:  # the test deleted the table to simulate an outage: bring it back
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        else:
            table.items.clear()
    for variable in ("IDEMPOTENCY_TABLE", *_TEMPLATE_TABLES.values()):
        tables[os.environ[variable]].items.clear()


SetSetting = Callable[[str, str], None]


@pytest.fixture
def set_setting(monkeypatch: pytest.MonkeyPatch) -> Iterator[SetSetting]:
    """Change one setting (env var) for this test; Settings are rebuilt now and again once it is restored."""
    from taskapp import settings

    def set_(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        settings.clear_cache()

    yield set_
    settings.clear_cache()  # monkeypatch restores the variables after this; the next read sees them


@pytest.fixture
def client(aws: None, fake_redis: fakeredis.FakeRedis) -> ApiClient:
    return ApiClient()


@dataclass(frozen=True)
class Account:
    user_id: str
    email: str
    password: str
    access_token: str
    refresh_token: str


@pytest.fixture
def new_account(client: ApiClient) -> Callable[..., Account]:
    """Register and log in a fresh user through the real handlers."""

    def make(email: str | None = None, password: str = PASSWORD, name: str = "Test User") -> Account:
        email = email or f"user-{uuid.uuid4().hex[:12]}@example.com"
        registered = client.post("/auth/register", json_body={"name": name, "email": email, "password": password})
        assert registered.status_code == 201, registered.body
        logged_in = client.post("/auth/login", json_body={"email": email, "password": password})
        assert logged_in.status_code == 200, logged_in.body
        tokens = logged_in.json()
        return Account(
            user_id=registered.json()["id"],
            email=registered.json()["email"],
            password=password,
            access_token=tokens["accessToken"],
            refresh_token=tokens["refreshToken"],
        )

    return make


@pytest.fixture
def alice(new_account: Callable[..., Account]) -> Account:
    return new_account(email="alice@example.com", name="Alice")


@pytest.fixture
def bob(new_account: Callable[..., Account]) -> Account:
    return new_account(email="bob@example.com", name="Bob")


@pytest.fixture
def caller(client: ApiClient) -> Account:
    """A caller with a genuine access token but no stored account or session: enough for input-validation tables,
    which never reach storage, at a fraction of the cost of registering and logging in."""
    from tests.support.tokens import mint_access_token

    user_id = str(uuid.uuid4())
    token = mint_access_token(JWT_SECRET, sub=user_id)
    return Account(user_id=user_id, email="", password="", access_token=token, refresh_token="")
