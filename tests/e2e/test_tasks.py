"""Task lifecycle over HTTP: create, read, list (order, filter, pages), optimistic-locking updates, delete."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.http_api import Account, Api, assert_error

pytestmark = pytest.mark.e2e


def test_create_returns_the_full_task_and_its_location(api: Api, alice: Account) -> None:
    body = {
        "title": "Write the report",
        "description": "numbers first",
        "status": "in_progress",
        "priority": "high",
        "dueDate": "2026-12-31",
        "tags": ["work", "q4"],
    }

    response = api.call("POST", "/tasks", token=alice.access_token, json=body)

    assert response.status_code == 201, response.text
    task = response.json()
    assert uuid.UUID(task["id"])
    assert response.headers["Location"] == f"/tasks/{task['id']}"
    assert {key: task[key] for key in body} == {**body, "tags": ["q4", "work"]}
    assert task["version"] == 1
    assert task["createdAt"] == task["updatedAt"]


def test_create_applies_the_defaults(api: Api, alice: Account) -> None:
    task = api.create_task(alice, title="  only a title  ")

    assert task["title"] == "only a title"
    assert (task["description"], task["status"], task["priority"]) == ("", "todo", "medium")
    assert (task["dueDate"], task["tags"]) == (None, [])


def test_get_patch_and_delete_round_trip(api: Api, alice: Account) -> None:
    created = api.create_task(alice, title="draft", tags=["a"])
    path = f"/tasks/{created['id']}"

    fetched = api.call("GET", path, token=alice.access_token)
    assert fetched.status_code == 200, fetched.text
    assert fetched.json() == created

    patched = api.call(
        "PATCH", path, token=alice.access_token, json={"version": 1, "status": "done", "tags": ["a", "b"]}
    )
    assert patched.status_code == 200, patched.text
    updated = patched.json()
    assert (updated["status"], updated["tags"], updated["version"]) == ("done", ["a", "b"], 2)
    assert updated["title"] == "draft"  # untouched fields stay
    assert updated["updatedAt"] >= created["updatedAt"]
    assert api.call("GET", path, token=alice.access_token).json() == updated

    deleted = api.call("DELETE", path, token=alice.access_token)
    assert deleted.status_code == 204, deleted.text
    assert deleted.text == ""
    assert_error(api.call("GET", path, token=alice.access_token), 404, "NOT_FOUND")
    assert_error(api.call("DELETE", path, token=alice.access_token), 404, "NOT_FOUND")
    assert_error(api.call("PATCH", path, token=alice.access_token, json={"version": 2, "title": "x"}), 404)


def test_a_stale_version_is_409_and_the_task_is_unchanged(api: Api, alice: Account) -> None:
    created = api.create_task(alice, title="v1")
    path = f"/tasks/{created['id']}"
    assert api.call("PATCH", path, token=alice.access_token, json={"version": 1, "title": "v2"}).status_code == 200

    error = assert_error(
        api.call("PATCH", path, token=alice.access_token, json={"version": 1, "title": "lost update"}),
        409,
        "VERSION_CONFLICT",
    )

    assert error["details"] == {"currentVersion": 2}
    current = api.call("GET", path, token=alice.access_token).json()
    assert (current["title"], current["version"]) == ("v2", 2)


def test_patch_can_clear_the_due_date(api: Api, alice: Account) -> None:
    created = api.create_task(alice, dueDate="2026-06-01")

    response = api.call(
        "PATCH", f"/tasks/{created['id']}", token=alice.access_token, json={"version": 1, "dueDate": None}
    )

    assert response.status_code == 200, response.text
    assert response.json()["dueDate"] is None


def _list(api: Api, account: Account, **params: Any) -> dict[str, Any]:
    response = api.call("GET", "/tasks", token=account.access_token, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_list_is_newest_first_filters_by_status_and_pages(api: Api, alice: Account) -> None:
    statuses = ["todo", "done", "todo", "in_progress", "todo"]
    created = [api.create_task(alice, title=f"t{index}", status=status) for index, status in enumerate(statuses)]
    newest_first = [task["id"] for task in reversed(created)]

    assert [task["id"] for task in _list(api, alice)["items"]] == newest_first
    todo = [task["id"] for task in reversed(created) if task["status"] == "todo"]
    assert [task["id"] for task in _list(api, alice, status="todo")["items"]] == todo

    seen: list[str] = []
    page = _list(api, alice, limit=2)
    pages = 1
    while True:
        assert len(page["items"]) <= 2
        seen += [task["id"] for task in page["items"]]
        if page["nextToken"] is None or pages > 10:
            break
        page = _list(api, alice, limit=2, nextToken=page["nextToken"])
        pages += 1
    assert seen == newest_first
    assert pages >= 3

    first_todo = _list(api, alice, status="todo", limit=2)
    assert [task["id"] for task in first_todo["items"]] == todo[:2]
    rest = _list(api, alice, status="todo", limit=2, nextToken=first_todo["nextToken"])
    assert [task["id"] for task in rest["items"]] == todo[2:]


@pytest.mark.parametrize(
    "params",
    [{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"status": "someday"}],
    ids=["limit-0", "limit-101", "limit-text", "unknown-status"],
)
def test_bad_list_parameters_are_400(api: Api, alice: Account, params: dict[str, str]) -> None:
    assert_error(api.call("GET", "/tasks", token=alice.access_token, params=params), 400, "VALIDATION_ERROR")


def test_a_forged_or_foreign_cursor_is_400(api: Api, alice: Account, bob: Account) -> None:
    for index in range(3):
        api.create_task(alice, title=f"t{index}")
    cursor = _list(api, alice, limit=1)["nextToken"]
    assert cursor

    for token in ["garbage", cursor[:-2] + "xx", cursor + "x"]:
        assert_error(api.call("GET", "/tasks", token=alice.access_token, params={"nextToken": token}), 400)
    # Alice's cursor, replayed by Bob or with another filter, is refused rather than leaking her keys.
    assert_error(api.call("GET", "/tasks", token=bob.access_token, params={"nextToken": cursor}), 400, "INVALID_CURSOR")
    assert_error(
        api.call("GET", "/tasks", token=alice.access_token, params={"nextToken": cursor, "status": "done"}),
        400,
        "INVALID_CURSOR",
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "x" * 201},
        {"title": 5},
        {"title": "ok", "description": "x" * 2001},
        {"title": "ok", "status": "someday"},
        {"title": "ok", "priority": "urgent"},
        {"title": "ok", "dueDate": "2026-02-30"},
        {"title": "ok", "dueDate": "31/12/2026"},
        {"title": "ok", "tags": [f"t{index}" for index in range(11)]},
        {"title": "ok", "tags": ["dup", "dup"]},
        {"title": "ok", "owner": "someone-else"},
        {"title": "ok", "version": 7},
    ],
    ids=[
        "empty",
        "empty-title",
        "long-title",
        "title-not-string",
        "long-description",
        "bad-status",
        "bad-priority",
        "impossible-date",
        "non-iso-date",
        "eleven-tags",
        "duplicate-tags",
        "unknown-field",
        "version-on-create",
    ],
)
def test_invalid_task_bodies_are_400(api: Api, alice: Account, body: dict[str, Any]) -> None:
    error = assert_error(api.call("POST", "/tasks", token=alice.access_token, json=body), 400, "VALIDATION_ERROR")
    assert error["details"]


@pytest.mark.parametrize(
    "body",
    [
        {"title": "no version"},
        {"version": "1", "title": "x"},
        {"version": 0, "title": "x"},
        {"version": 1, "title": None},
    ],
    ids=["missing-version", "version-as-string", "version-zero", "null-title"],
)
def test_invalid_patches_are_400(api: Api, alice: Account, body: dict[str, Any]) -> None:
    task = api.create_task(alice)

    assert_error(api.call("PATCH", f"/tasks/{task['id']}", token=alice.access_token, json=body), 400)

    assert api.call("GET", f"/tasks/{task['id']}", token=alice.access_token).json()["version"] == 1


def test_malformed_json_and_non_objects_are_400(api: Api, alice: Account) -> None:
    json_headers = {"Content-Type": "application/json"}
    malformed = api.call("POST", "/tasks", token=alice.access_token, data='{"title": ', headers=json_headers)
    assert_error(malformed, 400, "MALFORMED_JSON")
    for raw in ["[]", '"a string"', "null", "42"]:
        response = api.call("POST", "/tasks", token=alice.access_token, data=raw, headers=json_headers)
        assert response.status_code == 400, f"{raw}: {response.status_code} {response.text}"
        assert_error(response, 400)


def test_an_oversize_body_is_413(api: Api, alice: Account) -> None:
    body = {"title": "big", "description": "x" * 20_000}

    assert_error(api.call("POST", "/tasks", token=alice.access_token, json=body), 413, "BODY_TOO_LARGE")


def test_a_body_that_is_not_json_is_refused_with_415(api: Api, alice: Account) -> None:
    response = api.call(
        "POST", "/tasks", token=alice.access_token, data="title=x", headers={"Content-Type": "text/plain"}
    )

    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize("task_id", ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"])
def test_a_bad_task_id_is_400_on_every_route(api: Api, alice: Account, task_id: str) -> None:
    path = f"/tasks/{task_id}"
    assert_error(api.call("GET", path, token=alice.access_token), 400, "VALIDATION_ERROR")
    assert_error(api.call("PATCH", path, token=alice.access_token, json={"version": 1}), 400, "VALIDATION_ERROR")
    assert_error(api.call("DELETE", path, token=alice.access_token), 400, "VALIDATION_ERROR")


def test_an_unknown_task_id_is_404(api: Api, alice: Account) -> None:
    assert_error(api.call("GET", f"/tasks/{uuid.uuid4()}", token=alice.access_token), 404, "NOT_FOUND")
