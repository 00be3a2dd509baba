"""Shared projects: create, list, read, update, archive; invitations; members and their roles; ownership transfer.

Every project-scoped call starts with `_authorize`: the caller's membership (one GetItem), then the policy
(taskapp.domain.policy), then, for writes, the project's archived state. Nothing here decides a permission itself.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from taskapp.cursor import decode_cursor, encode_cursor
from taskapp.data import projects as store
from taskapp.domain import policy
from taskapp.domain.policy import Action
from taskapp.domain.records.projects import Invitation, Member, Project, ProjectEvent
from taskapp.errors import Conflict, Forbidden, NotFound
from taskapp.schemas.events import ProjectEventType
from taskapp.schemas.projects import (
    ChangeRoleRequest,
    CreateProjectRequest,
    InvitationAcceptedOut,
    InvitationListOut,
    InvitationOut,
    InviteRequest,
    MemberListOut,
    MemberOut,
    ProjectListOut,
    ProjectOut,
    ProjectRole,
    TransferRequest,
    UpdateProjectRequest,
)
from taskapp.settings import project_limit_settings

PROJECT_NOT_FOUND = "Project not found"
INVITATION_TTL_SECONDS = 7 * 24 * 3600


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _epoch_iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def to_view(project: Project, role: str) -> ProjectOut:
    return ProjectOut(
        id=project.project_id,
        name=project.name,
        description=project.description,
        owner_id=project.owner_id,
        role=ProjectRole(role),
        archived=project.archived,
        member_count=project.member_count,
        created_at=_iso(project.created_at),
        updated_at=_iso(project.updated_at),
        version=project.version,
    )


def member_view(member: Member) -> MemberOut:
    return MemberOut(
        user_id=member.user_id, email=member.email, role=ProjectRole(member.role), joined_at=_iso(member.joined_at)
    )


def invitation_view(invitation: Invitation) -> InvitationOut:
    return InvitationOut(
        id=invitation.invitation_id,
        project_id=invitation.project_id,
        project_name=invitation.project_name,
        role=ProjectRole(invitation.role),
        invited_by=invitation.invited_by,
        created_at=_iso(invitation.created_at),
        expires_at=_epoch_iso(invitation.expires_at),
    )


def _event(kind: ProjectEventType, project_id: str, actor_id: str, **fields: Any) -> ProjectEvent:
    """The outbox item that the data layer writes in the same transaction as the change it describes."""
    return ProjectEvent(
        event_id=str(uuid.uuid4()),
        type=kind.value,
        project_id=project_id,
        actor_id=actor_id,
        occurred_at=datetime.now(UTC),
        **fields,
    )


def _not_found(project_id: str) -> NotFound:
    return NotFound(PROJECT_NOT_FOUND, details={"id": project_id})


def _forbidden(action: Action, role: ProjectRole, message: str | None = None) -> Forbidden:
    return Forbidden(
        message or f"Your role in this project ({role.value}) does not allow {action.value}",
        details={"action": action.value, "role": role.value},
    )


def _archived(project_id: str) -> Conflict:
    return Conflict("The project is archived and read-only", code="PROJECT_ARCHIVED", details={"id": project_id})


def _authorize(project_id: str, user_id: str, action: Action) -> tuple[Project, Member]:
    """Membership (404 if none: a non-member cannot tell the project exists), role (403), archived (409 on writes)."""
    member = store.get_member(project_id, user_id)
    if member is None:
        raise _not_found(project_id)
    role = ProjectRole(member.role)
    if not policy.role_allows(role, action):
        raise _forbidden(action, role)
    project = store.get_project(project_id)
    if project is None:
        raise _not_found(project_id)
    if project.archived and policy.is_write(action):
        raise _archived(project_id)
    return project, member


def authorize(project_id: str, user_id: str, action: Action) -> tuple[Project, Member]:
    """The membership check for other domains' project-scoped reads and writes (activity, tasks, comments,
    webhooks): 404 for a non-member, 403 for a role too low, 409 for a write on an archived project."""
    return _authorize(project_id, user_id, action)


def member_may(project_id: str, user_id: str, action: Action) -> bool:
    """Whether the user is a member whose role allows the action right now (one GetItem, no error): what a
    background job (the webhook fan-out) asks before serving a subscription its creator made as an admin."""
    member = store.get_member(project_id, user_id)
    return member is not None and policy.role_allows(ProjectRole(member.role), action)


def normalize_email(email: str) -> str:
    """As taskapp.domain.accounts normalises an account's email (a test holds them equal): defined here so that
    project functions do not load the whole accounts domain (tokens, passwords, sessions) and its settings."""
    return email.strip().lower()


def _email_of(user_id: str) -> str | None:
    """The caller's email, for invitations: the users table is loaded only by the functions that ask."""
    from taskapp.data.users import find_by_user_id

    user = find_by_user_id(user_id)
    return normalize_email(user.email) if user else None


