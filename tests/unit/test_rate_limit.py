"""Sliding-window rate limits: per user on task routes, per client IP on register/login/refresh, fail open."""

from __future__ import annotations

import uuid
from typing import Any

import fakeredis
import pytest

from taskapp import rate_limit
from taskapp.rate_limit import RateLimitScope
from tests.support.api_client import ApiClient, ApiResponse
from tests.support.faults import Configure, DownRedis, settings_configurer, switch_redis
from tests.support.lambda_events import FakeLambdaContext, api_event, load_function

PASSWORD = "correct horse battery"


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Configure:
    return settings_configurer(monkeypatch, request)


def _signed_in(client: ApiClient) -> str:
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    assert (
        client.post("/auth/register", json_body={"name": "R", "email": email, "password": PASSWORD}).status_code == 201
    )
    response = client.post("/auth/login", json_body={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.body
    return str(response.json()["accessToken"])


def _header(response: ApiResponse | dict[str, Any], name: str) -> str | None:
    if isinstance(response, ApiResponse):
        headers: dict[str, Any] = response.headers
    else:
        headers = {**(response.get("headers") or {}), **(response.get("multiValueHeaders") or {})}
    for key, value in headers.items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return None


def _login_from(ip: str) -> dict[str, Any]:
    event = api_event("POST", "/auth/login", body={"email": "nobody@example.com", "password": "wrong password!"})
    event["requestContext"]["identity"]["sourceIp"] = ip
    result: dict[str, Any] = load_function("login").handler(event, FakeLambdaContext("login"))
    return result


# --- the limiter itself ---------------------------------------------------------------------------------------


def test_allows_up_to_the_limit_then_refuses_with_retry_after(
    fake_redis: fakeredis.FakeRedis, configure: Configure
) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=3, RATE_LIMIT_WINDOW_SECONDS=60)
    start = 1_800_000_000.0
    decisions = [rate_limit.hit(RateLimitScope.USER, "u1", now=start + i) for i in range(4)]
    assert all(d is not None for d in decisions)
    assert [d.allowed for d in decisions if d] == [True, True, True, False]
    assert [d.remaining for d in decisions if d] == [2, 1, 0, 0]
    refused = decisions[3]
    assert refused is not None
    # the oldest request (at `start`) leaves the window at start + 60: that is when one more is allowed
    assert refused.reset_at == start + 60
    assert refused.retry_after_seconds == 57
    assert refused.headers() == {
        "X-RateLimit-Limit": "3",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(start + 60)),
        "Retry-After": "57",
    }


def test_window_slides_and_refusals_are_not_counted(fake_redis: fakeredis.FakeRedis, configure: Configure) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=2, RATE_LIMIT_WINDOW_SECONDS=60)
    start = 1_800_000_000.0
    first = rate_limit.hit(RateLimitScope.USER, "u1", now=start)
    second = rate_limit.hit(RateLimitScope.USER, "u1", now=start + 30)
    assert first and first.allowed and second and second.allowed
    for offset in (31, 40, 59):  # hammering while refused must not push the window further out
        refused = rate_limit.hit(RateLimitScope.USER, "u1", now=start + offset)
        assert refused is not None and not refused.allowed
    after_first_left = rate_limit.hit(RateLimitScope.USER, "u1", now=start + 60.5)
    assert after_first_left is not None and after_first_left.allowed
    assert after_first_left.remaining == 0  # the request at +30 is still inside the window
    refused_again = rate_limit.hit(RateLimitScope.USER, "u1", now=start + 61)
    assert refused_again is not None and not refused_again.allowed
    assert refused_again.reset_at == start + 90


def test_scopes_and_identities_have_separate_windows(fake_redis: fakeredis.FakeRedis, configure: Configure) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=1, RATE_LIMIT_IP_PER_MINUTE=1)
    now = 1_800_000_000.0
    for scope, identity in [(RateLimitScope.USER, "a"), (RateLimitScope.USER, "b"), (RateLimitScope.CLIENT_IP, "a")]:
        decision = rate_limit.hit(scope, identity, now=now)
        assert decision is not None and decision.allowed, (scope, identity)
    again = rate_limit.hit(RateLimitScope.USER, "a", now=now)
    assert again is not None and not again.allowed


def test_zero_disables_the_limit(fake_redis: fakeredis.FakeRedis, configure: Configure) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=0)
    assert rate_limit.hit(RateLimitScope.USER, "u1") is None
    assert not fake_redis.keys("ratelimit:*")


