"""Circuit breaker around Redis: revocation fails closed (configurable), rate limiting fails open, /health says down,
and once the breaker is open nobody waits on Redis at all."""

from __future__ import annotations

import time
import uuid

import fakeredis
import pytest
import redis

from taskapp import redis_client
from taskapp.auth import revocation
from taskapp.auth.authorizer import AuthorizerRejected, authorize
from taskapp.auth.context import AuthorizerContext
from taskapp.auth.tokens import issue_access_token
from taskapp.redis_client import RedisUnavailable, guarded
from tests.support.api_client import ApiClient
from tests.support.faults import Configure, DownRedis, settings_configurer, switch_redis
from tests.support.lambda_events import FakeLambdaContext, api_event, authorizer_context, load_function

ARN = "arn:aws:execute-api:us-east-1:000000000000:testapi/local/GET/tasks"
PASSWORD = "correct horse battery"


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Configure:
    return settings_configurer(monkeypatch, request)


def _trip(times: int) -> None:
    for _ in range(times):
        with pytest.raises(RedisUnavailable):
            guarded(lambda r: r.ping())


def test_breaker_opens_after_fail_max_and_then_fails_without_touching_redis(
    monkeypatch: pytest.MonkeyPatch, configure: Configure
) -> None:
    configure(REDIS_BREAKER_FAIL_MAX=3, REDIS_BREAKER_RESET_SECONDS=60)
    down = DownRedis()
    switch_redis(monkeypatch, down)
    _trip(3)
    assert down.attempts == 3
    assert redis_client.breaker_state() == "open"
    _trip(5)
    assert down.attempts == 3  # open: failed fast, no socket, no timeout to wait for


def test_breaker_half_opens_after_reset_timeout_and_closes_on_success(
    monkeypatch: pytest.MonkeyPatch, configure: Configure
) -> None:
    configure(REDIS_BREAKER_FAIL_MAX=2, REDIS_BREAKER_RESET_SECONDS=0.2)
    switch_redis(monkeypatch, DownRedis())
    _trip(2)
    assert redis_client.breaker_state() == "open"
    healthy = fakeredis.FakeRedis(decode_responses=True)
    switch_redis(monkeypatch, healthy)
    _trip(1)  # still open: the healthy server is not even asked
    time.sleep(0.3)
    assert guarded(lambda r: r.ping()) is True
    assert redis_client.breaker_state() == "closed"


def test_failed_trial_call_reopens_the_breaker(monkeypatch: pytest.MonkeyPatch, configure: Configure) -> None:
    configure(REDIS_BREAKER_FAIL_MAX=2, REDIS_BREAKER_RESET_SECONDS=0.2)
    down = DownRedis()
    switch_redis(monkeypatch, down)
    _trip(2)
    time.sleep(0.3)
    _trip(1)  # the half-open trial call reaches Redis, fails, and opens the breaker again
    assert down.attempts == 3
    assert redis_client.breaker_state() == "open"
    _trip(1)
    assert down.attempts == 3


def test_errors_that_are_not_redis_failures_do_not_open_the_breaker(
    fake_redis: fakeredis.FakeRedis, configure: Configure
) -> None:
    configure(REDIS_BREAKER_FAIL_MAX=1)

    def buggy(_: redis.Redis) -> None:
        raise KeyError("a bug in the caller")

    for _ in range(3):
        with pytest.raises(KeyError):
            guarded(buggy)
    assert redis_client.breaker_state() == "closed"


# --- revocation: fail closed by default -----------------------------------------------------------------------


