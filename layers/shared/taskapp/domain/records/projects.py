"""Project records: a shared project, one membership of it, one pending invitation to it."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class Project(NamedTuple):
    project_id: str
    name: str
    description: str
    owner_id: str
    archived: bool
    member_count: int
    created_at: datetime
    updated_at: datetime
    version: int


class Member(NamedTuple):
    """One user's membership; `email` is what the user was known by when they joined (None if unknown)."""

    project_id: str
    user_id: str
    role: str
    email: str | None
    joined_at: datetime


class Invitation(NamedTuple):
    """Pending until accepted, declined or `expires_at` (epoch seconds; also the table's TTL attribute)."""

    invitation_id: str
    project_id: str
    project_name: str
    email: str  # normalised like a user's (taskapp.domain.accounts.normalize_email)
    role: str
    invited_by: str
    created_at: datetime
    expires_at: int


class ProjectEvent(NamedTuple):
    """One change of a project, its members or invitations, written in the same transaction as the change (the
    outbox): who did it (`actor_id`), to whom (`subject_user_id` / `email`), and the roles and version involved."""

    event_id: str
    type: str  # taskapp.schemas.events.ProjectEventType
    project_id: str
    actor_id: str
    occurred_at: datetime
    subject_user_id: str | None = None
    email: str | None = None
    role: str | None = None
    previous_role: str | None = None
    version: int | None = None
