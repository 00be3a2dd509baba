"""bcrypt password hashing; the cost is a setting so tests run fast and production stays slow to brute-force.

bcrypt is imported eagerly although refresh and logout never hash: its import measured 4-6 ms with the built
layer, not worth a lazy import. The default cost (11) was chosen from measured hash times, see
benchmarks/perf_budget.md.
"""

from __future__ import annotations

from functools import lru_cache

import bcrypt

from taskapp.settings import password_settings

# bcrypt only looks at the first 72 bytes; longer passwords are rejected by validation instead of silently cut.
MAX_PASSWORD_BYTES = 72


def hash_password(password: str) -> str:
    salt = bcrypt.gensalt(rounds=password_settings().bcrypt_rounds)
    return bcrypt.hashpw(password.encode("utf-8"), salt).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_PASSWORD_BYTES:
        # Registration refuses such passwords, so none can match; bcrypt 5 raises here instead of truncating.
        return False
    return bcrypt.checkpw(encoded, password_hash.encode("ascii"))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("not-a-real-password-used-for-timing")


def burn_password_check(password: str) -> None:
    """Spend the same bcrypt time as a real check, so an unknown email is not told apart by latency."""
    verify_password(password, _dummy_hash())
