"""Issue 16's two questions, answered in one run on the local stack: what Idempotency-Key costs a create, and
whether the Redis task cache pays for itself against a DynamoDB GetItem.

In-process (the handlers called as Lambda calls them, authorizer context included), against MiniStack's DynamoDB
(127.0.0.1:4566) and the local Redis (6379); neither is started, restarted or reconfigured. The run writes only to
tables of its own (`bench-http-*-<run>`, deleted at the end) and to Redis database 15 (its keys deleted at the end).
Variants alternate in blocks, so machine load falls on all of them alike.

- create: POST /tasks without the header; with a new key each time (Powertools' in-progress put + the create +
  the success update); a replay of a used key (the conditional put fails and returns the stored response).
- read: GET /tasks/{id} with the cache off (one consistent GetItem) and on, hitting (one Redis MGET); plus the
  bare calls underneath (boto3 GetItem vs redis-py MGET of the entry and floor keys).

    .venv/bin/python -m benchmarks.http_semantics [--rounds 20] [--block 10]

Writes benchmarks/http-semantics.json and .md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import uuid
from collections.abc import Callable
from typing import Any

from benchmarks import harness
from benchmarks.harness import ROOT, summarize

DYNAMODB = "http://127.0.0.1:4566"
REDIS = "redis://127.0.0.1:6379/15"


def _environment(run: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "bench-http-semantics",
        "DYNAMODB_ENDPOINT": DYNAMODB,
        "REDIS_URL": REDIS,
        "TASKS_TABLE": f"bench-http-tasks-{run}",
        "USERS_TABLE": f"bench-http-users-{run}",
        "SESSIONS_TABLE": f"bench-http-sessions-{run}",
        "IDEMPOTENCY_TABLE": f"bench-http-idempotency-{run}",
        "JWT_SECRET": f"bench-http-semantics-{uuid.uuid4().hex}",
        "RATE_LIMIT_USER_PER_MINUTE": "0",  # the limiter is not what is measured
        "TASK_CACHE_TTL_SECONDS": "600",  # hits stay hits for the whole run
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }


def _set_cache(enabled: bool) -> None:
    from taskapp import settings

    os.environ["TASK_CACHE_ENABLED"] = "true" if enabled else "false"
    settings.clear_cache()


def _create_tables() -> None:
    import boto3

    from taskapp.data.tasks import TaskModel
    from taskapp.settings import idempotency_settings

    TaskModel.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    boto3.client("dynamodb", endpoint_url=DYNAMODB).create_table(
        TableName=idempotency_settings().idempotency_table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )


def _drop_tables() -> None:
    import boto3

    from taskapp.settings import idempotency_settings, tasks_table_settings

    client = boto3.client("dynamodb", endpoint_url=DYNAMODB)
    for table in (tasks_table_settings().tasks_table, idempotency_settings().idempotency_table):
        client.delete_table(TableName=table)


def _events(owner_id: str) -> tuple[dict[str, Any], Callable[..., dict[str, Any]]]:
    """The authorizer context for a fresh token of `owner_id`, and a proxy-event builder that carries it."""
    from taskapp.auth.tokens import issue_access_token
    from tests.support.lambda_events import api_event

    context = harness.caller_context(issue_access_token(owner_id, str(uuid.uuid4())))

    def event(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return api_event(method, path, authorizer=context, **kwargs)

    return context, event


def measure(rounds: int, block: int) -> dict[str, Any]:
    import boto3
    import redis

    from taskapp.data import task_cache
    from tests.support.lambda_events import FakeLambdaContext, load_function

    create, get, update = load_function("create_task"), load_function("get_task"), load_function("update_task")
    lambda_context = FakeLambdaContext("bench")
    owner_id = str(uuid.uuid4())
    _, event = _events(owner_id)
    body = harness.create_task_body("bench", description="a task of ordinary size", tags=["bench"])

    def call(function: Any, proxy_event: dict[str, Any], expected: int) -> dict[str, Any]:
        result: dict[str, Any] = function.handler(proxy_event, lambda_context)
        if result["statusCode"] != expected:
            raise SystemExit(f"{proxy_event['httpMethod']} {proxy_event['path']}: {result['statusCode']} {result}")
        return result

    used_key = str(uuid.uuid4())
    first = call(create, event("POST", "/tasks", body=body, headers={"Idempotency-Key": used_key}), 201)
    task_id = json.loads(first["body"])["id"]
    get_event = event("GET", f"/tasks/{task_id}", resource="/tasks/{id}", path_params={"id": task_id})
    patch_event = event(
        "PATCH",
        f"/tasks/{task_id}",
        resource="/tasks/{id}",
        path_params={"id": task_id},
        body={"title": "patched"},
        headers={"If-Match": "*"},
    )
    cache_keys = task_cache._keys(owner_id, task_id)
    redis_client = redis.Redis.from_url(REDIS)

    def miss() -> None:
        """A read whose entry expired: MGET finds nothing, GetItem, then the offer script stores the copy."""
        _set_cache(True)
        redis_client.delete(cache_keys[0])  # part of the timing: one more Redis round trip, reported as such
        call(get, get_event, 200)

    def read(cache: bool) -> None:
        _set_cache(cache)
        call(get, get_event, 200)

    def patch(cache: bool) -> None:
        _set_cache(cache)
        call(update, patch_event, 200)

    variants: dict[str, Callable[[], object]] = {
        "create, no Idempotency-Key": lambda: call(create, event("POST", "/tasks", body=body), 201),
        "create, new Idempotency-Key": lambda: call(
            create, event("POST", "/tasks", body=body, headers={"Idempotency-Key": str(uuid.uuid4())}), 201
        ),
        "create, replayed Idempotency-Key": lambda: call(
            create, event("POST", "/tasks", body=body, headers={"Idempotency-Key": used_key}), 201
        ),
        "get, cache off (DynamoDB GetItem)": lambda: read(cache=False),
        "get, cache on, hit (Redis)": lambda: read(cache=True),
        "get, cache on, miss (+1 DEL to expire the entry)": miss,
        "patch, cache off": lambda: patch(False),
        "patch, cache on (floor + write-through)": lambda: patch(True),
    }
    dynamodb = boto3.client("dynamodb", endpoint_url=DYNAMODB)
    key = {"ownerId": {"S": owner_id}, "taskId": {"S": task_id}}
    from taskapp.settings import tasks_table_settings

    bare: dict[str, Callable[[], object]] = {
        "bare GetItem (consistent)": lambda: dynamodb.get_item(
            TableName=tasks_table_settings().tasks_table, Key=key, ConsistentRead=True
        ),
        "bare Redis MGET (entry + floor)": lambda: redis_client.mget(cache_keys),
    }
    everything = {**variants, **bare}
    samples: dict[str, list[float]] = {name: [] for name in everything}
    for variant in everything.values():  # warm every path (connections, clients, the cache entry) untimed
        for _ in range(5):
            variant()
    names = list(everything)
    for round_number in range(rounds):
        order = names if round_number % 2 == 0 else list(reversed(names))
        for name in order:
            if name == "get, cache on, hit (Redis)":
                read(cache=True)  # untimed: the entry is there whatever ran before
            samples[name] += harness.time_calls(everything[name], block)
    return {name: summarize(values, digits=2, suffix="_ms") for name, values in samples.items()}


def _ratio(figures: dict[str, Any], numerator: str, denominator: str) -> float:
    return round(figures[numerator]["p50_ms"] / figures[denominator]["p50_ms"], 2)


def _markdown(report: dict[str, Any]) -> str:
    figures = report["figures"]
    rows = [[name, f["n"], f["p50_ms"], f["p95_ms"], f["p99_ms"], f["mean_ms"]] for name, f in figures.items()]
    derived = report["derived"]
    return "\n".join(
        [
            "# Idempotency-Key cost and the Redis task cache, in-process on the local stack",
            "",
            f"Measured {report['measured_at']} on {report['machine']} (load average at start: "
            f"{report['load_average']}, at end: {report['load_average_end']}); `python -m benchmarks.http_semantics`.",
            "Handlers called in-process as Lambda calls them; DynamoDB is MiniStack's, Redis the local one.",
            "",
            harness.markdown_table(["what", "n", "p50 ms", "p95 ms", "p99 ms", "mean ms"], rows, "lrrrrr"),
            "",
            f"- Idempotency-Key adds **{derived['idempotency_adds_p50_ms']} ms** (p50) to a create "
            f"({derived['idempotency_create_ratio']}x); a replay answers in {derived['replay_vs_plain_create']}x a "
            "plain create's time.",
            f"- A cache hit takes **{derived['cache_hit_vs_getitem']}x** the p50 of a GET served by DynamoDB "
            f"(saves {derived['cache_saves_p50_ms']} ms); the bare calls: MGET/GetItem "
            f"{derived['bare_mget_vs_getitem']}x. A miss costs {derived['cache_miss_costs_p50_ms']} ms more than no "
            f"cache, a PATCH {derived['cache_write_costs_p50_ms']} ms more; reads alone break even at a hit rate of "
            f"{derived['break_even_hit_rate']}.",
            "",
            "What the cache decision rests on: docs/data-model.md (Task cache).",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--block", type=int, default=10)
    args = parser.parse_args()
    run = uuid.uuid4().hex[:8]
    os.environ.update(_environment(run))
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "shared")]
    import redis

    redis_client = redis.Redis.from_url(REDIS)
    if redis_client.dbsize():
        raise SystemExit(f"{REDIS} is not empty: refusing to use it for the benchmark")
    started_load = harness.load_average()
    _create_tables()
    try:
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # the handlers' EMF metric lines
            figures = measure(args.rounds, args.block)
    finally:
        _drop_tables()
        for key in redis_client.scan_iter("*"):
            redis_client.delete(key)
    plain, keyed = figures["create, no Idempotency-Key"], figures["create, new Idempotency-Key"]
    report = {
        "measured_at": harness.utc_now(),
        "machine": harness.machine(),
        "load_average": started_load,
        "load_average_end": harness.load_average(),
        "figures": figures,
        "derived": {
            "idempotency_adds_p50_ms": round(keyed["p50_ms"] - plain["p50_ms"], 2),
            "idempotency_create_ratio": _ratio(figures, "create, new Idempotency-Key", "create, no Idempotency-Key"),
            "replay_vs_plain_create": _ratio(figures, "create, replayed Idempotency-Key", "create, no Idempotency-Key"),
            "cache_hit_vs_getitem": _ratio(figures, "get, cache on, hit (Redis)", "get, cache off (DynamoDB GetItem)"),
            "cache_saves_p50_ms": round(
                figures["get, cache off (DynamoDB GetItem)"]["p50_ms"]
                - figures["get, cache on, hit (Redis)"]["p50_ms"],
                2,
            ),
            "bare_mget_vs_getitem": _ratio(figures, "bare Redis MGET (entry + floor)", "bare GetItem (consistent)"),
            "cache_miss_costs_p50_ms": round(
                figures["get, cache on, miss (+1 DEL to expire the entry)"]["p50_ms"]
                - figures["get, cache off (DynamoDB GetItem)"]["p50_ms"]
                - figures["bare Redis MGET (entry + floor)"]["p50_ms"],  # the DEL, about one round trip
                2,
            ),
            "cache_write_costs_p50_ms": round(
                figures["patch, cache on (floor + write-through)"]["p50_ms"] - figures["patch, cache off"]["p50_ms"], 2
            ),
        },
    }
    derived: dict[str, Any] = report["derived"]  # type: ignore[assignment]
    saves, costs = derived["cache_saves_p50_ms"], derived["cache_miss_costs_p50_ms"]
    # Reads only: the cache pays when hit_rate * saves > (1 - hit_rate) * costs.
    derived["break_even_hit_rate"] = round(costs / (saves + costs), 2) if saves > 0 and costs > 0 else None
    harness.write_report("http-semantics", data=report, markdown=_markdown(report))
    print(_markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
