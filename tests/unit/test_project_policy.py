"""The project policy: its table, its special rules, and the authorization matrix over every project route.

The matrix is generated: the routes come from template.yaml, each route's action from `policy.ROUTES`, each
expected status from `policy.MINIMUM_ROLE` and the rules next to it. A new project or invitation route without a
policy entry (or without a request below to exercise it) fails here.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, NamedTuple

import pytest

from taskapp.domain import policy
from taskapp.domain.policy import Action
from taskapp.schemas.projects import ProjectRole
from tests.support.api_client import ApiClient, template_routes
from tests.support.tokens import mint_access_token
from tests.unit.conftest import JWT_SECRET
from tests.unit.helpers import assert_error

PROJECT_PREFIXES = ("/projects", "/invitations")
IDENTITIES = ("owner", "admin", "member", "viewer", "non-member", "removed member")
ROLE_OF = {
    "owner": ProjectRole.OWNER,
    "admin": ProjectRole.ADMIN,
    "member": ProjectRole.MEMBER,
    "viewer": ProjectRole.VIEWER,
}
# Whom the member routes act on: a viewer nobody else in the matrix is, so the actor never targets themself.
TARGET_ROLE = ProjectRole.VIEWER
INVITEE = "invitee-of-the-matrix@example.com"


class Probe(NamedTuple):
    """How to exercise a route: path (with {project}, {target}, {invitation}), body, status when allowed."""

    path: str
    body: dict[str, Any] | None
    allowed_status: int


PROBES: dict[tuple[str, str], Probe] = {
    ("POST", "/projects"): Probe("/projects", {"name": "Mine"}, 201),
    ("GET", "/projects"): Probe("/projects", None, 200),
    ("GET", "/projects/{id}"): Probe("/projects/{project}", None, 200),
    ("PATCH", "/projects/{id}"): Probe("/projects/{project}", {"version": 1, "name": "Renamed"}, 200),
    ("DELETE", "/projects/{id}"): Probe("/projects/{project}", None, 204),
    ("POST", "/projects/{id}/transfer"): Probe("/projects/{project}/transfer", {"userId": "{target}"}, 200),
    ("POST", "/projects/{id}/invitations"): Probe(
        "/projects/{project}/invitations", {"email": "new@example.com", "role": TARGET_ROLE.value}, 202
    ),
    ("GET", "/projects/{id}/members"): Probe("/projects/{project}/members", None, 200),
    ("GET", "/projects/{id}/activity"): Probe("/projects/{project}/activity", None, 200),
    ("PATCH", "/projects/{id}/members/{userId}"): Probe(
        "/projects/{project}/members/{target}", {"role": TARGET_ROLE.value}, 200
    ),
    ("DELETE", "/projects/{id}/members/{userId}"): Probe("/projects/{project}/members/{target}", None, 204),
    ("GET", "/invitations"): Probe("/invitations", None, 200),
    # The matrix's invitation is addressed to someone else: for every caller it is somebody else's, so 404.
    ("POST", "/invitations/{id}/accept"): Probe("/invitations/{invitation}/accept", None, 200),
    ("POST", "/invitations/{id}/decline"): Probe("/invitations/{invitation}/decline", None, 204),
}


def _project_routes() -> set[tuple[str, str]]:
    return {
        (route.method, route.resource) for route in template_routes() if route.resource.startswith(PROJECT_PREFIXES)
    }


def test_every_project_route_in_the_template_has_a_policy_entry_and_a_probe() -> None:
    routes = _project_routes()
    assert routes == set(policy.ROUTES), "a project/invitation route needs an entry in taskapp.domain.policy.ROUTES"
    assert routes == set(PROBES), "a project/invitation route needs a Probe in this matrix"


def test_every_action_is_either_unscoped_or_has_a_minimum_role() -> None:
    for action in Action:
        assert (action in policy.UNSCOPED) != (action in policy.MINIMUM_ROLE), action


def test_the_policy_table_says_what_the_issue_says() -> None:
    assert policy.MINIMUM_ROLE[Action.COMMENT_CREATE] is ProjectRole.VIEWER  # viewers read and comment
    assert policy.MINIMUM_ROLE[Action.TASK_CREATE] is ProjectRole.MEMBER  # members create and edit tasks
    assert policy.MINIMUM_ROLE[Action.TASK_UPDATE] is ProjectRole.MEMBER
    assert policy.MINIMUM_ROLE[Action.INVITATION_CREATE] is ProjectRole.ADMIN  # admins manage members
    assert policy.MINIMUM_ROLE[Action.MEMBER_REMOVE] is ProjectRole.ADMIN
    assert policy.MINIMUM_ROLE[Action.PROJECT_ARCHIVE] is ProjectRole.OWNER  # only the owner deletes/transfers
    assert policy.MINIMUM_ROLE[Action.PROJECT_TRANSFER] is ProjectRole.OWNER


@pytest.mark.parametrize("actor", list(ProjectRole))
@pytest.mark.parametrize("role", list(ProjectRole))
def test_nobody_grants_ownership_or_more_than_their_own_role(actor: ProjectRole, role: ProjectRole) -> None:
    expected = role is not ProjectRole.OWNER and policy.RANK[role] <= policy.RANK[actor]
    assert policy.may_grant(actor, role) is expected


@pytest.mark.parametrize("role", list(ProjectRole))
def test_everyone_may_leave_but_the_owner(role: ProjectRole) -> None:
    assert policy.may_remove(role, role, is_self=True) is (role is not ProjectRole.OWNER)


def test_only_strictly_lower_roles_are_managed() -> None:
    assert policy.may_manage(ProjectRole.ADMIN, ProjectRole.MEMBER)
    assert not policy.may_manage(ProjectRole.ADMIN, ProjectRole.ADMIN)
    assert not policy.may_manage(ProjectRole.ADMIN, ProjectRole.OWNER)
    assert policy.may_manage(ProjectRole.OWNER, ProjectRole.ADMIN)


def test_writes_are_every_scoped_action_but_the_reads() -> None:
    assert not policy.is_write(Action.PROJECT_READ) and not policy.is_write(Action.PROJECT_LIST)
    assert policy.is_write(Action.PROJECT_UPDATE) and policy.is_write(Action.MEMBER_LEAVE)


# --- the matrix -------------------------------------------------------------------------------------------------


def _rules_allow(action: Action, role: ProjectRole) -> bool:
    """The policy's rules about whom an action touches, for the matrix's target (a viewer) and granted role."""
    if action is Action.MEMBER_CHANGE_ROLE:
        return policy.may_manage(role, TARGET_ROLE) and policy.may_grant(role, TARGET_ROLE)
    if action is Action.MEMBER_REMOVE:
        return policy.may_remove(role, TARGET_ROLE, is_self=False)
    if action is Action.INVITATION_CREATE:
        return policy.may_grant(role, TARGET_ROLE)
    return True


def _expected(route: tuple[str, str], identity: str) -> int:
    """The status the policy promises this identity on this route (the matrix's oracle)."""
    action = policy.ROUTES[route]
    if action is Action.INVITATION_RESPOND:
        return 404  # the matrix's invitation belongs to someone else
    if action in policy.UNSCOPED:
        return PROBES[route].allowed_status
    role = ROLE_OF.get(identity)
    if role is None:
        return 404  # not a member (never was, or removed): exactly like a missing project
    if not (policy.role_allows(role, action) and _rules_allow(action, role)):
        return 403
    return PROBES[route].allowed_status


def _seed() -> dict[str, str]:
    """A project with one user per identity (tokens minted: no account needed), a target viewer and an invitation
    addressed to someone outside the matrix. Returns user ids and the project and invitation ids."""
    from taskapp.data import projects as store
    from taskapp.domain import projects
    from taskapp.domain.records.projects import Member, ProjectEvent
    from taskapp.schemas.projects import CreateProjectRequest, InviteRequest

    ids = {identity: str(uuid.uuid4()) for identity in (*IDENTITIES, "target")}
    project = projects.create_project(ids["owner"], CreateProjectRequest(name="Matrix"))
    now = datetime.now(UTC)
    for identity, role in (
        ("admin", "admin"),
        ("member", "member"),
        ("viewer", "viewer"),
        ("target", TARGET_ROLE.value),
        ("removed member", "member"),
    ):
        store.member_to_model(Member(project.id, ids[identity], role, None, now)).save()
    removal = ProjectEvent(
        "e-1", "member.removed", project.id, ids["owner"], now, subject_user_id=ids["removed member"]
    )
    store.remove_member(Member(project.id, ids["removed member"], "member", None, now), removal)
    invitation = projects.invite(ids["owner"], project.id, InviteRequest(email=INVITEE, role=ProjectRole.MEMBER))
    return {**ids, "project": project.id, "invitation": invitation.id}


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(project=ids["project"], target=ids["target"], invitation=ids["invitation"])
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


MATRIX = [(route, identity) for route in sorted(PROBES) for identity in IDENTITIES]


@pytest.mark.usefixtures("client")
@pytest.mark.parametrize(("route", "identity"), MATRIX, ids=[f"{m} {p} as {i}" for (m, p), i in MATRIX])
def test_authorization_matrix(client: ApiClient, route: tuple[str, str], identity: str) -> None:
    ids = _seed()
    probe = PROBES[route]
    token = mint_access_token(JWT_SECRET, sub=ids[identity])
    answer = client.request(route[0], _fill(probe.path, ids), token=token, json_body=_fill(probe.body, ids))
    expected = _expected(route, identity)
    assert answer.status_code == expected, answer.body
    if expected == 403:
        assert_error(answer.json(), "FORBIDDEN")
    elif expected == 404:
        assert_error(answer.json())
