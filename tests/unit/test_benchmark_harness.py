"""benchmarks/harness.py: one nearest-rank percentile, report files, and fixtures the real code accepts.

The fixtures are what the benchmarks send and store; each is checked here against the code that will read it
(the API's handlers, its models, the authorizer), so a contract change fails here instead of a benchmark quietly
measuring a request the API now refuses.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bcrypt
import boto3
import fakeredis
import pytest

from benchmarks import harness
from tests.support.api_client import ApiClient
from tests.unit.conftest import PASSWORD


def test_percentile_is_nearest_rank_an_observed_value_without_interpolation() -> None:
    samples = [float(value) for value in range(20, 0, -1)]  # 1..20, unsorted
    assert harness.percentile(samples, 0.95) == 19.0  # 0.95 * 20 is 19.000000000000004 in floating point
    assert harness.percentile(samples, 0.50) == 10.0
    assert harness.percentile(samples, 0.99) == 20.0
    assert harness.percentile(samples, 1.0) == 20.0
    assert harness.percentile(samples, 0.0) == 1.0
    assert harness.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0  # not the interpolated 2.5
    assert harness.percentile([7.5], 0.99) == 7.5
    with pytest.raises(ValueError, match="no samples"):
        harness.percentile([], 0.5)


def test_summarize_names_its_unit_and_rounds() -> None:
    summary = harness.summarize([1.23456, 2.0, 3.0, 4.0], digits=2, suffix="_ms")
    assert summary == {
        "n": 4,
        "p50_ms": 2.0,
        "p95_ms": 4.0,
        "p99_ms": 4.0,
        "mean_ms": 2.56,
        "min_ms": 1.23,
        "max_ms": 4.0,
    }


def test_time_calls_runs_the_warm_up_untimed() -> None:
    calls: list[int] = []
    samples = harness.time_calls(lambda: calls.append(1), 3, warmup=2)
    assert len(calls) == 5 and len(samples) == 3 and all(sample >= 0 for sample in samples)


def test_reports_are_a_markdown_table_and_json_beside_it(tmp_path: Path) -> None:
    table = harness.markdown_table(["step", "p50 ms"], [["get", 1.5], ["put", 2]], align="lr")
    assert table == "| step | p50 ms |\n|---|---:|\n| get | 1.5 |\n| put | 2 |"
    harness.write_report(tmp_path / "nested" / "result", data={"p50_ms": 1.5}, markdown=table)
    assert json.loads((tmp_path / "nested" / "result.json").read_text()) == {"p50_ms": 1.5}
    assert (tmp_path / "nested" / "result.md").read_text() == table + "\n"


def test_request_bodies_are_what_the_api_accepts(client: ApiClient) -> None:
    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = client.post(path, json_body=body)
        assert answer.status_code in (200, 201), answer.body
        result: dict[str, Any] = answer.json()
        return result

    signed_up = harness.sign_up(post)
    token = signed_up.access_token
    created = client.post("/tasks", json_body=harness.create_task_body("bench", tags=["load"]), token=token)
    assert created.status_code == 201, created.body
    assert created.json()["tags"] == ["load"]
    task_id = created.json()["id"]
    updated = client.patch(f"/tasks/{task_id}", json_body=harness.update_task_body(1, title="renamed"), token=token)
    assert updated.status_code == 200, updated.body
    assert updated.json()["title"] == "renamed"
    assert signed_up.headers == {"Authorization": f"Bearer {token}"}


def test_ingest_and_event_fixtures_parse_as_the_consumers_models() -> None:
    from taskapp.schemas.events import TaskEvent
    from taskapp.schemas.ingest import IngestedTaskMessage, IngestTasksRequest

    assert IngestTasksRequest.model_validate(harness.ingest_body("a", "b")).tasks[1].title == "b"
    now = datetime.now(UTC)
    message = IngestedTaskMessage.model_validate_json(harness.ingested_record_value("t-1", "owner", "title", now))
    assert (message.id, message.owner_id, message.task.title, message.created_at) == ("t-1", "owner", "title", now)
    event_id, body = harness.task_created_event("owner", "t-1", "title", now)
    event = TaskEvent.model_validate_json(body)
    assert (event.event_id, event.type.value, event.version) == (event_id, "task.created", 1)


def test_a_stored_task_item_is_read_back_by_the_api(client: ApiClient, caller: Any) -> None:
    from taskapp.settings import tasks_table_settings

    task_id = str(uuid.uuid4())
    item = harness.task_item(caller.user_id, task_id)
    boto3.client("dynamodb").put_item(TableName=tasks_table_settings().tasks_table, Item=item)
    answer = client.get(f"/tasks/{task_id}", token=caller.access_token)
    assert answer.status_code == 200, answer.body
    assert (answer.json()["title"], answer.json()["tags"]) == ("benchmark task", ["bench", "perf"])


def test_a_stored_user_item_can_log_in(client: ApiClient) -> None:
    from taskapp.settings import users_table_settings

    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    password_hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    item = harness.user_item(email, str(uuid.uuid4()), password_hash)
    boto3.client("dynamodb").put_item(TableName=users_table_settings().users_table, Item=item)
    answer = client.post("/auth/login", json_body=harness.wire(_login(email)))
    assert answer.status_code == 200, answer.body


def _login(email: str) -> Any:
    from taskapp.schemas.accounts import LoginRequest

    return LoginRequest(email=email, password=PASSWORD)


def test_caller_context_is_the_one_the_authorizer_writes(fake_redis: fakeredis.FakeRedis) -> None:
    from taskapp.auth.authorizer import authorize
    from taskapp.auth.tokens import issue_access_token

    issued = issue_access_token(str(uuid.uuid4()), str(uuid.uuid4()))
    decision = authorize(f"Bearer {issued.token}", "arn:aws:execute-api:us-east-1:000000000000:api/local/GET/tasks")
    assert harness.caller_context(issued) == {"principalId": decision["principalId"], **decision["context"]}


def test_revoked_family_item_is_a_session_family() -> None:
    from taskapp.data.sessions import SessionItem

    family = SessionItem.from_raw_data(harness.revoked_family_item("user-1", "session-1"))
    assert (family.user_id, family.session_id, family.revoked) == ("user-1", "session-1", True)


def test_process_tree_cpu_counts_a_grandchild_once() -> None:
    """A grandchild's busy loop shows in its grandparent's tree, counted once (not again as a reaped child's)."""
    burn = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass\ntime.sleep(30)"
    spawn = f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', {burn!r}])\ntime.sleep(30)"
    parent = subprocess.Popen([sys.executable, "-c", spawn])
    try:
        deadline = time.monotonic() + 20
        while harness.process_tree_cpu_seconds([parent.pid]) < 0.5 and time.monotonic() < deadline:
            time.sleep(0.1)
        # The grandchild's 0.5 s and two interpreters' start-up: counted twice it would pass 1 s.
        assert 0.5 <= harness.process_tree_cpu_seconds([parent.pid]) < 1.0
        assert harness.process_tree_cpu_seconds([]) == 0.0
    finally:
        for child in _children(parent.pid):
            os.kill(child, signal.SIGKILL)
        parent.kill()
        parent.wait()


def _children(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    return [int(child) for child in Path(path).read_text().split()] if os.path.exists(path) else []