# --- projects ---------------------------------------------------------------------------------------------------


def create_project(user_id: str, request: CreateProjectRequest) -> ProjectOut:
    now = datetime.now(UTC)
    project = Project(
        project_id=str(uuid.uuid4()),
        name=request.name,
        description=request.description,
        owner_id=user_id,
        archived=False,
        member_count=1,
        created_at=now,
        updated_at=now,
        version=1,
    )
    owner = Member(project.project_id, user_id, ProjectRole.OWNER.value, _email_of(user_id), now)
    store.create_project(
        project, owner, _event(ProjectEventType.PROJECT_CREATED, project.project_id, user_id, version=1)
    )
    return to_view(project, owner.role)


def list_projects(user_id: str, include_archived: bool, limit: int, next_token: str | None) -> ProjectListOut:
    """The caller's memberships (one Query on a GSI), then their projects (one BatchGetItem)."""
    scope = f"{user_id}|projects|{'all' if include_archived else 'active'}"
    start_key: dict[str, Any] | None = decode_cursor(next_token, scope) if next_token else None
    page = store.list_memberships(user_id, include_archived, limit, start_key)
    found = store.get_projects([member.project_id for member in page.items])
    items = [to_view(found[member.project_id], member.role) for member in page.items if member.project_id in found]
    cursor = encode_cursor(page.last_evaluated_key, scope) if page.last_evaluated_key else None
    return ProjectListOut(items=items, next_token=cursor)


def get_project(user_id: str, project_id: str) -> ProjectOut:
    project, member = _authorize(project_id, user_id, Action.PROJECT_READ)
    return to_view(project, member.role)


def _version_conflict(current_version: int) -> Conflict:
    return Conflict(
        "Project was modified by someone else; reload it and retry",
        code="VERSION_CONFLICT",
        details={"currentVersion": current_version},
    )


def update_project(user_id: str, project_id: str, request: UpdateProjectRequest) -> ProjectOut:
    project, member = _authorize(project_id, user_id, Action.PROJECT_UPDATE)
    if project.version != request.version:
        raise _version_conflict(project.version)
    changes: dict[str, object] = {**request.changes(), "updated_at": datetime.now(UTC)}
    try:
        event = _event(ProjectEventType.PROJECT_UPDATED, project_id, user_id, version=request.version + 1)
        updated = store.update_project(project, changes, request.version, event)
    except store.ProjectChanged as exc:
        latest = store.get_project(project_id)
        if latest is None:
            raise _not_found(project_id) from exc
        if latest.archived:
            raise _archived(project_id) from exc
        raise _version_conflict(latest.version) from exc
    return to_view(updated, member.role)


def archive_project(user_id: str, project_id: str) -> None:
    """DELETE archives: read-only from now on, and out of the members' project lists unless `?archived=true`."""
    project, _ = _authorize(project_id, user_id, Action.PROJECT_ARCHIVE)
    try:
        event = _event(ProjectEventType.PROJECT_ARCHIVED, project_id, user_id, version=project.version + 1)
        store.archive_project(project, datetime.now(UTC), event)
    except store.ProjectChanged as exc:
        raise _archived(project_id) from exc


def transfer_ownership(user_id: str, project_id: str, request: TransferRequest) -> ProjectOut:
    project, owner = _authorize(project_id, user_id, Action.PROJECT_TRANSFER)
    successor_id = str(request.user_id)
    if successor_id == user_id:
        raise Conflict("You already own this project", code="ALREADY_OWNER", details={"userId": successor_id})
    successor = store.get_member(project_id, successor_id)
    if successor is None:
        raise NotFound(
            "The new owner must be a member of the project", code="MEMBER_NOT_FOUND", details={"userId": successor_id}
        )
    try:
        event = _event(
            ProjectEventType.PROJECT_TRANSFERRED,
            project_id,
            user_id,
            subject_user_id=successor_id,
            role=ProjectRole.OWNER.value,
            previous_role=successor.role,
            version=project.version + 1,
        )
        store.transfer_ownership(project, owner, successor, datetime.now(UTC), event)
    except store.ProjectChanged as exc:
        raise Conflict(
            "The project or its members changed meanwhile; reload and retry", code="CONCURRENT_CHANGE"
        ) from exc
    latest = store.get_project(project_id)
    if latest is None:
        raise _not_found(project_id)
    return to_view(latest, ProjectRole.ADMIN.value)


