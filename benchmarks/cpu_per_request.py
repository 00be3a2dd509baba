"""CPU-ms per 1,000 warm requests per route, in-process: the authorizer + GET /tasks/{id}, POST /tasks (two ways).

What Lambda bills is CPU in the authorizer and the route's function; this counts it with `time.process_time()`
around N requests (after a warm-up), so the backends' own CPU, in their own processes, is never in the figure.

Two backends, each in a fresh interpreter:
- `stub`: Redis answers from an in-memory stub (the revocation MGET, the rate-limit script, the task cache, whose
  hit serves a warm GET as with a real Redis) and DynamoDB from a
  botocore `before-send` hook with canned responses: botocore still builds, signs and serialises each request and
  parses each response; only the sockets are gone. This is the figure the issue's goal (<= 1.5 CPU-ms per warm
  request) is about.
- `loopback`: the real local Redis and MiniStack's DynamoDB (env.local.json): the same code plus our side of the
  sockets and of HTTP (urllib3, redis-py's parser).

Both sign as the deployed functions do, with botocore's pure-Python SigV4: the layer has no awscrt, which the dev
venv has (aws-sam-cli's `boto3[crt]`) and botocore would otherwise sign with.

Why `loopback` costs more than `stub`: each request makes a few blocking round trips (Redis commands, DynamoDB
calls; counted per route in a separate pass), and each costs the caller CPU in the kernel (send, sleep, be woken;
on a VM, a wake-up across vCPUs) and in the client libraries. The loopback child prices the floor of that in the
same run (`host_round_trip`: CPU per Redis PING, user and system apart), so a host's share can be told from the
libraries' (urllib3, http.client, botocore's response handling, redis-py's parser).

Each figure is the least of three batches of N requests (a shared machine only ever adds CPU). Per route, three
figures: the authorizer handler alone, the route's handler alone (each with its event built once,
as Lambda hands it), and the whole request through `LocalGateway.handle` (`make local-api`'s in-process path: the
two handlers plus building the proxy event, which API Gateway does on AWS).

`before` and `after` in one run: `--before REF` (default `main`) measures the code of that git ref (template,
functions and layer exported with `git archive` into a scratch folder) with this same script, then the working tree.

    python -m benchmarks.cpu_per_request [--before main] [--requests 2000] [--backend stub --backend loopback]
Writes benchmarks/cpu-per-request.{json,md}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks import harness
from benchmarks.harness import ROOT

if TYPE_CHECKING:
    from infra.local_api import SamTemplate

GOAL_CPU_MS = 1.5
ROUNDS = 3  # batches per figure; the least is reported
COUNTED_REQUESTS = 20  # requests per route whose round trips are counted (loopback)
PING_ROUND_TRIPS = 2000  # per batch of the host's round-trip price
BACKENDS = ("stub", "loopback")
# "POST /tasks" carries a description and a tag (a second write: the TaskTagsTable item); "(seed's body)" is the
# first seed's own load-test request, a title alone: one PutItem, the request issue 17 compares against.
ROUTES = ("GET /tasks/{id}", "POST /tasks", "POST /tasks (seed's body)")
# The code a `before` measurement needs from its ref: what the gateway serves.
EXPORTED = ("template.yaml", "functions", "layers")


class _CannedBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def _window_allows(args: Sequence[Any]) -> list[int]:
    """The sliding window's answer when the limit is never reached: allowed, remaining, reset (ARGV: now_ms,
    window_ms, limit, member), whether it comes through a Script or the pipeline's EVALSHA."""
    return [1, int(args[2]) - 1, int(args[0]) + int(args[1])]


