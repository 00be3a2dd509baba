"""A pool of worker processes behind `make local-api`: concurrent requests run in parallel, one per worker at a time.

Why processes and not threads: every function shares one interpreter's module state (Powertools' logger keys, the
resolvers' current event, os.environ), so one interpreter can run one invocation at a time (`LocalGateway`'s lock).
Lambda itself gives each concurrent request an execution environment of its own; here each worker is one: a
`LocalGateway` over the same template, with the same event shapes, authorizer flow and lazy (cold) imports.

Why the HTTP server stays in the parent and hands each *request* to an idle worker, instead of N pre-forked servers
sharing the listening socket: with keep-alive, a pre-forked server owns a connection for its whole life, so two
connections accepted by the same busy worker queue behind each other while another worker idles. Dispatching per
request keeps every worker busy while there is work, and gives one place to bound the queue: past `max_pending`
requests, or after `queue_timeout` seconds without a free worker, the answer is a fast 503 `OVERLOADED` with
`Retry-After` instead of a connection that hangs. The price is a pickle over a pipe each way (~0.1 ms).

Workers are started with `spawn` (a fresh interpreter, nothing inherited from the parent's threads), ignore Ctrl-C
(the parent stops them), exit when the parent's end of their pipe closes, and are replaced when one dies mid-request
(that request is API Gateway's 502, like a crashed Lambda). Reload: the parent bumps a shared generation number; a
worker that sees a new one forgets every function module before its next request, as the in-process server does.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import queue
import signal
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from infra.local_api.gateway import GatewayResponse, HttpRequest

log = logging.getLogger("local_api")
RETRY_AFTER_SECONDS = 1
_READY = "ready"


def overloaded_response(reason: str) -> GatewayResponse:
    """503 in the project's error shape with Retry-After: the local server's answer when its queue is full."""
    request_id = str(uuid.uuid4())
    body = {
        "error": {
            "code": "OVERLOADED",
            "message": "The local API is at capacity; retry after the time in Retry-After",
            "details": {"reason": reason},
        }
    }
    headers = [
        ("Content-Type", "application/json"),
        ("Retry-After", str(RETRY_AFTER_SECONDS)),
        ("x-amzn-RequestId", request_id),
    ]
    return GatewayResponse(503, headers, json.dumps(body).encode())


def _plain_502() -> GatewayResponse:
    return GatewayResponse(502, [("Content-Type", "application/json")], b'{"message": "Internal server error"}')


class Admission:
    """Counts requests inside the server (running or waiting); refuses one past `capacity` at once."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._inside = 0
        self._lock = threading.Lock()

    def enter(self) -> bool:
        with self._lock:
            if self._inside >= self.capacity:
                return False
            self._inside += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._inside -= 1


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker needs to build its gateway; sent to the spawned interpreter, so plain data only."""

    template_path: Path
    environment: dict[str, str]
    stage: str
    reloaded_packages: tuple[str, ...]
    log_level: int


def _serve_requests(connection: Connection, config: WorkerConfig, generation: Any) -> None:
    """A worker's life: build one gateway, then answer requests from the pipe until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops the workers
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(name)s %(message)s")
    from infra.local_api.gateway import LocalGateway
    from infra.local_api.loader import HandlerLoader, add_layers_to_path
    from infra.local_api.server import apply_environment
    from infra.local_api.template import SamTemplate

    apply_environment(config.environment)
    template = SamTemplate(config.template_path)
    add_layers_to_path(template.layer_dirs)
    gateway = LocalGateway(template, stage=config.stage, loader=HandlerLoader(config.reloaded_packages))
    seen = generation.value
    connection.send(_READY)
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if request is None:
            return
        if generation.value != seen:
            seen = generation.value
            gateway.loader.forget_all()
        connection.send(gateway.handle(request))


class _Worker:
    def __init__(self, context: Any, config: WorkerConfig, generation: Any, number: int) -> None:
        self.connection, child_end = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_serve_requests, args=(child_end, config, generation), name=f"local-api-worker-{number}", daemon=True
        )
        self.process.start()
        child_end.close()

    def wait_ready(self, timeout: float) -> None:
        try:
            ready = self.connection.poll(timeout) and self.connection.recv() == _READY
        except (EOFError, OSError):
            ready = False
        if not ready:
            raise RuntimeError(f"{self.process.name} did not start (its error is on stderr)")

    def call(self, request: HttpRequest) -> GatewayResponse:
        self.connection.send(request)
        response: GatewayResponse = self.connection.recv()
        return response

    def stop(self, timeout: float = 2.0) -> None:
        with contextlib.suppress(OSError):
            self.connection.send(None)
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout)
        self.connection.close()


class WorkerPool:
    """`size` worker processes; `handle` gives a request to an idle one, waiting at most `queue_timeout` seconds,
    and refuses at once when `max_pending` requests are already inside (running or waiting)."""

    def __init__(
        self,
        size: int,
        config: WorkerConfig,
        *,
        max_pending: int = 256,
        queue_timeout: float = 5.0,
        crash_response: Callable[[], GatewayResponse] | None = None,
    ) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._config = config
        # Written only by the parent's watcher thread, read by each worker per request: no lock needed.
        self._generation: Any = self._context.RawValue("i", 0)
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._workers: list[_Worker] = []
        self._started = 0
        self.admission = Admission(max_pending)
        self.queue_timeout = queue_timeout
        # How a request whose worker died is answered (the template's DEFAULT_5XX); a plain 502 without one.
        self._crash_response = crash_response or _plain_502
        workers = [self._spawn() for _ in range(size)]
        for worker in workers:
            worker.wait_ready(timeout=60)
            self._idle.put(worker)

    @property
    def stage(self) -> str:
        return self._config.stage

    @property
    def size(self) -> int:
        return len(self._workers)

    def _spawn(self) -> _Worker:
        self._started += 1
        worker = _Worker(self._context, self._config, self._generation, self._started)
        self._workers.append(worker)
        return worker

    def handle(self, request: HttpRequest) -> GatewayResponse:
        if not self.admission.enter():
            return overloaded_response("queue full")
        try:
            try:
                worker = self._idle.get(timeout=self.queue_timeout)
            except queue.Empty:
                return overloaded_response("no worker free in time")
            try:
                return worker.call(request)
            except (EOFError, OSError):
                name = worker.process.name
                log.exception("%s died serving %s %s; starting another", name, request.method, request.path)
                worker = self._replace(worker)
                return self._crash_response()
            finally:
                self._idle.put(worker)
        finally:
            self.admission.leave()

    def _replace(self, dead: _Worker) -> _Worker:
        dead.stop(timeout=0.5)
        self._workers.remove(dead)
        worker = self._spawn()
        worker.wait_ready(timeout=60)
        return worker

    def reload(self) -> None:
        """Every worker drops its function modules before its next request (a cold start on the new code)."""
        self._generation.value += 1

    def close(self) -> None:
        for worker in list(self._workers):
            worker.stop()
        self._workers.clear()
