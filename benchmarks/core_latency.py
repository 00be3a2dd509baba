"""Latency of GET /tasks/{id} through the deployed local API (warm), and the time of infra/deploy.sh.

Usage (after `make run`, or against any deployed stack):
    .venv/bin/python -m benchmarks.core_latency [--base-url URL] [--requests 200] [--deploy-runs 1]

GET /health is measured in the same run as a reference (no authorizer, no DynamoDB read by key), so the ratio
between the two means something even on a busy machine; the load average is written down beside the figures.
Writes benchmarks/core-latency.md (and prints it).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from benchmarks.harness import (
    ROOT,
    api_base_url,
    create_task_body,
    load_average,
    markdown_table,
    sign_up,
    summarize,
    time_calls,
    write_report,
)

REPORT = ROOT / "benchmarks" / "core-latency"
TIMEOUT_SECONDS = 60
STATS = ("p50", "p95", "p99", "mean", "min", "max")


def timed_gets(session: requests.Session, url: str, headers: dict[str, str], count: int) -> list[float]:
    """Sequential requests; each must answer 200 or the run is void."""

    def get() -> None:
        response = session.get(url, headers=headers, timeout=TIMEOUT_SECONDS)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}: {response.text[:300]}")

    return time_calls(get, count)


def signed_in_task(session: requests.Session, base_url: str) -> tuple[dict[str, str], str]:
    def post(path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = session.post(f"{base_url}{path}", json=body, headers=headers, timeout=TIMEOUT_SECONDS)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    headers = sign_up(post).headers
    return headers, str(post("/tasks", create_task_body(), headers)["id"])


def time_deploys(runs: int) -> list[float]:
    """infra/deploy.sh on the existing stack named by STACK_NAME (unchanged: build cache, empty change set)."""
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(  # noqa: S603 - our own script, fixed arguments
            [str(ROOT / "infra" / "deploy.sh")], cwd=ROOT, capture_output=True, text=True, check=False, timeout=900
        )
        if result.returncode != 0:
            raise SystemExit(f"infra/deploy.sh failed:\n{result.stderr[-3000:]}")
        durations.append(time.perf_counter() - started)
    return durations


def git_commit() -> str:
    command = ["git", "rev-parse", "--short", "HEAD"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    return result.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=api_base_url())
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--deploy-runs", type=int, default=1, help="0 skips timing infra/deploy.sh")
    parser.add_argument("--output", type=Path, default=REPORT, help="report path without .md")
    args = parser.parse_args()
    if not args.base_url:
        raise SystemExit("no API URL: pass --base-url, set API_BASE_URL or run `make run` first")
    base_url = args.base_url.rstrip("/")

    session = requests.Session()
    headers, task_id = signed_in_task(session, base_url)
    task_url, health_url = f"{base_url}/tasks/{task_id}", f"{base_url}/health"
    load_before = load_average()
    timed_gets(session, task_url, headers, args.warmup)  # cold start and authorizer cache out of the way
    timed_gets(session, health_url, {}, args.warmup)
    # Interleave in blocks so both endpoints see the same machine conditions.
    task_samples: list[float] = []
    health_samples: list[float] = []
    block = 20
    for done in range(0, args.requests, block):
        size = min(block, args.requests - done)
        task_samples += timed_gets(session, task_url, headers, size)
        health_samples += timed_gets(session, health_url, {}, size)
    load_after = load_average()
    deploys = time_deploys(args.deploy_runs) if args.deploy_runs else []

    task, health = summarize(task_samples), summarize(health_samples)
    table = markdown_table(
        ["endpoint", *(f"{stat} ms" for stat in STATS)],
        [
            ["GET /tasks/{id} (authorizer cached, DynamoDB GetItem, Redis jti check)", *(task[s] for s in STATS)],
            ["GET /health (no authorizer; DynamoDB DescribeTable + Redis PING)", *(health[s] for s in STATS)],
        ],
    )
    lines = [
        "# Core slice latency on the local stack",
        "",
        f"Produced by `benchmarks/core_latency.py` on {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, "
        f"commit `{git_commit()}`, {os.cpu_count()} CPUs, MiniStack at `{base_url.split('/_aws')[0]}`.",
        f"Load average before/after the HTTP runs: {load_before:.2f} / {load_after:.2f} "
        "(the machine and MiniStack are shared; figures move with the load).",
        "",
        f"## Warm, sequential requests ({args.requests} each after {args.warmup} warm-up, interleaved in blocks "
        f"of {block})",
        "",
        table,
        "",
        f"Ratio GET /tasks/{{id}} to GET /health, same run: p50 {task['p50'] / health['p50']:.2f}x, "
        f"p95 {task['p95'] / health['p95']:.2f}x.",
        "",
    ]
    if deploys:
        lines += [
            "## `infra/deploy.sh` on an existing stack, nothing changed",
            "",
            f"Stack `{os.environ.get('STACK_NAME', 'taskapp')}`: "
            + ", ".join(f"{seconds:.1f} s" for seconds in deploys)
            + " (sam build --cached, sam deploy with an empty change set, wait for /health).",
            "",
        ]
    text = "\n".join(lines)
    write_report(args.output, markdown=text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
