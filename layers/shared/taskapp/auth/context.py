"""The authorizer's context: what the TOKEN authorizer tells API Gateway about the caller, and what handlers read back.

One type for both ends, so the key names (`userId`, `jti`, `exp`, `sid`, `sgen`) and their parsing are written once:
the authorizer calls `to_context()`, the API edge calls `from_context()` once per request, and the in-process gateway,
the tests and the benchmarks build what API Gateway delivers with `delivered()`. Standard library only, so the edge
and the tools can import it without Redis or PyJWT.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The value types API Gateway accepts in an authorizer's context (no lists, no objects).
ContextValue = str | int | bool


class InvalidAuthorizerContext(ValueError):
    """The context names no caller, or a value is not what the authorizer writes: treat the request as anonymous."""


def delivered(context: Mapping[str, ContextValue]) -> dict[str, str]:
    """An authorizer's context as API Gateway hands it to the integration: every value a string, booleans lowercase."""
    return {key: _as_string(value) for key, value in context.items()}


def _as_string(value: ContextValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class AuthorizerContext:
    """Who is calling, as established by the Lambda authorizer; handlers never look at the token."""

    user_id: str
    jti: str
    expires_at: int
    session_id: str
    session_generation: int = 0

    def to_context(self) -> dict[str, ContextValue]:
        """The `context` of the authorizer's policy."""
        return {
            "userId": self.user_id,
            "jti": self.jti,
            "exp": self.expires_at,
            "sid": self.session_id,
            "sgen": self.session_generation,
        }

    def delivered(self) -> dict[str, str]:
        """What the integration receives for this context (`requestContext.authorizer`, without the principal)."""
        return delivered(self.to_context())

    @classmethod
    def from_context(cls, context: Mapping[str, Any] | None) -> AuthorizerContext:
        """Parse `requestContext.authorizer`: values arrive as strings from API Gateway, as numbers from some emulators.

        Only the user id is required; a missing jti, expiry, session or generation reads as empty or 0, which the
        revocation check then judges (an unknown session is not revoked, an old generation is).
        """
        user_id = (context or {}).get("userId")
        if not user_id or context is None:
            raise InvalidAuthorizerContext("no userId in the authorizer context")
        try:
            return cls(
                user_id=str(user_id),
                jti=str(context.get("jti", "")),
                expires_at=int(context.get("exp", 0) or 0),
                session_id=str(context.get("sid", "")),
                session_generation=int(context.get("sgen", 0) or 0),
            )
        except (TypeError, ValueError) as exc:
            raise InvalidAuthorizerContext(f"malformed authorizer context: {exc}") from exc
