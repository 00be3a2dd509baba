"""Access-token revocation in Redis: a blacklisted jti, and a per-user session generation for "revoke everything".

- `revoked:jti:{jti}` is kept exactly as long as the token could still be used (logout).
- `revoked:sid:{sessionId}` ends every access token of one login session (logout): tokens minted by earlier
  refreshes of that session carry the same `sid`. It lives one access-token TTL, the longest any of them can live.
- `sessions:gen:{userId}` holds the user's current session generation (bumped by a password change); access tokens
  carry the generation they were issued in (`sgen`), and an older one is refused. It lives one access-token TTL:
  after that every older access token has expired anyway. Refresh tokens are checked against the durable copy in
  DynamoDB (taskapp.data.sessions), so losing Redis never resurrects a revoked refresh token.

All three are read with one MGET, so the authorizer pays one round trip; the handler guard pays none of its own (its
MGET rides in the rate limiter's pipeline, taskapp.api). When Redis is unavailable the check fails CLOSED
(RevocationStoreUnavailable) unless REVOCATION_FAIL_OPEN is set.
"""

from __future__ import annotations

import time

from aws_lambda_powertools.metrics import MetricUnit

from taskapp.auth.keys import LEEWAY_SECONDS
from taskapp.observability import logger, metrics
from taskapp.redis_client import RedisUnavailable, guarded
from taskapp.settings import revocation_settings, token_settings

KEY_PREFIX = "revoked:jti:"
GENERATION_PREFIX = "sessions:gen:"
SESSION_PREFIX = "revoked:sid:"


class RevocationStoreUnavailable(RedisUnavailable):
    """Redis could not answer; callers fail closed: an unverifiable token is refused."""


def revoke_access_token(jti: str, expires_at: int, now: float | None = None) -> None:
    """Blacklist until the last second the verifier would still accept the token (exp plus its leeway).

    The expiry is an absolute time (SET EXAT) rather than a relative TTL, so truncating "seconds left" can never
    let the entry vanish while the token is still usable.
    """
    usable_until = expires_at + LEEWAY_SECONDS
    if usable_until <= (time.time() if now is None else now):
        return  # already refused by the verifier: nothing can use it any more
    try:
        guarded(lambda r: r.set(KEY_PREFIX + jti, "1", exat=usable_until))
    except RedisUnavailable as exc:
        logger.error("could not blacklist access token", extra={"jti": jti, "error": str(exc)})
        raise RevocationStoreUnavailable(str(exc)) from exc


def revoke_session_access_tokens(session_id: str) -> None:
    """Refuse every access token of the session at once, including ones minted by earlier refreshes."""
    ttl = token_settings().access_token_ttl_seconds + LEEWAY_SECONDS + 1
    try:
        guarded(lambda r: r.set(SESSION_PREFIX + session_id, "1", ex=ttl))
    except RedisUnavailable as exc:
        logger.error("could not revoke session", extra={"session_id": session_id, "error": str(exc)})
        raise RevocationStoreUnavailable(str(exc)) from exc


def publish_session_generation(user_id: str, generation: int) -> None:
    """Make every access token of an older generation invalid at once (they expire within one TTL anyway)."""
    ttl = token_settings().access_token_ttl_seconds + LEEWAY_SECONDS + 1
    try:
        guarded(lambda r: r.set(GENERATION_PREFIX + user_id, str(generation), ex=ttl))
    except RedisUnavailable as exc:
        logger.error("could not publish session generation", extra={"user_id": user_id, "error": str(exc)})
        raise RevocationStoreUnavailable(str(exc)) from exc


def revocation_keys(jti: str, user_id: str = "", session_id: str = "") -> list[str]:
    """What one check reads, in the order `judge_revocation` expects: for a caller that reads them in a round trip
    it makes anyway (the API's rate limiter, taskapp.api)."""
    return [KEY_PREFIX + jti, GENERATION_PREFIX + user_id, SESSION_PREFIX + session_id]


def judge_revocation(values: list[bytes | str | None], session_generation: int = 0, session_id: str = "") -> bool:
    """The verdict on the values of `revocation_keys`, as read from Redis."""
    blacklisted, current, session_revoked = values
    if session_id and session_revoked:
        return True
    return bool(blacklisted) or (current is not None and int(current) > session_generation)


def is_token_revoked(jti: str, user_id: str = "", session_generation: int = 0, session_id: str = "") -> bool:
    """One round trip: the jti blacklist, the user's current session generation and the session's revocation."""
    keys = revocation_keys(jti, user_id, session_id)
    try:
        values = guarded(lambda r: r.mget(keys))
    except RedisUnavailable as exc:
        return _unverifiable(jti, exc)
    return judge_revocation(values, session_generation, session_id)


def is_access_token_revoked(jti: str) -> bool:
    return is_token_revoked(jti)


def _unverifiable(jti: str, exc: RedisUnavailable) -> bool:
    metrics.add_metric(name="RevocationCheckUnavailable", unit=MetricUnit.Count, value=1)
    if revocation_settings().revocation_fail_open:
        logger.warning("revocation check unavailable; failing open by configuration", extra={"jti": jti})
        return False
    logger.error("revocation check unavailable; failing closed", extra={"jti": jti, "error": str(exc)})
    raise RevocationStoreUnavailable(str(exc)) from exc
