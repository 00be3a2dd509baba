"""Comment events on webhooks: the comments stream feeds the fan-out; a project task's comments reach the project's
subscriptions only, a personal task's its owner's personal ones only; comment.* can be chosen like other types."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBStreamEvent

from infra.local_api.template import ROOT
from taskapp.schemas.webhooks import SUBSCRIBABLE_EVENTS
from tests.support.api_client import ApiClient, load_template
from tests.support.lambda_events import FakeLambdaContext, load_function
from tests.support.sample_events import load_event
from tests.support.webhook_receiver import running_receiver
from tests.unit.conftest import Account
from tests.unit.webhooks.conftest import drain, subscribe

pytestmark = pytest.mark.usefixtures("webhook_env", "empty_queues")

SAMPLE_OWNER = "user-sample-1"
COMMENT_TYPES = ["comment.added", "comment.updated", "comment.deleted"]


def _project(client: ApiClient, owner: Account) -> str:
    created = client.post("/projects", token=owner.access_token, json_body={"name": "Launch"})
    assert created.status_code == 201, created.body
    return str(created.json()["id"])


def _comment_stream(task_owner_id: str, project_id: str | None) -> dict[str, Any]:
    """The sample comment lifecycle (added, updated, a same-version rewrite, deleted) on this owner's task."""
    event = copy.deepcopy(load_event("webhook_fanout/comment-lifecycle"))
    for record in event["Records"]:
        for image in ("NewImage", "OldImage"):
            part = record["dynamodb"].get(image)
            if part is None:
                continue
            part["taskOwnerId"] = {"S": task_owner_id}
            if project_id is None:
                part.pop("projectId", None)
            else:
                part["projectId"] = {"S": project_id}
    return event


def _fan_out(event: dict[str, Any]) -> dict[str, Any]:
    counts: dict[str, Any] = load_function("webhook_fanout").handler(event, FakeLambdaContext("webhook-fanout"))
    return counts


def test_comment_types_are_offered_for_project_and_personal_subscriptions(client: ApiClient, owner: Account) -> None:
    assert set(COMMENT_TYPES) <= SUBSCRIBABLE_EVENTS
    project = _project(client, owner)
    for extra in ({"projectId": project}, {}):
        answer = client.post(
            "/webhooks",
            json_body={"url": "https://93.184.215.14/hooks", "events": COMMENT_TYPES, **extra},
            token=owner.access_token,
        )
        assert answer.status_code == 201, answer.body
        assert answer.json()["events"] == COMMENT_TYPES
    refused = client.post(
        "/webhooks",
        json_body={"url": "https://93.184.215.14/hooks", "events": ["comment.exploded"]},
        token=owner.access_token,
    )
    assert refused.status_code == 400, refused.body


def test_a_project_tasks_comments_reach_the_projects_subscriptions_only(client: ApiClient, owner: Account) -> None:
    project = _project(client, owner)
    with running_receiver([200]) as project_receiver, running_receiver([200]) as personal_receiver:
        created = client.post(
            "/webhooks",
            json_body={"url": project_receiver.url, "events": COMMENT_TYPES, "projectId": project},
            token=owner.access_token,
        )
        assert created.status_code == 201, created.body
        hook = created.json()
        subscribe(client, owner, personal_receiver.url)  # the owner's personal one: a project's comments never
        counts = _fan_out(_comment_stream(owner.user_id, project))
        assert (counts["events"], counts["jobs"], counts["unreadable"]) == (3, 3, 0), counts
        drain()
        bodies = project_receiver.verify_all(hook["secret"])
    assert sorted(body["type"] for body in bodies) == sorted(COMMENT_TYPES)
    assert all(body["data"]["projectId"] == project for body in bodies)
    added = next(body for body in bodies if body["type"] == "comment.added")
    assert added["data"]["commentId"] == "sample-comment-1" and added["data"]["excerpt"].startswith("Draft is in")
    assert added["data"]["eventId"] == "sample-comment-1:1:comment.added"  # the id the exchange carries too
    assert personal_receiver.requests == []


def test_a_personal_tasks_comments_reach_the_owners_personal_subscriptions_only(
    client: ApiClient, owner: Account, new_account: Any
) -> None:
    stranger = new_account()
    with running_receiver([200]) as owner_receiver, running_receiver([200]) as stranger_receiver:
        hook = subscribe(client, owner, owner_receiver.url, ["comment.added"])
        subscribe(client, stranger, stranger_receiver.url)  # '*' of someone else: not their task
        counts = _fan_out(_comment_stream(owner.user_id, None))
        assert (counts["events"], counts["jobs"]) == (3, 1), counts  # only the type it chose
        drain()
        [body] = owner_receiver.verify_all(hook["secret"])
    assert body["type"] == "comment.added" and body["data"]["projectId"] is None
    assert body["data"]["taskOwnerId"] == owner.user_id
    assert stranger_receiver.requests == []


def test_a_comment_event_redelivered_by_the_stream_keeps_its_delivery_ids(client: ApiClient, owner: Account) -> None:
    from taskapp.domain.webhook_fanout import Subscriptions, events_of, jobs_for

    subscribe(client, owner, "https://93.184.215.14/hooks")
    records = DynamoDBStreamEvent(_comment_stream(owner.user_id, None)).records

    def ids() -> list[str]:
        return [job.delivery_id for r in records for e in events_of(r) for job in jobs_for(e, Subscriptions().of(e))]

    assert len(ids()) == 3 and ids() == ids()


def test_an_unreadable_comment_row_is_skipped_by_the_fan_out(client: ApiClient, owner: Account) -> None:
    event = _comment_stream(owner.user_id, None)
    event["Records"][0]["dynamodb"]["NewImage"]["updatedAt"] = {"S": "yesterday"}
    subscribe(client, owner, "https://93.184.215.14/hooks")
    counts = _fan_out(event)
    assert (counts["events"], counts["jobs"], counts["unreadable"]) == (2, 2, 1), counts


def test_the_fan_out_reads_the_comments_stream_in_the_template() -> None:
    fanout = load_template()["Resources"]["WebhookFanoutFunction"]["Properties"]
    streams = {
        name: source["Properties"]["Stream"]
        for name, source in fanout["Events"].items()
        if source["Type"] == "DynamoDB"
    }
    assert streams["CommentChanges"] == {"Fn::GetAtt": ["CommentsTable", "StreamArn"]}
    assert len(streams) == 3  # tasks, projects, comments
    assert (ROOT / "events" / "webhook_fanout" / "comment-lifecycle.json").exists()


def test_the_catalogues_comment_examples_are_what_the_fan_out_sends() -> None:
    """docs/webhooks.md's comment bodies have exactly the fields of a real payload, and their data validates."""
    import json
    import re

    from taskapp.domain.webhook_fanout import message_id_for, payload_of
    from taskapp.schemas.events import CommentEvent

    text = (ROOT / "docs" / "webhooks.md").read_text()
    examples = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S)]
    comments = [body for body in examples if str(body.get("type", "")).startswith("comment.")]
    assert sorted(body["type"] for body in comments) == sorted(COMMENT_TYPES)
    for body in comments:
        event = CommentEvent.model_validate({**body["data"], "type": body["type"], "occurredAt": body["timestamp"]})
        real = json.loads(payload_of(event, message_id_for(event.event_id)))
        assert set(real) == set(body) and real["data"] == body["data"]
