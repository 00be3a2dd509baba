"""Projects, their members and pending invitations: one table, one partition per project.

Items (hash `pk`, range `sk`):
- `PROJECT#{projectId}` / `META`: the project (name, owner, archived, memberCount, version).
- `PROJECT#{projectId}` / `MEMBER#{userId}`: one membership and its role; the one GetItem of every authorization.
- `PROJECT#{projectId}` / `INVITE#{email}`: one pending invitation; the key makes re-inviting an email a refresh,
  not a second invitation.
- `PROJECT#{projectId}` / `EVENT#{occurredAt ISO}#{eventId}`: the outbox. Every write below puts its event item in
  the same transaction as the change, so an event exists exactly when its change does, with the actor in it; the
  table's stream carries the items to the publisher (which reads event items only).
`expiresAt` (epoch seconds) is the table's TTL attribute, set on invitations and event items only: DynamoDB deletes
expired invitations, and event items once the stream has long delivered them.
GSIs, each sparse (only the items carrying their hash attribute are in them):
- `byMember` (memberUserId, memberKey): every membership of a user, newest first (`?archived=true`).
- `byActiveMember` (activeMemberUserId, memberKey): memberships of projects that are not archived; archiving
  removes `activeMemberUserId` from the project's members, so the default list never reads an archived project.
- `byInvitee` (inviteeEmail, invitationId): the invitations addressed to an email, and one of them by id.
`memberKey` is `{joinedAt ISO}#{projectId}`: unique and sortable.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from taskapp.data.base import is_condition_failure, model_meta, transaction
from taskapp.domain.records import Page
from taskapp.domain.records.projects import Invitation, Member, Project, ProjectEvent
from taskapp.settings import projects_table_settings

META = "META"
MEMBER_PREFIX = "MEMBER#"
INVITE_PREFIX = "INVITE#"
EVENT_PREFIX = "EVENT#"
# An outbox item outlives the stream's 24 h retention, then TTL removes it.
EVENT_RETENTION_SECONDS = 2 * 24 * 3600
# Membership updates in flight at once while archiving (pynamodb's HTTP pool holds 10 connections).
ARCHIVE_PARALLELISM = 8


def project_key(project_id: str) -> str:
    return f"PROJECT#{project_id}"


def member_key(user_id: str) -> str:
    return f"{MEMBER_PREFIX}{user_id}"


def invite_key(email: str) -> str:
    return f"{INVITE_PREFIX}{email}"


class ProjectModel(Model):
    Meta = model_meta(projects_table_settings().projects_table)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    project_id = UnicodeAttribute(attr_name="projectId")
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    owner_id = UnicodeAttribute(attr_name="ownerId")
    archived = BooleanAttribute(default=False)
    member_count = NumberAttribute(attr_name="memberCount", default=0)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    version = NumberAttribute(default=1)


class ByMemberIndex(GlobalSecondaryIndex["MemberModel"]):
    class Meta:
        index_name = "byMember"
        projection = AllProjection()

    member_user_id = UnicodeAttribute(hash_key=True, attr_name="memberUserId")
    member_key = UnicodeAttribute(range_key=True, attr_name="memberKey")


class ByActiveMemberIndex(GlobalSecondaryIndex["MemberModel"]):
    class Meta:
        index_name = "byActiveMember"
        projection = AllProjection()

    active_member_user_id = UnicodeAttribute(hash_key=True, attr_name="activeMemberUserId")
    member_key = UnicodeAttribute(range_key=True, attr_name="memberKey")


class MemberModel(Model):
    Meta = model_meta(projects_table_settings().projects_table)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    project_id = UnicodeAttribute(attr_name="projectId")
    user_id = UnicodeAttribute(attr_name="userId")
    role = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    joined_at = UTCDateTimeAttribute(attr_name="joinedAt")
    member_user_id = UnicodeAttribute(attr_name="memberUserId")
    active_member_user_id = UnicodeAttribute(null=True, attr_name="activeMemberUserId")
    member_key = UnicodeAttribute(attr_name="memberKey")

    by_member = ByMemberIndex()
    by_active_member = ByActiveMemberIndex()


class ByInviteeIndex(GlobalSecondaryIndex["InvitationModel"]):
    class Meta:
        index_name = "byInvitee"
        projection = AllProjection()

    invitee_email = UnicodeAttribute(hash_key=True, attr_name="inviteeEmail")
    invitation_id = UnicodeAttribute(range_key=True, attr_name="invitationId")


class InvitationModel(Model):
    Meta = model_meta(projects_table_settings().projects_table)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    invitation_id = UnicodeAttribute(attr_name="invitationId")
    project_id = UnicodeAttribute(attr_name="projectId")
    project_name = UnicodeAttribute(attr_name="projectName")
    invitee_email = UnicodeAttribute(attr_name="inviteeEmail")
    role = UnicodeAttribute()
    invited_by = UnicodeAttribute(attr_name="invitedBy")
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    expires_at = NumberAttribute(attr_name="expiresAt")

    by_invitee = ByInviteeIndex()


class EventModel(Model):
    Meta = model_meta(projects_table_settings().projects_table)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    event_id = UnicodeAttribute(attr_name="eventId")
    type = UnicodeAttribute()
    project_id = UnicodeAttribute(attr_name="projectId")
    actor_id = UnicodeAttribute(attr_name="actorId")
    occurred_at = UTCDateTimeAttribute(attr_name="occurredAt")
    subject_user_id = UnicodeAttribute(null=True, attr_name="subjectUserId")
    email = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)
    previous_role = UnicodeAttribute(null=True, attr_name="previousRole")
    version = NumberAttribute(null=True)
    expires_at = NumberAttribute(attr_name="expiresAt")


class ProjectChanged(Exception):
    """A write's condition failed: the project (or the membership) is not what the caller read; reload and decide."""


