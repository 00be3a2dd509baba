"""Warm and cold request latency of `make local-api` (in-process) beside the deployed API on the local stack.

Starts the dev server as a subprocess on a free port, registers a throwaway user, creates a task, then times
GET /tasks/{id} (authorizer + Redis revocation check + DynamoDB GetItem) over one keep-alive connection.
If a deployed stack's URL is given (--deployed-url, API_BASE_URL or .local/api-url), the same requests are
timed against it in the same run, so the ratio compares like with like. Writes benchmarks/local-api-latency.json.

    .venv/bin/python -m benchmarks.local_api_latency [--requests 300] [--deployed-url URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from benchmarks import harness
from benchmarks.harness import ROOT, summarize


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
        millis = harness.elapsed_ms(started)
        return response.status, json.loads(raw) if raw else None, millis

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        status, answer, _ = self.call("POST", path, body)
        if status >= 300:
            raise SystemExit(f"POST {path} answered {status}: {answer}")
        return dict(answer)


def summary(samples: list[float]) -> dict[str, float]:
    return summarize(samples, digits=2, suffix="_ms")


def measure(base_url: str, requests: int) -> dict[str, Any]:
    api = Api(base_url)
    user = harness.sign_up(api.post)
    token = user.access_token
    status, task, first_create = api.call("POST", "/tasks", harness.create_task_body("bench"), token)
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
        "key": {"ownerId": user.user_id, "taskId": task["id"]},
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
    item_key = {name: {"S": value} for name, value in key.items()}

    def floor() -> None:
        cache.exists("bench:revoked:none")
        cache.exists("bench:revoked:none")
        dynamodb.get_item(TableName=table, Key=item_key, ConsistentRead=True)

    return summary(harness.time_calls(floor, requests))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--deployed-url", default=harness.api_base_url())
    args = parser.parse_args()
    deployed = args.deployed_url

    started = time.perf_counter()
    server, local_url = harness.start_local_api(stderr=subprocess.PIPE)
    try:
        startup = harness.elapsed_ms(started)
        local = measure(local_url, args.requests)
        floor = io_floor(args.requests, local.pop("key"))
    finally:
        server.terminate()
        server.wait(10)
    result: dict[str, Any] = {
        "measured_at": harness.utc_now(),
        "machine": harness.machine(),
        "requests_per_series": args.requests,
        "local_api": {"startup_ms": round(startup, 1), **local},
        "io_floor_2_redis_1_getitem": floor,
        "local_api_overhead_p50_ms": round(local["warm_get_task"]["p50_ms"] - floor["p50_ms"], 2),
        "load_average_1m": harness.load_average(),
    }
    if deployed:
        remote = measure(deployed, args.requests)
        remote.pop("key")
        result["deployed_api"] = {"base_url": deployed, **remote}
        result["ratio_deployed_over_local_p50_get_task"] = round(
            result["deployed_api"]["warm_get_task"]["p50_ms"] / local["warm_get_task"]["p50_ms"], 1
        )
    harness.write_report("local-api-latency", data=result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
