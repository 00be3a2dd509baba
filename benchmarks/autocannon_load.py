"""`make bench-load`: the first seed's load test (autocannon, 10 s) at 10, 50 and 200 connections, against
`make local-api`, the `make run` stack, and the backing service alone; results under benchmarks/.

    .venv/bin/python -m benchmarks.autocannon_load [--target seed --target local --target deployed --target backend]
        [--route post --route get] [--connections 10,50,200] [--duration 10] [--workers N] [--users 200]
        [--before REF]

- autocannon is the npm package pinned by benchmarks/load/package-lock.json (`npm ci` in benchmarks/load, which
  the make target runs); benchmarks/load/run.js drives one run and prints autocannon's result.
- `local`: `python -m infra.local_api --workers N` started here (no reload, quiet) on env.local.json;
  `local-before` (with `--before REF`): the same, from REF's code (`git archive` of its template, functions,
  layers, infra and env file into a scratch folder, started with that server's own defaults), measured first, so
  goal 2's "2x today" is a ratio of one run on one machine;
  `deployed`: API_BASE_URL or .local/api-url (the `make run` stack); `backend`: the backing service alone at the
  same connections, the floor it allows: for POST, MiniStack's DynamoDB answering the PutItem each request makes
  (autocannon straight at it); for GET, which a warm task cache serves from Redis without DynamoDB, Redis'
  MGET rate (redis-benchmark) over the four Redis round trips such a request makes.
- `seed`: the first seed's own server (npriyanshu/high-scale-task-api), run from a copy outside this repository
  (its code never enters it) and named by SEED_BASE_URL, with SEED_TOKEN a JWT it accepts; skipped without them.
  With SEED_JWT_SECRET (its hard-coded signing key) the run mints `--users` tokens, ids 1..N, as it does for ours:
  the seed limits each token's id to 100,000 requests a minute, which one token passes within a 200-connection
  cell after the cells before it. It runs last: its consumer writes every accepted task to PostgreSQL long after
  its cells end, and would share the machine with the cells after them.
  Its POST answers 202 (a Kafka send), its GET needs no token. Give it a Kafka broker of its own (a second Tansu
  on another port): its `task.ingested` topic name is hard-coded and would mix with the project's.
- Users: `--users` fresh users per run (tokens minted with the target's JWT secret: no bcrypt in the set-up), each
  with one task for the GET route; requests take the users in turn. The per-user limit stays the deployed one
  (RateLimitUserPerMinute, 100 a minute by default), so 200 users allow 2,000 req/s over a 10 s run: a 429 in the
  results means a run went past that, not that one user did.
- CPU per answer (goal 3's same-run comparison): the user + system CPU of the target's own processes over the
  timed run, over the answers it gave (a fast 429/503 is an answer too: compare cells without refusals). `local`:
  the server and its worker processes; `seed`: the processes named by SEED_PIDS (its cluster master, whose
  workers are its children; its ingest consumer, which writes the accepted task to PostgreSQL later, is left out
  unless named). Neither includes the backing servers' CPU (MiniStack, Redis, PostgreSQL, Kafka). Deployed and
  backend cells have none: MiniStack runs the functions inside its own process tree.
- Every run records the load average before and after; the machine is shared (2 cores).
- Results accumulate per cell (target, route, connections) in benchmarks/autocannon-load.json, so a run of one
  cell updates only that cell; benchmarks/autocannon-load.md is the table, beside the seed's figures from issue 17.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import harness
from benchmarks.harness import ROOT

LOAD_DIR = ROOT / "benchmarks" / "load"
RESULTS = "autocannon-load"
# GET first: every POST leaves work behind it (the outbox, notifications, reminders), which the cell after it would
# otherwise share the machine with; deployed cells also wait for that work to drain (`settle`).
ROUTES = {"get": ("GET", "/tasks/{id}"), "post": ("POST", "/tasks")}
# The seed's own load-test body (its userId is our token's subject): one PutItem, as the backend floor measures.
SEED_BODY = {"title": "load-test-task"}
TARGETS = ("local", "deployed", "backend", "seed")
BEFORE_TARGET = "local-before"
# What an older ref's `make local-api` needs to run (benchmarks.harness.export_tree).
BEFORE_EXPORTED = ("template.yaml", "functions", "layers", "infra", "env.local.json")
# The seed (high-scale-task-api) as issue 17 measured it on this machine, 2026-12-01 (medians of 3): not re-run.
SEED = {
    "post": "~1,050-1,450 req/s (p50 6 ms at 10 connections)",
    "get": "~5,800-7,800 req/s",
}
# issue 17's table, the same runs before this change (2026-12-01)
BEFORE = {
    ("local", "post"): {
        10: "163 req/s, p50 55 ms",
        50: "147 req/s, p50 293 ms, p99 2.1 s",
        200: "151 req/s, ~90 timeouts",
    },
    ("deployed", "post"): {10: "79 req/s, p50 106 ms", 50: "36 req/s, p50 1.25 s", 200: "0 served, all timed out"},
    ("local", "get"): {10: "190 req/s, p50 49 ms", 50: "197 req/s, p50 215 ms", 200: "203 req/s, 74-96 timeouts"},
    ("deployed", "get"): {10: "52 req/s, p50 81 ms", 50: "158 req/s", 200: "0 served"},
}


def _jwt_secret(target: str) -> str:
    if target in ("local", BEFORE_TARGET):
        from infra.local_api.server import read_env_file

        return str(read_env_file(ROOT / "env.local.json")["Parameters"]["JWT_SECRET"])
    return harness.deployed_jwt_secret()


def _post_json(url: str, body: dict[str, Any], token: str, attempts: int = 20) -> dict[str, Any]:
    """POST as a polite client would: a fast refusal (429/503) is retried after its Retry-After."""
    request = urllib.request.Request(  # noqa: S310 - our own API's URL
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except urllib.error.HTTPError as error:
            if error.code not in (429, 503) or attempt == attempts - 1:
                raise
            time.sleep(float(error.headers.get("Retry-After") or 1))
    raise AssertionError("unreachable")


def _users(target: str, base_url: str, count: int, with_tasks: bool) -> list[dict[str, str]]:
    from tests.support.tokens import mint_access_token

    secret = _jwt_secret(target)
    users = []
    for _ in range(count):
        user_id = str(uuid.uuid4())
        token = mint_access_token(secret, sub=user_id)
        user = {"token": token, "userId": user_id}
        if with_tasks:
            user["taskId"] = str(_post_json(f"{base_url}/tasks", harness.create_task_body("load"), token)["id"])
        users.append(user)
    return users


def _seed_users(base_url: str, with_task: bool, count: int) -> list[dict[str, str]]:
    """The seed's load test uses one token (its rate limit allows ~1,667 req/s per user), or with SEED_JWT_SECRET
    `count` of them; for GET, one task the seed has accepted and its ingest consumer has written (202 first,
    readable a second or two later)."""
    import jwt

    token = os.environ["SEED_TOKEN"]
    secret = os.environ.get("SEED_JWT_SECRET")
    with warnings.catch_warnings():  # the seed's own 16-byte key, which PyJWT rightly calls short
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        tokens = [jwt.encode({"id": n}, secret, algorithm="HS256") for n in range(1, count + 1)] if secret else []
    users = [{"token": each} for each in tokens or [token]]
    if with_task:
        task_id = str(_post_json(f"{base_url}/tasks", SEED_LOAD_TEST_BODY, token)["taskId"])
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base_url}/tasks/{task_id}", timeout=10):  # noqa: S310 - the seed
                    break
            except urllib.error.HTTPError as error:
                if error.code != 404 or time.monotonic() > deadline:
                    message = f"the seed never stored task {task_id}: is its ingest consumer running?"
                    raise SystemExit(message) from error
                time.sleep(1)
        for each in users:
            each["taskId"] = task_id
    return users


def _backend_users(count: int) -> list[dict[str, str]]:
    return [{"taskId": str(uuid.uuid4())} for _ in range(count)]


def _backend_config(route: str, table: str) -> dict[str, Any]:
    """GetItem/PutItem straight at MiniStack's DynamoDB, as botocore sends them (the signature is not checked)."""
    operation = "GetItem" if route == "get" else "PutItem"
    key = {"ownerId": {"S": "load-floor"}, "taskId": {"S": "floor"}}
    body: dict[str, Any] = {"TableName": table, "Key": key, "ConsistentRead": True}
    if route == "post":
        body = {"TableName": table, "Item": {**key, "title": {"S": "load"}}}
    credential = "Credential=test/20261201/us-east-1/dynamodb/aws4_request"
    return {
        "method": "POST",
        "path": "/",
        "headers": {
            "content-type": "application/x-amz-json-1.0",
            "x-amz-target": f"DynamoDB_20120810.{operation}",
            "authorization": f"AWS4-HMAC-SHA256 {credential}, SignedHeaders=host;x-amz-date, Signature=0",
        },
        "body": body,
    }


