"""Everything the bridge reads from the environment, in one place, with the local defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class BridgeSettings:
    kafka_bootstrap_servers: str
    rabbitmq_url: str
    max_retries: int
    backoff_base_seconds: float
    backoff_max_seconds: float
    kafka_session_timeout_ms: int
    kafka_heartbeat_interval_ms: int
    # Partitions of one polled batch invoked at once (AWS runs up to one invoke per partition); 1 = one at a time.
    kafka_partition_concurrency: int = 8

    @classmethod
    def from_env(cls) -> BridgeSettings:
        env = os.environ
        return cls(
            kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            rabbitmq_url=env.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
            # Retries after the first attempt, like the event-source mapping's MaximumRetryAttempts.
            max_retries=int(env.get("BRIDGE_MAX_RETRIES", "3")),
            backoff_base_seconds=float(env.get("BRIDGE_BACKOFF_BASE_SECONDS", "0.5")),
            backoff_max_seconds=float(env.get("BRIDGE_BACKOFF_MAX_SECONDS", "8")),
            # Short session so a bridge that died without leaving the group is replaced quickly on restart.
            kafka_session_timeout_ms=int(env.get("BRIDGE_KAFKA_SESSION_TIMEOUT_MS", "6000")),
            kafka_heartbeat_interval_ms=int(env.get("BRIDGE_KAFKA_HEARTBEAT_INTERVAL_MS", "1000")),
            kafka_partition_concurrency=max(1, int(env.get("BRIDGE_KAFKA_PARTITION_CONCURRENCY", "8"))),
        )
