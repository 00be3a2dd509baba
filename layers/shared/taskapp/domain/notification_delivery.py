"""Delivery: an occurrence told to the recipients its rule names, on the channels each chose.

Delivery per recipient: the preferences pick the channels; the inbox item is written once per (event id, recipient)
even when the inbox is off (it is what makes the other channels idempotent); the email is claimed on that item before
it is sent, so a redelivery never sends it twice; push goes out only with a freshly written item. A permanent email
failure is recorded and skipped; a transient one is given back and reported, so the caller fails its batch after
every recipient was served and the redelivery retries just that email.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from taskapp.data import notifications as store
from taskapp.domain.notification_preferences import channels_for
from taskapp.domain.notification_rules import RULES, recipients_for
from taskapp.domain.notification_templates import inbox_message, render_email
from taskapp.domain.notifications import to_view
from taskapp.domain.records.notifications import Notification, Occurrence, Recipient
from taskapp.messaging.email import EmailFailed
from taskapp.schemas.events import AnyEvent, CommentEvent, ProjectEvent, TaskEvent
from taskapp.schemas.notifications import Channel
from taskapp.settings import notification_delivery_settings


class Mailer(Protocol):
    def send(self, to_address: str, subject: str, text: str, html: str) -> str: ...


class Pusher(Protocol):
    def push(self, user_id: str, payload: dict[str, Any]) -> int: ...


class Addresses(Protocol):
    def email_of(self, user_id: str) -> str | None: ...

    def user_id_of(self, email: str) -> str | None: ...


class UserAddresses:
    """Recipients' email addresses from the users table, looked up once per user and invocation; and, for a
    recipient named by address alone (an invitee), the account registered with it, whose preferences apply."""

    def __init__(self) -> None:
        self._known: dict[str, str | None] = {}
        self._accounts: dict[str, str | None] = {}

    def email_of(self, user_id: str) -> str | None:
        if user_id not in self._known:
            from taskapp.data.users import find_by_user_id  # only deliveries that email need the users table

            user = find_by_user_id(user_id)
            self._known[user_id] = user.email if user else None
        return self._known[user_id]

    def user_id_of(self, email: str) -> str | None:
        if email not in self._accounts:
            from taskapp.data.users import find_by_email

            user = find_by_email(email)
            self._accounts[email] = user.user_id if user else None
        return self._accounts[email]


class Membership(Protocol):
    def is_member(self, project_id: str, user_id: str) -> bool: ...


class ProjectMembership:
    """Current memberships from the projects table (one GetItem per project and user and invocation): a project's
    news goes only to its members *now*, so someone removed from a project stops hearing about the tasks they
    created, were assigned or commented on there."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], bool] = {}

    def is_member(self, project_id: str, user_id: str) -> bool:
        key = (project_id, user_id)
        if key not in self._known:
            from taskapp.data.projects import get_member  # only project occurrences need the projects table

            self._known[key] = get_member(project_id, user_id) is not None
        return self._known[key]


class TaskContext(NamedTuple):
    """What a comment's notification needs from outside the event: the task's title, its assignee, and who
    commented on it before (user ids, any order, repeats allowed)."""

    title: str
    assignee_id: str | None
    commenter_ids: tuple[str, ...]


class Watchers(Protocol):
    """Looks up a comment's task context (the tasks and comments stores): kept outside the rules so they stay pure,
    and outside this module so a caller (or a test) chooses how."""

    def __call__(self, event: CommentEvent) -> TaskContext: ...


class Delivery(NamedTuple):
    notified: int = 0
    duplicates: int = 0
    emailed: int = 0
    email_failed: int = 0
    email_retry: int = 0  # transient failures: the caller fails its batch so these are retried
    pushed: int = 0
    not_members: int = 0  # named by a rule but no longer members of the occurrence's project: not told


class _Tally:
    def __init__(self) -> None:
        self.counts = dict.fromkeys(Delivery._fields, 0)

    def add(self, field: str, amount: int = 1) -> None:
        self.counts[field] += amount

    def result(self) -> Delivery:
        return Delivery(**self.counts)


