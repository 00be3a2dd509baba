"""The TOKEN authorizer: only a genuine, live, unrevoked HS256 access token gets an Allow."""

from __future__ import annotations

import time
from typing import Any

import fakeredis
import pytest

from tests.support.lambda_events import FakeLambdaContext, load_function, token_authorizer_event
from tests.support.sample_events import load_event
from tests.support.tokens import DROP, mint_access_token, rs256_token, unsigned_token, with_tampered_payload
from tests.unit.conftest import JWT_SECRET

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:k3x9q2w7ab/local/GET/tasks"
USER_ID = "3f0c9a52-8d1e-4b7a-9c61-2f4e5a6b7c8d"
# The HS512 case signs with the (47-byte) test secret on purpose; pyjwt warns that is short for SHA-512.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


def _authorize(header: str | None) -> dict[str, Any]:
    return load_function("authorizer").handler(token_authorizer_event(header, METHOD_ARN), FakeLambdaContext())


STAGE_WIDE = ["arn:aws:execute-api:us-east-1:123456789012:k3x9q2w7ab/local/*/*"]


def _assert_denied(header: str | None, reason: str = "") -> dict[str, Any]:
    """A refused token gets an explicit Deny of the whole stage (API Gateway's ACCESS_DENIED, which template.yaml
    answers with the 401 UNAUTHORIZED body): no caller in it, the reason in the context; nothing raised, so the
    authorizer's worker survives."""
    decision = _authorize(header)
    assert decision["principalId"] == "anonymous"
    (statement,) = decision["policyDocument"]["Statement"]
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == (
        "Deny",
        "execute-api:Invoke",
        STAGE_WIDE,
    )
    assert set(decision["context"]) == {"reason"}, decision  # no userId/jti: nothing a handler could mistake for one
    assert decision["context"]["reason"].startswith(reason), decision
    return decision


def _assert_unauthorized(header: str | None) -> None:
    """No decision could be made: the authorizer raises exactly 'Unauthorized' (401, and API Gateway does not cache
    it, so the same token is asked about again once Redis answers)."""
    from taskapp.auth.authorizer import AuthorizerRejected

    with pytest.raises(AuthorizerRejected, match=r"^Unauthorized$"):
        _authorize(header)


