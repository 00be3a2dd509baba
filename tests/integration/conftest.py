"""Integration tests: the real pynamodb models against the deployed stack's tables on MiniStack, and real Redis.

The stack is the one infra/deploy.sh made (STACK_NAME, exported by infra/test-all.sh); its table names come from
the CloudFormation outputs. Everything is looked up before any taskapp module is imported, because the models read
their table names from Settings at import time. A server that does not answer stops the run with a clear message:
these tests never skip.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from urllib.parse import urlparse

import boto3
import pytest
import redis
from botocore.config import Config

from infra.stack import Stack, StackLookupError
from tests.support import unique

ENDPOINT_URL = os.environ.get("AWS_ENDPOINT_URL") or "http://127.0.0.1:4566"
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
STACK_NAME = os.environ.get("STACK_NAME") or "taskapp"
REGION = os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
TABLE_OUTPUTS = {
    "USERS_TABLE": "UsersTableName",
    "TASKS_TABLE": "TasksTableName",
    "SESSIONS_TABLE": "SessionsTableName",
}


def _fail(message: str) -> None:
    pytest.exit(f"integration tests cannot run: {message}", returncode=1)


def _require_port(url: str, default_port: int, what: str, hint: str) -> None:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        _fail(f"{what} is not reachable at {host}:{port} ({exc}); {hint}")


def _stack_outputs() -> dict[str, str]:
    cloudformation = boto3.client(
        "cloudformation",
        endpoint_url=ENDPOINT_URL,
        region_name=REGION,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        config=Config(retries={"max_attempts": 1}, connect_timeout=3, read_timeout=10),
    )
    try:
        return Stack(STACK_NAME, cloudformation).outputs()
    except StackLookupError as exc:
        _fail(f"stack {STACK_NAME!r} not found on {ENDPOINT_URL} ({exc}); deploy it with infra/deploy.sh")
        raise  # unreachable: pytest.exit raises


def _configure_environment() -> None:
    _require_port(ENDPOINT_URL, 4566, "MiniStack", "start it with `infra/services.sh up`")
    _require_port(REDIS_URL, 6379, "Redis", "start it with `infra/services.sh up`")
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        _fail(f"Redis at {REDIS_URL} does not answer PING ({exc})")
    outputs = _stack_outputs()
    missing = [key for key in TABLE_OUTPUTS.values() if not outputs.get(key)]
    if missing:
        _fail(f"stack {STACK_NAME!r} has no outputs {missing}; redeploy it with infra/deploy.sh")
    os.environ.update({variable: outputs[output] for variable, output in TABLE_OUTPUTS.items()})
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "DYNAMODB_ENDPOINT": ENDPOINT_URL,
            "REDIS_URL": REDIS_URL,
            # Tokens made here never reach the deployed API, so a local key is enough.
            "JWT_SECRET": "integration-test-secret-that-is-long-enough-0123456789",
            "BCRYPT_ROUNDS": "4",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "TaskAppIntegration",
        }
    )
    os.environ.pop("JWT_SECRET_ARN", None)


_configure_environment()


@pytest.fixture
def redis_server() -> Iterator[redis.Redis]:
    """The real Redis the deployed stack uses; the blacklist keys a test creates (its own jtis) are removed after."""
    from taskapp import redis_client
    from taskapp.auth.revocation import KEY_PREFIX

    client = redis_client.get_redis()
    yield client
    leftovers = list(client.scan_iter(match=f"{KEY_PREFIX}{unique.TEST_PREFIX}*"))
    if leftovers:
        client.delete(*leftovers)