def test_authorizer_fails_closed_when_redis_is_down(
    fake_redis: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch, configure: Configure
) -> None:
    configure()
    token = issue_access_token(str(uuid.uuid4()), str(uuid.uuid4())).token
    assert authorize(f"Bearer {token}", ARN)["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    switch_redis(monkeypatch, DownRedis())
    for _ in range(5):  # before and after the breaker opens
        with pytest.raises(AuthorizerRejected) as rejected:
            authorize(f"Bearer {token}", ARN)
        assert rejected.value.reason == "revocation store unavailable"


def test_revoked_token_never_passes_during_an_outage(
    fake_redis: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch, configure: Configure
) -> None:
    configure()
    issued = issue_access_token(str(uuid.uuid4()), str(uuid.uuid4()))
    revocation.revoke_access_token(issued.claims.jti, issued.claims.expires_at)
    switch_redis(monkeypatch, DownRedis())
    with pytest.raises(AuthorizerRejected):
        authorize(f"Bearer {issued.token}", ARN)


def test_fail_open_is_an_explicit_setting(
    fake_redis: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch, configure: Configure
) -> None:
    configure(REVOCATION_FAIL_OPEN="true")
    token = issue_access_token(str(uuid.uuid4()), str(uuid.uuid4())).token
    switch_redis(monkeypatch, DownRedis())
    assert authorize(f"Bearer {token}", ARN)["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_handler_guard_answers_503_with_retry_after_when_redis_is_down(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch, configure: Configure
) -> None:
    """The authorizer's Allow may be cached by API Gateway: the handler's own check must also fail closed."""
    configure()
    caller = AuthorizerContext(str(uuid.uuid4()), str(uuid.uuid4()), expires_at=int(time.time()) + 600, session_id="s")
    event = api_event("GET", "/tasks", authorizer=authorizer_context(caller))
    switch_redis(monkeypatch, DownRedis())
    result = load_function("list_tasks").handler(event, FakeLambdaContext("list_tasks"))
    assert result["statusCode"] == 503
    assert '"AUTH_UNAVAILABLE"' in result["body"]
    assert result["multiValueHeaders"]["Retry-After"] == ["1"]


def test_logout_reports_503_when_the_token_cannot_be_blacklisted(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch, configure: Configure
) -> None:
    configure(REVOCATION_FAIL_OPEN="true")  # let the request through the guard to reach the logout itself
    email = "logout-outage@example.com"
    client.post("/auth/register", json_body={"name": "L", "email": email, "password": PASSWORD})
    token = client.post("/auth/login", json_body={"email": email, "password": PASSWORD}).json()["accessToken"]
    switch_redis(monkeypatch, DownRedis())
    response = client.post("/auth/logout", token=token)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "REVOCATION_UNAVAILABLE"


# --- health ---------------------------------------------------------------------------------------------------


def test_health_reports_redis_down_and_the_open_breaker(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch, configure: Configure
) -> None:
    configure(REDIS_BREAKER_FAIL_MAX=2, REDIS_BREAKER_RESET_SECONDS=60)
    assert client.get("/health").json()["dependencies"]["redis"]["status"] == "up"
    down = DownRedis()
    switch_redis(monkeypatch, down)
    first = client.get("/health")
    assert first.status_code == 503
    assert first.json()["status"] == "degraded"
    assert first.json()["dependencies"]["redis"]["status"] == "down"
    assert first.json()["dependencies"]["dynamodb"]["status"] == "up"
    client.get("/health")
    attempts = down.attempts
    opened = client.get("/health").json()["dependencies"]["redis"]
    assert opened["status"] == "down"
    assert "circuit breaker open" in opened["error"]
    assert down.attempts == attempts


def test_health_reports_a_client_that_cannot_be_built_without_opening_the_breaker(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch, configure: Configure
) -> None:
    configure(REDIS_BREAKER_FAIL_MAX=1)

    def bad_url() -> redis.Redis:
        raise ValueError("Redis URL must specify one of the following schemes")

    monkeypatch.setattr(redis_client, "get_redis", bad_url)
    report = client.get("/health")
    assert report.status_code == 503
    assert report.json()["dependencies"]["redis"] == {**report.json()["dependencies"]["redis"], "status": "down"}
    assert report.json()["dependencies"]["redis"]["error"] == "ValueError"
    assert redis_client.breaker_state() == "closed"  # a configuration bug is not an outage to wait out


def test_health_names_the_redis_error_then_the_open_breaker(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch, configure: Configure
) -> None:
    configure(REDIS_BREAKER_FAIL_MAX=2, REDIS_BREAKER_RESET_SECONDS=60)
    switch_redis(monkeypatch, DownRedis())
    errors = [client.get("/health").json()["dependencies"]["redis"]["error"] for _ in range(3)]
    assert errors == [
        "ConnectionError",
        "ConnectionError (circuit breaker open)",
        "RedisUnavailable (circuit breaker open)",
    ]
