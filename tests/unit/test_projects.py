"""Shared projects through the real handlers: projects, invitations, members, transfer; happy and error paths."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.api_client import ApiClient, ApiResponse
from tests.unit.conftest import Account, SetSetting
from tests.unit.helpers import assert_error


def _error(response: ApiResponse, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.body
    return assert_error(response.json(), code)


def _create(client: ApiClient, owner: Account, name: str = "Launch", **fields: Any) -> dict[str, Any]:
    created = client.post("/projects", token=owner.access_token, json_body={"name": name, **fields})
    assert created.status_code == 201, created.body
    return dict(created.json())


def _invite(client: ApiClient, actor: Account, project_id: str, email: str, role: str = "member") -> ApiResponse:
    return client.post(
        f"/projects/{project_id}/invitations", token=actor.access_token, json_body={"email": email, "role": role}
    )


def _join(client: ApiClient, actor: Account, project_id: str, invitee: Account, role: str = "member") -> None:
    """Invite and accept: the invitee becomes a member with `role`."""
    invited = _invite(client, actor, project_id, invitee.email, role)
    assert invited.status_code == 202, invited.body
    accepted = client.post(f"/invitations/{invited.json()['id']}/accept", token=invitee.access_token)
    assert accepted.status_code == 200, accepted.body


def _members(client: ApiClient, caller: Account, project_id: str) -> dict[str, str]:
    listed = client.get(f"/projects/{project_id}/members", token=caller.access_token)
    assert listed.status_code == 200, listed.body
    return {item["userId"]: item["role"] for item in listed.json()["items"]}


# --- projects ---------------------------------------------------------------------------------------------------


def test_create_project_makes_the_caller_its_owner(client: ApiClient, alice: Account) -> None:
    created = client.post(
        "/projects", token=alice.access_token, json_body={"name": "  Launch  ", "description": "Q1 launch"}
    )
    assert created.status_code == 201, created.body
    body = created.json()
    assert created.headers["Location"] == f"/projects/{body['id']}"
    assert body["name"] == "Launch" and body["description"] == "Q1 launch"
    assert body["role"] == "owner" and body["ownerId"] == alice.user_id
    assert body["archived"] is False and body["memberCount"] == 1 and body["version"] == 1
    fetched = client.get(f"/projects/{body['id']}", token=alice.access_token)
    assert fetched.status_code == 200 and fetched.json() == body
    assert _members(client, alice, body["id"]) == {alice.user_id: "owner"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 101},
        {"name": "ok", "description": "d" * 2001},
        {"name": 5},
        {"name": "ok", "ownerId": "someone"},
    ],
)
def test_create_project_refuses_invalid_bodies(client: ApiClient, caller: Account, body: dict[str, Any]) -> None:
    _error(client.post("/projects", token=caller.access_token, json_body=body), 400, "VALIDATION_ERROR")


def test_list_projects_shows_the_callers_projects_with_their_role_newest_first(
    client: ApiClient, alice: Account, bob: Account
) -> None:
    first = _create(client, alice, "First")
    second = _create(client, alice, "Second")
    bobs = _create(client, bob, "Bob's")
    _join(client, bob, bobs["id"], alice, "viewer")
    listed = client.get("/projects", token=alice.access_token)
    assert listed.status_code == 200, listed.body
    assert [(p["id"], p["role"]) for p in listed.json()["items"]] == [
        (bobs["id"], "viewer"),
        (second["id"], "owner"),
        (first["id"], "owner"),
    ]
    assert [p["id"] for p in client.get("/projects", token=bob.access_token).json()["items"]] == [bobs["id"]]


def test_list_projects_pages_with_a_cursor_bound_to_the_caller(client: ApiClient, alice: Account, bob: Account) -> None:
    ids = [_create(client, alice, f"P{n}")["id"] for n in range(3)]
    page = client.get("/projects", token=alice.access_token, query={"limit": "2"}).json()
    assert len(page["items"]) == 2 and page["nextToken"]
    rest = client.get("/projects", token=alice.access_token, query={"limit": "2", "nextToken": page["nextToken"]})
    assert [p["id"] for p in page["items"] + rest.json()["items"]] == ids[::-1]
    stolen = client.get("/projects", token=bob.access_token, query={"nextToken": page["nextToken"]})
    _error(stolen, 400, "INVALID_CURSOR")
    other_filter = client.get(
        "/projects", token=alice.access_token, query={"archived": "true", "nextToken": page["nextToken"]}
    )
    _error(other_filter, 400, "INVALID_CURSOR")


@pytest.mark.parametrize(
    "query", [{"archived": "yes"}, {"archived": "1"}, {"limit": "0"}, {"limit": "101"}, {"lmit": "5"}]
)
def test_list_projects_refuses_bad_query_strings(client: ApiClient, caller: Account, query: dict[str, str]) -> None:
    _error(client.get("/projects", token=caller.access_token, query=query), 400)


def test_update_project_with_optimistic_version(client: ApiClient, alice: Account) -> None:
    project = _create(client, alice)
    path = f"/projects/{project['id']}"
    updated = client.patch(path, token=alice.access_token, json_body={"version": 1, "name": "Renamed"})
    assert updated.status_code == 200, updated.body
    assert updated.json()["name"] == "Renamed" and updated.json()["version"] == 2
    assert updated.json()["description"] == ""
    stale = client.patch(path, token=alice.access_token, json_body={"version": 1, "description": "late"})
    assert _error(stale, 409, "VERSION_CONFLICT")["details"] == {"currentVersion": 2}
    _error(client.patch(path, token=alice.access_token, json_body={"name": "no version"}), 400)
    _error(client.patch(path, token=alice.access_token, json_body={"version": 2, "name": None}), 400)


def test_archiving_makes_the_project_read_only_and_hides_it_from_default_lists(
    client: ApiClient, alice: Account, bob: Account
) -> None:
    project = _create(client, alice)
    _join(client, alice, project["id"], bob, "admin")
    path = f"/projects/{project['id']}"
    assert client.delete(path, token=alice.access_token).status_code == 204
    # Reads still work for members; the project says it is archived.
    fetched = client.get(path, token=bob.access_token)
    assert fetched.status_code == 200 and fetched.json()["archived"] is True
    assert client.get(f"{path}/members", token=bob.access_token).status_code == 200
    # Out of every member's default list, back with ?archived=true.
    for account in (alice, bob):
        assert client.get("/projects", token=account.access_token).json()["items"] == []
        listed = client.get("/projects", token=account.access_token, query={"archived": "true"}).json()["items"]
        assert [p["id"] for p in listed] == [project["id"]]
    # Every write is a 409 PROJECT_ARCHIVED.
    writes = [
        client.patch(path, token=alice.access_token, json_body={"version": fetched.json()["version"], "name": "x"}),
        client.delete(path, token=alice.access_token),
        _invite(client, alice, project["id"], "carol@example.com"),
        client.patch(f"{path}/members/{bob.user_id}", token=alice.access_token, json_body={"role": "member"}),
        client.delete(f"{path}/members/{bob.user_id}", token=alice.access_token),
        client.post(f"{path}/transfer", token=alice.access_token, json_body={"userId": bob.user_id}),
    ]
    for answer in writes:
        _error(answer, 409, "PROJECT_ARCHIVED")


def test_an_invitation_pending_when_the_project_is_archived_cannot_be_accepted(
    client: ApiClient, alice: Account, bob: Account
) -> None:
    project = _create(client, alice)
    invitation = _invite(client, alice, project["id"], bob.email).json()
    assert client.delete(f"/projects/{project['id']}", token=alice.access_token).status_code == 204
    _error(client.post(f"/invitations/{invitation['id']}/accept", token=bob.access_token), 409, "PROJECT_ARCHIVED")


def test_only_the_owner_archives(client: ApiClient, alice: Account, bob: Account) -> None:
    project = _create(client, alice)
    _join(client, alice, project["id"], bob, "admin")
    _error(client.delete(f"/projects/{project['id']}", token=bob.access_token), 403, "FORBIDDEN")


# --- hostile input ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/projects/not-a-uuid"),
        ("PATCH", "/projects/123"),
        ("DELETE", "/projects/..%2F..%2Fetc"),
        ("GET", "/projects/not-a-uuid/members"),
        # Fixed ids: a test's parameters must be the same in every pytest-xdist worker that collects it.
        ("PATCH", "/projects/8d770b10-ab55-45ed-b2bf-8c8e8351aa51/members/not-a-uuid"),
        ("DELETE", "/projects/eb0054f7-8ede-4fad-967c-d9ecf87d8775/members/1"),
        ("POST", "/projects/x/invitations"),
        ("POST", "/projects/x/transfer"),
        ("POST", "/invitations/not-a-uuid/accept"),
        ("POST", "/invitations/1/decline"),
    ],
)
def test_ids_that_are_not_uuids_are_a_400(client: ApiClient, caller: Account, method: str, path: str) -> None:
    body = {"version": 1, "name": "x"} if method == "PATCH" else None
    _error(client.request(method, path, token=caller.access_token, json_body=body), 400)


def test_a_second_user_probing_ids_gets_404_exactly_like_a_missing_project(
    client: ApiClient, alice: Account, bob: Account
) -> None:
    project = _create(client, alice)
    missing = str(uuid.uuid4())
    for project_id in (project["id"], missing):
        answer = client.get(f"/projects/{project_id}", token=bob.access_token)
        assert _error(answer, 404, "NOT_FOUND") == {
            "code": "NOT_FOUND",
            "message": "Project not found",
            "details": {"id": project_id},
        }
    probed = client.get(f"/projects/{project['id']}/members", token=bob.access_token)
    nowhere = client.get(f"/projects/{missing}/members", token=bob.access_token)
    assert probed.status_code == nowhere.status_code == 404
    assert probed.json()["error"]["message"] == nowhere.json()["error"]["message"]


def test_a_member_cursor_cannot_page_another_project(client: ApiClient, alice: Account, bob: Account) -> None:
    first, second = _create(client, alice, "A"), _create(client, alice, "B")
    _join(client, alice, first["id"], bob)
    page = client.get(f"/projects/{first['id']}/members", token=alice.access_token, query={"limit": "1"}).json()
    assert page["nextToken"]
    replayed = client.get(
        f"/projects/{second['id']}/members", token=alice.access_token, query={"nextToken": page["nextToken"]}
    )
    _error(replayed, 400, "INVALID_CURSOR")


# --- invitations ------------------------------------------------------------------------------------------------


def test_inviting_answers_202_whether_or_not_the_email_is_registered(
    client: ApiClient, alice: Account, bob: Account
) -> None:
    project = _create(client, alice)
    known = _invite(client, alice, project["id"], bob.email)
    unknown = _invite(client, alice, project["id"], "nobody-yet@example.com")
    assert known.status_code == unknown.status_code == 202
    assert set(known.json()) == set(unknown.json()) == {"id", "projectId", "email", "role", "expiresAt"}
    assert known.headers.keys() == unknown.headers.keys()


def test_invitee_sees_and_accepts_the_invitation(client: ApiClient, alice: Account, bob: Account) -> None:
    project = _create(client, alice, "Shared")
    invitation = _invite(client, alice, project["id"], bob.email.upper(), "viewer").json()
    listed = client.get("/invitations", token=bob.access_token)
    assert listed.status_code == 200, listed.body
    (item,) = listed.json()["items"]
    assert item["id"] == invitation["id"] and item["projectId"] == project["id"]
    assert item["projectName"] == "Shared" and item["role"] == "viewer" and item["invitedBy"] == alice.user_id
    assert client.get("/invitations", token=alice.access_token).json()["items"] == []
    accepted = client.post(f"/invitations/{invitation['id']}/accept", token=bob.access_token)
    assert accepted.status_code == 200, accepted.body
    assert accepted.json()["id"] == project["id"] and accepted.json()["role"] == "viewer"
    assert accepted.json()["memberCount"] == 2
    assert client.get("/invitations", token=bob.access_token).json()["items"] == []
    assert _members(client, alice, project["id"]) == {alice.user_id: "owner", bob.user_id: "viewer"}
    again = client.post(f"/invitations/{invitation['id']}/accept", token=bob.access_token)
    _error(again, 404, "INVITATION_NOT_FOUND")


def test_an_invitation_sent_before_registering_is_there_after_registering(
    client: ApiClient, alice: Account, new_account: Callable[..., Account]
) -> None:
    project = _create(client, alice)
    email = f"later-{uuid.uuid4().hex[:8]}@example.com"
    assert _invite(client, alice, project["id"], email).status_code == 202
    carol = new_account(email=email.upper(), name="Carol")
    (item,) = client.get("/invitations", token=carol.access_token).json()["items"]
    assert client.post(f"/invitations/{item['id']}/accept", token=carol.access_token).status_code == 200
    assert _members(client, alice, project["id"])[carol.user_id] == "member"


def test_someone_else_cannot_accept_or_decline_an_invitation(
    client: ApiClient, alice: Account, bob: Account, new_account: Callable[..., Account]
) -> None:
    project = _create(client, alice)
    invitation = _invite(client, alice, project["id"], bob.email).json()
    mallory = new_account(name="Mallory")
    for verb in ("accept", "decline"):
        _error(client.post(f"/invitations/{invitation['id']}/{verb}", token=mallory.access_token), 404)
        _error(client.post(f"/invitations/{invitation['id']}/{verb}", token=alice.access_token), 404)
    assert [i["id"] for i in client.get("/invitations", token=bob.access_token).json()["items"]] == [invitation["id"]]


def test_declining_removes_the_invitation(client: ApiClient, alice: Account, bob: Account) -> None:
    project = _create(client, alice)
    invitation = _invite(client, alice, project["id"], bob.email).json()
    assert client.post(f"/invitations/{invitation['id']}/decline", token=bob.access_token).status_code == 204
    assert client.get("/invitations", token=bob.access_token).json()["items"] == []
    _error(client.post(f"/invitations/{invitation['id']}/accept", token=bob.access_token), 404)
    _error(client.get(f"/projects/{project['id']}", token=bob.access_token), 404)


def test_reinviting_refreshes_the_same_invitation(client: ApiClient, alice: Account, bob: Account) -> None:
    project = _create(client, alice)
    first = _invite(client, alice, project["id"], bob.email, "viewer").json()
    second = _invite(client, alice, project["id"], bob.email, "member").json()
    assert second["id"] == first["id"] and second["expiresAt"] >= first["expiresAt"]
    (item,) = client.get("/invitations", token=bob.access_token).json()["items"]
    assert item["role"] == "member"


def test_expired_invitations_are_hidden_and_refused_before_ttl_deletes_them(
    client: ApiClient, alice: Account, bob: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskapp.domain import projects

    project = _create(client, alice)
    invitation = _invite(client, alice, project["id"], bob.email).json()
    later = time.time() + projects.INVITATION_TTL_SECONDS + 1
    monkeypatch.setattr(projects.time, "time", lambda: later)
    assert client.get("/invitations", token=bob.access_token).json()["items"] == []
    for verb in ("accept", "decline"):
        _error(
            client.post(f"/invitations/{invitation['id']}/{verb}", token=bob.access_token), 409, "INVITATION_EXPIRED"
        )
    # The item is still stored (TTL has not run) but it no longer counts as pending, and re-inviting is a new one.
    fresh = _invite(client, alice, project["id"], bob.email)
    assert fresh.status_code == 202 and fresh.json()["id"] != invitation["id"]


def test_expiry_is_the_tables_ttl_attribute() -> None:
    from tests.support.api_client import load_template

    props = load_template()["Resources"]["ProjectsTable"]["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}


def test_accepting_twice_through_two_invitations_is_already_member(
    client: ApiClient, alice: Account, bob: Account
) -> None:
    project = _create(client, alice)
    _join(client, alice, project["id"], bob)
    again = _invite(client, alice, project["id"], bob.email).json()
    _error(client.post(f"/invitations/{again['id']}/accept", token=bob.access_token), 409, "ALREADY_MEMBER")


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "role": "member"},
        {"email": "a@b.co"},
        {"email": "a@b.co", "role": "superuser"},
        {"email": "a@b.co", "role": "member", "x": 1},
    ],
)
def test_invitation_bodies_are_validated(client: ApiClient, alice: Account, body: dict[str, Any]) -> None:
    project = _create(client, alice)
    answer = client.post(f"/projects/{project['id']}/invitations", token=alice.access_token, json_body=body)
    _error(answer, 400, "VALIDATION_ERROR")


# --- limits -----------------------------------------------------------------------------------------------------


def test_pending_invitation_limit(client: ApiClient, alice: Account, set_setting: SetSetting) -> None:
    set_setting("PROJECT_INVITATION_LIMIT", "2")
    project = _create(client, alice)
    assert _invite(client, alice, project["id"], "one@example.com").status_code == 202
    assert _invite(client, alice, project["id"], "two@example.com").status_code == 202
    refused = _invite(client, alice, project["id"], "three@example.com")
    assert _error(refused, 409, "LIMIT_REACHED")["details"] == {"limit": 2, "of": "pending invitations"}
    # Refreshing one already pending is not a new one.
    assert _invite(client, alice, project["id"], "two@example.com").status_code == 202


def test_member_limit(
    client: ApiClient, alice: Account, bob: Account, new_account: Callable[..., Account], set_setting: SetSetting
) -> None:
    project = _create(client, alice)
    carol = new_account(name="Carol")
    bobs = _invite(client, alice, project["id"], bob.email).json()
    carols = _invite(client, alice, project["id"], carol.email).json()
    set_setting("PROJECT_MEMBER_LIMIT", "2")
    assert client.post(f"/invitations/{bobs['id']}/accept", token=bob.access_token).status_code == 200
    refused = client.post(f"/invitations/{carols['id']}/accept", token=carol.access_token)
    assert _error(refused, 409, "LIMIT_REACHED")["details"] == {"limit": 2, "of": "members"}
    _error(_invite(client, alice, project["id"], "dave@example.com"), 409, "LIMIT_REACHED")
    # Room again once someone leaves.
    left = client.delete(f"/projects/{project['id']}/members/{bob.user_id}", token=bob.access_token)
    assert left.status_code == 204
    assert client.post(f"/invitations/{carols['id']}/accept", token=carol.access_token).status_code == 200


def test_limits_are_template_parameters() -> None:
    from tests.support.api_client import load_template

    template = load_template()
    assert template["Parameters"]["ProjectMemberLimit"]["Default"] == 1000
    assert template["Parameters"]["ProjectInvitationLimit"]["Default"] == 100
    for function in ("InviteMemberFunction", "AcceptInvitationFunction"):
        variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert variables["PROJECT_MEMBER_LIMIT"] == {"Ref": "ProjectMemberLimit"}
        assert variables["PROJECT_INVITATION_LIMIT"] == {"Ref": "ProjectInvitationLimit"}


# --- members, roles, transfer -----------------------------------------------------------------------------------


@pytest.fixture
def team(client: ApiClient, alice: Account, bob: Account, new_account: Callable[..., Account]) -> dict[str, Any]:
    """Alice owns a project; Bob is admin, Carol member, Dave viewer."""
    project = _create(client, alice)
    carol, dave = new_account(name="Carol"), new_account(name="Dave")
    _join(client, alice, project["id"], bob, "admin")
    _join(client, alice, project["id"], carol, "member")
    _join(client, alice, project["id"], dave, "viewer")
    return {"id": project["id"], "owner": alice, "admin": bob, "member": carol, "viewer": dave}


def _role(client: ApiClient, team: dict[str, Any], actor: str, target: str, role: str) -> ApiResponse:
    return client.patch(
        f"/projects/{team['id']}/members/{team[target].user_id}",
        token=team[actor].access_token,
        json_body={"role": role},
    )


def test_members_list_is_cursor_paged(client: ApiClient, team: dict[str, Any]) -> None:
    seen: dict[str, str] = {}
    token: str | None = None
    while True:
        query = {"limit": "3", **({"nextToken": token} if token else {})}
        page = client.get(f"/projects/{team['id']}/members", token=team["viewer"].access_token, query=query).json()
        seen.update({item["userId"]: item["role"] for item in page["items"]})
        assert all(item["email"] for item in page["items"])
        token = page["nextToken"]
        if not token:
            break
    assert seen == {team[role].user_id: role for role in ("owner", "admin", "member", "viewer")}


def test_an_admin_changes_lower_roles_within_their_own(client: ApiClient, team: dict[str, Any]) -> None:
    promoted = _role(client, team, "admin", "viewer", "member")
    assert promoted.status_code == 200 and promoted.json()["role"] == "member"
    assert _role(client, team, "admin", "member", "admin").status_code == 200


@pytest.mark.parametrize(
    ("actor", "target", "role"),
    [
        ("admin", "member", "owner"),  # an admin promoting someone to owner
        ("owner", "member", "owner"),  # ownership moves only by transfer
        ("admin", "admin", "viewer"),  # an admin demoting themself is not "managing a lower role"
        ("admin", "owner", "viewer"),  # an admin demoting the owner
        ("member", "viewer", "member"),  # members manage nobody
        ("viewer", "viewer", "admin"),  # a viewer promoting themself
        ("owner", "owner", "admin"),  # the owner demoting themself (transfer instead)
    ],
)
def test_role_escalation_attempts_are_forbidden(
    client: ApiClient, team: dict[str, Any], actor: str, target: str, role: str
) -> None:
    _error(_role(client, team, actor, target, role), 403, "FORBIDDEN")
    assert _members(client, team["owner"], team["id"])[team[target].user_id] == target


def test_a_role_change_takes_effect_on_the_very_next_request(client: ApiClient, team: dict[str, Any]) -> None:
    path = f"/projects/{team['id']}"
    assert _role(client, team, "owner", "admin", "viewer").status_code == 200
    _error(_invite(client, team["admin"], team["id"], "x@example.com"), 403, "FORBIDDEN")
    version = client.get(path, token=team["admin"].access_token).json()["version"]
    _error(client.patch(path, token=team["admin"].access_token, json_body={"version": version, "name": "n"}), 403)
    assert _role(client, team, "owner", "admin", "admin").status_code == 200
    assert _invite(client, team["admin"], team["id"], "x@example.com").status_code == 202


def test_removal_takes_effect_at_once_and_the_removed_member_gets_404(client: ApiClient, team: dict[str, Any]) -> None:
    removed = client.delete(
        f"/projects/{team['id']}/members/{team['member'].user_id}", token=team["admin"].access_token
    )
    assert removed.status_code == 204, removed.body
    _error(client.get(f"/projects/{team['id']}", token=team["member"].access_token), 404)
    assert team["member"].user_id not in _members(client, team["owner"], team["id"])
    assert client.get(f"/projects/{team['id']}", token=team["owner"].access_token).json()["memberCount"] == 3
    assert client.get("/projects", token=team["member"].access_token).json()["items"] == []


@pytest.mark.parametrize(
    ("actor", "target"), [("admin", "admin2"), ("admin", "owner"), ("member", "viewer"), ("viewer", "member")]
)
def test_removing_an_equal_or_higher_role_or_without_admin_rights_is_forbidden(
    client: ApiClient, team: dict[str, Any], new_account: Callable[..., Account], actor: str, target: str
) -> None:
    if target == "admin2":
        team["admin2"] = new_account(name="Second admin")
        _join(client, team["owner"], team["id"], team["admin2"], "admin")
    answer = client.delete(f"/projects/{team['id']}/members/{team[target].user_id}", token=team[actor].access_token)
    _error(answer, 403, "FORBIDDEN")


@pytest.mark.parametrize("who", ["admin", "member", "viewer"])
def test_a_member_removing_themself_leaves(client: ApiClient, team: dict[str, Any], who: str) -> None:
    me = team[who]
    assert client.delete(f"/projects/{team['id']}/members/{me.user_id}", token=me.access_token).status_code == 204
    _error(client.get(f"/projects/{team['id']}", token=me.access_token), 404)


def test_the_owner_cannot_leave_without_transferring(client: ApiClient, team: dict[str, Any]) -> None:
    owner = team["owner"]
    answer = client.delete(f"/projects/{team['id']}/members/{owner.user_id}", token=owner.access_token)
    assert "transfer" in _error(answer, 403, "FORBIDDEN")["message"]


def test_removing_or_changing_someone_who_is_not_a_member_is_404(client: ApiClient, team: dict[str, Any]) -> None:
    stranger = str(uuid.uuid4())
    path = f"/projects/{team['id']}/members/{stranger}"
    _error(client.delete(path, token=team["owner"].access_token), 404, "MEMBER_NOT_FOUND")
    _error(client.patch(path, token=team["owner"].access_token, json_body={"role": "viewer"}), 404, "MEMBER_NOT_FOUND")


def test_transfer_makes_the_member_owner_and_the_old_owner_admin(client: ApiClient, team: dict[str, Any]) -> None:
    path = f"/projects/{team['id']}"
    transferred = client.post(
        f"{path}/transfer", token=team["owner"].access_token, json_body={"userId": team["member"].user_id}
    )
    assert transferred.status_code == 200, transferred.body
    assert transferred.json()["ownerId"] == team["member"].user_id and transferred.json()["role"] == "admin"
    roles = _members(client, team["member"], team["id"])
    assert roles[team["owner"].user_id] == "admin" and roles[team["member"].user_id] == "owner"
    # The new owner now archives; the old owner, now admin, may not; and the old owner may now leave.
    _error(client.delete(path, token=team["owner"].access_token), 403, "FORBIDDEN")
    assert client.delete(f"{path}/members/{team['owner'].user_id}", token=team["owner"].access_token).status_code == 204


@pytest.mark.parametrize("actor", ["admin", "member", "viewer"])
def test_only_the_owner_transfers(client: ApiClient, team: dict[str, Any], actor: str) -> None:
    answer = client.post(
        f"/projects/{team['id']}/transfer", token=team[actor].access_token, json_body={"userId": team[actor].user_id}
    )
    _error(answer, 403, "FORBIDDEN")


def test_transfer_needs_a_member_other_than_the_owner(client: ApiClient, team: dict[str, Any]) -> None:
    path = f"/projects/{team['id']}/transfer"
    owner = team["owner"]
    _error(
        client.post(path, token=owner.access_token, json_body={"userId": str(uuid.uuid4())}), 404, "MEMBER_NOT_FOUND"
    )
    _error(client.post(path, token=owner.access_token, json_body={"userId": owner.user_id}), 409, "ALREADY_OWNER")
    _error(client.post(path, token=owner.access_token, json_body={"userId": "nope"}), 400)


@pytest.mark.parametrize(("actor", "role"), [("member", "viewer"), ("viewer", "viewer"), ("admin", "owner")])
def test_inviting_needs_admin_rights_and_grants_no_more_than_the_inviters_role(
    client: ApiClient, team: dict[str, Any], actor: str, role: str
) -> None:
    _error(_invite(client, team[actor], team["id"], "newcomer@example.com", role), 403, "FORBIDDEN")


def test_a_viewer_cannot_patch_the_project(client: ApiClient, team: dict[str, Any]) -> None:
    answer = client.patch(
        f"/projects/{team['id']}", token=team["viewer"].access_token, json_body={"version": 1, "name": "mine now"}
    )
    assert _error(answer, 403, "FORBIDDEN")["details"] == {"action": "project.update", "role": "viewer"}


# --- events (the outbox items) ----------------------------------------------------------------------------------


def test_every_change_writes_its_event_in_the_same_transaction_with_the_actor(
    client: ApiClient, alice: Account, bob: Account, new_account: Callable[..., Account]
) -> None:
    from taskapp.data import projects as store
    from taskapp.schemas.events import ProjectEvent

    project = _create(client, alice)
    path = f"/projects/{project['id']}"
    carol = new_account(name="Carol")
    _join(client, alice, project["id"], bob, "admin")  # member.invited, member.joined
    bobs_second = _invite(client, bob, project["id"], carol.email, "viewer").json()  # member.invited by Bob
    assert client.post(f"/invitations/{bobs_second['id']}/decline", token=carol.access_token).status_code == 204
    assert client.patch(path, token=bob.access_token, json_body={"version": 1, "name": "Renamed"}).status_code == 200
    _join(client, bob, project["id"], carol, "viewer")
    promoted = client.patch(f"{path}/members/{carol.user_id}", token=bob.access_token, json_body={"role": "member"})
    assert promoted.status_code == 200
    assert client.delete(f"{path}/members/{carol.user_id}", token=bob.access_token).status_code == 204
    transfer = client.post(f"{path}/transfer", token=alice.access_token, json_body={"userId": bob.user_id})
    assert transfer.status_code == 200
    assert client.delete(path, token=bob.access_token).status_code == 204

    events = store.list_events(project["id"])
    assert [(e.type, e.actor_id, e.subject_user_id) for e in events] == [
        ("project.created", alice.user_id, None),
        ("member.invited", alice.user_id, None),
        ("member.joined", bob.user_id, bob.user_id),
        ("member.invited", bob.user_id, None),
        ("invitation.declined", carol.user_id, carol.user_id),
        ("project.updated", bob.user_id, None),
        ("member.invited", bob.user_id, None),
        ("member.joined", carol.user_id, carol.user_id),
        ("member.role_changed", bob.user_id, carol.user_id),
        ("member.removed", bob.user_id, carol.user_id),
        ("project.transferred", alice.user_id, bob.user_id),
        ("project.archived", bob.user_id, None),
    ]
    changed = events[8]
    assert (changed.previous_role, changed.role) == ("viewer", "member")
    assert events[1].email == bob.email and events[1].role == "admin"
    assert [e.version for e in events if e.type.startswith("project.")] == [1, 2, 3, 4]
    for event in events:  # each outbox item is a valid wire event
        ProjectEvent.model_validate(event._asdict())


def test_a_refused_change_writes_no_event(client: ApiClient, alice: Account, bob: Account) -> None:
    from taskapp.data import projects as store

    project = _create(client, alice)
    stale = client.patch(f"/projects/{project['id']}", token=alice.access_token, json_body={"version": 7, "name": "x"})
    assert stale.status_code == 409
    _error(_invite(client, bob, project["id"], "x@example.com"), 404)
    assert [e.type for e in store.list_events(project["id"])] == ["project.created"]


def test_every_list_route_reads_only_what_it_returns(
    client: ApiClient, alice: Account, bob: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No Scan and no filtered Query behind a list: ScannedCount == Count for every Query the list routes send,
    with archived projects and other users' data in the table to be skipped by keys, not by filters."""
    from pynamodb.connection.base import Connection

    archived = _create(client, alice, "Archived")
    assert client.delete(f"/projects/{archived['id']}", token=alice.access_token).status_code == 204
    shared = _create(client, alice, "Shared")
    _join(client, alice, shared["id"], bob)
    _create(client, bob, "Bob's own")
    _invite(client, alice, shared["id"], "someone-else@example.com")
    _invite(client, bob, _create(client, bob, "Another")["id"], alice.email)

    counts: list[tuple[str, int, int]] = []
    original = Connection.query

    def counting(self: Connection, table_name: str, *args: Any, **kwargs: Any) -> Any:
        page = original(self, table_name, *args, **kwargs)
        counts.append((str(kwargs.get("index_name")), page["Count"], page["ScannedCount"]))
        return page

    def scan_forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a list route scanned")

    with monkeypatch.context() as patched:  # undone before the fixtures empty the tables (with a Scan)
        patched.setattr(Connection, "query", counting)
        patched.setattr(Connection, "scan", scan_forbidden)
        listings = [
            client.get("/projects", token=alice.access_token),
            client.get("/projects", token=alice.access_token, query={"archived": "true"}),
            client.get("/projects", token=alice.access_token, query={"limit": "1"}),
            client.get(f"/projects/{shared['id']}/members", token=bob.access_token),
            client.get("/invitations", token=alice.access_token),
        ]
    assert all(answer.status_code == 200 for answer in listings)
    assert [len(answer.json()["items"]) for answer in listings] == [1, 2, 1, 2, 1]
    queries = [(index, count, scanned) for index, count, scanned in counts if index != "byUserId"]
    assert [index for index, _, _ in queries] == ["byActiveMember", "byMember", "byActiveMember", "None", "byInvitee"]
    assert all(count == scanned for _, count, scanned in queries), queries


