"""Benchmark of webhook delivery on the local stack; writes benchmarks/webhook-delivery.{json,md}.

1. event -> receiver latency: `--events` (200) tasks created with POST /tasks, one at a time, each timed from
   the request to its signed task.created delivery arriving at a receiver on 127.0.0.1 (stream -> fan-out
   function -> SQS -> delivery function -> HTTP). p50/p95 on the machine's wall clock.
2. throughput: `--deliveries` (5,000) tasks ingested in batches of 500 (POST /tasks/ingest -> Kafka -> ingestion
   -> tasks table), one subscription, one fast receiver: deliveries/s from the first to the last arrival, beside
   the Kafka ingestion rate of the same run (tasks stored/s, counted in the tasks table). `--deliveries 0` skips.

Needs the deployed stack (STACK_NAME, API_BASE_URL or .local/api-url) with WebhookAllowLoopbackHttp=true
(infra/deploy.sh sets it), a per-user rate limit above the run's request rate (checked first; deploy with
RATE_LIMIT_USER_PER_MINUTE=100000 as infra/test-all.sh does) and, for part 2, Kafka and the bridge running.
MiniStack's endpoint and test credentials are the defaults. Heavy: run it on an otherwise idle machine.
    STACK_NAME=taskapp API_BASE_URL=... .venv/bin/python -m benchmarks.webhook_delivery --events 200 --deliveries 5000
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import requests

from benchmarks import harness, stack_checks
from benchmarks.harness import markdown_table


class ArrivalLog:
    """When each task's delivery arrived (wall clock), keyed by task id; a receiver answering 204 at once."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bench"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        import json

        log = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.time()
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                with log.lock:
                    log.arrivals.setdefault(str(body["data"]["taskId"]), arrived)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        return Handler

    def arrived(self, task_id: str, timeout: float) -> float:
        """When that task's delivery arrived (wall clock), waiting for it up to `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while task_id not in self.arrivals:
            if time.monotonic() > deadline:
                raise SystemExit(f"no delivery for task {task_id} in {timeout:.0f} s; is the fan-out deployed?")
            time.sleep(0.002)
        return self.arrivals[task_id]

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {len(self.arrivals)} of {count} deliveries arrived in {timeout:.0f} s")
            time.sleep(0.05)


def _post(api: str, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = requests.post(f"{api}{path}", json=body, headers=headers, timeout=60)
    if response.status_code >= 400:
        raise SystemExit(f"POST {path} answered {response.status_code}: {response.text[:300]}")
    answer: dict[str, Any] = response.json()
    return answer


def _subscribe(api: str, headers: dict[str, str], url: str) -> None:
    _post(api, "/webhooks", {"url": url, "events": ["task.created"], "description": "benchmark"}, headers)


def latency(api: str, events: int) -> dict[str, Any]:
    user = harness.sign_up(lambda path, body: _post(api, path, body))
    receiver = ArrivalLog()
    _subscribe(api, user.headers, receiver.url)
    samples, round_trips = [], []
    for number in range(events):  # one at a time: each event's delivery arrives before the next task is created
        started = time.time()
        task = _post(api, "/tasks", harness.create_task_body(f"webhook latency {number}"), user.headers)
        round_trips.append((time.time() - started) * 1000)
        samples.append((receiver.arrived(str(task["id"]), timeout=60) - started) * 1000)
    return {**harness.summarize(samples, suffix="_ms"), "post_tasks": harness.summarize(round_trips, suffix="_ms")}


def _stored_count(dynamodb: Any, table: str, owner_id: str) -> int:
    """Every page: one Query reads at most 1 MB, far fewer than 5,000 tasks, so a single page under-counts."""
    count, start = 0, None
    while True:
        page = dynamodb.query(
            TableName=table,
            KeyConditionExpression="ownerId = :o",
            ExpressionAttributeValues={":o": {"S": owner_id}},
            Select="COUNT",
            **({"ExclusiveStartKey": start} if start else {}),
        )
        count += int(page["Count"])
        start = page.get("LastEvaluatedKey")
        if not start:
            return count


def throughput(api: str, deliveries: int) -> dict[str, Any]:
    user = harness.sign_up(lambda path, body: _post(api, path, body))
    receiver = ArrivalLog()
    _subscribe(api, user.headers, receiver.url)
    from infra.stack import Stack

    tasks_table = Stack(os.environ.get("STACK_NAME") or "taskapp").output("TasksTableName")
    dynamodb = boto3.client("dynamodb")
    started = time.time()
    for first in range(0, deliveries, 500):
        titles = [f"webhook throughput {n}" for n in range(first, min(deliveries, first + 500))]
        _post(api, "/tasks/ingest", harness.ingest_body(*titles), user.headers)  # 202 once Kafka has them all
    stored_at = None
    while stored_at is None or len(receiver.arrivals) < deliveries:
        if stored_at is None and _stored_count(dynamodb, tasks_table, user.user_id) >= deliveries:
            stored_at = time.time()
        if time.time() - started > 600:
            raise SystemExit(f"{len(receiver.arrivals)} of {deliveries} deliveries after 600 s")
        time.sleep(0.5)
    arrivals = sorted(receiver.arrivals.values())
    span = max(arrivals[-1] - arrivals[0], 1e-3)
    return {
        "deliveries": deliveries,
        "deliveries_per_s": round(deliveries / span, 1),
        "ingested_per_s": round(deliveries / (stored_at - started), 1),
        "first_delivery_after_s": round(arrivals[0] - started, 2),
        "last_delivery_after_s": round(arrivals[-1] - started, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--deliveries", type=int, default=5000)
    args = parser.parse_args(argv)
    api = harness.api_base_url()
    if not api:
        raise SystemExit("no deployed API: set API_BASE_URL or run infra/deploy.sh")
    stack_checks.local_stack_environment()
    stack_checks.require_parameters({"RateLimitUserPerMinute": 100_000, "RateLimitRegistrationsPerIp": 10})
    results: dict[str, Any] = {"date": harness.utc_now(), "machine": harness.machine(), "load": harness.load_average()}
    results["latency"] = latency(api, args.events)
    if args.deliveries:
        results["throughput"] = throughput(api, args.deliveries)
    post = results["latency"]["post_tasks"]
    rows = [
        ["POST /tasks round trip", post["n"], post["p50_ms"], post["p95_ms"]],
        ["event -> receiver", results["latency"]["n"], results["latency"]["p50_ms"], results["latency"]["p95_ms"]],
    ]
    header = f"# Webhook delivery ({results['date']}, {results['machine']}, load {results['load']})\n\n"
    markdown = header + markdown_table(["measure", "n", "p50 ms", "p95 ms"], rows, "lrrr")
    if "throughput" in results:
        t = results["throughput"]
        markdown += "\n\n" + markdown_table(
            ["deliveries", "deliveries/s", "Kafka ingestion tasks/s"],
            [[t["deliveries"], t["deliveries_per_s"], t["ingested_per_s"]]],
            "rrr",
        )
    harness.write_report("webhook-delivery", data=results, markdown=markdown)
    print(markdown)


if __name__ == "__main__":
    main()
