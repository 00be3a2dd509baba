"""`make load`: locust headless against the local API (started here) or API_BASE_URL; prints and records results.

    .venv/bin/python -m benchmarks.run_load --users 20 --duration 30s [--base-url URL] [--output-dir DIR]

Writes benchmarks/load-<UTC timestamp>.json and benchmarks/load-latest.json with requests/s, p50/p95/p99 and error
counts per endpoint and for the measured pair (POST /tasks + GET /tasks/{id}).
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import harness
from benchmarks.harness import ROOT

MEASURED = ("POST /tasks", "GET /tasks/{id}")


def read_stats(csv_prefix: Path) -> dict[str, dict[str, Any]]:
    rows = {}
    with (csv_prefix.parent / f"{csv_prefix.name}_stats.csv").open() as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "requests_per_s": round(float(row["Requests/s"]), 1),
                "p50_ms": float(row["50%"]),
                "p95_ms": float(row["95%"]),
                "p99_ms": float(row["99%"]),
                "mean_ms": round(float(row["Average Response Time"]), 2),
            }
    return rows


def read_failures(csv_prefix: Path) -> list[dict[str, Any]]:
    with (csv_prefix.parent / f"{csv_prefix.name}_failures.csv").open() as handle:
        return [
            {"endpoint": f"{r['Method']} {r['Name']}", "error": r["Error"], "count": int(r["Occurrences"])}
            for r in csv.DictReader(handle)
        ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=int(os.environ.get("USERS", "20")))
    parser.add_argument("--duration", default=os.environ.get("DURATION", "30s"))
    parser.add_argument("--base-url", default=os.environ.get("API_BASE_URL"))
    parser.add_argument("--output-dir", type=Path, default=ROOT / "benchmarks", help="where the JSON results go")
    args = parser.parse_args()
    server = None
    base_url = args.base_url
    scratch = tempfile.TemporaryDirectory()
    if not base_url:
        from infra.local_api.server import load_run_env_file

        # Every simulated user registers and logs in from 127.0.0.1: the per-IP login limit would turn the load
        # test into a rate-limit test, so the limits are lifted, on storage of the run's own (load_run_env_file).
        # A deployed target keeps the limits it was deployed with.
        env_file = load_run_env_file(Path(scratch.name))
        server, base_url = harness.start_local_api("--env-vars", str(env_file))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            prefix = Path(tmp) / "load"
            command = [
                str(ROOT / ".venv" / "bin" / "locust"),
                "-f", str(ROOT / "benchmarks" / "locustfile.py"),
                "--headless", "--users", str(args.users), "--spawn-rate", str(args.users),
                "--run-time", args.duration, "--host", base_url, "--csv", str(prefix),
                "--only-summary", "--exit-code-on-error", "0", "--loglevel", "WARNING",
            ]  # fmt: skip
            # The locustfile builds its bodies with benchmarks.harness from the API's request models.
            path = os.pathsep.join(
                filter(None, [str(ROOT), str(ROOT / "layers" / "shared"), os.environ.get("PYTHONPATH")])
            )
            completed = subprocess.run(  # noqa: S603 - the pinned locust of our virtualenv
                command, check=False, cwd=ROOT, env={**os.environ, "PYTHONPATH": path}, capture_output=True, text=True
            )
            if completed.returncode != 0:
                print(completed.stderr[-3000:], file=sys.stderr)
                return completed.returncode
            stats = read_stats(prefix)
            failures = read_failures(prefix)
    finally:
        if server:
            server.terminate()
            server.wait(10)
        scratch.cleanup()
    measured = [stats[name] for name in MEASURED if name in stats]
    result = {
        "measured_at": harness.utc_now(),
        "machine": harness.machine(),
        "load_average_1m_after": harness.load_average(),
        "target": "make local-api (in-process, MiniStack + Redis)" if server else base_url,
        "users": args.users,
        "duration": args.duration,
        "measured_pair": {
            "requests_per_s": round(sum(s["requests_per_s"] for s in measured), 1),
            "requests": sum(s["requests"] for s in measured),
            "errors": sum(s["failures"] for s in measured),
        },
        "endpoints": stats,
        "failures": failures,
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for name in (f"load-{stamp}", "load-latest"):
        harness.write_report(args.output_dir / name, data=result)
    print(f"{'endpoint':<22}{'req':>8}{'err':>6}{'req/s':>9}{'p50':>8}{'p95':>8}{'p99':>8}  (ms)")
    for name, row in stats.items():
        print(
            f"{name:<22}{row['requests']:>8}{row['failures']:>6}{row['requests_per_s']:>9}"
            f"{row['p50_ms']:>8.0f}{row['p95_ms']:>8.0f}{row['p99_ms']:>8.0f}"
        )
    for failure in failures:
        print(f"error: {failure['count']} x {failure['endpoint']}: {failure['error']}")
    print(f"wrote {args.output_dir / f'load-{stamp}.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
