"""Comments over HTTP against the deployed stack: two and three real users, personal and project tasks.

The project-task cases create the task with `POST /tasks {"projectId"}` (tasks in projects, issue 11): they need
that slice deployed beside the comments.
"""

from __future__ import annotations

import uuid
from typing import Any

import requests

from tests.support.http_api import Account, Api, assert_error


def _comments(task_id: str) -> str:
    return f"/tasks/{task_id}/comments"


def _comment(api: Api, caller: Account, task_id: str, body: str) -> dict[str, Any]:
    created = api.call("POST", _comments(task_id), token=caller.access_token, json={"body": body})
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"{_comments(task_id)}/{created.json()['id']}"
    return dict(created.json())


def _listed(api: Api, caller: Account, task_id: str, **params: str) -> requests.Response:
    return api.call("GET", _comments(task_id), token=caller.access_token, params=params or None)


def test_the_owner_comments_on_a_personal_task(api: Api, alice: Account, bob: Account) -> None:
    task = api.create_task(alice, title="Write the release notes")
    markdown = f"Draft is **done**; @{alice.email} to proofread, not @{bob.email}.\n\n```\nmake release\n```"
    first = _comment(api, alice, task["id"], markdown)
    assert first["body"] == markdown and first["mentions"] == [alice.user_id]  # bob is nobody on this task
    assert first["authorId"] == alice.user_id and first["projectId"] is None and first["version"] == 1
    second = _comment(api, alice, task["id"], "Second thought")
    page = _listed(api, alice, task["id"], limit="1")
    assert page.status_code == 200, page.text
    assert [c["id"] for c in page.json()["items"]] == [first["id"]]
    rest = _listed(api, alice, task["id"], limit="1", nextToken=page.json()["nextToken"])
    assert [c["id"] for c in rest.json()["items"]] == [second["id"]]

    edited = api.call(
        "PATCH", f"{_comments(task['id'])}/{first['id']}", token=alice.access_token, json={"body": "v2", "version": 1}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2 and edited.json()["mentions"] == []
    stale = api.call(
        "PATCH", f"{_comments(task['id'])}/{first['id']}", token=alice.access_token, json={"body": "v3", "version": 1}
    )
    assert assert_error(stale, 409, "VERSION_CONFLICT")["details"] == {"currentVersion": 2}

    deleted = api.call("DELETE", f"{_comments(task['id'])}/{second['id']}", token=alice.access_token)
    assert deleted.status_code == 204, deleted.text
    assert [c["id"] for c in _listed(api, alice, task["id"]).json()["items"]] == [first["id"]]


def test_a_personal_tasks_comments_are_invisible_to_another_user(api: Api, alice: Account, bob: Account) -> None:
    task = api.create_task(alice, title="Private")
    comment = _comment(api, alice, task["id"], "Only for me")
    missing_task = str(uuid.uuid4())
    for method, path, body in (
        ("GET", _comments(task["id"]), None),
        ("POST", _comments(task["id"]), {"body": "let me in"}),
        ("PATCH", f"{_comments(task['id'])}/{comment['id']}", {"body": "mine", "version": 1}),
        ("DELETE", f"{_comments(task['id'])}/{comment['id']}", None),
    ):
        foreign = api.call(method, path, token=bob.access_token, json=body)
        absent = api.call(method, path.replace(task["id"], missing_task), token=bob.access_token, json=body)
        assert assert_error(foreign, 404, "NOT_FOUND") == assert_error(absent, 404, "NOT_FOUND") | {
            "details": {"id": task["id"]}
        }
    assert [c["body"] for c in _listed(api, alice, task["id"]).json()["items"]] == ["Only for me"]


def test_hostile_bodies_are_clear_4xx(api: Api, alice: Account) -> None:
    task = api.create_task(alice, title="Target")
    for body, status in (
        ({"body": ""}, 400),
        ({"body": "x" * 5001}, 400),
        ({"body": "ok", "authorId": "someone"}, 400),
        ({"body": " ".join(f"@u{n}@example.com" for n in range(21))}, 422),
    ):
        assert api.call("POST", _comments(task["id"]), token=alice.access_token, json=body).status_code == status
    assert _comment(api, alice, task["id"], "@" * 5000)["mentions"] == []


# --- project tasks (needs tasks in projects deployed) -----------------------------------------------------------


def _project_with(api: Api, owner: Account, members: dict[str, Account]) -> str:
    """A project of `owner` with each account joined in the role it is keyed by."""
    project_id = api.create_project(owner, "Comments")
    for role, account in members.items():
        api.join(owner, project_id, account, role)
    return project_id


def test_project_members_discuss_a_task_and_outsiders_see_nothing(api: Api, alice: Account, bob: Account) -> None:
    carol = api.new_account("carol")
    outsider = api.new_account("outsider")
    project_id = _project_with(api, alice, {"viewer": bob, "admin": carol})
    task = api.create_project_task(alice, project_id, "Shared")
    by_viewer = _comment(
        api, bob, task["id"], f"@{carol.email} and @{alice.user_id}: looks good (cc @{outsider.email})"
    )
    assert by_viewer["projectId"] == project_id
    assert sorted(by_viewer["mentions"]) == sorted([carol.user_id, alice.user_id])  # the outsider is dropped
    # only the author edits; an admin may delete
    rewrite = api.call(
        "PATCH",
        f"{_comments(task['id'])}/{by_viewer['id']}",
        token=carol.access_token,
        json={"body": "rewritten", "version": 1},
    )
    assert_error(rewrite, 403, "FORBIDDEN")
    by_owner = _comment(api, alice, task["id"], "Thanks")
    assert_error(api.call("DELETE", f"{_comments(task['id'])}/{by_owner['id']}", token=bob.access_token), 403)
    for method, path in (("GET", _comments(task["id"])), ("DELETE", f"{_comments(task['id'])}/{by_owner['id']}")):
        assert_error(api.call(method, path, token=outsider.access_token), 404, "NOT_FOUND")
    removed = api.call("DELETE", f"{_comments(task['id'])}/{by_viewer['id']}", token=carol.access_token)
    assert removed.status_code == 204, removed.text
    assert [c["id"] for c in _listed(api, bob, task["id"]).json()["items"]] == [by_owner["id"]]
