"""Start the API's hot-path workers on a freshly deployed local stack, before its first burst needs them.

Why (issue 17, benchmarks/first-burst.md): MiniStack starts one Lambda worker per concurrent invocation and never
queues one. A new worker costs MiniStack's own process ~2.5 CPU-s to unpack (the process that serves every API
request) and the worker ~1-2 CPU-s to import; ten at once on 2 cores outlast a client's 10 s timeout, the clients
retry, and each retry starts another worker. The first 10-connection burst on a fresh `make run` stack timed out
on 32 of its 50 requests; the same burst on the workers it left behind was served in 0.6 s.

So `make run` widens the pools of the routes the seed's load test and a browser hit first (the authorizer,
GET /tasks/{id}, POST /tasks) a few workers at a time, each step starting only ~2 new workers per function, so no
step outlasts a timeout. Those requests change nothing: a random task id (404) and an empty body (400), each
from a fresh user, so the authorizer runs for every one. Last, one task is created and deleted (by a fresh user
nobody can sign in as): that starts the consumers a new task wakes (the outbox publisher, the reminder scheduler,
the webhook fan-out, the notification consumer). Four of those starting at once inside the first POST burst held
MiniStack for seconds, and the burst timed out. AWS needs none of this (it scales out, and provisioned
concurrency is its own lever); on one machine it is what makes a fresh stack behave like a warm one, up to
`--width` concurrent requests. Past that width a burst still starts new workers (docs/scaling.md).

    python -m infra.prewarm [--width 16]     # make run does this; PREWARM_WIDTH=0 make run skips it
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEP = 2  # new concurrent requests per step: ~2 cold workers per function at a time
# Wider than the load test's 10 connections: with 200 users a request's time inside MiniStack grows as a run goes on,
# so a 10-connection POST run needed more CreateTask workers than 10 (it timed out on 0-6 connections in six runs at
# width 10, on none in four at 16: docs/scaling.md). ~30-45 s of `make run` here.
DEFAULT_WIDTH = 16
# A task nobody has, an empty body: both reached the function; then the one task created and deleted.
EXPECTED = {"404", "400", "201", "204"}


def _request(
    base_url: str, method: str, path: str, token: str, timeout: float, *, body: bytes = b"{}"
) -> tuple[str, bytes]:
    """(status, body) of one request; a status that is not HTTP's names what went wrong instead."""
    url = urllib.parse.urlsplit(base_url)
    connection_class = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(url.netloc, timeout=timeout)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    try:
        connection.request(method, f"{url.path}{path}", body=body if method == "POST" else None, headers=headers)
        response = connection.getresponse()
        return str(response.status), response.read()
    except (OSError, http.client.HTTPException) as error:
        return ("timeout" if "timed out" in str(error) else type(error).__name__), b""
    finally:
        connection.close()


def _fresh_token() -> str:
    from taskapp.auth.tokens import issue_access_token

    return issue_access_token(str(uuid.uuid4()), str(uuid.uuid4())).token


def warm(base_url: str, width: int, timeout: float = 60.0) -> Counter[str]:
    """Ramp to `width` concurrent requests, STEP more each time; the statuses every request answered."""
    statuses: Counter[str] = Counter()
    lock = threading.Lock()

    def client(token: str, together: threading.Barrier) -> None:
        for method, path in (("GET", f"/tasks/{uuid.uuid4()}"), ("POST", "/tasks")):
            # Every client of the step sends at once, so each function (the authorizer on the GET, a new token's
            # first request) meets `concurrent` invocations at the same time: fast warm answers would otherwise
            # overlap too little to widen its pool.
            with contextlib.suppress(threading.BrokenBarrierError):  # a client that never came: go anyway
                together.wait()
            status, _ = _request(base_url, method, path, token, timeout)
            with lock:
                statuses[status] += 1

    for concurrent in range(min(STEP, width), width + 1, STEP):
        together = threading.Barrier(concurrent, timeout=timeout)
        threads = [threading.Thread(target=client, args=(_fresh_token(), together)) for _ in range(concurrent)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    token = _fresh_token()
    status, created = _request(base_url, "POST", "/tasks", token, timeout, body=b'{"title": "make run warm-up"}')
    statuses[status] += 1
    if status == "201":
        status, _ = _request(base_url, "DELETE", f"/tasks/{json.loads(created)['id']}", token, timeout)
        statuses[status] += 1
    return statuses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=int(os.environ.get("PREWARM_WIDTH", DEFAULT_WIDTH)))
    args = parser.parse_args(argv)
    if args.width <= 0:
        return 0
    base_url = os.environ.get("API_BASE_URL") or (ROOT / ".local" / "api-url").read_text().strip()
    os.environ.setdefault("JWT_SECRET", (ROOT / ".local" / "jwt-secret").read_text().strip())
    sys.path[:0] = [str(ROOT / "layers" / "shared")]  # taskapp's own token issuer
    started = time.monotonic()
    statuses = warm(base_url, args.width)
    answers = ", ".join(f"{count} x {status}" for status, count in sorted(statuses.items()))
    print(f"warmed the hot path to {args.width} concurrent requests in {time.monotonic() - started:.0f} s ({answers})")
    unexpected = set(statuses) - EXPECTED
    if unexpected:
        print(f"warning: {sorted(unexpected)} answers while warming: the first burst may still meet cold workers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
