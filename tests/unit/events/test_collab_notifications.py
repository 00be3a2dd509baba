"""Issue 12 x issue 11: who is told of assignments, comments, invitations and completions; never the actor; once per
(event id, recipient); the new types' email templates (user text escaped) and preference defaults."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from taskapp.domain import notification_delivery as notifications
from taskapp.domain.notification_delivery import TaskContext
from taskapp.domain.notification_rules import RULES, recipients_for
from taskapp.domain.notification_templates import render_email
from taskapp.domain.records.notifications import Occurrence, Recipient
from taskapp.schemas.events import (
    CommentEvent,
    CommentEventType,
    ProjectEvent,
    ProjectEventType,
    TaskEvent,
    TaskEventType,
)
from taskapp.schemas.notifications import NotificationType
from tests.support.api_client import ApiClient
from tests.unit.conftest import Account
from tests.unit.events.test_notification_delivery import FakeAddresses, FakeMailer

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _task_event(kind: str, **fields: Any) -> TaskEvent:
    values: dict[str, Any] = {
        "event_id": f"task-1:4:{kind}",
        "type": TaskEventType.UPDATED,
        "occurred_at": NOW,
        "owner_id": "creator",
        "task_id": "task-1",
        "title": "Ship it",
        "version": 4,
    }
    values.update(fields)
    return TaskEvent(**values)


def _occurrence_of_task(kind: str, **fields: Any) -> Occurrence:
    """task.assigned / task.unassigned join TaskEventType with the event contract's branch: the type is set on the
    occurrence, everything else comes from a real TaskEvent."""
    return notifications.occurrence_of(_task_event(kind, **fields))._replace(type=kind)


def _users(occurrence: Occurrence) -> list[str | None]:
    return [recipient.user_id for recipient in recipients_for(occurrence)]


def test_an_assignment_tells_the_assignee_unless_they_assigned_themself() -> None:
    assert _users(_occurrence_of_task("task.assigned", assignee_id="amy", actor_id="creator")) == ["amy"]
    assert _users(_occurrence_of_task("task.assigned", assignee_id="amy", actor_id="amy")) == []


def test_an_unassignment_tells_the_previous_assignee() -> None:
    occurrence = _occurrence_of_task("task.unassigned", previous_assignee_id="amy", actor_id="creator")
    assert _users(occurrence) == ["amy"]


def test_completion_tells_the_creator_not_the_assignee_who_completed_it() -> None:
    completed = _occurrence_of_task("task.completed", assignee_id="amy", actor_id="amy")
    assert _users(completed) == ["creator"]
    assert _users(completed._replace(actor_id="creator")) == []


def test_a_change_by_someone_else_tells_the_creator_and_the_assignee() -> None:
    updated = _occurrence_of_task(
        "task.updated", assignee_id="amy", previous_assignee_id="amy", actor_id="bob", project_id="p-1"
    )
    assert _users(updated) == ["creator", "amy"] and updated.project_id == "p-1"


def test_the_change_that_assigns_someone_tells_them_once_through_task_assigned() -> None:
    """One stream record yields task.updated (or task.created) and task.assigned: the new assignee hears of the
    assignment only; the previous one of the unassignment only."""
    for kind in ("task.created", "task.updated"):
        change = {"assignee_id": "amy", "previous_assignee_id": "bob", "actor_id": "cy"}
        assert _users(_occurrence_of_task(kind, **change)) == ["creator"]
        assert _users(_occurrence_of_task("task.assigned", **change)) == ["amy"]
        assert _users(_occurrence_of_task("task.unassigned", **change)) == ["bob"]
    deleted = _occurrence_of_task("task.deleted", assignee_id="amy", previous_assignee_id=None, actor_id="cy")
    assert _users(deleted) == ["creator", "amy"]  # a deletion's image is the old one: no assignment happened


def _comment(kind: CommentEventType = CommentEventType.ADDED, **fields: Any) -> CommentEvent:
    values: dict[str, Any] = {
        "event_id": f"c-1:1:{kind.value}",
        "type": kind,
        "occurred_at": NOW,
        "task_id": "task-1",
        "project_id": "p-1",
        "comment_id": "c-1",
        "author_id": "bob",
        "actor_id": "bob",
        "task_owner_id": "creator",
        "mentions": ["dee", "bob"],
        "excerpt": "Looks <b>good</b> & ready",
        "version": 1,
    }
    values.update(fields)
    return CommentEvent(**values)


class FakeWatchers:
    def __init__(self, context: TaskContext) -> None:
        self.context, self.calls = context, 0

    def __call__(self, event: CommentEvent) -> TaskContext:
        self.calls += 1
        return self.context


def test_a_comment_tells_the_watchers_and_the_mentioned_once_each_never_its_author() -> None:
    watchers = FakeWatchers(TaskContext("Ship it", "amy", ("cy", "bob", "cy", "creator")))
    occurrence = notifications.occurrence_of_comment(_comment(), watchers)
    assert _users(occurrence) == ["creator", "amy", "cy", "dee"]
    assert occurrence.title == "Ship it" and occurrence.detail.startswith("Looks")


def test_edits_and_deletions_of_comments_tell_nobody_and_look_nothing_up() -> None:
    watchers = FakeWatchers(TaskContext("Ship it", "amy", ("cy",)))
    for kind in (CommentEventType.UPDATED, CommentEventType.DELETED):
        assert recipients_for(notifications.occurrence_of_comment(_comment(kind), watchers)) == []
    assert watchers.calls == 0


def _invited(email: str = "new@example.com", actor: str = "creator") -> ProjectEvent:
    return ProjectEvent(
        event_id="e-invite-1",
        type=ProjectEventType.MEMBER_INVITED,
        occurred_at=NOW,
        project_id="p-1",
        actor_id=actor,
        email=email,
        role="member",
    )


def test_an_invitation_is_emailed_to_the_address_before_registration_and_only_once(aws: None) -> None:
    mailer = FakeMailer()
    occurrence = notifications.occurrence_of_project(_invited(), project_name='Launch <"Q1">')
    assert recipients_for(occurrence) == [Recipient(None, "new@example.com")]
    first = notifications.deliver(occurrence, FakeAddresses(), mailer)
    again = notifications.deliver(occurrence, FakeAddresses(), mailer)
    assert (first.notified, first.emailed, again.duplicates, again.emailed) == (1, 1, 1, 0)
    [email] = mailer.sent
    assert email["to"] == "new@example.com" and email["subject"] == 'Invitation to Launch <"Q1">'
    assert "&lt;&quot;Q1&quot;&gt;" in email["html"] and '<"Q1">' not in email["html"]


def test_a_registered_invitee_who_turned_invitation_emails_off_gets_none(client: ApiClient, alice: Account) -> None:
    saved = client.request(
        "PUT", "/me/notification-preferences", token=alice.access_token, json_body={"channels": {"member.invited": []}}
    )
    assert saved.status_code == 200, saved.body
    mailer = FakeMailer()
    occurrence = notifications.occurrence_of_project(_invited(alice.email), project_name="Launch")
    notifications.deliver(occurrence, notifications.UserAddresses(), mailer)
    assert mailer.sent == []


def test_other_project_events_tell_nobody() -> None:
    for kind in ProjectEventType:
        if kind is ProjectEventType.MEMBER_INVITED:
            continue
        event = ProjectEvent(
            event_id=f"e-{kind.value}", type=kind, occurred_at=NOW, project_id="p-1", actor_id="x", email="a@b.c"
        )
        assert recipients_for(notifications.occurrence_of_project(event)) == []


@pytest.mark.parametrize("kind", sorted(RULES))
def test_the_actor_is_never_told_whatever_the_type(kind: str) -> None:
    actor = "actor"
    occurrence = Occurrence(
        event_id=f"x:1:{kind}",
        type=kind,
        occurred_at=NOW.isoformat(),
        actor_id=actor,
        title="t",
        owner_id=actor,
        creator_id=actor,
        assignee_id=actor,
        previous_assignee_id=actor,
        watcher_ids=(actor,),
        mentioned_ids=(actor,),
    )
    assert all(recipient.user_id != actor for recipient in recipients_for(occurrence))


class FakeMembership:
    def __init__(self, *members: str) -> None:
        self.members = set(members)

    def is_member(self, project_id: str, user_id: str) -> bool:
        return user_id in self.members


def test_a_comment_email_quotes_the_excerpt_escaped(aws: None) -> None:
    mailer = FakeMailer()
    occurrence = notifications.occurrence_of_comment(_comment(), FakeWatchers(TaskContext("Ship <it>", None, ())))
    addresses = FakeAddresses({"creator": "c@example.com"})
    notifications.deliver(occurrence, addresses, mailer, membership=FakeMembership("creator", "dee"))
    [email] = mailer.sent
    assert "Looks &lt;b&gt;good&lt;/b&gt; &amp; ready" in email["html"] and "<b>good</b>" not in email["html"]
    assert "> Looks <b>good</b> & ready" in email["text"] and email["subject"] == "New comment: Ship <it>"


def test_every_new_type_has_its_own_template_and_an_html_safe_render() -> None:
    for kind in ("task.assigned", "task.unassigned", "comment.added", "member.invited"):
        email = render_email(kind, "<img src=x onerror=alert(1)>", "line 1\n<script>")
        assert "<img" not in email.html and "<script>" not in email.html
        assert not email.subject.startswith("Update:")  # not the generic template


def test_preferences_know_the_new_types_with_their_defaults(client: ApiClient, alice: Account) -> None:
    answer = client.get("/me/notification-preferences", token=alice.access_token)
    assert answer.status_code == 200, answer.body
    channels = answer.json()["channels"]
    assert {kind.value for kind in NotificationType} == set(channels)
    assert channels["task.assigned"] == ["inbox", "email", "push"]
    assert channels["comment.added"] == ["inbox", "email", "push"]
    assert channels["task.unassigned"] == ["inbox", "push"]
    assert channels["member.invited"] == ["email"]


def test_someone_removed_from_the_project_hears_no_more_of_its_tasks(aws: None) -> None:
    """The creator of a project task, an earlier commenter or a mentioned user who has left the project are named by
    the rules but told nothing: the project's news is for its members now."""
    watchers = FakeWatchers(TaskContext("Ship it", "amy", ("cy",)))
    occurrence = notifications.occurrence_of_comment(_comment(), watchers)
    delivered = notifications.deliver(occurrence, FakeAddresses(), membership=FakeMembership("amy", "dee"))
    assert (delivered.notified, delivered.not_members) == (2, 2)  # amy and dee told; creator and cy have left