@pytest.mark.parametrize("email", ["Bob@Example.COM", "  bob@example.com ", "ÄNN@example.com"])
def test_invitations_normalise_emails_exactly_as_accounts_do(email: str) -> None:
    from taskapp.domain import accounts, projects

    assert projects.normalize_email(email) == accounts.normalize_email(email)


def test_concurrent_acceptances_never_pass_the_member_limit(
    client: ApiClient,
    alice: Account,
    new_account: Callable[..., Account],
    set_setting: SetSetting,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The limit is a condition of the acceptance transaction (memberCount < limit), not a read before it.

    moto copies its tables to roll a transaction back, which is not thread-safe: its writes are serialised here, as
    DynamoDB serialises transactions on the same items; the reads before them still interleave freely.
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from moto.dynamodb.models import DynamoDBBackend

    from taskapp.domain import projects
    from taskapp.errors import Conflict

    one_write_at_a_time = threading.RLock()  # a transaction calls put_item and friends itself
    for name in ("transact_write_items", "put_item", "update_item", "delete_item"):
        original = getattr(DynamoDBBackend, name)

        def serialised(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with one_write_at_a_time:
                return _original(*args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, serialised)

    project = _create(client, alice)
    invitees = [new_account(name=f"Invitee {n}") for n in range(4)]
    invitations = [_invite(client, alice, project["id"], invitee.email).json()["id"] for invitee in invitees]
    set_setting("PROJECT_MEMBER_LIMIT", "3")

    def accept(pair: tuple[Account, str]) -> str:
        invitee, invitation_id = pair
        try:
            projects.accept_invitation(invitee.user_id, invitation_id)
        except Conflict as refused:
            return refused.code
        return "joined"

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = sorted(pool.map(accept, zip(invitees, invitations, strict=True)))
    assert outcomes == ["LIMIT_REACHED", "LIMIT_REACHED", "joined", "joined"]
    fetched = client.get(f"/projects/{project['id']}", token=alice.access_token).json()
    assert fetched["memberCount"] == 3 == len(_members(client, alice, project["id"]))


@pytest.mark.usefixtures("aws")
def test_the_in_process_api_creates_the_projects_table_with_its_indexes() -> None:
    """`make local-api` creates every table an env var refers to (infra/local_api/tables.py): env.local.json names
    this one, and it comes out of the template with its three GSIs."""
    import json

    import boto3

    from infra.local_api import SamTemplate
    from infra.local_api.server import process_environment
    from infra.local_api.tables import ensure_tables, table_names
    from tests.support.lambda_events import ROOT

    template = SamTemplate(ROOT / "template.yaml")
    env_file = json.loads((ROOT / "env.local.json").read_text())
    environment = process_environment(template, env_file)
    assert table_names(template, environment)["ProjectsTable"] == env_file["Parameters"]["PROJECTS_TABLE"]
    only_projects = {"PROJECTS_TABLE": f"local-api-projects-{uuid.uuid4().hex[:8]}"}
    assert ensure_tables(template, only_projects, None) == [only_projects["PROJECTS_TABLE"]]
    table = boto3.client("dynamodb").describe_table(TableName=only_projects["PROJECTS_TABLE"])["Table"]
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == {
        "byMember",
        "byActiveMember",
        "byInvitee",
    }
    boto3.client("dynamodb").delete_table(TableName=only_projects["PROJECTS_TABLE"])
