"""The activity feeds: each event is one entry in every feed it belongs to, read newest first.

Feeds (docs/events.md, "Activity feeds"):
* a user's own feed (`GET /activity`): the task and comment events the user made, and those others made to tasks the
  user owns or is assigned (or was, for the unassignment that ends it);
* a project's feed (`GET /projects/{id}/activity`, members only: taskapp.domain.project_activity): every project,
  member, task and comment event of the project.
Each entry is a conditional put keyed by the event, so a redelivered event is a no-op per (event id, feed).
"""

from __future__ import annotations

from typing import Any

from taskapp.cursor import decode_cursor, encode_cursor
from taskapp.data import activity as store
from taskapp.domain.records.activity import ActivityEntry
from taskapp.schemas.events import (
    ActivityEntryOut,
    ActivityPageOut,
    AnyEvent,
    CommentEvent,
    CommentEventType,
    EventType,
    ProjectEventType,
    TaskEvent,
    TaskEventType,
)

_TASK_MESSAGES = {
    TaskEventType.CREATED: 'Task "{title}" was created',
    TaskEventType.UPDATED: 'Task "{title}" was updated',
    TaskEventType.COMPLETED: 'Task "{title}" was completed',
    TaskEventType.DELETED: 'Task "{title}" was deleted',
    TaskEventType.ASSIGNED: 'Task "{title}" was assigned',
    TaskEventType.UNASSIGNED: 'Task "{title}" was unassigned',
}
_COMMENT_MESSAGES = {
    CommentEventType.ADDED: 'Comment added: "{excerpt}"',
    CommentEventType.UPDATED: 'Comment edited: "{excerpt}"',
    CommentEventType.DELETED: "A comment was deleted",  # the text is gone: the feed does not keep it either
}
# Member events name roles, never the invitee's email: every member (viewers too) reads the project's feed.
_PROJECT_MESSAGES = {
    ProjectEventType.PROJECT_CREATED: "Project was created",
    ProjectEventType.PROJECT_UPDATED: "Project was updated",
    ProjectEventType.PROJECT_ARCHIVED: "Project was archived",
    ProjectEventType.PROJECT_TRANSFERRED: "Ownership was transferred",
    ProjectEventType.MEMBER_INVITED: "Someone was invited as {role}",
    ProjectEventType.MEMBER_JOINED: "A member joined as {role}",
    ProjectEventType.MEMBER_ROLE_CHANGED: "A member's role changed from {previous_role} to {role}",
    ProjectEventType.MEMBER_REMOVED: "A member was removed",
    ProjectEventType.INVITATION_DECLINED: "An invitation was declined",
}
EXCERPT_IN_MESSAGE = 80


def human_message(event: AnyEvent) -> str:
    if isinstance(event, TaskEvent):
        return _TASK_MESSAGES[event.type].format(title=event.title)
    if isinstance(event, CommentEvent):
        excerpt = (
            event.excerpt if len(event.excerpt) <= EXCERPT_IN_MESSAGE else event.excerpt[:EXCERPT_IN_MESSAGE] + "…"
        )
        return _COMMENT_MESSAGES[event.type].format(excerpt=excerpt)
    if event.type == ProjectEventType.MEMBER_REMOVED and event.subject_user_id == event.actor_id:
        return "A member left"
    return _PROJECT_MESSAGES[event.type].format(role=event.role or "", previous_role=event.previous_role or "")


def _is_reassignment_notice(event: TaskEvent) -> bool:
    """The `task.unassigned` of a reassignment (A -> B): it is there to tell A; the record's `task.assigned`
    is the entry everyone else's feeds (and the project's) get."""
    return event.type == TaskEventType.UNASSIGNED and event.assignee_id is not None


def moved_from(event: AnyEvent) -> str | None:
    """The project a task event's change moved the task out of (None: not a move out of a project)."""
    if isinstance(event, TaskEvent) and event.previous_project_id and event.previous_project_id != event.project_id:
        return event.previous_project_id
    return None


