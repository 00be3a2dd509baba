"""The activity record: one event in one feed (a user's own feed, or a project's)."""

from __future__ import annotations

from typing import NamedTuple


class ActivityEntry(NamedTuple):
    """One event in one feed. `owner_id` names the feed: a user id (`GET /activity`) or `project#{projectId}`
    (`GET /projects/{id}/activity`); the same event is one entry in each feed it belongs to."""

    owner_id: str
    event_id: str
    type: str  # a TaskEventType, CommentEventType or ProjectEventType value
    task_id: str | None
    title: str
    occurred_at: str  # ISO-8601, as stored: part of the key, so a redelivered event targets the same item
    message: str
    version: int | None
    actor_id: str | None = None
    project_id: str | None = None
    subject_user_id: str | None = None
    comment_id: str | None = None
