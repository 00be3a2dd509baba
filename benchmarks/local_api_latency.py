"""Warm and cold request latency of `make local-api` (in-process) beside the deployed API on the local stack.

Starts the dev server as a subprocess on a free port, registers a throwaway user, creates a task, then times
GET /tasks/{id} (authorizer + Redis revocation check + DynamoDB GetItem) over one keep-alive connection.
If a deployed stack's URL is given (--deployed-url, API_BASE_URL or .local/api-url), the same requests are
timed against it in the same run, so the ratio compares like with like. Writes benchmarks/local-api-latency.json.

    .venv/bin/python benchmarks/local_api_latency.py [--requests 300] [--deployed-url URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "local-api-latency.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Api:
    """One keep-alive connection to a base URL."""

    def __init__(self, base_url: str) -> None:
        url = urlsplit(base_url)
        self.prefix = url.path.rstrip("/")
        self.connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=30)

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any, float]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        started = time.perf_counter()
        self.connection.request(
            method, self.prefix + path, body=json.dumps(body) if body is not None else None, headers=headers
        )
        response = self.connection.getresponse()
        raw = response.read()
        millis = (time.perf_counter() - started) * 1000
        return response.status, json.loads(raw) if raw else None, millis


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {
        "count": len(ordered),
        "mean_ms": round(statistics.fmean(ordered), 2),
        "p50_ms": round(pick(0.50), 2),
        "p95_ms": round(pick(0.95), 2),
        "p99_ms": round(pick(0.99), 2),
        "min_ms": round(ordered[0], 2),
    }


def measure(base_url: str, requests: int) -> dict[str, Any]:
    api = Api(base_url)
    email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
    status, user, _ = api.call(
        "POST", "/auth/register", {"name": "Bench", "email": email, "password": "bench-password"}
    )
    assert status == 201, status
    status, tokens, _ = api.call("POST", "/auth/login", {"email": email, "password": "bench-password"})
    assert status == 200, status
    token = tokens["accessToken"]
    status, task, first_create = api.call("POST", "/tasks", {"title": "bench"}, token)
    assert status == 201, status
    status, _, first_get = api.call("GET", f"/tasks/{task['id']}", token=token)
    assert status == 200, status
    for _ in range(20):  # warm-up: every function and connection pool touched
        api.call("GET", f"/tasks/{task['id']}", token=token)
        api.call("GET", "/health")
    gets, healths = [], []
    for _ in range(requests):
        status, _, millis = api.call("GET", f"/tasks/{task['id']}", token=token)
        assert status == 200, status
        gets.append(millis)
        status, _, millis = api.call("GET", "/health")
        healths.append(millis)
    return {
        "key": {"ownerId": user["id"], "taskId": task["id"]},
        "first_post_tasks_ms": round(first_create, 2),
        "first_get_task_ms": round(first_get, 2),
        "warm_get_task": summary(gets),
        "warm_get_health": summary(healths),
    }


def io_floor(requests: int, key: dict[str, str]) -> dict[str, Any]:
    """What a warm GET /tasks/{id} cannot go below on this machine right now: the authorizer's and the guard's
    Redis lookups plus one DynamoDB GetItem on the local stack, timed directly (no HTTP, no Lambda code)."""
    import boto3
    import redis

    env = json.loads((ROOT / "env.local.json").read_text())["Parameters"]
    table = env["TASKS_TABLE"]
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=env["DYNAMODB_ENDPOINT"],
        region_name="us-east-1",
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
    )
    cache = redis.Redis.from_url(env["REDIS_URL"])
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        cache.exists("bench:revoked:none")
        cache.exists("bench:revoked:none")
        dynamodb.get_item(TableName=table, Key={k: {"S": v} for k, v in key.items()}, ConsistentRead=True)
        samples.append((time.perf_counter() - started) * 1000)
    return summary(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--deployed-url", default=os.environ.get("API_BASE_URL"))
    args = parser.parse_args()
    deployed = args.deployed_url
    if not deployed and (ROOT / ".local" / "api-url").exists():
        deployed = (ROOT / ".local" / "api-url").read_text().strip()

    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "infra.local_api", "--port", str(port), "--no-reload", "--quiet"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(  # noqa: B904 - the OSError is only the polling signal
                        f"local API did not start: {server.stderr.read().decode() if server.stderr else ''}"
                    )
                time.sleep(0.05)
        startup = (time.perf_counter() - started) * 1000
        local = measure(f"http://127.0.0.1:{port}", args.requests)
        floor = io_floor(args.requests, local.pop("key"))
    finally:
        server.terminate()
        server.wait(10)
    result: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "requests_per_series": args.requests,
        "local_api": {"startup_ms": round(startup, 1), **local},
        "io_floor_2_redis_1_getitem": floor,
        "local_api_overhead_p50_ms": round(local["warm_get_task"]["p50_ms"] - floor["p50_ms"], 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    if deployed:
        remote = measure(deployed, args.requests)
        remote.pop("key")
        result["deployed_api"] = {"base_url": deployed, **remote}
        result["ratio_deployed_over_local_p50_get_task"] = round(
            result["deployed_api"]["warm_get_task"]["p50_ms"] / local["warm_get_task"]["p50_ms"], 1
        )
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
