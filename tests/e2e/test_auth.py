"""Registration, login, refresh rotation with reuse detection and logout, over HTTP against the deployed stack."""

from __future__ import annotations

import pytest
import requests

from tests.support import unique
from tests.support.http_api import PASSWORD, Account, Api, assert_error

pytestmark = pytest.mark.e2e


def test_register_returns_the_user_without_any_password_material(api: Api) -> None:
    email = unique.email("reg")

    response = api.register(f"  {email.upper()} ", name="Ada Lovelace")

    assert response.status_code == 201, response.text
    user = response.json()
    assert set(user) == {"id", "name", "email", "createdAt"}
    assert user["email"] == email  # normalised: trimmed and lower-cased
    assert user["name"] == "Ada Lovelace"
    assert PASSWORD not in response.text and "$2" not in response.text


def test_the_same_email_in_any_case_is_409(api: Api) -> None:
    email = unique.email("dup")
    assert api.register(email).status_code == 201

    assert_error(api.register(email.upper(), name="Someone Else"), 409, "EMAIL_TAKEN")


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Ada", "email": "ada@example.com", "password": "short"},
        {"name": "Ada", "email": "not-an-email", "password": PASSWORD},
        {"name": "Ada", "email": "ada@example.com"},
        {"name": "Ada", "email": "ada@example.com", "password": PASSWORD, "role": "admin"},
        {"name": 42, "email": "ada@example.com", "password": PASSWORD},
        {"name": "Ada", "email": "ada@example.com", "password": "x" * 73},
    ],
    ids=["short-password", "bad-email", "missing-password", "unknown-field", "wrong-type", "over-72-bytes"],
)
def test_invalid_registrations_are_400_with_details(api: Api, body: dict[str, object]) -> None:
    error = assert_error(api.call("POST", "/auth/register", json=body), 400, "VALIDATION_ERROR")
    assert error["details"], "a validation error names the offending field"


def test_login_returns_a_bearer_token_pair(api: Api) -> None:
    email = unique.email("login")
    assert api.register(email).status_code == 201

    response = api.login(email.upper())

    assert response.status_code == 200, response.text
    pair = response.json()
    assert set(pair) == {"accessToken", "refreshToken", "expiresIn", "tokenType"}
    assert pair["tokenType"] == "Bearer"
    assert isinstance(pair["expiresIn"], int) and pair["expiresIn"] > 0
    assert api.call("GET", "/tasks", token=pair["accessToken"]).status_code == 200


def test_unknown_email_and_wrong_password_get_the_same_401(api: Api) -> None:
    email = unique.email("enum")
    assert api.register(email).status_code == 201

    wrong_password = assert_error(api.login(email, "not-the-password"), 401, "INVALID_CREDENTIALS")
    unknown_email = assert_error(api.login(unique.email("nobody")), 401, "INVALID_CREDENTIALS")

    assert wrong_password == unknown_email


def _refresh(api: Api, refresh_token: str) -> requests.Response:
    return api.call("POST", "/auth/refresh", json={"refreshToken": refresh_token})


def test_refresh_rotates_and_the_new_pair_works(api: Api, alice: Account) -> None:
    response = _refresh(api, alice.refresh_token)

    assert response.status_code == 200, response.text
    pair = response.json()
    assert pair["refreshToken"] != alice.refresh_token
    assert pair["accessToken"] != alice.access_token
    assert api.call("GET", "/tasks", token=pair["accessToken"]).status_code == 200
    again = _refresh(api, pair["refreshToken"])
    assert again.status_code == 200, again.text


def test_reusing_a_rotated_refresh_token_revokes_the_whole_session(api: Api, alice: Account) -> None:
    rotated = _refresh(api, alice.refresh_token)
    assert rotated.status_code == 200, rotated.text
    legitimate_successor = rotated.json()["refreshToken"]

    assert_error(_refresh(api, alice.refresh_token), 401, "REFRESH_TOKEN_REUSED")

    # The theft is detected: the successor dies with its family, and stays dead.
    assert_error(_refresh(api, legitimate_successor), 401, "INVALID_REFRESH_TOKEN")
    assert_error(_refresh(api, alice.refresh_token), 401)


def test_an_unknown_refresh_token_is_401_and_a_malformed_request_400(api: Api) -> None:
    assert_error(_refresh(api, "never-issued-token"), 401, "INVALID_REFRESH_TOKEN")
    assert_error(api.call("POST", "/auth/refresh", json={}), 400, "VALIDATION_ERROR")
    assert_error(api.call("POST", "/auth/refresh", json={"refreshToken": 7}), 400, "VALIDATION_ERROR")


def test_logout_refuses_the_same_access_token_at_once_on_every_route(api: Api, alice: Account) -> None:
    task = api.create_task(alice, title="before logout")
    assert api.call("GET", "/tasks", token=alice.access_token).status_code == 200  # the authorizer caches an Allow

    logout = api.call("POST", "/auth/logout", token=alice.access_token)

    assert logout.status_code == 204, logout.text
    assert logout.text == ""
    for method, path, body in [
        ("GET", "/tasks", None),
        ("POST", "/tasks", {"title": "after logout"}),
        ("GET", f"/tasks/{task['id']}", None),
        ("PATCH", f"/tasks/{task['id']}", {"version": 1, "title": "after logout"}),
        ("DELETE", f"/tasks/{task['id']}", None),
        ("POST", "/auth/logout", None),
    ]:
        response = api.call(method, path, token=alice.access_token, json=body)
        assert response.status_code == 401, f"{method} {path} after logout: {response.status_code} {response.text}"


def test_logout_also_ends_the_refresh_session(api: Api, alice: Account) -> None:
    assert api.call("POST", "/auth/logout", token=alice.access_token).status_code == 204

    assert_error(_refresh(api, alice.refresh_token), 401, "INVALID_REFRESH_TOKEN")


def test_logout_leaves_the_users_other_sessions_alone(api: Api, alice: Account) -> None:
    other_login = api.login(alice.email)
    assert other_login.status_code == 200
    other_access = other_login.json()["accessToken"]

    assert api.call("POST", "/auth/logout", token=alice.access_token).status_code == 204

    assert api.call("GET", "/tasks", token=other_access).status_code == 200
