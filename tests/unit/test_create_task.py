"""POST /tasks: defaults, and every field's limits enforced with a 400 that names the field."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import pytest

from tests.support.api_client import ApiClient
from tests.unit.conftest import Account
from tests.unit.helpers import assert_error


def _create(client: ApiClient, account: Account, body: Any) -> Any:
    return client.post("/tasks", json_body=body, token=account.access_token)


def test_create_task_with_only_a_title_fills_in_the_defaults(client: ApiClient, alice: Account) -> None:
    answer = _create(client, alice, {"title": "Water the plants"})
    assert answer.status_code == 201, answer.body
    task = answer.json()
    assert set(task) == {
        "id", "title", "description", "status", "priority", "dueDate", "tags", "createdAt", "updatedAt", "version",
        "remindAt",
    }  # fmt: skip
    assert task["title"] == "Water the plants"
    assert (task["description"], task["status"], task["priority"]) == ("", "todo", "medium")
    assert task["dueDate"] is None and task["tags"] == [] and task["version"] == 1
    assert task["createdAt"] == task["updatedAt"]
    assert datetime.fromisoformat(task["createdAt"]).tzinfo is not None
    assert str(uuid.UUID(task["id"])) == task["id"]
    assert answer.headers["Location"] == f"/tasks/{task['id']}"


def test_create_task_keeps_every_field_given(client: ApiClient, alice: Account) -> None:
    body = {
        "title": "Rotate the JWT signing key",
        "description": "Follow the runbook.",
        "status": "in_progress",
        "priority": "high",
        "dueDate": "2026-12-01",
        "tags": ["security", "ops"],
    }
    task = _create(client, alice, body).json()
    assert {key: task[key] for key in body} == {**body, "tags": ["ops", "security"]}  # tags come back sorted
    assert client.get(f"/tasks/{task['id']}", token=alice.access_token).json() == task


def test_create_task_strips_the_title(client: ApiClient, alice: Account) -> None:
    assert _create(client, alice, {"title": "  Pay rent \n"}).json()["title"] == "Pay rent"


VALID_CASES = {
    "title-1-char": {"title": "x"},
    "title-200-chars": {"title": "x" * 200},
    "title-200-chars-plus-spaces": {"title": "  " + "x" * 200 + "  "},
    "description-empty": {"title": "t", "description": ""},
    "description-2000-chars": {"title": "t", "description": "d" * 2000},
    "status-done": {"title": "t", "status": "done"},
    "priority-low": {"title": "t", "priority": "low"},
    "due-date-leap-day": {"title": "t", "dueDate": "2028-02-29"},
    "due-date-null": {"title": "t", "dueDate": None},
    "tags-10": {"title": "t", "tags": [f"tag{i}" for i in range(10)]},
    "tags-empty": {"title": "t", "tags": []},
    "tag-50-chars": {"title": "t", "tags": ["x" * 50]},
}


@pytest.mark.parametrize("body", VALID_CASES.values(), ids=VALID_CASES.keys())
def test_create_task_accepts_values_at_the_limits(client: ApiClient, caller: Account, body: dict[str, Any]) -> None:
    answer = _create(client, caller, body)
    assert answer.status_code == 201, answer.body


INVALID_CASES = {
    "title-missing": ({"description": "no title"}, "title"),
    "title-empty": ({"title": ""}, "title"),
    "title-blank": ({"title": "   "}, "title"),
    "title-201-chars": ({"title": "x" * 201}, "title"),
    "title-null": ({"title": None}, "title"),
    "title-number": ({"title": 42}, "title"),
    "description-2001-chars": ({"title": "t", "description": "d" * 2001}, "description"),
    "description-number": ({"title": "t", "description": 1}, "description"),
    "status-unknown": ({"title": "t", "status": "blocked"}, "status"),
    "status-wrong-case": ({"title": "t", "status": "TODO"}, "status"),
    "priority-unknown": ({"title": "t", "priority": "urgent"}, "priority"),
    "due-date-feb-30": ({"title": "t", "dueDate": "2026-02-30"}, "dueDate"),
    "due-date-not-leap-year": ({"title": "t", "dueDate": "2027-02-29"}, "dueDate"),
    "due-date-month-13": ({"title": "t", "dueDate": "2026-13-01"}, "dueDate"),
    "due-date-unpadded": ({"title": "t", "dueDate": "2026-1-5"}, "dueDate"),
    "due-date-datetime": ({"title": "t", "dueDate": "2026-12-01T10:00:00Z"}, "dueDate"),
    "due-date-compact": ({"title": "t", "dueDate": "20261201"}, "dueDate"),
    "due-date-number": ({"title": "t", "dueDate": 20261201}, "dueDate"),
    "due-date-object": ({"title": "t", "dueDate": {"year": 2026}}, "dueDate"),
    "tags-11": ({"title": "t", "tags": [f"tag{i}" for i in range(11)]}, "tags"),
    "tags-duplicate": ({"title": "t", "tags": ["a", "b", "a"]}, "tags"),
    "tags-duplicate-after-strip": ({"title": "t", "tags": ["a", " a "]}, "tags"),
    "tags-not-a-list": ({"title": "t", "tags": "a,b"}, "tags"),
    "tag-empty": ({"title": "t", "tags": [""]}, "tags.0"),
    "tag-51-chars": ({"title": "t", "tags": ["x" * 51]}, "tags.0"),
    "tag-number": ({"title": "t", "tags": [1]}, "tags.0"),
    "unknown-field": ({"title": "t", "ownerId": "someone-else"}, "ownerId"),
    "server-field-version": ({"title": "t", "version": 7}, "version"),
    "server-field-id": ({"title": "t", "id": str(uuid.uuid4())}, "id"),
}


@pytest.mark.parametrize(("body", "field"), INVALID_CASES.values(), ids=INVALID_CASES.keys())
def test_create_task_refuses_an_invalid_field_with_400_naming_it(
    client: ApiClient, caller: Account, body: dict[str, Any], field: str
) -> None:
    answer = _create(client, caller, body)
    assert answer.status_code == 400, answer.body
    error = assert_error(answer.json(), "VALIDATION_ERROR")
    assert field in [detail["field"] for detail in error["details"]], error["details"]


@pytest.mark.parametrize("raw_body", ['{"title": "t",}', "{", "title=t"])
def test_create_task_refuses_malformed_json_with_400(client: ApiClient, alice: Account, raw_body: str) -> None:
    answer = client.post("/tasks", raw_body=raw_body, token=alice.access_token)
    assert answer.status_code == 400
    assert_error(answer.json(), "MALFORMED_JSON")


@pytest.mark.parametrize("body", [[{"title": "t"}], "t", 1, None])
def test_create_task_refuses_json_that_is_not_an_object_with_400(client: ApiClient, alice: Account, body: Any) -> None:
    answer = client.post("/tasks", raw_body=json.dumps(body), token=alice.access_token)
    assert answer.status_code == 400
    assert_error(answer.json(), "VALIDATION_ERROR")


def test_create_task_refuses_an_oversize_body_with_413(client: ApiClient, alice: Account) -> None:
    answer = _create(client, alice, {"title": "t", "description": "d" * 17_000})
    assert answer.status_code == 413
    assert_error(answer.json(), "BODY_TOO_LARGE")


def test_create_task_needs_a_token(client: ApiClient) -> None:
    assert client.post("/tasks", json_body={"title": "t"}).status_code == 401


def test_created_task_belongs_to_the_caller_only(client: ApiClient, alice: Account, bob: Account) -> None:
    task = _create(client, alice, {"title": "Alice's"}).json()
    assert client.get(f"/tasks/{task['id']}", token=alice.access_token).status_code == 200
    assert client.get(f"/tasks/{task['id']}", token=bob.access_token).status_code == 404
    assert client.get("/tasks", token=bob.access_token).json()["items"] == []


def test_create_task_whose_id_is_taken_is_409_and_keeps_the_stored_task(
    client: ApiClient, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two creates that draw the same id: the second must not overwrite the first, and answers 409, not 500."""
    from taskapp.domain import tasks

    taken = str(uuid.uuid4())
    monkeypatch.setattr(tasks, "new_task_id", lambda: taken)
    first = _create(client, alice, {"title": "first"})
    assert first.status_code == 201, first.body
    second = _create(client, alice, {"title": "second"})
    assert second.status_code == 409, second.body
    error = assert_error(second.json(), "TASK_ALREADY_EXISTS")
    assert error["details"] == {"id": taken}
    assert client.get(f"/tasks/{taken}", token=alice.access_token).json()["title"] == "first"
