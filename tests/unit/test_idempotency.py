"""Idempotency-Key on POST /tasks and POST /tasks/ingest: replay, reuse with another body, in flight, races."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

import pytest

from tests.support.api_client import ApiClient, ApiResponse
from tests.support.lambda_events import ROOT, FakeLambdaContext, api_event
from tests.unit.conftest import Account
from tests.unit.helpers import Answer, assert_error, authorizer_context_for, invoke

KEY = "Idempotency-Key"


def _lambda_instance(name: str, instance: str) -> ModuleType:
    """Another execution environment of the function: its own module, resolver and state, like a second Lambda
    instance serving a concurrent request (one module instance serves one request at a time)."""
    module_name = f"functions_{name}_app_instance_{instance}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, ROOT / "functions" / name / "app.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


def _invoke_instance(instance: str, event: dict[str, Any]) -> Answer:
    result = _lambda_instance("create_task", instance).handler(event, FakeLambdaContext("create_task"))
    headers = {name: values[-1] for name, values in (result.get("multiValueHeaders") or {}).items()}
    headers.update(result.get("headers") or {})
    text = result.get("body") or ""
    return Answer(result["statusCode"], headers, json.loads(text) if text else None)


def _create(client: ApiClient, account: Account, body: Any, key: str | None = None) -> ApiResponse:
    headers = {KEY: key} if key is not None else {}
    return client.post("/tasks", json_body=body, token=account.access_token, headers=headers)


def _header(response: ApiResponse, name: str) -> str | None:
    return next((value for key, value in response.headers.items() if key.lower() == name.lower()), None)


def _owned_task_ids(client: ApiClient, account: Account) -> list[str]:
    return [task["id"] for task in client.get("/tasks", token=account.access_token).json()["items"]]


def test_a_retry_with_the_same_key_answers_the_first_response_and_creates_nothing(
    client: ApiClient, alice: Account
) -> None:
    key = str(uuid.uuid4())
    first = _create(client, alice, {"title": "Pay the invoice"}, key)
    retry = _create(client, alice, {"title": "Pay the invoice"}, key)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    for name in ("Location", "ETag", "Last-Modified", "Content-Type"):
        assert _header(retry, name) == _header(first, name), name
    assert _header(retry, "Idempotent-Replayed") == "true"
    assert _header(first, "Idempotent-Replayed") is None
    assert _owned_task_ids(client, alice) == [first.json()["id"]]


def test_the_same_body_with_other_spacing_or_key_order_is_the_same_request(client: ApiClient, alice: Account) -> None:
    key = str(uuid.uuid4())
    first = client.post(
        "/tasks", raw_body='{"title": "t", "priority": "high"}', token=alice.access_token, headers={KEY: key}
    )
    retry = client.post(
        "/tasks", raw_body='{"priority":"high","title":"t"}', token=alice.access_token, headers={KEY: key}
    )
    assert retry.status_code == 201 and retry.json() == first.json()


def test_the_same_key_with_another_body_is_422_and_creates_nothing(client: ApiClient, alice: Account) -> None:
    key = str(uuid.uuid4())
    first = _create(client, alice, {"title": "one"}, key)
    other = _create(client, alice, {"title": "two"}, key)
    assert other.status_code == 422
    assert_error(other.json(), "IDEMPOTENCY_KEY_REUSED")
    assert _owned_task_ids(client, alice) == [first.json()["id"]]


def test_without_the_header_every_post_creates_as_before(client: ApiClient, alice: Account) -> None:
    first = _create(client, alice, {"title": "same"})
    second = _create(client, alice, {"title": "same"})
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert _header(first, "Location") == f"/tasks/{first.json()['id']}"


def test_keys_are_per_caller(client: ApiClient, alice: Account, bob: Account) -> None:
    """Bob choosing Alice's key gets his own task, never her response."""
    key = str(uuid.uuid4())
    alices = _create(client, alice, {"title": "t"}, key)
    bobs = _create(client, bob, {"title": "t"}, key)
    assert bobs.status_code == 201 and bobs.json()["id"] != alices.json()["id"]
    assert _header(bobs, "Idempotent-Replayed") is None


