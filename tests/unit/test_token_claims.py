"""Access tokens carry exp, nbf and iat as JSON numbers (RFC 7519 NumericDate), or they are refused.

PyJWT reads these claims with int(), so a genuine signature over `"exp": "9999999999"` or `"exp": true` would
pass its checks; the verifier requires the JSON type itself. Tokens here are hand-made and correctly signed.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.api_client import ApiClient
from tests.support.tokens import DROP, mint_access_token
from tests.unit.conftest import JWT_SECRET
from tests.unit.helpers import assert_error

NOW = int(time.time())


@pytest.fixture(autouse=True)
def _now_is_now() -> None:
    """NOW at each test, not at collection: tokens valid for 600 s expired before the end of a unit run that took
    16 minutes beside the other steps of `make test` on a loaded machine."""
    global NOW  # noqa: PLW0603 - read by the claim makers below, which run inside the test
    NOW = int(time.time())


CLAIM_VALUES: dict[str, Any] = {
    "numeric-string": lambda claim: str(_good(claim)),
    "boolean-true": lambda claim: True,
    "boolean-false": lambda claim: False,
    "null": lambda claim: None,
    "missing": lambda claim: DROP,
    "list": lambda claim: [_good(claim)],
    "object": lambda claim: {"value": _good(claim)},
    "empty-string": lambda claim: "",
}


def _good(claim: str) -> int:
    return NOW + 600 if claim == "exp" else NOW - 10


def _token(**claims: Any) -> str:
    return mint_access_token(JWT_SECRET, **claims)


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("make_value", CLAIM_VALUES.values(), ids=CLAIM_VALUES.keys())
def test_a_time_claim_that_is_not_a_json_number_is_refused(claim: str, make_value: Any) -> None:
    from taskapp.auth.tokens import InvalidToken, verify_access_token

    with pytest.raises(InvalidToken):
        verify_access_token(_token(**{claim: make_value(claim)}))


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_a_time_claim_as_a_non_integer_number_is_accepted_as_rfc_7519_allows(claim: str) -> None:
    """NumericDate may be non-integer; PyJWT compares its integer part, and so does the revocation TTL."""
    from taskapp.auth.tokens import verify_access_token

    claims = verify_access_token(_token(**{"exp": NOW + 600, claim: _good(claim) + 0.75}))
    assert claims.expires_at == NOW + 600 and isinstance(claims.expires_at, int)


def test_integer_time_claims_are_accepted() -> None:
    from taskapp.auth.tokens import verify_access_token

    assert verify_access_token(_token(exp=NOW + 600, nbf=NOW, iat=NOW)).expires_at == NOW + 600


@pytest.mark.usefixtures("aws", "fake_redis")
@pytest.mark.parametrize(
    "claims",
    [{"exp": str(NOW + 600)}, {"exp": True}, {"exp": DROP}, {"nbf": str(NOW)}, {"iat": str(NOW)}],
    ids=["string-exp", "bool-exp", "missing-exp", "string-nbf", "string-iat"],
)
def test_the_api_answers_401_to_such_a_token(claims: dict[str, Any]) -> None:
    answer = ApiClient().get("/tasks", token=_token(**claims))
    assert answer.status_code == 401, answer.body
    assert_error(answer.json())


@pytest.mark.usefixtures("aws", "fake_redis")
def test_the_api_accepts_a_float_exp() -> None:
    answer = ApiClient().get("/tasks", token=_token(exp=NOW + 600.5))
    assert answer.status_code == 200, answer.body