# --- members ----------------------------------------------------------------------------------------------------


def list_members(user_id: str, project_id: str, limit: int, next_token: str | None) -> MemberListOut:
    _authorize(project_id, user_id, Action.MEMBER_LIST)
    scope = f"{project_id}|members"
    start_key: dict[str, Any] | None = decode_cursor(next_token, scope) if next_token else None
    page = store.list_members(project_id, limit, start_key)
    cursor = encode_cursor(page.last_evaluated_key, scope) if page.last_evaluated_key else None
    return MemberListOut(items=[member_view(member) for member in page.items], next_token=cursor)


def _target(project_id: str, user_id: str) -> Member:
    target = store.get_member(project_id, user_id)
    if target is None:
        raise NotFound("No such member in this project", code="MEMBER_NOT_FOUND", details={"userId": user_id})
    return target


def change_role(user_id: str, project_id: str, target_id: str, request: ChangeRoleRequest) -> MemberOut:
    _, actor = _authorize(project_id, user_id, Action.MEMBER_CHANGE_ROLE)
    actor_role = ProjectRole(actor.role)
    target = _target(project_id, target_id)
    if not policy.may_manage(actor_role, ProjectRole(target.role)):
        raise _forbidden(
            Action.MEMBER_CHANGE_ROLE, actor_role, f"A {actor_role.value} cannot change the role of a {target.role}"
        )
    if not policy.may_grant(actor_role, request.role):
        raise _forbidden(
            Action.MEMBER_CHANGE_ROLE,
            actor_role,
            f"A {actor_role.value} cannot grant the role {request.role.value}"
            + ("; ownership moves with POST /projects/{id}/transfer" if request.role is ProjectRole.OWNER else ""),
        )
    if target.role == request.role.value:
        return member_view(target)
    try:
        event = _event(
            ProjectEventType.MEMBER_ROLE_CHANGED,
            project_id,
            user_id,
            subject_user_id=target_id,
            role=request.role.value,
            previous_role=target.role,
        )
        return member_view(store.change_role(target, request.role.value, event))
    except store.ProjectChanged as exc:
        raise Conflict("The member's role changed meanwhile; reload and retry", code="CONCURRENT_CHANGE") from exc


def remove_member(user_id: str, project_id: str, target_id: str) -> None:
    """An admin removes a lower role; any member but the owner removes themself (leaving)."""
    is_self = target_id == user_id
    _, actor = _authorize(project_id, user_id, Action.MEMBER_LEAVE if is_self else Action.MEMBER_REMOVE)
    actor_role = ProjectRole(actor.role)
    target = actor if is_self else _target(project_id, target_id)
    if not policy.may_remove(actor_role, ProjectRole(target.role), is_self=is_self):
        message = (
            "The owner cannot leave; transfer ownership first (POST /projects/{id}/transfer)"
            if is_self
            else f"A {actor_role.value} cannot remove a {target.role}"
        )
        raise _forbidden(Action.MEMBER_LEAVE if is_self else Action.MEMBER_REMOVE, actor_role, message)
    try:
        event = _event(
            ProjectEventType.MEMBER_REMOVED, project_id, user_id, subject_user_id=target_id, previous_role=target.role
        )
        store.remove_member(target, event)
    except store.ProjectChanged as exc:
        raise Conflict("The member's role changed meanwhile; reload and retry", code="CONCURRENT_CHANGE") from exc
    _unassign_tasks(project_id, target_id, user_id)


def _unassign_tasks(project_id: str, user_id: str, actor_id: str) -> None:
    """Their tasks in the project become unassigned, each a normal task write by the remover (version bump,
    `updatedBy`), so the outbox publishes it. In the request: one index Query page per 100 assigned tasks. The
    membership is gone first, so no new assignment to them can be made meanwhile (assigning checks membership)."""
    from taskapp.domain.task_assignments import unassign_member

    unassign_member(project_id, user_id, actor_id)


# --- invitations ------------------------------------------------------------------------------------------------


def _limit_reached(what: str, limit: int) -> Conflict:
    return Conflict(
        f"This project has reached its limit of {limit} {what}",
        code="LIMIT_REACHED",
        details={"limit": limit, "of": what},
    )


