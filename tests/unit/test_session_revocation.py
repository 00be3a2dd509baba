"""Ending sessions: a password change ends every session of the user, logout ends one, refresh-token reuse ends
the family it came from. "Ended" means both the access token (authorizer and handler guard) and the refresh token."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from types import SimpleNamespace

import fakeredis
import pytest

from taskapp.auth.context import AuthorizerContext
from tests.support.api_client import ApiClient
from tests.support.faults import DownRedis, settings_configurer, switch_redis
from tests.support.lambda_events import FakeLambdaContext, api_event, authorizer_context, load_function

PASSWORD = "first-test-password"
NEW_PASSWORD = "second-test-password"


@dataclass
class Session:
    access: str
    refresh: str


def _register(client: ApiClient, email: str) -> None:
    body = {"name": "S", "email": email, "password": PASSWORD}
    assert client.post("/auth/register", json_body=body).status_code == 201


def _login(client: ApiClient, email: str, password: str = PASSWORD) -> Session:
    response = client.post("/auth/login", json_body={"email": email, "password": password})
    assert response.status_code == 200, response.body
    return Session(response.json()["accessToken"], response.json()["refreshToken"])


def _works(client: ApiClient, session: Session) -> bool:
    return client.get("/tasks", token=session.access).status_code == 200


def _refresh(client: ApiClient, refresh_token: str) -> tuple[int, str]:
    response = client.post("/auth/refresh", json_body={"refreshToken": refresh_token})
    code = response.json()["error"]["code"] if response.status_code != 200 else response.json()["refreshToken"]
    return response.status_code, code


def _change(client: ApiClient, session: Session, current: str = PASSWORD, new: str = NEW_PASSWORD) -> int:
    body = {"currentPassword": current, "newPassword": new}
    return client.post("/auth/password", json_body=body, token=session.access).status_code


@pytest.fixture
def email(client: ApiClient) -> str:
    address = f"{uuid.uuid4().hex[:8]}@example.com"
    _register(client, address)
    return address


def test_password_change_ends_every_session_of_the_user(client: ApiClient, email: str) -> None:
    laptop, phone = _login(client, email), _login(client, email)
    _register(client, "bystander@example.com")
    bystander = _login(client, "bystander@example.com")

    assert _change(client, laptop) == 204

    assert not _works(client, laptop) and not _works(client, phone)  # every access token, the caller's too
    assert _refresh(client, laptop.refresh) == (401, "SESSION_REVOKED")
    assert _refresh(client, phone.refresh) == (401, "SESSION_REVOKED")
    assert _works(client, bystander)  # other users are untouched
    old = client.post("/auth/login", json_body={"email": email, "password": PASSWORD})
    assert old.status_code == 401

    fresh = _login(client, email, NEW_PASSWORD)  # a session started after the change is whole
    assert _works(client, fresh)
    status, rotated = _refresh(client, fresh.refresh)
    assert status == 200
    assert _refresh(client, rotated)[0] == 200


def test_the_handler_guard_refuses_a_pre_change_token_even_if_the_authorizer_allow_is_cached(
    client: ApiClient, email: str
) -> None:
    session = _login(client, email)
    context = load_function("authorizer").handler(
        {"type": "TOKEN", "authorizationToken": f"Bearer {session.access}", "methodArn": _ARN}, FakeLambdaContext()
    )["context"]
    assert _change(client, session) == 204
    event = api_event("GET", "/tasks", authorizer=authorizer_context(AuthorizerContext.from_context(context)))
    result = load_function("list_tasks").handler(event, FakeLambdaContext("list_tasks"))
    assert result["statusCode"] == 401
    assert '"TOKEN_REVOKED"' in result["body"]


_ARN = "arn:aws:execute-api:us-east-1:000000000000:testapi/local/GET/tasks"


def test_refresh_tokens_stay_revoked_when_redis_forgets(
    client: ApiClient, email: str, fake_redis: fakeredis.FakeRedis
) -> None:
    """Redis keeps nothing on disk: the refresh side must not depend on it."""
    session = _login(client, email)
    assert _change(client, session) == 204
    fake_redis.flushall()
    assert _refresh(client, session.refresh) == (401, "SESSION_REVOKED")


def test_password_change_still_ends_refresh_sessions_when_redis_is_down(
    client: ApiClient, email: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    session = _login(client, email)
    authorizer = load_function("authorizer").handler(
        {"type": "TOKEN", "authorizationToken": f"Bearer {session.access}", "methodArn": _ARN}, FakeLambdaContext()
    )
    context = authorizer["context"]
    settings_configurer(monkeypatch, request)(REVOCATION_FAIL_OPEN="true")  # past the guard with Redis down
    switch_redis(monkeypatch, DownRedis())
    body = {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}
    caller = AuthorizerContext.from_context(context)
    event = api_event("POST", "/auth/password", body=body, authorizer=authorizer_context(caller))
    result = load_function("change_password").handler(event, FakeLambdaContext("change_password"))
    assert result["statusCode"] == 204, result["body"]
    assert _refresh(client, session.refresh) == (401, "SESSION_REVOKED")


def test_wrong_current_password_changes_nothing(client: ApiClient, email: str) -> None:
    session = _login(client, email)
    response = client.post(
        "/auth/password",
        json_body={"currentPassword": "not-it-at-all", "newPassword": NEW_PASSWORD},
        token=session.access,
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "INVALID_CURRENT_PASSWORD"
    assert _works(client, session)
    assert _refresh(client, session.refresh)[0] == 200
    _login(client, email, PASSWORD)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"currentPassword": PASSWORD, "newPassword": PASSWORD}, "PASSWORD_UNCHANGED"),
        ({"currentPassword": PASSWORD, "newPassword": "short"}, "VALIDATION_ERROR"),
        ({"currentPassword": PASSWORD}, "VALIDATION_ERROR"),
        ({"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "extra": 1}, "VALIDATION_ERROR"),
    ],
)
def test_invalid_password_changes_are_400(client: ApiClient, email: str, body: dict[str, object], code: str) -> None:
    session = _login(client, email)
    response = client.post("/auth/password", json_body=body, token=session.access)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert _works(client, session)


def test_password_change_needs_a_token(client: ApiClient) -> None:
    body = {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}
    assert client.post("/auth/password", json_body=body).status_code == 401


def test_logout_ends_only_its_own_session(client: ApiClient, email: str) -> None:
    laptop, phone = _login(client, email), _login(client, email)
    assert client.post("/auth/logout", token=laptop.access).status_code == 204
    assert not _works(client, laptop)
    assert _refresh(client, laptop.refresh) == (401, "INVALID_REFRESH_TOKEN")
    assert _works(client, phone)
    assert _refresh(client, phone.refresh)[0] == 200


def test_logout_also_ends_the_refresh_tokens_rotated_from_the_session(client: ApiClient, email: str) -> None:
    session = _login(client, email)
    status, rotated = _refresh(client, session.refresh)
    assert status == 200
    assert client.post("/auth/logout", token=session.access).status_code == 204
    assert _refresh(client, rotated) == (401, "INVALID_REFRESH_TOKEN")


def test_refresh_token_reuse_ends_the_whole_family(client: ApiClient, email: str) -> None:
    session, other = _login(client, email), _login(client, email)
    status, rotated = _refresh(client, session.refresh)
    assert status == 200
    assert _refresh(client, session.refresh) == (401, "REFRESH_TOKEN_REUSED")  # the stolen copy comes back
    assert _refresh(client, rotated) == (401, "INVALID_REFRESH_TOKEN")  # and the legitimate successor dies too
    assert _refresh(client, other.refresh)[0] == 200  # a separate login is a separate family


def test_refresh_token_reuse_also_ends_every_access_token_of_the_session(client: ApiClient, email: str) -> None:
    """docs/auth.md: reuse ends every token of the session, exactly as logout does (issue 15, defect 2)."""
    session, other = _login(client, email), _login(client, email)
    winner = client.post("/auth/refresh", json_body={"refreshToken": session.refresh}).json()
    assert _works(client, session) and _works(client, Session(winner["accessToken"], winner["refreshToken"]))
    assert _refresh(client, session.refresh) == (401, "REFRESH_TOKEN_REUSED")
    assert not _works(client, session)  # the access token the stolen refresh token came with
    assert not _works(client, Session(winner["accessToken"], winner["refreshToken"]))  # and the rotation's
    assert _works(client, other)  # another login of the same user is another session


def test_losing_a_refresh_race_ends_the_winners_access_token_too(
    client: ApiClient, email: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parallel refreshes of one token all read it while it is still active: the first rotation wins, every later
    one fails its condition. That loser must end the access token the winner has just been given."""
    from taskapp.auth.tokens import hash_refresh_token
    from taskapp.data import sessions

    session = _login(client, email)
    read_while_active = sessions.get_token(hash_refresh_token(session.refresh))
    assert read_while_active is not None and read_while_active.state == sessions.ACTIVE
    winner = client.post("/auth/refresh", json_body={"refreshToken": session.refresh}).json()
    with monkeypatch.context() as loser:
        loser.setattr(sessions, "get_token", lambda token_hash: read_while_active)  # its read, before the winner's
        assert _refresh(client, session.refresh) == (401, "REFRESH_TOKEN_REUSED")
    assert not _works(client, Session(winner["accessToken"], winner["refreshToken"]))
    assert not _works(client, session)


