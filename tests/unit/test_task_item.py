"""GET, PATCH and DELETE /tasks/{id}: ownership is invisible, ids are validated, versions are enforced."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.api_client import ApiClient
from tests.unit.conftest import Account
from tests.unit.helpers import assert_error

FULL_TASK = {
    "title": "Rotate the JWT signing key",
    "description": "Follow the runbook.",
    "status": "todo",
    "priority": "high",
    "dueDate": "2026-12-01",
    "tags": ["ops", "security"],
}


@pytest.fixture
def task(client: ApiClient, alice: Account) -> dict[str, Any]:
    answer = client.post("/tasks", json_body=FULL_TASK, token=alice.access_token)
    assert answer.status_code == 201, answer.body
    return dict(answer.json())


def _patch(client: ApiClient, account: Account, task_id: str, body: Any) -> Any:
    return client.patch(f"/tasks/{task_id}", json_body=body, token=account.access_token)


# --- GET -------------------------------------------------------------------------------------------------------


def test_get_returns_the_task(client: ApiClient, alice: Account, task: dict[str, Any]) -> None:
    answer = client.get(f"/tasks/{task['id']}", token=alice.access_token)
    assert answer.status_code == 200
    assert answer.json() == task


def test_get_of_a_missing_task_is_404(client: ApiClient, alice: Account) -> None:
    missing = str(uuid.uuid4())
    answer = client.get(f"/tasks/{missing}", token=alice.access_token)
    assert answer.status_code == 404
    assert assert_error(answer.json(), "NOT_FOUND")["details"] == {"id": missing}


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_another_users_task_answers_exactly_like_a_missing_one(
    client: ApiClient, alice: Account, bob: Account, task: dict[str, Any], method: str
) -> None:
    """Same status, same body, for a task that exists under another owner and one that was never there."""
    body = {"version": 1, "title": "hijacked"} if method == "PATCH" else None
    someone_elses = client.request(method, f"/tasks/{task['id']}", json_body=body, token=bob.access_token)
    client.delete(f"/tasks/{task['id']}", token=alice.access_token)
    missing = client.request(method, f"/tasks/{task['id']}", json_body=body, token=alice.access_token)
    assert someone_elses.status_code == missing.status_code == 404
    assert someone_elses.json() == missing.json()


def test_another_users_patch_and_delete_change_nothing(
    client: ApiClient, alice: Account, bob: Account, task: dict[str, Any]
) -> None:
    _patch(client, bob, task["id"], {"version": 1, "title": "hijacked"})
    client.delete(f"/tasks/{task['id']}", token=bob.access_token)
    assert client.get(f"/tasks/{task['id']}", token=alice.access_token).json() == task


MALFORMED_IDS = ["not-a-uuid", "123", "0b9d6c1e-4f2a-4c3b-8e5d-7a6f1e2d3c4", "0b9d6c1e-4f2a-4c3b-8e5d-7a6f1e2d3c4bz"]


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("bad_id", MALFORMED_IDS)
def test_a_malformed_task_id_is_400(client: ApiClient, caller: Account, method: str, bad_id: str) -> None:
    body = {"version": 1} if method == "PATCH" else None
    answer = client.request(method, f"/tasks/{bad_id}", json_body=body, token=caller.access_token)
    assert answer.status_code == 400
    error = assert_error(answer.json(), "VALIDATION_ERROR")
    assert error["details"][0]["location"] == "path" and error["details"][0]["field"] == "id"


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_task_routes_need_a_token(client: ApiClient, task: dict[str, Any], method: str) -> None:
    assert client.request(method, f"/tasks/{task['id']}", json_body={"version": 1}).status_code == 401


# --- PATCH -----------------------------------------------------------------------------------------------------


def test_partial_patch_changes_only_the_given_fields_and_bumps_the_version(
    client: ApiClient, alice: Account, task: dict[str, Any]
) -> None:
    answer = _patch(client, alice, task["id"], {"version": 1, "status": "in_progress", "priority": "low"})
    assert answer.status_code == 200, answer.body
    updated = answer.json()
    assert updated["status"] == "in_progress" and updated["priority"] == "low"
    assert updated["version"] == 2
    assert updated["updatedAt"] > task["updatedAt"] and updated["createdAt"] == task["createdAt"]
    unchanged = {key for key in task if key not in {"status", "priority", "version", "updatedAt"}}
    assert {key: updated[key] for key in unchanged} == {key: task[key] for key in unchanged}
    assert client.get(f"/tasks/{task['id']}", token=alice.access_token).json() == updated


@pytest.mark.parametrize(
    "change",
    [
        {"title": "  New title  "},
        {"description": ""},
        {"status": "done"},
        {"priority": "medium"},
        {"dueDate": "2027-01-31"},
        {"tags": ["one"]},
        {"tags": []},
    ],
    ids=["title", "description-emptied", "status", "priority", "due-date", "tags", "tags-emptied"],
)
def test_patch_of_one_field_persists_it(
    client: ApiClient, alice: Account, task: dict[str, Any], change: dict[str, Any]
) -> None:
    updated = _patch(client, alice, task["id"], {"version": 1, **change}).json()
    field, value = next(iter(change.items()))
    expected = value.strip() if field == "title" else value
    assert updated[field] == expected
    assert client.get(f"/tasks/{task['id']}", token=alice.access_token).json()[field] == expected


def test_patch_with_due_date_null_clears_it(client: ApiClient, alice: Account, task: dict[str, Any]) -> None:
    updated = _patch(client, alice, task["id"], {"version": 1, "dueDate": None}).json()
    assert updated["dueDate"] is None
    assert client.get(f"/tasks/{task['id']}", token=alice.access_token).json()["dueDate"] is None


def test_empty_patch_with_only_the_version_is_allowed_and_changes_no_field(
    client: ApiClient, alice: Account, task: dict[str, Any]
) -> None:
    answer = _patch(client, alice, task["id"], {"version": 1})
    assert answer.status_code == 200, answer.body
    updated = answer.json()
    assert updated["version"] == 2
    content = {key for key in task if key not in {"version", "updatedAt"}}
    assert {key: updated[key] for key in content} == {key: task[key] for key in content}


def test_patch_with_a_stale_version_is_409_and_changes_nothing(
    client: ApiClient, alice: Account, task: dict[str, Any]
) -> None:
    current = _patch(client, alice, task["id"], {"version": 1, "title": "first writer"}).json()
    answer = _patch(client, alice, task["id"], {"version": 1, "title": "second writer"})
    assert answer.status_code == 409
    assert assert_error(answer.json(), "VERSION_CONFLICT")["details"] == {"currentVersion": 2}
    assert client.get(f"/tasks/{task['id']}", token=alice.access_token).json() == current


def test_patch_with_a_version_from_the_future_is_409(client: ApiClient, alice: Account, task: dict[str, Any]) -> None:
    assert _patch(client, alice, task["id"], {"version": 5, "title": "x"}).status_code == 409


def test_patch_loses_the_race_when_another_write_lands_between_read_and_write(
    client: ApiClient, alice: Account, task: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The version check is also the write's condition, not only a read before it."""
    from taskapp.data import tasks as store

    real_update = store.update_task

    def concurrent_write_first(task: Any, changes: Any, expected_version: int) -> Any:
        other = store.get_task(task.owner_id, task.task_id)
        assert other is not None
        real_update(other, {"title": "concurrent"}, expected_version)
        return real_update(task, changes, expected_version)

    monkeypatch.setattr(store, "update_task", concurrent_write_first)
    answer = _patch(client, alice, task["id"], {"version": 1, "title": "mine"})
    assert answer.status_code == 409
    assert client.get(f"/tasks/{task['id']}", token=alice.access_token).json()["title"] == "concurrent"