def run_autocannon(config: dict[str, Any]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(config, handle)
    try:
        node = subprocess.run(  # noqa: S603 - node running our runner with the pinned autocannon
            ["node", str(LOAD_DIR / "run.js"), handle.name],  # noqa: S607 - the developer's node
            capture_output=True,
            text=True,
            check=False,
            timeout=config["duration"] + 60,
        )
    finally:
        os.unlink(handle.name)
    if node.returncode != 0:
        raise SystemExit(f"autocannon failed: {node.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(node.stdout)
    return result


# What each cell may answer: the route's success, or a fast refusal under overload (429 rate limit, 503 OVERLOADED
# with Retry-After). Anything else (a 400 from a wrong URL, a 401 from a wrong secret, a 500) means the run did not
# measure the route: the cell says so and the run exits non-zero.
SUCCESS = {"post": "201", "get": "200"}
# The seed answers POST /tasks 202 (it only hands the task to Kafka; its consumer writes it to PostgreSQL).
SEED_SUCCESS = {"post": "202", "get": "200"}
SEED_LOAD_TEST_BODY = {"title": "load-test-task", "userId": 1}  # its app/load-test.js, byte for byte in meaning
REFUSALS = ("429", "503")


def success_status(target: str, route: str) -> str:
    """The status a served request of this cell answers: DynamoDB's 200 for the backend, the seed's own, or ours."""
    return "200" if target == "backend" else (SEED_SUCCESS if target == "seed" else SUCCESS)[route]


def unexpected_statuses(target: str, route: str, statuses: dict[str, int]) -> dict[str, int]:
    wanted = success_status(target, route)
    return {code: count for code, count in statuses.items() if code != wanted and code not in REFUSALS}


def summarize(result: dict[str, Any]) -> dict[str, Any]:
    """What the table shows, from autocannon's result."""
    latency = result["latency"]
    statuses = {str(code): stats["count"] for code, stats in (result.get("statusCodeStats") or {}).items()}
    return {
        "requests_per_s": round(result["requests"]["average"], 1),
        "requests": result["requests"]["total"],
        "p50_ms": latency["p50"],
        "p99_ms": latency["p99"],
        "max_ms": latency["max"],
        "timeouts": result["timeouts"],
        "errors": result["errors"],
        "non_2xx": result["non2xx"],
        "5xx": result.get("5xx", 0),
        "statuses": statuses,
    }


def _dynamodb_table(target: str) -> str:
    if target == "backend":
        from infra.local_api.server import read_env_file

        return str(read_env_file(ROOT / "env.local.json")["Parameters"]["TASKS_TABLE"])
    raise ValueError(target)


# Redis round trips of a warm GET /tasks/{id} served from the task cache: the authorizer's revocation MGET, the
# rate-limit script, the handler's revocation MGET and the cache MGET.
REDIS_CALLS_PER_CACHED_GET = 4


def redis_floor(connections: int, requests: int) -> dict[str, Any]:
    """What Redis alone allows a cached GET: redis-benchmark's MGET rate at `connections`, over the round trips
    one request makes (keys that do not exist: nothing is written)."""
    keys = [f"load-floor:{uuid.uuid4().hex}" for _ in range(3)]
    command = ["redis-benchmark", "-h", "127.0.0.1", "-p", "6379", "-c", str(connections), "-n", str(requests)]
    run = subprocess.run(  # noqa: S603 - redis-server's own benchmark tool
        [*command, "--csv", "MGET", *keys], capture_output=True, text=True, check=True, timeout=60
    )
    header, row = (line.replace('"', "").split(",") for line in run.stdout.strip().splitlines()[-2:])
    figures = dict(zip(header, row, strict=False))
    return {
        "requests_per_s": round(float(figures["rps"]) / REDIS_CALLS_PER_CACHED_GET, 1),
        "requests": requests,
        "p50_ms": float(figures.get("p50_latency_ms", 0)),
        "p99_ms": float(figures.get("p99_latency_ms", 0)),
        "max_ms": float(figures.get("max_latency_ms", 0)),
        "timeouts": 0,
        "errors": 0,
        "non_2xx": 0,
        "5xx": 0,
        "statuses": {},
        "note": f"redis-benchmark MGET at {figures['rps']} calls/s, / {REDIS_CALLS_PER_CACHED_GET} calls per request",
    }


def measure_cell(
    target: str, route: str, connections: int, base_url: str, args: argparse.Namespace, *, cpu_roots: list[int]
) -> dict[str, Any]:
    method, path = ROUTES[route]
    if target == "backend" and route == "get":
        load_before = harness.load_average()
        return {
            "measured_at": harness.utc_now(),
            "load_average_before": load_before,
            **redis_floor(connections, 200_000),
            "load_average_after": harness.load_average(),
        }
    if target == "seed":
        users = _seed_users(base_url, with_task=route == "get", count=args.users)
        config: dict[str, Any] = {
            "url": base_url,
            "method": method,
            "path": path,
            "headers": {"content-type": "application/json"},
        }
        if route == "post":
            config["body"] = SEED_LOAD_TEST_BODY
    elif target == "backend":
        users = _backend_users(args.users)
        config = {"url": base_url, **_backend_config(route, _dynamodb_table(target))}
    else:
        users = _users(target, base_url, args.users, with_tasks=route == "get")
        body = SEED_BODY if route == "post" else None
        config = {"url": base_url, "method": method, "path": path, "headers": {"content-type": "application/json"}}
        if body is not None:
            config["body"] = body
    config.update(users=users, connections=connections, duration=args.duration, timeout=args.timeout)
    settled_s = settle(args.settle_queue, args.settle_timeout) if target == "deployed" else 0.0
    warmup_runs = warm_up(config, args.warmup, harness.ministack_workers if target == "deployed" else None)
    load_before = harness.load_average()
    cpu_before = harness.process_tree_cpu_seconds(cpu_roots) if cpu_roots else 0.0
    result = run_autocannon(config)
    cpu_seconds = harness.process_tree_cpu_seconds(cpu_roots) - cpu_before if cpu_roots else None
    figures = summarize(result)
    if cpu_seconds is not None and figures["requests"]:
        figures["cpu_ms_per_answer"] = round(cpu_seconds * 1000 / figures["requests"], 3)
    figures["unexpected"] = unexpected_statuses(target, route, figures["statuses"])
    wanted = success_status(target, route)
    figures["served_per_s"] = round(figures["statuses"].get(wanted, 0) / args.duration, 1)
    return {
        "measured_at": harness.utc_now(),
        "load_average_before": load_before,
        "load_average_after": harness.load_average(),
        "users": 0 if target == "backend" else len(users),
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "warmup_runs": warmup_runs,
        "settled_s": settled_s,
        **({"workers": args.workers} if target == "local" else {}),
        **figures,
    }


# Full-connection warm-up runs at most, before a cell is measured anyway (its record says how many ran).
MAX_WARMUP_RUNS = 3


def warm_up(config: dict[str, Any], seconds: int, workers: Callable[[], set[int]] | None = None) -> int:
    """Untimed runs until one at the cell's connections finds the stack warm (`warmed`); how many runs it took.

    Runs of their own, so the CPU sampled around the timed run is the timed run's alone. A stack that has never
    served this many connections at once starts one cold worker per connection (MiniStack never queues an
    invocation), and on 2 cores ten or more imports at once outlast the run and each other: the workers pass the
    timeout, and the timed run met workers still importing. So after a run with timeouts the warm-up ramps up,
    1, 2, 4 ... connections, each step starting only a few new workers, then tries the full count again. A warm
    run is the figure the cell is about; a stack that is warm already takes one run.

    With `workers` (the deployed stack's worker processes), a run that started a worker is not warm either: a
    warm-up that passed while its last workers were still starting left them to the timed run, which then timed
    out on the requests queued behind them. Such a run is followed by another at the full count.
    """
    if not seconds:
        return 0
    connections = int(config["connections"])
    runs = 0
    ramp = False
    for _ in range(MAX_WARMUP_RUNS):
        if ramp:
            step = 1
            while step < connections:
                run_autocannon({**config, "duration": seconds, "connections": step})
                runs += 1
                step *= 2
        before = workers() if workers else set()
        result = run_autocannon({**config, "duration": seconds})
        runs += 1
        started = workers() - before if workers else set()
        answered_well = warmed(result, connections)
        if answered_well and not started:
            break
        ramp = not answered_well
    return runs


def warmed(result: dict[str, Any], connections: int) -> bool:
    """A warm-up run that found the stack warm: no timeout or error, and every connection answered more than once
    on average. A run shorter than the timeout counts no timeout for a request still hanging when it ends, so an
    absence of timeouts alone was also what a stack that answered nothing at all looked like."""
    answered = int(result["requests"]["total"])
    return not result["timeouts"] and not result["errors"] and answered >= 2 * connections


# MiniStack's own process below this share of one core over QUIET_WINDOW_S counts as idle (serving nothing).
QUIET_CPU_SHARE = 0.25
QUIET_WINDOW_S = 2.0


def settle(queue: str, timeout: float) -> float:
    """Wait until the work earlier cells left behind has drained: the stack's notifications queue empty for 2 s,
    then MiniStack's own process idle (`QUIET_CPU_SHARE` of a core over `QUIET_WINDOW_S`). A client that timed
    out does not stop MiniStack serving its request: after a 200-connection cell it went on for a minute, starting
    workers, and the next cell's requests queued behind those. The seconds it took; past `timeout` the cell runs
    anyway and its record says how long it waited."""
    started = time.monotonic()
    _drain_queue(queue, timeout)
    try:
        pid = harness.ministack_pid()
        harness.process_cpu_seconds(pid)
    except (OSError, ValueError):  # not the MiniStack `make run` started (LocalStack, AWS): the queue is all
        return round(time.monotonic() - started, 1)
    while time.monotonic() - started < timeout:
        before = harness.process_cpu_seconds(pid)
        time.sleep(QUIET_WINDOW_S)
        if harness.process_cpu_seconds(pid) - before < QUIET_CPU_SHARE * QUIET_WINDOW_S:
            break
    return round(time.monotonic() - started, 1)


def _drain_queue(queue: str, timeout: float) -> None:
    import pika

    url = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
    started = time.monotonic()
    empty_since: float | None = None
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        while time.monotonic() - started < timeout:
            waiting = channel.queue_declare(queue=queue, passive=True).method.message_count
            now = time.monotonic()
            empty_since = (empty_since or now) if waiting == 0 else None
            if empty_since is not None and now - empty_since >= 2:
                break
            time.sleep(0.5)
    finally:
        connection.close()


def _cell_text(cell: dict[str, Any] | None) -> str:
    if not cell:
        return "-"
    served = cell.get("served_per_s", cell["requests_per_s"])
    text = f"**{served:,.0f}/s served**, p50 {cell['p50_ms']} ms, p99 {cell['p99_ms']} ms"
    if cell.get("cpu_ms_per_answer") is not None:
        text += f", CPU {cell['cpu_ms_per_answer']:.2f} ms/answer"
    failed = sum(count for code, count in cell["statuses"].items() if code.startswith("5") and code not in REFUSALS)
    problems = [f"{cell['timeouts']} timeouts" if cell["timeouts"] else "", f"{failed} 5xx" if failed else ""]
    refused = sum(count for code, count in cell["statuses"].items() if code in REFUSALS)
    if refused:
        problems.append(f"{refused} fast 429/503 ({cell['requests_per_s']:,.0f} answers/s in all)")
    if cell.get("unexpected"):
        answers = ", ".join(f"{count} x {code}" for code, count in cell["unexpected"].items())
        problems.append(f"NOT MEASURED, answers {answers}")
    problems.append(f"load {cell['load_average_before']}")
    return "; ".join(filter(None, [text, *problems]))


def markdown(cells: dict[str, dict[str, Any]], levels: list[int]) -> str:
    lines = [
        "# Load test: the first seed's autocannon run, 10 s per cell",
        "",
        "`make bench-load` (benchmarks/autocannon_load.py; method in its docstring). Each cell: the route's own "
        "successes per second (**served**), latency p50/p99 of every answer, timeouts and 5xx (none unless shown), "
        "fast refusals (429/503) with all answers per second, and the load average when it started (2 shared cores). "
        "5 s untimed warm-up runs at the same connections before each cell (after one with timeouts, a ramp from 1 "
        "connection up, then again; on the deployed stack, again after one that started a Lambda worker); deployed "
        "cells first wait for the notifications queue to drain and MiniStack's own process to go idle. "
        "`seed`: the seed's own server (npriyanshu/high-scale-task-api, run from a "
        "copy outside the project on PostgreSQL, this Redis and RabbitMQ, a Tansu broker of its own) in the same "
        "run; `seed (issue 17)`: the issue's figures for it (2026-12-01, same machine kind). `before`: issue 17's "
        "table, measured on main before this work (2026-12-01). CPU per answer (local and seed cells): the user + "
        "system CPU of the target's own processes over the timed run, backing servers excluded.",
        "",
    ]
    header = ["route", "target", *[f"{level} connections" for level in levels]]
    rows = []
    for route, (method, path) in ROUTES.items():
        rows.append([f"{method} {path}", "seed (issue 17)", SEED[route], "", ""][: len(header)])
        for target in TARGETS:
            before = BEFORE.get((target, route))
            if before:
                rows.append([f"{method} {path}", f"{target}, before", *[before.get(level, "-") for level in levels]])
            if target == "local":
                measured_before = [cells.get(f"{BEFORE_TARGET}|{route}|{level}") for level in levels]
                if any(measured_before):
                    code = next(cell["code"] for cell in measured_before if cell)
                    label = f"local, before ({code}, same run)"
                    rows.append([f"{method} {path}", label, *[_cell_text(cell) for cell in measured_before]])
            row = [_cell_text(cells.get(f"{target}|{route}|{level}")) for level in levels]
            if any(text != "-" for text in row):
                rows.append([f"{method} {path}", target, *row])
    lines.append(harness.markdown_table(header, rows))
    lines.extend(cpu_ratio_lines(cells))
    lines.extend(before_ratio_lines(cells))
    return "\n".join(lines)


def before_ratio_lines(cells: dict[str, dict[str, Any]], connections: int = 50) -> list[str]:
    """Goal 2's "at least 2x today": `make local-api`'s served rate over the same run's older code, per route."""
    lines = []
    for route, (method, path) in ROUTES.items():
        ours, before = cells.get(f"local|{route}|{connections}"), cells.get(f"{BEFORE_TARGET}|{route}|{connections}")
        if not (ours and before):
            continue
        if not before["served_per_s"]:
            lines.append(f"- {method} {path}, {connections} connections: {before['code']} served nothing")
            continue
        ratio = ours["served_per_s"] / before["served_per_s"]
        lines.append(
            f"- {method} {path}, {connections} connections: {ours['served_per_s']:,.0f}/s served against "
            f"{before['served_per_s']:,.0f}/s by {before['code']}: **{ratio:.1f}x**"
        )
    if lines:
        lines[:0] = ["", "`make local-api` now over its code before issue 17's work, in the same run:", ""]
    return lines


def cpu_ratio_lines(cells: dict[str, dict[str, Any]], connections: int = 10) -> list[str]:
    """`make local-api`'s CPU per answer over the seed's, per route, from cells of one run without refusals: the
    figure a faster or slower machine does not move."""
    lines = []
    for route, (method, path) in ROUTES.items():
        ours, seed = cells.get(f"local|{route}|{connections}"), cells.get(f"seed|{route}|{connections}")
        if not (ours and seed and ours.get("cpu_ms_per_answer") and seed.get("cpu_ms_per_answer")):
            continue
        refused = any(code in REFUSALS for cell in (ours, seed) for code in cell["statuses"])
        ratio = ours["cpu_ms_per_answer"] / seed["cpu_ms_per_answer"]
        lines.append(
            f"- {method} {path}, {connections} connections: `make local-api` {ours['cpu_ms_per_answer']:.2f} CPU-ms "
            f"per answer, the seed {seed['cpu_ms_per_answer']:.2f}: **{ratio:.1f}x**"
            + (" (a cell had refusals: not comparable)" if refused else "")
        )
    if lines:
        lines[:0] = ["", "CPU per answer, ours over the seed's (both measured in the cells above):", ""]
    return lines


def _local_api(workers: int) -> tuple[subprocess.Popen[bytes], str]:
    return harness.start_local_api("--workers", str(workers))


def _cpu_roots(target: str, server: subprocess.Popen[bytes] | None) -> list[int]:
    """The processes whose CPU a cell of this target counts (docstring: CPU per answer)."""
    if target in ("local", BEFORE_TARGET) and server:
        return [server.pid]
    if target == "seed":
        return [int(pid) for pid in os.environ.get("SEED_PIDS", "").split()]
    return []


def _target_url(target: str, workers: int, before_root: Path | None) -> tuple[subprocess.Popen[bytes] | None, str]:
    """The base URL of a target (and the local server started for it), or "" where it is not there to measure."""
    if target == BEFORE_TARGET:
        if before_root is None:
            raise SystemExit(f"--target {BEFORE_TARGET} needs --before REF")
        return harness.start_local_api(code_root=before_root)
    if target == "seed":
        base_url = os.environ.get("SEED_BASE_URL", "")
        if not base_url or not os.environ.get("SEED_TOKEN"):
            print("no seed server (SEED_BASE_URL and SEED_TOKEN): skipped, the table keeps issue 17's figures")
            return None, ""
        return None, base_url
    if target == "local":
        return _local_api(workers)
    if target == "deployed":
        base_url = harness.api_base_url() or ""
        if not base_url:
            print("no deployed stack (API_BASE_URL or .local/api-url): skipped", file=sys.stderr)
        return None, base_url
    return None, os.environ.get("BENCH_AWS_ENDPOINT_URL", "http://127.0.0.1:4566")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--target", action="append", choices=(BEFORE_TARGET, *TARGETS), help="default: all (seed: with SEED_BASE_URL)"
    )
    parser.add_argument("--before", help=f"git ref whose make local-api is measured first, as {BEFORE_TARGET}")
    parser.add_argument("--route", action="append", choices=tuple(ROUTES), help="default: both")
    parser.add_argument("--connections", default="10,50,200")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--timeout", type=int, default=10, help="seconds before autocannon counts a timeout")
    parser.add_argument(
        "--warmup", type=int, default=5, help="untimed seconds at the same connections before each timed run (0: none)"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="make local-api's worker processes")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--settle-queue", default="task.notifications", help="the deployed stack's notifications queue")
    parser.add_argument("--settle-timeout", type=float, default=180.0)
    args = parser.parse_args(argv)
    sys.path[:0] = [str(ROOT / "layers" / "shared")]  # taskapp, for the request bodies and the token minting
    if not (LOAD_DIR / "node_modules" / "autocannon").is_dir():
        raise SystemExit("autocannon is not installed: run `npm ci` in benchmarks/load (make bench-load does)")
    levels = [int(level) for level in args.connections.split(",")]
    stored_path = harness.RESULTS / f"{RESULTS}.json"
    stored: dict[str, Any] = json.loads(stored_path.read_text()) if stored_path.exists() else {"cells": {}}
    unmeasured: list[str] = []
    scratch = tempfile.TemporaryDirectory(prefix="bench-load-before-") if args.before else None
    before_root = harness.export_tree(args.before, Path(scratch.name), BEFORE_EXPORTED) if scratch else None
    for target in args.target or ((BEFORE_TARGET,) if args.before else ()) + TARGETS:
        server, base_url = _target_url(target, args.workers, before_root)
        if not base_url:
            continue
        try:
            for route in args.route or tuple(ROUTES):
                for level in levels:
                    cell = measure_cell(target, route, level, base_url, args, cpu_roots=_cpu_roots(target, server))
                    if target == BEFORE_TARGET:
                        cell["code"] = args.before
                    stored["cells"][f"{target}|{route}|{level}"] = cell
                    print(f"{target:9} {route:5} {level:4}: {_cell_text(cell)}", flush=True)
                    if cell.get("unexpected"):
                        unmeasured.append(f"{target} {route} {level}")
        finally:
            if server:
                server.terminate()
                server.wait(15)
    if scratch:
        scratch.cleanup()
    stored.update(machine=harness.machine(), updated_at=harness.utc_now())
    harness.write_report(RESULTS, data=stored, markdown=markdown(stored["cells"], [10, 50, 200]))
    if unmeasured:
        print("cells whose answers were not the route's (see the table): " + "; ".join(unmeasured), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
