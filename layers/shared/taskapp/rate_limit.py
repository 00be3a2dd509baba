"""Rate limits in Redis, shaped like an identity provider's so that an office behind one NAT address is never locked
out while a password guesser is.

- authenticated routes, per user id: 100 requests / 60 s (sliding window, counted before routing);
- `POST /auth/register`, per client IP: 50 / hour (sliding window, before routing);
- `POST /auth/login`, per account (sha256 of the normalized email, whatever the address): 5 consecutive failures
  are free, then each attempt must wait 30 s, 60 s, 120 s ... (at most 15 min) after the previous failure; the
  count is forgotten 15 min after the wait ends, or at once by a successful login;
- `POST /auth/login`, per client IP: 100 failed logins / 15 min over all accounts (sliding window);
- `POST /auth/refresh`, per session: 10 rotations / 60 s (sliding window, after reuse detection).

Those are the defaults; every number is a template parameter (docs/hardening.md).

Why this shape: a successful login never counts against its address (eleven colleagues behind one NAT all sign in),
a page refreshing its token counts only against its own session, and the per-account rule holds whatever address an
attempt claims (MiniStack takes `sourceIp` from the client's `X-Forwarded-For`): a guesser rotating addresses gets
5 tries and then one per growing delay. The delay is bounded, so no attacker can lock an account for good: once the
wait is over, the owner's correct password works (and resets the count). A refused attempt checks no password and
is not counted, so hammering during the wait neither helps nor extends it.

Login attempts are counted *before* the password is checked, as if they were failures, and refunded when the password
proves right: checking first and counting afterwards would let 100 parallel guesses all pass the check before any of
them was counted. Each decision is one Lua script (redis-py `register_script`: EVALSHA, falling back to EVAL), so
checking and recording are atomic and cost one round trip; `hit_and_read` sends the per-user window's EVALSHA in one
pipeline with the API's revocation MGET, so an authenticated request pays one round trip for both. Chosen over the
`limits` library because this needs the decision *and* the header values (remaining, reset) from that same single call,
and a login policy (consecutive failures, growing delay, refund on success) that a fixed or sliding window alone does
not express, through the same breaker-guarded connection pool as the rest of the app. The clock is the caller's (Lambda
hosts are NTP-synced; a few ms of skew only shifts a window edge), which keeps the scripts deterministic and lets tests
pass `now`. If Redis is unavailable every limiter fails OPEN: an outage of the limiter must not become an outage of the
API (sign-in included).
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools.metrics import MetricUnit
from redis.exceptions import NoScriptError

from taskapp.observability import logger, metrics
from taskapp.redis_client import RedisUnavailable, guarded
from taskapp.settings import login_limit_settings, rate_limit_settings

if TYPE_CHECKING:
    from redis import Redis

KEY_PREFIX = "ratelimit:"
LOGIN_ACCOUNT_PREFIX = f"{KEY_PREFIX}login-account:"
LOGIN_IP_PREFIX = f"{KEY_PREFIX}login-ip:"

# KEYS[1] = the window's sorted set; ARGV = now_ms, window_ms, limit, unique member.
# Returns {allowed (0/1), remaining, reset_ms (when the oldest request in the window leaves it)}.
SLIDING_WINDOW_SCRIPT = """
local key = KEYS[1]
local now_ms = tonumber(ARGV[1])
local window_ms = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now_ms - window_ms)
local count = redis.call('ZCARD', key)
local allowed = 0
if count < limit then
  redis.call('ZADD', key, now_ms, ARGV[4])
  count = count + 1
  allowed = 1
end
redis.call('PEXPIRE', key, window_ms)
local reset_ms = now_ms + window_ms
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
if oldest[2] then reset_ms = tonumber(oldest[2]) + window_ms end
return {allowed, limit - count, reset_ms}
"""
# What EVALSHA names it by (as redis-py's Script computes it).
SLIDING_WINDOW_SHA = hashlib.sha1(SLIDING_WINDOW_SCRIPT.encode(), usedforsecurity=False).hexdigest()


# KEYS[1] = the account's failure record (hash: n = consecutive failures, last = ms of the latest one),
# KEYS[2] = the client IP's sliding window of failures.
# ARGV = now_ms, account_limit, forget_ms, base_delay_ms, max_delay_ms, ip_limit, ip_window_ms, member.
# A limit of 0 disables that half. Returns {admitted (0/1), refusing half ('' | 'account' | 'ip'), retry_at_ms}.
# Admitting records the attempt in both halves at once; refusing records nothing.
LOGIN_ATTEMPT_SCRIPT = """
local now_ms = tonumber(ARGV[1])
local account_limit = tonumber(ARGV[2])
local forget_ms = tonumber(ARGV[3])
local base_ms = tonumber(ARGV[4])
local max_ms = tonumber(ARGV[5])
local ip_limit = tonumber(ARGV[6])
local ip_window_ms = tonumber(ARGV[7])
local function delay_after(failures)
  if failures < account_limit then return 0 end
  return math.min(base_ms * 2 ^ (failures - account_limit), max_ms)
