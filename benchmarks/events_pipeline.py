"""Benchmark of the event pipeline on the local stack; writes benchmarks/events-pipeline.{json,md}.

1. create-task -> activity-visible latency: POST /tasks, then poll GET /activity until its task.created entry
   shows up (stream -> outbox publisher -> RabbitMQ -> bridge -> notification function -> DynamoDB).
   The API's own POST /tasks round trip is measured in the same run, as a baseline for the ratio.
   Per stage, on the machine's wall clock: a private auto-delete probe queue bound to the stack's events exchange
   timestamps each event as RabbitMQ routes it (stream + outbox publisher done), and the bridge's JSON log
   (`batch` lines: message ids, batching wait, invoke duration) gives when the notification function was
   invoked and returned. So: POST -> published -> bridge invoke start -> invoke end -> seen in GET /activity.
2. ingestion throughput: N tasks produced straight to Kafka task.ingested, timed until all N are stored in the
   tasks table (Kafka -> bridge -> TaskIngestionFunction -> BatchWriteItem). `--tasks 0` skips it and keeps
   the ingestion figures of the previous results file (marked with their own date).

Needs the deployed stack (STACK_NAME, API_BASE_URL or .local/api-url) with its bridge running and Kafka up.
    STACK_NAME=taskapp .venv/bin/python -m benchmarks.events_pipeline --tasks 10000 --latency-samples 30
    STACK_NAME=taskapp-x .venv/bin/python -m benchmarks.events_pipeline --tasks 0 --latency-samples 50 \
        --bridge-log .local/logs/bridge-taskapp-x.log
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pika
import requests
from kafka import KafkaProducer

from benchmarks import harness
from benchmarks.harness import ROOT, markdown_table
from infra.stack import Stack


def _user(api: str) -> dict[str, str]:
    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(f"{api}{path}", json=body, timeout=30)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    return harness.sign_up(post).headers


class ProbeQueue:
    """A private, auto-deleted queue bound to the events exchange: when did RabbitMQ route each task.created?

    It gets its own copy of every event (topic exchange), so the notification queue and the bridge are untouched.
    pika's blocking connection is not thread-safe: the connection lives and dies inside the probe's thread.
    """

    def __init__(self, url: str, exchange: str) -> None:
        self.url, self.exchange = url, exchange
        self.routed_at: dict[str, tuple[float, str]] = {}  # task id -> (wall clock, event id)
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="probe-queue", daemon=True)

    def __enter__(self) -> ProbeQueue:
        self._thread.start()
        if not self._ready.wait(30):
            raise SystemExit(f"could not bind a probe queue to exchange {self.exchange!r} at {self.url}")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        channel = connection.channel()
        queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        channel.queue_bind(queue, self.exchange, routing_key="task.created")

        def on_message(ch: Any, method: Any, properties: Any, body: bytes) -> None:
            self.routed_at[json.loads(body)["taskId"]] = (time.time(), properties.message_id)

        channel.basic_consume(queue, on_message, auto_ack=True)
        self._ready.set()
        while not self._stop.is_set():
            connection.process_data_events(time_limit=0.05)
        connection.close()


def queue_backlog(url: str, queue: str) -> int:
    """Messages waiting in the stack's notification queue: a backlog (e.g. another run's ingested tasks, which
    every stack's bridge consumes) would be measured instead of the pipeline."""
    with pika.BlockingConnection(pika.URLParameters(url)) as connection:
        try:
            return int(connection.channel().queue_declare(queue, passive=True).method.message_count)
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code == 404:  # the outbox declares it with its first event: a fresh stack has none yet
                return 0
            raise


