"""Create the Kafka topics listed in a file (`NAME PARTITIONS` per line), idempotently.

Usage: python -m infra.bridge.topics infra/kafka-topics.txt
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError


def parse_topics_file(text: str) -> dict[str, int]:
    """Topic name -> partition count; blank lines and `#` comments are ignored."""
    topics: dict[str, int] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, partitions = line.split()
        topics[name] = int(partitions)
    return topics


def connect_admin(bootstrap_servers: str, timeout_seconds: float = 20.0) -> KafkaAdminClient:
    """The broker may have started a moment ago: retry until it answers metadata requests."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            return KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="taskapp-topics")
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def ensure_topics(bootstrap_servers: str, topics: dict[str, int]) -> list[str]:
    """Create the missing topics; returns the names created (existing ones are left alone)."""
    admin = connect_admin(bootstrap_servers)
    try:
        existing = set(admin.list_topics())
        created: list[str] = []
        for name, partitions in topics.items():
            if name in existing:
                continue
            try:
                admin.create_topics([NewTopic(name=name, num_partitions=partitions, replication_factor=1)])
                created.append(name)
            except TopicAlreadyExistsError:
                pass  # created concurrently by someone else: that is the state we want
        return created
    finally:
        admin.close()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m infra.bridge.topics TOPICS_FILE", file=sys.stderr)
        return 2
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    topics = parse_topics_file(Path(argv[0]).read_text())
    try:
        created = ensure_topics(bootstrap, topics)
    except KafkaError as exc:
        print(f"could not create topics on {bootstrap}: {exc!r}", file=sys.stderr)
        return 1
    for name in topics:
        state = "created" if name in created else "exists"
        print(f"topic {name} ({topics[name]} partitions): {state}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
