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
