"""Account records: users, their login sessions and refresh tokens, and password-change generations."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class User(NamedTuple):
    email: str  # normalised: the key, so uniqueness is a conditional put
    user_id: str
    name: str
    password_hash: str
    created_at: datetime


class RefreshToken(NamedTuple):
    """One refresh token of a login session, known only by its SHA-256."""

    token_hash: str
    user_id: str
    session_id: str
    state: str | None  # taskapp.data.sessions.ACTIVE until used, then ROTATED
    created_at: int
    expires_at: int


class SessionFamily(NamedTuple):
    """A login session: every refresh token rotated from one login belongs to it."""

    session_id: str
    user_id: str
    revoked: bool
    generation: int  # the user's session generation when the login happened (0 = before any password change)
    created_at: int
    expires_at: int


class SessionGeneration(NamedTuple):
    """A password change moves the user to a new generation; `previous` is the one it was read as (0 = never set)."""

    user_id: str
    generation: int
    previous: int
    changed_at: int
    expires_at: int
