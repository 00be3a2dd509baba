"""Tracing off must not pay for the X-Ray SDK at cold start; tracing on must still use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import sys, taskapp.observability as o; "
    "print(type(o.tracer.provider).__module__, 'aws_xray_sdk.core' in sys.modules, o.tracer.disabled)"
)


def _probe(**env: str) -> list[str]:
    clean = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT / "layers" / "shared"),
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True, check=True
    )
    return result.stdout.split()


def test_disabled_tracing_does_not_import_the_xray_sdk() -> None:
    module, xray_imported, disabled = _probe(POWERTOOLS_TRACE_DISABLED="true", LAMBDA_TASK_ROOT="/var/task")
    assert module == "taskapp.observability"
    assert xray_imported == "False"
    assert disabled == "True"


def test_outside_lambda_tracing_is_off_without_the_xray_sdk() -> None:
    assert _probe()[1:] == ["False", "True"]


def test_enabled_tracing_in_lambda_uses_the_xray_provider() -> None:
    module, xray_imported, disabled = _probe(LAMBDA_TASK_ROOT="/var/task", POWERTOOLS_TRACE_DISABLED="false")
    assert module.startswith("aws_xray_sdk")
    assert xray_imported == "True"
    assert disabled == "False"


# One line per invocation: the access log, and what keeps a MiniStack worker from waiting 50 ms for output.
INVOCATION_PROBE = """
import io, json, sys
out = io.StringIO()
sys.stdout = out
from taskapp.observability import instrumented

class Context:
    function_name = "probe"; memory_limit_in_mb = 128; aws_request_id = "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:probe"

results = {
    "api": {"statusCode": 201, "body": "secret-body"},
    "authorizer": {"principalId": "u", "policyDocument": {"Statement": [{"Effect": "Deny"}]}},
    "batch": {"batchItemFailures": [{"itemIdentifier": "1"}]},
    "other": None,
}
kind = sys.argv[1]
answer = instrumented(lambda event, context: results[kind])({}, Context())
assert answer == results[kind]
lines = [json.loads(line) for line in out.getvalue().splitlines() if '"invocation done"' in line]
print(json.dumps(lines), file=sys.__stdout__)
"""


def _invocation_lines(kind: str, **env: str) -> list[dict[str, object]]:
    clean = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT / "layers" / "shared"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "Probe",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", INVOCATION_PROBE, kind], env=clean, capture_output=True, text=True, check=True
    )
    lines: list[dict[str, object]] = json.loads(result.stdout)
    return lines


def test_every_invocation_logs_one_line_with_its_outcome_and_never_the_body() -> None:
    (api,) = _invocation_lines("api")
    assert api["status"] == 201 and api["function_request_id"] == "req-1"
    assert isinstance(api["duration_ms"], float)
    assert "secret-body" not in str(api)
    assert _invocation_lines("authorizer")[0]["effect"] == "Deny"
    assert _invocation_lines("batch")[0]["failed_items"] == 1
    (other,) = _invocation_lines("other")
    assert {"status", "effect", "failed_items"}.isdisjoint(other)


def test_log_level_warning_turns_the_invocation_line_off() -> None:
    assert _invocation_lines("api", POWERTOOLS_LOG_LEVEL="WARNING") == []
