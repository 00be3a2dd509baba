"""Tasks in projects over HTTP against the deployed stack (issue 11): three real users in one project, a stranger.

A member creates and assigns, a viewer reads but cannot edit (403), a stranger gets the 404 of a missing task, a
removed member gets 404 on the very next request, a role change holds at once, and the list filters answer.
Reads of a task by a member who did not create it, and every list, go through GSIs, which may lag a write by a
moment on AWS: those reads are polled for a few seconds (never a silent skip).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.support.http_api import Account, Api, assert_error

PATIENCE_SECONDS = 10.0


def _eventually(call: Callable[[], requests.Response], ok: Callable[[requests.Response], bool]) -> requests.Response:
    """The answer once `ok` holds, or the last answer after PATIENCE_SECONDS (the caller's assert shows it)."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while True:
        answer = call()
        if ok(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.25)


@pytest.fixture
def team(api: Api) -> dict[str, Any]:
    """An owner, a member and a viewer of one project, and a stranger."""
    owner, member, viewer = api.new_account("owner"), api.new_account("member"), api.new_account("viewer")
    project_id = api.create_project(owner, "Tasks")
    api.join(owner, project_id, member, "member")
    api.join(owner, project_id, viewer, "viewer")
    return {"project": project_id, "owner": owner, "member": member, "viewer": viewer, "stranger": api.new_account()}


def _get(api: Api, caller: Account, task_id: str) -> requests.Response:
    return api.call("GET", f"/tasks/{task_id}", token=caller.access_token)


def _seen(api: Api, caller: Account, task_id: str) -> requests.Response:
    return _eventually(lambda: _get(api, caller, task_id), lambda answer: answer.status_code == 200)


def _list(api: Api, caller: Account, **params: str) -> requests.Response:
    return api.call("GET", "/tasks", token=caller.access_token, params=params)


def test_a_member_creates_and_assigns_and_the_viewer_reads_but_cannot_edit(api: Api, team: dict[str, Any]) -> None:
    member, viewer = team["member"], team["viewer"]
    task = api.create_task(member, title="Ship it", projectId=team["project"], assigneeId=viewer.user_id)
    assert task["projectId"] == team["project"] and task["assigneeId"] == viewer.user_id
    assert task["updatedBy"] == member.user_id
    seen = _seen(api, viewer, task["id"])
    assert seen.status_code == 200, seen.text
    assert seen.json()["title"] == "Ship it"
    edit = api.call("PATCH", f"/tasks/{task['id']}", token=viewer.access_token, json={"version": 1, "title": "x"})
    assert_error(edit, 403, "FORBIDDEN")
    assert_error(api.call("DELETE", f"/tasks/{task['id']}", token=viewer.access_token), 403, "FORBIDDEN")
    owner_edit = api.call(
        "PATCH", f"/tasks/{task['id']}", token=team["owner"].access_token, json={"version": 1, "status": "done"}
    )
    assert owner_edit.status_code == 200, owner_edit.text
    assert owner_edit.json()["updatedBy"] == team["owner"].user_id


def test_a_stranger_gets_the_404_of_a_missing_task(api: Api, team: dict[str, Any]) -> None:
    task = api.create_task(team["member"], projectId=team["project"])
    stranger = team["stranger"]
    assert _seen(api, team["viewer"], task["id"]).status_code == 200  # the index has it: the 404 below is real
    seen = assert_error(_get(api, stranger, task["id"]), 404)
    missing = assert_error(_get(api, stranger, str(uuid.uuid4())), 404)
    assert (seen["code"], seen["message"]) == (missing["code"], missing["message"])
    assert_error(_list(api, stranger, projectId=team["project"]), 404)
    refused = api.call("POST", "/tasks", token=stranger.access_token, json={"title": "x", "projectId": team["project"]})
    assert_error(refused, 404)


def test_a_removed_member_gets_404_on_the_very_next_request(api: Api, team: dict[str, Any]) -> None:
    member, owner = team["member"], team["owner"]
    task = api.create_task(member, projectId=team["project"])
    assert _get(api, member, task["id"]).status_code == 200
    removed = api.call("DELETE", f"/projects/{team['project']}/members/{member.user_id}", token=owner.access_token)
    assert removed.status_code == 204, removed.text
    assert_error(_get(api, member, task["id"]), 404)  # their own key still holds it: membership decides
    assert_error(_list(api, member, projectId=team["project"]), 404)


def test_a_role_change_holds_at_once(api: Api, team: dict[str, Any]) -> None:
    viewer, owner = team["viewer"], team["owner"]
    task = api.create_task(team["member"], projectId=team["project"])
    assert _seen(api, viewer, task["id"]).status_code == 200
    edit = {"version": 1, "title": "promoted"}
    assert_error(api.call("PATCH", f"/tasks/{task['id']}", token=viewer.access_token, json=edit), 403)
    promoted = api.call(
        "PATCH",
        f"/projects/{team['project']}/members/{viewer.user_id}",
        token=owner.access_token,
        json={"role": "member"},
    )
    assert promoted.status_code == 200, promoted.text
    done = api.call("PATCH", f"/tasks/{task['id']}", token=viewer.access_token, json=edit)
    assert done.status_code == 200, done.text


def test_removing_a_member_unassigns_their_tasks(api: Api, team: dict[str, Any]) -> None:
    member, owner = team["member"], team["owner"]
    task = api.create_task(owner, projectId=team["project"], assigneeId=member.user_id)
    assert (
        _eventually(
            lambda: _list(api, owner, projectId=team["project"], assignee=member.user_id),
            lambda answer: len(answer.json().get("items", [])) == 1,
        ).status_code
        == 200
    )
    removed = api.call("DELETE", f"/projects/{team['project']}/members/{member.user_id}", token=owner.access_token)
    assert removed.status_code == 204, removed.text
    after = _get(api, owner, task["id"]).json()
    assert "assigneeId" not in after and after["version"] == 2 and after["updatedBy"] == owner.user_id


def test_project_tasks_stay_out_of_the_personal_list(api: Api, team: dict[str, Any]) -> None:
    member = team["member"]
    personal = api.create_task(member, title="mine")
    api.create_task(member, title="the team's", projectId=team["project"])
    listed = _eventually(
        lambda: _list(api, member), lambda answer: personal["id"] in [t["id"] for t in answer.json()["items"]]
    )
    assert [t["id"] for t in listed.json()["items"]] == [personal["id"]]


def _lister(api: Api, caller: Account, params: dict[str, str]) -> Callable[[], requests.Response]:
    return lambda: _list(api, caller, **params)


def _titled(expected: list[str]) -> Callable[[requests.Response], bool]:
    return lambda answer: [task["title"] for task in answer.json().get("items", [])] == expected


def test_the_filters(api: Api, team: dict[str, Any]) -> None:
    member, owner, project = team["member"], team["owner"], team["project"]
    api.create_task(owner, title="a", projectId=project, status="todo", priority="high", tags=["ops"])
    api.create_task(owner, title="b", projectId=project, status="done", assigneeId=member.user_id, dueDate="2026-01-15")
    api.create_task(owner, title="c", projectId=project, status="todo", assigneeId=member.user_id)
    api.create_task(owner, title="d", projectId=project, priority="high", dueDate="2026-02-01")
    cases: list[tuple[dict[str, str], list[str]]] = [
        ({}, ["d", "c", "b", "a"]),
        ({"status": "todo"}, ["d", "c", "a"]),
        ({"assignee": "me"}, ["c", "b"]),
        ({"assignee": "me", "status": "todo"}, ["c"]),
        ({"priority": "high"}, ["d", "a"]),
        ({"tag": "ops"}, ["a"]),
        ({"dueBefore": "2026-02-15", "sort": "dueDate"}, ["b", "d"]),
        ({"sort": "priority"}, ["d", "a", "c", "b"]),
    ]

    for filters, expected in cases:
        answer = _eventually(_lister(api, member, {"projectId": project, **filters}), _titled(expected))
        assert answer.status_code == 200, answer.text
        assert [t["title"] for t in answer.json()["items"]] == expected, (filters, answer.text)
    unsupported = _list(api, member, projectId=project, status="todo", priority="high")
    assert_error(unsupported, 400, "UNSUPPORTED_FILTER")
