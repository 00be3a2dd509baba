"""`make invoke` and `make logs` against the deployed stack (STACK_NAME on AWS_ENDPOINT_URL)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_ENDPOINT_URL": os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
        "STACK_NAME": os.environ.get("STACK_NAME", "taskapp"),
    }
    import boto3

    cloudformation = boto3.client(
        "cloudformation", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_DEFAULT_REGION"]
    )
    try:
        Stack(env["STACK_NAME"], cloudformation).description()
    except Exception as exc:  # noqa: BLE001 - fail loudly with the reason, never skip
        pytest.fail(f"stack {env['STACK_NAME']} is not deployed on {env['AWS_ENDPOINT_URL']}: {exc} (make deploy)")
    return env


def oncall(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra.oncall", *args],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_invoke_deployed_function_prints_response_and_log_tail(stack_env: dict[str, str]) -> None:
    result = oncall(stack_env, "invoke", "HealthFunction", "tests/fixtures/events/health_get.json")
    assert result.returncode == 0, result.stderr
    response_part, _, logs_part = result.stdout.partition("# logs")
    assert f"{stack_env['STACK_NAME']}-HealthFunction" in response_part
    assert '"statusCode": 200' in response_part
    assert '"status": "ok"' in response_part  # the proxy body is shown decoded
    assert "REPORT RequestId" in logs_part


def test_invoke_deployed_function_error_is_reported_with_a_failing_exit(stack_env: dict[str, str]) -> None:
    # A TOKEN event without its token, which API Gateway never sends: the handler fails on it. (A bad token is not
    # an error any more: the authorizer answers it with a Deny.)
    result = oncall(stack_env, "invoke", "authorizer", "tests/fixtures/events/authorizer_malformed_event.json")
    assert result.returncode == 1
    response_part, _, logs_part = result.stdout.partition("# logs")
    # The error and what caused it: AWS names the exception in errorType; MiniStack says Runtime.HandlerError there
    # and the KeyError is in the traceback of the log tail.
    assert '"functionError": "Unhandled"' in response_part
    assert "'authorizationToken'" in response_part
    assert "KeyError: 'authorizationToken'" in logs_part or '"errorType": "KeyError"' in response_part


def test_logs_shows_recent_invocations(stack_env: dict[str, str]) -> None:
    assert oncall(stack_env, "invoke", "health", "tests/fixtures/events/health_get.json").returncode == 0
    result = oncall(stack_env, "logs", "health", "--since", "5m")
    assert result.returncode == 0, result.stderr
    assert "/aws/lambda/" in result.stdout
    assert "REPORT RequestId" in result.stdout
