"""Benchmark of the notification path on the deployed local stack (issue 12, "Measures"); writes
benchmarks/notifications.{json,md}.

1. `POST /tasks` round trip, the baseline of the ratios below, measured in the same run.
2. event -> inbox visible: an actor `POST /tasks` a task of a project they share with the listener, assigned to
   the listener (nobody is told of their own change), then poll the listener's `GET /notifications?limit=5` until
   the task's `task.assigned` item shows (stream -> outbox -> RabbitMQ -> bridge -> NotificationFunction).
3. event -> WebSocket message: the listener's one open connection (`websockets`, token in the query string); the
   actor's `POST /tasks` as above, then wait for the push of that task's notification.
4. fan-out: an occurrence with 50 watchers, one of them the actor (the shape of issue 11's `comment.added`), is
   delivered through `taskapp.domain.notification_delivery.deliver` in this process against the stack's own tables
   and WebSocket API, with one open socket per watcher: 49 notifications and 49 pushes expected, timed from the
   call until the last socket received its message.

Needs the stack (STACK_NAME, API_BASE_URL or .local/api-url) with the event bridge running, deployed with rate limits
this run stays under (it checks them first: `RATE_LIMIT_USER_PER_MINUTE=100000 RATE_LIMIT_REGISTRATIONS_PER_IP=100000
infra/deploy.sh`, as infra/test-all.sh does). MiniStack's endpoint and test credentials are the defaults.
    STACK_NAME=taskapp API_BASE_URL=... .venv/bin/python -m benchmarks.notifications --events 200 --pushes 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from typing import Any

import requests

from benchmarks import harness, stack_checks
from benchmarks.harness import markdown_table


def _post(api: str) -> Any:
    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(f"{api}{path}", json=body, timeout=60)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    return post


def _create_task(
    session: requests.Session, api: str, headers: dict[str, str], title: str, **fields: Any
) -> tuple[str, float]:
    started = time.perf_counter()
    response = session.post(f"{api}/tasks", json=harness.create_task_body(title, **fields), headers=headers, timeout=60)
    elapsed = harness.elapsed_ms(started)
    response.raise_for_status()
    return str(response.json()["id"]), elapsed


def _pair(api: str, prefix: str) -> tuple[harness.SignedUp, harness.SignedUp, dict[str, Any]]:
    """(listener, actor, fields of a task the actor creates for the listener): the listener's project, which the
    actor joined as a member."""
    post = _post(api)
    listener = harness.sign_up(post, prefix=f"{prefix}-listener")
    actor_account = harness.new_account(f"{prefix}-actor")
    actor_id = str(post("/auth/register", actor_account.register)["id"])
    actor = harness.SignedUp(actor_id, str(post("/auth/login", actor_account.login)["accessToken"]))

    def call(method: str, path: str, user: harness.SignedUp, body: dict[str, Any] | None = None) -> Any:
        response = requests.request(method, f"{api}{path}", json=body, headers=user.headers, timeout=60)
        response.raise_for_status()
        return response.json() if response.content else None

    project_id = call("POST", "/projects", listener, {"name": "Notification benchmark"})["id"]
    invitation = {"email": actor_account.login["email"], "role": "member"}
    call("POST", f"/projects/{project_id}/invitations", listener, invitation)
    (pending,) = [item for item in call("GET", "/invitations", actor)["items"] if item["projectId"] == project_id]
    call("POST", f"/invitations/{pending['id']}/accept", actor)
    return listener, actor, {"project_id": project_id, "assignee_id": listener.user_id}


def _inbox_has(session: requests.Session, api: str, headers: dict[str, str], task_id: str) -> bool:
    response = session.get(f"{api}/notifications", params={"limit": "5"}, headers=headers, timeout=60)
    if response.status_code == 429:
        raise SystemExit("GET /notifications answered 429: deploy the stack with RATE_LIMIT_USER_PER_MINUTE=100000")
    response.raise_for_status()
    return any(item["taskId"] == task_id and item["type"] == "task.assigned" for item in response.json()["items"])


def measure_inbox(api: str, events: int, timeout_s: float = 30) -> tuple[list[float], list[float]]:
    """(POST /tasks round trips, event -> inbox visible), both in ms, over `events` tasks."""
    listener, actor, fields = _pair(api, "bench-inbox")
    session = requests.Session()
    round_trips, visible = [], []
    for n in range(events):
        started = time.perf_counter()
        task_id, round_trip = _create_task(session, api, actor.headers, f"inbox {n}", **fields)
        round_trips.append(round_trip)
        deadline = started + timeout_s
        while not _inbox_has(session, api, listener.headers, task_id):
            if time.perf_counter() > deadline:
                raise SystemExit(f"task {task_id}: no notification after {timeout_s:.0f} s; is the bridge running?")
            time.sleep(0.01)
        visible.append(harness.elapsed_ms(started))
    return round_trips, visible


async def _measure_pushes(api: str, url: str, pushes: int) -> list[float]:
    import websockets

    listener, actor, fields = await asyncio.to_thread(_pair, api, "bench-push")
    session = requests.Session()
    samples = []
    async with websockets.connect(f"{url}?token={listener.access_token}", open_timeout=30) as socket:
        await asyncio.sleep(0.5)  # $connect stored the connection
        for n in range(pushes):
            started = time.perf_counter()
            task_id, _ = await asyncio.to_thread(_create_task, session, api, actor.headers, f"push {n}", **fields)
            while True:
                message = json.loads(await asyncio.wait_for(socket.recv(), timeout=30))
                if message.get("notification", {}).get("taskId") == task_id:
                    break
            samples.append(harness.elapsed_ms(started))
    return samples


def _stack_environment() -> None:
    """Point the in-process delivery at the deployed stack's tables and WebSocket API (before taskapp loads)."""
    from infra.stack import Stack

    stack = Stack()
    outputs = stack.outputs()
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
            "NOTIFICATIONS_TABLE": outputs["NotificationsTableName"],
            "NOTIFICATION_PREFERENCES_TABLE": outputs["NotificationPreferencesTableName"],
            "CONNECTIONS_TABLE": outputs["NotificationConnectionsTableName"],
            "WEBSOCKET_API_ID": outputs["WebSocketApiId"],
            "WEBSOCKET_STAGE": outputs["ApiStage"],
            "USERS_TABLE": outputs["UsersTableName"],
            "AWS_REGION": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        }
    )


