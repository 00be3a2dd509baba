"""Collaboration events (issue 11): the outbox's mapping of every stream (tasks with assignees, projects' outbox
items, comments), poison records of each stream, the feeds the consumer writes, and GET /projects/{id}/activity.

moto plays DynamoDB and SQS (the failure queue); RabbitMQ is the FakePublisher, and its published events are fed to
the notification function as the MQ trigger would deliver them.
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from taskapp import settings
from taskapp.data.activity import ActivityModel, project_feed_id
from taskapp.domain import activity
from taskapp.domain.outbox import event_from_stream_record, events_from_stream_record
from taskapp.messaging import outbox_failures
from taskapp.messaging.rabbitmq import ROUTING_PATTERNS
from taskapp.schemas.events import (
    AnyEvent,
    CommentEvent,
    CommentEventType,
    ProjectEvent,
    ProjectEventType,
    TaskEvent,
    TaskEventType,
)
from tests.support.api_client import ApiClient, ApiResponse
from tests.support.lambda_events import FakeLambdaContext, load_function, rmq_event, sample_event, stream_record
from tests.unit.conftest import Account
from tests.unit.events.conftest import FakePublisher
from tests.unit.helpers import assert_error

OWNER, BOB, CAROL = "user-sample-1", "user-sample-2", "user-sample-3"
PROJECT = "7c1d2e3f-4a5b-4c6d-9e8f-1a2b3c4d5e6f"
PROJECTS_TABLE = "unit-projects"


@pytest.fixture
def publisher(monkeypatch: pytest.MonkeyPatch) -> FakePublisher:
    fake = FakePublisher()
    monkeypatch.setattr(load_function("outbox_publisher"), "publisher", fake)
    return fake


@pytest.fixture
def failure_queue(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = boto3.client("sqs").create_queue(QueueName=f"outbox-failures-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    monkeypatch.setenv("OUTBOX_FAILURE_QUEUE_URL", url)
    settings.clear_cache()
    outbox_failures._sqs.cache_clear()
    yield url
    settings.clear_cache()
    outbox_failures._sqs.cache_clear()


def _queued(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    bodies: list[dict[str, Any]] = []
    while page := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages"):
        for message in page:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def _publish(event: dict[str, Any]) -> dict[str, Any]:
    return load_function("outbox_publisher").handler(event, FakeLambdaContext("outbox-publisher"))


def _notify(event: dict[str, Any]) -> dict[str, Any]:
    return load_function("notification").handler(event, FakeLambdaContext("notification"))


def _events(sample: str) -> list[AnyEvent]:
    events: list[AnyEvent] = []
    for record in sample_event("outbox_publisher", sample)["Records"]:
        events.extend(events_from_stream_record(DynamoDBRecord(record)))
    return events


def _task(version: int, **fields: Any) -> dict[str, Any]:
    return {
        "ownerId": OWNER,
        "taskId": "t-1",
        "title": "Ship it",
        "status": "todo",
        "updatedAt": f"2026-11-23T09:0{version}:00.000000+0000",
        "version": version,
        **fields,
    }


TASK_KEYS = ["ownerId", "taskId"]


# --- the contract's routing: every published type reaches the notification queue ------------------------------


def test_every_event_type_is_routed_to_the_notification_queue() -> None:
    families = {pattern.removesuffix(".#") for pattern in ROUTING_PATTERNS}
    for kind in (*TaskEventType, *ProjectEventType, *CommentEventType):
        assert kind.value.split(".", 1)[0] in families, kind


# --- tasks: assignment events beside the change ----------------------------------------------------------------


def test_task_sample_yields_assignment_events_beside_each_change() -> None:
    events = _events("task-assignment")
    assert [event.event_id for event in events] == [
        "sample-task-2:1:task.created",
        "sample-task-2:1:task.assigned",
        "sample-task-2:2:task.updated",
        "sample-task-2:2:task.unassigned",  # the reassignment tells Bob the task left him...
        "sample-task-2:2:task.assigned",  # ...and Carol that it is hers
        "sample-task-2:3:task.updated",
        "sample-task-2:3:task.unassigned",
    ]
    created, assigned, _, taken_off, reassigned, unassigned_update, unassigned = (
        e for e in events if isinstance(e, TaskEvent)
    )
    assert (created.project_id, created.actor_id, created.assignee_id) == (PROJECT, OWNER, BOB)
    assert (assigned.assignee_id, assigned.previous_assignee_id) == (BOB, None)
    assert (taken_off.actor_id, taken_off.assignee_id, taken_off.previous_assignee_id) == (BOB, CAROL, BOB)
    assert (reassigned.actor_id, reassigned.assignee_id, reassigned.previous_assignee_id) == (BOB, CAROL, BOB)
    assert (unassigned_update.assignee_id, unassigned_update.previous_assignee_id) == (None, CAROL)
    assert (unassigned.actor_id, unassigned.assignee_id, unassigned.previous_assignee_id) == (CAROL, None, CAROL)
    assert unassigned.occurred_at.isoformat() == "2026-11-23T09:30:00+00:00"


def test_the_same_record_always_yields_the_same_events() -> None:
    assert _events("task-assignment") == _events("task-assignment")


@pytest.mark.parametrize(
    ("name", "new", "old", "expected"),
    [
        ("INSERT", _task(1), None, ["task.created"]),
        ("INSERT", _task(1, assigneeId=BOB), None, ["task.created", "task.assigned"]),
        ("MODIFY", _task(2, assigneeId=BOB), _task(1, assigneeId=BOB), ["task.updated"]),
        ("MODIFY", _task(2, assigneeId=BOB), _task(1), ["task.updated", "task.assigned"]),
        # a reassignment tells the previous assignee too (task.unassigned), then the new one
        (
            "MODIFY",
            _task(2, assigneeId=CAROL),
            _task(1, assigneeId=BOB),
            ["task.updated", "task.unassigned", "task.assigned"],
        ),
        ("MODIFY", _task(2, status="done"), _task(1, assigneeId=BOB), ["task.completed", "task.unassigned"]),
        ("MODIFY", _task(1, assigneeId=BOB), _task(1), []),  # a rewrite that kept the version is no event
        ("REMOVE", None, _task(3, assigneeId=BOB), ["task.deleted"]),  # a deletion is not an unassignment
    ],
)
def test_task_stream_shapes(
    name: str, new: dict[str, Any] | None, old: dict[str, Any] | None, expected: list[str]
) -> None:
    events = events_from_stream_record(stream_record(name, new, old, TASK_KEYS))
    assert [event.type.value for event in events] == expected
    version = (new or old or {})["version"]
    assert [event.event_id for event in events] == [f"t-1:{version}:{kind}" for kind in expected]


def test_the_webhook_fan_out_still_gets_only_the_change_itself() -> None:
    event = event_from_stream_record(stream_record("INSERT", _task(1, assigneeId=BOB), None, TASK_KEYS))
    assert event is not None and event.type == TaskEventType.CREATED


# --- comments --------------------------------------------------------------------------------------------------


def test_comment_sample_yields_added_updated_deleted() -> None:
    events = _events("comment-lifecycle")
    assert [event.event_id for event in events] == [
        "sample-comment-1:1:comment.added",
        "sample-comment-1:2:comment.updated",
        "sample-comment-1:2:comment.deleted",
    ]
    added = events[0]
    assert isinstance(added, CommentEvent)
    assert (added.task_id, added.project_id, added.author_id, added.actor_id) == ("sample-task-2", PROJECT, BOB, BOB)
    assert added.task_owner_id == OWNER and added.mentions == [CAROL] and added.version == 1
    assert added.excerpt == "Draft is in the doc, @carol please review"
    assert added.occurred_at.isoformat() == "2026-11-23T09:40:00+00:00"
    deleted = events[2]
    assert deleted.occurred_at >= events[1].occurred_at  # the stream time, never before the last edit


def _comment(version: int, **fields: Any) -> dict[str, Any]:
    return {
        "taskId": "t-1",
        "commentKey": "2026-11-23T09:00:00+00:00#c-1",
        "commentId": "c-1",
        "taskOwnerId": OWNER,
        "authorId": BOB,
        "body": "x" * 300,
        "createdAt": "2026-11-23T09:00:00+00:00",
        "updatedAt": f"2026-11-23T09:0{version}:00+00:00",
        "version": version,
        **fields,
    }


COMMENT_KEYS = ["taskId", "commentKey"]


def test_a_comment_excerpt_is_its_first_200_characters_and_a_personal_task_has_no_project() -> None:
    (event,) = events_from_stream_record(stream_record("INSERT", _comment(1), None, COMMENT_KEYS))
    assert isinstance(event, CommentEvent)
    assert event.excerpt == "x" * 200 and event.project_id is None and event.mentions == []
    assert event.actor_id == BOB  # no updatedBy: the author


def test_a_comment_deleted_by_an_admin_names_the_stamped_actor() -> None:
    (event,) = events_from_stream_record(stream_record("REMOVE", None, _comment(2, updatedBy=OWNER), COMMENT_KEYS))
    assert event.type == CommentEventType.DELETED and event.actor_id == OWNER


def test_a_comment_rewrite_that_kept_its_version_is_no_event() -> None:
    assert events_from_stream_record(stream_record("MODIFY", _comment(2), _comment(2), COMMENT_KEYS)) == []


@pytest.mark.parametrize(
    "broken",
    [{"authorId": None}, {"taskOwnerId": None}, {"commentId": None}, {"version": "two"}, {"updatedAt": "yesterday"}],
)
def test_an_unreadable_comment_row_raises(broken: dict[str, Any]) -> None:
    row = {key: value for key, value in {**_comment(1), **broken}.items() if value is not None}
    with pytest.raises((ValueError, TypeError)):
        events_from_stream_record(stream_record("INSERT", row, None, COMMENT_KEYS))


# --- projects: the outbox items the projects domain writes -----------------------------------------------------


def test_project_sample_publishes_outbox_items_only() -> None:
    events = _events("project-events")
    assert [event.type for event in events] == [
        ProjectEventType.PROJECT_CREATED,
        ProjectEventType.MEMBER_INVITED,
        ProjectEventType.MEMBER_JOINED,
    ]  # the META item and the outbox item's TTL expiry are no events
    joined = events[2]
    assert isinstance(joined, ProjectEvent)
    assert (joined.project_id, joined.actor_id, joined.subject_user_id, joined.role) == (PROJECT, BOB, BOB, "member")
    assert joined.event_id == "0f6e2d1c-0000-4000-8000-000000000003"
    assert joined.occurred_at == datetime(2026, 11, 23, 8, 10, tzinfo=UTC)


def _project_items() -> list[dict[str, Any]]:
    """The projects table's items as DynamoDB stored them (what the stream's NewImage carries)."""
    deserializer = TypeDeserializer()
    scanned = boto3.client("dynamodb").scan(TableName=PROJECTS_TABLE)["Items"]
    return [{key: deserializer.deserialize(value) for key, value in item.items()} for item in scanned]


def _stream_of_items(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Each item as the INSERT record the projects stream delivers, oldest event first (sk sorts by time)."""
    ordered = sorted(items, key=lambda item: str(item["sk"]))
    records = [stream_record("INSERT", item, None, ["pk", "sk"]).raw_event for item in ordered]
    return {"Records": records}


