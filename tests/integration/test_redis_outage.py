"""Redis outage on a real (private) redis-server: requests during the outage, the breaker opening, and recovery.

Stopping Redis for real also proves what fakes cannot: pooled connections that died with the server are replaced
after a restart, and a Redis that accepts connections but never answers is cut off by the socket timeout.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from taskapp import rate_limit, redis_client, settings
from taskapp.auth import revocation, tokens
from taskapp.auth.authorizer import AuthorizerRejected, authorize
from taskapp.auth.context import AuthorizerContext
from taskapp.domain import health
from taskapp.observability import metrics
from taskapp.rate_limit import RateLimitScope
from taskapp.redis_client import RedisUnavailable, guarded
from tests.support.lambda_events import FakeLambdaContext, api_event, authorizer_context, load_function
from tests.support.private_redis import PrivateRedis, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

ARN = "arn:aws:execute-api:us-east-1:000000000000:testapi/test/GET/tasks"
BREAKER_RESET_SECONDS = 1.0


def _reset_cached_state() -> None:
    settings.clear_cache()
    redis_client.get_redis.cache_clear()
    redis_client.redis_breaker.cache_clear()
    tokens.signing_key.cache_clear()


def _use_redis(monkeypatch: pytest.MonkeyPatch, url: str, timeout: float = 0.3) -> None:
    metrics.namespace = metrics.namespace or "TaskAppIntegration"  # when run without the suite's conftest
    monkeypatch.setenv("REDIS_URL", url)
    monkeypatch.setenv("REDIS_TIMEOUT_SECONDS", str(timeout))
    monkeypatch.setenv("REDIS_BREAKER_FAIL_MAX", "3")
    monkeypatch.setenv("REDIS_BREAKER_RESET_SECONDS", str(BREAKER_RESET_SECONDS))
    monkeypatch.setenv("REVOCATION_FAIL_OPEN", "false")
    monkeypatch.setenv("RATE_LIMIT_USER_PER_MINUTE", "1000")
    monkeypatch.setenv("JWT_SECRET", "outage-test-secret-that-is-long-enough-0123456789")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    _reset_cached_state()


@pytest.fixture
def private_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    _use_redis(monkeypatch, server.url)
    yield server
    server.cleanup()
    _reset_cached_state()


def _allowed(token: str) -> bool:
    try:
        decision = authorize(f"Bearer {token}", ARN)
    except AuthorizerRejected:
        return False
    return bool(decision["policyDocument"]["Statement"][0]["Effect"] == "Allow")


def _logout_event(claims: tokens.AccessClaims) -> dict[str, object]:
    caller = AuthorizerContext(claims.user_id, jti=claims.jti, expires_at=claims.expires_at, session_id="")
    return api_event("POST", "/auth/logout", authorizer=authorizer_context(caller))


def test_outage_fails_closed_then_recovers_after_restart(private_redis: PrivateRedis) -> None:
    valid = tokens.issue_access_token(str(uuid.uuid4()), str(uuid.uuid4()))
    revoked = tokens.issue_access_token(str(uuid.uuid4()), str(uuid.uuid4()))
    revocation.revoke_access_token(revoked.claims.jti, revoked.claims.expires_at)
    assert _allowed(valid.token) and not _allowed(revoked.token)
    assert health.check_redis().status == "up"

    private_redis.stop()
    during = [(_allowed(valid.token), _allowed(revoked.token)) for _ in range(6)]
    assert during == [(False, False)] * 6  # fail closed: nothing passes that Redis cannot vouch for
    assert redis_client.breaker_state() == "open"
    down = health.check_redis()
    assert down.status == "down" and "circuit breaker open" in (down.error or "")
    assert rate_limit.hit(RateLimitScope.USER, "someone") is None  # the limiter fails open

    logout = load_function("logout").handler(_logout_event(valid.claims), FakeLambdaContext("logout"))
    assert logout["statusCode"] == 503  # the handler's own guard fails closed too

    private_redis.start()  # same port; Redis lost everything it held (no persistence)
    time.sleep(BREAKER_RESET_SECONDS + 0.2)
    assert _allowed(valid.token)  # the half-open trial succeeds on a fresh connection and closes the breaker
    assert redis_client.breaker_state() == "closed"
    assert health.check_redis().status == "up"
    limited = rate_limit.hit(RateLimitScope.USER, "someone")
    assert limited is not None and limited.allowed


def test_restart_while_closed_costs_no_request(private_redis: PrivateRedis) -> None:
    """Pooled connections die with the server; the client's single retry reconnects instead of failing."""
    token = tokens.issue_access_token(str(uuid.uuid4()), str(uuid.uuid4())).token
    assert _allowed(token)
    private_redis.restart()
    assert _allowed(token)
    assert redis_client.breaker_state() == "closed"


def test_requests_during_an_outage_stop_touching_redis_once_the_breaker_opens(
    private_redis: PrivateRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = tokens.issue_access_token(str(uuid.uuid4()), str(uuid.uuid4())).token
    private_redis.stop()
    calls = 0
    real_get_redis = redis_client.get_redis

    def counting() -> object:
        nonlocal calls
        calls += 1
        return real_get_redis()

    monkeypatch.setattr(redis_client, "get_redis", counting)
    for _ in range(20):
        assert not _allowed(token)
    monkeypatch.setattr(redis_client, "get_redis", real_get_redis)  # so the teardown can clear its cache
    assert calls == settings.redis_settings().redis_breaker_fail_max  # 3 real attempts, then 17 instant refusals


@pytest.fixture
def silent_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A TCP server that accepts connections and never answers: the worst kind of dead Redis."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", free_port()))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_forever() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
                accepted.append(connection)
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    _use_redis(monkeypatch, f"redis://127.0.0.1:{listener.getsockname()[1]}/0", timeout=0.2)
    yield "silent"
    stop.set()
    thread.join(timeout=5)
    for connection in accepted:
        connection.close()
    listener.close()
    _reset_cached_state()


def test_a_redis_that_never_answers_is_cut_off_by_the_socket_timeout(silent_redis: str) -> None:
    for _ in range(3):  # the third failure trips the breaker and says why
        with pytest.raises(RedisUnavailable, match="TimeoutError"):
            guarded(lambda r: r.ping())
    assert redis_client.breaker_state() == "open"
    with pytest.raises(RedisUnavailable, match=r"^circuit breaker open$"):
        guarded(lambda r: r.ping())
