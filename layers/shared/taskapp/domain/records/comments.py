"""The comment record: one comment on one task."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class Comment(NamedTuple):
    """`task_owner_id` and `project_id` are copied from the task when the comment is written, so that a stream
    record of the comment says whose task it is on without reading the task (comment events, activity feeds).
    `mentions` are user ids, each a member of the task's project (or the personal task's owner) when written."""

    comment_id: str
    task_id: str
    task_owner_id: str
    project_id: str | None
    author_id: str
    body: str
    mentions: frozenset[str]
    created_at: datetime
    updated_at: datetime
    version: int
    updated_by: str
