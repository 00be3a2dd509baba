"""The task record: one task of one owner."""

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
    project_id: str | None = None  # the shared project it belongs to; None = a personal task (docs/data-model.md)
