"""bcrypt password hashing; the cost is a setting so tests run fast and production stays slow to brute-force.

bcrypt is imported where a hash is made or checked, not with this module: logout and refresh load the accounts
domain but never hash, and nothing reaches their init that their first request does not use (issue 17 goal 5,
tests/unit/test_init_imports.py). The default cost (11) was chosen from measured hash times, see
benchmarks/perf_budget.md.
"""

from __future__ import annotations

from functools import lru_cache

from taskapp.settings import password_settings

# bcrypt only looks at the first 72 bytes; longer passwords are rejected by validation instead of silently cut.
MAX_PASSWORD_BYTES = 72


def hash_password(password: str) -> str:
    import bcrypt

    salt = bcrypt.gensalt(rounds=password_settings().bcrypt_rounds)
    return bcrypt.hashpw(password.encode("utf-8"), salt).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_PASSWORD_BYTES:
        # Registration refuses such passwords, so none can match; bcrypt 5 raises here instead of truncating.
        return False
    import bcrypt

    return bcrypt.checkpw(encoded, password_hash.encode("ascii"))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("not-a-real-password-used-for-timing")


def burn_password_check(password: str) -> None:
    """Spend the same bcrypt time as a real check, so an unknown email is not told apart by latency."""
    verify_password(password, _dummy_hash())
