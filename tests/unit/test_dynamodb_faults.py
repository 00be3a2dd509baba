"""DynamoDB throttling and internal errors surface as 503 + Retry-After and never leave a half-written state:
a failed create stores nothing, a failed update keeps the old version, a failed refresh keeps the session."""

from __future__ import annotations

import uuid

import pytest

from taskapp.data.sessions import SessionItem
from taskapp.data.tasks import TaskModel
from tests.support.api_client import ApiClient, ApiResponse
from tests.support.faults import DynamoDbFaults

PASSWORD = "correct horse battery"
THROTTLES = ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]
FAILURES = [*THROTTLES, "InternalServerError"]


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> DynamoDbFaults:
    return DynamoDbFaults(monkeypatch)


def _account(client: ApiClient) -> dict[str, str]:
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    assert (
        client.post("/auth/register", json_body={"name": "F", "email": email, "password": PASSWORD}).status_code == 201
    )
    tokens = client.post("/auth/login", json_body={"email": email, "password": PASSWORD}).json()
    return {"email": email, "access": tokens["accessToken"], "refresh": tokens["refreshToken"]}


def _assert_retryable_503(response: ApiResponse) -> None:
    assert response.status_code == 503, response.body
    assert response.json()["error"]["code"] == "STORAGE_UNAVAILABLE"
    assert int(response.headers.get("Retry-After", "0")) >= 1


@pytest.mark.parametrize("code", FAILURES)
def test_failed_create_stores_nothing_and_a_retry_stores_exactly_one(
    client: ApiClient, faults: DynamoDbFaults, code: str
) -> None:
    token = _account(client)["access"]
    faults.fail("PutItem", code)
    _assert_retryable_503(client.post("/tasks", json_body={"title": "t"}, token=token))
    assert faults.failed == ["PutItem"]
    assert TaskModel.count() == 0
    faults.heal()
    assert client.post("/tasks", json_body={"title": "t"}, token=token).status_code == 201
    assert TaskModel.count() == 1


@pytest.mark.parametrize("code", FAILURES)
def test_failed_update_keeps_the_old_version(client: ApiClient, faults: DynamoDbFaults, code: str) -> None:
    token = _account(client)["access"]
    task = client.post("/tasks", json_body={"title": "before", "tags": ["a"]}, token=token).json()
    faults.fail("UpdateItem", code)
    change = {"version": 1, "title": "after", "status": "done", "tags": []}
    _assert_retryable_503(client.patch(f"/tasks/{task['id']}", json_body=change, token=token))
    faults.heal()
    stored = client.get(f"/tasks/{task['id']}", token=token).json()
    assert (stored["title"], stored["status"], stored["tags"], stored["version"]) == ("before", "todo", ["a"], 1)
    # the client's retry with the version it holds succeeds exactly once
    retried = client.patch(f"/tasks/{task['id']}", json_body=change, token=token)
    assert retried.status_code == 200 and retried.json()["version"] == 2


def test_failed_read_before_update_is_503_not_404(client: ApiClient, faults: DynamoDbFaults) -> None:
    token = _account(client)["access"]
    task = client.post("/tasks", json_body={"title": "t"}, token=token).json()
    faults.fail("GetItem", "ProvisionedThroughputExceededException")
    _assert_retryable_503(client.patch(f"/tasks/{task['id']}", json_body={"version": 1, "title": "x"}, token=token))
    _assert_retryable_503(client.get(f"/tasks/{task['id']}", token=token))


@pytest.mark.parametrize("code", FAILURES)
def test_failed_delete_keeps_the_task(client: ApiClient, faults: DynamoDbFaults, code: str) -> None:
    token = _account(client)["access"]
    task = client.post("/tasks", json_body={"title": "keep me"}, token=token).json()
    faults.fail("DeleteItem", code)
    _assert_retryable_503(client.delete(f"/tasks/{task['id']}", token=token))
    faults.heal()
    assert client.get(f"/tasks/{task['id']}", token=token).json()["title"] == "keep me"


def test_failed_list_is_503(client: ApiClient, faults: DynamoDbFaults) -> None:
    token = _account(client)["access"]
    faults.fail("Query", "ThrottlingException")
    _assert_retryable_503(client.get("/tasks", token=token))
    _assert_retryable_503(client.get("/tasks", token=token, query={"status": "todo"}))


def test_failed_register_creates_no_account(client: ApiClient, faults: DynamoDbFaults) -> None:
    body = {"name": "F", "email": "late@example.com", "password": PASSWORD}
    faults.fail("PutItem", "ProvisionedThroughputExceededException")
    _assert_retryable_503(client.post("/auth/register", json_body=body))
    faults.heal()
    assert client.post("/auth/register", json_body=body).status_code == 201  # not EMAIL_TAKEN


@pytest.mark.parametrize("code", ["TransactionCanceledException", *THROTTLES, "InternalServerError"])
def test_failed_login_starts_no_session(client: ApiClient, faults: DynamoDbFaults, code: str) -> None:
    email = "login-fault@example.com"
    client.post("/auth/register", json_body={"name": "F", "email": email, "password": PASSWORD})
    faults.fail("TransactWriteItems", code)
    _assert_retryable_503(client.post("/auth/login", json_body={"email": email, "password": PASSWORD}))
    assert SessionItem.count() == 0
    faults.heal()
    assert client.post("/auth/login", json_body={"email": email, "password": PASSWORD}).status_code == 200


@pytest.mark.parametrize("code", ["TransactionCanceledException", *THROTTLES, "InternalServerError"])
def test_throttled_refresh_is_retryable_and_does_not_count_as_reuse(
    client: ApiClient, faults: DynamoDbFaults, code: str
) -> None:
    """A throttled rotation is not a stolen token: the session survives and the same refresh token still works."""
    account = _account(client)
    faults.fail("TransactWriteItems", code)
    _assert_retryable_503(client.post("/auth/refresh", json_body={"refreshToken": account["refresh"]}))
    faults.heal()
    retried = client.post("/auth/refresh", json_body={"refreshToken": account["refresh"]})
    assert retried.status_code == 200, retried.body
    assert client.get("/tasks", token=retried.json()["accessToken"]).status_code == 200


def test_failed_logout_can_be_retried_and_then_ends_the_session(client: ApiClient, faults: DynamoDbFaults) -> None:
    account = _account(client)
    faults.fail("UpdateItem", "ProvisionedThroughputExceededException")
    _assert_retryable_503(client.post("/auth/logout", token=account["access"]))
    faults.heal()
    assert client.post("/auth/logout", token=account["access"]).status_code == 204
    assert client.post("/auth/refresh", json_body={"refreshToken": account["refresh"]}).status_code == 401
    assert client.get("/tasks", token=account["access"]).status_code == 401
