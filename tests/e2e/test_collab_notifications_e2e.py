"""e2e (issue 12 x issue 11): collaboration's events reach the people the rules name, never the actor.

Needs the whole collaboration slice deployed: tasks in projects with assignees (`POST /tasks` with `projectId`,
`PATCH` with `assigneeId`), the outbox's `task.assigned` events, project events published on `task.events`, comments
with mentions, and the notification consumer handing comment and project events to
`taskapp.domain.notification_delivery` (`occurrence_of_comment` / `occurrence_of_project`). Each test < ~20 s.
"""

from __future__ import annotations

from typing import Any

from tests.support import unique
from tests.support.http_api import Account, Api
from tests.support.notification_channels import ses_messages
from tests.support.waiting import wait_until

WAIT = 15.0


def _inbox(api: Api, account: Account) -> list[dict[str, Any]]:
    answer = api.call("GET", "/notifications", token=account.access_token, params={"limit": "50"})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def _of(api: Api, account: Account, kind: str, task_id: str) -> list[dict[str, Any]]:
    return [item for item in _inbox(api, account) if item["type"] == kind and item["taskId"] == task_id]


def _project(api: Api, owner: Account, name: str, *members: Account) -> str:
    project_id = api.create_project(owner, name)
    for member in members:
        api.join(owner, project_id, member)
    return project_id


def test_an_assignment_tells_the_assignee_not_the_assigner(api: Api, alice: Account, bob: Account) -> None:
    project_id = _project(api, alice, "Assignments", bob)
    task = api.create_project_task(alice, project_id, "Review <the> plan")
    assigned = api.call(
        "PATCH", f"/tasks/{task['id']}", token=alice.access_token, json={"version": 1, "assigneeId": bob.user_id}
    )
    assert assigned.status_code == 200, assigned.text
    found = wait_until("task.assigned in bob's inbox", lambda: _of(api, bob, "task.assigned", task["id"]), WAIT)
    assert len(found) == 1 and found[0]["actor"] == alice.user_id and found[0]["projectId"] == project_id
    assert found[0]["message"] == 'You were assigned "Review <the> plan"'
    emails = wait_until(
        "the assignment email", lambda: [m for m in ses_messages(bob.email) if "Review" in m["Subject"]], 10
    )
    assert "&lt;the&gt;" in emails[0]["BodyHtml"] and "<the>" not in emails[0]["BodyHtml"]
    assert _of(api, alice, "task.assigned", task["id"]) == []  # the actor is never told


def test_completion_by_the_assignee_tells_the_creator(api: Api, alice: Account, bob: Account) -> None:
    project_id = _project(api, alice, "Completions", bob)
    task = api.create_project_task(alice, project_id, "Close the sprint")
    path = f"/tasks/{task['id']}"
    assert api.call("PATCH", path, token=alice.access_token, json={"version": 1, "assigneeId": bob.user_id}).ok
    done = api.call("PATCH", path, token=bob.access_token, json={"version": 2, "status": "done"})
    assert done.status_code == 200, done.text
    wait_until("task.completed in alice's inbox", lambda: _of(api, alice, "task.completed", task["id"]), WAIT)
    assert _of(api, bob, "task.completed", task["id"]) == []


def test_an_invitation_before_registration_is_emailed_to_the_address(api: Api, alice: Account) -> None:
    email = unique.email("invitee")
    project_id = api.create_project(alice, "Launch <Q1>")
    invited = api.call(
        "POST",
        f"/projects/{project_id}/invitations",
        token=alice.access_token,
        json={"email": email, "role": "member"},
    )
    assert invited.status_code == 202, invited.text
    [message] = wait_until("the invitation email at SES", lambda: ses_messages(email), WAIT)
    assert message["Subject"] == "Invitation to Launch <Q1>"
    assert "Launch &lt;Q1&gt;" in message["BodyHtml"] and "<Q1>" not in message["BodyHtml"]
    assert [m for m in ses_messages(alice.email) if m["Subject"].startswith("Invitation")] == []


def _wait_for_comment(api: Api, account: Account, task_id: str) -> None:
    wait_until(f"comment.added for {account.email}", lambda: _of(api, account, "comment.added", task_id), WAIT)


def test_a_comment_tells_watchers_and_the_mentioned_not_its_author(api: Api, alice: Account, bob: Account) -> None:
    carol = api.new_account("carol")
    project_id = _project(api, alice, "Comments", bob, carol)
    task = api.create_project_task(alice, project_id, "Pick a venue")
    body = f"@{carol.user_id} can you check <b>this</b>?"
    commented = api.call("POST", f"/tasks/{task['id']}/comments", token=bob.access_token, json={"body": body})
    assert commented.status_code == 201, commented.text
    for account in (alice, carol):  # alice created the task (a watcher), carol is mentioned
        _wait_for_comment(api, account, task["id"])
    assert _of(api, bob, "comment.added", task["id"]) == []  # the author is never told
    [mail] = wait_until(
        "carol's comment email", lambda: [m for m in ses_messages(carol.email) if "venue" in m["Subject"]], 10
    )
    assert "&lt;b&gt;this&lt;/b&gt;" in mail["BodyHtml"] and "<b>this</b>" not in mail["BodyHtml"]


def test_a_reassignment_tells_the_previous_assignee_and_the_new_one(api: Api, alice: Account, bob: Account) -> None:
    carol = api.new_account("carol")
    project_id = _project(api, alice, "Handover", bob, carol)
    task = api.create_project_task(alice, project_id, "Hand it over")
    path = f"/tasks/{task['id']}"
    assert api.call("PATCH", path, token=alice.access_token, json={"version": 1, "assigneeId": bob.user_id}).ok
    moved = api.call("PATCH", path, token=alice.access_token, json={"version": 2, "assigneeId": carol.user_id})
    assert moved.status_code == 200, moved.text
    taken_off = wait_until("task.unassigned for bob", lambda: _of(api, bob, "task.unassigned", task["id"]), WAIT)
    assert len(taken_off) == 1 and taken_off[0]["actor"] == alice.user_id
    wait_until("task.assigned for carol", lambda: _of(api, carol, "task.assigned", task["id"]), WAIT)
    assert _of(api, alice, "task.unassigned", task["id"]) == []  # the actor is never told


def test_an_earlier_commenter_is_told_of_a_new_comment(api: Api, alice: Account, bob: Account) -> None:
    carol = api.new_account("carol")
    project_id = _project(api, alice, "Watchers", bob, carol)
    task = api.create_project_task(alice, project_id, "Plan the offsite")
    first = api.call("POST", f"/tasks/{task['id']}/comments", token=carol.access_token, json={"body": "I'm in"})
    assert first.status_code == 201, first.text
    second = api.call("POST", f"/tasks/{task['id']}/comments", token=bob.access_token, json={"body": "Me too"})
    assert second.status_code == 201, second.text
    _wait_for_comment(api, carol, task["id"])  # carol commented before: a watcher, told of bob's comment
    [told] = _of(api, carol, "comment.added", task["id"])
    assert told["actor"] == bob.user_id
    assert _of(api, bob, "comment.added", task["id"]) == []  # not a watcher of carol's; never of his own