def occurrence_of(event: TaskEvent) -> Occurrence:
    """A task event: the owner (hash key) is the task's creator; assignees come with the event (issue 11)."""
    return Occurrence(
        event_id=event.event_id,
        type=event.type.value,
        occurred_at=event.occurred_at.isoformat(),
        actor_id=event.actor_id,
        title=event.title,
        owner_id=event.owner_id,
        task_id=event.task_id,
        project_id=event.project_id,
        creator_id=event.owner_id,
        assignee_id=event.assignee_id,
        previous_assignee_id=event.previous_assignee_id,
    )


def occurrence_of_comment(event: CommentEvent, watchers: Watchers) -> Occurrence:
    """A comment event: its task's watchers (creator, assignee, earlier commenters) and whoever it mentions.

    Only `comment.added` has a rule; the context is looked up for it alone (an edit or a deletion tells nobody, so
    it costs no reads)."""
    context = watchers(event) if event.type.value in RULES else TaskContext("", None, ())
    return Occurrence(
        event_id=event.event_id,
        type=event.type.value,
        occurred_at=event.occurred_at.isoformat(),
        actor_id=event.actor_id,
        title=context.title,
        owner_id=event.task_owner_id,
        task_id=event.task_id,
        project_id=event.project_id,
        creator_id=event.task_owner_id,
        assignee_id=context.assignee_id,
        watcher_ids=tuple(dict.fromkeys(context.commenter_ids)),
        mentioned_ids=tuple(event.mentions),
        detail=event.excerpt,
    )


def occurrence_of_project(event: ProjectEvent, project_name: str = "") -> Occurrence:
    """A project event; `member.invited` is told to the invited address (the invitee may not have an account)."""
    return Occurrence(
        event_id=event.event_id,
        type=event.type.value,
        occurred_at=event.occurred_at.isoformat(),
        actor_id=event.actor_id,
        title=project_name,
        project_id=event.project_id,
        invitee_email=event.email if event.type.value == "member.invited" else None,
    )


class EventContext(Protocol):
    """What comment and project events need from the stores before the (pure) rules can name anyone."""

    def watchers(self, event: CommentEvent) -> TaskContext: ...

    def project_name(self, project_id: str) -> str: ...


WATCHING_COMMENTERS = 200  # earlier commenters told of a new comment: the first 200 distinct authors (docs/events.md)


class StoreContext:
    """EventContext from the tables, each lookup once per invocation.

    A comment's task context: the task's title and assignee from the tasks table, and its earlier commenters from
    the comments table (the first `WATCHING_COMMENTERS` distinct authors of the comments written before it, oldest
    first: a bound on the reads and on the recipients of one comment, whatever the task holds). The rules then add
    the creator and the mentioned, and drop the actor."""

    def __init__(self) -> None:
        self._tasks: dict[tuple[str, str], tuple[str, str | None]] = {}
        self._commenters: dict[tuple[str, str, str], tuple[str, ...]] = {}
        self._projects: dict[str, str] = {}

    def watchers(self, event: CommentEvent) -> TaskContext:
        """The task once per invocation; the commenters once per comment, as they were when it was written (a
        comment's key is its creation time and id, which `comment.added` carries as occurred_at and comment_id)."""
        # Only comment events need these tables.
        from taskapp.data.comments import comment_authors
        from taskapp.data.tasks import get_task

        key = (event.task_owner_id, event.task_id)
        if key not in self._tasks:
            task = get_task(event.task_owner_id, event.task_id)
            self._tasks[key] = (task.title, task.assignee_id) if task else ("", None)
        comment = (*key, event.comment_id)
        if comment not in self._commenters:
            self._commenters[comment] = comment_authors(
                event.task_id, event.task_owner_id, WATCHING_COMMENTERS, before=(event.occurred_at, event.comment_id)
            )
        title, assignee_id = self._tasks[key]
        return TaskContext(title, assignee_id, self._commenters[comment])

    def project_name(self, project_id: str) -> str:
        if project_id not in self._projects:
            from taskapp.data.projects import get_project  # only project events need the project's name

            project = get_project(project_id)
            self._projects[project_id] = project.name if project else ""
        return self._projects[project_id]