async def _measure_fan_out(api: str, url: str, watchers: int) -> dict[str, Any]:
    import websockets

    from taskapp.domain.notification_delivery import deliver
    from taskapp.domain.push import ConnectionPusher
    from taskapp.domain.records.notifications import Occurrence
    from taskapp.messaging.websocket import ConnectionPoster

    users = [harness.sign_up(_post(api), prefix="bench-watcher") for _ in range(watchers)]
    sockets = [await websockets.connect(f"{url}?token={user.access_token}", open_timeout=30) for user in users]
    try:
        await asyncio.sleep(0.5)
        actor, *others = users
        occurrence = Occurrence(
            event_id=f"bench-fanout:{uuid.uuid4().hex}",
            type="comment.added",
            occurred_at=harness.utc_now(),
            actor_id=actor.user_id,
            title="fan-out benchmark",
            owner_id=actor.user_id,
            task_id=str(uuid.uuid4()),
            creator_id=actor.user_id,
            watcher_ids=tuple(user.user_id for user in users),
        )

        class NoEmail:
            def email_of(self, user_id: str) -> str | None:
                return None

            def user_id_of(self, email: str) -> str | None:
                return None

        started = time.perf_counter()
        delivery = await asyncio.to_thread(deliver, occurrence, NoEmail(), None, ConnectionPusher(ConnectionPoster()))
        delivered_ms = harness.elapsed_ms(started)
        received = 0
        for socket in sockets[1:]:
            try:
                await asyncio.wait_for(socket.recv(), timeout=10)
                received += 1
            except TimeoutError:
                pass
        all_received_ms = harness.elapsed_ms(started)
    finally:
        for socket in sockets:
            await socket.close()
    return {
        "watchers": watchers,
        "notifications": delivery.notified,
        "pushes": delivery.pushed,
        "received": received,
        "expected": len(others),
        "deliver_ms": round(delivered_ms, 1),
        "all_received_ms": round(all_received_ms, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=200, help="event -> inbox samples")
    parser.add_argument("--pushes", type=int, default=50, help="event -> WebSocket samples")
    parser.add_argument("--watchers", type=int, default=50, help="fan-out size, the actor included")
    parser.add_argument("--output", default="notifications")
    args = parser.parse_args(argv)
    api = harness.api_base_url()
    if not api:
        print("no API: set API_BASE_URL or deploy the stack (.local/api-url)", file=sys.stderr)
        return 1
    stack_checks.local_stack_environment()
    # Polling the inbox every 10 ms makes hundreds of requests a minute per user; every watcher registers.
    stack_checks.require_parameters(
        {"RateLimitUserPerMinute": 100_000, "RateLimitRegistrationsPerIp": args.watchers + 10}
    )
    _stack_environment()
    from tests.support.notification_channels import websocket_url

    url = websocket_url()
    load_before = harness.load_average()
    round_trips, inbox = measure_inbox(api, args.events)
    pushes = asyncio.run(_measure_pushes(api, url, args.pushes))
    fan_out = asyncio.run(_measure_fan_out(api, url, args.watchers))
    post = harness.summarize(round_trips)
    figures = {
        "post_tasks": post,
        "event_to_inbox": harness.summarize(inbox),
        "event_to_push": harness.summarize(pushes),
    }
    data = {
        "measured_at": harness.utc_now(),
        "machine": harness.machine(),
        "load_average": [load_before, harness.load_average()],
        **figures,
        "ratio_p50": {
            "inbox_vs_post": round(figures["event_to_inbox"]["p50"] / post["p50"], 2),
            "push_vs_post": round(figures["event_to_push"]["p50"] / post["p50"], 2),
        },
        "fan_out": fan_out,
    }
    rows = [
        (name, figure["n"], figure["p50"], figure["p95"], round(figure["p50"] / post["p50"], 2))
        for name, figure in (
            ("POST /tasks round trip", post),
            ("event -> inbox visible", figures["event_to_inbox"]),
            ("event -> WebSocket message", figures["event_to_push"]),
        )
    ]
    text = "\n\n".join(
        [
            f"# Notification path ({data['measured_at']}, {data['machine']}, load {data['load_average']})",
            markdown_table(["what", "n", "p50 ms", "p95 ms", "p50 / POST"], rows, "lrrrr"),
            f"Fan-out: {fan_out['watchers']} watchers (actor excluded): {fan_out['notifications']} notifications, "
            f"{fan_out['pushes']} pushes, {fan_out['received']}/{fan_out['expected']} received; delivery "
            f"{fan_out['deliver_ms']} ms, last socket {fan_out['all_received_ms']} ms.",
        ]
    )
    harness.write_report(args.output, data=data, markdown=text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
