"""Shared projects: what `/projects`, its members, invitations and transfer, and `/invitations` read and answer."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import Field, StrictInt, StrictStr, StringConstraints, field_validator

from taskapp.schemas.accounts import Email
from taskapp.schemas.common import ApiModel

ProjectName = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ProjectDescription = Annotated[StrictStr, StringConstraints(max_length=2000)]


class ProjectRole(StrEnum):
    """Highest first; what each role may do is taskapp.domain.policy's business, nowhere else."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class CreateProjectRequest(ApiModel):
    name: ProjectName
    description: ProjectDescription = ""


class UpdateProjectRequest(ApiModel):
    """A partial update; `version` is the one the client last read (optimistic locking, as for tasks)."""

    version: Annotated[StrictInt, Field(ge=1)]
    name: ProjectName | None = None
    description: ProjectDescription | None = None

    @field_validator("name", "description", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null; omit the field to leave it unchanged")
        return value

    def changes(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in self.model_fields_set if name != "version"}


class ProjectOut(ApiModel):
    id: str
    name: str
    description: str
    owner_id: str
    role: ProjectRole = Field(description="The caller's role in the project")
    archived: bool
    member_count: int
    created_at: str
    updated_at: str
    version: int


class ProjectListOut(ApiModel):
    items: list[ProjectOut]
    next_token: str | None


class InviteRequest(ApiModel):
    """Any role is accepted here so that the policy, not the schema, refuses `owner` (403, like other escalations)."""

    email: Email
    role: ProjectRole


class InvitationAcceptedOut(ApiModel):
    """The 202 answer: the same whether or not the email belongs to an account (no account enumeration)."""

    id: str
    project_id: str
    email: str
    role: ProjectRole
    expires_at: str


class InvitationOut(ApiModel):
    id: str
    project_id: str
    project_name: str
    role: ProjectRole
    invited_by: str
    created_at: str
    expires_at: str


class InvitationListOut(ApiModel):
    items: list[InvitationOut]
    next_token: str | None


class MemberOut(ApiModel):
    user_id: str
    email: str | None
    role: ProjectRole
    joined_at: str


class MemberListOut(ApiModel):
    items: list[MemberOut]
    next_token: str | None


class ChangeRoleRequest(ApiModel):
    role: ProjectRole


class TransferRequest(ApiModel):
    user_id: UUID