def _log_time(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f%z").timestamp()


def bridge_batches(log: Path, offset: int) -> list[dict[str, Any]]:
    """The bridge's RabbitMQ `batch` log lines written since `offset`, with wall-clock invoke start and end."""
    batches = []
    with log.open("rb") as handle:
        handle.seek(offset)
        for line in handle:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("message") != "batch" or not str(entry.get("source", "")).startswith("rabbitmq:"):
                continue
            end = _log_time(entry["timestamp"])
            batches.append(
                {
                    "end": end,
                    "start": end - entry["duration_ms"] / 1000,
                    "message_ids": entry.get("message_ids"),  # absent in bridges older than this benchmark
                    "waited_ms": entry.get("waited_ms"),
                    "size": entry["size"],
                }
            )
    return batches


def _match_batch(batches: list[dict[str, Any]], event_id: str, routed: float) -> dict[str, Any] | None:
    for batch in batches:
        if batch["message_ids"] is not None:
            if event_id in batch["message_ids"]:
                return batch
        elif batch["end"] >= routed:  # older bridge log: the first batch that ended after the event was routed
            return batch
    return None


def _summary(seconds: list[float]) -> dict[str, float]:
    return harness.summarize([value * 1000 for value in seconds])


def _stages(timeline: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Each stage's duration per sample, summarised; stages a sample could not be matched to are left out."""
    spans = {
        "api_until_task_stored": ("started", "created_at"),
        "stream_and_outbox_publish": ("created_at", "routed"),
        "queue_to_bridge_invoke": ("routed", "invoke_start"),
        "notification_invoke": ("invoke_start", "invoke_end"),
        "until_seen_by_get_activity": ("invoke_end", "visible"),
    }
    result = {}
    for name, (start, end) in spans.items():
        values = [sample[end] - sample[start] for sample in timeline if start in sample and end in sample]
        if values:
            result[name] = _summary(values)
    pipeline = [sample["invoke_end"] - sample["created_at"] for sample in timeline if "invoke_end" in sample]
    if pipeline:
        result["task_stored_to_activity_written"] = _summary(pipeline)
    waits = [sample["bridge_wait"] for sample in timeline if "bridge_wait" in sample]
    if waits:
        result["of_which_bridge_batching_wait"] = _summary(waits)
    return result


def _in_feed(api: str, headers: dict[str, str], task_id: str) -> bool:
    response = requests.get(f"{api}/activity", params={"limit": 5}, headers=headers, timeout=30)
    if response.status_code != 200:  # e.g. 429: the stack's per-user limit is below this benchmark's polling rate
        raise SystemExit(
            f"GET /activity answered {response.status_code} {response.text[:300]}; deploy the stack with "
            "RATE_LIMIT_USER_PER_MINUTE=100000 (infra/deploy.sh) to benchmark it"
        )
    return any(item["taskId"] == task_id for item in response.json()["items"])


def measure_latency(
    api: str, samples: int, timeout: float, *, warmup: int, probe: ProbeQueue | None, bridge_log: Path | None
) -> dict[str, Any]:
    headers = _user(api)
    for n in range(warmup):  # not counted: the first events may pay the functions' cold starts
        warm = requests.post(f"{api}/tasks", json=harness.create_task_body(f"warm-up {n}"), headers=headers, timeout=30)
        warm.raise_for_status()
        deadline = time.perf_counter() + timeout
        while not _in_feed(api, headers, warm.json()["id"]):
            if time.perf_counter() > deadline:
                raise SystemExit(f"warm-up task {warm.json()['id']} not in the activity feed after {timeout}s")
            time.sleep(0.1)
    log_offset = bridge_log.stat().st_size if bridge_log else 0
    latencies, api_round_trips = [], []
    timeline: list[dict[str, float]] = []
    task_ids: list[str] = []
    for n in range(samples):
        started, wall_started = time.perf_counter(), time.time()
        body = harness.create_task_body(f"latency probe {n}")
        created = requests.post(f"{api}/tasks", json=body, headers=headers, timeout=30)
        api_round_trips.append(time.perf_counter() - started)
        created.raise_for_status()
        task_id = created.json()["id"]
        deadline = started + timeout
        while True:
            if _in_feed(api, headers, task_id):
                latencies.append(time.perf_counter() - started)
                break
            if time.perf_counter() > deadline:
                raise SystemExit(f"task {task_id} not in the activity feed after {timeout}s")
            time.sleep(0.05)
        task_ids.append(task_id)
        # Wall-clock milestones relative to the POST, kept per task to be matched with the probe and the log.
        timeline.append(
            {
                "started": wall_started,
                # The task's createdAt: set by the API just before its PutItem (same machine, same clock).
                "created_at": datetime.fromisoformat(created.json()["createdAt"]).timestamp(),
                "visible": wall_started + latencies[-1],
            }
        )
    time.sleep(0.5)  # let the bridge write its last batch line
    batches = bridge_batches(bridge_log, log_offset) if bridge_log else []
    for task_id, sample in zip(task_ids, timeline, strict=True):
        routed = probe.routed_at.get(task_id) if probe else None
        if routed is None:
            continue
        sample["routed"] = routed[0]
        batch = _match_batch(batches, routed[1], routed[0])
        if batch is not None:
            sample["invoke_start"], sample["invoke_end"] = batch["start"], batch["end"]
            if batch["waited_ms"] is not None:
                sample["bridge_wait"] = batch["waited_ms"] / 1000
    activity, post = _summary(latencies), _summary(api_round_trips)
    return {
        "samples": samples,
        "warmup_samples_not_counted": warmup,
        "activity_visible_ms": activity,
        "post_tasks_round_trip_ms": post,
        "ratio_p50_activity_to_post": round(activity["p50"] / post["p50"], 1),
        "stages_ms": _stages(timeline),
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


def _wait_for_items(
    table: Any, owner: str, count: int, *, started: float, timeout: float, what: str, interval: float
) -> None:
    """Poll the owner's item count until it reaches `count`; give up `timeout` s after `started`."""
    stored = 0
    while stored < count:
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"only {stored}/{count} {what} after {timeout}s")
        time.sleep(interval)
        stored = _stored(table, owner)


def measure_ingestion(stack: str, count: int, timeout: float) -> dict[str, Any]:
    table = boto3.resource("dynamodb").Table(_stack_output(stack, "TasksTableName"))
    owner = f"bench-ingest-{uuid.uuid4().hex[:10]}"
    producer = KafkaProducer(
        bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092").split(","), acks="all"
    )
    now = datetime.now(UTC)
    values = {
        f"{owner}-{n:05d}": harness.ingested_record_value(f"{owner}-{n:05d}", owner, f"t{n}", now) for n in range(count)
    }
    started = time.perf_counter()
    for task_id, value in values.items():
        producer.send("task.ingested", key=task_id.encode(), value=value)
    producer.flush()
    produced = time.perf_counter() - started
    producer.close()
    _wait_for_items(table, owner, count, started=started, timeout=timeout, what="tasks stored", interval=0.5)
    elapsed = time.perf_counter() - started
    return {
        "tasks": count,
        "produce_seconds": round(produced, 2),
        "produce_rate_per_s": round(count / produced, 1),
        "end_to_end_seconds": round(elapsed, 2),
        "tasks_per_second": round(count / elapsed, 1),
        "ratio_produce_to_store_rate": round((count / produced) / (count / elapsed), 1),
    }


def measure_burst(stack: str, count: int, rabbitmq_url: str, bridge_log: Path | None, timeout: float) -> dict[str, Any]:
    """N task.created events published at once to the stack's exchange (as the outbox would): does the
    notification path still batch, and how fast does it drain? Timed until all N activity entries are stored."""
    table = boto3.resource("dynamodb").Table(_stack_output(stack, "ActivityTableName"))
    owner = f"bench-burst-{uuid.uuid4().hex[:10]}"
    log_offset = bridge_log.stat().st_size if bridge_log else 0
    now = datetime.now(UTC)
    events = [harness.task_created_event(owner, f"{owner}-{n:05d}", f"burst {n}", now) for n in range(count)]
    event_ids = {event_id for event_id, _ in events}
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    channel = connection.channel()
    channel.confirm_delivery()
    exchange = _stack_parameter(stack, "EventsExchange")
    started = time.perf_counter()
    for event_id, body in events:
        properties = pika.BasicProperties(
            content_type="application/json", delivery_mode=2, message_id=event_id, type="task.created"
        )
        channel.basic_publish(exchange, "task.created", body, properties, mandatory=True)
    published = time.perf_counter() - started
    connection.close()
    _wait_for_items(table, owner, count, started=started, timeout=timeout, what="burst events recorded", interval=0.2)
    elapsed = time.perf_counter() - started
    time.sleep(0.5)  # let the bridge write its last batch line
    sizes = [
        b["size"]
        for b in (bridge_batches(bridge_log, log_offset) if bridge_log else [])
        if event_ids.intersection(b["message_ids"] or [])
    ]
    return {
        "events": count,
        "publish_seconds": round(published, 2),
        "all_recorded_seconds": round(elapsed, 2),
        "events_per_second": round(count / elapsed, 1),
        "notification_invocations": len(sizes),
        "batch_size_mean": round(statistics.fmean(sizes), 1) if sizes else None,
        "batch_size_max": max(sizes) if sizes else None,
    }


def _markdown(result: dict[str, Any], stack: str, baseline: dict[str, Any] | None = None) -> str:
    lat, ing = result["latency"], result.get("ingestion")
    activity, post = lat["activity_visible_ms"], lat["post_tasks_round_trip_ms"]
    rows = []
    if ing:
        note = f" (run of {ing['measuredAt']})" if ing.get("measuredAt") else ""
        rows += [
            (
                f"ingestion: {ing['tasks']:,} tasks Kafka -> bridge -> function -> DynamoDB{note}",
                f"**{ing['tasks_per_second']} tasks/s** ({ing['end_to_end_seconds']} s)",
            ),
            (
                "producing them to Kafka alone",
                f"{ing['produce_rate_per_s']} records/s ({ing['produce_seconds']} s; "
                f"{ing['ratio_produce_to_store_rate']}x the store rate)",
            ),
        ]
    burst = result.get("burst")
    if burst:
        rows.append(
            (
                f"burst: {burst['events']} task.created events published at once -> all in the activity table",
                f"{burst['events_per_second']} events/s ({burst['all_recorded_seconds']} s), "
                f"{burst['notification_invocations']} invocations, batch mean {burst['batch_size_mean']} / "
                f"max {burst['batch_size_max']}",
            )
        )
    rows += [
        (
            f"create task -> visible in GET /activity, p50 / p95 ({lat['samples']} samples, "
            f"after {lat.get('warmup_samples_not_counted', 0)} warm-up)",
            f"**{activity['p50']} ms / {activity['p95']} ms** (max {activity['max']} ms)",
        ),
        ("POST /tasks round trip in the same run, p50 / p95", f"{post['p50']} ms / {post['p95']} ms"),
        ("activity latency / POST round trip (p50)", f"{lat['ratio_p50_activity_to_post']}x"),
    ]
    backlog = lat.get("queue_backlog")
    if backlog:
        rows.append(
            (
                "notification queue backlog at start / end (waited out before measuring)",
                f"{backlog['at_start']} / {backlog['at_end']} messages ({backlog['waited_for_it_s']} s)",
            )
        )
    table = markdown_table(["measure", "value"], rows)
    stages = lat.get("stages_ms") or {}
    base = (baseline or {}).get("latency", {})
    base_stages = {**base.get("stages_ms", {}), "activity_visible_total": base.get("activity_visible_ms")}
    stages = {**stages, "activity_visible_total": lat["activity_visible_ms"]}

    def row(name: str, s: dict[str, Any]) -> list[object]:
        b = base_stages.get(name)
        before = [f"{b['p50']} / {b['p95']}" if b else "-"] if baseline else []
        return [name.replace("_", " "), s["p50"], s["p95"], s["max"], *before]

    head = ["stage", "p50", "p95", "max", *(["before: p50 / p95"] if baseline else [])]
    stage_table = markdown_table(head, (row(name, s) for name, s in stages.items()))
    compared = (
        f"\n'before' = {baseline['measuredAt']} run of the same benchmark on stack `{baseline['stack']}`: "
        f"{baseline.get('label', '')}\n"
        if baseline
        else ""
    )
    stage_part = (
        "\n## Where the time goes (create task -> activity), ms\n\n"
        "Milestones on the machine's wall clock: task `createdAt` (API, just before its PutItem), event routed by "
        "RabbitMQ (probe queue), notification invoke start/end (bridge log), seen by `GET /activity` (the "
        "benchmark polls every 50 ms, so that last stage includes one GET round trip).\n"
        + compared
        + "\n"
        + stage_table
        + "\n"
        if lat.get("stages_ms")
        else ""
    )
    return (
        f"# Event pipeline benchmark ({result['measuredAt']})\n\n"
        f"Local stack: MiniStack + Tansu (Kafka) + RabbitMQ + the event-source bridge, "
        f"{result['machine']['cpus']} CPUs, stack `{stack}`, other sessions sharing the machine "
        f"(load average 1 min: {result['loadAverage1m']['before']} before, {result['loadAverage1m']['after']} after).\n"
        "Produced by `benchmarks/events_pipeline.py`; absolute numbers hold for this machine only.\n"
        + (f"This run: {result['label']}\n" if result.get("label") else "")
        + "\n"
        + table
        + "\n"
        + stage_part
    )


_KAFKA_EVENT = re.compile(r"^( +)[A-Za-z0-9]+:\n\1  Type: SelfManagedKafka\n(?:\1  .*\n|\n(?=\1  ))*", re.MULTILINE)


def write_mq_only_template(source: Path, target: Path) -> None:
    """The template without its SelfManagedKafka events, for the bridge of a latency run: every stack's bridge
    consumes the shared task.ingested topic with its own group, so another session's ingestion run would flood
    this stack's outbox and notification queue in the middle of the measurement."""
    text, removed = _KAFKA_EVENT.subn("", source.read_text())
    if not removed:
        raise SystemExit(f"no SelfManagedKafka event found in {source}")
    target.write_text(text)


@cache
def _stack_outputs(stack: str) -> dict[str, str]:
    """The deployed stack's outputs, looked up once per run."""
    return Stack(stack).outputs()


@cache
def _stack_parameters(stack: str) -> dict[str, str]:
    return Stack(stack).parameters()


def _stack_output(stack: str, key: str) -> str:
    return _stack_outputs(stack)[key]


def _stack_parameter(stack: str, key: str) -> str:
    return _stack_parameters(stack)[key]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=10_000, help="tasks for the ingestion part; 0 skips it")
    parser.add_argument("--latency-samples", type=int, default=30)
    parser.add_argument(
        "--burst", type=int, default=0, help="also publish this many events at once and time the notification path"
    )
    parser.add_argument("--compare", type=Path, help="results JSON of an earlier run: its stages become a column")
    parser.add_argument("--label", default="", help="what this run measured (kept in the JSON, shown on compare)")
    parser.add_argument("--warmup", type=int, default=2, help="create-task probes run first and not counted")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "events-pipeline")
    parser.add_argument(
        "--bridge-log", type=Path, help="the stack's bridge log (infra/bridge.sh: .local/logs/bridge-STACK.log)"
    )
    parser.add_argument(
        "--write-mq-only-template",
        type=Path,
        metavar="PATH",
        help="write template.yaml minus its Kafka events to PATH (for infra/bridge.sh TEMPLATE=PATH) and exit",
    )
    args = parser.parse_args()
    if args.write_mq_only_template:
        write_mq_only_template(ROOT / "template.yaml", args.write_mq_only_template)
        return 0
    stack = os.environ.get("STACK_NAME", "taskapp")
    api = harness.api_base_url()
    if not api:
        raise SystemExit("set API_BASE_URL (or deploy so .local/api-url exists)")
    load_before = harness.load_average()
    if args.bridge_log and not args.bridge_log.exists():
        raise SystemExit(f"no bridge log at {args.bridge_log}")
    rabbitmq_url = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
    queue = _stack_parameter(stack, "NotificationsQueue")
    waited_from = time.perf_counter()
    backlog_at_start = queue_backlog(rabbitmq_url, queue)
    while queue_backlog(rabbitmq_url, queue) > 0:
        if time.perf_counter() - waited_from > args.timeout:
            raise SystemExit(f"{queue} still has a backlog after {args.timeout}s: nothing to measure")
        time.sleep(1)
    backlog_wait = time.perf_counter() - waited_from
    with ProbeQueue(rabbitmq_url, _stack_parameter(stack, "EventsExchange")) as probe:
        latency = measure_latency(
            api, args.latency_samples, 120, warmup=args.warmup, probe=probe, bridge_log=args.bridge_log
        )
    latency["queue_backlog"] = {
        "at_start": backlog_at_start,
        "waited_for_it_s": round(backlog_wait, 1),
        "at_end": queue_backlog(rabbitmq_url, queue),
    }
    result: dict[str, Any] = {
        "measuredAt": harness.utc_now(),
        "stack": stack,
        "label": args.label,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "latency": latency,
    }
    if args.burst > 0:
        result["burst"] = measure_burst(stack, args.burst, rabbitmq_url, args.bridge_log, args.timeout)
    previous = args.out.with_suffix(".json")
    if args.tasks > 0:
        result["ingestion"] = measure_ingestion(stack, args.tasks, args.timeout)
    elif previous.exists():  # keep the last ingestion figures, dated, rather than dropping them
        old = json.loads(previous.read_text())
        if old.get("ingestion"):
            result["ingestion"] = {
                "measuredAt": old["ingestion"].get("measuredAt", old["measuredAt"]),
                **old["ingestion"],
            }
    result["loadAverage1m"] = {"before": load_before, "after": harness.load_average()}
    baseline = json.loads(args.compare.read_text()) if args.compare else None
    harness.write_report(args.out, data=result, markdown=_markdown(result, stack, baseline))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
