"""What a warm request no longer pays for: signature inspection of our middleware, a User-Agent rebuilt per call,
and a response model validated twice (issue 17 goal 3; figures in benchmarks/cpu-per-request.md)."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from aws_lambda_powertools.event_handler import api_gateway
from botocore.awsrequest import AWSResponse
from pydantic import BaseModel

from taskapp.api import respond
from taskapp.data.base import thread_session
from tests.unit.conftest import Account


def test_a_warm_request_inspects_no_handler_or_middleware_signature(
    client: Any, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = client.post("/tasks", json_body={"title": "warm"}, token=alice.access_token)
    path = f"/tasks/{created.json()['id']}"
    assert client.get(path, token=alice.access_token).status_code == 200  # warm from here on
    inspected: list[object] = []
    real = api_gateway._find_request_param_name

    def counting(func: Any) -> Any:
        inspected.append(func)
        return real(func)

    monkeypatch.setattr(api_gateway, "_find_request_param_name", counting)
    for _ in range(3):
        assert client.get(path, token=alice.access_token).status_code == 200
    assert inspected == []


class _Body:
    def stream(self, **_: Any) -> Any:
        yield b'{"Item": {"pk": {"S": "a"}}}'


def _user_agent_sent(session: botocore.session.Session) -> str:
    client: Any = session.create_client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    sent: list[str] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        user_agent = request.headers["User-Agent"]
        sent.append(user_agent.decode() if isinstance(user_agent, bytes) else user_agent)
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, 200, headers, _Body())  # type: ignore[arg-type]

    client.meta.events.register_first("before-send.dynamodb.GetItem", answer)
    for _ in range(2):
        client.get_item(TableName="t", Key={"pk": {"S": "a"}})
    assert sent[0] == sent[1]
    return sent[0]


def test_the_remembered_user_agent_is_the_one_botocore_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("taskapp.data.base._per_thread", type("Fresh", (), {})())
    assert _user_agent_sent(thread_session()) == _user_agent_sent(botocore.session.get_session())


class _Out(BaseModel):
    task_id: str

    model_config = {"alias_generator": lambda name: "taskId" if name == "task_id" else name, "populate_by_name": True}


def test_respond_hands_the_model_to_the_resolver_to_serialise_once() -> None:
    model = _Out(task_id="t-1")
    assert respond(201, model).body is model  # type: ignore[arg-type]
