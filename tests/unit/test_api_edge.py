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


def test_the_data_layers_storage_unavailable_is_a_503_with_retry_after(
    client: ApiClient, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Data operations that translate storage failures raise StorageUnavailable: the edge maps it like botocore's."""
    from taskapp.data import StorageUnavailable
    from taskapp.domain import tasks

    def unavailable(*args: Any) -> None:
        raise StorageUnavailable("throttled")

    monkeypatch.setattr(tasks, "list_tasks", unavailable)
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


@pytest.mark.parametrize(
    ("error", "status"),
    [
        ("AppError", 400),
        ("ValidationFailed", 400),
        ("Unauthorized", 401),
        ("Forbidden", 403),
        ("NotFound", 404),
        ("Conflict", 409),
        ("ServiceUnavailable", 503),
    ],
)
def test_the_edge_maps_each_domain_error_to_its_status_and_the_shared_body(error: str, status: int) -> None:
    from taskapp import errors
    from taskapp.api import error_response

    response = error_response(getattr(errors, error)("went wrong", {"id": "x"}, code="SOME_CODE"))
    assert response.status_code == status
    assert response.body == {"error": {"code": "SOME_CODE", "message": "went wrong", "details": {"id": "x"}}}
    assert response.headers.get("Retry-After") == ("1" if status == 503 else None)


def test_a_domain_error_subclass_answers_with_its_base_status_and_its_own_code() -> None:
    from taskapp.api import error_response
    from taskapp.errors import Conflict

    class AlreadyThere(Conflict):
        code = "ALREADY_THERE"

    response = error_response(AlreadyThere("exists"))
    assert response.status_code == 409
    assert_error(response.body, "ALREADY_THERE")


def test_the_guards_of_each_kind_of_route_are_declared_in_the_order_they_run() -> None:
    from taskapp.api import build_api
    from taskapp.rate_limit import RateLimitScope

    def names(guards: tuple[Any, ...]) -> list[str]:
        return [guard.__name__ for guard in guards]

    authenticated = build_api().guards
    assert names(authenticated.before_routing) == ["rate_limit_guard", "_body_shape_guard"]
    assert names(authenticated.after_validation) == ["revocation_guard"]
    limited_public = build_api(authenticated=False, rate_limit_scope=RateLimitScope.REGISTRATION).guards
    assert names(limited_public.before_routing) == ["rate_limit_guard", "_body_shape_guard"]
    assert limited_public.after_validation == ()
    public = build_api(authenticated=False, storage=False).guards
    assert names(public.before_routing) == ["_body_shape_guard"] and public.after_validation == ()


@pytest.mark.usefixtures("client")
def test_a_revoked_token_with_an_invalid_body_is_still_400_validation_runs_before_revocation(alice: Account) -> None:
    """The order of today's guards, pinned: routing and validation answer before the revocation check."""
    from taskapp.auth.revocation import revoke_access_token
    from taskapp.auth.tokens import verify_access_token

    claims = verify_access_token(alice.access_token)
    revoke_access_token(claims.jti, claims.expires_at)
    context = authorizer_context_for(alice.access_token)
    invalid = invoke("create_task", api_event("POST", "/tasks", body={"title": ""}, authorizer=context))
    assert invalid.status_code == 400, invalid.body
    valid = invoke("create_task", api_event("POST", "/tasks", body={"title": "t"}, authorizer=context))
    assert valid.status_code == 401
    assert_error(valid.body, "TOKEN_REVOKED")


def test_errors_carry_no_status_and_every_kind_of_error_has_one_at_the_edge() -> None:
    """A status written on an error class would be ignored: the edge's table is the only place statuses live."""
    from taskapp import errors
    from taskapp.api import HTTP_STATUS

    classes = [cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.AppError)]
    assert [cls.__name__ for cls in classes if "status_code" in vars(cls)] == []
    assert [cls.__name__ for cls in classes if errors.AppError in cls.__bases__ and cls not in HTTP_STATUS] == []
