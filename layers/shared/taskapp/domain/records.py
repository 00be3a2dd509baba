"""The records the domain works with and the data layer stores: frozen, plain Python, no storage types.

Data modules (`taskapp.data.*`) take and return these and own everything about how they are stored (keys,
attribute names, conditions, transactions); domain modules hold the rules. A new aggregate adds its record here,
a `data/<aggregate>.py` (the table's model, its mapping to and from the record, the operations) and a domain module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

_Item = TypeVar("_Item")


@dataclass(frozen=True)
class Page(Generic[_Item]):
    """One page of a query, newest first; `last_evaluated_key` is None on the last page."""

    items: tuple[_Item, ...]
    last_evaluated_key: dict[str, Any] | None


@dataclass(frozen=True)
class Task:
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


@dataclass(frozen=True)
class User:
    email: str  # normalised: the key, so uniqueness is a conditional put
    user_id: str
    name: str
    password_hash: str
    created_at: datetime


@dataclass(frozen=True)
class RefreshToken:
    """One refresh token of a login session, known only by its SHA-256."""

    token_hash: str
    user_id: str
    session_id: str
    state: str | None  # taskapp.data.sessions.ACTIVE until used, then ROTATED
    created_at: int
    expires_at: int


@dataclass(frozen=True)
class SessionFamily:
    """A login session: every refresh token rotated from one login belongs to it."""

    session_id: str
    user_id: str
    revoked: bool
    generation: int  # the user's session generation when the login happened (0 = before any password change)
    created_at: int
    expires_at: int


@dataclass(frozen=True)
class SessionGeneration:
    """A password change moves the user to a new generation; `previous` is the one it was read as (0 = never set)."""

    user_id: str
    generation: int
    previous: int
    changed_at: int
    expires_at: int


@dataclass(frozen=True)
class ActivityEntry:
    """One task event in the owner's feed; its notification carries the same event, task and message."""

    owner_id: str
    event_id: str
    type: str
    task_id: str
    title: str
    occurred_at: str  # ISO-8601, as stored: part of the key, so a redelivered event targets the same item
    message: str
    version: int
