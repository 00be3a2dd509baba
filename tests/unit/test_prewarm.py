"""infra/prewarm.py: make run widens the hot path's worker pools a step at a time, with requests that change
nothing, each from a fresh user so the authorizer runs for every one."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from infra import prewarm


class _Recorder(BaseHTTPRequestHandler):
    in_flight = 0
    widest = 0
    seen: list[tuple[str, str, str]] = []
    lock = threading.Lock()

    def _answer(self, status: int, body: bytes = b"") -> None:
        with _Recorder.lock:
            _Recorder.in_flight += 1
            _Recorder.widest = max(_Recorder.widest, _Recorder.in_flight)
            _Recorder.seen.append((self.command, self.path, self.headers["Authorization"]))
        time.sleep(0.05)  # long enough for a step's requests to overlap
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with _Recorder.lock:
            _Recorder.in_flight -= 1

    def do_GET(self) -> None:
        self._answer(404)

    def do_POST(self) -> None:  # the API's answers: 400 to an empty body, 201 to a title
        sent = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        if sent.get("title"):
            self._answer(201, b'{"id": "the-warm-up-task"}')
        else:
            self._answer(400)

    def do_DELETE(self) -> None:
        self._answer(204)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("JWT_SECRET", "a-test-secret-that-is-long-enough-for-hs256")
    _Recorder.seen, _Recorder.widest, _Recorder.in_flight = [], 0, 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_ramp_reaches_the_width_two_requests_at_a_time_and_each_client_is_a_new_user(stack: str) -> None:
    statuses = prewarm.warm(stack, width=6)

    # steps of 2, 4, 6 clients, a GET and a POST each; then the one task, created and deleted
    assert statuses == {"404": 12, "400": 12, "201": 1, "204": 1}
    assert _Recorder.widest == 6
    tokens = {authorization for _, _, authorization in _Recorder.seen}
    assert len(tokens) == 13  # one token per client, so no authorizer answer is cached for the next
    gets = [path for method, path, _ in _Recorder.seen if method == "GET"]
    assert len(set(gets)) == len(gets), "every GET asks for a task id nobody has"
    assert {path for method, path, _ in _Recorder.seen if method == "POST"} == {"/tasks"}
    assert _Recorder.seen[-1][:2] == ("DELETE", "/tasks/the-warm-up-task"), "the warm-up leaves no task behind"


def test_an_answer_that_never_reached_a_function_is_reported(stack: str) -> None:
    statuses = prewarm.warm("http://127.0.0.1:9", width=2, timeout=2)  # nothing listens on the discard port

    assert set(statuses) == {"ConnectionRefusedError"}
    assert set(statuses) - prewarm.EXPECTED


def test_width_zero_warms_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prewarm, "warm", lambda *_: pytest.fail("warmed with width 0"))

    assert prewarm.main(["--width", "0"]) == 0