@pytest.mark.parametrize(
    "broken",
    [{"type": "project.exploded"}, {"occurredAt": None}, {"eventId": ""}, {"actorId": None}, {"version": "two"}],
)
def test_an_unreadable_project_outbox_item_raises(broken: dict[str, Any]) -> None:
    item = {
        "pk": f"PROJECT#{PROJECT}",
        "sk": "EVENT#2026-11-23T08:00:00.000000+0000#e-1",
        "eventId": "e-1",
        "type": "project.updated",
        "projectId": PROJECT,
        "actorId": OWNER,
        "occurredAt": "2026-11-23T08:00:00.000000+0000",
        "version": 2,
    }
    row = {key: value for key, value in {**item, **broken}.items() if value is not None}
    with pytest.raises((ValueError, TypeError)):
        events_from_stream_record(stream_record("INSERT", row, None, ["pk", "sk"]))


# --- the publisher: every stream, poison records to the failure queue ------------------------------------------


def test_each_stream_sample_is_published_and_its_non_events_skipped(
    aws: None, publisher: FakePublisher, failure_queue: str
) -> None:
    assert _publish(sample_event("outbox_publisher", "task-assignment")) == {"published": 7, "skipped": 0}
    assert _publish(sample_event("outbox_publisher", "project-events")) == {"published": 3, "skipped": 2}
    assert _publish(sample_event("outbox_publisher", "comment-lifecycle")) == {"published": 3, "skipped": 1}
    assert len({event.event_id for event in publisher.published}) == 13
    assert _queued(failure_queue) == []


