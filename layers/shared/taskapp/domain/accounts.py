"""Registration, login, refresh-token rotation with reuse detection, and logout."""

from __future__ import annotations

import time
import uuid

from aws_lambda_powertools.metrics import MetricUnit

from taskapp.auth import passwords, revocation, tokens
from taskapp.data import sessions, users
from taskapp.errors import Conflict, ServiceUnavailable, Unauthorized
from taskapp.observability import logger, metrics
from taskapp.schemas import LoginRequest, RegisterRequest, TokenPairOut, UserOut
from taskapp.settings import get_settings

INVALID_CREDENTIALS = "Invalid email or password"
INVALID_REFRESH = "Refresh token is invalid or expired"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _user_view(user: users.UserModel) -> UserOut:
    return UserOut(id=user.user_id, name=user.name, email=user.email, created_at=user.created_at.isoformat())


def register(request: RegisterRequest) -> UserOut:
    user = users.UserModel(
        normalize_email(request.email),
        user_id=str(uuid.uuid4()),
        name=request.name,
        password_hash=passwords.hash_password(request.password),
        created_at=users.utc_now(),
    )
    try:
        users.create_user(user)
    except users.EmailAlreadyRegistered as exc:
        raise Conflict("An account with this email already exists", code="EMAIL_TAKEN") from exc
    metrics.add_metric(name="UserRegistered", unit=MetricUnit.Count, value=1)
    return _user_view(user)


def _issue_pair(user_id: str, session_id: str, refresh_token: str) -> TokenPairOut:
    access = tokens.issue_access_token(user_id, session_id)
    return TokenPairOut(access_token=access.token, refresh_token=refresh_token, expires_in=access.expires_in)


def login(request: LoginRequest) -> TokenPairOut:
    user = users.find_by_email(normalize_email(request.email))
    if user is None:
        passwords.burn_password_check(request.password)
        raise Unauthorized(INVALID_CREDENTIALS, code="INVALID_CREDENTIALS")
    if not passwords.verify_password(request.password, user.password_hash):
        raise Unauthorized(INVALID_CREDENTIALS, code="INVALID_CREDENTIALS")
    now = int(time.time())
    session_id = str(uuid.uuid4())
    refresh_token = tokens.new_refresh_token()
    sessions.start_session(
        user.user_id,
        session_id,
        tokens.hash_refresh_token(refresh_token),
        now,
        now + get_settings().refresh_token_ttl_seconds,
    )
    metrics.add_metric(name="Login", unit=MetricUnit.Count, value=1)
    return _issue_pair(user.user_id, session_id, refresh_token)


def refresh(refresh_token: str) -> TokenPairOut:
    now = int(time.time())
    current = sessions.get_token(tokens.hash_refresh_token(refresh_token))
    if current is None or current.expires_at <= now:
        raise Unauthorized(INVALID_REFRESH, code="INVALID_REFRESH_TOKEN")
    family = sessions.get_family(current.session_id)
    if family is None or family.revoked:
        raise Unauthorized(INVALID_REFRESH, code="INVALID_REFRESH_TOKEN")
    if current.state != sessions.ACTIVE:
        _revoke_on_reuse(current)
    successor = tokens.new_refresh_token()
    try:
        sessions.rotate_token(
            current, tokens.hash_refresh_token(successor), now, now + get_settings().refresh_token_ttl_seconds
        )
    except sessions.TokenAlreadyRotated:
        _revoke_on_reuse(current)
    return _issue_pair(current.user_id, current.session_id, successor)


def _revoke_on_reuse(token: sessions.SessionItem) -> None:
    """A rotated token came back: someone holds a stolen copy, so the whole login session dies."""
    sessions.revoke_family(token.session_id)
    logger.warning(
        "refresh token reuse detected; session revoked",
        extra={"user_id": token.user_id, "session_id": token.session_id},
    )
    metrics.add_metric(name="RefreshTokenReuse", unit=MetricUnit.Count, value=1)
    raise Unauthorized(INVALID_REFRESH, code="REFRESH_TOKEN_REUSED")


def logout(jti: str, expires_at: int, session_id: str) -> None:
    """Session first, access token last: if either step fails the client retries with the same, still valid,
    access token and both idempotent steps run again; blacklisting first would lock that retry out (401) and
    leave the refresh token alive."""
    if session_id:
        sessions.revoke_family(session_id)
    try:
        revocation.revoke_access_token(jti, expires_at)
    except revocation.RevocationStoreUnavailable as exc:
        raise ServiceUnavailable("Could not revoke the token; try again", code="REVOCATION_UNAVAILABLE") from exc
