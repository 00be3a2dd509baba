"""The task record: one task of one owner (its creator), personal or in a shared project."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class Task(NamedTuple):
    owner_id: str
    task_id: str
    title: str
    description: str
    status: str
    priority: str
    due_date: str | None
    tags: frozenset[str]
    created_at: datetime
    updated_at: datetime
    version: int
    remind_at: str | None = None  # ISO-8601 UTC: when the due reminder fires (one EventBridge schedule per task)
    project_id: str | None = None  # None: a personal task, seen by its owner only (exactly as before projects)
    assignee_id: str | None = None  # None: unassigned
    updated_by: str | None = None  # who made the last write (the owner for tasks from before this attribute)