def test_a_poison_record_of_any_stream_goes_to_the_failure_queue_and_the_batch_goes_on(
    aws: None, publisher: FakePublisher, failure_queue: str
) -> None:
    records: list[dict[str, Any]] = []
    for sample, attribute, bad in (
        ("task-assignment", "version", {"N": "NaN"}),
        ("project-events", "type", {"S": "project.exploded"}),
        ("comment-lifecycle", "updatedAt", {"S": "yesterday"}),
    ):
        batch = copy.deepcopy(sample_event("outbox_publisher", sample)["Records"])
        for record in batch:
            image = record["dynamodb"].get("NewImage") or {}
            is_outbox_item = sample != "project-events" or image["sk"]["S"].startswith("EVENT#")
            if record["eventName"] == "INSERT" and attribute in image and is_outbox_item:
                image[attribute] = bad
                break
        records.extend(batch)
    result = _publish({"Records": records})
    assert result["deadLettered"] == 3 and "batchItemFailures" not in result
    letters = _queued(failure_queue)
    assert [letter["kind"] for letter in letters] == ["outbox.unreadable-row"] * 3
    tables = sorted(letter["eventSourceARN"].split("table/")[1].split("/")[0] for letter in letters)
    assert tables == ["taskapp-comments", "taskapp-projects", "taskapp-tasks"]
    published = {event.event_id for event in publisher.published}
    assert "sample-task-2:2:task.assigned" in published and "sample-comment-1:2:comment.updated" in published
    assert "0f6e2d1c-0000-4000-8000-000000000003" in published


