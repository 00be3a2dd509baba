"""GET /tasks: own tasks newest first, status filter, limit bounds and a cursor that cannot be misused."""

from __future__ import annotations

import base64
import json
import time
from types import SimpleNamespace
from typing import Any

import pytest

from tests.support.api_client import ApiClient
from tests.unit.conftest import Account
from tests.unit.helpers import assert_error


def _create_tasks(client: ApiClient, account: Account, statuses: list[str]) -> list[str]:
    """Create one task per status, in order; returns their ids oldest first."""
    ids = []
    for number, status in enumerate(statuses):
        answer = client.post(
            "/tasks", json_body={"title": f"task {number}", "status": status}, token=account.access_token
        )
        assert answer.status_code == 201, answer.body
        ids.append(answer.json()["id"])
    return ids


def _list(client: ApiClient, account: Account, **query: str) -> Any:
    return client.get("/tasks", token=account.access_token, query=query or None)


def _walk(client: ApiClient, account: Account, **query: str) -> list[list[str]]:
    """Follow nextToken to the end; returns the ids of every page."""
    pages: list[list[str]] = []
    token: str | None = None
    while True:
        answer = _list(client, account, **query, **({"nextToken": token} if token else {}))
        assert answer.status_code == 200, answer.body
        page = answer.json()
        pages.append([task["id"] for task in page["items"]])
        token = page["nextToken"]
        if token is None:
            return pages
        assert len(pages) < 50, "pagination does not terminate"


def test_list_of_a_user_without_tasks_is_empty(client: ApiClient, alice: Account) -> None:
    assert _list(client, alice).json() == {"items": [], "nextToken": None}


def test_list_returns_only_the_callers_tasks_newest_first(client: ApiClient, alice: Account, bob: Account) -> None:
    alice_ids = _create_tasks(client, alice, ["todo", "done", "in_progress"])
    _create_tasks(client, bob, ["todo"])
    page = _list(client, alice).json()
    assert [task["id"] for task in page["items"]] == list(reversed(alice_ids))
    assert page["nextToken"] is None
    created = [task["createdAt"] for task in page["items"]]
    assert created == sorted(created, reverse=True)


@pytest.mark.parametrize("status", ["todo", "in_progress", "done"])
def test_list_filters_by_status_newest_first(client: ApiClient, alice: Account, status: str) -> None:
    statuses = ["todo", "done", "in_progress", "todo", "done", "todo"]
    ids = _create_tasks(client, alice, statuses)
    expected = [task_id for task_id, s in reversed(list(zip(ids, statuses, strict=True))) if s == status]
    page = _list(client, alice, status=status).json()
    assert [task["id"] for task in page["items"]] == expected
    assert {task["status"] for task in page["items"]} == {status}


def test_list_filter_follows_a_status_change(client: ApiClient, alice: Account) -> None:
    (task_id,) = _create_tasks(client, alice, ["todo"])
    client.patch(f"/tasks/{task_id}", json_body={"version": 1, "status": "done"}, token=alice.access_token)
    assert _list(client, alice, status="todo").json()["items"] == []
    assert [task["id"] for task in _list(client, alice, status="done").json()["items"]] == [task_id]


@pytest.mark.parametrize("limit", ["1", "100"])
def test_list_accepts_a_limit_from_1_to_100(client: ApiClient, alice: Account, limit: str) -> None:
    _create_tasks(client, alice, ["todo", "todo"])
    page = _list(client, alice, limit=limit).json()
    assert len(page["items"]) == min(int(limit), 2)


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", "", "1e2", "0x10"])
def test_list_refuses_a_limit_outside_1_to_100_or_not_an_integer(
    client: ApiClient, caller: Account, limit: str
) -> None:
    answer = _list(client, caller, limit=limit)
    assert answer.status_code == 400
    error = assert_error(answer.json(), "VALIDATION_ERROR")
    assert [detail["field"] for detail in error["details"]] == ["limit"]


