"""POST /auth/logout: the access token dies at once everywhere, its session with it, and nothing else."""

from __future__ import annotations

import time

import fakeredis
import jwt
import pytest

from tests.support.api_client import ApiClient
from tests.support.lambda_events import api_event
from tests.unit.conftest import Account
from tests.unit.helpers import SAMPLE_TASK_ID, assert_error, authorizer_context_for, invoke, record_redis_round_trips


def test_logout_answers_204_with_an_empty_body(client: ApiClient, alice: Account) -> None:
    answer = client.post("/auth/logout", token=alice.access_token)
    assert answer.status_code == 204
    assert answer.body == ""


def test_logout_needs_a_token(client: ApiClient) -> None:
    assert client.post("/auth/logout").status_code == 401


def test_logged_out_token_is_refused_by_the_authorizer(client: ApiClient, alice: Account) -> None:
    client.post("/auth/logout", token=alice.access_token)
    assert client.get("/tasks", token=alice.access_token).status_code == 401


@pytest.mark.parametrize(
    "route",
    [
        ("list_tasks", "GET", "/tasks", "/tasks"),
        ("get_task", "GET", f"/tasks/{SAMPLE_TASK_ID}", "/tasks/{id}"),
        ("logout", "POST", "/auth/logout", "/auth/logout"),
    ],
    ids=["list_tasks", "get_task", "logout"],
)
def test_logged_out_token_is_refused_by_the_handler_guard_despite_a_cached_allow(
    client: ApiClient, alice: Account, route: tuple[str, str, str, str]
) -> None:
    """API Gateway may serve a cached Allow for up to the cache TTL: the handler itself checks the blacklist."""
    function, method, path, resource = route
    client.post("/auth/logout", token=alice.access_token)
    path_params = {"id": SAMPLE_TASK_ID} if "{id}" in resource else None
    event = api_event(
        method, path, resource=resource, path_params=path_params, authorizer=authorizer_context_for(alice.access_token)
    )
    answer = invoke(function, event)
    assert answer.status_code == 401
    assert_error(answer.body, "TOKEN_REVOKED")


def test_logout_revokes_the_refresh_token_of_its_session(client: ApiClient, alice: Account) -> None:
    client.post("/auth/logout", token=alice.access_token)
    answer = client.post("/auth/refresh", json_body={"refreshToken": alice.refresh_token})
    assert answer.status_code == 401


def test_logout_ends_access_tokens_minted_by_earlier_refreshes_of_the_session(
    client: ApiClient, alice: Account
) -> None:
    """A client that refreshed keeps older access tokens around; logout must end all of them, not just one."""
    refreshed = client.post("/auth/refresh", json_body={"refreshToken": alice.refresh_token}).json()
    assert client.get("/tasks", token=refreshed["accessToken"]).status_code == 200
    assert client.post("/auth/logout", token=refreshed["accessToken"]).status_code == 204
    assert client.get("/tasks", token=alice.access_token).status_code == 401
    older_via_cached_allow = invoke(
        "list_tasks", api_event("GET", "/tasks", authorizer=authorizer_context_for(alice.access_token))
    )
    assert older_via_cached_allow.status_code == 401
    assert_error(older_via_cached_allow.body, "TOKEN_REVOKED")


def test_logout_leaves_the_users_other_sessions_alive(client: ApiClient, alice: Account) -> None:
    other = client.post("/auth/login", json_body={"email": alice.email, "password": alice.password}).json()
    client.post("/auth/logout", token=alice.access_token)
    assert client.get("/tasks", token=other["accessToken"]).status_code == 200
    assert client.post("/auth/refresh", json_body={"refreshToken": other["refreshToken"]}).status_code == 200


def test_blacklist_entry_lives_exactly_as_long_as_the_token_could_still_be_accepted(
    client: ApiClient, alice: Account, fake_redis: fakeredis.FakeRedis
) -> None:
    from taskapp.auth.revocation import KEY_PREFIX
    from taskapp.auth.tokens import LEEWAY_SECONDS

    claims = jwt.decode(alice.access_token, options={"verify_signature": False})
    client.post("/auth/logout", token=alice.access_token)
    key = KEY_PREFIX + claims["jti"]
    # Expires at the token's exp plus the verifier's clock-skew leeway: not a second earlier, not later.
    assert fake_redis.expiretime(key) == claims["exp"] + LEEWAY_SECONDS
    remaining = claims["exp"] + LEEWAY_SECONDS - time.time()
    assert remaining - 1 <= fake_redis.ttl(key) <= remaining + 1


def test_logout_of_a_token_in_its_last_seconds_still_blacklists_it(
    client: ApiClient, alice: Account, fake_redis: fakeredis.FakeRedis
) -> None:
    """A token past exp but inside the leeway is still accepted, so it must still be revoked."""
    from taskapp.auth.revocation import KEY_PREFIX

    context = authorizer_context_for(alice.access_token)
    context["exp"] = str(int(time.time()) - 2)
    answer = invoke("logout", api_event("POST", "/auth/logout", resource="/auth/logout", authorizer=context))
    assert answer.status_code == 204
    assert fake_redis.exists(KEY_PREFIX + context["jti"])


def test_logout_answers_503_and_keeps_the_session_when_redis_is_down(
    client: ApiClient, alice: Account, redis_server: fakeredis.FakeServer
) -> None:
    """Fails closed: the guard cannot check the blacklist, so nothing is done and the client is told to retry."""
    redis_server.connected = False
    answer = invoke(
        "logout",
        api_event(
            "POST", "/auth/logout", resource="/auth/logout", authorizer=authorizer_context_for(alice.access_token)
        ),
    )
    assert answer.status_code == 503
    assert answer.headers.get("Retry-After") == "1"
    assert_error(answer.body, "AUTH_UNAVAILABLE")
    redis_server.connected = True
    assert client.post("/auth/refresh", json_body={"refreshToken": alice.refresh_token}).status_code == 200


def test_logout_answers_503_when_the_blacklist_write_fails(
    client: ApiClient, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The revocation check passed but the write did not: a 204 would be a lie, so 503 and retry."""
    from taskapp.auth import revocation

    def refuse(jti: str, expires_at: int, now: float | None = None) -> None:
        raise revocation.RevocationStoreUnavailable("connection reset")

    monkeypatch.setattr(revocation, "revoke_access_token", refuse)
    answer = client.post("/auth/logout", token=alice.access_token)
    assert answer.status_code == 503
    assert_error(answer.json(), "REVOCATION_UNAVAILABLE")


def test_the_handler_guard_reads_revocation_in_the_rate_limits_round_trip(
    client: ApiClient, alice: Account, fake_redis: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One Redis round trip fewer per authenticated request: the limiter's pipeline carries the revocation MGET,
    and the guard still refuses a logged-out token from it, after validation as before."""
    event = api_event("GET", "/tasks", authorizer=authorizer_context_for(alice.access_token))
    assert invoke("list_tasks", event).status_code == 200  # a warm function on a Redis that has the script
    trips = record_redis_round_trips(monkeypatch, fake_redis)
    assert invoke("list_tasks", event).status_code == 200
    assert trips == ["pipeline"]

    client.post("/auth/logout", token=alice.access_token)
    trips.clear()
    refused = invoke("list_tasks", event)
    assert refused.status_code == 401
    assert_error(refused.body, "TOKEN_REVOKED")
    assert trips == ["pipeline"]
