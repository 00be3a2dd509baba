"""Who may do what in a shared project: the one place that decides it.

`MINIMUM_ROLE` says, per action, the lowest role allowed to take it (roles rank owner > admin > member > viewer).
A few actions carry a rule about *whom* they touch as well, written here next to the table: `may_grant` (inviting
or changing a role never gives more than the actor has, and never ownership), `may_manage` (an admin acts on lower
roles only) and `may_remove` (anyone may leave, except the owner, who transfers first). `ROUTES` names the action
of every project, invitation and task route, so a route without a policy entry fails the authorization matrix test
(tests/unit/test_project_policy.py), which is generated from these tables and the template's routes.

Comments add two rules about *whom* an action touches: `may_edit_comment` (only its author edits a comment) and
`may_delete_comment` (its author, or an admin and up of the task's project, or a personal task's owner).
Task routes act on a personal task as its owner (no role applies: `taskapp.domain.task_access`) and on a project
task with the action named here.
Outcomes: no membership = 404 (a non-member cannot tell a project exists), a role too low = 403 FORBIDDEN, a write
on an archived project = 409 PROJECT_ARCHIVED (the project is read-only; nobody's role allows it).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from taskapp.schemas.projects import ProjectRole

RANK: Mapping[ProjectRole, int] = MappingProxyType(
    {ProjectRole.OWNER: 4, ProjectRole.ADMIN: 3, ProjectRole.MEMBER: 2, ProjectRole.VIEWER: 1}
)


class Action(StrEnum):
    # Any signed-in caller: not scoped to a membership.
    PROJECT_CREATE = "project.create"
    PROJECT_LIST = "project.list"
    # An invitation's own invitee (matched by the caller's email), whatever their memberships.
    INVITATION_LIST = "invitation.list"
    INVITATION_RESPOND = "invitation.respond"
    # The caller's own personal tasks (batch ingestion never touches a project).
    TASK_INGEST = "task.ingest"
    # Scoped to one project's membership.
    PROJECT_READ = "project.read"
    PROJECT_UPDATE = "project.update"
    PROJECT_ARCHIVE = "project.archive"
    PROJECT_TRANSFER = "project.transfer"
    MEMBER_LIST = "member.list"
    MEMBER_CHANGE_ROLE = "member.change_role"
    MEMBER_REMOVE = "member.remove"
    MEMBER_LEAVE = "member.leave"
    INVITATION_CREATE = "invitation.create"
    ACTIVITY_READ = "activity.read"
    TASK_READ = "task.read"
    TASK_CREATE = "task.create"
    TASK_UPDATE = "task.update"
    TASK_DELETE = "task.delete"
    TASK_ASSIGN = "task.assign"
    COMMENT_READ = "comment.read"
    COMMENT_CREATE = "comment.create"
    COMMENT_EDIT_OWN = "comment.edit_own"
    COMMENT_DELETE_OWN = "comment.delete_own"
    COMMENT_DELETE_ANY = "comment.delete_any"
    # A webhook subscription to the project's events (POST /webhooks with projectId), checked again at fan-out and
    # at delivery: the subscription serves only while its creator still holds the role.
    WEBHOOK_MANAGE = "webhook.manage"


# Actions a caller takes as themself, not as a member of a project: no role applies.
UNSCOPED: frozenset[Action] = frozenset(
    {Action.PROJECT_CREATE, Action.PROJECT_LIST, Action.INVITATION_LIST, Action.INVITATION_RESPOND, Action.TASK_INGEST}
)

MINIMUM_ROLE: Mapping[Action, ProjectRole] = MappingProxyType(
    {
        Action.PROJECT_READ: ProjectRole.VIEWER,
        Action.MEMBER_LIST: ProjectRole.VIEWER,
        Action.ACTIVITY_READ: ProjectRole.VIEWER,
        Action.MEMBER_LEAVE: ProjectRole.VIEWER,  # any member but the owner: see may_remove
        Action.TASK_READ: ProjectRole.VIEWER,
        Action.COMMENT_READ: ProjectRole.VIEWER,
        Action.COMMENT_CREATE: ProjectRole.VIEWER,  # viewers read and comment
        Action.COMMENT_EDIT_OWN: ProjectRole.VIEWER,
        Action.COMMENT_DELETE_OWN: ProjectRole.VIEWER,
        Action.TASK_CREATE: ProjectRole.MEMBER,  # members create and edit tasks
        Action.TASK_UPDATE: ProjectRole.MEMBER,
        Action.TASK_DELETE: ProjectRole.MEMBER,
        Action.TASK_ASSIGN: ProjectRole.MEMBER,
        Action.PROJECT_UPDATE: ProjectRole.ADMIN,
        Action.INVITATION_CREATE: ProjectRole.ADMIN,  # admins manage members and invitations
        Action.MEMBER_CHANGE_ROLE: ProjectRole.ADMIN,
        Action.MEMBER_REMOVE: ProjectRole.ADMIN,
        Action.COMMENT_DELETE_ANY: ProjectRole.ADMIN,
        Action.WEBHOOK_MANAGE: ProjectRole.ADMIN,  # a webhook sees every event of the project
        Action.PROJECT_ARCHIVE: ProjectRole.OWNER,  # only the owner deletes or transfers
        Action.PROJECT_TRANSFER: ProjectRole.OWNER,
    }
)

# Actions that change the project or what is in it: refused (409) once the project is archived.
READS: frozenset[Action] = frozenset(
    {Action.PROJECT_READ, Action.MEMBER_LIST, Action.ACTIVITY_READ, Action.TASK_READ, Action.COMMENT_READ}
)

# Every project, invitation, task and comment route -> the action it takes. `DELETE /projects/{id}/members/{userId}`
# is MEMBER_REMOVE, or MEMBER_LEAVE when the caller names themself; `DELETE /tasks/{id}/comments/{commentId}` is
# COMMENT_DELETE_ANY, or COMMENT_DELETE_OWN when the caller wrote the comment. The task routes' action applies to
# project tasks (`POST /tasks` with `projectId`, `GET /tasks?projectId=`); on the caller's personal tasks no role
# applies.
ROUTES: Mapping[tuple[str, str], Action] = MappingProxyType(
    {
        ("POST", "/projects"): Action.PROJECT_CREATE,
        ("GET", "/projects"): Action.PROJECT_LIST,
        ("GET", "/projects/{id}"): Action.PROJECT_READ,
        ("PATCH", "/projects/{id}"): Action.PROJECT_UPDATE,
        ("DELETE", "/projects/{id}"): Action.PROJECT_ARCHIVE,
        ("POST", "/projects/{id}/transfer"): Action.PROJECT_TRANSFER,
        ("POST", "/projects/{id}/invitations"): Action.INVITATION_CREATE,
        ("GET", "/projects/{id}/members"): Action.MEMBER_LIST,
        ("PATCH", "/projects/{id}/members/{userId}"): Action.MEMBER_CHANGE_ROLE,
        ("DELETE", "/projects/{id}/members/{userId}"): Action.MEMBER_REMOVE,
        ("GET", "/projects/{id}/activity"): Action.ACTIVITY_READ,
        ("GET", "/invitations"): Action.INVITATION_LIST,
        ("POST", "/invitations/{id}/accept"): Action.INVITATION_RESPOND,
        ("POST", "/invitations/{id}/decline"): Action.INVITATION_RESPOND,
        ("POST", "/tasks"): Action.TASK_CREATE,
        ("GET", "/tasks"): Action.TASK_READ,
        ("GET", "/tasks/{id}"): Action.TASK_READ,
        ("PATCH", "/tasks/{id}"): Action.TASK_UPDATE,
        ("DELETE", "/tasks/{id}"): Action.TASK_DELETE,
        ("POST", "/tasks/ingest"): Action.TASK_INGEST,
        ("POST", "/tasks/{id}/comments"): Action.COMMENT_CREATE,
        ("GET", "/tasks/{id}/comments"): Action.COMMENT_READ,
        ("PATCH", "/tasks/{id}/comments/{commentId}"): Action.COMMENT_EDIT_OWN,
        ("DELETE", "/tasks/{id}/comments/{commentId}"): Action.COMMENT_DELETE_ANY,
    }
)


def role_allows(role: ProjectRole, action: Action) -> bool:
    """Whether a member of this role may take the action at all (who it touches is the rules below)."""
    if action in UNSCOPED:
        return True
    return RANK[role] >= RANK[MINIMUM_ROLE[action]]


def is_write(action: Action) -> bool:
    return action not in READS and action not in UNSCOPED


def may_grant(actor: ProjectRole, role: ProjectRole) -> bool:
    """Inviting with or changing to `role`: never ownership (that is a transfer), never above the actor's own."""
    return role is not ProjectRole.OWNER and RANK[role] <= RANK[actor]


def may_manage(actor: ProjectRole, target: ProjectRole) -> bool:
    """Changing someone's role or removing them: only a strictly lower role (an admin cannot touch another admin)."""
    return RANK[target] < RANK[actor]


def may_remove(actor: ProjectRole, target: ProjectRole, *, is_self: bool) -> bool:
    """Leaving is always allowed except for the owner, who must transfer first; removing others is `may_manage`."""
    if is_self:
        return target is not ProjectRole.OWNER
    return role_allows(actor, Action.MEMBER_REMOVE) and may_manage(actor, target)


def may_edit_comment(*, is_author: bool) -> bool:
    """Only its author edits a comment: no role rewrites someone else's words (an admin may delete them)."""
    return is_author


def may_delete_comment(role: ProjectRole | None, *, is_author: bool) -> bool:
    """Its author always (COMMENT_DELETE_OWN is every member's); someone else's needs COMMENT_DELETE_ANY (admins
    and the owner). `role` None is the caller's own personal task: its owner moderates it, whoever wrote there."""
    if is_author or role is None:
        return True
    return role_allows(role, Action.COMMENT_DELETE_ANY)