def test_the_projects_domain_outbox_items_map_to_their_project_events(
    client: ApiClient, alice: Account, bob: Account, publisher: FakePublisher
) -> None:
    """The real items the projects data layer writes (UTCDateTimeAttribute times, optional attributes left out)."""
    project = _create_project(client, alice)
    _join(client, alice, project, bob)
    _publish(_stream_of_items(_project_items()))
    assert [(event.type.value, event.actor_id) for event in publisher.published] == [
        ("project.created", alice.user_id),
        ("member.invited", alice.user_id),
        ("member.joined", bob.user_id),
    ]
    invited = publisher.published[1]
    assert isinstance(invited, ProjectEvent) and invited.email == bob.email and invited.role == "member"


# --- the consumer: feeds, idempotency per (event id, feed) -----------------------------------------------------


def _feed(feed_id: str) -> list[tuple[str, str | None]]:
    """(eventId, actorId) of a feed's entries, newest first."""
    return [(entry.event_id, entry.actor_id) for entry in ActivityModel.query(feed_id, scan_index_forward=False)]


def test_feeds_of_each_event_kind() -> None:
    task = _events("task-assignment")
    comment = _events("comment-lifecycle")
    project = _events("project-events")
    project_feed = project_feed_id(PROJECT)
    assert activity.feeds_of(task[0]) == [OWNER, BOB, project_feed]  # created by the owner, assigned to Bob
    assert activity.feeds_of(task[3]) == [BOB]  # Bob hands it over to Carol: his own notice that it left him
    assert activity.feeds_of(task[4]) == [BOB, OWNER, CAROL, project_feed]  # ...and the handover, for everyone
    assert activity.feeds_of(task[6]) == [CAROL, OWNER, project_feed]  # Carol unassigns herself
    assert activity.feeds_of(comment[0]) == [BOB, OWNER, project_feed]
    assert all(activity.feeds_of(event) == [project_feed] for event in project)


def test_collab_sample_writes_each_feed_once_and_a_redelivery_writes_nothing(aws: None) -> None:
    sample = sample_event("notification", "rabbitmq-collab-batch")
    assert _notify(sample) == {"recorded": 7, "duplicates": 0}
    assert [event_id for event_id, _ in _feed(project_feed_id(PROJECT))] == [
        "sample-comment-1:1:comment.added",
        "sample-task-2:2:task.updated",
        "sample-task-2:2:task.assigned",
        "sample-task-2:1:task.created",
        "sample-task-2:1:task.assigned",
        "0f6e2d1c-0000-4000-8000-000000000003",  # member.joined
        "0f6e2d1c-0000-4000-8000-000000000001",  # project.created
    ]
    owner_feed = dict(_feed(OWNER))
    assert owner_feed["sample-task-2:2:task.updated"] == BOB  # what Bob did to the owner's task
    assert owner_feed["sample-comment-1:1:comment.added"] == BOB
    assert "0f6e2d1c-0000-4000-8000-000000000001" not in owner_feed  # project events: the project's feed only
    assert set(dict(_feed(CAROL))) == {"sample-task-2:2:task.updated", "sample-task-2:2:task.assigned"}
    assert set(dict(_feed(BOB))) == {
        "sample-task-2:1:task.created",  # assigned to Bob at creation
        "sample-task-2:1:task.assigned",
        "sample-task-2:2:task.updated",  # Bob's own changes
        "sample-task-2:2:task.assigned",
        "sample-comment-1:1:comment.added",
    }
    before = {feed: _feed(feed) for feed in (OWNER, BOB, CAROL, project_feed_id(PROJECT))}
    assert _notify(sample) == {"recorded": 0, "duplicates": 7}
    assert {feed: _feed(feed) for feed in before} == before


