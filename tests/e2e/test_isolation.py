"""One user can never see or touch another's tasks: every task route answers exactly as for a missing task."""

from __future__ import annotations

import uuid

import pytest

from tests.support.http_api import Account, Api, assert_error

pytestmark = pytest.mark.e2e


def test_another_users_task_is_404_on_every_route_and_stays_untouched(api: Api, alice: Account, bob: Account) -> None:
    task = api.create_task(alice, title="alice's secret")
    path = f"/tasks/{task['id']}"
    missing = assert_error(api.call("GET", f"/tasks/{uuid.uuid4()}", token=bob.access_token), 404)

    for method, body in [("GET", None), ("PATCH", {"version": 1, "title": "bob was here"}), ("DELETE", None)]:
        error = assert_error(api.call(method, path, token=bob.access_token, json=body), 404, "NOT_FOUND")
        # Indistinguishable from a task that does not exist, apart from the id echoed back.
        assert error["message"] == missing["message"]

    still_there = api.call("GET", path, token=alice.access_token)
    assert still_there.status_code == 200, still_there.text
    assert still_there.json() == task


def test_lists_only_show_the_callers_own_tasks(api: Api, alice: Account, bob: Account) -> None:
    alices = {api.create_task(alice, title=f"alice {index}")["id"] for index in range(2)}
    bobs = {api.create_task(bob, title="bob 0")["id"]}

    alice_sees = {task["id"] for task in api.call("GET", "/tasks", token=alice.access_token).json()["items"]}
    bob_sees = {task["id"] for task in api.call("GET", "/tasks", token=bob.access_token).json()["items"]}

    assert alice_sees == alices
    assert bob_sees == bobs
    for status in ["todo", "in_progress", "done"]:
        listed = api.call("GET", "/tasks", token=bob.access_token, params={"status": status}).json()["items"]
        assert not {task["id"] for task in listed} & alices