class _InstantRedis:
    """The hot path's Redis calls answered at once: no key revoked, the rate limit never reached, and the task
    cache (taskapp.data.task_cache) keeping what its scripts store, so a warm GET is a cache hit as with Redis."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def mget(self, keys: list[str]) -> list[str | None]:
        return [self.values.get(key) for key in keys]

    def register_script(self, script: str) -> Callable[..., Any]:
        if "ARGV[1] .. '|' .. ARGV[2]" in script:  # the task cache's offer/advance: SET KEYS[1] "version|payload"

            def store(keys: list[str], args: list[Any]) -> int:
                self.values[keys[0]] = f"{args[0]}|{args[1]}"
                return 1

            return store

        return lambda keys, args: _window_allows(args)  # the rate limiter's sliding window

    def pipeline(self, transaction: bool = True) -> _InstantPipeline:
        return _InstantPipeline(self)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"the stub Redis has no {name}: the hot path changed, update {__name__}")


class _InstantPipeline:
    """The rate limiter's pipeline (taskapp.rate_limit.hit_and_read): the window's EVALSHA, then an MGET."""

    def __init__(self, redis: _InstantRedis) -> None:
        self._redis = redis
        self._answers: list[Any] = []

    def evalsha(self, sha: str, key_count: int, *keys_and_args: Any) -> None:
        self._answers.append(_window_allows(keys_and_args[key_count:]))

    def mget(self, keys: list[str]) -> None:
        self._answers.append(self._redis.mget(keys))

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        return self._answers


def _stub_backends(owner_id: str, task_id: str) -> None:
    """Redis and DynamoDB without sockets; botocore's request and response work still runs."""
    from botocore.awsrequest import AWSResponse

    from taskapp import redis_client
    from taskapp.data.tasks import TagModel, TaskModel

    stub = _InstantRedis()
    redis_client.get_redis.cache_clear()
    redis_client.get_redis = lambda: stub  # type: ignore[assignment]
    canned = {
        "GetItem": json.dumps({"Item": harness.task_item(owner_id, task_id)}).encode(),
        "PutItem": b"{}",
        # The tag items a task with tags writes first (TaskTagsTable): without it the "stub" POST sent a real request.
        "BatchWriteItem": b'{"UnprocessedItems": {}}',
    }

    def answer(request: Any, event_name: str, **_: Any) -> Any:
        operation = event_name.rsplit(".", 1)[-1]
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "stub"}
        return AWSResponse(request.url, 200, headers, _CannedBody(canned[operation]))  # type: ignore[arg-type]

    # The two models may share one client (one botocore session per thread): each client answers once.
    clients = {id(client): client for client in (m._get_connection().connection.client for m in (TaskModel, TagModel))}
    for client in clients.values():
        for operation in canned:
            client.meta.events.register_first(f"before-send.dynamodb.{operation}", answer)


def _cpu_ms_per_1000(call: Callable[[], object], requests: int, rounds: int = ROUNDS) -> float:
    """CPU-ms per 1,000 calls: the least of `rounds` batches, as other jobs on a shared machine only ever add to it."""
    for _ in range(min(200, requests)):
        call()
    batches = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(requests):
            call()
        batches.append((time.process_time() - started) * 1000 / requests * 1000)
    return round(min(batches), 1)


def _host_round_trip(round_trips: int = PING_ROUND_TRIPS, rounds: int = ROUNDS) -> dict[str, float]:
    """This process's CPU-us per blocking Redis PING (the least batch), split into user and system time.

    `os.times()` splits by the scheduler's samples, so user/system are approximate; their sum is the same
    clock as `process_time`.
    """
    import redis

    client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    client.ping()
    batches = []
    for _ in range(rounds):
        before, started = os.times(), time.perf_counter()
        for _ in range(round_trips):
            client.ping()
        after, wall = os.times(), time.perf_counter() - started
        user, system = after.user - before.user, after.system - before.system
        batches.append((user + system, user, system, wall))
    total, user, system, wall = min(batches)
    per = 1e6 / round_trips
    return {
        "cpu_us": round(total * per, 1),
        "user_us": round(user * per, 1),
        "system_us": round(system * per, 1),
        "wall_us": round(wall * per, 1),
    }