@pytest.mark.usefixtures("fake_redis")
def test_authorizer_allows_a_valid_token_with_the_caller_in_the_context() -> None:
    token = mint_access_token(JWT_SECRET, sub=USER_ID, jti="jti-1", sid="session-1", exp=int(time.time()) + 600)
    decision = _authorize(f"Bearer {token}")
    assert decision["principalId"] == USER_ID
    (statement,) = decision["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "execute-api:Invoke"
    context = decision["context"]
    assert context["userId"] == USER_ID and context["jti"] == "jti-1" and context["sid"] == "session-1"
    assert context["exp"] > time.time()
    assert all(isinstance(value, str | int | bool) for value in context.values())  # API Gateway allows no more


@pytest.mark.usefixtures("fake_redis")
def test_authorizer_allow_covers_every_route_of_the_stage_so_the_cached_decision_is_reusable() -> None:
    decision = _authorize(f"Bearer {mint_access_token(JWT_SECRET)}")
    (statement,) = decision["policyDocument"]["Statement"]
    assert statement["Resource"] == ["arn:aws:execute-api:us-east-1:123456789012:k3x9q2w7ab/local/*/*"]


@pytest.mark.usefixtures("fake_redis")
@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_authorizer_accepts_the_bearer_scheme_in_any_case(scheme: str) -> None:
    assert _authorize(f"{scheme} {mint_access_token(JWT_SECRET)}")["principalId"]


def _expired() -> str:
    now = int(time.time())
    return mint_access_token(JWT_SECRET, iat=now - 1000, nbf=now - 1000, exp=now - 60)


def _not_yet_valid() -> str:
    now = int(time.time())
    return mint_access_token(JWT_SECRET, nbf=now + 300)


def _other_algorithm() -> str:
    return mint_access_token(JWT_SECRET, algorithm="HS512")


def _tampered() -> str:
    return with_tampered_payload(mint_access_token(JWT_SECRET, sub="mallory"), sub=USER_ID)


BAD_TOKENS = {
    "expired": _expired,
    "not-yet-valid-nbf": _not_yet_valid,
    "wrong-issuer": lambda: mint_access_token(JWT_SECRET, iss="someone-else"),
    "wrong-audience": lambda: mint_access_token(JWT_SECRET, aud="another-api"),
    "wrong-key": lambda: mint_access_token("another-secret-that-is-long-enough-0123456789"),
    "tampered-payload": _tampered,
    "alg-none": unsigned_token,
    "rs256-signed": rs256_token,
    "hs512-signed": _other_algorithm,
    "missing-jti": lambda: mint_access_token(JWT_SECRET, jti=DROP),
    "empty-jti": lambda: mint_access_token(JWT_SECRET, jti=""),
    "missing-exp": lambda: mint_access_token(JWT_SECRET, exp=DROP),
    "missing-sub": lambda: mint_access_token(JWT_SECRET, sub=DROP),
    "missing-iss": lambda: mint_access_token(JWT_SECRET, iss=DROP),
    "missing-aud": lambda: mint_access_token(JWT_SECRET, aud=DROP),
    "sid-not-a-string": lambda: mint_access_token(JWT_SECRET, sid=123),
    "not-a-jwt": lambda: "not.a.jwt",
    "truncated-signature": lambda: mint_access_token(JWT_SECRET)[:-5],
}


@pytest.mark.usefixtures("fake_redis")
@pytest.mark.parametrize("make_token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_authorizer_denies_a_bad_token(make_token: Any) -> None:
    _assert_denied(f"Bearer {make_token()}", reason="invalid token")


@pytest.mark.usefixtures("fake_redis")
@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Bearer    ", "Basic dXNlcjpwYXNz", "Token abc", "{token}", "Bearer a b"],
    ids=[
        "absent",
        "empty",
        "scheme-only",
        "scheme-space",
        "scheme-spaces",
        "basic",
        "other-scheme",
        "no-scheme",
        "two-parts",
    ],
)
def test_authorizer_rejects_a_missing_or_garbled_authorization_header(header: str | None) -> None:
    if header == "{token}":
        header = mint_access_token(JWT_SECRET)  # a good token, but not presented as a Bearer token
    _assert_denied(header)


def test_authorizer_rejects_a_blacklisted_jti(fake_redis: fakeredis.FakeRedis) -> None:
    from taskapp.auth.revocation import KEY_PREFIX

    token = mint_access_token(JWT_SECRET, jti="revoked-jti")
    fake_redis.set(KEY_PREFIX + "revoked-jti", "1", ex=600)
    _assert_denied(f"Bearer {token}", reason="token revoked")


def test_authorizer_fails_closed_when_redis_is_down(
    fake_redis: fakeredis.FakeRedis, redis_server: fakeredis.FakeServer
) -> None:
    token = mint_access_token(JWT_SECRET)
    redis_server.connected = False
    _assert_unauthorized(f"Bearer {token}")
    redis_server.connected = True
    assert _authorize(f"Bearer {token}")["principalId"]  # the same token passes once Redis answers again


@pytest.mark.usefixtures("fake_redis")
def test_authorizer_sample_event_alg_none_holds_a_token_the_authorizer_refuses() -> None:
    decision = load_function("authorizer").handler(load_event("authorizer/alg_none"), FakeLambdaContext())
    assert decision["policyDocument"]["Statement"][0]["Effect"] == "Deny"


@pytest.mark.usefixtures("fake_redis")
def test_a_refusal_is_logged_and_counted_like_before(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """The Deny changes what API Gateway is told, not what operators see: the same log line and metric."""
    _assert_denied("Bearer not.a.jwt")
    (record,) = [r for r in caplog.records if r.getMessage() == "request not authorized"]
    assert str(getattr(record, "reason", "")).startswith("invalid token")
    assert '"AuthorizerReject"' in capsys.readouterr().out


def test_a_deny_and_an_allow_of_one_token_cover_the_same_routes(
    fake_redis: fakeredis.FakeRedis,
) -> None:
    """API Gateway caches either decision per token for every route: both must be stage-wide."""
    from taskapp.auth.revocation import KEY_PREFIX

    token = mint_access_token(JWT_SECRET, jti="soon-revoked")
    allowed = _authorize(f"Bearer {token}")
    fake_redis.set(KEY_PREFIX + "soon-revoked", "1", ex=600)
    denied = _assert_denied(f"Bearer {token}", reason="token revoked")
    assert allowed["policyDocument"]["Statement"][0]["Resource"] == denied["policyDocument"]["Statement"][0]["Resource"]