class AcceptRefused(Exception):
    """The acceptance transaction was cancelled; `reasons` names which of its items refused."""

    INVITATION, PROJECT, MEMBER = "invitation", "project", "member"

    def __init__(self, reasons: set[str]) -> None:
        super().__init__(", ".join(sorted(reasons)))
        self.reasons = reasons


# --- mapping ----------------------------------------------------------------------------------------------------


def project_to_model(project: Project) -> ProjectModel:
    return ProjectModel(
        project_key(project.project_id),
        META,
        project_id=project.project_id,
        name=project.name,
        description=project.description,
        owner_id=project.owner_id,
        archived=project.archived,
        member_count=project.member_count,
        created_at=project.created_at,
        updated_at=project.updated_at,
        version=project.version,
    )


def project_to_record(model: ProjectModel) -> Project:
    return Project(
        project_id=model.project_id,
        name=model.name,
        description=model.description or "",
        owner_id=model.owner_id,
        archived=bool(model.archived),
        member_count=int(model.member_count or 0),
        created_at=model.created_at,
        updated_at=model.updated_at,
        version=int(model.version),
    )


def member_to_model(member: Member, *, active: bool = True) -> MemberModel:
    return MemberModel(
        project_key(member.project_id),
        member_key(member.user_id),
        project_id=member.project_id,
        user_id=member.user_id,
        role=member.role,
        email=member.email,
        joined_at=member.joined_at,
        member_user_id=member.user_id,
        active_member_user_id=member.user_id if active else None,
        member_key=f"{member.joined_at.isoformat()}#{member.project_id}",
    )


def member_to_record(model: MemberModel) -> Member:
    return Member(
        project_id=model.project_id,
        user_id=model.user_id,
        role=model.role,
        email=model.email,
        joined_at=model.joined_at,
    )


def invitation_to_model(invitation: Invitation) -> InvitationModel:
    return InvitationModel(
        project_key(invitation.project_id),
        invite_key(invitation.email),
        invitation_id=invitation.invitation_id,
        project_id=invitation.project_id,
        project_name=invitation.project_name,
        invitee_email=invitation.email,
        role=invitation.role,
        invited_by=invitation.invited_by,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
    )


def invitation_to_record(model: InvitationModel) -> Invitation:
    return Invitation(
        invitation_id=model.invitation_id,
        project_id=model.project_id,
        project_name=model.project_name,
        email=model.invitee_email,
        role=model.role,
        invited_by=model.invited_by,
        created_at=model.created_at,
        expires_at=int(model.expires_at),
    )


