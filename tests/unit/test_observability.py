"""Tracing off must not pay for the X-Ray SDK at cold start; tracing on must still use it."""

from __future__ import annotations

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
