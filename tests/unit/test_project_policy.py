"""The project policy: its table, its special rules, and the authorization matrix over every project route.

The matrix is generated: the routes come from template.yaml, each route's action from `policy.ROUTES`, each
expected status from `policy.MINIMUM_ROLE` and the rules next to it. A new project, invitation, task or comment
route without a policy entry (or without a request below to exercise it) fails here. The task and comment routes are
probed on a project task created by the member who is then removed (so "removed member" is also the task's creator,
found under their own key, and everyone else finds it by id).
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

PROJECT_PREFIXES = ("/projects", "/invitations", "/tasks")
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
    query: dict[str, str] | None = None


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
    ("POST", "/tasks"): Probe("/tasks", {"title": "In the project", "projectId": "{project}"}, 201),
    ("GET", "/tasks"): Probe("/tasks", None, 200, {"projectId": "{project}"}),
    ("GET", "/tasks/{id}"): Probe("/tasks/{task}", None, 200),
    ("PATCH", "/tasks/{id}"): Probe("/tasks/{task}", {"version": 1, "title": "Edited"}, 200),
    ("DELETE", "/tasks/{id}"): Probe("/tasks/{task}", None, 204),
    # Personal tasks only: any signed-in caller ingests into their own list.
    ("POST", "/tasks/ingest"): Probe("/tasks/ingest", {"tasks": [{"title": "Mine"}]}, 202),
    # On a task of the matrix's project: each identity edits its own comment and deletes the target's.
    ("POST", "/tasks/{id}/comments"): Probe("/tasks/{task}/comments", {"body": "Looks good"}, 201),
    ("GET", "/tasks/{id}/comments"): Probe("/tasks/{task}/comments", None, 200),
    ("PATCH", "/tasks/{id}/comments/{commentId}"): Probe(
        "/tasks/{task}/comments/{own_comment}", {"body": "Edited", "version": 1}, 200
    ),
    ("DELETE", "/tasks/{id}/comments/{commentId}"): Probe("/tasks/{task}/comments/{target_comment}", None, 204),
}
COMMENT_ROUTES = {route for route in PROBES if route[1].startswith("/tasks/{id}/comments")}


def _project_routes() -> set[tuple[str, str]]:
    """Every route under the matrix's prefixes, in the template."""
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
    if action is Action.COMMENT_EDIT_OWN:
        return policy.may_edit_comment(is_author=True)
    if action is Action.COMMENT_DELETE_ANY:
        return policy.may_delete_comment(role, is_author=False)
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
    from taskapp.domain import projects, tasks
    from taskapp.domain.records.projects import Member, ProjectEvent
    from taskapp.schemas.projects import CreateProjectRequest, InviteRequest
    from taskapp.schemas.tasks import CreateTaskRequest

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
    task = tasks.create_task(ids["removed member"], CreateTaskRequest(title="Shared", project_id=project.id))
    removal = ProjectEvent(
        "e-1", "member.removed", project.id, ids["owner"], now, subject_user_id=ids["removed member"]
    )
    store.remove_member(Member(project.id, ids["removed member"], "member", None, now), removal)
    invitation = projects.invite(ids["owner"], project.id, InviteRequest(email=INVITEE, role=ProjectRole.MEMBER))
    return {**ids, "project": project.id, "invitation": invitation.id, "task": task.id}


def _seed_comments(ids: dict[str, str], identity: str) -> dict[str, str]:
    """A task of the matrix's project, a comment by the acting identity and one by the target (written straight to
    the store: a non-member's or a removed member's comment is refused by the task, not by its author)."""
    from taskapp.data import comments as store
    from taskapp.data import tasks as tasks_store
    from taskapp.domain.records.comments import Comment

    task = tasks_store.get_task(ids["removed member"], ids["task"])
    assert task is not None
    now = datetime.now(UTC)
    comment_ids = {}
    for name, author in (("own_comment", ids[identity]), ("target_comment", ids["target"])):
        comment_id = uuid.uuid4().hex
        store.create_comment(
            Comment(
                comment_id, task.task_id, task.owner_id, task.project_id, author, "Hi", frozenset(), now, now, 1, author
            )
        )
        comment_ids[name] = comment_id
    return {**ids, "task": task.task_id, **comment_ids}


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(
            project=ids["project"],
            target=ids["target"],
            invitation=ids["invitation"],
            task=ids.get("task", ""),
            own_comment=ids.get("own_comment", ""),
            target_comment=ids.get("target_comment", ""),
        )
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


MATRIX = [(route, identity) for route in sorted(PROBES) for identity in IDENTITIES]


@pytest.fixture
def no_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    """POST /tasks/ingest would produce to Kafka: unit tests keep it in the process."""
    from taskapp.domain import ingest_accept

    monkeypatch.setattr(ingest_accept, "produce_all", lambda records: None)


@pytest.mark.usefixtures("client", "no_kafka")
@pytest.mark.parametrize(("route", "identity"), MATRIX, ids=[f"{m} {p} as {i}" for (m, p), i in MATRIX])
def test_authorization_matrix(client: ApiClient, route: tuple[str, str], identity: str) -> None:
    ids = _seed()
    if route in COMMENT_ROUTES:
        ids = _seed_comments(ids, identity)
    probe = PROBES[route]
    token = mint_access_token(JWT_SECRET, sub=ids[identity])
    answer = client.request(
        route[0], _fill(probe.path, ids), token=token, json_body=_fill(probe.body, ids), query=_fill(probe.query, ids)
    )
    expected = _expected(route, identity)
    assert answer.status_code == expected, answer.body
    if expected == 403:
        assert_error(answer.json(), "FORBIDDEN")
    elif expected == 404:
        assert_error(answer.json())
