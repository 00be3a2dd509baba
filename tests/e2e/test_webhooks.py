"""Webhooks end to end on the deployed stack: API -> tasks stream -> fan-out -> SQS -> delivery worker -> a real
receiver on 127.0.0.1 in this process (MiniStack runs the workers as local processes, so they reach it).

The stack must be deployed with test-sized webhook parameters (infra/test-all.sh sets them: seconds of backoff,
few attempts, loopback receivers allowed); anything else fails at once with what to change. Each test stays
under ~20 s.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any, cast

import boto3
import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from infra.stack import Stack
from tests.support.http_api import Account, Api
from tests.support.waiting import wait_until
from tests.support.webhook_receiver import HANG, Receiver, running_receiver

ENDPOINT_URL = os.environ.get("AWS_ENDPOINT_URL") or "http://127.0.0.1:4566"
STACK_NAME = os.environ.get("STACK_NAME") or "taskapp"
# What the tests below assume of the deployed parameters (upper bounds keep each test short).
TEST_SIZED = {
    "WebhookRetryBaseSeconds": 2,
    "WebhookRetryMaxSeconds": 4,
    "WebhookMaxAttempts": 4,
    "WebhookDisableAfterFailures": 2,
    "WebhookTimeoutSeconds": 3,
}
WAIT = 25.0


def _aws(service: str) -> Any:
    return boto3.client(
        cast(Any, service),
        endpoint_url=ENDPOINT_URL,
        region_name=os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
    )


@pytest.fixture(scope="module")
def stack() -> Stack:
    stack = Stack(STACK_NAME, _aws("cloudformation"))
    parameters = stack.parameters()
    problems = [
        f"{name}={parameters.get(name)} (at most {limit})"
        for name, limit in TEST_SIZED.items()
        if int(parameters.get(name) or 10**6) > limit
    ]
    if parameters.get("WebhookAllowLoopbackHttp") != "true":
        problems.append("WebhookAllowLoopbackHttp must be true")
    if problems:
        pytest.fail(
            f"stack {STACK_NAME} is not deployed with test-sized webhook parameters: {problems}; "
            "deploy it the way infra/test-all.sh does"
        )
    return stack


@pytest.fixture(scope="module")
def timeout_seconds(stack: Stack) -> int:
    return int(stack.parameters()["WebhookTimeoutSeconds"])


def _subscribe(api: Api, account: Account, url: str, events: list[str] | None = None) -> dict[str, Any]:
    answer = api.call("POST", "/webhooks", token=account.access_token, json={"url": url, "events": events or ["*"]})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def _create_task(api: Api, account: Account, title: str = "Webhook e2e") -> str:
    answer = api.call("POST", "/tasks", token=account.access_token, json={"title": title})
    assert answer.status_code == 201, answer.text
    task_id: str = answer.json()["id"]
    return task_id


def _deliveries(api: Api, account: Account, webhook_id: str) -> list[dict[str, Any]]:
    answer = api.call("GET", f"/webhooks/{webhook_id}/deliveries", token=account.access_token)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def _settled(api: Api, account: Account, webhook_id: str, count: int = 1) -> list[dict[str, Any]]:
    def probe() -> list[dict[str, Any]] | None:
        items = _deliveries(api, account, webhook_id)
        done = [item for item in items if item["outcome"] in ("delivered", "failed")]
        return items if len(done) >= count else None

    return wait_until(f"{count} settled deliveries of {webhook_id}", probe, timeout=WAIT, interval=0.5)


def _received(receiver: Receiver, count: int) -> None:
    wait_until(f"{count} requests at {receiver.url}", lambda: len(receiver.requests) >= count, WAIT, 0.2)


@pytest.mark.usefixtures("stack")
def test_a_task_event_reaches_the_receiver_once_signed(api: Api, alice: Account) -> None:
    with running_receiver([200]) as receiver:
        hook = _subscribe(api, alice, receiver.url, ["task.created"])
        task_id = _create_task(api, alice)
        [delivery] = _settled(api, alice, hook["id"])
        [body] = receiver.verify_all(hook["secret"])
    assert len(receiver.requests) == 1
    assert body["type"] == "task.created" and body["data"]["taskId"] == task_id
    assert delivery["outcome"] == "delivered" and delivery["attempts"] == 1 and delivery["lastStatusCode"] == 200


@pytest.mark.usefixtures("stack")
def test_two_failures_then_success_three_attempts_one_webhook_id(api: Api, alice: Account) -> None:
    with running_receiver([500, 502, 200]) as receiver:
        hook = _subscribe(api, alice, receiver.url)
        _create_task(api, alice)
        [delivery] = _settled(api, alice, hook["id"])
        receiver.verify_all(hook["secret"])
    assert delivery["outcome"] == "delivered" and delivery["attempts"] == 3
    assert [attempt["statusCode"] for attempt in delivery["attemptLog"]] == [500, 502, 200]
    assert len({request.headers["webhook-id"] for request in receiver.requests}) == 1


def test_always_500_dead_letters_disables_and_notifies(api: Api, alice: Account, stack: Stack) -> None:
    with running_receiver([500]) as receiver:
        hook = _subscribe(api, alice, receiver.url)
        _create_task(api, alice, "first")
        _create_task(api, alice, "second")
        deliveries = _settled(api, alice, hook["id"], count=2)
        disabled = wait_until(
            "the subscription disabled",
            lambda: (
                (w := api.call("GET", f"/webhooks/{hook['id']}", token=alice.access_token).json())["enabled"] is False
                and w
            ),
            WAIT,
            0.5,
        )
    assert {d["outcome"] for d in deliveries} == {"failed"}
    assert all(d["attempts"] == int(stack.parameters()["WebhookMaxAttempts"]) for d in deliveries)
    assert "consecutive failed events" in disabled["disabledReason"]
    letters = _aws("sqs").receive_message(
        QueueUrl=stack.output("WebhookDeadLetterQueueUrl"), MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    reasons = [m["Body"] for m in letters.get("Messages", []) if hook["id"] in m["Body"]]
    assert reasons and all("HTTP 500 after" in reason for reason in reasons)
    inbox = api.call("GET", "/notifications", token=alice.access_token)
    assert inbox.status_code == 200, inbox.text
    assert any(
        item["type"] == "webhook.disabled" and hook["id"] in item["message"] for item in inbox.json()["items"]
    ), inbox.text


def test_a_hanging_receiver_times_out_and_holds_nobody_up(api: Api, alice: Account, timeout_seconds: int) -> None:
    with running_receiver([HANG], hang_seconds=20) as hanging, running_receiver([200]) as fast:
        slow_hook = _subscribe(api, alice, hanging.url)
        _subscribe(api, alice, fast.url)
        _create_task(api, alice)
        _received(fast, 1)
        first_slow = wait_until(
            "the hanging receiver's first attempt logged",
            lambda: [d for d in _deliveries(api, alice, slow_hook["id"]) if d["attempts"] >= 1],
            WAIT,
            0.5,
        )[0]
    assert first_slow["attemptLog"][0]["error"] == f"timeout after {timeout_seconds} s"
    ended = datetime.fromisoformat(first_slow["attemptLog"][0]["at"]).timestamp() + first_slow["lastLatencyMs"] / 1000
    assert fast.requests[0].received_at < ended


@pytest.mark.usefixtures("stack")
def test_rotation_and_ping_sign_with_both_secrets(api: Api, alice: Account) -> None:
    with running_receiver([200]) as receiver:
        hook = _subscribe(api, alice, receiver.url)
        rotated = api.call("POST", f"/webhooks/{hook['id']}/rotate-secret", token=alice.access_token)
        assert rotated.status_code == 200, rotated.text
        ping = api.call("POST", f"/webhooks/{hook['id']}/ping", token=alice.access_token)
        assert ping.status_code == 202, ping.text
        _received(receiver, 1)
    request = receiver.requests[0]
    for secret in (hook["secret"], rotated.json()["secret"]):
        assert Verifier(secret).verify(request.body, request.headers)["type"] == "webhook.ping"


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/x",
        "https://172.16.0.1/x",
        "https://192.168.0.1/x",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/x",
        "https://224.0.0.1/x",
        "https://[fe80::1]/x",
        "https://[fc00::1]/x",
        "https://[::ffff:10.0.0.1]/x",
        "http://93.184.215.14/x",
    ],
)
def test_forbidden_addresses_are_refused_at_creation(api: Api, alice: Account, url: str) -> None:
    answer = api.call("POST", "/webhooks", token=alice.access_token, json={"url": url, "events": ["*"]})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "UNSAFE_WEBHOOK_URL"


# --- project subscriptions (issue 13 x issue 11) -------------------------------------------------------------------
# They need tasks in projects (`POST /tasks` with `projectId`, the collaboration contract) on the deployed stack.


def _project_with(api: Api, owner: Account, members: dict[str, tuple[Account, str]]) -> str:
    project_id = api.create_project(owner, "Webhook e2e")
    for account, role in members.values():
        api.join(owner, project_id, account, role)
    return project_id


def _subscribe_project(api: Api, account: Account, project_id: str, url: str) -> Any:
    return api.call(
        "POST",
        "/webhooks",
        token=account.access_token,
        json={"url": url, "events": ["task.created"], "projectId": project_id},
    )


@pytest.mark.usefixtures("stack")
def test_only_admins_subscribe_to_a_project_and_strangers_see_404(api: Api, alice: Account) -> None:
    member, viewer, stranger = api.new_account("member"), api.new_account("viewer"), api.new_account("stranger")
    project_id = _project_with(api, alice, {"m": (member, "member"), "v": (viewer, "viewer")})
    url = "https://93.184.215.14/hooks"
    for account in (member, viewer):
        refused = _subscribe_project(api, account, project_id, url)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN", refused.text
    hidden = _subscribe_project(api, stranger, project_id, url)
    missing = _subscribe_project(api, stranger, "00000000-0000-4000-8000-000000000000", url)
    assert hidden.status_code == missing.status_code == 404, (hidden.text, missing.text)
    assert hidden.json()["error"]["code"] == missing.json()["error"]["code"] == "NOT_FOUND"
    created = _subscribe_project(api, alice, project_id, url)
    assert created.status_code == 201 and created.json()["projectId"] == project_id, created.text


@pytest.mark.usefixtures("stack")
def test_project_task_events_reach_the_project_subscription_never_a_personal_one(
    api: Api, alice: Account, bob: Account
) -> None:
    project_id = _project_with(api, alice, {"bob": (bob, "member")})
    with running_receiver([200]) as project_receiver, running_receiver([200]) as personal_receiver:
        project_hook = _subscribe_project(api, alice, project_id, project_receiver.url)
        assert project_hook.status_code == 201, project_hook.text
        personal_hook = _subscribe(api, alice, personal_receiver.url, ["task.created"])
        by_owner = api.create_project_task(alice, project_id, "by the owner")["id"]
        by_member = api.create_project_task(bob, project_id, "by a member")["id"]
        _received(project_receiver, 2)
        personal_task = _create_task(api, alice, "personal")  # after the project tasks: the stream keeps order
        _received(personal_receiver, 1)
        project_bodies = project_receiver.verify_all(project_hook.json()["secret"])
        [personal_body] = personal_receiver.verify_all(personal_hook["secret"])
    assert {body["data"]["taskId"] for body in project_bodies} == {by_owner, by_member}
    assert all(body["data"]["projectId"] == project_id for body in project_bodies)
    assert personal_body["data"]["taskId"] == personal_task and personal_body["data"]["projectId"] is None
    assert len(personal_receiver.requests) == 1  # neither project task, though alice created one of them


@pytest.mark.usefixtures("stack")
def test_a_demoted_creators_subscription_stops_receiving(api: Api, alice: Account, bob: Account) -> None:
    project_id = _project_with(api, alice, {"bob": (bob, "admin")})
    with running_receiver([200]) as bobs, running_receiver([200]) as alices:
        bobs_hook = _subscribe_project(api, bob, project_id, bobs.url)
        assert bobs_hook.status_code == 201, bobs_hook.text
        assert _subscribe_project(api, alice, project_id, alices.url).status_code == 201
        demoted = api.call(
            "PATCH",
            f"/projects/{project_id}/members/{bob.user_id}",
            token=alice.access_token,
            json={"role": "member"},
        )
        assert demoted.status_code == 200, demoted.text
        api.create_project_task(alice, project_id, "Project webhook e2e")
        _received(alices, 1)  # the fan-out of that event is done: bob's subscription got no job from it
        assert bobs.requests == []
        assert [d for d in _deliveries(api, bob, bobs_hook.json()["id"]) if d["outcome"] == "delivered"] == []
        moved = api.call(
            "PATCH",
            f"/webhooks/{bobs_hook.json()['id']}",
            token=bob.access_token,
            json={"url": "https://93.184.215.15/hooks"},
        )
        assert moved.status_code == 403, moved.text


@pytest.mark.usefixtures("stack")
def test_member_events_reach_the_project_subscription(api: Api, alice: Account, bob: Account) -> None:
    """The projects stream feeds the fan-out too: an invitation and its acceptance, as member.* deliveries."""
    project_id = api.create_project(alice, "Webhook members e2e")
    with running_receiver([200]) as receiver:
        hook = api.call(
            "POST",
            "/webhooks",
            token=alice.access_token,
            json={"url": receiver.url, "events": ["member.invited", "member.joined"], "projectId": project_id},
        )
        assert hook.status_code == 201, hook.text
        api.join(alice, project_id, bob)
        _received(receiver, 2)
        bodies = receiver.verify_all(hook.json()["secret"])
    assert sorted(body["type"] for body in bodies) == ["member.invited", "member.joined"]
    assert all(body["data"]["projectId"] == project_id for body in bodies)


@pytest.mark.usefixtures("stack")
def test_comment_events_reach_project_and_personal_subscriptions(api: Api, alice: Account, bob: Account) -> None:
    """The comments stream feeds the fan-out: a project task's comments go to the project's subscription, a
    personal task's to its owner's personal one, each never to the other."""
    project_id = _project_with(api, alice, {"bob": (bob, "member")})
    comment_types = ["comment.added", "comment.updated", "comment.deleted"]
    with running_receiver([200]) as project_receiver, running_receiver([200]) as personal_receiver:
        project_hook = api.call(
            "POST",
            "/webhooks",
            token=alice.access_token,
            json={"url": project_receiver.url, "events": comment_types, "projectId": project_id},
        )
        assert project_hook.status_code == 201, project_hook.text
        personal_hook = _subscribe(api, alice, personal_receiver.url, comment_types)
        project_task = api.create_project_task(alice, project_id, "commented in the project")["id"]
        added = api.call(
            "POST", f"/tasks/{project_task}/comments", token=bob.access_token, json={"body": "From the project"}
        )
        assert added.status_code == 201, added.text
        comment_id = added.json()["id"]
        edited = api.call(
            "PATCH",
            f"/tasks/{project_task}/comments/{comment_id}",
            token=bob.access_token,
            json={"body": "From the project, edited", "version": 1},
        )
        assert edited.status_code == 200, edited.text
        deleted = api.call("DELETE", f"/tasks/{project_task}/comments/{comment_id}", token=alice.access_token)
        assert deleted.status_code == 204, deleted.text
        _received(project_receiver, 3)
        personal_task = _create_task(api, alice, "commented personally")
        mine = api.call("POST", f"/tasks/{personal_task}/comments", token=alice.access_token, json={"body": "Mine"})
        assert mine.status_code == 201, mine.text
        _received(personal_receiver, 1)
        project_bodies = project_receiver.verify_all(project_hook.json()["secret"])
        [personal_body] = personal_receiver.verify_all(personal_hook["secret"])
    assert sorted(body["type"] for body in project_bodies) == sorted(comment_types)
    assert all(body["data"]["projectId"] == project_id for body in project_bodies)
    deletion = next(body for body in project_bodies if body["type"] == "comment.deleted")
    assert deletion["data"]["actorId"] == alice.user_id and deletion["data"]["authorId"] == bob.user_id
    assert personal_body["type"] == "comment.added" and personal_body["data"]["taskId"] == personal_task
    assert personal_body["data"]["projectId"] is None and len(personal_receiver.requests) == 1
