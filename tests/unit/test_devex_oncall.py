"""`make invoke LOCAL=1`: a function runs in-process on a sample event and its structured logs are shown."""

from __future__ import annotations

import json
import time
from pathlib import Path

from infra import oncall
from infra.local_api import SamTemplate

EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "events"


def test_local_invoke_returns_the_response_and_the_structured_logs(aws, fake_redis) -> None:
    template = SamTemplate()
    event = json.loads((EVENTS / "authorizer_bad_token.json").read_text())
    response, printed = oncall.invoke_local(template.function("authorizer"), event, template, env_file=None)
    assert response["principalId"] == "anonymous"  # a Deny: the worker lives on (taskapp.auth.authorizer)
    assert response["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert response["context"]["reason"].startswith("invalid token")
    records = [json.loads(line) for line in printed.splitlines() if line.startswith("{")]
    rejected = [r for r in records if r.get("message") == "request not authorized"]
    assert rejected, printed
    assert rejected[0]["reason"].startswith("invalid token")
    assert rejected[0]["function_name"] == "AuthorizerFunction"


def test_local_invoke_reports_a_function_error(aws, fake_redis) -> None:
    """The event tests/integration/test_devex_oncall_deployed.py invokes on the stack to see an error reported."""
    template = SamTemplate()
    event = json.loads((EVENTS / "authorizer_malformed_event.json").read_text())
    response, _ = oncall.invoke_local(template.function("authorizer"), event, template, env_file=None)
    assert response["errorType"] == "KeyError"


def test_local_invoke_of_an_api_function_by_folder_name(aws, fake_redis) -> None:
    template = SamTemplate()
    event = json.loads((EVENTS / "health_get.json").read_text())
    response, _ = oncall.invoke_local(template.function("health"), event, template, env_file=None)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "ok"
    assert "\n" in oncall._pretty_response(response)


def test_since_accepts_durations_and_epoch_millis() -> None:
    now_ms = time.time() * 1000
    assert abs(oncall.parse_since("10m") - (now_ms - 600_000)) < 5_000
    assert oncall.parse_since("1700000000000") == 1_700_000_000_000


def test_only_the_invocations_lines_are_kept() -> None:
    lines = ["START RequestId: a", "x", "REPORT RequestId: a", "START RequestId: b", "y", "REPORT RequestId: b"]
    assert oncall._lines_of_request(lines, "b") == ["START RequestId: b", "y", "REPORT RequestId: b"]
    assert oncall._lines_of_request(lines, "") == []