@contextlib.contextmanager
def _counting_backend_calls() -> Iterator[Counter[str]]:
    """Count the round trips made inside the block: one per Redis command or pipeline sent, one per HTTP request
    botocore sends (DynamoDB). Counting wraps the senders, so it runs apart from the timed batches."""
    from botocore.httpsession import URLLib3Session
    from redis.connection import AbstractConnection

    calls: Counter[str] = Counter()
    send_redis, send_http = AbstractConnection.send_packed_command, URLLib3Session.send

    def counted_redis(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["redis"] += 1
        return send_redis(self, *args, **kwargs)

    def counted_http(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["dynamodb"] += 1
        return send_http(self, *args, **kwargs)

    AbstractConnection.send_packed_command = counted_redis  # type: ignore[method-assign]
    URLLib3Session.send = counted_http  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        AbstractConnection.send_packed_command = send_redis  # type: ignore[method-assign]
        URLLib3Session.send = send_http  # type: ignore[method-assign]


def _round_trips_per_request(request: Callable[[], object], requests: int = COUNTED_REQUESTS) -> dict[str, float]:
    with _counting_backend_calls() as calls:
        for _ in range(requests):
            request()
    return {name: calls[name] / requests for name in ("redis", "dynamodb")}


def _prepare_backend(backend: str, template: SamTemplate, owner_id: str, task_id: str) -> None:
    """`stub`: the sockets replaced; `loopback`: the real tables, holding the task the GET reads."""
    if backend == "stub":
        _stub_backends(owner_id, task_id)
        return
    from infra.local_api.tables import ensure_tables
    from taskapp.data.tasks import TaskModel

    # A fresh local stack has none of `make local-api`'s tables until that server first starts.
    environment = dict(os.environ)
    ensure_tables(template, environment, environment.get("DYNAMODB_ENDPOINT"))
    TaskModel(owner_id, task_id, **_task_attributes(owner_id, task_id)).save()


def measure(code_root: Path, backend: str, requests: int) -> dict[str, Any]:
    """In this interpreter: the gateway over `code_root`'s template, with `backend`; CPU-ms per 1,000 requests."""
    from infra.local_api import FunctionSpec, HttpRequest, LocalGateway, SamTemplate
    from infra.local_api.gateway import authorizer_request_context, build_proxy_event
    from infra.local_api.loader import add_layers_to_path
    from infra.local_api.server import UNLIMITED_RATES, apply_environment, process_environment, read_env_file

    template = SamTemplate(code_root / "template.yaml")
    env_vars = read_env_file(ROOT / "env.local.json")
    env_vars["Parameters"] = {**env_vars.get("Parameters", {}), **UNLIMITED_RATES}
    apply_environment(process_environment(template, env_vars))
    add_layers_to_path(template.layer_dirs)
    gateway = LocalGateway(template, stage="local")
    owner_id, task_id = str(uuid.uuid4()), str(uuid.uuid4())
    for spec in template.functions.values():
        if spec.folder in ("authorizer", "get_task", "create_task"):
            gateway.loader.load(spec)  # imported before the stubs go in: they patch the modules the handlers use
    _prepare_backend(backend, template, owner_id, task_id)

    from taskapp.auth.tokens import issue_access_token

    token = issue_access_token(owner_id, str(uuid.uuid4())).token
    headers = [("Authorization", f"Bearer {token}"), ("Content-Type", "application/json"), ("User-Agent", "bench")]
    body = json.dumps(harness.create_task_body("cpu benchmark", description="measured", tags=["bench"])).encode()
    requests_by_route = {
        "GET /tasks/{id}": HttpRequest("GET", f"/tasks/{task_id}", headers=headers),
        "POST /tasks": HttpRequest("POST", "/tasks", headers=headers, body=body),
        "POST /tasks (seed's body)": HttpRequest(
            "POST", "/tasks", headers=headers, body=json.dumps({"title": "load-test-task"}).encode()
        ),
    }
    authorizer = template.authorizer_function
    assert authorizer is not None
    results: dict[str, Any] = {}
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):  # EMF metrics are still written
        for route_name, request in requests_by_route.items():
            matched = gateway.match(request.method, request.path)
            assert matched is not None, route_name
            route, path_parameters = matched
            spec = template.function(route.logical_id)
            arn = f"arn:aws:execute-api:us-east-1:000000000000:localapi/local/{route.method}{route.resource}"
            auth_event = {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": arn}
            policy = gateway.invoke(authorizer, auth_event)
            event = build_proxy_event(
                request, route, path_parameters, stage="local", authorizer_context=authorizer_request_context(policy)
            )
            expected = 200 if request.method == "GET" else 201

            def whole(request: HttpRequest = request, expected: int = expected) -> None:
                response = gateway.handle(request)
                if response.status != expected:
                    raise RuntimeError(f"{request.method} {request.path}: {response.status} {response.body[:300]!r}")

            def authorize(event: dict[str, Any] = auth_event) -> object:
                return gateway.invoke(authorizer, event)

            def handle(spec: FunctionSpec = spec, event: dict[str, Any] = event) -> object:
                return gateway.invoke(spec, event)

            results[route_name] = {
                "authorizer": _cpu_ms_per_1000(authorize, requests),
                "handler": _cpu_ms_per_1000(handle, requests),
                "through_gateway": _cpu_ms_per_1000(whole, requests),
            }
            figures = results[route_name]
            figures["billed"] = round(figures["authorizer"] + figures["handler"], 1)
            if backend == "loopback":
                figures["round_trips"] = _round_trips_per_request(whole)
    if backend == "loopback":
        results["host_round_trip"] = _host_round_trip()
    return results


def _task_attributes(owner_id: str, task_id: str) -> dict[str, Any]:
    from taskapp.data.tasks import to_model
    from taskapp.domain.tasks import new_task
    from taskapp.schemas.tasks import CreateTaskRequest

    model = to_model(new_task(owner_id, CreateTaskRequest(title="cpu benchmark"), task_id=task_id))
    return {name: value for name, value in model.attribute_values.items() if name not in ("owner_id", "task_id")}


def _sign_as_the_layer_does() -> None:
    """Hide awscrt from botocore in the measuring child, before botocore loads.

    The shared layer ships no awscrt (layers/shared/requirements.txt), so a deployed function signs each request
    with botocore's pure-Python SigV4. The dev venv has awscrt through aws-sam-cli's `boto3[crt]`, and with it
    botocore signs through the CRT instead: the figure would be of a signer Lambda never runs.
    """
    if "botocore" in sys.modules:
        raise RuntimeError("botocore was imported before the signer could be chosen")
    sys.modules["awscrt"] = None  # type: ignore[assignment]  # import awscrt -> ImportError: botocore.HAS_CRT False


def _measure_in_child(code_root: Path, backend: str, requests: int) -> dict[str, Any]:
    run = subprocess.run(  # noqa: S603 - this interpreter running this module
        [sys.executable, "-m", "benchmarks.cpu_per_request", "--child", str(code_root), backend, str(requests)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        return {"failed": run.stderr.strip().splitlines()[-1:] or [f"exit {run.returncode}"]}
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        "# CPU per warm request, in-process",
        "",
        f"Measured {report['measured_at']} on {report['machine']}; load average {report['load_average_start']} at "
        f"the start, {report['load_average_end']} at the end. {report['requests']} requests per batch after 200 "
        f"warm-up ones, the least of {ROUNDS} batches per figure. Produced by `python -m benchmarks.cpu_per_request` "
        "(method in its docstring).",
        "",
        "CPU-ms per 1,000 requests (`time.process_time`, this process only). `billed` = authorizer + handler, what "
        f"Lambda bills; goal <= {GOAL_CPU_MS * 1000:.0f} per 1,000 (1.5 ms a request) with the network stubbed.",
        "",
    ]
    header = ["backend", "route", "code", "authorizer", "handler", "billed", "through local gateway"]
    rows = []
    for backend, by_code in report["results"].items():
        for route in ROUTES:
            for code, by_route in by_code.items():
                if "failed" in by_route:
                    rows.append([backend, route, code, "failed", by_route["failed"], "", ""])
                    continue
                figures = by_route[route]
                rows.append(
                    [
                        backend,
                        route,
                        code,
                        figures["authorizer"],
                        figures["handler"],
                        f"**{figures['billed']}**",
                        figures["through_gateway"],
                    ]
                )
    lines.append(harness.markdown_table(header, rows, align="lllrrrr"))
    lines.extend(_round_trip_lines(report))
    return "\n".join(lines)


def _round_trip_lines(report: dict[str, Any]) -> list[str]:
    """What `loopback` adds over `stub`, per blocking round trip, beside the host's own price for one."""
    stub, loopback = report["results"].get("stub", {}), report["results"].get("loopback", {})
    rows = []
    for code, by_route in loopback.items():
        price = by_route.get("host_round_trip")
        if price is None or "failed" in stub.get(code, {"failed": True}):
            continue
        for route in ROUTES:
            figures, stubbed = by_route[route], stub[code][route]
            trips = figures["round_trips"]
            count = trips["redis"] + trips["dynamodb"]
            extra_us = figures["through_gateway"] - stubbed["through_gateway"]  # CPU-ms per 1,000 = CPU-us per request
            rows.append(
                [
                    route,
                    code,
                    f"{trips['redis']:g} + {trips['dynamodb']:g}",
                    f"{extra_us:.0f}",
                    f"{extra_us / count:.0f}" if count else "",
                    f"{price['cpu_us']:.0f} ({price['user_us']:.0f} user, {price['system_us']:.0f} system)",
                ]
            )
    if not rows:
        return []
    header = [
        "route",
        "code",
        "round trips (Redis + DynamoDB)",
        "loopback - stub, CPU-us",
        "per round trip",
        "host: one Redis PING, CPU-us",
    ]
    return [
        "",
        "## Why loopback costs more: round trips, priced by this host",
        "",
        "Per request through the local gateway (authorizer included): the blocking round trips it makes, counted in a "
        "separate pass, and the CPU `loopback` spends over `stub` in the same run, beside what one Redis PING costs "
        "this process on this host (the least of 3 batches of "
        f"{PING_ROUND_TRIPS:,}). A PING is the floor: a server that answers at once, back to back. What a round "
        "trip costs beyond it is the client libraries' own work (urllib3 and http.client's header parsing, "
        "botocore's response handling, redis-py's parser) and waking from idle while a slower server answers "
        "(MiniStack's PutItem takes milliseconds).",
        "",
        harness.markdown_table(header, rows, align="llrrrl"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main", help="git ref whose code is measured first ('' for none)")
    parser.add_argument("--requests", type=int, default=int(os.environ.get("BENCH_REQUESTS", "1000")))
    parser.add_argument("--backend", action="append", choices=BACKENDS, help="default: both")
    parser.add_argument("--child", nargs=3, metavar=("CODE_ROOT", "BACKEND", "REQUESTS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _sign_as_the_layer_does()
        code_root, backend, requests = args.child
        print(json.dumps(measure(Path(code_root), backend, int(requests))))
        return 0
    report: dict[str, Any] = {
        "measured_at": harness.utc_now(),
        "machine": harness.machine(),
        "load_average_start": harness.load_average(),
        "requests": args.requests,
        "before": args.before,
        "results": {},
    }
    with tempfile.TemporaryDirectory(prefix="cpu-per-request-") as scratch:
        codes = {"after (working tree)": ROOT}
        if args.before:
            codes = {f"before ({args.before})": harness.export_tree(args.before, Path(scratch), EXPORTED), **codes}
        for backend in args.backend or BACKENDS:
            report["results"][backend] = {
                code: _measure_in_child(root, backend, args.requests) for code, root in codes.items()
            }
    report["load_average_end"] = harness.load_average()
    harness.write_report("cpu-per-request", data=report, markdown=_markdown(report))
    print(_markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