def test_reuse_revocation_outlives_an_access_token_minted_while_the_winner_was_slow(
    client: ApiClient, email: str, fake_redis: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session's revocation lasts one access-token lifetime from when reuse is detected; the winner's access
    token must not outlive it even if the winner signed it seconds after its rotation committed."""
    import jwt

    from taskapp.auth import tokens
    from taskapp.auth.keys import LEEWAY_SECONDS

    session = _login(client, email)
    real_time = time.time
    with monkeypatch.context() as slow:  # the winner signs its access token 30 s after its rotation committed
        slow.setattr(tokens, "time", SimpleNamespace(time=lambda: real_time() + 30))
        winner = client.post("/auth/refresh", json_body={"refreshToken": session.refresh}).json()
    assert _refresh(client, session.refresh) == (401, "REFRESH_TOKEN_REUSED")
    claims = jwt.decode(winner["accessToken"], options={"verify_signature": False})
    marker_ttl = fake_redis.ttl(f"revoked:sid:{claims['sid']}")
    assert marker_ttl > 0
    assert claims["exp"] + LEEWAY_SECONDS <= real_time() + marker_ttl


def test_access_tokens_are_dated_from_before_the_session_state_they_were_issued_from(
    client: ApiClient, email: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Logout, reuse and a password change revoke for one access-token lifetime from when they happen; a login or
    refresh racing them read the session's state before that, so its token, dated from then, cannot outlive them
    however long it took to sign."""
    import jwt

    from taskapp.auth import tokens

    started = int(time.time())
    with monkeypatch.context() as slow:
        slow.setattr(tokens, "time", SimpleNamespace(time=lambda: started + 30))
        session = _login(client, email)
        refreshed = client.post("/auth/refresh", json_body={"refreshToken": session.refresh}).json()
    for token in (session.access, refreshed["accessToken"]):
        claims = jwt.decode(token, options={"verify_signature": False})
        assert started <= claims["iat"] <= time.time()


def test_reuse_still_answers_401_and_ends_the_family_when_redis_is_down(
    client: ApiClient, email: str, monkeypatch: pytest.MonkeyPatch, fake_redis: fakeredis.FakeRedis
) -> None:
    session = _login(client, email)
    status, rotated = _refresh(client, session.refresh)
    assert status == 200
    switch_redis(monkeypatch, DownRedis())
    assert _refresh(client, session.refresh) == (401, "REFRESH_TOKEN_REUSED")
    switch_redis(monkeypatch, fake_redis)
    assert _refresh(client, rotated) == (401, "INVALID_REFRESH_TOKEN")


@pytest.mark.parametrize("generation", [-1, "1795000000000", True, 1.5, None])
def test_a_token_with_a_malformed_session_generation_is_invalid(generation: object) -> None:
    import jwt as pyjwt

    from taskapp.auth.tokens import InvalidToken, issue_access_token, signing_key, verify_access_token

    claims = pyjwt.decode(
        issue_access_token("u", "s").token, signing_key(), algorithms=["HS256"], options={"verify_aud": False}
    )
    forged = pyjwt.encode({**claims, "sgen": generation}, signing_key(), algorithm="HS256")
    with pytest.raises(InvalidToken):
        verify_access_token(forged)


def test_a_token_without_a_session_generation_belongs_to_generation_zero() -> None:
    import jwt as pyjwt

    from taskapp.auth.tokens import issue_access_token, signing_key, verify_access_token

    claims = pyjwt.decode(
        issue_access_token("u", "s").token, signing_key(), algorithms=["HS256"], options={"verify_aud": False}
    )
    claims.pop("sgen")
    token = pyjwt.encode(claims, signing_key(), algorithm="HS256")
    assert verify_access_token(token).session_generation == 0
