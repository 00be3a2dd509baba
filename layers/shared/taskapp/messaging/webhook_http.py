"""One webhook attempt over HTTP: connect to the checked address, POST once, read at most 4 KB, follow nothing.

The URL is checked again right before connecting (taskapp.domain.webhook_urls) and the socket is opened to the
address that check approved, while TLS still verifies the certificate against the URL's host name (SNI): a DNS
answer that changes between the check and the connection cannot point the request at an internal address.
Redirects are not followed (a 3xx is a failed attempt). The timeout bounds the whole attempt: connecting, sending
and reading the answer.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from functools import lru_cache
from typing import Any, NamedTuple

from taskapp.domain.webhook_urls import Resolver, Target, check_url, system_resolver
from taskapp.errors import ValidationFailed

MAX_RESPONSE_BYTES = 4096
USER_AGENT = "taskapp-webhooks/1"


class AttemptResult(NamedTuple):
    status_code: int | None
    latency_ms: float
    error: str | None  # None for any HTTP answer; the reason when there was none (timeout, refused, SSRF)
    response_excerpt: str

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


class _Deadline:
    """Ends the attempt `timeout` seconds after it started, however the receiver spreads its bytes: the socket
    timeout alone bounds each read, so one byte every few seconds would hold a worker for as long as it likes."""

    def __init__(self, timeout: float) -> None:
        self.sockets: list[socket.socket] = []
        self.expired = False
        self._timer = threading.Timer(timeout, self._expire)
        self._timer.daemon = True

    def _expire(self) -> None:
        self.expired = True
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked read at once (close() from here would not)

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def _connection(target: Target, timeout: float, deadline: _Deadline) -> http.client.HTTPConnection:
    address = target.addresses[0]

    def pinned(_: tuple[str, int], timeout: float | None = None, source: Any = None) -> socket.socket:
        sock = socket.create_connection((address, target.port), timeout, source)
        deadline.sockets.append(sock)
        return sock

    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout, context=_tls())
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    connection._create_connection = pinned  # type: ignore[attr-defined]  # the checked address, never a new lookup
    return connection


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    allow_loopback_http: bool,
    resolve: Resolver = system_resolver,
) -> AttemptResult:
    started = time.perf_counter()

    def elapsed() -> float:
        return round((time.perf_counter() - started) * 1000, 1)

    try:
        target = check_url(url, allow_loopback_http, resolve)
    except ValidationFailed as exc:
        return AttemptResult(None, elapsed(), exc.message, "")
    timed_out = f"timeout after {timeout:g} s"
    with _Deadline(timeout) as deadline:
        connection = _connection(target, timeout, deadline)
        try:
            connection.request(
                "POST",
                target.path,
                body=body,
                headers={**headers, "Content-Type": "application/json", "User-Agent": USER_AGENT},
            )
            response = connection.getresponse()
            excerpt = response.read(MAX_RESPONSE_BYTES)
            if deadline.expired:
                return AttemptResult(None, elapsed(), timed_out, "")
            return AttemptResult(response.status, elapsed(), None, excerpt.decode("utf-8", "replace"))
        except TimeoutError:
            return AttemptResult(None, elapsed(), timed_out, "")
        except Exception as exc:  # noqa: BLE001 - refused, reset, TLS, bad status line...: all a failed attempt
            error = timed_out if deadline.expired else f"{type(exc).__name__}: {exc}"[:300]
            return AttemptResult(None, elapsed(), error, "")
        finally:
            connection.close()
