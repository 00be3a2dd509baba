"""HS256 access tokens with a pinned algorithm, required claims and a jti for revocation; opaque refresh tokens.

PyJWT is imported where a token is signed or verified, not with this module: register, logout and change_password
load the accounts domain but never touch an access token (tests/unit/test_init_imports.py).
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
import uuid
from dataclasses import dataclass

from taskapp.auth.keys import LEEWAY_SECONDS, signing_key  # defined there so `revocation` need not import PyJWT
from taskapp.settings import token_settings

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]
# RFC 7519 NumericDate claims. PyJWT checks them through int(), which also accepts "1767225600" and true.
TIME_CLAIMS = ("exp", "nbf", "iat")


class InvalidToken(Exception):
    """The token is malformed, expired, forged or uses another algorithm."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    jti: str
    session_id: str
    expires_at: int
    # The user's session generation at issue time; a password change bumps it and revokes older tokens.
    session_generation: int = 0


@dataclass(frozen=True)
class IssuedAccessToken:
    token: str
    claims: AccessClaims
    expires_in: int


def issue_access_token(
    user_id: str, session_id: str, now: int | None = None, session_generation: int = 0
) -> IssuedAccessToken:
    settings = token_settings()
    issued_at = int(time.time()) if now is None else now
    ttl = settings.access_token_ttl_seconds
    claims = AccessClaims(
        user_id=user_id,
        jti=str(uuid.uuid4()),
        session_id=session_id,
        expires_at=issued_at + ttl,
        session_generation=session_generation,
    )
    payload = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": user_id,
        "jti": claims.jti,
        "sid": session_id,
        "sgen": session_generation,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": claims.expires_at,
    }
    import jwt

    token = jwt.encode(payload, signing_key(), algorithm=ALGORITHM)
    return IssuedAccessToken(token=token, claims=claims, expires_in=ttl)


def _is_numeric_date(value: object) -> bool:
    """A JSON number: bool is an int in Python; NaN and Infinity (which json.loads reads) are no dates."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def verify_access_token(token: str) -> AccessClaims:
    import jwt

    settings = token_settings()
    try:
        payload = jwt.decode(
            token,
            signing_key(),
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": REQUIRED_CLAIMS},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    for claim in TIME_CLAIMS:
        if not _is_numeric_date(payload.get(claim)):
            raise InvalidToken(f"{claim} must be a JSON number (RFC 7519 NumericDate)")
    subject, jti, session_id = payload.get("sub"), payload.get("jti"), payload.get("sid", "")
    if not isinstance(subject, str) or not subject or not isinstance(jti, str) or not jti:
        raise InvalidToken("sub and jti must be non-empty strings")
    if not isinstance(session_id, str):
        raise InvalidToken("sid must be a string")
    generation = payload.get("sgen", 0)
    if not isinstance(generation, int) or isinstance(generation, bool) or generation < 0:
        raise InvalidToken("sgen must be a non-negative integer")
    return AccessClaims(
        user_id=subject,
        jti=jti,
        session_id=session_id,
        expires_at=int(payload["exp"]),  # the integer part, as PyJWT compares it (a NumericDate may be 1.5)
        session_generation=generation,
    )


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    """Refresh tokens are stored only as SHA-256: a leaked table cannot be replayed against the API."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