def event_to_model(event: ProjectEvent) -> EventModel:
    return EventModel(
        project_key(event.project_id),
        f"{EVENT_PREFIX}{event.occurred_at.isoformat()}#{event.event_id}",
        event_id=event.event_id,
        type=event.type,
        project_id=event.project_id,
        actor_id=event.actor_id,
        occurred_at=event.occurred_at,
        subject_user_id=event.subject_user_id,
        email=event.email,
        role=event.role,
        previous_role=event.previous_role,
        version=event.version,
        expires_at=int(event.occurred_at.timestamp()) + EVENT_RETENTION_SECONDS,
    )


def event_to_record(model: EventModel) -> ProjectEvent:
    return ProjectEvent(
        event_id=model.event_id,
        type=model.type,
        project_id=model.project_id,
        actor_id=model.actor_id,
        occurred_at=model.occurred_at,
        subject_user_id=model.subject_user_id,
        email=model.email,
        role=model.role,
        previous_role=model.previous_role,
        version=int(model.version) if model.version is not None else None,
    )


def list_events(project_id: str) -> list[ProjectEvent]:
    """The project's outbox items still stored, oldest first (for tests and operators; the stream publishes them)."""
    return [
        event_to_record(model)
        for model in EventModel.query(project_key(project_id), EventModel.sk.startswith(EVENT_PREFIX))
    ]


def _cancelled(exc: TransactWriteError, names: Sequence[str]) -> set[str]:
    """Which items of a cancelled transaction failed their condition, by the names given in item order: pynamodb
    sends condition checks first, then deletes, puts and updates, whatever order the block added them in."""
    reasons = exc.cancellation_reasons or []
    return {
        name
        for name, reason in zip(names, reasons, strict=False)
        if reason is not None and reason.code == "ConditionalCheckFailed"
    }


# --- projects ---------------------------------------------------------------------------------------------------


def create_project(project: Project, owner: Member, event: ProjectEvent) -> None:
    """The project, its owner's membership and the event, together or not at all."""
    with transaction() as tx:
        tx.save(project_to_model(project), condition=ProjectModel.pk.does_not_exist())
        tx.save(member_to_model(owner), condition=MemberModel.pk.does_not_exist())
        tx.save(event_to_model(event))


def get_project(project_id: str) -> Project | None:
    try:
        return project_to_record(ProjectModel.get(project_key(project_id), META, consistent_read=True))
    except DoesNotExist:
        return None


def get_projects(project_ids: Sequence[str]) -> dict[str, Project]:
    """One BatchGetItem for a page of projects (a page holds at most 100, BatchGetItem's limit)."""
    keys = [(project_key(project_id), META) for project_id in dict.fromkeys(project_ids)]
    if not keys:
        return {}
    return {model.project_id: project_to_record(model) for model in ProjectModel.batch_get(keys)}


def update_project(project: Project, changes: Mapping[str, Any], expected_version: int, event: ProjectEvent) -> Project:
    """Only if nobody wrote since `expected_version` and the project is not archived; returns it as written."""
    actions = [getattr(ProjectModel, field).set(value) for field, value in changes.items()]
    try:
        with transaction() as tx:
            tx.update(
                ProjectModel(project_key(project.project_id), META),
                actions=[*actions, ProjectModel.version.set(expected_version + 1)],
                condition=ProjectModel.pk.exists()
                & (ProjectModel.version == expected_version)
                & (ProjectModel.archived == False),  # noqa: E712 - a pynamodb condition, not a Python comparison
            )
            tx.save(event_to_model(event))
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            raise ProjectChanged(project.project_id) from exc
        raise
    return project._replace(**changes, version=expected_version + 1)


def archive_project(project: Project, archived_at: Any, event: ProjectEvent) -> None:
    """Mark the project archived (once), then take it out of its members' default project lists."""
    try:
        with transaction() as tx:
            tx.update(
                ProjectModel(project_key(project.project_id), META),
                actions=[
                    ProjectModel.archived.set(True),
                    ProjectModel.updated_at.set(archived_at),
                    ProjectModel.version.set(project.version + 1),
                ],
                condition=ProjectModel.pk.exists() & (ProjectModel.archived == False),  # noqa: E712
            )
            tx.save(event_to_model(event))
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            raise ProjectChanged(project.project_id) from exc
        raise
    _deactivate_memberships(project.project_id)


