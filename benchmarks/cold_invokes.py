"""Cold starts on the deployed stack, seen from a client: how long a request takes when its function starts cold.

MiniStack ends a Python worker after any invocation error, and an authorizer refusing a token is one, so every
request with a refused token is served by a new authorizer worker, unpacked into a fresh folder: a cold start
each time (docs/hardening.md). This times such requests against the running stack (API_BASE_URL, or the URL
deploy.sh wrote), and warm ones (GET /health) beside them, so the difference is the cold start itself. An API
function's cold start is timed too: MiniStack's worker for the health function is ended before each GET /health
(the process of this stack's HealthFunction: found by its folder name), so the next request spawns a new one.

Run it against a stack built by infra/build.sh (bytecode shipped), then against the same stack with the bytecode
taken out of .aws-sam/build before `sam deploy`, to see what shipping bytecode saves at every cold start:
    .venv/bin/python -m benchmarks.cold_invokes --label bytecode
Results are appended to benchmarks/cold-invokes.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import statistics
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.core_latency import percentile

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "cold-invokes.json"
# Well-formed, with a signature no key of the stack made: the authorizer refuses it after checking the signature.
REFUSED_TOKEN = ".".join(
    base64.urlsafe_b64encode(part).rstrip(b"=").decode()
    for part in (b'{"alg":"HS256","typ":"JWT"}', b'{"sub":"cold-start","exp":4102444800}', b"not-a-signature-of-ours")
)


def _timed(url: str, headers: dict[str, str]) -> tuple[float, int]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - the local stack's URL
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        error.read()
        status = error.code
    return (time.perf_counter() - started) * 1000, status


def _end_health_workers(stack: str) -> int:
    """SIGTERM every MiniStack worker of this stack's health function; the next request is a cold start."""
    marker = f"ministack-lambda-{stack}-HealthFunction".encode()
    ended = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if marker in cmdline.read():
                    os.kill(int(entry), signal.SIGTERM)
                    ended += 1
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return ended


def _summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(percentile(samples, 0.95), 1),
        "n": len(samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="what this stack was built with, e.g. bytecode / source")
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--stack", default=os.environ.get("STACK_NAME", "taskapp"))
    args = parser.parse_args()
    base = os.environ.get("API_BASE_URL") or (ROOT / ".local" / "api-url").read_text().strip()
    _timed(f"{base}/health", {})  # the health worker is warm from here on
    cold, warm, health_cold = [], [], []
    for _ in range(args.requests):
        elapsed, status = _timed(f"{base}/tasks", {"Authorization": f"Bearer {REFUSED_TOKEN}"})
        if status != 401:
            raise SystemExit(f"a refused token got {status}, not 401: is this the taskapp stack?")
        cold.append(elapsed)
        elapsed, status = _timed(f"{base}/health", {})
        warm.append(elapsed)
    for _ in range(args.requests):
        if not _end_health_workers(args.stack):
            raise SystemExit(f"no MiniStack worker of {args.stack}'s HealthFunction to end: is this MiniStack?")
        time.sleep(1.0)  # let MiniStack notice the worker is gone
        elapsed, status = _timed(f"{base}/health", {})
        health_cold.append(elapsed)
    result = {
        "label": args.label,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "refused_token_cold_authorizer": _summary(cold),
        "health_warm": _summary(warm),
        "health_cold": _summary(health_cold),
    }
    history = json.loads(OUT.read_text()) if OUT.exists() else []
    OUT.write_text(json.dumps([*history, result], indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
