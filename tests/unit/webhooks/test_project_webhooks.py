"""Project webhook subscriptions: only admins (and the owner) subscribe; a project task's events go to the project's
subscriptions and never to anyone's personal ones; a demoted or removed creator's subscription stops receiving,
at fan-out and for jobs already queued, and serves again once the role is back."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBStreamEvent

from taskapp.schemas.events import TaskEvent
from tests.support.api_client import ApiClient, ApiResponse
from tests.support.lambda_events import FakeLambdaContext, load_function
from tests.support.sample_events import load_event
from tests.support.webhook_receiver import running_receiver
from tests.unit.conftest import Account
from tests.unit.helpers import assert_error
from tests.unit.webhooks.conftest import drain, publish, subscribe, task_event

pytestmark = pytest.mark.usefixtures("webhook_env", "empty_queues")

PUBLIC_URL = "https://93.184.215.14/hooks"


def _project(client: ApiClient, owner: Account) -> str:
    created = client.post("/projects", token=owner.access_token, json_body={"name": "Launch"})
    assert created.status_code == 201, created.body
    return str(created.json()["id"])


def _join(client: ApiClient, owner: Account, project_id: str, invitee: Account, role: str) -> None:
    invited = client.post(
        f"/projects/{project_id}/invitations",
        token=owner.access_token,
        json_body={"email": invitee.email, "role": role},
    )
    assert invited.status_code == 202, invited.body
    accepted = client.post(f"/invitations/{invited.json()['id']}/accept", token=invitee.access_token)
    assert accepted.status_code == 200, accepted.body


def _set_role(client: ApiClient, owner: Account, project_id: str, member: Account, role: str) -> None:
    changed = client.patch(
        f"/projects/{project_id}/members/{member.user_id}", token=owner.access_token, json_body={"role": role}
    )
    assert changed.status_code == 200, changed.body


def _subscribe_project(client: ApiClient, account: Account, project_id: str, url: str = PUBLIC_URL) -> ApiResponse:
    return client.post(
        "/webhooks", json_body={"url": url, "events": ["*"], "projectId": project_id}, token=account.access_token
    )


@pytest.fixture
def project(client: ApiClient, owner: Account) -> str:
    return _project(client, owner)


def test_owner_and_admins_subscribe_to_a_project(
    client: ApiClient, owner: Account, project: str, new_account: Any
) -> None:
    admin = new_account()
    _join(client, owner, project, admin, "admin")
    for account in (owner, admin):
        created = _subscribe_project(client, account, project)
        assert created.status_code == 201, created.body
        assert created.json()["projectId"] == project and created.json()["secret"].startswith("whsec_")
        listed = client.get("/webhooks", token=account.access_token).json()["items"]
        assert [item["projectId"] for item in listed] == [project]


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_a_lower_role_is_forbidden(
    client: ApiClient, owner: Account, project: str, new_account: Any, role: str
) -> None:
    member = new_account()
    _join(client, owner, project, member, role)
    answer = _subscribe_project(client, member, project)
    assert answer.status_code == 403, answer.body
    assert_error(answer.json(), "FORBIDDEN")


def test_a_non_member_gets_404_like_a_missing_project_even_with_an_unsafe_url(
    client: ApiClient, owner: Account, project: str, new_account: Any
) -> None:
    stranger = new_account()
    for project_id in (project, "00000000-0000-4000-8000-000000000000", "not-a-project"):
        answer = _subscribe_project(client, stranger, project_id, url="https://10.0.0.1/x")
        assert answer.status_code == 404, answer.body
        assert_error(answer.json(), "NOT_FOUND")
    assert client.get("/webhooks", token=stranger.access_token).json()["items"] == []


def test_an_archived_project_takes_no_new_subscriptions(client: ApiClient, owner: Account, project: str) -> None:
    assert client.delete(f"/projects/{project}", token=owner.access_token).status_code == 204
    answer = _subscribe_project(client, owner, project)
    assert answer.status_code == 409, answer.body
    assert_error(answer.json(), "PROJECT_ARCHIVED")


def test_a_project_task_event_reaches_project_subscriptions_only(
    client: ApiClient, owner: Account, project: str
) -> None:
    with running_receiver([200]) as project_receiver, running_receiver([200]) as personal_receiver:
        project_hook = _subscribe_project(client, owner, project, project_receiver.url).json()
        personal_hook = subscribe(client, owner, personal_receiver.url)
        # The owner created both tasks: the project task's events still never reach their personal subscription.
        assert publish(task_event(owner.user_id, "project-task", project_id=project)) == 1
        assert publish(task_event(owner.user_id, "personal-task")) == 1
        drain()
        [project_body] = project_receiver.verify_all(project_hook["secret"])
        [personal_body] = personal_receiver.verify_all(personal_hook["secret"])
    assert project_body["data"]["taskId"] == "project-task" and project_body["data"]["projectId"] == project
    assert personal_body["data"]["taskId"] == "personal-task" and personal_body["data"]["projectId"] is None


def test_a_project_subscription_serves_only_its_project(
    client: ApiClient, owner: Account, project: str, new_account: Any
) -> None:
    other = _project(client, owner)
    _subscribe_project(client, owner, project)
    assert publish(task_event(owner.user_id, "elsewhere", project_id=other)) == 0
    stranger = new_account()
    assert publish(task_event(stranger.user_id, "mine", project_id=project)) == 1  # whoever created the task


def test_a_demoted_creator_stops_receiving_and_a_promoted_one_receives_again(
    client: ApiClient, owner: Account, project: str, new_account: Any
) -> None:
    admin = new_account()
    _join(client, owner, project, admin, "admin")
    with running_receiver([200]) as receiver:
        hook = _subscribe_project(client, admin, project, receiver.url).json()
        queued = publish(task_event(owner.user_id, "before", project_id=project))  # queued while still admin
        assert queued == 1
        _set_role(client, owner, project, admin, "member")
        assert publish(task_event(owner.user_id, "after", project_id=project)) == 0  # refused at fan-out
        drain()
        assert receiver.requests == []  # the job queued before the demotion was skipped at delivery
        [skipped] = client.get(f"/webhooks/{hook['id']}/deliveries", token=admin.access_token).json()["items"]
        assert skipped["outcome"] == "skipped" and "no longer an admin" in skipped["lastError"]
        # The demoted creator may read, disable or delete it, but not point it elsewhere or widen it.
        path = f"/webhooks/{hook['id']}"
        assert client.get(path, token=admin.access_token).status_code == 200
        moved = client.patch(path, json_body={"url": "https://93.184.215.15/x"}, token=admin.access_token)
        assert moved.status_code == 403, moved.body
        assert client.patch(path, json_body={"description": "old"}, token=admin.access_token).status_code == 200
        _set_role(client, owner, project, admin, "admin")
        assert publish(task_event(owner.user_id, "again", project_id=project)) == 1
        drain()
        [body] = receiver.verify_all(hook["secret"])
    assert body["data"]["taskId"] == "again"


def test_a_removed_creator_stops_receiving_and_cannot_redeliver(
    client: ApiClient, owner: Account, project: str, new_account: Any
) -> None:
    admin = new_account()
    _join(client, owner, project, admin, "admin")
    with running_receiver([200]) as receiver:
        hook = _subscribe_project(client, admin, project, receiver.url).json()
        assert publish(task_event(owner.user_id, "t1", project_id=project)) == 1
        drain()
        assert len(receiver.requests) == 1
        removed = client.delete(f"/projects/{project}/members/{admin.user_id}", token=owner.access_token)
        assert removed.status_code == 204, removed.body
        assert publish(task_event(owner.user_id, "t2", project_id=project)) == 0
        [delivered] = client.get(f"/webhooks/{hook['id']}/deliveries", token=admin.access_token).json()["items"]
        again = client.post(f"/webhooks/{hook['id']}/deliveries/{delivered['id']}/redeliver", token=admin.access_token)
        assert again.status_code == 404, again.body  # a non-member cannot tell the project exists
        drain()
        assert len(receiver.requests) == 1
    assert client.delete(f"/webhooks/{hook['id']}", token=admin.access_token).status_code == 204


def test_a_project_has_at_most_25_subscriptions(
    client: ApiClient, owner: Account, project: str, new_account: Any
) -> None:
    from taskapp.domain import webhooks

    admin = new_account()
    _join(client, owner, project, admin, "admin")
    for index in range(webhooks.MAX_WEBHOOKS_PER_PROJECT):
        account = owner if index % 2 else admin
        assert _subscribe_project(client, account, project).status_code == 201
    refused = _subscribe_project(client, owner, project)
    assert refused.status_code == 409, refused.body
    assert_error(refused.json(), "TOO_MANY_WEBHOOKS")


def test_the_stream_handler_routes_a_project_tasks_record_to_the_project(
    client: ApiClient, owner: Account, project: str
) -> None:
    project_hook = _subscribe_project(client, owner, project).json()
    subscribe(client, owner, PUBLIC_URL)  # personal: must see none of it
    event = load_event("webhook_fanout/project-task")  # a project task created, then assigned by a member
    for record in event["Records"]:
        for image in ("NewImage", "OldImage"):
            if image in record["dynamodb"]:
                record["dynamodb"][image]["projectId"] = {"S": project}
    counts = load_function("webhook_fanout").handler(event, FakeLambdaContext("webhook-fanout"))
    assert counts["events"] >= 1 and counts["jobs"] == counts["events"] and counts["refused"] == 0
    from taskapp.domain.webhook_fanout import Subscriptions, events_of

    events = [e for record in DynamoDBStreamEvent(event).records for e in events_of(record)]
    assert all(e.project_id == project for e in events) and len(events) == len(event["Records"])
    last = events[-1]
    assert isinstance(last, TaskEvent) and last.assignee_id == "user-sample-2" and last.actor_id == "user-sample-2"
    assert {w.webhook_id for e in events for w in Subscriptions().of(e)} == {project_hook["id"]}


def test_a_task_records_assignment_events_are_not_delivered_to_webhooks(
    client: ApiClient, owner: Account, project: str
) -> None:
    """One task record yields task.updated and task.assigned on the exchange; webhooks get the change only
    (the assignment types are not offered to subscriptions)."""
    event = load_event("outbox_publisher/task-assignment")
    for record in event["Records"]:
        for image in ("NewImage", "OldImage"):
            if image in record["dynamodb"]:
                record["dynamodb"][image]["projectId"] = {"S": project}
    _subscribe_project(client, owner, project)
    from taskapp.domain.webhook_fanout import events_of

    records = DynamoDBStreamEvent(event).records
    types = [e.type.value for record in records for e in events_of(record)]
    assert types and not {"task.assigned", "task.unassigned"} & set(types)


def test_project_and_member_events_reach_the_projects_subscriptions(
    client: ApiClient, owner: Account, project: str
) -> None:
    """The projects stream's outbox items (project.created, member.invited, member.joined in the sample) through
    the fan-out: the project's subscription gets each, signed; nobody's personal subscription gets any; the
    project's other items (META, a TTL removal) are no events."""
    event = load_event("outbox_publisher/project-events")
    for record in event["Records"]:
        for image in ("NewImage", "OldImage", "Keys"):
            part = record["dynamodb"].get(image) or {}
            if "projectId" in part:
                part["projectId"] = {"S": project}
            if "pk" in part:
                part["pk"] = {"S": f"PROJECT#{project}"}
    with running_receiver([200]) as project_receiver, running_receiver([200]) as personal_receiver:
        hook = _subscribe_project(client, owner, project, project_receiver.url).json()
        subscribe(client, owner, personal_receiver.url)
        counts = load_function("webhook_fanout").handler(event, FakeLambdaContext("webhook-fanout"))
        assert (counts["events"], counts["jobs"]) == (3, 3), counts
        drain()
        bodies = project_receiver.verify_all(hook["secret"])
    assert sorted(body["type"] for body in bodies) == ["member.invited", "member.joined", "project.created"]
    assert all(body["data"]["projectId"] == project for body in bodies)
    assert personal_receiver.requests == []


def test_project_event_types_can_be_chosen(client: ApiClient, owner: Account, project: str) -> None:
    answer = client.post(
        "/webhooks",
        json_body={"url": PUBLIC_URL, "events": ["member.joined", "task.created"], "projectId": project},
        token=owner.access_token,
    )
    assert answer.status_code == 201, answer.body
    refused = client.post(
        "/webhooks", json_body={"url": PUBLIC_URL, "events": ["task.assigned"]}, token=owner.access_token
    )
    assert refused.status_code == 400, refused.body  # not delivered to webhooks, so not offered