def feeds_of(event: AnyEvent) -> list[str]:
    """Every feed the event belongs to, each once: the people's own feeds, then the project's (and, for a task
    moved between projects, the project it left)."""
    people: list[str | None]
    if isinstance(event, TaskEvent):
        if _is_reassignment_notice(event):
            return [event.previous_assignee_id] if event.previous_assignee_id else []
        people = [event.actor_id, event.owner_id, event.assignee_id]
        if event.type == TaskEventType.UNASSIGNED or (
            event.type == TaskEventType.ASSIGNED and event.previous_assignee_id is None
        ):
            people.append(event.previous_assignee_id)  # told that the task left them (a reassignment: above)
    elif isinstance(event, CommentEvent):
        people = [event.actor_id, event.task_owner_id]
    else:
        people = []  # project and member events live in the project's feed only
    feeds = list(dict.fromkeys(person for person in people if person))
    if event.project_id:
        feeds.append(store.project_feed_id(event.project_id))
    left = moved_from(event)
    if left:
        feeds.append(store.project_feed_id(left))
    return feeds


MOVED_OUT = 'Task "{title}" was moved out of the project'


def entry_for(event: AnyEvent, feed_id: str) -> ActivityEntry:
    task_id = comment_id = subject = None
    title = ""
    project_id, message = event.project_id, human_message(event)
    if isinstance(event, TaskEvent):
        task_id, title = event.task_id, event.title
        if event.type == TaskEventType.ASSIGNED:
            subject = event.assignee_id
        elif event.type == TaskEventType.UNASSIGNED:
            subject = event.previous_assignee_id
        left = moved_from(event)
        if left and feed_id == store.project_feed_id(left):
            # The project it left: its members learn it moved, not where to (they may not see that project).
            project_id, message = left, MOVED_OUT.format(title=title)
    elif isinstance(event, CommentEvent):
        task_id, comment_id = event.task_id, event.comment_id
    else:
        subject = event.subject_user_id
    return ActivityEntry(
        owner_id=feed_id,
        event_id=event.event_id,
        type=event.type.value,
        task_id=task_id,
        title=title,
        occurred_at=event.occurred_at.isoformat(),
        message=message,
        version=event.version,
        actor_id=event.actor_id,
        project_id=project_id,
        subject_user_id=subject,
        comment_id=comment_id,
    )


def record_event(event: AnyEvent) -> int:
    """Store the event's entry in each of its feeds; returns how many were new (0: a redelivered event)."""
    return sum(store.record_once(entry_for(event, feed_id)) for feed_id in feeds_of(event))


def event_type_of(raw: str) -> EventType:
    for kind in (TaskEventType, CommentEventType, ProjectEventType):
        if raw in kind._value2member_map_:
            return kind(raw)
    raise ValueError(f"not an event type: {raw}")


def to_view(entry: ActivityEntry) -> ActivityEntryOut:
    kind = event_type_of(entry.type)
    return ActivityEntryOut(
        type=kind,
        task_id=entry.task_id,
        title=entry.title,
        timestamp=entry.occurred_at,
        message=entry.message,
        event_type=kind,
        actor_id=entry.actor_id,
        project_id=entry.project_id,
        subject_user_id=entry.subject_user_id,
        comment_id=entry.comment_id,
    )


def page_of(feed_id: str, scope: str, limit: int, next_token: str | None) -> ActivityPageOut:
    """One page of a feed; the cursor is signed for `scope`, so it cannot be replayed against another feed."""
    start_key: dict[str, Any] | None = decode_cursor(next_token, scope) if next_token else None
    page = store.list_activity(feed_id, limit, start_key)
    cursor = encode_cursor(page.last_evaluated_key, scope) if page.last_evaluated_key else None
    return ActivityPageOut(items=[to_view(entry) for entry in page.items], next_token=cursor)


def list_activity(owner_id: str, limit: int, next_token: str | None) -> ActivityPageOut:
    """The caller's own feed."""
    return page_of(owner_id, f"activity|{owner_id}", limit, next_token)