def occurrence_for(event: AnyEvent, context: EventContext) -> Occurrence:
    """Any event from `task.events` as an occurrence for the rules; the context is asked only when a rule needs
    it (a type without a row looks nothing up)."""
    if isinstance(event, TaskEvent):
        return occurrence_of(event)
    if isinstance(event, CommentEvent):
        return occurrence_of_comment(event, context.watchers)
    name = context.project_name(event.project_id) if event.type.value in RULES else ""
    return occurrence_of_project(event, name)


class _Run:
    """One delivery of one occurrence: the channels' clients, the counts, and one clock reading for the TTL."""

    def __init__(
        self, addresses: Addresses, mailer: Mailer | None, pusher: Pusher | None, membership: Membership
    ) -> None:
        self.addresses, self.mailer, self.pusher, self.membership = addresses, mailer, pusher, membership
        self.tally = _Tally()
        self.expires_at = int(
            (datetime.now(UTC) + timedelta(days=notification_delivery_settings().notification_ttl_days)).timestamp()
        )

    def send_email(self, notification: Notification, address: str, mailer: Mailer, detail: str) -> None:
        key = store.entry_key(notification.created_at, notification.event_id)
        email = render_email(notification.type, notification.title, detail)
        try:
            mailer.send(address, email.subject, email.text, email.html)
        except EmailFailed as exc:
            if exc.permanent:
                store.email_failed(notification.recipient_id, key)
                self.tally.add("email_failed")
            else:
                store.release_email(notification.recipient_id, key)
                self.tally.add("email_retry")
            return
        store.email_sent(notification.recipient_id, key)
        self.tally.add("emailed")

    def _preferences_of(self, recipient: Recipient) -> str | None:
        """Whose preferences apply: the user's; for an address alone, the account registered with it, if any."""
        if recipient.user_id or not recipient.email:
            return recipient.user_id
        return self.addresses.user_id_of(recipient.email)

    def deliver_to(self, occurrence: Occurrence, recipient: Recipient) -> None:
        # Users hear of a project's tasks only while they are members (an invitee by address is not one yet).
        project_id, user_id = occurrence.project_id, recipient.user_id
        if project_id and user_id and not self.membership.is_member(project_id, user_id):
            self.tally.add("not_members")
            return
        channels = channels_for(self._preferences_of(recipient), occurrence.type)
        if not channels:
            return
        notification = Notification(
            recipient_id=recipient.key,
            event_id=occurrence.event_id,
            type=occurrence.type,
            task_id=occurrence.task_id,
            project_id=occurrence.project_id,
            title=occurrence.title,
            actor_id=occurrence.actor_id,
            message=inbox_message(occurrence.type, occurrence.title),
            created_at=occurrence.occurred_at,
            in_inbox=Channel.INBOX in channels,
        )
        mailer = self.mailer if Channel.EMAIL in channels else None
        address = None
        if mailer is not None:
            address = recipient.email or (self.addresses.email_of(recipient.user_id) if recipient.user_id else None)
        created = store.put_once(notification, self.expires_at, store.EMAIL_SENDING if address else None)
        self.tally.add("notified" if created else "duplicates")
        if address and mailer is not None:
            key = store.entry_key(notification.created_at, notification.event_id)
            if created or store.claim_email(notification.recipient_id, key):
                self.send_email(notification, address, mailer, occurrence.detail)
        if created and self.pusher is not None and recipient.user_id and Channel.PUSH in channels:
            view = to_view(notification).model_dump(mode="json", by_alias=True)
            self.tally.add(
                "pushed", self.pusher.push(recipient.user_id, {"kind": "notification", "notification": view})
            )


def deliver(
    occurrence: Occurrence,
    addresses: Addresses,
    mailer: Mailer | None = None,
    pusher: Pusher | None = None,
    *,
    recipients: Iterable[Recipient] | None = None,
    membership: Membership | None = None,
) -> Delivery:
    """Tell every recipient the rules name (or `recipients`, for producers with their own list); for a project's
    occurrence, only those still members of it (`membership`, the projects table unless given)."""
    run = _Run(addresses, mailer, pusher, membership or ProjectMembership())
    for recipient in recipients_for(occurrence) if recipients is None else recipients:
        run.deliver_to(occurrence, recipient)
    return run.tally.result()