@pytest.mark.parametrize("status", ["blocked", "TODO", "", "todo,done"])
def test_list_refuses_an_unknown_status_filter(client: ApiClient, caller: Account, status: str) -> None:
    answer = _list(client, caller, status=status)
    assert answer.status_code == 400
    assert_error(answer.json(), "VALIDATION_ERROR")


@pytest.mark.parametrize(("count", "limit"), [(7, 3), (6, 3), (5, 1), (4, 10)])
def test_walking_every_page_visits_every_task_exactly_once_newest_first(
    client: ApiClient, alice: Account, count: int, limit: int
) -> None:
    ids = _create_tasks(client, alice, ["todo"] * count)
    pages = _walk(client, alice, limit=str(limit))
    assert all(len(page) <= limit for page in pages)
    assert [task_id for page in pages for task_id in page] == list(reversed(ids))


def test_walking_a_status_filter_visits_every_matching_task_exactly_once(client: ApiClient, alice: Account) -> None:
    statuses = ["todo", "done"] * 4
    ids = _create_tasks(client, alice, statuses)
    pages = _walk(client, alice, status="done", limit="2")
    expected = [task_id for task_id, s in reversed(list(zip(ids, statuses, strict=True))) if s == "done"]
    assert [task_id for page in pages for task_id in page] == expected


def _first_cursor(client: ApiClient, account: Account, **query: str) -> str:
    _create_tasks(client, account, ["todo", "todo", "todo"])
    token = _list(client, account, limit="1", **query).json()["nextToken"]
    assert token
    return str(token)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _edit_cursor_payload(cursor: str, **changes: Any) -> str:
    payload, signature = cursor.split(".", 1)
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body.update(changes)
    return _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode()) + "." + signature


TAMPERINGS = {
    "payload-edited-signature-kept": lambda c: _edit_cursor_payload(c, e=int(time.time()) + 10**6),
    "signature-changed": lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),
    "signature-removed": lambda c: c.split(".")[0],
    "not-base64": lambda c: "%%%." + c.split(".")[1],
    "garbage": lambda c: "garbage",
    "empty-signature": lambda c: c.split(".")[0] + ".",
    "too-long": lambda c: "x" * 3000,
}


@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_list_refuses_a_tampered_cursor_with_400(client: ApiClient, alice: Account, tamper: Any) -> None:
    answer = _list(client, alice, limit="1", nextToken=tamper(_first_cursor(client, alice)))
    assert answer.status_code == 400
    assert_error(answer.json())


def test_list_refuses_another_users_cursor_with_400(client: ApiClient, alice: Account, bob: Account) -> None:
    alice_cursor = _first_cursor(client, alice)
    answer = _list(client, bob, limit="1", nextToken=alice_cursor)
    assert answer.status_code == 400
    assert_error(answer.json(), "INVALID_CURSOR")


@pytest.mark.parametrize(
    ("issued_with", "used_with"),
    [({"status": "todo"}, {}), ({}, {"status": "todo"}), ({"status": "todo"}, {"status": "done"})],
    ids=["filtered-to-unfiltered", "unfiltered-to-filtered", "todo-to-done"],
)
def test_list_refuses_a_cursor_from_another_status_filter_with_400(
    client: ApiClient, alice: Account, issued_with: dict[str, str], used_with: dict[str, str]
) -> None:
    cursor = _first_cursor(client, alice, **issued_with)
    answer = _list(client, alice, limit="1", nextToken=cursor, **used_with)
    assert answer.status_code == 400
    assert_error(answer.json(), "INVALID_CURSOR")


def test_list_refuses_an_expired_cursor_with_400(
    client: ApiClient, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskapp import cursor as cursor_module

    cursor = _first_cursor(client, alice)
    later = time.time() + 24 * 3600 + 1
    monkeypatch.setattr(cursor_module, "time", SimpleNamespace(time=lambda: later))
    answer = _list(client, alice, limit="1", nextToken=cursor)
    assert answer.status_code == 400
    assert_error(answer.json(), "INVALID_CURSOR")


def test_list_needs_a_token(client: ApiClient) -> None:
    assert client.get("/tasks").status_code == 401
