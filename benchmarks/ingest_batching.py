"""Batched versus one-item-per-write ingestion into DynamoDB on the local stack, measured in one run.

    .venv/bin/python -m benchmarks.ingest_batching [--tasks 2000] [--endpoint http://127.0.0.1:4566]

Both paths take the same parsed `task.ingested` records. The batched path is the ingestion function's own
`ingest_batch` (one BatchGetItem to skip stored ids, then BatchWriteItem in chunks of 25), fed batches of 100 as
the template's BatchSize delivers them; the one-item path writes each task with its own conditional PutItem, as a
naive consumer would. Each path writes into a fresh copy of the tasks table. Results: benchmarks/ingest-batching.md
and .json. Kafka and the bridge are left out on purpose: they are the same for both paths.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported for real after the environment is set: taskapp reads it at import time
    from taskapp.domain.ingestion import InboundRecord

ROOT = Path(__file__).resolve().parents[1]
BATCH_SIZE = 100


def _records(count: int, owner_id: str) -> list[InboundRecord]:
    from taskapp.domain.ingestion import InboundRecord

    records: list[InboundRecord] = []
    for offset in range(count):
        task_id = str(uuid.uuid4())
        value = {"schemaVersion": 1, "id": task_id, "ownerId": owner_id, "task": {"title": f"bench task {offset}"}}
        records.append(InboundRecord("task.ingested", offset % 3, offset, task_id.encode(), json.dumps(value).encode()))
    return records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"))
    args = parser.parse_args()
    os.environ.update({"DYNAMODB_ENDPOINT": args.endpoint, "TASKS_TABLE": f"bench-tasks-{uuid.uuid4().hex[:8]}"})
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "TaskAppBench")

    from taskapp.data import tasks as store
    from taskapp.domain.ingestion import ingest_batch, parse_record

    timings: dict[str, float] = {}
    for path in ("batched", "one_item"):
        store.TaskModel.Meta.table_name = f"bench-tasks-{path}-{uuid.uuid4().hex[:8]}"
        store.TaskModel.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        records = _records(args.tasks, owner_id=f"bench-{uuid.uuid4().hex[:8]}")
        started = time.perf_counter()
        if path == "batched":
            for first in range(0, len(records), BATCH_SIZE):
                outcome = ingest_batch(records[first : first + BATCH_SIZE])
                assert not outcome.failed, "a batch failed"
        else:
            for record in records:
                store.create_task(parse_record(record))
        timings[path] = time.perf_counter() - started
        stored = store.TaskModel.count()
        store.TaskModel.delete_table()
        assert stored == args.tasks, f"{path}: {stored} of {args.tasks} stored"

    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_1m": round(os.getloadavg()[0], 2),
        "endpoint": args.endpoint,
        "tasks": args.tasks,
        "batched_tasks_per_s": round(args.tasks / timings["batched"], 1),
        "one_item_tasks_per_s": round(args.tasks / timings["one_item"], 1),
        "ratio_batched_to_one_item": round(timings["one_item"] / timings["batched"], 2),
    }
    (ROOT / "benchmarks" / "ingest-batching.json").write_text(json.dumps(result, indent=2) + "\n")
    (ROOT / "benchmarks" / "ingest-batching.md").write_text(
        "# Batched vs one-item ingestion writes (same run)\n\n"
        f"Measured {result['measured_at']} on {result['machine']}, load average {result['load_average_1m']}, "
        f"MiniStack DynamoDB at {args.endpoint}; produced by `benchmarks/ingest_batching.py`.\n\n"
        "| path | tasks/s |\n|---|---:|\n"
        f"| batched (`ingest_batch`: BatchGetItem + BatchWriteItem x25) | {result['batched_tasks_per_s']} |\n"
        f"| one item per write (conditional PutItem each) | {result['one_item_tasks_per_s']} |\n\n"
        f"Ratio batched / one-item: **{result['ratio_batched_to_one_item']}x** for {args.tasks} tasks.\n"
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
