"""Session fixtures for the real brokers, shared by every suite that talks to Kafka or RabbitMQ directly.

Kafka is started through infra/kafka.sh (it reuses a broker already listening); RabbitMQ is a machine service that
must already run. Either one missing fails the tests loudly, never skips them. Import the fixtures into a
conftest.py (`from tests.support.servers import kafka_broker, rabbitmq`) to use them there.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
RABBITMQ_URL = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


@pytest.fixture(scope="session")
def kafka_broker() -> str:
    """Bootstrap servers of a running broker, started through infra/kafka.sh when none answers."""
    result = subprocess.run([str(ROOT / "infra" / "kafka.sh"), "up"], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"infra/kafka.sh up failed:\n{result.stdout}\n{result.stderr}")
    return KAFKA


@pytest.fixture(scope="session")
def rabbitmq() -> str:
    """The AMQP URL of the running RabbitMQ; the project never starts the machine's broker behind a test's back."""
    address = urlsplit(RABBITMQ_URL)
    host, port = address.hostname or "127.0.0.1", address.port or 5672
    if not port_open(host, port):
        pytest.fail(f"RabbitMQ is not running on {host}:{port}: run infra/services.sh up")
    return RABBITMQ_URL