def test_an_event_of_an_unknown_family_is_poison(aws: None) -> None:
    body = base64.b64encode(json.dumps({"eventId": "x", "type": "galaxy.exploded"}).encode()).decode()
    event = {
        "eventSource": "aws:rmq",
        "eventSourceArn": "arn:aws:mq:test",
        "rmqMessagesByQueue": {"q::/": [{"basicProperties": {"messageId": "x"}, "redelivered": False, "data": body}]},
    }
    with pytest.raises(Exception, match="ValueError"):
        _notify(event)


# --- GET /projects/{id}/activity -------------------------------------------------------------------------------


def _create_project(client: ApiClient, owner: Account) -> str:
    created = client.post("/projects", token=owner.access_token, json_body={"name": "Launch"})
    assert created.status_code == 201, created.body
    return str(created.json()["id"])


def _join(client: ApiClient, owner: Account, project_id: str, invitee: Account, role: str = "member") -> None:
    invited = client.post(
        f"/projects/{project_id}/invitations",
        token=owner.access_token,
        json_body={"email": invitee.email, "role": role},
    )
    assert invited.status_code == 202, invited.body
    accepted = client.post(f"/invitations/{invited.json()['id']}/accept", token=invitee.access_token)
    assert accepted.status_code == 200, accepted.body


def _project_activity(client: ApiClient, caller: Account, project_id: str, **query: str) -> ApiResponse:
    return client.get(f"/projects/{project_id}/activity", token=caller.access_token, query=query or None)


def _deliver_project_changes(publisher: FakePublisher) -> None:
    """The projects stream -> the outbox -> RabbitMQ -> the consumer, for everything written so far."""
    publisher.published.clear()
    _publish(_stream_of_items(_project_items()))
    _notify(rmq_event(publisher.published))


def test_members_read_the_project_feed_newest_first_with_actors_and_a_cursor(
    client: ApiClient, alice: Account, bob: Account, publisher: FakePublisher
) -> None:
    project = _create_project(client, alice)
    _join(client, alice, project, bob, "viewer")
    _deliver_project_changes(publisher)
    first = _project_activity(client, bob, project, limit="2")
    assert first.status_code == 200, first.body
    page = first.json()
    assert [(item["eventType"], item["actorId"]) for item in page["items"]] == [
        ("member.joined", bob.user_id),
        ("member.invited", alice.user_id),
    ]
    joined = page["items"][0]
    assert joined["type"] == "member.joined" and joined["projectId"] == project
    assert joined["subjectUserId"] == bob.user_id and joined["taskId"] is None
    assert joined["message"] == "A member joined as viewer"
    assert bob.email not in json.dumps(page)  # the invitee's email is not shown to every member
    second = _project_activity(client, bob, project, limit="2", nextToken=page["nextToken"]).json()
    assert [item["eventType"] for item in second["items"]] == ["project.created"]
    assert second["nextToken"] is None
    assert _project_activity(client, alice, project).json()["items"][0]["eventType"] == "member.joined"


def test_non_members_and_removed_members_get_the_404_of_a_missing_project(
    client: ApiClient, alice: Account, bob: Account, new_account: Any, publisher: FakePublisher
) -> None:
    project = _create_project(client, alice)
    _join(client, alice, project, bob)
    _deliver_project_changes(publisher)
    stranger = new_account()
    missing = _project_activity(client, stranger, str(uuid.uuid4()))
    refused = _project_activity(client, stranger, project)
    assert refused.status_code == missing.status_code == 404
    assert refused.json()["error"]["code"] == missing.json()["error"]["code"]
    removed = client.delete(f"/projects/{project}/members/{bob.user_id}", token=alice.access_token)
    assert removed.status_code == 204, removed.body
    assert _project_activity(client, bob, project).status_code == 404


