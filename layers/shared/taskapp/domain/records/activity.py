"""The activity record: one task event in its owner's feed."""

from __future__ import annotations

from typing import NamedTuple


class ActivityEntry(NamedTuple):
    """One task event in the owner's feed; its notification carries the same event, task and message."""

    owner_id: str
    event_id: str
    type: str
    task_id: str
    title: str
    occurred_at: str  # ISO-8601, as stored: part of the key, so a redelivered event targets the same item
    message: str
    version: int
