"""The deployed stack under test (STACK_NAME, API_BASE_URL), its brokers and helpers to wait for the pipeline.

Every test fails loudly when something it needs is not running: nothing is skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import boto3
import pika
import pytest
import requests
from kafka import KafkaProducer

from infra.stack import Stack as DeployedStack

T = TypeVar("T")
# The stack's own brokers: infra/test-all.sh deploys the test stack against private servers
# (infra/private-servers.sh) and names them in STACK_*; without those, the machine's (or KAFKA_/RABBITMQ_ env).
KAFKA = os.environ.get("STACK_KAFKA_BOOTSTRAP_SERVERS") or os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
RABBITMQ_URL = os.environ.get("STACK_RABBITMQ_URL") or os.environ.get(
    "RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"
)
# rabbitmqctl of the stack's RabbitMQ node (e.g. `infra/private-servers.sh rabbitmqctl`), split on spaces.
RABBITMQCTL = os.environ.get("STACK_RABBITMQCTL", "rabbitmqctl").split()


@dataclass
class Stack:
    name: str
    api: str

    @cached_property
    def _description(self) -> dict[str, Any]:
        return DeployedStack(self.name).description()

    def output(self, key: str) -> str:
        return next(o["OutputValue"] for o in self._description["Outputs"] if o["OutputKey"] == key)

    def parameter(self, key: str) -> str:
        return next(p["ParameterValue"] for p in self._description["Parameters"] if p["ParameterKey"] == key)

    def table(self, output_key: str) -> Any:
        return boto3.resource("dynamodb").Table(self.output(output_key))

    def count(self, output_key: str, owner_id: str) -> int:
        table = self.table(output_key)
        total, kwargs = 0, dict[str, Any]()
        while True:
            page = table.query(
                KeyConditionExpression="ownerId = :o",
                ExpressionAttributeValues={":o": owner_id},
                Select="COUNT",
                ConsistentRead=True,
                **kwargs,
            )
            total += page["Count"]
            if "LastEvaluatedKey" not in page:
                return total
            kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}

    def items(self, output_key: str, owner_id: str) -> list[dict[str, Any]]:
        table = self.table(output_key)
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = table.query(
                KeyConditionExpression="ownerId = :o", ExpressionAttributeValues={":o": owner_id}, **kwargs
            )
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


@pytest.fixture(scope="session")
def stack() -> Stack:
    name, api = os.environ.get("STACK_NAME"), os.environ.get("API_BASE_URL")
    if not name or not api:
        pytest.fail("STACK_NAME and API_BASE_URL must name the deployed stack (infra/test-all.sh sets both)")
    os.environ.setdefault("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    return Stack(name=name, api=api.rstrip("/"))


@dataclass
class User:
    user_id: str
    token: str
    api: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(f"{self.api}{path}", headers=self.headers, timeout=30, **kwargs)

    def post(self, path: str, body: Any) -> requests.Response:
        return requests.post(f"{self.api}{path}", json=body, headers=self.headers, timeout=30)

    def patch(self, path: str, body: Any) -> requests.Response:
        return requests.patch(f"{self.api}{path}", json=body, headers=self.headers, timeout=30)

    def activity(self, limit: int = 100) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": limit}
        while True:
            response = self.get("/activity", params=params)
            response.raise_for_status()
            page = response.json()
            items += page["items"]
            if not page["nextToken"]:
                return items
            params = {"limit": limit, "nextToken": page["nextToken"]}


def register(api: str) -> User:
    email = f"events-{uuid.uuid4().hex[:12]}@example.com"
    created = requests.post(
        f"{api}/auth/register", json={"name": "Events", "email": email, "password": "s3cret-pass"}, timeout=30
    )
    assert created.status_code == 201, created.text
    login = requests.post(f"{api}/auth/login", json={"email": email, "password": "s3cret-pass"}, timeout=30)
    assert login.status_code == 200, login.text
    return User(user_id=created.json()["id"], token=login.json()["accessToken"], api=api)


@pytest.fixture
def user(stack: Stack) -> User:
    return register(stack.api)


@pytest.fixture(scope="session")
def kafka_producer() -> Iterator[KafkaProducer]:
    try:
        producer = KafkaProducer(bootstrap_servers=KAFKA.split(","), acks="all", linger_ms=5)
    except Exception as exc:  # noqa: BLE001 - any failure to connect must fail the run, with the reason
        pytest.fail(f"Kafka is not reachable at {KAFKA} (run infra/kafka.sh up): {exc}")
    yield producer
    producer.close()


@pytest.fixture
def rabbitmq_channel() -> Iterator[Any]:
    try:
        connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"RabbitMQ is not reachable at {RABBITMQ_URL}: {exc}")
    yield connection.channel()
    if connection.is_open:
        connection.close()
