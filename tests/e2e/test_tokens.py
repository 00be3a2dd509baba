"""Forged, tampered, expired and unsigned tokens are refused by the deployed authorizer.

Every refusal is checked against a control: a token minted the same way with the deployed key and valid claims
is accepted, so a 401 here means the authorizer caught the defect, not that the token was broken anyway.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.support import tokens
from tests.support.http_api import Account, Api

pytestmark = pytest.mark.e2e

LONG_AGO = int(time.time()) - 3_600


def test_a_token_minted_with_the_deployed_key_is_accepted(api: Api, alice: Account, jwt_secret: str) -> None:
    """The control for the forgeries below: same key, same claims layout, nothing wrong with it."""
    token = tokens.mint_access_token(jwt_secret, sub=alice.user_id)

    response = api.call("GET", "/tasks", token=token)

    assert response.status_code == 200, response.text


FORGERIES: dict[str, Callable[[Account, str], str]] = {
    "expired": lambda user, key: tokens.mint_access_token(
        key, sub=user.user_id, iat=LONG_AGO, nbf=LONG_AGO, exp=int(time.time()) - 60
    ),
    "not-yet-valid": lambda user, key: tokens.mint_access_token(key, sub=user.user_id, nbf=int(time.time()) + 600),
    "tampered-subject": lambda user, key: tokens.with_tampered_payload(
        tokens.mint_access_token(key, sub=user.user_id), sub="someone-else"
    ),
    "tampered-expiry": lambda user, key: tokens.with_tampered_payload(
        tokens.mint_access_token(key, sub=user.user_id, exp=int(time.time()) - 60), exp=int(time.time()) + 600
    ),
    "alg-none": lambda user, key: tokens.unsigned_token(sub=user.user_id),
    "rs256-confusion": lambda user, key: tokens.rs256_token(sub=user.user_id),
    "hs512": lambda user, key: tokens.mint_access_token(key, sub=user.user_id, algorithm="HS512"),
    "wrong-key": lambda user, key: tokens.mint_access_token(
        "another-key-that-is-long-enough-0123456789", sub=user.user_id
    ),
    "wrong-audience": lambda user, key: tokens.mint_access_token(key, sub=user.user_id, aud="another-api"),
    "wrong-issuer": lambda user, key: tokens.mint_access_token(key, sub=user.user_id, iss="someone-else"),
    "no-jti": lambda user, key: tokens.mint_access_token(key, sub=user.user_id, jti=tokens.DROP),
    "no-exp": lambda user, key: tokens.mint_access_token(key, sub=user.user_id, exp=tokens.DROP),
    "garbage": lambda user, key: "not.a.jwt",
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_forged_tokens_are_refused_with_401(api: Api, alice: Account, jwt_secret: str, forgery: str) -> None:
    token = FORGERIES[forgery](alice, jwt_secret)

    response = api.call("GET", "/tasks", token=token)

    assert response.status_code == 401, f"{forgery}: {response.status_code} {response.text}"
    assert "items" not in response.text


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc"],
    ids=["absent", "empty", "scheme-only", "scheme-space", "basic", "other-scheme"],
)
def test_requests_without_a_bearer_token_are_401(api: Api, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}

    response = api.call("GET", "/tasks", headers=headers)

    assert response.status_code == 401, f"{header!r}: {response.status_code} {response.text}"


def test_a_genuine_token_with_the_scheme_in_another_case_is_accepted(api: Api, alice: Account) -> None:
    response = api.call("GET", "/tasks", headers={"Authorization": f"bearer {alice.access_token}"})

    assert response.status_code == 200, response.text


def test_an_authorizer_refusal_uses_the_error_shape(api: Api) -> None:
    response = api.call("GET", "/tasks", token="not.a.jwt")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
