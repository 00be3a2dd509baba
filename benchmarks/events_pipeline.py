"""Benchmark of the event pipeline on the local stack; writes benchmarks/events-pipeline.{json,md}.

1. create-task -> activity-visible latency: POST /tasks, then poll GET /activity until its task.created entry
   shows up (stream -> outbox publisher -> RabbitMQ -> bridge -> notification function -> DynamoDB).
   The API's own POST /tasks round trip is measured in the same run, as a baseline for the ratio.
2. ingestion throughput: N tasks produced straight to Kafka task.ingested, timed until all N are stored in the
   tasks table (Kafka -> bridge -> TaskIngestionFunction -> BatchWriteItem).

Needs the deployed stack (STACK_NAME, API_BASE_URL or .local/api-url) with its bridge running and Kafka up.
    STACK_NAME=taskapp .venv/bin/python benchmarks/events_pipeline.py --tasks 10000 --latency-samples 30
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import requests
from kafka import KafkaProducer

ROOT = Path(__file__).resolve().parents[1]


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def _user(api: str) -> dict[str, str]:
    email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
    requests.post(f"{api}/auth/register", json={"name": "Bench", "email": email, "password": "s3cret-pass"}, timeout=30)
    login = requests.post(f"{api}/auth/login", json={"email": email, "password": "s3cret-pass"}, timeout=30)
    login.raise_for_status()
    return {"Authorization": f"Bearer {login.json()['accessToken']}"}


def measure_latency(api: str, samples: int, timeout: float) -> dict[str, Any]:
    headers = _user(api)
    latencies, api_round_trips = [], []
    for n in range(samples):
        started = time.perf_counter()
        created = requests.post(f"{api}/tasks", json={"title": f"latency probe {n}"}, headers=headers, timeout=30)
        api_round_trips.append(time.perf_counter() - started)
        created.raise_for_status()
        task_id = created.json()["id"]
        deadline = started + timeout
        while True:
            feed = requests.get(f"{api}/activity", params={"limit": 5}, headers=headers, timeout=30).json()
            if any(item["taskId"] == task_id for item in feed["items"]):
                latencies.append(time.perf_counter() - started)
                break
            if time.perf_counter() > deadline:
                raise SystemExit(f"task {task_id} not in the activity feed after {timeout}s")
            time.sleep(0.05)
    return {
        "samples": samples,
        "activity_visible_ms": {
            "p50": round(_percentile(latencies, 50) * 1000, 1),
            "p95": round(_percentile(latencies, 95) * 1000, 1),
            "mean": round(statistics.fmean(latencies) * 1000, 1),
            "max": round(max(latencies) * 1000, 1),
        },
        "post_tasks_round_trip_ms": {
            "p50": round(_percentile(api_round_trips, 50) * 1000, 1),
            "p95": round(_percentile(api_round_trips, 95) * 1000, 1),
        },
        "ratio_p50_activity_to_post": round(_percentile(latencies, 50) / _percentile(api_round_trips, 50), 1),
    }


def _stored(table: Any, owner: str) -> int:
    total, kwargs = 0, dict[str, Any]()
    while True:
        page = table.query(
            KeyConditionExpression="ownerId = :o", ExpressionAttributeValues={":o": owner}, Select="COUNT", **kwargs
        )
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def measure_ingestion(stack: str, count: int, timeout: float) -> dict[str, Any]:
    outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    table_name = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "TasksTableName")
    table = boto3.resource("dynamodb").Table(table_name)
    owner = f"bench-ingest-{uuid.uuid4().hex[:10]}"
    producer = KafkaProducer(
        bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092").split(","), acks="all"
    )
    now = datetime.now(UTC).isoformat()
    started = time.perf_counter()
    for n in range(count):
        task_id = f"{owner}-{n:05d}"
        value = {"schemaVersion": 1, "id": task_id, "ownerId": owner, "createdAt": now, "task": {"title": f"t{n}"}}
        producer.send("task.ingested", key=task_id.encode(), value=json.dumps(value).encode())
    producer.flush()
    produced = time.perf_counter() - started
    producer.close()
    stored = 0
    while stored < count:
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"only {stored}/{count} tasks stored after {timeout}s")
        time.sleep(0.5)
        stored = _stored(table, owner)
    elapsed = time.perf_counter() - started
    return {
        "tasks": count,
        "produce_seconds": round(produced, 2),
        "produce_rate_per_s": round(count / produced, 1),
        "end_to_end_seconds": round(elapsed, 2),
        "tasks_per_second": round(count / elapsed, 1),
        "ratio_produce_to_store_rate": round((count / produced) / (count / elapsed), 1),
    }


def _markdown(result: dict[str, Any], stack: str) -> str:
    lat, ing = result["latency"], result["ingestion"]
    activity, post = lat["activity_visible_ms"], lat["post_tasks_round_trip_ms"]
    rows = [
        (
            f"ingestion: {ing['tasks']:,} tasks Kafka -> bridge -> function -> DynamoDB",
            f"**{ing['tasks_per_second']} tasks/s** ({ing['end_to_end_seconds']} s)",
        ),
        (
            "producing them to Kafka alone",
            f"{ing['produce_rate_per_s']} records/s ({ing['produce_seconds']} s; "
            f"{ing['ratio_produce_to_store_rate']}x the store rate)",
        ),
        (
            f"create task -> visible in GET /activity, p50 / p95 ({lat['samples']} samples)",
            f"**{activity['p50']} ms / {activity['p95']} ms**",
        ),
        ("POST /tasks round trip in the same run, p50 / p95", f"{post['p50']} ms / {post['p95']} ms"),
        ("activity latency / POST round trip (p50)", f"{lat['ratio_p50_activity_to_post']}x"),
    ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    return (
        f"# Event pipeline benchmark ({result['measuredAt']})\n\n"
        f"Local stack: MiniStack + Tansu (Kafka) + RabbitMQ + the event-source bridge, "
        f"{result['machine']['cpus']} CPUs, stack `{stack}`, other sessions sharing the machine "
        f"(load average 1 min: {result['loadAverage1m']['before']} before, {result['loadAverage1m']['after']} after).\n"
        "Produced by `benchmarks/events_pipeline.py`; absolute numbers hold for this machine only.\n\n"
        "| measure | value |\n|---|---|\n" + table + "\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--latency-samples", type=int, default=30)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "events-pipeline")
    args = parser.parse_args()
    stack = os.environ.get("STACK_NAME", "taskapp")
    api_file = ROOT / ".local" / "api-url"
    api = (os.environ.get("API_BASE_URL") or (api_file.read_text().strip() if api_file.exists() else "")).rstrip("/")
    if not api:
        raise SystemExit("set API_BASE_URL (or deploy so .local/api-url exists)")
    load_before = os.getloadavg()[0]
    result = {
        "measuredAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "stack": stack,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "latency": measure_latency(api, args.latency_samples, 120),
        "ingestion": measure_ingestion(stack, args.tasks, args.timeout),
    }
    result["loadAverage1m"] = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(_markdown(result, stack))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