def test_membership_is_read_from_the_projects_table(client: ApiClient, alice: Account, bob: Account) -> None:
    created = client.post("/projects", token=alice.access_token, json_body={"name": "Launch"})
    assert created.status_code == 201, created.body
    project_id = created.json()["id"]
    occurrence = _occurrence_of_task(
        "task.updated", owner_id=bob.user_id, assignee_id=alice.user_id, previous_assignee_id=alice.user_id
    )._replace(project_id=project_id)
    delivered = notifications.deliver(occurrence, FakeAddresses())
    assert (delivered.notified, delivered.not_members) == (1, 1)  # alice (the owner) is a member, bob never was


def _inbox_types(user_id: str) -> set[tuple[str, str]]:
    from taskapp.data.notifications import NotificationModel

    return {(item.type, item.event_id) for item in NotificationModel.query(user_id)}


def test_the_consumer_notifies_collaboration_events_through_the_rules(aws: None) -> None:
    """The collaboration sample batch through the RabbitMQ consumer: assignments, a comment with a mention, project
    events; project members only, never the actor, the freshly assigned not also told of the same change."""
    from taskapp.data.projects import member_to_model
    from taskapp.domain.records.projects import Member
    from tests.support.lambda_events import FakeLambdaContext, load_function, sample_event
    from tests.unit.helpers import seed_task

    project = "7c1d2e3f-4a5b-4c6d-9e8f-1a2b3c4d5e6f"
    owner, bob, carol = "user-sample-1", "user-sample-2", "user-sample-3"
    for user_id, role in ((owner, "owner"), (bob, "member"), (carol, "member")):
        member_to_model(Member(project, user_id, role, None, NOW)).save()
    seed_task(owner, "sample-task-2", title="Ship the release notes")
    handler = load_function("notification").handler
    handler(sample_event("notification", "rabbitmq-collab-batch"), FakeLambdaContext("notification"))
    assert _inbox_types(owner) == {
        ("task.updated", "sample-task-2:2:task.updated"),  # bob's change of the owner's task
        ("comment.added", "sample-comment-1:1:comment.added"),  # a comment on the owner's task
    }
    assert _inbox_types(bob) == {("task.assigned", "sample-task-2:1:task.assigned")}  # his own acts: nothing
    assert _inbox_types(carol) == {
        ("task.assigned", "sample-task-2:2:task.assigned"),
        ("comment.added", "sample-comment-1:1:comment.added"),  # mentioned
    }
    from taskapp.data.notifications import NotificationModel

    [comment] = [item for item in NotificationModel.query(carol) if item.type == "comment.added"]
    assert comment.title == "Ship the release notes"  # the task's title, looked up for the comment
    handler(sample_event("notification", "rabbitmq-collab-batch"), FakeLambdaContext("notification"))
    assert len(_inbox_types(carol)) == 2  # a redelivered batch notifies nobody twice


def test_an_invitation_event_through_the_consumer_emails_the_address_with_the_projects_name(aws: None) -> None:
    from taskapp.domain.notification_delivery import StoreContext, occurrence_for

    class Names(StoreContext):
        def project_name(self, project_id: str) -> str:
            return f"name of {project_id}"

    occurrence = occurrence_for(_invited(), Names())
    assert occurrence.title == "name of p-1" and occurrence.invitee_email == "new@example.com"
    joined = _invited().model_copy(update={"type": ProjectEventType.MEMBER_JOINED})
    assert occurrence_for(joined, Names()).title == ""  # a type without a rule looks nothing up
