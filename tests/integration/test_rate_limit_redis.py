"""The rate limiter's Lua script on a real Redis: atomic under concurrency, sliding, and expiring its keys."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from taskapp import rate_limit, redis_client
from taskapp.observability import metrics
from taskapp.rate_limit import RateLimitScope
from taskapp.settings import get_settings
from tests.support.private_redis import PrivateRedis

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture
def real_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateRedis]:
    metrics.namespace = metrics.namespace or "TaskAppIntegration"  # when run without the suite's conftest
    server = PrivateRedis()
    server.start()
    monkeypatch.setenv("REDIS_URL", server.url)
    monkeypatch.setenv("RATE_LIMIT_WINDOW_SECONDS", "60")
    monkeypatch.setenv("RATE_LIMIT_USER_PER_MINUTE", "25")
    monkeypatch.setenv("RATE_LIMIT_IP_PER_MINUTE", "10")
    get_settings.cache_clear()
    redis_client.get_redis.cache_clear()
    redis_client.redis_breaker.cache_clear()
    yield server
    server.cleanup()
    get_settings.cache_clear()
    redis_client.get_redis.cache_clear()
    redis_client.redis_breaker.cache_clear()


def test_concurrent_requests_never_exceed_the_limit(real_redis: PrivateRedis) -> None:
    """200 requests from 16 threads at once: exactly the limit is allowed, no more (the script is atomic)."""
    user = str(uuid.uuid4())
    with ThreadPoolExecutor(max_workers=16) as pool:
        decisions = list(pool.map(lambda _: rate_limit.hit(RateLimitScope.USER, user), range(200)))
    assert all(decision is not None for decision in decisions)
    allowed = [d for d in decisions if d and d.allowed]
    assert len(allowed) == 25
    assert sorted(d.remaining for d in allowed) == list(range(25))


def test_ip_limit_and_window_slide_on_real_redis(real_redis: PrivateRedis) -> None:
    start = time.time()
    decisions = [rate_limit.hit(RateLimitScope.CLIENT_IP, "192.0.2.1", now=start + i) for i in range(11)]
    assert [d.allowed for d in decisions if d] == [True] * 10 + [False]
    later = rate_limit.hit(RateLimitScope.CLIENT_IP, "192.0.2.1", now=start + 60.001)
    assert later is not None and later.allowed


def test_window_keys_expire(real_redis: PrivateRedis) -> None:
    rate_limit.hit(RateLimitScope.USER, "expiring")
    client = redis_client.get_redis()
    ttl_ms = client.pttl("ratelimit:user:expiring")
    assert 0 < ttl_ms <= 60_000
