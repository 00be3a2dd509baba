"""A real webhook receiver for tests: a stdlib HTTP server on 127.0.0.1 in a thread, never a mock of HTTP.

Each receiver answers from a script of behaviours (status codes, or HANG), repeating the last one, and records
every request it got (headers, body, when). The unit tests and the e2e tests share it: Lambda workers on the
local stack are local processes, so they reach 127.0.0.1 receivers of the test process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HANG = -1  # hold the request without answering until the receiver stops (or `hang_seconds` pass)


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float  # time.time(), comparable with the delivery log's timestamps


@dataclass
class Receiver:
    script: Sequence[int]
    hang_seconds: float = 30.0
    requests: list[ReceivedRequest] = field(default_factory=list)
    url: str = ""
    in_progress: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_behaviour(self) -> int:
        with self._lock:
            index = min(len(self.requests) - 1, len(self.script) - 1)
            return self.script[index]

    def verify_all(self, secret: str) -> list[Any]:
        """Every request's signature checked with the receiver-side library; returns the parsed bodies."""
        from standardwebhooks.webhooks import Webhook

        return [Webhook(secret).verify(request.body, request.headers) for request in self.requests]


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with receiver._lock:
                receiver.requests.append(
                    ReceivedRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time())
                )
                receiver.in_progress += 1
            try:
                behaviour = receiver.next_behaviour()
                if behaviour == HANG:
                    receiver._stop.wait(receiver.hang_seconds)
                    return
                payload = b'{"ok":true}' if 200 <= behaviour < 300 else b'{"error":"receiver says no"}' * 400
                self.send_response(behaviour)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            finally:
                with receiver._lock:
                    receiver.in_progress -= 1

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
            return

    return Handler


@contextmanager
def running_receiver(script: Sequence[int] = (200,), hang_seconds: float = 30.0) -> Iterator[Receiver]:
    receiver = Receiver(script=tuple(script), hang_seconds=hang_seconds)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver._stop.set()
        server.shutdown()
        server.server_close()