def _deactivate(model: MemberModel) -> None:
    try:
        model.update(
            actions=[MemberModel.active_member_user_id.remove()],
            condition=MemberModel.pk.exists(),
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):  # removed meanwhile: nothing left to deactivate
            raise


def _deactivate_memberships(project_id: str) -> None:
    """At most the member limit of UpdateItems, a few in flight at once. Writes to the project are refused from the
    moment `archived` is set, so no membership appears behind this loop (an acceptance checks `archived` too)."""
    members = list(
        MemberModel.query(project_key(project_id), MemberModel.sk.startswith(MEMBER_PREFIX), consistent_read=True)
    )
    if len(members) <= 1:
        for member in members:
            _deactivate(member)
        return
    with ThreadPoolExecutor(max_workers=ARCHIVE_PARALLELISM, thread_name_prefix="archive") as pool:
        for future in [pool.submit(_deactivate, member) for member in members]:
            future.result()


# --- members ----------------------------------------------------------------------------------------------------


def get_member(project_id: str, user_id: str) -> Member | None:
    """The membership check of every project request: one strongly consistent GetItem, so a role change or a
    removal holds from the very next request."""
    try:
        return member_to_record(MemberModel.get(project_key(project_id), member_key(user_id), consistent_read=True))
    except DoesNotExist:
        return None


def members_among(project_id: str, user_ids: Collection[str]) -> frozenset[str]:
    """Which of `user_ids` are members of the project now: one strongly consistent BatchGetItem of their
    membership items (at most 100 keys, its limit; callers bound what they ask for)."""
    keys = [(project_key(project_id), member_key(user_id)) for user_id in dict.fromkeys(user_ids)]
    if not keys:
        return frozenset()
    if len(keys) > 100:
        raise ValueError("at most 100 members per lookup")
    return frozenset(
        model.user_id
        for model in MemberModel.batch_get(keys, consistent_read=True, attributes_to_get=["pk", "sk", "userId"])
    )


def list_members(project_id: str, limit: int, start_key: dict[str, Any] | None) -> Page[Member]:
    results = MemberModel.query(
        project_key(project_id),
        MemberModel.sk.startswith(MEMBER_PREFIX),
        limit=limit,
        last_evaluated_key=start_key,
    )
    items = tuple(member_to_record(model) for model in results)
    return Page(items=items, last_evaluated_key=results.last_evaluated_key)


def list_memberships(
    user_id: str, include_archived: bool, limit: int, start_key: dict[str, Any] | None
) -> Page[Member]:
    """The user's memberships, newest first: `byActiveMember` by default, `byMember` with the archived ones."""
    index = MemberModel.by_member if include_archived else MemberModel.by_active_member
    results = index.query(user_id, scan_index_forward=False, limit=limit, last_evaluated_key=start_key)
    items = tuple(member_to_record(model) for model in results)
    return Page(items=items, last_evaluated_key=results.last_evaluated_key)


def change_role(member: Member, new_role: str, event: ProjectEvent) -> Member:
    """Only if the membership still has the role the caller judged (a concurrent change wins, this one retries)."""
    try:
        with transaction() as tx:
            tx.update(
                MemberModel(project_key(member.project_id), member_key(member.user_id)),
                actions=[MemberModel.role.set(new_role)],
                condition=MemberModel.role == member.role,
            )
            tx.save(event_to_model(event))
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            raise ProjectChanged(member.project_id) from exc
        raise
    return member._replace(role=new_role)


def remove_member(member: Member, event: ProjectEvent) -> None:
    """The membership goes and the project's member count drops, together; refused if the role changed meanwhile."""
    try:
        with transaction() as tx:
            tx.save(event_to_model(event))
            tx.delete(
                MemberModel(project_key(member.project_id), member_key(member.user_id)),
                condition=MemberModel.role == member.role,
            )
            tx.update(
                ProjectModel(project_key(member.project_id), META),
                actions=[ProjectModel.member_count.add(-1)],
                condition=ProjectModel.pk.exists(),
            )
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            raise ProjectChanged(member.project_id) from exc
        raise