def invite(user_id: str, project_id: str, request: InviteRequest) -> InvitationAcceptedOut:
    """Same answer whether or not the email has an account; re-inviting an email refreshes its invitation."""
    project, actor = _authorize(project_id, user_id, Action.INVITATION_CREATE)
    actor_role = ProjectRole(actor.role)
    if not policy.may_grant(actor_role, request.role):
        raise _forbidden(
            Action.INVITATION_CREATE, actor_role, f"A {actor_role.value} cannot invite as {request.role.value}"
        )
    limits = project_limit_settings()
    if project.member_count >= limits.project_member_limit:
        raise _limit_reached("members", limits.project_member_limit)
    email = normalize_email(request.email)
    now = int(time.time())
    existing = store.get_invitation(project_id, email)
    pending = existing is not None and existing.expires_at > now
    if not pending and store.count_pending_invitations(project_id, now) >= limits.project_invitation_limit:
        raise _limit_reached("pending invitations", limits.project_invitation_limit)
    invitation = Invitation(
        invitation_id=existing.invitation_id if existing is not None and pending else str(uuid.uuid4()),
        project_id=project_id,
        project_name=project.name,
        email=email,
        role=request.role.value,
        invited_by=user_id,
        created_at=datetime.now(UTC),
        expires_at=now + INVITATION_TTL_SECONDS,
    )
    event = _event(ProjectEventType.MEMBER_INVITED, project_id, user_id, email=email, role=invitation.role)
    store.put_invitation(invitation, event)
    return InvitationAcceptedOut(
        id=invitation.invitation_id,
        project_id=project_id,
        email=email,
        role=request.role,
        expires_at=_epoch_iso(invitation.expires_at),
    )


def list_invitations(user_id: str, limit: int, next_token: str | None) -> InvitationListOut:
    """Invitations addressed to the caller's email, whenever they registered with it; expired ones are left out."""
    scope = f"{user_id}|invitations"
    start_key: dict[str, Any] | None = decode_cursor(next_token, scope) if next_token else None
    email = _email_of(user_id)
    if email is None:
        return InvitationListOut(items=[], next_token=None)
    page = store.list_invitations(email, limit, start_key)
    now = int(time.time())
    items = [invitation_view(invitation) for invitation in page.items if invitation.expires_at > now]
    cursor = encode_cursor(page.last_evaluated_key, scope) if page.last_evaluated_key else None
    return InvitationListOut(items=items, next_token=cursor)


def _own_invitation(user_id: str, invitation_id: str) -> Invitation:
    """Found only among the caller's own invitations: anyone else's id is a 404, exactly like a missing one."""
    email = _email_of(user_id)
    invitation = store.find_invitation(email, invitation_id) if email else None
    if invitation is None:
        raise NotFound("Invitation not found", code="INVITATION_NOT_FOUND", details={"id": invitation_id})
    if invitation.expires_at <= int(time.time()):
        raise Conflict(
            "The invitation has expired; ask for a new one", code="INVITATION_EXPIRED", details={"id": invitation_id}
        )
    return invitation


def accept_invitation(user_id: str, invitation_id: str) -> ProjectOut:
    invitation = _own_invitation(user_id, invitation_id)
    member = Member(invitation.project_id, user_id, invitation.role, invitation.email, datetime.now(UTC))
    limit = project_limit_settings().project_member_limit
    try:
        event = _event(
            ProjectEventType.MEMBER_JOINED,
            invitation.project_id,
            user_id,
            subject_user_id=user_id,
            email=invitation.email,
            role=invitation.role,
        )
        store.accept_invitation(invitation, member, limit, int(time.time()), event)
    except store.AcceptRefused as exc:
        if store.AcceptRefused.MEMBER in exc.reasons:
            raise Conflict(
                "You are already a member of this project",
                code="ALREADY_MEMBER",
                details={"projectId": invitation.project_id},
            ) from exc
        if store.AcceptRefused.INVITATION in exc.reasons:
            raise NotFound("Invitation not found", code="INVITATION_NOT_FOUND", details={"id": invitation_id}) from exc
        project = store.get_project(invitation.project_id)
        if project is None:
            raise NotFound("Invitation not found", code="INVITATION_NOT_FOUND", details={"id": invitation_id}) from exc
        if project.archived:
            raise _archived(invitation.project_id) from exc
        raise _limit_reached("members", limit) from exc
    project = store.get_project(invitation.project_id)
    if project is None:
        raise _not_found(invitation.project_id)
    return to_view(project, member.role)


def decline_invitation(user_id: str, invitation_id: str) -> None:
    invitation = _own_invitation(user_id, invitation_id)
    event = _event(
        ProjectEventType.INVITATION_DECLINED,
        invitation.project_id,
        user_id,
        subject_user_id=user_id,
        email=invitation.email,
    )
    if not store.delete_invitation(invitation, event):
        raise NotFound("Invitation not found", code="INVITATION_NOT_FOUND", details={"id": invitation_id})
