"""Shared projects over HTTP against the deployed stack: two and three real users, invitations, roles, the matrix."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.support import unique
from tests.support.http_api import Account, Api, assert_error


def _create(api: Api, owner: Account, name: str = "Shared") -> dict[str, Any]:
    created = api.call("POST", "/projects", token=owner.access_token, json={"name": name})
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"/projects/{created.json()['id']}"
    return dict(created.json())


def _invite(api: Api, actor: Account, project_id: str, email: str, role: str = "member") -> requests.Response:
    return api.call(
        "POST", f"/projects/{project_id}/invitations", token=actor.access_token, json={"email": email, "role": role}
    )


def _accept_only_invitation(api: Api, invitee: Account, project_id: str) -> dict[str, Any]:
    listed = api.call("GET", "/invitations", token=invitee.access_token)
    assert listed.status_code == 200, listed.text
    (invitation,) = [item for item in listed.json()["items"] if item["projectId"] == project_id]
    accepted = api.call("POST", f"/invitations/{invitation['id']}/accept", token=invitee.access_token)
    assert accepted.status_code == 200, accepted.text
    return dict(accepted.json())


def _roles(api: Api, caller: Account, project_id: str) -> dict[str, str]:
    listed = api.call("GET", f"/projects/{project_id}/members", token=caller.access_token)
    assert listed.status_code == 200, listed.text
    return {item["userId"]: item["role"] for item in listed.json()["items"]}


def test_invitation_after_the_invitee_registered(api: Api, alice: Account, bob: Account) -> None:
    project = _create(api, alice)
    assert _invite(api, alice, project["id"], bob.email).status_code == 202
    joined = _accept_only_invitation(api, bob, project["id"])
    assert joined["id"] == project["id"] and joined["role"] == "member"
    assert _roles(api, bob, project["id"]) == {alice.user_id: "owner", bob.user_id: "member"}
    assert project["id"] in [p["id"] for p in api.call("GET", "/projects", token=bob.access_token).json()["items"]]


def test_invitation_before_the_invitee_registered(api: Api, alice: Account) -> None:
    project = _create(api, alice)
    email = unique.email("later")
    unregistered = _invite(api, alice, project["id"], email)
    registered_elsewhere = _invite(api, alice, project["id"], api.new_account("known").email)
    assert unregistered.status_code == registered_elsewhere.status_code == 202  # no account enumeration
    assert set(unregistered.json()) == set(registered_elsewhere.json())
    assert api.register(email).status_code == 201
    pair = api.login(email).json()
    carol = Account("", email, "", pair["accessToken"], pair["refreshToken"])
    assert _accept_only_invitation(api, carol, project["id"])["role"] == "member"
    assert len(_roles(api, alice, project["id"])) == 2


def test_a_role_change_takes_effect_on_the_very_next_request(api: Api, alice: Account, bob: Account) -> None:
    project = _create(api, alice)
    api.join(alice, project["id"], bob, "admin")
    assert _invite(api, bob, project["id"], unique.email("x")).status_code == 202
    demoted = api.call(
        "PATCH", f"/projects/{project['id']}/members/{bob.user_id}", token=alice.access_token, json={"role": "viewer"}
    )
    assert demoted.status_code == 200, demoted.text
    assert_error(_invite(api, bob, project["id"], unique.email("y")), 403, "FORBIDDEN")
    removed = api.call("DELETE", f"/projects/{project['id']}/members/{bob.user_id}", token=alice.access_token)
    assert removed.status_code == 204, removed.text
    assert_error(api.call("GET", f"/projects/{project['id']}", token=bob.access_token), 404)


def _trio(api: Api) -> dict[str, Any]:
    """Three real users: an owner, an admin and a viewer of one project; plus a stranger."""
    owner, admin, viewer = api.new_account("owner"), api.new_account("admin"), api.new_account("viewer")
    project = _create(api, owner, "Trio")
    api.join(owner, project["id"], admin, "admin")
    api.join(owner, project["id"], viewer, "viewer")
    return {"id": project["id"], "owner": owner, "admin": admin, "viewer": viewer, "stranger": api.new_account("x")}


@pytest.fixture(scope="module")
def trio(api: Api) -> dict[str, Any]:
    """One trio for the whole matrix: no case below changes what another one asserts."""
    return _trio(api)


@pytest.mark.parametrize(
    "case",
    [
        ("viewer", "GET", "", None, 200),
        ("stranger", "GET", "", None, 404),
        ("stranger", "GET", "/members", None, 404),
        ("viewer", "PATCH", "", {"version": 1, "name": "viewer edit"}, 403),
        ("viewer", "POST", "/invitations", {"email": "v@example.com", "role": "viewer"}, 403),
        ("admin", "POST", "/invitations", {"email": "a@example.com", "role": "owner"}, 403),
        ("admin", "DELETE", "", None, 403),
        ("admin", "PATCH", "", {"version": 1, "name": "admin edit"}, 200),
        ("stranger", "DELETE", "", None, 404),
    ],
)
def test_the_matrix_for_a_sample_of_routes(api: Api, trio: dict[str, Any], case: tuple[Any, ...]) -> None:
    who, method, suffix, body, status = case
    answer = api.call(method, f"/projects/{trio['id']}{suffix}", token=trio[who].access_token, json=body)
    if status >= 400:
        assert_error(answer, status)
    else:
        assert answer.status_code == status, answer.text


def test_ownership_transfer_and_archiving_with_three_users(api: Api) -> None:
    trio = _trio(api)
    path = f"/projects/{trio['id']}"
    owner, admin, viewer = trio["owner"], trio["admin"], trio["viewer"]
    transferred = api.call("POST", f"{path}/transfer", token=owner.access_token, json={"userId": admin.user_id})
    assert transferred.status_code == 200, transferred.text
    roles = _roles(api, viewer, trio["id"])
    assert roles[admin.user_id] == "owner" and roles[owner.user_id] == "admin"
    assert_error(api.call("DELETE", path, token=owner.access_token), 403, "FORBIDDEN")
    assert api.call("DELETE", path, token=admin.access_token).status_code == 204
    assert_error(api.call("PATCH", path, token=admin.access_token, json={"version": 3, "name": "x"}), 409)
    assert trio["id"] not in [p["id"] for p in api.call("GET", "/projects", token=viewer.access_token).json()["items"]]
    with_archived = api.call("GET", "/projects", token=viewer.access_token, params={"archived": "true"}).json()
    assert trio["id"] in [p["id"] for p in with_archived["items"]]