def transfer_ownership(project: Project, owner: Member, successor: Member, now: Any, event: ProjectEvent) -> None:
    """Owner and successor swap in one transaction: the old owner becomes admin, the successor owner."""
    try:
        with transaction() as tx:
            tx.save(event_to_model(event))
            tx.update(
                ProjectModel(project_key(project.project_id), META),
                actions=[
                    ProjectModel.owner_id.set(successor.user_id),
                    ProjectModel.updated_at.set(now),
                    ProjectModel.version.set(project.version + 1),
                ],
                condition=(ProjectModel.owner_id == owner.user_id)
                & (ProjectModel.version == project.version)
                & (ProjectModel.archived == False),  # noqa: E712
            )
            tx.update(
                MemberModel(project_key(project.project_id), member_key(owner.user_id)),
                actions=[MemberModel.role.set("admin")],
                condition=MemberModel.role == owner.role,
            )
            tx.update(
                MemberModel(project_key(project.project_id), member_key(successor.user_id)),
                actions=[MemberModel.role.set("owner")],
                condition=MemberModel.role == successor.role,
            )
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            raise ProjectChanged(project.project_id) from exc
        raise


# --- invitations ------------------------------------------------------------------------------------------------


def get_invitation(project_id: str, email: str) -> Invitation | None:
    try:
        model = InvitationModel.get(project_key(project_id), invite_key(email), consistent_read=True)
    except DoesNotExist:
        return None
    return invitation_to_record(model)


def put_invitation(invitation: Invitation, event: ProjectEvent) -> None:
    """Create or refresh: the (project, email) key holds one invitation at most."""
    with transaction() as tx:
        tx.save(invitation_to_model(invitation))
        tx.save(event_to_model(event))


def count_pending_invitations(project_id: str, now: int) -> int:
    """A COUNT Query over the project's invitation items; expired ones that TTL has not deleted yet are not counted."""
    return int(
        InvitationModel.count(
            project_key(project_id),
            InvitationModel.sk.startswith(INVITE_PREFIX),
            filter_condition=InvitationModel.expires_at > now,
            consistent_read=True,
        )
    )


def list_invitations(email: str, limit: int, start_key: dict[str, Any] | None) -> Page[Invitation]:
    results = InvitationModel.by_invitee.query(email, limit=limit, last_evaluated_key=start_key)
    items = tuple(invitation_to_record(model) for model in results)
    return Page(items=items, last_evaluated_key=results.last_evaluated_key)


def find_invitation(email: str, invitation_id: str) -> Invitation | None:
    """By id among the email's invitations (GSI, one item), then confirmed on the table, strongly consistent: the
    index may lag a refresh or a decline by a moment."""
    for model in InvitationModel.by_invitee.query(email, InvitationModel.invitation_id == invitation_id, limit=1):
        stored = get_invitation(model.project_id, email)
        return stored if stored is not None and stored.invitation_id == invitation_id else None
    return None


def accept_invitation(invitation: Invitation, member: Member, member_limit: int, now: int, event: ProjectEvent) -> None:
    """Invitation consumed, member count raised within the limit, membership created: all or nothing."""
    try:
        with transaction() as tx:
            tx.delete(
                InvitationModel(project_key(invitation.project_id), invite_key(invitation.email)),
                condition=(InvitationModel.invitation_id == invitation.invitation_id)
                & (InvitationModel.expires_at > now),
            )
            tx.update(
                ProjectModel(project_key(invitation.project_id), META),
                actions=[ProjectModel.member_count.add(1)],
                condition=ProjectModel.pk.exists()
                & (ProjectModel.archived == False)  # noqa: E712
                & (ProjectModel.member_count < member_limit),
            )
            tx.save(member_to_model(member), condition=MemberModel.pk.does_not_exist())
            tx.save(event_to_model(event))
    except TransactWriteError as exc:
        # pynamodb's order: the delete, the puts (member, event), the update.
        names = (AcceptRefused.INVITATION, AcceptRefused.MEMBER, "event", AcceptRefused.PROJECT)
        reasons = _cancelled(exc, names)
        if reasons:
            raise AcceptRefused(reasons) from exc
        raise


def delete_invitation(invitation: Invitation, event: ProjectEvent) -> bool:
    """False when it was already gone or replaced by a newer invitation (a refresh keeps the id; see domain)."""
    try:
        with transaction() as tx:
            tx.delete(
                InvitationModel(project_key(invitation.project_id), invite_key(invitation.email)),
                condition=InvitationModel.invitation_id == invitation.invitation_id,
            )
            tx.save(event_to_model(event))
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True