INVALID_PATCHES = {
    "missing-version": ({"title": "x"}, "version"),
    "version-zero": ({"version": 0}, "version"),
    "version-string": ({"version": "1"}, "version"),
    "version-float": ({"version": 1.0}, "version"),
    "version-bool": ({"version": True}, "version"),
    "unknown-field": ({"version": 1, "ownerId": "bob"}, "ownerId"),
    "server-field-id": ({"version": 1, "id": str(uuid.uuid4())}, "id"),
    "server-field-created": ({"version": 1, "createdAt": "2020-01-01T00:00:00+00:00"}, "createdAt"),
    "title-blank": ({"version": 1, "title": "  "}, "title"),
    "title-201": ({"version": 1, "title": "x" * 201}, "title"),
    "title-null": ({"version": 1, "title": None}, "title"),
    "description-2001": ({"version": 1, "description": "d" * 2001}, "description"),
    "description-null": ({"version": 1, "description": None}, "description"),
    "status-unknown": ({"version": 1, "status": "blocked"}, "status"),
    "status-null": ({"version": 1, "status": None}, "status"),
    "priority-null": ({"version": 1, "priority": None}, "priority"),
    "due-date-feb-30": ({"version": 1, "dueDate": "2026-02-30"}, "dueDate"),
    "due-date-number": ({"version": 1, "dueDate": 20261201}, "dueDate"),
    "tags-11": ({"version": 1, "tags": [str(i) for i in range(11)]}, "tags"),
    "tags-duplicate": ({"version": 1, "tags": ["a", "a"]}, "tags"),
    "tags-null": ({"version": 1, "tags": None}, "tags"),
}


