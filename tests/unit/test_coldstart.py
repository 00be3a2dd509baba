"""The cold-start pause of the garbage collector (taskapp/coldstart.py): on while a handler loads, never left off."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import pytest

from tests.support.lambda_events import ROOT

FUNCTIONS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))

# Imports one handler in a fresh interpreter and reports the collector's state before and after.
PROBE = """
import gc, json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from taskapp import coldstart
paused = not gc.isenabled()
import app
print(json.dumps({"paused_while_loading": paused, "enabled_after": gc.isenabled(), "frozen": gc.get_freeze_count()}))
"""


def _import_handler(function: str, *, in_lambda: bool) -> dict[str, object]:
    env = {key: value for key, value in os.environ.items() if key != "AWS_LAMBDA_FUNCTION_NAME"}
    if in_lambda:
        env["AWS_LAMBDA_FUNCTION_NAME"] = function
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT / "functions" / function), str(ROOT / "layers" / "shared")],
        cwd=ROOT / "functions" / function,
        env={**env, "POWERTOOLS_TRACE_DISABLED": "true", "JWT_SECRET": "x" * 40},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.parametrize("function", ["get_task", "authorizer"])
def test_in_lambda_the_collector_is_paused_while_loading_then_frozen_and_back_on(function: str) -> None:
    report = _import_handler(function, in_lambda=True)

    assert report["paused_while_loading"] is True
    assert report["enabled_after"] is True
    assert isinstance(report["frozen"], int) and report["frozen"] > 10_000, "the loaded modules were not frozen"


def test_outside_lambda_importing_a_handler_leaves_the_collector_alone() -> None:
    report = _import_handler("get_task", in_lambda=False)

    assert report == {"paused_while_loading": False, "enabled_after": True, "frozen": 0}


def _top_level(function: str) -> list[ast.stmt]:
    return ast.parse((ROOT / "functions" / function / "app.py").read_text()).body


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_handler_pauses_first_and_resumes_at_the_end(function: str) -> None:
    """Statically, for every function: a handler that forgot to resume would run with the collector off for good."""
    body = _top_level(function)
    first_import = next(node for node in body if isinstance(node, ast.Import | ast.ImportFrom))
    assert isinstance(first_import, ast.ImportFrom) and first_import.module == "taskapp", function
    assert [alias.name for alias in first_import.names] == ["coldstart"], function

    last = ast.unparse(body[-1])
    # lambda_handler() and preflight_handler() (the CORS preflight function) both end with coldstart.ready().
    resumes = {"coldstart.ready()", "handler = lambda_handler(app)", "handler = preflight_handler()"}
    assert last in resumes, f"{function} ends with {last!r}"


LOADED_PROBE = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import app
print(json.dumps(sorted(sys.modules)))
"""


def _modules_loaded_by(function: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", LOADED_PROBE, str(ROOT / "functions" / function), str(ROOT / "layers" / "shared")],
        cwd=ROOT / "functions" / function,
        env={**os.environ, "POWERTOOLS_TRACE_DISABLED": "true", "JWT_SECRET": "x" * 40},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


# Module names, not packages: Powertools imports the `botocore` package alone (cheap) for its user agent, and the
# dev virtualenv's extra packages pull in others (bcrypt via cryptography) that the built layer does not have.
@pytest.mark.parametrize(
    ("function", "needs", "never"),
    [
        # Serves a file: no storage, no Redis, no tokens.
        ("openapi", {"pydantic"}, {"redis", "pybreaker", "botocore.client", "pynamodb", "jwt"}),
        # Trusts the authorizer's context and checks revocation in Redis: never decodes a JWT itself.
        ("get_task", {"redis", "pynamodb", "botocore.client"}, {"jwt", "kafka", "pika", "boto3"}),
        # Produces to Kafka on every request (so loads kafka-python up front) and checks Redis: no DynamoDB.
        ("ingest_tasks", {"redis", "kafka"}, {"pynamodb", "botocore.client", "jwt", "pika", "boto3"}),
        # Verifies the JWT and checks Redis: no storage.
        ("authorizer", {"jwt", "redis"}, {"pynamodb", "botocore.client", "kafka", "pika", "boto3"}),
    ],
)
def test_a_handler_loads_only_what_its_requests_use(function: str, needs: set[str], never: set[str]) -> None:
    loaded = _modules_loaded_by(function)

    assert needs <= loaded, f"{function}: the probe did not see {needs - loaded}: is it still measuring anything?"
    assert not (loaded & never), f"{function} imports {sorted(loaded & never)} although no request of it uses them"


def test_every_model_of_a_thread_shares_one_botocore_session(aws: None) -> None:
    """One session loads botocore's endpoint data and the DynamoDB model once, however many models a request uses."""
    import threading

    from taskapp.data.sessions import SessionItem
    from taskapp.data.tasks import TaskModel
    from taskapp.data.users import UserModel

    sessions = {id(model._get_connection().connection.session) for model in (TaskModel, UserModel, SessionItem)}
    other_thread: list[object] = []
    worker = threading.Thread(target=lambda: other_thread.append(TaskModel._get_connection().connection.session))
    worker.start()
    worker.join()

    assert len(sessions) == 1, "each model built its own botocore session"
    assert id(other_thread[0]) not in sessions, "a botocore session is not thread-safe: threads must not share one"
