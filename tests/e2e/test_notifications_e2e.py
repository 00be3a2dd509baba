"""e2e (issue 12): a task event reaches its recipient's inbox (never its actor's), SES (read at MiniStack's endpoint)
and open WebSocket connections; reminders fire through EventBridge Scheduler; a revoked token cannot open a socket.
Each test < ~20 s."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.http_api import Account, Api
from tests.support.notification_channels import ses_messages, websocket_url
from tests.support.waiting import wait_until


def _inbox(api: Api, account: Account, **params: str) -> list[dict[str, Any]]:
    answer = api.call("GET", "/notifications", token=account.access_token, params=params)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def _of_type(items: list[dict[str, Any]], kind: str, task_id: str) -> list[dict[str, Any]]:
    return [item for item in items if item["type"] == kind and item["taskId"] == task_id]


def _shared_project(api: Api, owner: Account, member: Account) -> str:
    """A project of `owner` that `member` joined: the member's changes to the owner's tasks tell the owner (a
    person is never told of their own change, docs/events.md)."""
    project_id = api.create_project(owner, "Notifications")
    api.join(owner, project_id, member)
    return project_id


def test_completed_task_reaches_the_inbox_and_an_email_once(api: Api, alice: Account, bob: Account) -> None:
    """Bob completes Alice's task: Alice (its creator) is told once in the inbox and once by email; Bob is not."""
    task = api.create_project_task(alice, _shared_project(api, alice, bob), "Ship <v2> & party")
    done = api.call("PATCH", f"/tasks/{task['id']}", token=bob.access_token, json={"version": 1, "status": "done"})
    assert done.status_code == 200, done.text
    found = wait_until(
        "task.completed in the inbox", lambda: _of_type(_inbox(api, alice), "task.completed", task["id"]), timeout=15
    )
    assert found[0]["message"] == 'Task "Ship <v2> & party" was completed' and found[0]["readAt"] is None
    emails = wait_until("the completion email at SES", lambda: ses_messages(alice.email), timeout=10)
    completion = [m for m in emails if m["Subject"] == "Task completed: Ship <v2> & party"]
    assert len(completion) == 1
    assert "&lt;v2&gt; &amp; party" in completion[0]["BodyHtml"] and "<v2>" not in completion[0]["BodyHtml"]
    count = api.call("GET", "/notifications/unread-count", token=alice.access_token).json()["unread"]
    assert count >= 1
    read = api.call("POST", f"/notifications/{found[0]['id']}/read", token=alice.access_token)
    assert read.status_code == 200 and read.json()["readAt"]
    unread = _inbox(api, alice, unread="true")
    assert not _of_type(unread, "task.completed", task["id"])
    assert not _of_type(_inbox(api, bob), "task.completed", task["id"])  # the actor is never told


def test_preferences_round_trip_and_refuse_unknown_channels(api: Api, alice: Account) -> None:
    path = "/me/notification-preferences"
    saved = api.call("PUT", path, token=alice.access_token, json={"channels": {"task.updated": ["inbox"]}})
    assert saved.status_code == 200, saved.text
    assert api.call("GET", path, token=alice.access_token).json()["channels"]["task.updated"] == ["inbox"]
    bad = api.call("PUT", path, token=alice.access_token, json={"channels": {"task.updated": ["fax"]}})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "VALIDATION_ERROR"


def _in_5s() -> str:
    return (datetime.now(UTC) + timedelta(seconds=5)).replace(microsecond=0).isoformat()


def test_a_reminder_5s_ahead_arrives_and_cancelled_ones_never_do(api: Api, alice: Account) -> None:
    """MiniStack's scheduler sweeps every 10 s: a reminder lands 5-15 s after its time. The cancelled reminders are
    due before the kept one, so by the time it arrives theirs would have too."""
    completed = api.create_task(alice, title="Already done", remindAt=_in_5s())
    patch = {"version": 1, "status": "done"}
    assert api.call("PATCH", f"/tasks/{completed['id']}", token=alice.access_token, json=patch).status_code == 200
    deleted = api.create_task(alice, title="Never mind", remindAt=_in_5s())
    assert api.call("DELETE", f"/tasks/{deleted['id']}", token=alice.access_token).status_code == 204
    kept = api.create_task(alice, title="Water the plants", remindAt=_in_5s())
    reminders = wait_until(
        "the reminder in the inbox",
        lambda: _of_type(_inbox(api, alice), "task.due_reminder", kept["id"]),
        timeout=20,
    )
    assert reminders[0]["message"] == 'Reminder: "Water the plants" is due'
    wait_until("the reminder email", lambda: [m for m in ses_messages(alice.email) if "Water" in m["Subject"]], 5)
    inbox = _inbox(api, alice)
    assert not _of_type(inbox, "task.due_reminder", completed["id"])
    assert not _of_type(inbox, "task.due_reminder", deleted["id"])


async def _receive_push(url: str, api: Api, listener: Account, actor: Account) -> tuple[float, dict[str, Any]]:
    """`listener` has a socket open; `actor` creates a task in their shared project assigned to the listener."""
    import websockets

    project_id = await asyncio.to_thread(_shared_project, api, listener, actor)
    async with websockets.connect(f"{url}?token={listener.access_token}", open_timeout=20) as socket:
        await asyncio.sleep(0.2)  # the $connect function has stored the connection
        started = time.perf_counter()
        body = {"title": "Pushed live", "projectId": project_id, "assigneeId": listener.user_id}
        created = await asyncio.to_thread(api.call, "POST", "/tasks", token=actor.access_token, json=body)
        assert created.status_code == 201, created.text
        task_id = created.json()["id"]
        while True:
            message = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
            if message.get("notification", {}).get("taskId") == task_id:
                return time.perf_counter() - started, message


def test_a_new_notification_is_pushed_to_an_open_websocket(api: Api, alice: Account, bob: Account) -> None:
    elapsed, message = asyncio.run(_receive_push(websocket_url(), api, alice, bob))
    assert message["kind"] == "notification"
    assert message["notification"]["type"] == "task.assigned"
    print(f"POST /tasks -> WebSocket message: {elapsed * 1000:.0f} ms")  # benchmarks/notifications.py times it


def test_a_revoked_token_cannot_open_a_websocket(api: Api, alice: Account) -> None:
    import websockets

    assert api.call("POST", "/auth/logout", token=alice.access_token).status_code == 204

    async def connect() -> None:
        async with websockets.connect(f"{websocket_url()}?token={alice.access_token}", open_timeout=20):
            pass

    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        asyncio.run(connect())
    assert refused.value.response.status_code == 403
