"""Issue 12: recipient rules, idempotent delivery per (event id, recipient), email through the mailer, the inbox API
and the preferences API."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import pytest

from taskapp.domain import notification_delivery as notifications
from taskapp.domain.notification_rules import RULES, recipients_for
from taskapp.domain.records.notifications import Occurrence, Recipient
from taskapp.messaging.email import EmailFailed
from taskapp.schemas.notifications import NotificationType
from tests.support.api_client import ApiClient
from tests.unit.conftest import Account


@dataclass
class FakeMailer:
    sent: list[dict[str, str]] = field(default_factory=list)
    failures: dict[str, EmailFailed] = field(default_factory=dict)  # address -> what sending to it raises

    def send(self, to_address: str, subject: str, text: str, html: str) -> str:
        if to_address in self.failures:
            raise self.failures[to_address]
        self.sent.append({"to": to_address, "subject": subject, "text": text, "html": html})
        return f"msg-{len(self.sent)}"


@dataclass
class FakeAddresses:
    emails: dict[str, str] = field(default_factory=dict)

    def email_of(self, user_id: str) -> str | None:
        return self.emails.get(user_id)

    def user_id_of(self, email: str) -> str | None:
        return next((user_id for user_id, address in self.emails.items() if address == email), None)


def _occurrence(kind: str = "task.completed", **fields: Any) -> Occurrence:
    values: dict[str, Any] = {
        "event_id": f"task-1:3:{kind}",
        "type": kind,
        "occurred_at": "2026-12-01T09:00:00+00:00",
        "actor_id": None,
        "title": "Ship it",
        "owner_id": "owner-1",
        "task_id": "task-1",
        "creator_id": "owner-1",
    }
    values.update(fields)
    return Occurrence(**values)


def test_every_notification_type_has_a_rule_and_the_actor_is_never_told() -> None:
    assert {kind.value for kind in NotificationType} <= set(RULES)
    comment = _occurrence(
        "comment.added",
        actor_id="bob",
        creator_id="ann",
        assignee_id="bob",
        watcher_ids=("cy", "ann"),
        mentioned_ids=("dee", "bob"),
    )
    assert [r.user_id for r in recipients_for(comment)] == ["ann", "cy", "dee"]
    assert recipients_for(_occurrence(actor_id="owner-1")) == []  # completing your own task tells nobody
    assert recipients_for(_occurrence("task.due_reminder", assignee_id="amy")) == [Recipient("amy")]
    assert recipients_for(_occurrence("task.due_reminder")) == [Recipient("owner-1")]
    assert recipients_for(_occurrence("member.invited", invitee_email="new@example.com")) == [
        Recipient(None, "new@example.com")
    ]
    assert recipients_for(_occurrence("no.such.type")) == []


def test_redelivered_event_makes_no_second_notification_and_no_second_email(aws: None) -> None:
    mailer, addresses = FakeMailer(), FakeAddresses({"owner-1": "owner@example.com"})
    first = notifications.deliver(_occurrence(), addresses, mailer)
    again = notifications.deliver(_occurrence(), addresses, mailer)
    assert (first.notified, first.emailed) == (1, 1)
    assert (again.notified, again.duplicates, again.emailed) == (0, 1, 0)
    assert len(mailer.sent) == 1
    assert mailer.sent[0]["subject"] == "Task completed: Ship it"


def test_user_text_is_html_escaped_in_the_email(aws: None) -> None:
    mailer = FakeMailer()
    title = '<script>alert("x")</script> & co'
    notifications.deliver(_occurrence(title=title), FakeAddresses({"owner-1": "o@example.com"}), mailer)
    email = mailer.sent[0]
    assert (
        "<script>" not in email["html"]
        and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in email["html"]
    )
    assert title in email["text"]


def test_permanent_email_failure_never_blocks_other_recipients(aws: None) -> None:
    mailer = FakeMailer(failures={"bad@example.com": EmailFailed("MessageRejected", permanent=True)})
    addresses = FakeAddresses({"a": "bad@example.com", "b": "good@example.com"})
    occurrence = _occurrence("task.due_reminder")
    result = notifications.deliver(occurrence, addresses, mailer, recipients=[Recipient("a"), Recipient("b")])
    assert (result.notified, result.emailed, result.email_failed, result.email_retry) == (2, 1, 1, 0)
    assert [sent["to"] for sent in mailer.sent] == ["good@example.com"]
    notifications.deliver(occurrence, addresses, mailer, recipients=[Recipient("a"), Recipient("b")])
    assert len(mailer.sent) == 1  # the rejected one is not retried either


def test_transient_email_failure_is_retried_once_on_redelivery(aws: None) -> None:
    mailer = FakeMailer(failures={"o@example.com": EmailFailed("TooManyRequests", permanent=False)})
    addresses = FakeAddresses({"owner-1": "o@example.com"})
    assert notifications.deliver(_occurrence(), addresses, mailer).email_retry == 1
    mailer.failures.clear()
    redelivered = notifications.deliver(_occurrence(), addresses, mailer)
    assert (redelivered.duplicates, redelivered.emailed) == (1, 1)
    assert notifications.deliver(_occurrence(), addresses, mailer).emailed == 0
    assert len(mailer.sent) == 1


def _notify(user_id: str, n: int, kind: str = "task.created") -> None:
    for i in range(n):
        occurrence = _occurrence(
            kind,
            event_id=f"t{i}:1:{kind}",
            owner_id=user_id,
            creator_id=user_id,
            title=f"Task {i}",
            occurred_at=f"2026-12-01T09:00:0{i}+00:00",
        )
        notifications.deliver(occurrence, FakeAddresses())


def test_inbox_lists_newest_first_filters_unread_counts_and_marks_read(client: ApiClient, alice: Account) -> None:
    token = alice.access_token
    _notify(alice.user_id, 3)
    page = client.get("/notifications", token=token, query={"limit": "2"})
    assert page.status_code == 200, page.body
    first = page.json()
    assert [item["title"] for item in first["items"]] == ["Task 2", "Task 1"]
    assert set(first["items"][0]) == {
        "id",
        "type",
        "taskId",
        "projectId",
        "title",
        "actor",
        "message",
        "createdAt",
        "readAt",
    }
    rest = client.get("/notifications", token=token, query={"limit": "2", "nextToken": first["nextToken"]}).json()
    assert [item["title"] for item in rest["items"]] == ["Task 0"]
    assert client.get("/notifications/unread-count", token=token).json() == {"unread": 3}

    read = client.post(f"/notifications/{first['items'][0]['id']}/read", token=token)
    assert read.status_code == 200 and read.json()["readAt"]
    again = client.post(f"/notifications/{first['items'][0]['id']}/read", token=token).json()
    assert again["readAt"] == read.json()["readAt"]
    unread = client.get("/notifications", token=token, query={"unread": "true"}).json()
    assert [item["title"] for item in unread["items"]] == ["Task 1", "Task 0"]
    assert client.get("/notifications/unread-count", token=token).json() == {"unread": 2}

    assert client.post("/notifications/read-all", token=token).json() == {"markedRead": 2}
    assert client.get("/notifications/unread-count", token=token).json() == {"unread": 0}
    assert client.get("/notifications", token=token, query={"unread": "true"}).json()["items"] == []
    assert len(client.get("/notifications", token=token).json()["items"]) == 3


def test_another_users_or_a_made_up_notification_is_404(client: ApiClient, alice: Account, bob: Account) -> None:
    _notify(alice.user_id, 1)
    alices = client.get("/notifications", token=alice.access_token).json()["items"][0]["id"]
    assert client.post(f"/notifications/{alices}/read", token=bob.access_token).status_code == 404
    assert client.post("/notifications/bm90LWEta2V5/read", token=bob.access_token).status_code == 404
    assert client.post("/notifications/%3Cx%3E/read", token=bob.access_token).status_code == 400
    too_long_key = ("é" * 520 + "#x").encode()  # 1,042 bytes: a well-formed id, over DynamoDB's key limit
    too_long = base64.urlsafe_b64encode(too_long_key).decode().rstrip("=")
    assert client.post(f"/notifications/{too_long}/read", token=bob.access_token).status_code == 404


@pytest.mark.parametrize("query", [{"unread": "yes"}, {"unread": "1"}, {"limit": "0"}, {"unreadd": "true"}])
def test_inbox_query_is_validated(client: ApiClient, caller: Account, query: dict[str, str]) -> None:
    answer = client.get("/notifications", token=caller.access_token, query=query)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "VALIDATION_ERROR"


def test_inbox_routes_require_a_token(client: ApiClient) -> None:
    assert client.get("/notifications").status_code == 401
    assert client.get("/me/notification-preferences").status_code == 401


def test_preferences_default_then_saved_and_obeyed(client: ApiClient, alice: Account) -> None:
    token = alice.access_token
    defaults = client.get("/me/notification-preferences", token=token).json()["channels"]
    assert defaults["task.completed"] == ["inbox", "email", "push"]
    assert defaults["task.created"] == ["inbox", "push"]
    saved = client.request(
        "PUT", "/me/notification-preferences", token=token, json_body={"channels": {"task.created": []}}
    )
    assert saved.status_code == 200, saved.body
    assert saved.json()["channels"]["task.created"] == []
    assert saved.json()["channels"]["task.completed"] == ["inbox", "email", "push"]  # untouched types keep theirs
    _notify(alice.user_id, 2)
    assert client.get("/notifications", token=token).json()["items"] == []


def test_email_only_preference_dedupes_without_showing_in_the_inbox(client: ApiClient, alice: Account) -> None:
    token = alice.access_token
    client.request(
        "PUT", "/me/notification-preferences", token=token, json_body={"channels": {"task.completed": ["email"]}}
    )
    mailer = FakeMailer()
    occurrence = _occurrence(owner_id=alice.user_id, creator_id=alice.user_id)
    for _ in range(2):
        notifications.deliver(occurrence, FakeAddresses({alice.user_id: alice.email}), mailer)
    assert len(mailer.sent) == 1
    assert client.get("/notifications", token=token).json()["items"] == []
    assert client.get("/notifications/unread-count", token=token).json() == {"unread": 0}


@pytest.mark.parametrize(
    "body",
    [
        {"channels": {"task.exploded": ["inbox"]}},
        {"channels": {"task.created": ["pigeon"]}},
        {"channels": {"task.created": "inbox"}},
        {"channels": {}, "extra": 1},
        {},
    ],
)
def test_unknown_types_or_channels_are_400(client: ApiClient, caller: Account, body: dict[str, Any]) -> None:
    answer = client.request("PUT", "/me/notification-preferences", token=caller.access_token, json_body=body)
    assert answer.status_code == 400, answer.body
    assert answer.json()["error"]["code"] == "VALIDATION_ERROR"


def test_inbox_items_expire_after_90_days(aws: None) -> None:
    import time as clock

    from taskapp.data.notifications import NotificationModel

    notifications.deliver(_occurrence(), FakeAddresses())
    item = next(iter(NotificationModel.query("owner-1")))
    assert abs(int(item.expires_at) - (clock.time() + 90 * 86400)) < 60


def test_ses_mailer_sends_text_and_html_and_names_a_rejection_permanent(aws: None) -> None:
    """moto's SES v2 (unit tests only; e2e reads MiniStack's recorded messages): unverified sender -> permanent."""
    import boto3

    from taskapp.messaging import email as module
    from taskapp.settings import email_settings

    module._sesv2.cache_clear()
    sender = email_settings().notification_sender_email
    with pytest.raises(EmailFailed) as rejected:
        module.SesMailer().send("ann@example.com", "Subject", "text", "<p>html</p>")
    assert rejected.value.permanent
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress=sender)
    assert module.SesMailer().send("ann@example.com", "Subject", "text", "<p>html</p>")