def test_a_cursor_of_one_project_is_refused_for_another(
    client: ApiClient, alice: Account, bob: Account, publisher: FakePublisher
) -> None:
    first, other = _create_project(client, alice), _create_project(client, alice)
    _join(client, alice, first, bob)
    _deliver_project_changes(publisher)
    token = _project_activity(client, alice, first, limit="1").json()["nextToken"]
    assert token
    forged = _project_activity(client, alice, other, nextToken=token)
    assert forged.status_code == 400 and assert_error(forged.json(), "INVALID_CURSOR")


@pytest.mark.parametrize(
    ("path", "query"),
    [("/projects/not-a-uuid/activity", None), (f"/projects/{PROJECT}/activity", {"limit": "0"})],
)
def test_bad_input_is_a_400(client: ApiClient, alice: Account, path: str, query: dict[str, str] | None) -> None:
    response = client.get(path, token=alice.access_token, query=query)
    assert response.status_code == 400 and assert_error(response.json(), "VALIDATION_ERROR")


def test_an_unknown_query_parameter_is_a_400(client: ApiClient, alice: Account) -> None:
    project = _create_project(client, alice)
    response = _project_activity(client, alice, project, since="yesterday")
    assert response.status_code == 400


def test_the_project_feed_requires_a_token(client: ApiClient) -> None:
    assert client.get(f"/projects/{PROJECT}/activity").status_code == 401


def test_the_owners_own_feed_shows_what_a_member_did_to_their_task(aws: None, fake_redis: Any) -> None:
    """Through GET /activity (the sample caller is the sample tasks' owner): the new fields, and the old ones
    unchanged for current clients."""
    _notify(sample_event("notification", "rabbitmq-collab-batch"))
    result = load_function("list_activity").handler(sample_event("list_activity", "first-page"), FakeLambdaContext())
    assert result["statusCode"] == 200, result
    items = json.loads(result["body"])["items"]
    updated = next(item for item in items if item["eventType"] == "task.updated")
    assert updated == {
        "type": "task.updated",
        "taskId": "sample-task-2",
        "title": "Ship the release notes",
        "timestamp": "2026-11-23T09:20:00+00:00",
        "message": 'Task "Ship the release notes" was updated',
        "eventType": "task.updated",
        "actorId": BOB,
        "projectId": PROJECT,
        "subjectUserId": None,
        "commentId": None,
    }
    comment = next(item for item in items if item["eventType"] == "comment.added")
    assert comment["commentId"] == "sample-comment-1" and comment["actorId"] == BOB
    assert comment["message"] == 'Comment added: "Draft is in the doc, @carol please review"'


def test_replay_republishes_a_project_outbox_item_read_back_from_its_table(
    client: ApiClient, alice: Account, failure_queue: str
) -> None:
    """An unreadable-row letter of the projects stream: the replay tool re-reads the item by key and publishes it."""
    from infra.replay_outbox import replay_outbox
    from taskapp.messaging.outbox_failures import UNREADABLE_ROW

    project = _create_project(client, alice)
    (item,) = [item for item in _project_items() if str(item["sk"]).startswith("EVENT#")]
    serializer = TypeSerializer()
    letter = {
        "kind": UNREADABLE_ROW,
        "eventName": "INSERT",
        "eventSourceARN": f"arn:aws:dynamodb:us-east-1:000000000000:table/{PROJECTS_TABLE}/stream/x",
        "keys": {"pk": serializer.serialize(item["pk"]), "sk": serializer.serialize(item["sk"])},
    }
    boto3.client("sqs").send_message(QueueUrl=failure_queue, MessageBody=json.dumps(letter))
    replayed = FakePublisher()
    replay_outbox(
        boto3.client("sqs"),
        boto3.client("dynamodb"),
        boto3.client("dynamodbstreams"),
        replayed,
        failure_queue,
        dry_run=False,
        limit=None,
        out=lambda line: None,
    )
    assert [(event.type.value, event.project_id) for event in replayed.published] == [("project.created", project)]
    assert _queued(failure_queue) == []


def test_an_archived_projects_feed_stays_readable_by_its_members(
    client: ApiClient, alice: Account, bob: Account, publisher: FakePublisher
) -> None:
    project = _create_project(client, alice)
    _join(client, alice, project, bob, "viewer")
    assert client.delete(f"/projects/{project}", token=alice.access_token).status_code == 204
    _deliver_project_changes(publisher)
    listed = _project_activity(client, bob, project)
    assert listed.status_code == 200, listed.body
    assert listed.json()["items"][0]["eventType"] == "project.archived"
    assert listed.json()["items"][0]["message"] == "Project was archived"
