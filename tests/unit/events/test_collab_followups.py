"""Loose ends of the collaboration work: a comment's watchers read from the stores (bounded), a reassignment that
tells the previous assignee too, and a task moved between projects recorded in the feed of the project it left."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from taskapp.data import comments as comment_store
from taskapp.data import tasks as task_store
from taskapp.data.activity import ActivityModel, project_feed_id
from taskapp.domain import activity, notification_delivery
from taskapp.domain.notification_delivery import StoreContext, occurrence_for
from taskapp.domain.notification_rules import recipients_for
from taskapp.domain.outbox import event_from_stream_record, events_from_stream_record
from taskapp.domain.records.comments import Comment
from taskapp.schemas.events import AnyEvent, CommentEvent, CommentEventType, TaskEvent, TaskEventType
from tests.support.lambda_events import FakeLambdaContext, load_function, rmq_event, stream_record

OWNER, AMY, BOB, CAROL, DEE = "owner-1", "amy", "bob", "carol", "dee"
OLD_PROJECT, NEW_PROJECT = "p-old", "p-new"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _task(version: int, **fields: Any) -> dict[str, Any]:
    return {
        "ownerId": OWNER,
        "taskId": "t-1",
        "title": "Ship it",
        "status": "todo",
        "updatedAt": f"2026-11-23T09:0{version}:00.000000+0000",
        "version": version,
        "projectId": OLD_PROJECT,
        **fields,
    }


def _notify(events: Sequence[AnyEvent]) -> dict[str, Any]:
    return load_function("notification").handler(rmq_event(events), FakeLambdaContext("notification"))


def _feed(feed_id: str) -> list[ActivityModel]:
    return list(ActivityModel.query(feed_id, scan_index_forward=False))


def _inbox(user_id: str) -> set[tuple[str, str]]:
    from taskapp.data.notifications import NotificationModel

    return {(item.type, item.event_id) for item in NotificationModel.query(user_id)}


def _members(project_id: str, *user_ids: str) -> None:
    from taskapp.data.projects import member_to_model
    from taskapp.domain.records.projects import Member

    for user_id in user_ids:
        member_to_model(Member(project_id, user_id, "owner" if user_id == OWNER else "member", None, NOW)).save()


# --- 1. a comment's watchers come from the tasks and comments stores -------------------------------------------


def _seed_task(assignee_id: str | None, project_id: str | None = OLD_PROJECT) -> None:
    from taskapp.data import tasks as store
    from taskapp.domain.tasks import new_task
    from taskapp.schemas.tasks import CreateTaskRequest

    task = new_task(OWNER, CreateTaskRequest.model_validate({"title": "Ship it"}), task_id="t-1")
    store.create_task(task._replace(project_id=project_id, assignee_id=assignee_id))


def _seed_comment(number: int, author_id: str, task_id: str = "t-1", owner_id: str = OWNER) -> None:
    at = NOW + timedelta(seconds=number)
    comment_store.create_comment(
        Comment(
            comment_id=f"c-{task_id}-{owner_id}-{number}",
            task_id=task_id,
            task_owner_id=owner_id,
            project_id=OLD_PROJECT,
            author_id=author_id,
            body=f"comment {number}",
            mentions=frozenset(),
            created_at=at,
            updated_at=at,
            version=1,
            updated_by=author_id,
        )
    )


def _comment_event(actor: str, mentions: list[str] | None = None, **fields: Any) -> CommentEvent:
    values: dict[str, Any] = {
        "event_id": f"c-new:1:{CommentEventType.ADDED.value}",
        "type": CommentEventType.ADDED,
        "occurred_at": NOW + timedelta(minutes=5),
        "task_id": "t-1",
        "project_id": OLD_PROJECT,
        "comment_id": "c-new",
        "author_id": actor,
        "actor_id": actor,
        "task_owner_id": OWNER,
        "mentions": mentions or [],
        "excerpt": "What do you think?",
        "version": 1,
    }
    values.update(fields)
    return CommentEvent(**values)


def test_watchers_are_the_tasks_assignee_and_its_earlier_commenters_oldest_first(aws: None) -> None:
    _seed_task(assignee_id=AMY)
    for number, author in enumerate((CAROL, BOB, CAROL, DEE, BOB)):
        _seed_comment(number, author)
    _seed_comment(9, "someone-else", owner_id="other-owner")  # a same-id task of another owner: not a watcher
    context = StoreContext().watchers(_comment_event(DEE))
    assert context.title == "Ship it"
    assert context.assignee_id == AMY  # read from the task record's field
    assert context.commenter_ids == (CAROL, BOB, DEE)  # each once, in the order they first commented


def test_comment_added_tells_creator_assignee_earlier_commenters_and_mentioned_never_the_actor(aws: None) -> None:
    _seed_task(assignee_id=AMY)
    for number, author in enumerate((CAROL, BOB)):
        _seed_comment(number, author)
    occurrence = occurrence_for(_comment_event(BOB, mentions=["zed", BOB]), StoreContext())
    assert [recipient.user_id for recipient in recipients_for(occurrence)] == [OWNER, AMY, CAROL, "zed"]


def test_the_commenters_looked_up_are_bounded(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    _seed_task(assignee_id=None)
    for number in range(6):
        _seed_comment(number, f"user-{number}")
    monkeypatch.setattr(notification_delivery, "WATCHING_COMMENTERS", 3)
    context = StoreContext().watchers(_comment_event(DEE))
    assert context.commenter_ids == ("user-0", "user-1", "user-2")  # the first three distinct authors
    assert comment_store.comment_authors("t-1", OWNER, 200) == tuple(f"user-{number}" for number in range(6))
    assert notification_delivery.WATCHING_COMMENTERS == 3
    monkeypatch.undo()
    assert notification_delivery.WATCHING_COMMENTERS == 200  # the documented bound (docs/events.md)


def test_watchers_of_a_missing_task_are_its_commenters_only(aws: None) -> None:
    _seed_comment(0, CAROL)
    context = StoreContext().watchers(_comment_event(DEE))
    assert (context.title, context.assignee_id, context.commenter_ids) == ("", None, (CAROL,))


def test_the_task_is_read_once_per_invocation_and_the_commenters_once_per_comment(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed_task(assignee_id=AMY)
    calls: list[str] = []
    tasks_read: list[str] = []
    real_authors, real_task = comment_store.comment_authors, task_store.get_task

    def counting(task_id: str, task_owner_id: str, up_to: int, before: Any = None) -> tuple[str, ...]:
        calls.append(task_id)
        return real_authors(task_id, task_owner_id, up_to, before=before)

    def reading(owner_id: str, task_id: str) -> Any:
        tasks_read.append(task_id)
        return real_task(owner_id, task_id)

    monkeypatch.setattr(comment_store, "comment_authors", counting)
    monkeypatch.setattr(task_store, "get_task", reading)
    context = StoreContext()
    context.watchers(_comment_event(DEE))
    context.watchers(_comment_event(DEE))  # the same comment again (a redelivery in the batch): no new read
    context.watchers(_comment_event(CAROL, event_id="c-2:1:comment.added", comment_id="c-2"))
    assert tasks_read == ["t-1"]
    assert calls == ["t-1", "t-1"]  # each comment has its own earlier commenters


def test_someone_who_commented_later_is_not_a_watcher_of_an_earlier_comment(aws: None) -> None:
    # Carol comments, then Bob; carol's notification is worked out after bob's comment is stored (the outbox and
    # the consumer lag the API): bob must not be told of a comment written before he joined the conversation.
    _seed_task(assignee_id=None)
    _seed_comment(0, CAROL)
    _seed_comment(1, BOB)
    carols = _comment_event(CAROL, occurred_at=NOW, comment_id=f"c-t-1-{OWNER}-0", event_id="c0:1:comment.added")
    bobs = _comment_event(BOB, occurred_at=NOW + timedelta(seconds=1), comment_id=f"c-t-1-{OWNER}-1")
    context = StoreContext()
    assert context.watchers(carols).commenter_ids == ()
    assert context.watchers(bobs).commenter_ids == (CAROL,)
    assert [r.user_id for r in recipients_for(occurrence_for(carols, StoreContext()))] == [OWNER]


# --- 2. a reassignment tells the previous assignee too ---------------------------------------------------------


def _reassignment() -> list[AnyEvent]:
    record = stream_record("MODIFY", _task(2, assigneeId=CAROL, updatedBy=OWNER), _task(1, assigneeId=BOB))
    return list(events_from_stream_record(record))


def test_a_reassignment_yields_unassigned_for_the_old_and_assigned_for_the_new_assignee() -> None:
    events = _reassignment()
    assert [event.event_id for event in events] == [
        "t-1:2:task.updated",
        "t-1:2:task.unassigned",
        "t-1:2:task.assigned",
    ]
    assert all(isinstance(event, TaskEvent) for event in events)
    for event in events[1:]:
        assert isinstance(event, TaskEvent)
        assert (event.assignee_id, event.previous_assignee_id) == (CAROL, BOB)
    assert _reassignment() == events  # deterministic: a republished record yields the same ids and bodies
    fanned_out = event_from_stream_record(stream_record("MODIFY", _task(2, assigneeId=CAROL), _task(1, assigneeId=BOB)))
    assert fanned_out is not None and fanned_out.type == TaskEventType.UPDATED  # webhooks: the change only


def test_a_reassignment_notifies_both_assignees_once_and_not_as_an_update(aws: None) -> None:
    _members(OLD_PROJECT, OWNER, BOB, CAROL)
    events = _reassignment()
    assert _notify(events) == {"recorded": 3, "duplicates": 0}
    assert _inbox(BOB) == {("task.unassigned", "t-1:2:task.unassigned")}
    assert _inbox(CAROL) == {("task.assigned", "t-1:2:task.assigned")}
    assert _inbox(OWNER) == set()  # the owner made the change
    assert _notify(events) == {"recorded": 0, "duplicates": 3}  # a redelivery tells nobody twice
    assert len(_inbox(BOB)) == 1 and len(_inbox(CAROL)) == 1


def test_a_reassignment_is_one_assignment_entry_per_feed(aws: None) -> None:
    _notify(_reassignment())
    project_feed = [entry.event_id for entry in _feed(project_feed_id(OLD_PROJECT))]
    assert sorted(project_feed) == ["t-1:2:task.assigned", "t-1:2:task.updated"]
    bob_feed = {entry.event_id: entry for entry in _feed(BOB)}
    assert set(bob_feed) == {"t-1:2:task.unassigned"}  # the notice that it left him
    assert bob_feed["t-1:2:task.unassigned"].subject_user_id == BOB
    carol_feed = {entry.event_id: entry for entry in _feed(CAROL)}
    assert set(carol_feed) == {"t-1:2:task.updated", "t-1:2:task.assigned"}
    assert carol_feed["t-1:2:task.assigned"].subject_user_id == CAROL


def test_a_plain_unassignment_is_unchanged() -> None:
    [updated, unassigned] = events_from_stream_record(stream_record("MODIFY", _task(2), _task(1, assigneeId=BOB)))
    assert (updated.type, unassigned.type) == (TaskEventType.UPDATED, TaskEventType.UNASSIGNED)
    assert isinstance(unassigned, TaskEvent) and (unassigned.assignee_id, unassigned.previous_assignee_id) == (
        None,
        BOB,
    )
    assert activity.feeds_of(unassigned) == [OWNER, BOB, project_feed_id(OLD_PROJECT)]


# --- 5. a move between projects is recorded in the feed of the project it left --------------------------------


def _move(new_project: str | None = NEW_PROJECT) -> TaskEvent:
    fields = {"projectId": new_project} if new_project else {}
    new = {key: value for key, value in _task(2, updatedBy=OWNER).items() if key != "projectId"} | fields
    [event] = events_from_stream_record(stream_record("MODIFY", new, _task(1)))
    assert isinstance(event, TaskEvent)
    return event


def test_the_old_image_gives_the_previous_project() -> None:
    moved = _move()
    assert (moved.project_id, moved.previous_project_id) == (NEW_PROJECT, OLD_PROJECT)
    assert moved.model_dump(by_alias=True)["previousProjectId"] == OLD_PROJECT
    [stayed] = events_from_stream_record(stream_record("MODIFY", _task(2), _task(1)))
    assert isinstance(stayed, TaskEvent) and stayed.previous_project_id == OLD_PROJECT  # like previousAssigneeId
    assert activity.feeds_of(stayed) == [OWNER, project_feed_id(OLD_PROJECT)]  # not a move: one project feed
    [created] = events_from_stream_record(stream_record("INSERT", _task(1), None))
    assert isinstance(created, TaskEvent) and created.previous_project_id is None


def test_a_move_is_in_both_projects_feeds_and_the_old_one_does_not_learn_the_new_project(aws: None) -> None:
    moved = _move()
    assert activity.feeds_of(moved) == [OWNER, project_feed_id(NEW_PROJECT), project_feed_id(OLD_PROJECT)]
    assert _notify([moved]) == {"recorded": 1, "duplicates": 0}
    [old] = _feed(project_feed_id(OLD_PROJECT))
    [new] = _feed(project_feed_id(NEW_PROJECT))
    assert (old.event_id, new.event_id) == (moved.event_id, moved.event_id)
    assert old.message == 'Task "Ship it" was moved out of the project'
    assert old.project_id == OLD_PROJECT  # the feed's own project, never the one it went to
    assert (new.message, new.project_id) == ('Task "Ship it" was updated', NEW_PROJECT)
    assert _notify([moved]) == {"recorded": 0, "duplicates": 1}  # once per (event id, feed)


def test_a_task_moved_out_to_personal_is_recorded_in_the_project_it_left(aws: None) -> None:
    moved = _move(new_project=None)
    assert (moved.project_id, moved.previous_project_id) == (None, OLD_PROJECT)
    assert activity.feeds_of(moved) == [OWNER, project_feed_id(OLD_PROJECT)]
    _notify([moved])
    [old] = _feed(project_feed_id(OLD_PROJECT))
    assert (old.message, old.project_id) == ('Task "Ship it" was moved out of the project', OLD_PROJECT)
