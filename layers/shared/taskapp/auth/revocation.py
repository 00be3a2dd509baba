"""Access-token blacklist in Redis: a revoked jti is kept exactly as long as the token could still be used."""

from __future__ import annotations

import time

import redis

from taskapp.auth.tokens import LEEWAY_SECONDS
from taskapp.observability import logger
from taskapp.redis_client import get_redis

KEY_PREFIX = "revoked:jti:"


class RevocationStoreUnavailable(Exception):
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
        get_redis().set(KEY_PREFIX + jti, "1", exat=usable_until)
    except redis.RedisError as exc:
        logger.error("could not blacklist access token", extra={"jti": jti, "error": str(exc)})
        raise RevocationStoreUnavailable(str(exc)) from exc


def is_access_token_revoked(jti: str) -> bool:
    try:
        return bool(get_redis().exists(KEY_PREFIX + jti))
    except redis.RedisError as exc:
        logger.error("revocation check failed", extra={"jti": jti, "error": str(exc)})
        raise RevocationStoreUnavailable(str(exc)) from exc
