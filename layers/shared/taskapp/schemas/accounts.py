"""Accounts and sessions: register, login, refresh, password change."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StrictStr, StringConstraints

from taskapp.schemas.common import ApiModel

EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$"


def _within_bcrypt_limit(value: str) -> str:
    if len(value.encode("utf-8")) > 72:
        raise ValueError("password must be at most 72 bytes in UTF-8")
    return value


Email = Annotated[StrictStr, StringConstraints(strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN)]
Password = Annotated[StrictStr, StringConstraints(min_length=8), AfterValidator(_within_bcrypt_limit)]


class RegisterRequest(ApiModel):
    name: Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    email: Email
    password: Password


class LoginRequest(ApiModel):
    email: Email
    # Same 72-byte ceiling as registration: no account can have a longer password, and bcrypt 5 raises on one.
    password: Annotated[StrictStr, StringConstraints(min_length=1), AfterValidator(_within_bcrypt_limit)]


class RefreshRequest(ApiModel):
    refresh_token: Annotated[StrictStr, StringConstraints(min_length=1, max_length=512)]


class UserOut(ApiModel):
    id: str
    name: str
    email: str
    created_at: str


class TokenPairOut(ApiModel):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret


class ChangePasswordRequest(ApiModel):
    current_password: Annotated[StrictStr, StringConstraints(min_length=1, max_length=1024)]
    new_password: Password
