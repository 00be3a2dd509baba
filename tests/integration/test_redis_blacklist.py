"""The access-token blacklist against a real Redis: what logout writes, for how long, and how the check reads it."""

from __future__ import annotations

import time

import pytest
import redis

from taskapp.auth import revocation
from taskapp.auth.authorizer import AuthorizerRejected, authorize
from taskapp.auth.revocation import KEY_PREFIX, RevocationStoreUnavailable, is_access_token_revoked
from taskapp.auth.tokens import LEEWAY_SECONDS, InvalidToken, issue_access_token, verify_access_token
from taskapp.settings import token_settings
from tests.support import unique

pytestmark = pytest.mark.integration

METHOD_ARN = "arn:aws:execute-api:us-east-1:000000000000:abc123/test/GET/tasks"


def test_revoke_keeps_the_jti_until_the_last_second_the_token_is_accepted(redis_server: redis.Redis) -> None:
    jti = unique.jti()
    expires_at = int(time.time()) + 300

    revocation.revoke_access_token(jti, expires_at=expires_at)

    key = KEY_PREFIX + jti
    assert redis_server.get(key) == "1"
    # The verifier accepts the token until exp + leeway: the entry dies exactly then, never a second before.
    assert redis_server.expiretime(key) == expires_at + LEEWAY_SECONDS


def test_each_entry_follows_its_own_tokens_expiry(redis_server: redis.Redis) -> None:
    now = int(time.time())
    short, long = unique.jti(), unique.jti()

    revocation.revoke_access_token(short, expires_at=now + 30)
    revocation.revoke_access_token(long, expires_at=now + 3_600)

    assert redis_server.expiretime(KEY_PREFIX + short) == now + 30 + LEEWAY_SECONDS
    assert redis_server.expiretime(KEY_PREFIX + long) == now + 3_600 + LEEWAY_SECONDS


def test_a_token_still_inside_the_leeway_is_blacklisted(redis_server: redis.Redis) -> None:
    """Expired by one second but still accepted by the verifier's clock-skew leeway, so it must still be revoked."""
    jti = unique.jti()
    now = int(time.time())

    revocation.revoke_access_token(jti, expires_at=now - 1, now=now)

    assert redis_server.expiretime(KEY_PREFIX + jti) == now - 1 + LEEWAY_SECONDS
    assert is_access_token_revoked(jti) is True


@pytest.mark.parametrize("seconds_past_expiry", [LEEWAY_SECONDS, LEEWAY_SECONDS + 1, 3_600])
def test_tokens_the_verifier_already_refuses_are_not_stored(
    redis_server: redis.Redis, seconds_past_expiry: int
) -> None:
    jti = unique.jti()
    now = int(time.time())

    revocation.revoke_access_token(jti, expires_at=now - seconds_past_expiry, now=now)

    assert redis_server.exists(KEY_PREFIX + jti) == 0
    assert is_access_token_revoked(jti) is False


def test_is_access_token_revoked_reads_the_real_blacklist(redis_server: redis.Redis) -> None:
    revoked, other = unique.jti(), unique.jti()
    assert is_access_token_revoked(revoked) is False

    revocation.revoke_access_token(revoked, expires_at=int(time.time()) + 120)

    assert is_access_token_revoked(revoked) is True
    assert is_access_token_revoked(other) is False


def test_the_entry_disappears_when_the_verifier_starts_refusing_the_token(redis_server: redis.Redis) -> None:
    """Over the token's last seconds: revoked while usable, then refused as expired; never usable in between."""
    # Issued long enough ago that the verifier stops accepting it about two seconds from now.
    issued_at = int(time.time()) + 2 - LEEWAY_SECONDS - token_settings().access_token_ttl_seconds
    issued = issue_access_token(unique.owner_id(), session_id="s-1", now=issued_at)
    verify_access_token(issued.token)  # still accepted on its own: only the blacklist stops it now
    revocation.revoke_access_token(issued.claims.jti, issued.claims.expires_at)
    assert is_access_token_revoked(issued.claims.jti) is True

    deadline = time.monotonic() + 15
    while is_access_token_revoked(issued.claims.jti):
        assert time.monotonic() < deadline, "the blacklist entry outlived the token"
        time.sleep(0.1)

    # Gone from the blacklist only once the token itself is refused.

    with pytest.raises(InvalidToken):
        verify_access_token(issued.token)


def test_authorizer_refuses_a_revoked_token_against_real_redis(redis_server: redis.Redis) -> None:
    issued = issue_access_token(unique.owner_id(), session_id="s-1")
    allowed = authorize(f"Bearer {issued.token}", METHOD_ARN)
    assert allowed["context"]["userId"] == issued.claims.user_id

    revocation.revoke_access_token(issued.claims.jti, issued.claims.expires_at)

    denied = authorize(f"Bearer {issued.token}", METHOD_ARN)  # a Deny (401 at the gateway), not an error
    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert denied["context"] == {"reason": "token revoked"}


def test_an_unreachable_redis_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """No answer from Redis must never read as "not revoked"."""
    from taskapp import redis_client

    nothing_listens = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, socket_timeout=0.5)
    # Every Redis call goes through redis_client.guarded(): point its client at a port nothing listens on, with a
    # fresh (closed) breaker before and after so no other test inherits an open one.
    redis_client.redis_breaker.cache_clear()
    monkeypatch.setattr(redis_client, "get_redis", lambda: nothing_listens)
    try:
        with pytest.raises(RevocationStoreUnavailable):
            is_access_token_revoked(unique.jti())
        with pytest.raises(RevocationStoreUnavailable):
            revocation.revoke_access_token(unique.jti(), expires_at=int(time.time()) + 60)
        # The authorizer raises "Unauthorized" (401, never cached) rather than caching a Deny for a live token.
        live = issue_access_token(unique.owner_id(), session_id="s-2").token
        with pytest.raises(AuthorizerRejected, match=r"^Unauthorized$") as rejected:
            authorize(f"Bearer {live}", METHOD_ARN)
        assert rejected.value.transient
    finally:
        redis_client.redis_breaker.cache_clear()