end
local failures = 0
if account_limit > 0 then
  failures = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
  local last_ms = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
  local open_at = last_ms + delay_after(failures)
  if failures >= account_limit and now_ms < open_at then return {0, 'account', open_at} end
end
if ip_limit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now_ms - ip_window_ms)
  if redis.call('ZCARD', KEYS[2]) >= ip_limit then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {0, 'ip', tonumber(oldest[2]) + ip_window_ms}
  end
end
if account_limit > 0 then
  failures = failures + 1
  redis.call('HSET', KEYS[1], 'n', failures, 'last', now_ms)
  redis.call('PEXPIRE', KEYS[1], forget_ms + delay_after(failures))
end
if ip_limit > 0 then
  redis.call('ZADD', KEYS[2], now_ms, ARGV[8])
  redis.call('PEXPIRE', KEYS[2], ip_window_ms)
end
return {1, '', 0}
"""


class RateLimitScope(StrEnum):
    """The sliding-window limits; login has a policy of its own (`admit_login`)."""

    USER = "user"
    REGISTRATION = "register"  # per client IP
    REFRESH = "refresh"  # per session


@dataclass(frozen=True)
class WindowLimit:
    requests: int  # 0 disables the limit
    window_seconds: int


@dataclass(frozen=True)
class RateLimitDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds when one more request will be allowed
    now: float

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil(self.reset_at - self.now))

    def headers(self) -> dict[str, str]:
        """`X-RateLimit-Reset` is epoch seconds (GitHub's convention); `Retry-After` is delta seconds (RFC 9110)."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.remaining)),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_seconds)
        return headers


def limit_for(scope: RateLimitScope) -> WindowLimit:
    settings = rate_limit_settings()
    if scope is RateLimitScope.USER:
        return WindowLimit(settings.rate_limit_user_per_minute, settings.rate_limit_window_seconds)
    if scope is RateLimitScope.REGISTRATION:
        return WindowLimit(settings.rate_limit_registrations_per_ip, settings.rate_limit_registration_window_seconds)
    return WindowLimit(settings.rate_limit_refreshes_per_session, settings.rate_limit_refresh_window_seconds)


def _limiter_unavailable(what: str, exc: RedisUnavailable) -> None:
    logger.warning("rate limiter unavailable; failing open", extra={"scope": what, "error": str(exc)})
    metrics.add_metric(name="RateLimiterUnavailable", unit=MetricUnit.Count, value=1)


def hit(scope: RateLimitScope, identity: str, now: float | None = None) -> RateLimitDecision | None:
    """Count one request against `identity`; None when the limit is disabled (0) or Redis is unavailable."""
    window = _WindowHit.of(scope, identity, now)
    if window is None:
        return None
    try:
        result = guarded(lambda r: r.register_script(SLIDING_WINDOW_SCRIPT)(keys=[window.key], args=window.args))
    except RedisUnavailable as exc:
        _limiter_unavailable(scope.value, exc)
        return None
    return window.decision(result)


def hit_and_read(
    scope: RateLimitScope, identity: str, keys: list[str], now: float | None = None
) -> tuple[RateLimitDecision | None, list[Any] | None]:
    """`hit`, and an MGET of `keys` in the same round trip (one pipeline): the API's revocation check rides along.

    The values are None when they were not read here (the limit is disabled, or Redis failed): the caller reads
    them itself, and judges that outage by its own rule (the revocation check fails closed, this limiter open).
    """
    window = _WindowHit.of(scope, identity, now)
    if window is None:
        return None, None

    def pipelined(r: Redis) -> list[Any]:
        pipe = r.pipeline(transaction=False)
        # EVALSHA itself, not a Script: redis-py checks a pipeline's scripts with a SCRIPT EXISTS round trip first.
        pipe.evalsha(SLIDING_WINDOW_SHA, 1, window.key, *window.args)
        pipe.mget(keys)
        return cast("list[Any]", pipe.execute(raise_on_error=False))

    try:
        counted, values = guarded(pipelined)
    except RedisUnavailable as exc:
        _limiter_unavailable(scope.value, exc)
        return None, None
    read = None if isinstance(values, Exception) else cast("list[Any]", values)
    if isinstance(counted, NoScriptError):  # Redis lost its scripts (a restart): nothing was counted, so count now
        return hit(scope, identity, now), read
    if isinstance(counted, Exception):
        _limiter_unavailable(scope.value, RedisUnavailable(f"{type(counted).__name__}: {counted}"))
        return None, read
    return window.decision(counted), read


class _WindowHit:
    """One request's sliding-window call: the key, the script's arguments, and the decision its answer means."""

    __slots__ = ("args", "key", "limit", "now")

    def __init__(self, limit: WindowLimit, key: str, now: float) -> None:
        now_ms = int(now * 1000)
        self.limit, self.key, self.now = limit, key, now
        member = f"{now_ms}:{uuid.uuid4().hex[:12]}"  # unique, so two requests in one millisecond both count
        self.args: list[int | str] = [now_ms, limit.window_seconds * 1000, limit.requests, member]

    @classmethod
    def of(cls, scope: RateLimitScope, identity: str, now: float | None) -> _WindowHit | None:
        limit = limit_for(scope)
        if limit.requests <= 0:
            return None
        return cls(limit, f"{KEY_PREFIX}{scope.value}:{identity}", time.time() if now is None else now)

    def decision(self, result: Any) -> RateLimitDecision:
        allowed, remaining, reset_ms = result
        decision = RateLimitDecision(
            allowed=bool(allowed),
            limit=self.limit.requests,
            remaining=int(remaining),
            reset_at=int(reset_ms) / 1000,
            now=self.now,
        )
        if not decision.allowed:
            metrics.add_metric(name="RateLimited", unit=MetricUnit.Count, value=1)
        return decision


class LoginLimit(StrEnum):
    ACCOUNT = "account"
    CLIENT_IP = "ip"


@dataclass(frozen=True)
class LoginAdmission:
    """The throttle's answer to one login attempt. An admitted attempt is already counted as a failure against
    its account and its client IP; `succeeded()` takes it back once the password proved right."""

    admitted: bool
    refused_by: LoginLimit | None = None
    limit: int = 0
    retry_at: float = 0.0
    now: float = 0.0
    account_key: str = ""
    ip_key: str = ""
    ip_member: str = field(default="", repr=False)

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil(self.retry_at - self.now))

    def headers(self) -> dict[str, str]:
        """Only a refusal carries headers: an admitted attempt's remaining tries would tell a guesser his budget."""
        if self.admitted:
            return {}
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(math.ceil(self.retry_at)),
            "Retry-After": str(self.retry_after_seconds),
        }

    def succeeded(self) -> None:
        """The password was right: the account's consecutive failures start again from zero and the attempt leaves
        the IP's window, so successful logins never count against an address. Best effort: if Redis is gone the
        record simply expires."""
        if not self.admitted or not (self.account_key or self.ip_member):
            return
        account_key, ip_key, ip_member = self.account_key, self.ip_key, self.ip_member

        def forget(r: Redis) -> None:
            pipe = r.pipeline(transaction=False)
            if account_key:
                pipe.delete(account_key)
            if ip_member:
                pipe.zrem(ip_key, ip_member)
            pipe.execute()

        try:
            guarded(forget)
        except RedisUnavailable as exc:
            _limiter_unavailable("login", exc)