@pytest.mark.parametrize(("body", "field"), INVALID_PATCHES.values(), ids=INVALID_PATCHES.keys())
def test_invalid_patch_is_400_naming_the_field_and_changes_nothing(
    client: ApiClient, alice: Account, task: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    answer = _patch(client, alice, task["id"], body)
    assert answer.status_code == 400, answer.body
    error = assert_error(answer.json(), "VALIDATION_ERROR")
    assert field in [detail["field"] for detail in error["details"]], error["details"]
    assert client.get(f"/tasks/{task['id']}", token=alice.access_token).json() == task


def test_patch_with_malformed_json_is_400(client: ApiClient, alice: Account, task: dict[str, Any]) -> None:
    answer = client.patch(f"/tasks/{task['id']}", raw_body='{"version": 1,', token=alice.access_token)
    assert answer.status_code == 400
    assert_error(answer.json(), "MALFORMED_JSON")


def test_patch_of_a_missing_task_is_404(client: ApiClient, alice: Account) -> None:
    answer = _patch(client, alice, str(uuid.uuid4()), {"version": 1, "title": "x"})
    assert answer.status_code == 404
    assert_error(answer.json(), "NOT_FOUND")


# --- DELETE ----------------------------------------------------------------------------------------------------


def test_delete_answers_204_and_the_task_is_gone(client: ApiClient, alice: Account, task: dict[str, Any]) -> None:
    answer = client.delete(f"/tasks/{task['id']}", token=alice.access_token)
    assert answer.status_code == 204
    assert answer.body == ""
    assert client.get(f"/tasks/{task['id']}", token=alice.access_token).status_code == 404
    assert client.get("/tasks", token=alice.access_token).json()["items"] == []


def test_deleting_twice_is_404_the_second_time(client: ApiClient, alice: Account, task: dict[str, Any]) -> None:
    assert client.delete(f"/tasks/{task['id']}", token=alice.access_token).status_code == 204
    answer = client.delete(f"/tasks/{task['id']}", token=alice.access_token)
    assert answer.status_code == 404
    assert_error(answer.json(), "NOT_FOUND")


def test_patch_after_delete_is_404(client: ApiClient, alice: Account, task: dict[str, Any]) -> None:
    client.delete(f"/tasks/{task['id']}", token=alice.access_token)
    assert _patch(client, alice, task["id"], {"version": 1, "title": "x"}).status_code == 404
