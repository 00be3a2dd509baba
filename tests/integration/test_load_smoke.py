"""`make load` end to end, small: locust drives the in-process API and the result file says what happened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import redis

from infra.local_api.server import load_run_env_file, read_env_file

ROOT = Path(__file__).resolve().parents[2]


def test_load_test_registers_its_own_user_and_records_both_endpoints(tmp_path: Path) -> None:
    # Its users register on the load run's own Redis database, not in the window a developer's stack counts in.
    load_run_redis_url = read_env_file(load_run_env_file(tmp_path))["Parameters"]["REDIS_URL"]
    started_ms = int(time.time() * 1000)
    # make test exports API_BASE_URL for the e2e suite; this test drives the in-process API that `make load` starts.
    environment = {name: value for name, value in os.environ.items() if name != "API_BASE_URL"}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run_load",
            "--users",
            "2",
            # Long enough for each user's first GET to complete after the in-process API imports its handlers
            # cold: with 4 s, a loaded 2-core machine recorded POST /tasks but no GET before the run ended.
            "--duration",
            "10s",
            "--output-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    result = json.loads((tmp_path / "load-latest.json").read_text())
    assert {"POST /tasks", "GET /tasks/{id}"} <= set(result["endpoints"])
    assert result["measured_pair"]["requests"] > 0
    assert result["measured_pair"]["errors"] == 0, result["failures"]
    assert "p95_ms" in result["endpoints"]["GET /tasks/{id}"]
    with redis.Redis.from_url(load_run_redis_url) as load_run_redis:
        registrations = load_run_redis.zcount("ratelimit:register:127.0.0.1", started_ms, "+inf")
    assert registrations >= 2, f"the load run's 2 users registered on {load_run_redis_url}"