def test_keys_are_per_route(client: ApiClient, alice: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    from taskapp.domain import ingest_accept

    monkeypatch.setattr(ingest_accept, "produce_all", lambda records: None)
    key = str(uuid.uuid4())
    assert _create(client, alice, {"title": "t"}, key).status_code == 201
    body = {"tasks": [{"title": "t"}]}
    ingested = client.post("/tasks/ingest", json_body=body, token=alice.access_token, headers={KEY: key})
    assert ingested.status_code == 202


def test_an_invalid_body_is_400_and_does_not_burn_the_key(client: ApiClient, alice: Account) -> None:
    key = str(uuid.uuid4())
    invalid = _create(client, alice, {"title": ""}, key)
    assert invalid.status_code == 400
    assert _create(client, alice, {"title": "fixed"}, key).status_code == 201


def test_a_failed_create_is_not_stored_so_the_same_key_may_be_retried(
    client: ApiClient, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskapp.domain import tasks

    key = str(uuid.uuid4())
    real_create = tasks.create_task
    from taskapp.errors import ServiceUnavailable

    def down(owner_id: str, request: Any) -> Any:
        raise ServiceUnavailable("Storage is temporarily unavailable; try again", code="STORAGE_UNAVAILABLE")

    monkeypatch.setattr(tasks, "create_task", down)
    failed = _create(client, alice, {"title": "t"}, key)
    assert failed.status_code == 503 and _header(failed, "Retry-After") == "1"
    monkeypatch.setattr(tasks, "create_task", real_create)
    retried = _create(client, alice, {"title": "t"}, key)
    assert retried.status_code == 201 and _header(retried, "Idempotent-Replayed") is None
    assert len(_owned_task_ids(client, alice)) == 1


@pytest.mark.parametrize("bad", ["", "x" * 256, "caf\u00e9"])
def test_an_unusable_key_is_400(client: ApiClient, alice: Account, bad: str) -> None:
    event = api_event(
        "POST",
        "/tasks",
        body={"title": "t"},
        headers={KEY: bad},
        authorizer=authorizer_context_for(alice.access_token),
    )
    answer = invoke("create_task", event)
    assert answer.status_code == 400, answer.body
    assert_error(answer.body, "VALIDATION_ERROR")


def test_a_request_still_in_flight_with_the_same_key_is_409_with_retry_after(
    client: ApiClient, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first request holds the in-progress record while the second arrives (driven straight at the
    handler: the in-process gateway serves one invocation at a time)."""
    from taskapp.domain import tasks

    key = str(uuid.uuid4())
    real_create = tasks.create_task
    second: dict[str, Any] = {}

    def create_while_a_retry_arrives(owner_id: str, request: Any) -> Any:
        event = api_event(
            "POST",
            "/tasks",
            body={"title": "t"},
            headers={KEY: key},
            authorizer=authorizer_context_for(alice.access_token),
        )
        second["answer"] = _invoke_instance("second", event)
        return real_create(owner_id, request)

    monkeypatch.setattr(tasks, "create_task", create_while_a_retry_arrives)
    first = _create(client, alice, {"title": "t"}, key)
    assert first.status_code == 201
    retry = second["answer"]
    assert retry.status_code == 409
    assert_error(retry.body, "IDEMPOTENCY_IN_PROGRESS")
    assert retry.headers.get("Retry-After") == "1"
    monkeypatch.setattr(tasks, "create_task", real_create)
    assert _create(client, alice, {"title": "t"}, key).json() == first.json()


def test_two_concurrent_requests_with_one_key_create_one_task(
    client: ApiClient, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both requests race through Powertools' conditional put in two threads; exactly one runs the create.

    Each thread calls the function's handler with its own event; the create is held until both requests have
    reached the idempotency store, so the second one meets the first one's in-progress record (or its result).
    """
    from taskapp.domain import tasks

    key = str(uuid.uuid4())
    real_create = tasks.create_task
    created: list[str] = []
    inside = threading.Event()

    def slow_create(owner_id: str, request: Any) -> Any:
        inside.set()
        time.sleep(0.05)  # widen the window in which the other request meets the in-progress record
        view = real_create(owner_id, request)
        created.append(view.id)
        return view

    monkeypatch.setattr(tasks, "create_task", slow_create)
    context = authorizer_context_for(alice.access_token)

    def send(instance: str) -> Answer:
        event = api_event("POST", "/tasks", body={"title": "race"}, headers={KEY: key}, authorizer=context)
        return _invoke_instance(instance, event)

    for instance in ("a", "b"):
        _lambda_instance("create_task", instance)  # imported before the race, as warm instances would be
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(send, ["a", "b"]))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses in ([201, 201], [201, 409]), [a.body for a in answers]
    assert len(created) == 1
    assert inside.is_set()
    assert _owned_task_ids(client, alice) == created


def test_records_expire_after_24_hours() -> None:
    from taskapp.idempotency import _runner
    from taskapp.settings import idempotency_settings

    assert idempotency_settings().idempotency_ttl_seconds == 24 * 3600
    config, _ = _runner("POST /tasks")
    assert config.expires_after_seconds == 24 * 3600


def test_a_retried_ingest_answers_the_same_ids_and_produces_once(
    client: ApiClient, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskapp.domain import ingest_accept

    produced: list[int] = []
    monkeypatch.setattr(ingest_accept, "produce_all", lambda records: produced.append(len(records)))
    key = str(uuid.uuid4())
    body = {"tasks": [{"title": "a"}, {"title": "b"}]}
    first = client.post("/tasks/ingest", json_body=body, token=alice.access_token, headers={KEY: key})
    retry = client.post("/tasks/ingest", json_body=body, token=alice.access_token, headers={KEY: key})
    assert first.status_code == retry.status_code == 202
    assert retry.json() == first.json()
    assert produced == [2]
    other = client.post(
        "/tasks/ingest", json_body={"tasks": [{"title": "c"}]}, token=alice.access_token, headers={KEY: key}
    )
    assert other.status_code == 422


def test_an_unreachable_idempotency_store_is_503_and_creates_nothing(
    client: ApiClient, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskapp.data import idempotency

    layer = idempotency.persistence_layer()

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("no route to DynamoDB")

    monkeypatch.setattr(layer, "_put_record", unreachable)
    answer = _create(client, alice, {"title": "t"}, str(uuid.uuid4()))
    assert answer.status_code == 503
    assert _header(answer, "Retry-After") == "1"
    assert_error(answer.json(), "IDEMPOTENCY_UNAVAILABLE")
    assert _owned_task_ids(client, alice) == []
