"""Forge access tokens, good and bad, to prove the authorizer refuses everything but a genuine one.

`mint_access_token()` builds the claims `taskapp.auth.tokens.issue_access_token` issues; each keyword changes one
thing (a claim, the key, the algorithm), so every test says exactly what is wrong with its token.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

DROP = object()  # pass as a claim value to leave that claim out


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def access_claims(
    *, user_id: str | None = None, issuer: str = "taskapp", audience: str = "taskapp-api", ttl: int = 900
) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": issuer,
        "aud": audience,
        "sub": user_id or str(uuid.uuid4()),
        "jti": str(uuid.uuid4()),
        "sid": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
    }


def mint_access_token(
    secret: str, *, algorithm: str = "HS256", key: Any = None, headers: dict[str, Any] | None = None, **claims: Any
) -> str:
    """A token signed with `secret` (or `key`); keyword claims override the defaults, `DROP` removes one."""
    payload = access_claims()
    for name, value in claims.items():
        if value is DROP:
            payload.pop(name, None)
        else:
            payload[name] = value
    return jwt.encode(payload, key if key is not None else secret, algorithm=algorithm, headers=headers)


def unsigned_token(**claims: Any) -> str:
    """`alg: none`: valid claims and no signature at all."""
    payload = {**access_claims(), **claims}
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(payload).encode())}."


def rs256_token(**claims: Any) -> str:
    """Signed RS256 with a fresh RSA key: the algorithm-confusion attempt against an HS256-only verifier."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode({**access_claims(), **claims}, private_key, algorithm="RS256")


def with_tampered_payload(token: str, **changes: Any) -> str:
    """The same header and signature around an edited payload (e.g. another `sub`)."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
