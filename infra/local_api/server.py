"""`make local-api`: template.yaml's API on 127.0.0.1:3000, no Docker.

Workers: `--workers N` (default: the core count) serves the functions from a pool of N worker processes, so
concurrent requests run in parallel (infra/local_api/pool.py says why per request, not pre-forked servers);
`--workers 1` runs them in this interpreter one at a time, the mode the unit tests and tests/resilience use. Either
way at most `--max-pending` requests are inside the server: the next one is a fast 503 `OVERLOADED` with Retry-After.
Server: the standard library's ThreadingHTTPServer. It is maintained with CPython, speaks HTTP/1.1 keep-alive,
runs one thread per connection and adds no dependency; the gateway does the API Gateway work, so a WSGI stack
(werkzeug) would add a layer without adding behaviour.
Reload: stat polling (every 0.5 s) of functions/ and the layers' *.py files; on a change every function module and
the shared `taskapp` package are dropped, so the next request is a cold start on the new code. Polling was chosen
over watchdog because it needs no native watcher and behaves the same on every filesystem; ~50 files cost
microseconds per poll.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from infra.local_api.gateway import GatewayResponse, HttpRequest, LocalGateway
from infra.local_api.loader import RELOADED_PACKAGES, add_layers_to_path
from infra.local_api.pool import Admission, WorkerConfig, WorkerPool, overloaded_response
from infra.local_api.tables import ensure_schedule_group, ensure_tables, ensure_webhook_resources, table_variables
from infra.local_api.template import ROOT, FunctionSpec, SamTemplate

log = logging.getLogger("local_api")
DEFAULT_ENV_FILE = ROOT / "env.local.json"
# Requests inside the server (running or waiting) before the next is refused with 503: above the 200 connections of
# the load test, so a client that waits its turn is served and only a flood is turned away.
DEFAULT_MAX_PENDING = 256


def process_environment(template: SamTemplate, env_vars: dict[str, Any]) -> dict[str, str]:
    """The env every function shares in this one interpreter (the template's Globals with the file applied).

    All functions run in one process, so per-function variables cannot differ; only POWERTOOLS_SERVICE_NAME does
    in this template, and the logs name the function anyway.
    """
    merged: dict[str, str] = {}
    for spec in template.functions.values():
        env = template.environment_for(spec, env_vars=env_vars)
        env.pop("POWERTOOLS_SERVICE_NAME", None)
        merged.update(env)
    merged.setdefault("POWERTOOLS_SERVICE_NAME", "local-api")
    return merged


# MiniStack accepts any key pair; botocore only needs one to sign requests.
LOCAL_AWS_KEY = "test"


def apply_environment(environment: dict[str, str]) -> None:
    for name, value in environment.items():
        os.environ[name] = value
    for name, value in {
        "AWS_ACCESS_KEY_ID": LOCAL_AWS_KEY,
        "AWS_SECRET_ACCESS_KEY": LOCAL_AWS_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "local-api",
    }.items():
        os.environ.setdefault(name, value)


# Load and fuzz runs send thousands of requests from one IP: they serve the API with these limits instead.
UNLIMITED_RATES = dict.fromkeys(
    (
        "RATE_LIMIT_USER_PER_MINUTE",
        "RATE_LIMIT_REGISTRATIONS_PER_IP",
        "RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT",
        "RATE_LIMIT_LOGIN_FAILURES_PER_IP",
        "RATE_LIMIT_REFRESHES_PER_SESSION",
    ),
    "1000000",
)


# The Redis database and table-name suffix of a load or fuzz run: storage of its own, beside the developer's.
LOAD_RUN_REDIS_DB = 1
LOAD_RUN_TABLE_SUFFIX = "load-run"


def load_run_env_file(directory: Path, template: SamTemplate | None = None, base: Path = DEFAULT_ENV_FILE) -> Path:
    """The env file a load or fuzz run serves the API with: no rate limits, and tables and a Redis of its own.

    Why its own storage: those runs register hundreds of users from 127.0.0.1 with the limits lifted. On the
    developer's Redis database they filled the per-IP registration window that `make local-api` and a `make run`
    stack count in too (default 50 an hour), which then refused every sign-up for up to an hour after `make test`.
    The tables move with the Redis database, so tokens this server issues are checked against its own revocation
    list and sessions, never half against the developer's.
    """
    template = template or SamTemplate()
    env_vars = read_env_file(base)
    environment = process_environment(template, env_vars)
    overrides = dict(UNLIMITED_RATES)
    for variable in table_variables(template):
        if variable in environment:
            overrides[variable] = f"{environment[variable]}-{LOAD_RUN_TABLE_SUFFIX}"
    if "REDIS_URL" in environment:
        overrides["REDIS_URL"] = with_redis_database(environment["REDIS_URL"], LOAD_RUN_REDIS_DB)
    return env_file_with(directory, overrides, base)


def with_redis_database(url: str, database: int) -> str:
    """`url` pointing at another database number (redis://host:port/N; the query string is kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def env_file_with(directory: Path, overrides: dict[str, str], base: Path = DEFAULT_ENV_FILE) -> Path:
    """A copy of an env file with some variables overridden for every function; returns its path."""
    env_vars = read_env_file(base)
    env_vars["Parameters"] = {**(env_vars.get("Parameters") or {}), **overrides}
    path = directory / "env.json"
    path.write_text(json.dumps(env_vars, indent=2))
    return path


def read_env_file(path: Path | None) -> dict[str, Any]:
    if path is None or not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text())
    return data


class CodeWatcher(threading.Thread):
    """Stat-polls source files; calls on_change once per batch of edits."""

    def __init__(self, roots: list[Path], on_change: Any, interval: float = 0.5) -> None:
        super().__init__(daemon=True, name="code-watcher")
        self.roots, self.on_change, self.interval = roots, on_change, interval
        self._stop_event = threading.Event()
        self._seen = self._snapshot()

    def _snapshot(self) -> dict[Path, float]:
        stamps = {}
        for root in self.roots:
            for file in root.rglob("*.py"):
                try:
                    stamps[file] = file.stat().st_mtime
                except FileNotFoundError:
                    continue
        return stamps

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            current = self._snapshot()
            if current != self._seen:
                every = current.keys() | self._seen.keys()
                changed = sorted(str(path) for path in every if current.get(path) != self._seen.get(path))
                self._seen = current
                self.on_change(changed)

    def stop(self) -> None:
        self._stop_event.set()


def make_handler(serve: Callable[[HttpRequest], GatewayResponse]) -> type[BaseHTTPRequestHandler]:
    """The HTTP side: parse a request, hand it to `serve` (the gateway, or the worker pool), write the answer."""

    class ProxyHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a warm request does not pay for a TCP handshake
        server_version = "taskapp-local-api"
        # Headers and body leave in two writes; with Nagle on, the client's delayed ACK adds ~40 ms to each.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            started = time.perf_counter()
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = HttpRequest(
                method=self.command,
                path=url.path,
                headers=list(self.headers.items()),
                query=parse_qsl(url.query, keep_blank_values=True),
                body=body,
                source_ip=self.client_address[0],
            )
            response = serve(request)
            self.send_response(response.status)
            for name, value in response.headers:
                if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
            millis = (time.perf_counter() - started) * 1000
            log.info("%s %s -> %s in %.1f ms", self.command, url.path, response.status, millis)

        def __getattr__(self, name: str) -> Any:
            # Every method (TRACE, PROPFIND ...) reaches the gateway, which answers like API Gateway does.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return  # one line per request is logged by _serve with its latency

    return ProxyHandler


class LocalHTTPServer(ThreadingHTTPServer):
    """One thread per connection, with a listen backlog for a load test's 200 connections opened at once:
    socketserver's default of 5 leaves the rest of such a burst to SYN retries, a second or more each."""

    daemon_threads = True
    request_queue_size = 512


def _prepare(
    template: SamTemplate | None, env_file: Path | None, create_tables: bool
) -> tuple[SamTemplate, dict[str, str]]:
    """This process's environment from the template and the env file, the layers on sys.path, the tables made."""
    template = template or SamTemplate()
    environment = process_environment(template, read_env_file(env_file))
    apply_environment(environment)
    add_layers_to_path(template.layer_dirs)
    if create_tables:
        created = ensure_tables(template, environment, environment.get("DYNAMODB_ENDPOINT"))
        if created:
            log.info("created tables %s", ", ".join(created))
        if ensure_schedule_group(environment, environment.get("DYNAMODB_ENDPOINT")):
            log.info("created schedule group %s", environment["REMINDER_SCHEDULE_GROUP"])
        webhook_queues = ensure_webhook_resources(environment, environment.get("DYNAMODB_ENDPOINT"))
        environment.update(webhook_queues)
        apply_environment(webhook_queues)
    return template, environment


Serve = Callable[[HttpRequest], GatewayResponse]


def admitted(serve: Serve, max_pending: int) -> Serve:
    """`serve`, refusing at once (503 OVERLOADED) while `max_pending` requests are already inside."""
    admission = Admission(max_pending)

    def serve_admitted(request: HttpRequest) -> GatewayResponse:
        if not admission.enter():
            return overloaded_response("queue full")
        try:
            return serve(request)
        finally:
            admission.leave()

    return serve_admitted


def build_server(
    host: str,
    port: int,
    *,
    template: SamTemplate | None = None,
    env_file: Path | None = DEFAULT_ENV_FILE,
    create_tables: bool = True,
    max_pending: int = DEFAULT_MAX_PENDING,
) -> tuple[ThreadingHTTPServer, LocalGateway]:
    """The in-process server: every function in this interpreter, one invocation at a time."""
    template, environment = _prepare(template, env_file, create_tables)

    def on_invoke(spec: FunctionSpec, event: dict[str, Any], millis: float) -> None:
        log.debug("%s handled %s in %.1f ms", spec.logical_id, event.get("httpMethod", "event"), millis)

    gateway = LocalGateway(template, stage=environment.get("STAGE", "local"), on_invoke=on_invoke)
    server = LocalHTTPServer((host, port), make_handler(admitted(gateway.handle, max_pending)))
    return server, gateway


def build_pool_server(
    host: str,
    port: int,
    *,
    workers: int,
    template: SamTemplate | None = None,
    env_file: Path | None = DEFAULT_ENV_FILE,
    create_tables: bool = True,
    max_pending: int = DEFAULT_MAX_PENDING,
    queue_timeout: float = 5.0,
    reloaded_packages: tuple[str, ...] = RELOADED_PACKAGES,
) -> tuple[ThreadingHTTPServer, WorkerPool]:
    """The server in front of `workers` worker processes; the caller closes the pool after the server."""
    template, environment = _prepare(template, env_file, create_tables)
    stage = environment.get("STAGE", "local")
    config = WorkerConfig(template.path, environment, stage, reloaded_packages, log.getEffectiveLevel())
    crash_response = LocalGateway(template, stage=stage).crash_response
    pool = WorkerPool(
        workers, config, max_pending=max_pending, queue_timeout=queue_timeout, crash_response=crash_response
    )
    server = LocalHTTPServer((host, port), make_handler(pool.handle))
    return server, pool


def code_roots(template: SamTemplate) -> list[Path]:
    """What the reload watches: the functions' folder (the template's own folder for a template without one) and
    the layers."""
    functions = template.root / "functions"
    return [functions if functions.is_dir() else template.root, *template.layer_dirs]


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local_api", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOCAL_API_PORT", "3000")))
    parser.add_argument("--env-vars", type=Path, default=DEFAULT_ENV_FILE, help="SAM --env-vars style JSON file")
    parser.add_argument("--template", type=Path, default=None, help="the SAM template (default: template.yaml)")
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("LOCAL_API_WORKERS") or os.cpu_count() or 1),
        help="worker processes (default: the core count); 1 runs every function in this process, one at a time",
    )
    parser.add_argument(
        "--max-pending",
        type=int,
        default=DEFAULT_MAX_PENDING,
        help="requests running or waiting before the next is answered 503 OVERLOADED with Retry-After",
    )
    parser.add_argument(
        "--queue-timeout", type=float, default=5.0, help="seconds a request waits for a free worker before a 503"
    )
    parser.add_argument("--no-reload", action="store_true", help="do not watch the code for changes")
    parser.add_argument("--no-create-tables", action="store_true", help="do not create missing DynamoDB tables")
    parser.add_argument("--quiet", action="store_true", help="log warnings only (benchmarks)")
    args = parser.parse_args(argv)
    level = logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    template = SamTemplate(args.template.resolve()) if args.template else SamTemplate()
    options: dict[str, Any] = {
        "template": template,
        "env_file": args.env_vars,
        "create_tables": not args.no_create_tables,
        "max_pending": args.max_pending,
    }
    pool: WorkerPool | None = None
    if args.workers > 1:
        server, pool = build_pool_server(
            args.host, args.port, workers=args.workers, queue_timeout=args.queue_timeout, **options
        )
        forget: Callable[[], None] = pool.reload
        stage = pool.stage
    else:
        server, gateway = build_server(args.host, args.port, **options)
        forget, stage = gateway.loader.forget_all, gateway.stage
    watcher = None
    if not args.no_reload:

        def reload(changed: list[str]) -> None:
            log.info("code changed (%s): reloading on next request", ", ".join(changed[:5]))
            forget()

        watcher = CodeWatcher(code_roots(template), reload)
        watcher.start()
    host, port = server.server_address[:2]
    workers = f"{pool.size} worker processes" if pool else "in-process"
    log.warning("serving %s routes on http://%s:%s (stage %s, %s)", len(template.routes), host, port, stage, workers)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)  # `kill <pid>` stops the workers too, as Ctrl-C does
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        if watcher:
            watcher.stop()
        server.server_close()
        if pool:
            pool.close()
    return 0
