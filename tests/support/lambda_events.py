"""Builders for the exact event shapes AWS sends, so handlers are tested with what they will really receive."""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    from taskapp.auth.context import AuthorizerContext
    from taskapp.schemas.events import AnyEvent

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = ROOT / "functions"


class FakeLambdaContext:
    """The attributes Powertools reads from a Lambda context object."""

    def __init__(self, function_name: str = "test-function") -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def load_function(name: str) -> ModuleType:
    """Import functions/<name>/app.py under a unique module name (every function's module is called app)."""
    module_name = f"functions_{name}_app"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, FUNCTIONS_DIR / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def api_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    body: Any = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    path_params: dict[str, str] | None = None,
    authorizer: dict[str, Any] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """An API Gateway REST (v1) Lambda proxy event, as API Gateway builds it."""
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    if text is not None and base64_body:
        text = base64.b64encode(text.encode()).decode()
    all_headers = {"Content-Type": "application/json", "Host": "api.local", **(headers or {})}
    request_id = str(uuid.uuid4())
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_params,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": f"/local{path}",
            "stage": "local",
            "requestId": request_id,
            "accountId": "000000000000",
            "apiId": "testapi",
            "protocol": "HTTP/1.1",
            "requestTimeEpoch": 1_700_000_000_000,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "pytest"},
            "authorizer": authorizer,
        },
        "body": text,
        "isBase64Encoded": base64_body,
    }


def authorizer_context(caller: AuthorizerContext) -> dict[str, Any]:
    """What API Gateway hands a handler as `requestContext.authorizer` once the authorizer allowed `caller`."""
    from infra.local_api.gateway import authorizer_request_context

    return authorizer_request_context({"principalId": caller.user_id, "context": caller.to_context()})


def token_authorizer_event(token: str | None, method_arn: str | None = None) -> dict[str, Any]:
    return {
        "type": "TOKEN",
        "authorizationToken": token,
        "methodArn": method_arn or "arn:aws:execute-api:us-east-1:000000000000:testapi/local/GET/tasks",
    }


EVENTS_DIR = ROOT / "events"


def sample_event(function: str, name: str) -> dict[str, Any]:
    """A committed sample event from events/<function>/<name>.json (the same files `make invoke` sends)."""
    return json.loads((EVENTS_DIR / function / f"{name}.json").read_text())


def stream_record(
    name: str,
    new: dict[str, Any] | None,
    old: dict[str, Any] | None,
    keys: Sequence[str] = ("ownerId", "taskId"),
    created: int = 1795424401,
) -> DynamoDBRecord:
    """One DynamoDB stream record (INSERT/MODIFY/REMOVE) of plain-Python images, as Lambda's poller delivers it."""
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    image = new if new is not None else old
    assert image is not None
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": created,
        "Keys": {key: serializer.serialize(image[key]) for key in keys},
        "SequenceNumber": "1",
    }
    if new is not None:
        body["NewImage"] = {key: serializer.serialize(value) for key, value in new.items()}
    if old is not None:
        body["OldImage"] = {key: serializer.serialize(value) for key, value in old.items()}
    return DynamoDBRecord({"eventID": "1", "eventName": name, "eventSource": "aws:dynamodb", "dynamodb": body})


def rmq_event(events: Sequence[AnyEvent]) -> dict[str, Any]:
    """What the MQ trigger delivers for events the outbox published on RabbitMQ (one queue, persistent JSON)."""
    messages = [
        {
            "basicProperties": {"contentType": "application/json", "deliveryMode": 2, "messageId": event.event_id},
            "redelivered": False,
            "data": base64.b64encode(event.model_dump_json(by_alias=True).encode()).decode(),
        }
        for event in events
    ]
    return {"eventSource": "aws:rmq", "eventSourceArn": "arn:aws:mq:test", "rmqMessagesByQueue": {"q::/": messages}}
