"""Who is told what: one row per event type, the same table as docs/events.md ("Who is told what").

A rule names recipients from the occurrence alone (pure: whatever needs a store, such as a comment's earlier
commenters, the producer looks up first and puts on the occurrence); `recipients_for` then drops the actor and
duplicates, so no rule has to remember either. A type without a row tells nobody.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from taskapp.domain.records.notifications import Occurrence, Recipient

Rule = Callable[[Occurrence], Iterable[Recipient]]


def _users(*user_ids: str | None) -> list[Recipient]:
    return [Recipient(user_id) for user_id in user_ids if user_id]


def _owner_and_assignee(event: Occurrence) -> list[Recipient]:
    """The creator, and the assignee unless this very change made them the assignee: the same stream record then
    yields a `task.assigned` that tells them, and one change should not notify them twice."""
    assigned_now = event.assignee_id != event.previous_assignee_id and event.type != "task.deleted"
    return _users(event.owner_id, None if assigned_now else event.assignee_id)


def _creator(event: Occurrence) -> list[Recipient]:
    return _users(event.creator_id or event.owner_id)


def _assignee_else_owner(event: Occurrence) -> list[Recipient]:
    return _users(event.assignee_id or event.owner_id)


def _assignee(event: Occurrence) -> list[Recipient]:
    return _users(event.assignee_id)


def _previous_assignee(event: Occurrence) -> list[Recipient]:
    """Whoever was taken off the task (the unassignment's old image), so they know it is no longer theirs."""
    return _users(event.previous_assignee_id)


def _watchers_and_mentioned(event: Occurrence) -> list[Recipient]:
    """Watchers are the creator, the assignee and earlier commenters (the producer lists them in watcher_ids)."""
    return _users(event.creator_id or event.owner_id, event.assignee_id, *event.watcher_ids, *event.mentioned_ids)


def _invitee(event: Occurrence) -> list[Recipient]:
    """By email: the invitee may not have an account yet."""
    return [Recipient(None, event.invitee_email)] if event.invitee_email else []


RULES: dict[str, Rule] = {
    "task.created": _owner_and_assignee,
    "task.updated": _owner_and_assignee,
    "task.deleted": _owner_and_assignee,
    "task.completed": _creator,
    "task.due_reminder": _assignee_else_owner,
    # Collaboration (issue 11)
    "task.assigned": _assignee,
    "task.unassigned": _previous_assignee,
    "comment.added": _watchers_and_mentioned,
    "member.invited": _invitee,
}


def recipients_for(event: Occurrence) -> list[Recipient]:
    """The rule's recipients, each once, never the actor; [] for a type no rule covers."""
    rule = RULES.get(event.type)
    if rule is None:
        return []
    seen: set[str] = set()
    recipients = []
    for recipient in rule(event):
        if recipient.user_id is not None and recipient.user_id == event.actor_id:
            continue
        if recipient.key not in seen:
            seen.add(recipient.key)
            recipients.append(recipient)
    return recipients
