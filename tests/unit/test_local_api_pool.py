"""`make local-api` with worker processes: concurrent requests overlap, every worker reloads, a full queue is a fast
503, a dead worker is replaced. Each test holds a worker busy on a file (the fixture's ?hold=), never on a clock."""

from __future__ import annotations

import http.client
import json
import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from infra.local_api import HttpRequest, SamTemplate
from infra.local_api.pool import WorkerConfig, WorkerPool
from infra.local_api.server import CodeWatcher, build_pool_server, build_server

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "mini_api"
GOOD = {"Authorization": "Bearer good"}


@pytest.fixture
def mini_api(tmp_path: Path) -> Path:
    target = tmp_path / "mini_api"
    shutil.copytree(FIXTURE, target)
    return target


def serve(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def pool_server(mini_api: Path) -> Iterator[tuple[int, WorkerPool]]:
    server, pool = build_pool_server(
        "127.0.0.1",
        0,
        workers=2,
        template=SamTemplate(mini_api / "template.yaml"),
        env_file=None,
        create_tables=False,
        reloaded_packages=(),
    )
    serve(server)
    try:
        yield server.server_address[1], pool
    finally:
        server.shutdown()
        server.server_close()
        pool.close()


def post(port: int, path: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", path, body=b"{}", headers=GOOD)
    response = connection.getresponse()
    response.read()
    return response


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + 10
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


class Held:
    """A request that keeps its worker busy until `release()`; `response` is set when it has returned."""

    def __init__(self, send: Callable[[str], Any], directory: Path) -> None:
        self.file = directory / "release"
        self.response: Any = None
        self._thread = threading.Thread(target=lambda: setattr(self, "response", send(f"/echo/a?hold={self.file}")))
        self._thread.start()
        wait_for(Path(f"{self.file}.arrived"))  # it is inside a handler now

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def release(self) -> Any:
        self.file.touch()
        self._thread.join(15)
        return self.response


def test_two_slow_requests_run_at_the_same_time(pool_server: tuple[int, WorkerPool], tmp_path: Path) -> None:
    port, _ = pool_server
    held = Held(lambda path: post(port, path), tmp_path)
    other = post(port, "/echo/b")  # served by the other worker while the first is still inside its handler
    assert other.status == 200
    assert not held.done
    first = held.release()
    assert isinstance(first, http.client.HTTPResponse)
    assert first.status == 200
    assert first.getheader("X-Pid") != other.getheader("X-Pid")


def test_every_worker_reloads_on_save(pool_server: tuple[int, WorkerPool], mini_api: Path) -> None:
    port, pool = pool_server
    before = [post(port, "/echo/a") for _ in range(2)]  # idle workers are taken in turn: one request each
    assert {response.getheader("X-Version") for response in before} == {"v1"}
    assert len({response.getheader("X-Pid") for response in before}) == 2
    reloaded = threading.Event()

    def on_change(changed: list[str]) -> None:
        pool.reload()
        reloaded.set()

    watcher = CodeWatcher([mini_api], on_change, interval=0.05)
    watcher.start()
    try:
        source = mini_api / "echo" / "app.py"
        source.write_text(source.read_text().replace('VERSION = "v1"', 'VERSION = "v2"'))
        assert reloaded.wait(5), "the watcher did not notice the edit"
        after = [post(port, "/echo/a") for _ in range(2)]
    finally:
        watcher.stop()
    assert {response.getheader("X-Version") for response in after} == {"v2"}
    assert len({response.getheader("X-Pid") for response in after}) == 2


def pool_of_one(mini_api: Path, max_pending: int = 256, queue_timeout: float = 5.0) -> WorkerPool:
    config = WorkerConfig(mini_api / "template.yaml", {}, "dev", (), logging.WARNING)
    return WorkerPool(1, config, max_pending=max_pending, queue_timeout=queue_timeout)


def echo_request(path: str) -> HttpRequest:
    return HttpRequest(
        method="POST", path=path.split("?", maxsplit=1)[0], headers=list(GOOD.items()), query=_query(path)
    )


def _query(path: str) -> list[tuple[str, str]]:

    return parse_qsl(urlsplit(path).query)


@pytest.mark.parametrize(
    ("limits", "reason"),
    [({"max_pending": 1}, "queue full"), ({"max_pending": 5, "queue_timeout": 0.05}, "no worker free in time")],
)
def test_a_full_pool_answers_503_overloaded_with_retry_after_at_once(
    mini_api: Path, tmp_path: Path, limits: dict[str, Any], reason: str
) -> None:
    pool = pool_of_one(mini_api, **limits)
    try:
        held = Held(lambda path: pool.handle(echo_request(path)), tmp_path)
        refused = pool.handle(echo_request("/echo/b"))
        assert not held.done
        assert refused.status == 503
        assert refused.header("Retry-After") == "1"
        assert json.loads(refused.body)["error"] == {
            "code": "OVERLOADED",
            "message": "The local API is at capacity; retry after the time in Retry-After",
            "details": {"reason": reason},
        }
        assert held.release().status == 200
        assert pool.handle(echo_request("/echo/b")).status == 200  # room again
    finally:
        pool.close()


def test_in_process_server_answers_503_past_max_pending(mini_api: Path, tmp_path: Path) -> None:
    server, _ = build_server(
        "127.0.0.1",
        0,
        template=SamTemplate(mini_api / "template.yaml"),
        env_file=None,
        create_tables=False,
        max_pending=1,
    )
    serve(server)
    port = server.server_address[1]
    try:
        held = Held(lambda path: post(port, path), tmp_path)
        refused = post(port, "/echo/b")
        assert refused.status == 503
        assert refused.getheader("Retry-After") == "1"
        assert held.release().status == 200
    finally:
        server.shutdown()
        server.server_close()


def test_a_worker_that_dies_is_a_502_and_is_replaced(mini_api: Path) -> None:
    pool = pool_of_one(mini_api)
    try:
        crashed = pool.handle(echo_request("/echo/a?exit=1"))
        assert crashed.status == 502
        assert pool.handle(echo_request("/echo/a")).status == 200
        assert pool.size == 1
    finally:
        pool.close()