def test_window_key_expires_with_the_window(fake_redis: fakeredis.FakeRedis, configure: Configure) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=5, RATE_LIMIT_WINDOW_SECONDS=60)
    rate_limit.hit(RateLimitScope.USER, "u1")
    ttl_ms = fake_redis.pttl("ratelimit:user:u1")
    assert 0 < ttl_ms <= 60_000


def test_fails_open_when_redis_is_down(monkeypatch: pytest.MonkeyPatch, configure: Configure) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=1)
    down = DownRedis()
    switch_redis(monkeypatch, down)
    assert rate_limit.hit(RateLimitScope.USER, "u1") is None
    assert down.attempts >= 1


# --- through the API ------------------------------------------------------------------------------------------


def test_task_routes_are_limited_per_user_with_headers(client: ApiClient, configure: Configure) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=3)
    ann, bob = _signed_in(client), _signed_in(client)
    responses = [client.get("/tasks", token=ann) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [_header(r, "X-RateLimit-Remaining") for r in responses] == ["2", "1", "0"]
    assert all(_header(r, "X-RateLimit-Limit") == "3" and _header(r, "X-RateLimit-Reset") for r in responses)

    limited = client.post("/tasks", json_body={"title": "one too many"}, token=ann)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert int(_header(limited, "Retry-After") or 0) >= 1
    assert _header(limited, "X-RateLimit-Remaining") == "0"
    assert client.get("/tasks", token=bob).status_code == 200  # another user has their own window


def test_error_responses_also_carry_the_headers(client: ApiClient, configure: Configure) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=5)
    token = _signed_in(client)
    missing = client.get(f"/tasks/{uuid.uuid4()}", token=token)
    assert missing.status_code == 404
    assert _header(missing, "X-RateLimit-Remaining") == "4"


def test_auth_routes_are_limited_per_client_ip(
    aws: None, fake_redis: fakeredis.FakeRedis, configure: Configure
) -> None:
    configure(RATE_LIMIT_IP_PER_MINUTE=2)
    statuses = [_login_from("203.0.113.7")["statusCode"] for _ in range(3)]
    assert statuses == [401, 401, 429]
    refused = _login_from("203.0.113.7")
    assert _header(refused, "Retry-After") is not None
    assert _header(refused, "X-RateLimit-Limit") == "2"
    assert _login_from("198.51.100.1")["statusCode"] == 401  # another client is unaffected


def test_register_and_refresh_share_the_ip_limit(client: ApiClient, configure: Configure) -> None:
    configure(RATE_LIMIT_IP_PER_MINUTE=2)
    body = {"name": "R", "email": "ip@example.com", "password": PASSWORD}
    assert client.post("/auth/register", json_body=body).status_code == 201
    assert client.post("/auth/refresh", json_body={"refreshToken": "x" * 43}).status_code == 401
    assert client.post("/auth/login", json_body={"email": "ip@example.com", "password": PASSWORD}).status_code == 429


def test_health_is_not_rate_limited(client: ApiClient, configure: Configure) -> None:
    configure(RATE_LIMIT_IP_PER_MINUTE=1, RATE_LIMIT_USER_PER_MINUTE=1)
    assert [client.get("/health").status_code for _ in range(3)] == [200, 200, 200]


def test_login_still_works_when_the_limiter_is_down(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch, configure: Configure
) -> None:
    configure(RATE_LIMIT_IP_PER_MINUTE=1)
    email = "open@example.com"
    assert (
        client.post("/auth/register", json_body={"name": "O", "email": email, "password": PASSWORD}).status_code == 201
    )
    switch_redis(monkeypatch, DownRedis())
    for _ in range(3):  # over the limit, but the limiter cannot count: fail open
        response = client.post("/auth/login", json_body={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.body
        assert _header(response, "X-RateLimit-Limit") is None


def test_defaults_are_100_per_user_and_10_per_ip_per_minute(
    monkeypatch: pytest.MonkeyPatch, configure: Configure
) -> None:
    from taskapp.settings import get_settings

    for name in ("RATE_LIMIT_USER_PER_MINUTE", "RATE_LIMIT_IP_PER_MINUTE", "RATE_LIMIT_WINDOW_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    configure()
    settings = get_settings()
    assert (settings.rate_limit_user_per_window, settings.rate_limit_ip_per_window) == (100, 10)
    assert settings.rate_limit_window_seconds == 60
