"""Project activity over HTTP against the deployed stack: two real users share a project, and what each does reaches
GET /projects/{id}/activity and the other's GET /activity through the outbox, RabbitMQ and the consumer.

Needs the whole pipeline: the tasks and projects streams' mappings (run by MiniStack), the outbox publisher,
RabbitMQ and the notification consumer (the bridge locally). Task routes with `projectId`/`assigneeId` come from
the collab-tasks branch; these tests are written against the collaboration contract (docs/events.md).
"""

from __future__ import annotations

import uuid
from typing import Any

import requests

from tests.support.http_api import Account, Api, assert_error
from tests.support.waiting import wait_until

# The create -> activity budget is p95 < 1 s on the local stack (docs/events.md, "Measured"); 10 s leaves room for
# a consumer's cold start on a busy two-core machine without hiding a lost event.
FEED_TIMEOUT_SECONDS = 10


def _ok(response: requests.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return dict(response.json())


def _shared_project(api: Api, owner: Account, member: Account) -> str:
    """`owner` creates a project and invites `member` (who accepts) as a member."""
    project_id = api.create_project(owner, "Launch")
    api.join(owner, project_id, member)
    return project_id


def _entries(api: Api, caller: Account, path: str) -> list[dict[str, Any]]:
    """Every entry of a feed, newest first (all pages)."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = _ok(api.call("GET", path, token=caller.access_token, params=params))
        items += page["items"]
        if not page["nextToken"]:
            return items
        params = {"limit": 100, "nextToken": page["nextToken"]}


def _wait_for(api: Api, caller: Account, path: str, wanted: set[tuple[str, str | None]]) -> list[dict[str, Any]]:
    """Poll the feed until it holds an entry for each (eventType, taskId) wanted; returns the feed."""

    def probe() -> list[dict[str, Any]] | None:
        entries = _entries(api, caller, path)
        present = {(entry["eventType"], entry["taskId"]) for entry in entries}
        return entries if wanted <= present else None

    return wait_until(f"{sorted(wanted, key=str)} in {path}", probe, timeout=FEED_TIMEOUT_SECONDS, interval=0.25)


def _entry(entries: list[dict[str, Any]], event_type: str, task_id: str | None = None) -> dict[str, Any]:
    return next(entry for entry in entries if entry["eventType"] == event_type and entry["taskId"] == task_id)


def test_a_members_task_and_assignment_reach_the_project_feed_through_rabbitmq(
    api: Api, alice: Account, bob: Account
) -> None:
    project = _shared_project(api, alice, bob)
    task = api.create_project_task(bob, project, "Draft")
    assigned = api.call(
        "PATCH",
        f"/tasks/{task['id']}",
        token=bob.access_token,
        json={"version": task["version"], "assigneeId": alice.user_id},
    )
    _ok(assigned)

    feed = _wait_for(
        api,
        alice,
        f"/projects/{project}/activity",
        {
            ("project.created", None),
            ("member.invited", None),
            ("member.joined", None),
            ("task.created", task["id"]),
            ("task.assigned", task["id"]),
        },
    )
    assert _entry(feed, "project.created")["actorId"] == alice.user_id
    assert _entry(feed, "member.invited")["actorId"] == alice.user_id
    joined = _entry(feed, "member.joined")
    assert joined["actorId"] == joined["subjectUserId"] == bob.user_id
    created = _entry(feed, "task.created", task["id"])
    assert created["actorId"] == bob.user_id and created["projectId"] == project and created["title"] == "Draft"
    assignment = _entry(feed, "task.assigned", task["id"])
    assert assignment["actorId"] == bob.user_id and assignment["subjectUserId"] == alice.user_id
    timestamps = [entry["timestamp"] for entry in feed]
    assert timestamps == sorted(timestamps, reverse=True)  # newest first
    assert bob.email not in str(feed)  # the invitee's email is not shown to the project's members

    # The other member reads the same feed; the assignee's own feed has the assignment someone else made.
    assert {entry["timestamp"] for entry in _entries(api, bob, f"/projects/{project}/activity")} >= set(timestamps)
    mine = _wait_for(api, alice, "/activity", {("task.assigned", task["id"])})
    assert _entry(mine, "task.assigned", task["id"])["actorId"] == bob.user_id


def test_the_owners_own_feed_shows_the_other_users_edit_of_their_task(api: Api, alice: Account, bob: Account) -> None:
    project = _shared_project(api, alice, bob)
    task = api.create_project_task(alice, project, "Budget")
    edited = api.call(
        "PATCH",
        f"/tasks/{task['id']}",
        token=bob.access_token,
        json={"version": task["version"], "title": "Budget v2"},
    )
    _ok(edited)

    feed = _wait_for(api, alice, "/activity", {("task.created", task["id"]), ("task.updated", task["id"])})
    update = _entry(feed, "task.updated", task["id"])
    assert update["actorId"] == bob.user_id and update["projectId"] == project
    assert update["type"] == "task.updated" and update["title"] == "Budget v2"  # the fields old clients read
    assert update["message"] == 'Task "Budget v2" was updated'
    assert _entry(feed, "task.created", task["id"])["actorId"] == alice.user_id
    # The editor's own feed holds their edit too.
    assert _entry(_wait_for(api, bob, "/activity", {("task.updated", task["id"])}), "task.updated", task["id"])


def test_a_non_member_cannot_tell_the_project_feed_exists(api: Api, alice: Account, bob: Account) -> None:
    project = _shared_project(api, alice, bob)
    stranger = api.new_account("stranger")
    refused = assert_error(
        api.call("GET", f"/projects/{project}/activity", token=stranger.access_token), 404, "NOT_FOUND"
    )
    missing = assert_error(
        api.call("GET", f"/projects/{uuid.uuid4()}/activity", token=stranger.access_token), 404, "NOT_FOUND"
    )
    assert refused["message"] == missing["message"]
    removed = api.call("DELETE", f"/projects/{project}/members/{bob.user_id}", token=alice.access_token)
    assert removed.status_code == 204, removed.text
    assert_error(api.call("GET", f"/projects/{project}/activity", token=bob.access_token), 404, "NOT_FOUND")
    assert api.call("GET", f"/projects/{project}/activity").status_code == 401
