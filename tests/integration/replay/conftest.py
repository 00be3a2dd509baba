"""Real Tansu and RabbitMQ for the DLQ replay tool; no deployed stack needed.

Kafka is started with infra/kafka.sh (it reuses a running broker); RabbitMQ is a machine service that must run.
Either missing fails the tests, never skips them. Every test uses its own topics, group and queues.
Run alone with `pytest --confcutdir tests/integration/replay tests/integration/replay` when no stack is deployed.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
KAFKA = "127.0.0.1:9092"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


@pytest.fixture(scope="session")
def kafka_broker() -> str:
    result = subprocess.run([str(ROOT / "infra" / "kafka.sh"), "up"], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"infra/kafka.sh up failed:\n{result.stdout}\n{result.stderr}")
    return KAFKA


@pytest.fixture(scope="session")
def rabbitmq() -> str:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
    except OSError as exc:
        pytest.fail(f"RabbitMQ is not running on 127.0.0.1:5672 ({exc}): run infra/services.sh up")
    return RABBITMQ_URL
