"""The first burst a freshly deployed stack meets: N connections x M `POST /tasks` each, right after `make run`.

Why: issue 17 found the `make run` stack stalls its first burst. MiniStack starts one worker per concurrent
invocation and never queues, and each new worker first unpacks the function and its layer inside MiniStack's own
process, the one interpreter that also serves every API request. So what a fresh worker costs MiniStack is the
figure here, beside what the clients saw:

- answers by status, timeouts (no answer within `--timeout`), p50/p99 latency, and how long the burst took;
- the Lambda workers MiniStack started for it (its `ministack-lambda-*` processes) and the CPU seconds of
  MiniStack's own process over the burst, per worker started.

Each user is fresh (tokens minted with the stack's JWT secret), so every request meets the authorizer as a new
token would. Run it once per fresh stack (`make down && make run`): a second run meets warm workers, and says so
in its `workers_started`. `--label` names the row; rows accumulate in benchmarks/first-burst.{json,md}.

    python -m benchmarks.first_burst --label "sourceless layer" [--connections 10] [--requests 5]
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from typing import Any

from benchmarks import harness
from benchmarks.harness import ROOT

RESULTS = "first-burst"


def _post(url: str, body: bytes, token: str, timeout: float) -> tuple[str, float]:
    request = urllib.request.Request(  # noqa: S310 - our own API's URL
        url, data=body, headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
            status = str(response.status)
    except urllib.error.HTTPError as error:
        status = str(error.code)
    except (OSError, http.client.HTTPException) as error:  # URLError, a reset or a dropped connection included
        status = "timeout" if "timed out" in str(error) else f"error: {type(error).__name__}"
    return status, (time.perf_counter() - started) * 1000


def burst(base_url: str, secret: str, connections: int, requests: int, timeout: float) -> dict[str, Any]:
    from tests.support.tokens import mint_access_token

    tokens = [mint_access_token(secret, sub=str(uuid.uuid4())) for _ in range(connections)]
    body = json.dumps(harness.create_task_body("first burst")).encode()
    answers: list[tuple[str, float]] = []
    lock = threading.Lock()

    def connection(token: str) -> None:
        for _ in range(requests):
            answer = _post(f"{base_url}/tasks", body, token, timeout)
            with lock:
                answers.append(answer)

    pid = harness.ministack_pid()
    workers_before, cpu_before, load = (
        harness.ministack_workers(),
        harness.process_cpu_seconds(pid),
        harness.load_average(),
    )
    started = time.perf_counter()
    threads = [threading.Thread(target=connection, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - started
    ministack_cpu = harness.process_cpu_seconds(pid) - cpu_before
    started_workers = len(harness.ministack_workers() - workers_before)
    if len(answers) != connections * requests:
        raise SystemExit(f"only {len(answers)} of {connections * requests} requests were sent: see the threads' errors")
    latencies = [ms for _, ms in answers]
    return {
        "measured_at": harness.utc_now(),
        "machine": harness.machine(),
        "load_average_before": load,
        "connections": connections,
        "requests_per_connection": requests,
        "statuses": dict(sorted(Counter(status for status, _ in answers).items())),
        "p50_ms": round(harness.percentile(latencies, 0.5)),
        "p99_ms": round(harness.percentile(latencies, 0.99)),
        "took_s": round(took, 1),
        "workers_started": started_workers,
        "ministack_cpu_s": round(ministack_cpu, 1),
        "ministack_cpu_s_per_worker": round(ministack_cpu / started_workers, 2) if started_workers else None,
    }


def _markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "# The first burst on a freshly deployed stack",
        "",
        "`python -m benchmarks.first_burst` (method in its docstring): right after `make run`, each connection a",
        "fresh user sending its `POST /tasks` one after another. `MiniStack CPU` is MiniStack's own process over",
        "the burst (its workers excluded), the process that also unpacks every new worker's code and layer;",
        "`per worker` divides it by the workers started, an upper bound on what one costs it (serving the",
        "requests is in it too, and so is unpacking a worker still starting when the burst ended).",
        "",
    ]
    header = [
        "label",
        "measured",
        "connections x requests",
        "answers",
        "p50 / p99 ms",
        "took",
        "workers started",
        "MiniStack CPU",
        "per worker",
        "load before",
    ]
    table = [
        [
            row["label"],
            row["measured_at"][:16],
            f"{row['connections']} x {row['requests_per_connection']}",
            ", ".join(f"{count} x {status}" for status, count in row["statuses"].items()),
            f"{row['p50_ms']} / {row['p99_ms']}",
            f"{row['took_s']} s",
            row["workers_started"],
            f"{row['ministack_cpu_s']} s",
            "-" if row["ministack_cpu_s_per_worker"] is None else f"{row['ministack_cpu_s_per_worker']} s",
            row["load_average_before"],
        ]
        for row in rows
    ]
    lines.append(harness.markdown_table(header, table, align="lllllrrrrr"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="what this row measures, e.g. the code's commit")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--requests", type=int, default=5, help="requests per connection, one after another")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a request counts as a timeout")
    args = parser.parse_args(argv)
    sys.path[:0] = [str(ROOT / "layers" / "shared")]  # taskapp, for the request body
    base_url = harness.api_base_url()
    if not base_url:
        raise SystemExit("no deployed stack (API_BASE_URL or .local/api-url): run make run first")
    row = {
        "label": args.label,
        **burst(base_url, harness.deployed_jwt_secret(), args.connections, args.requests, args.timeout),
    }
    print(json.dumps(row))
    stored = harness.RESULTS / f"{RESULTS}.json"
    rows: list[dict[str, Any]] = json.loads(stored.read_text())["rows"] if stored.exists() else []
    rows.append(row)
    harness.write_report(RESULTS, data={"rows": rows}, markdown=_markdown(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