def account_key(email: str) -> str:
    """Keyed by a hash of the normalized email, so Redis never holds addresses; unknown emails are throttled the same
    way as real ones, so a 429 tells nothing about whether an account exists."""
    return LOGIN_ACCOUNT_PREFIX + hashlib.sha256(email.encode("utf-8")).hexdigest()


def admit_login(email: str, client_ip: str, now: float | None = None) -> LoginAdmission:
    """Decide whether a login attempt for `email` (normalized) from `client_ip` may check its password."""
    settings = login_limit_settings()
    account_limit = max(0, settings.rate_limit_login_failures_per_account)
    ip_limit = max(0, settings.rate_limit_login_failures_per_ip)
    now = time.time() if now is None else now
    if account_limit == 0 and ip_limit == 0:
        return LoginAdmission(admitted=True, now=now)
    now_ms = int(now * 1000)
    keys = [account_key(email), f"{LOGIN_IP_PREFIX}{client_ip or 'unknown'}"]
    member = f"{now_ms}:{uuid.uuid4().hex[:12]}"
    args: list[int | str] = [
        now_ms,
        account_limit,
        settings.rate_limit_login_forget_seconds * 1000,
        settings.rate_limit_login_delay_base_seconds * 1000,
        settings.rate_limit_login_delay_max_seconds * 1000,
        ip_limit,
        settings.rate_limit_login_ip_window_seconds * 1000,
        member,
    ]
    try:
        admitted, refused_by, retry_at_ms = guarded(
            lambda r: r.register_script(LOGIN_ATTEMPT_SCRIPT)(keys=keys, args=args)
        )
    except RedisUnavailable as exc:
        _limiter_unavailable("login", exc)
        return LoginAdmission(admitted=True, now=now)
    if admitted:
        return LoginAdmission(
            admitted=True,
            now=now,
            account_key=keys[0] if account_limit else "",
            ip_key=keys[1],
            ip_member=member if ip_limit else "",
        )
    limit = LoginLimit(refused_by)
    metrics.add_metric(name="LoginThrottled", unit=MetricUnit.Count, value=1)
    logger.info("login attempt throttled", extra={"limit": limit.value})
    return LoginAdmission(
        admitted=False,
        refused_by=limit,
        limit=account_limit if limit is LoginLimit.ACCOUNT else ip_limit,
        retry_at=int(retry_at_ms) / 1000,
        now=now,
    )
