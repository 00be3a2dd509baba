"""Sliding-window rate limits in Redis: per authenticated user on task routes, per client IP on the auth routes.

A sliding log in a sorted set, evaluated by one Lua script (redis-py `register_script`: EVALSHA, falling back to
EVAL), so trimming, counting and recording are atomic and cost one round trip. Chosen over the `limits` library
because this needs the allow decision *and* the header values (remaining, reset) from that same single call, through
the same breaker-guarded connection pool as the rest of the app. A refused request is not recorded, so a client that
keeps hammering gets in again as soon as its oldest request leaves the window.

The clock is the caller's (Lambda hosts are NTP-synced; a few ms of skew only shifts the window edge), which keeps
the script deterministic and lets tests pass `now`. If Redis is unavailable the limiter fails OPEN: an outage of the
limiter must not become an outage of the API.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum

from aws_lambda_powertools.metrics import MetricUnit

from taskapp.observability import logger, metrics
from taskapp.redis_client import RedisUnavailable, guarded
from taskapp.settings import get_settings

KEY_PREFIX = "ratelimit:"

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


class RateLimitScope(StrEnum):
    USER = "user"
    CLIENT_IP = "ip"


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


def limit_for(scope: RateLimitScope) -> int:
    settings = get_settings()
    return settings.rate_limit_user_per_window if scope is RateLimitScope.USER else settings.rate_limit_ip_per_window


def hit(scope: RateLimitScope, identity: str, now: float | None = None) -> RateLimitDecision | None:
    """Count one request against `identity`; None when the limit is disabled (0) or Redis is unavailable."""
    limit = limit_for(scope)
    if limit <= 0:
        return None
    now = time.time() if now is None else now
    window_ms = get_settings().rate_limit_window_seconds * 1000
    now_ms = int(now * 1000)
    key = f"{KEY_PREFIX}{scope.value}:{identity}"
    member = f"{now_ms}:{uuid.uuid4().hex[:12]}"
    try:
        allowed, remaining, reset_ms = guarded(
            lambda r: r.register_script(SLIDING_WINDOW_SCRIPT)(keys=[key], args=[now_ms, window_ms, limit, member])
        )
    except RedisUnavailable as exc:
        logger.warning("rate limiter unavailable; failing open", extra={"scope": scope.value, "error": str(exc)})
        metrics.add_metric(name="RateLimiterUnavailable", unit=MetricUnit.Count, value=1)
        return None
    decision = RateLimitDecision(
        allowed=bool(allowed), limit=limit, remaining=int(remaining), reset_at=int(reset_ms) / 1000, now=now
    )
    if not decision.allowed:
        metrics.add_metric(name="RateLimited", unit=MetricUnit.Count, value=1)
    return decision
