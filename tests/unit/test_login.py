"""POST /auth/login: the token pair, and no way to tell an unknown email from a wrong password."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from tests.support.api_client import ApiClient
from tests.unit.conftest import JWT_SECRET, PASSWORD, Account
from tests.unit.helpers import assert_error


def _login(client: ApiClient, email: str, password: str = PASSWORD) -> Any:
    return client.post("/auth/login", json_body={"email": email, "password": password})


def test_login_answers_200_with_an_access_and_refresh_token_pair(client: ApiClient, alice: Account) -> None:
    answer = _login(client, alice.email)
    assert answer.status_code == 200, answer.body
    pair = answer.json()
    assert set(pair) == {"accessToken", "refreshToken", "expiresIn", "tokenType"}
    assert pair["tokenType"] == "Bearer"
    assert pair["expiresIn"] == 900
    claims = jwt.decode(pair["accessToken"], JWT_SECRET, algorithms=["HS256"], audience="taskapp-api")
    assert claims["sub"] == alice.user_id
    assert claims["iss"] == "taskapp"
    assert claims["exp"] - claims["iat"] == 900
    assert {"jti", "sid", "nbf"} <= set(claims)
    assert jwt.get_unverified_header(pair["accessToken"])["alg"] == "HS256"


def test_login_access_token_opens_the_authenticated_routes(client: ApiClient, alice: Account) -> None:
    token = _login(client, alice.email).json()["accessToken"]
    assert client.get("/tasks", token=token).status_code == 200


def test_login_matches_the_email_in_any_letter_case(client: ApiClient, alice: Account) -> None:
    assert _login(client, "  ALICE@Example.com ").status_code == 200


def test_each_login_starts_its_own_session(client: ApiClient, alice: Account) -> None:
    first, second = _login(client, alice.email).json(), _login(client, alice.email).json()
    assert first["refreshToken"] != second["refreshToken"]
    sid = [jwt.decode(pair["accessToken"], options={"verify_signature": False})["sid"] for pair in (first, second)]
    assert sid[0] != sid[1]


def test_login_answers_unknown_email_and_wrong_password_with_the_same_401(client: ApiClient, alice: Account) -> None:
    wrong_password = _login(client, alice.email, "not-the-password")
    unknown_email = _login(client, "nobody@example.com")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert_error(wrong_password.json(), "INVALID_CREDENTIALS")


@pytest.mark.parametrize("email_known", [True, False], ids=["wrong-password", "unknown-email"])
def test_login_spends_one_bcrypt_check_whether_or_not_the_email_exists(
    client: ApiClient, alice: Account, monkeypatch: pytest.MonkeyPatch, email_known: bool
) -> None:
    """Constant-ish time without timing the test: both failures cost exactly one bcrypt comparison."""
    import bcrypt

    from taskapp.auth import passwords

    passwords._dummy_hash()  # built once per container, not per request
    calls: list[bytes] = []
    real_checkpw = bcrypt.checkpw

    def counting_checkpw(password: bytes, hashed: bytes) -> bool:
        calls.append(hashed)
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting_checkpw)  # passwords imports it per call
    answer = _login(client, alice.email if email_known else "nobody@example.com", "not-the-password")
    assert answer.status_code == 401
    assert len(calls) == 1
    assert calls[0].startswith(b"$2b$04$")  # same cost as a real hash


@pytest.mark.parametrize(
    "body",
    [{"email": "alice@example.com"}, {"password": PASSWORD}, {"email": "alice@example.com", "password": ""}, {}],
    ids=["no-password", "no-email", "empty-password", "empty-object"],
)
def test_login_refuses_incomplete_credentials_with_400(client: ApiClient, body: dict[str, str]) -> None:
    answer = client.post("/auth/login", json_body=body)
    assert answer.status_code == 400
    assert_error(answer.json(), "VALIDATION_ERROR")


def test_login_refuses_malformed_json_with_400(client: ApiClient) -> None:
    answer = client.post("/auth/login", raw_body="{email: alice}")
    assert answer.status_code == 400
    assert_error(answer.json(), "MALFORMED_JSON")


@pytest.mark.parametrize("email_known", [True, False], ids=["known-email", "unknown-email"])
@pytest.mark.parametrize("password", ["a" * 73, "é" * 37], ids=["73-ascii-bytes", "74-utf8-bytes"])
def test_login_refuses_a_password_over_bcrypts_72_bytes_with_400_not_500(
    client: ApiClient, alice: Account, email_known: bool, password: str
) -> None:
    """No account can have such a password (registration refuses it), and bcrypt 5 raises on it."""
    answer = _login(client, alice.email if email_known else "nobody@example.com", password)
    assert answer.status_code == 400, answer.body
    error = assert_error(answer.json(), "VALIDATION_ERROR")
    assert [detail["field"] for detail in error["details"]] == ["password"]


def test_a_user_stored_with_the_retired_sessions_valid_after_attribute_still_signs_in(
    client: ApiClient, alice: Account
) -> None:
    """Users registered before `sessionsValidAfter` was dropped from the model still carry it: reads ignore it."""
    import boto3

    from taskapp.data.users import UserModel

    boto3.client("dynamodb", region_name=UserModel.Meta.region).update_item(
        TableName=UserModel.Meta.table_name,
        Key={"email": {"S": alice.email}},
        UpdateExpression="SET sessionsValidAfter = :zero",
        ExpressionAttributeValues={":zero": {"N": "0"}},
    )
    answer = _login(client, alice.email)
    assert answer.status_code == 200, answer.body
    assert client.get("/tasks", token=answer.json()["accessToken"]).status_code == 200
