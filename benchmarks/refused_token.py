"""Does a refused token cost what an accepted one does? p50 of refused vs accepted requests on a deployed stack.

Usage (after `make run`, or against any deployed stack, or `make local-api`'s URL):
    API_BASE_URL=... .venv/bin/python -m benchmarks.refused_token [--rounds 40] [--jwt-secret-file PATH]

Why: the TOKEN authorizer used to raise "Unauthorized" for a bad token. MiniStack kills the worker of any
invocation that raises, so the next request that needed the authorizer paid a cold start (1.4-13 s seen, issue 17);
on AWS an error is billed and logged as one. It now answers a Deny (API Gateway's ACCESS_DENIED response, mapped to
the same 401 body in template.yaml), which keeps the worker. Goal: p50 of refused requests within 2x of accepted.

Every request is `GET /tasks/{id}` of a task the benchmark's own fresh user created. API Gateway (and MiniStack)
cache the authorizer's decision per token, so each series says whether the authorizer runs:

* `accepted, cached`: the login's token every time; after the first request the authorizer is not invoked.
* `refused, fresh garbage`: a new garbled token per request (401 expected): the authorizer runs every time.
* `refused, fresh expired` (needs the stack's signing key): a genuine token, expired, new jti per request: the
  authorizer verifies the signature and refuses.
* `accepted, fresh token` (needs the key): a valid token for the same user and session, new jti per request: the
  authorizer runs and allows. Sent right after each refusal, so a worker killed by that refusal would show here as
  a cold start.

The rounds interleave the series (one request of each per round), so the machine's load moves them together.
The signing key is read from --jwt-secret-file, else E2E_JWT_SECRET_FILE, else .local/jwt-secret (infra/deploy.sh
writes it); without it only the first two series run. The verdict compares `refused` with the accepted series in
which the authorizer also ran when there is one (like for like), else with `accepted, cached`.
Writes benchmarks/refused-token.json and .md (and prints the table).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from benchmarks.harness import (
    ROOT,
    api_base_url,
    create_task_body,
    load_average,
    markdown_table,
    sign_up,
    summarize,
    utc_now,
    write_report,
)

REPORT = "refused-token"
TIMEOUT_SECONDS = 60
GOAL_RATIO = 2.0
STATS = ("p50", "p95", "max")
ACCEPTED_CACHED = "accepted, cached"
ACCEPTED_FRESH = "accepted, fresh token"
REFUSED_GARBAGE = "refused, fresh garbage"
REFUSED_EXPIRED = "refused, fresh expired"
# The body every refusal must carry: what a missing token has always answered (template.yaml, UNAUTHORIZED).
REFUSED_BODY = {"error": {"code": "UNAUTHORIZED", "message": "Missing or invalid access token", "details": None}}


def signing_key(path: str | None) -> str | None:
    candidates = [path, os.environ.get("E2E_JWT_SECRET_FILE"), str(ROOT / ".local" / "jwt-secret")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and Path(candidate).read_text().strip():
            return Path(candidate).read_text().strip()
    return None


def token_factories(access_token: str, key: str | None) -> dict[str, Callable[[], str]]:
    """Series name -> a function giving the token of its next request."""
    factories: dict[str, Callable[[], str]] = {
        ACCEPTED_CACHED: lambda: access_token,
        REFUSED_GARBAGE: lambda: f"not.a.jwt-{uuid.uuid4().hex}",
    }
    if key is None:
        return factories
    import jwt

    claims = jwt.decode(access_token, options={"verify_signature": False})  # the login's own claims, re-signed

    def minted(**changes: Any) -> Callable[[], str]:
        def mint() -> str:
            now = int(time.time())
            payload = {**claims, "jti": str(uuid.uuid4()), "iat": now, "nbf": now, "exp": now + 600, **changes}
            return jwt.encode(payload, key, algorithm="HS256")

        return mint

    now = int(time.time())
    factories[REFUSED_EXPIRED] = minted(iat=now - 1200, nbf=now - 1200, exp=now - 600)
    factories[ACCEPTED_FRESH] = minted()  # last: it follows a refusal in every round
    return factories


def timed_get(session: requests.Session, url: str, token: str, refused: bool) -> float:
    started = time.perf_counter()
    response = session.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT_SECONDS)
    elapsed = (time.perf_counter() - started) * 1000
    expected = 401 if refused else 200
    if response.status_code != expected or (refused and response.json() != REFUSED_BODY):
        raise SystemExit(f"GET {url} answered {response.status_code} (wanted {expected}): {response.text[:300]}")
    return elapsed


def signed_in_task(session: requests.Session, base_url: str) -> tuple[str, str]:
    def post(path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = session.post(f"{base_url}{path}", json=body, headers=headers, timeout=TIMEOUT_SECONDS)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    user = sign_up(post, prefix="refused")
    return user.access_token, str(post("/tasks", create_task_body("refused-token benchmark"), user.headers)["id"])


def run(base_url: str, rounds: int, warmup: int, key: str | None) -> dict[str, Any]:
    session = requests.Session()
    access_token, task_id = signed_in_task(session, base_url)
    url = f"{base_url}/tasks/{task_id}"
    factories = token_factories(access_token, key)
    samples: dict[str, list[float]] = {name: [] for name in factories}
    load_before = load_average()
    for done in range(warmup + rounds):
        for name, token in factories.items():
            elapsed = timed_get(session, url, token(), refused=name.startswith("refused"))
            if done >= warmup:  # the first requests start the workers: cold starts are not this measurement
                samples[name].append(elapsed)
    series = {name: summarize(values, suffix="_ms") for name, values in samples.items()}
    baseline = ACCEPTED_FRESH if ACCEPTED_FRESH in series else ACCEPTED_CACHED
    ratios = {
        name: round(row["p50_ms"] / series[baseline]["p50_ms"], 2)
        for name, row in series.items()
        if name.startswith("refused")
    }
    return {
        "measured_at": utc_now(),
        "base_url": base_url,
        "rounds": rounds,
        "warmup_rounds": warmup,
        "load_average": [load_before, load_average()],
        "series": series,
        "compared_with": baseline,
        "refused_over_accepted_p50": ratios,
        "goal_ratio": GOAL_RATIO,
        "goal_met": all(ratio <= GOAL_RATIO for ratio in ratios.values()),
    }


def markdown(report: dict[str, Any]) -> str:
    rows = [[name, *(row[f"{stat}_ms"] for stat in STATS), row["n"]] for name, row in report["series"].items()]
    verdict = ", ".join(f"{name} {ratio}x" for name, ratio in report["refused_over_accepted_p50"].items())
    return "\n".join(
        [
            "# Refused vs accepted tokens (issue 17, goal 4)",
            "",
            f"Produced by `benchmarks/refused_token.py` at {report['measured_at']} against `{report['base_url']}`: "
            f"{report['rounds']} interleaved rounds after {report['warmup_rounds']} warm-up rounds; load average "
            f"before/after {report['load_average'][0]:.2f} / {report['load_average'][1]:.2f}.",
            "",
            markdown_table(["series", *(f"{stat} ms" for stat in STATS), "n"], rows, align="lrrrr"),
            "",
            f"p50 of refused over `{report['compared_with']}`: {verdict} (goal <= {report['goal_ratio']}x: "
            f"{'met' if report['goal_met'] else '**not met**'}).",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=api_base_url(), help="default: API_BASE_URL, else .local/api-url")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--jwt-secret-file", default=None)
    parser.add_argument("--output", default=REPORT, help="report stem (under benchmarks/ unless a path)")
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "shared")]  # the request bodies come from taskapp's schemas
    if not args.base_url:
        raise SystemExit("no API URL: pass --base-url, set API_BASE_URL or run `make run` first")
    report = run(args.base_url.rstrip("/"), args.rounds, args.warmup, signing_key(args.jwt_secret_file))
    text = markdown(report)
    output: str | Path = args.output if "/" not in args.output else Path(args.output)
    write_report(output, data=report, markdown=text)
    sys.stdout.write(text)
    if not report["goal_met"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
