"""The rate limiter's Lua scripts on a real Redis: atomic under concurrency, sliding, growing the login delay, and
expiring their keys."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from taskapp import rate_limit, redis_client, settings
from taskapp.observability import metrics
from taskapp.rate_limit import RateLimitScope
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
    monkeypatch.setenv("RATE_LIMIT_REGISTRATIONS_PER_IP", "10")
    monkeypatch.setenv("RATE_LIMIT_REGISTRATION_WINDOW_SECONDS", "60")
    # The documented login policy (taskapp.rate_limit), stated here so the suite's environment cannot change it.
    for name, value in {
        "RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT": "5",
        "RATE_LIMIT_LOGIN_FORGET_SECONDS": "900",
        "RATE_LIMIT_LOGIN_DELAY_BASE_SECONDS": "30",
        "RATE_LIMIT_LOGIN_DELAY_MAX_SECONDS": "900",
        "RATE_LIMIT_LOGIN_FAILURES_PER_IP": "100",
        "RATE_LIMIT_LOGIN_IP_WINDOW_SECONDS": "900",
        "RATE_LIMIT_REFRESHES_PER_SESSION": "10",
        "RATE_LIMIT_REFRESH_WINDOW_SECONDS": "60",
    }.items():
        monkeypatch.setenv(name, value)
    settings.clear_cache()
    redis_client.get_redis.cache_clear()
    redis_client.redis_breaker.cache_clear()
    yield server
    server.cleanup()
    settings.clear_cache()
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
    decisions = [rate_limit.hit(RateLimitScope.REGISTRATION, "192.0.2.1", now=start + i) for i in range(11)]
    assert [d.allowed for d in decisions if d] == [True] * 10 + [False]
    later = rate_limit.hit(RateLimitScope.REGISTRATION, "192.0.2.1", now=start + 60.001)
    assert later is not None and later.allowed


def test_window_keys_expire(real_redis: PrivateRedis) -> None:
    rate_limit.hit(RateLimitScope.USER, "expiring")
    client = redis_client.get_redis()
    ttl_ms = client.pttl("ratelimit:user:expiring")
    assert 0 < ttl_ms <= 60_000


def test_parallel_guesses_at_one_account_get_exactly_the_free_five(real_redis: PrivateRedis) -> None:
    """100 wrong-password attempts from 16 threads and 100 addresses at once: counting before the password check,
    in one script, lets exactly five through; checking first and counting after would let them all through."""
    email = f"{uuid.uuid4().hex}@example.com"
    with ThreadPoolExecutor(max_workers=16) as pool:
        admissions = list(pool.map(lambda i: rate_limit.admit_login(email, f"198.51.100.{i}"), range(100)))
    assert sum(admission.admitted for admission in admissions) == 5
    refused = [admission for admission in admissions if not admission.admitted]
    assert {admission.refused_by for admission in refused} == {rate_limit.LoginLimit.ACCOUNT}
    # each thread read its clock before its turn in Redis: a later thread's failure may be up to a second newer
    assert all(0 < admission.retry_after_seconds <= 31 for admission in refused)


def test_the_login_delay_doubles_up_to_its_cap_on_real_redis(real_redis: PrivateRedis) -> None:
    email, now = f"{uuid.uuid4().hex}@example.com", time.time()
    for _ in range(5):
        assert rate_limit.admit_login(email, "192.0.2.7", now=now).admitted
    waits = []
    for _ in range(8):
        refused = rate_limit.admit_login(email, "192.0.2.7", now=now)
        assert not refused.admitted
        waits.append(round(refused.retry_at - now))
        now = refused.retry_at
        assert rate_limit.admit_login(email, "192.0.2.7", now=now).admitted
    assert waits == [30, 60, 120, 240, 480, 900, 900, 900]
    ttl_ms = redis_client.get_redis().pttl(rate_limit.account_key(email))
    assert (900 + 900 - 5) * 1000 < ttl_ms <= (900 + 900) * 1000  # forgotten 15 min after the capped wait


def test_successful_logins_leave_no_trace_in_the_ip_window(real_redis: PrivateRedis) -> None:
    ip, now = "203.0.113.77", time.time()
    for i in range(150):  # an office signing in all morning
        rate_limit.admit_login(f"colleague{i}@example.com", ip, now=now + i).succeeded()
    client = redis_client.get_redis()
    assert client.zcard(f"{rate_limit.LOGIN_IP_PREFIX}{ip}") == 0
    assert not client.exists(rate_limit.account_key("colleague0@example.com"))
    for i in range(100):
        assert rate_limit.admit_login(f"guess{i}@example.com", ip, now=now + 200).admitted
    refused = rate_limit.admit_login("one-more@example.com", ip, now=now + 200)
    assert not refused.admitted and refused.refused_by is rate_limit.LoginLimit.CLIENT_IP
    assert 0 < client.pttl(f"{rate_limit.LOGIN_IP_PREFIX}{ip}") <= 900_000


def test_refreshes_are_counted_per_session_on_real_redis(real_redis: PrivateRedis) -> None:
    session, other, start = str(uuid.uuid4()), str(uuid.uuid4()), time.time()
    decisions = [rate_limit.hit(RateLimitScope.REFRESH, session, now=start + i) for i in range(11)]
    assert [d.allowed for d in decisions if d] == [True] * 10 + [False]
    other_session = rate_limit.hit(RateLimitScope.REFRESH, other, now=start + 11)
    assert other_session is not None and other_session.allowed


def test_hit_and_read_counts_once_through_a_script_flush_and_reads_the_keys(real_redis: PrivateRedis) -> None:
    """On a real Redis: a fresh server (NOSCRIPT), the pipelined path, and a SCRIPT FLUSH (what a restart does to the
    script cache) each count the request exactly once and still return the keys read beside it."""
    user = str(uuid.uuid4())
    client = redis_client.get_redis()
    client.script_flush()
    client.set(f"present:{user}", "7")
    keys = [f"present:{user}", f"absent:{user}"]
    first = rate_limit.hit_and_read(RateLimitScope.USER, user, keys)
    second = rate_limit.hit_and_read(RateLimitScope.USER, user, keys)
    client.script_flush()
    third = rate_limit.hit_and_read(RateLimitScope.USER, user, keys)
    assert [decision.remaining for decision, _ in (first, second, third) if decision] == [24, 23, 22]
    assert {str(values) for _, values in (first, second, third)} == {str(["7", None])}


def test_concurrent_pipelined_requests_never_exceed_the_limit(real_redis: PrivateRedis) -> None:
    user = str(uuid.uuid4())
    rate_limit.hit(RateLimitScope.USER, str(uuid.uuid4()))  # the script loaded: every call below is pipelined
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _: rate_limit.hit_and_read(RateLimitScope.USER, user, ["k"]), range(200)))
    assert all(decision is not None and values == [None] for decision, values in results)
    assert len([decision for decision, _ in results if decision and decision.allowed]) == 25
