"""The HTTP edge shared by every function (taskapp.api): error shape, guards, logging, failures of storage."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from tests.support.api_client import ApiClient
from tests.support.lambda_events import api_event
from tests.support.sample_events import load_event
from tests.unit.conftest import Account
from tests.unit.helpers import assert_error, authorizer_context_for, invoke


@pytest.mark.usefixtures("client")
@pytest.mark.parametrize(
    ("function", "method", "path"),
    [("list_tasks", "GET", "/tasks"), ("create_task", "POST", "/tasks"), ("logout", "POST", "/auth/logout")],
)
def test_an_authenticated_route_without_authorizer_context_is_401_not_500(
    function: str, method: str, path: str
) -> None:
    """Only reachable if a route were deployed without the authorizer: refuse rather than trust the request."""
    body = {"title": "t"} if function == "create_task" else None
    answer = invoke(function, api_event(method, path, body=body))
    assert answer.status_code == 401
    assert_error(answer.body, "UNAUTHORIZED")


def test_authorizer_context_values_are_accepted_as_strings_or_numbers(client: ApiClient, alice: Account) -> None:
    """API Gateway passes context values to the integration as strings; emulators may keep numbers."""
    as_strings = authorizer_context_for(alice.access_token)
    as_numbers = {**as_strings, "exp": int(as_strings["exp"])}
    for context in (as_strings, as_numbers):
        answer = invoke("list_tasks", api_event("GET", "/tasks", authorizer=context))
        assert answer.status_code == 200, answer.body


@pytest.mark.usefixtures("client")
def test_a_path_the_function_does_not_serve_is_a_json_404() -> None:
    answer = invoke("get_task", api_event("GET", "/nope", authorizer={"userId": "u", "jti": "j", "exp": "1"}))
    assert answer.status_code == 404
    assert_error(answer.body, "ROUTE_NOT_FOUND")


def test_storage_failure_is_a_503_with_retry_after_not_a_500(client: ApiClient, alice: Account) -> None:
    from taskapp.data.tasks import TaskModel

    TaskModel.delete_table()
    answer = client.get("/tasks", token=alice.access_token)
    assert answer.status_code == 503
    assert answer.headers.get("Retry-After") == "1"
    assert_error(answer.json(), "STORAGE_UNAVAILABLE")


def test_an_unexpected_error_is_a_json_500_that_leaks_nothing(
    client: ApiClient, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskapp.domain import tasks

    def explode(*args: Any) -> None:
        raise RuntimeError("secret internals: table arn:aws:dynamodb:...")

    monkeypatch.setattr(tasks, "list_tasks", explode)
    answer = client.get("/tasks", token=alice.access_token)
    assert answer.status_code == 500
    error = assert_error(answer.json(), "INTERNAL_ERROR")
    assert "secret" not in json.dumps(error)


def test_logs_are_json_with_the_api_request_id_as_correlation_id(client: ApiClient) -> None:
    from taskapp.data.tasks import TaskModel
    from taskapp.observability import logger

    TaskModel.delete_table()  # makes the handler log an error we can read back
    event = load_event("list_tasks/first_page")
    stream = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        assert invoke("list_tasks", event).status_code == 503
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    failure = next(record for record in records if record["message"] == "storage call failed")
    assert failure["level"] == "ERROR"
    assert failure["correlation_id"] == event["requestContext"]["requestId"]
    assert failure["function_name"] == "list_tasks"


@pytest.mark.usefixtures("client")
def test_a_204_has_an_empty_string_body_for_api_gateway_emulators(alice: Account) -> None:
    from tests.support.lambda_events import FakeLambdaContext, load_function

    event = api_event("POST", "/auth/logout", authorizer=authorizer_context_for(alice.access_token))
    result = load_function("logout").handler(event, FakeLambdaContext("logout"))
    assert result["statusCode"] == 204
    assert result["body"] == ""


@pytest.mark.parametrize(
    ("path", "outer"),
    [("/auth/register", '{{"name": {}}}'), ("/tasks", '{{"title": "t", "tags": {}}}')],
    ids=["register", "create_task"],
)
def test_a_small_but_deeply_nested_json_body_is_400_not_500(
    client: ApiClient, alice: Account, path: str, outer: str
) -> None:
    nested = "[" * 5000 + "]" * 5000
    body = outer.format(nested)
    assert len(body) < 16 * 1024
    answer = client.post(path, raw_body=body, token=alice.access_token)
    assert answer.status_code == 400, answer.body
    assert_error(answer.json(), "MALFORMED_JSON")
