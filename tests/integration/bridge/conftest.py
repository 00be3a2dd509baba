"""Real brokers and a real deployed fixture stack for the event-source bridge.

Kafka is started with infra/kafka.sh if nothing listens on 9092; RabbitMQ (a shared machine service) and the
local AWS stack must already run (infra/services.sh up): a missing one fails the tests loudly, never skips them.
Every run uses its own stack, topic, queue and consumer group names, so reruns and parallel runs do not collide.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pika
import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from infra.stack import Stack
from tests.support import servers
from tests.support.bridge_harness import FIXTURE_TEMPLATE, KAFKA, RABBITMQ_URL, ROOT, BridgeProcess, FixtureStack

# The shared broker fixtures, used by the fixtures below (a conftest exposes a fixture by holding it).
kafka_broker = servers.kafka_broker
rabbitmq = servers.rabbitmq


@pytest.fixture(scope="session")
def aws_stack_endpoint() -> str:
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    try:
        boto3.client("cloudformation").list_stacks()
    except Exception as exc:  # noqa: BLE001 - any failure here means the same thing: no local AWS stack
        pytest.fail(f"no AWS-compatible stack answers at {endpoint} ({exc!r}): run infra/services.sh up")
    return endpoint


@pytest.fixture(scope="session")
def fixture_stack(kafka_broker: str, rabbitmq: str, aws_stack_endpoint: str) -> Iterator[FixtureStack]:
    run_id = "r" + secrets.token_hex(4)
    stack_name = f"bridge-fixture-{run_id}"
    deploy = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "sam"),
            "deploy",
            "--template-file",
            str(FIXTURE_TEMPLATE),
            "--stack-name",
            stack_name,
            "--resolve-s3",
            "--capabilities",
            "CAPABILITY_IAM",
            "--no-confirm-changeset",
            "--no-progressbar",
            "--region",
            os.environ["AWS_DEFAULT_REGION"],
            "--parameter-overrides",
            f"RunId={run_id}",
        ],
        cwd=FIXTURE_TEMPLATE.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if deploy.returncode != 0:
        pytest.fail(f"deploying the bridge fixture stack failed:\n{deploy.stdout[-3000:]}\n{deploy.stderr[-3000:]}")
    outputs = Stack(stack_name).outputs()
    stack = FixtureStack(
        run_id=run_id,
        stack_name=stack_name,
        topic=f"bridge-test.{run_id}",
        dlq_topic=f"bridge-test.{run_id}.dlq",
        group_id=f"bridge-test-{run_id}",
        queue=f"bridge-test.{run_id}",
        rabbit_dlq=f"bridge-test.{run_id}.dlq",
        table_name=outputs["RecordsTableName"],
    )
    admin = KafkaAdminClient(bootstrap_servers=KAFKA)
    admin.create_topics([NewTopic(stack.topic, num_partitions=3, replication_factor=1)])
    admin.close()
    yield stack
    boto3.client("cloudformation").delete_stack(StackName=stack_name)
    with pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL)) as connection:
        channel = connection.channel()
        channel.queue_delete(stack.queue)
        channel.queue_delete(stack.rabbit_dlq)
        channel.exchange_delete(f"{stack.queue}.dlx")
    admin = KafkaAdminClient(bootstrap_servers=KAFKA)
    try:
        admin.delete_topics([stack.topic, stack.dlq_topic])
    except Exception:  # noqa: BLE001, S110 - best effort: Tansu is memory-only anyway
        pass
    finally:
        admin.close()


@pytest.fixture
def start_bridge(fixture_stack: FixtureStack, tmp_path: Path) -> Iterator[Callable[..., BridgeProcess]]:
    """Factory: start a bridge (env overrides as keyword arguments); every one started is killed at teardown."""
    started: list[BridgeProcess] = []

    def start(**env: str) -> BridgeProcess:
        bridge = BridgeProcess(fixture_stack, tmp_path, **env).start()
        started.append(bridge)
        return bridge

    yield start
    for bridge in started:
        bridge.kill()
    for bridge in started:
        print(f"--- bridge log {bridge.log_path.name} (ready in {bridge.ready_seconds}s)\n{bridge.log()[-3000:]}")


@pytest.fixture(scope="session")
def producer(kafka_broker: str) -> Iterator[KafkaProducer]:
    kafka_producer = KafkaProducer(bootstrap_servers=kafka_broker, acks="all")
    yield kafka_producer
    kafka_producer.close()
