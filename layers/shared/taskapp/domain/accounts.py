"""Registration, login, refresh-token rotation with reuse detection, logout, and password change."""

from __future__ import annotations

import time
import uuid

from aws_lambda_powertools.metrics import MetricUnit

from taskapp import rate_limit
from taskapp.auth import passwords, revocation, tokens
from taskapp.data import sessions, users
from taskapp.domain.records.accounts import RefreshToken, SessionGeneration, User
from taskapp.errors import Conflict, Forbidden, RateLimited, ServiceUnavailable, Unauthorized, ValidationFailed
from taskapp.observability import logger, metrics
from taskapp.schemas.accounts import ChangePasswordRequest, LoginRequest, RegisterRequest, TokenPairOut, UserOut
from taskapp.settings import token_settings

INVALID_CREDENTIALS = "Invalid email or password"
INVALID_REFRESH = "Refresh token is invalid or expired"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _user_view(user: User) -> UserOut:
    return UserOut(id=user.user_id, name=user.name, email=user.email, created_at=user.created_at.isoformat())


def register(request: RegisterRequest) -> UserOut:
    user = User(
        email=normalize_email(request.email),
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


def _issue_pair(
    user_id: str, session_id: str, refresh_token: str, generation: int, issued_at: int | None = None
) -> TokenPairOut:
    access = tokens.issue_access_token(user_id, session_id, now=issued_at, session_generation=generation)
    return TokenPairOut(access_token=access.token, refresh_token=refresh_token, expires_in=access.expires_in)


def _throttled(message: str, limit: int, retry_after_seconds: int, headers: dict[str, str]) -> RateLimited:
    details = {"limit": limit, "retryAfterSeconds": retry_after_seconds}
    return RateLimited(message, details, headers=headers)


def login(request: LoginRequest, client_ip: str = "") -> TokenPairOut:
    """The throttle decides before any password is checked, for known and unknown emails alike (same answers, same
    timing), and forgets the attempt only once the password proved right."""
    email = normalize_email(request.email)
    admission = rate_limit.admit_login(email, client_ip)
    if not admission.admitted:
        raise _throttled(
            "Too many failed sign-ins; retry after the time in Retry-After",
            admission.limit,
            admission.retry_after_seconds,
            admission.headers(),
        )
    user = users.find_by_email(email)
    if user is None:
        passwords.burn_password_check(request.password)
        raise Unauthorized(INVALID_CREDENTIALS, code="INVALID_CREDENTIALS")
    if not passwords.verify_password(request.password, user.password_hash):
        raise Unauthorized(INVALID_CREDENTIALS, code="INVALID_CREDENTIALS")
    admission.succeeded()
    now = int(time.time())
    session_id = str(uuid.uuid4())
    refresh_token = tokens.new_refresh_token()
    generation = sessions.current_generation(user.user_id)
    sessions.start_session(
        user.user_id,
        session_id,
        tokens.hash_refresh_token(refresh_token),
        now,
        now + token_settings().refresh_token_ttl_seconds,
        generation=generation,
    )
    metrics.add_metric(name="Login", unit=MetricUnit.Count, value=1)
    # Dated from before the generation was read, like a refresh's: a password change racing this login publishes
    # its revocation after that read, for one access-token lifetime, so it outlives this token.
    return _issue_pair(user.user_id, session_id, refresh_token, generation, issued_at=now)


def refresh(refresh_token: str) -> TokenPairOut:
    now = int(time.time())
    current = sessions.get_token(tokens.hash_refresh_token(refresh_token))
    if current is None or current.expires_at <= now:
        raise Unauthorized(INVALID_REFRESH, code="INVALID_REFRESH_TOKEN")
    family = sessions.get_family(current.session_id)
    if family is None or family.revoked:
        raise Unauthorized(INVALID_REFRESH, code="INVALID_REFRESH_TOKEN")
    generation = family.generation
    if generation < sessions.current_generation(current.user_id):
        # Started before the last password change. Safe against a change racing this refresh: the successor
        # stays in this old-generation family, so its access token fails the Redis check and it cannot refresh.
        raise Unauthorized(INVALID_REFRESH, code="SESSION_REVOKED")
    if current.state != sessions.ACTIVE:
        _revoke_on_reuse(current)
    # Per session, not per address: one page refreshing its token never counts against its colleagues. Counted
    # after reuse detection, so a replayed token always ends its session however fast it is replayed.
    limited = rate_limit.hit(rate_limit.RateLimitScope.REFRESH, current.session_id)
    if limited is not None and not limited.allowed:
        raise _throttled(
            "Too many refreshes of this session; retry after the time in Retry-After",
            limited.limit,
            limited.retry_after_seconds,
            limited.headers(),
        )
    successor = tokens.new_refresh_token()
    try:
        sessions.rotate_token(
            current, tokens.hash_refresh_token(successor), now, now + token_settings().refresh_token_ttl_seconds
        )
    except sessions.TokenAlreadyRotated:
        _revoke_on_reuse(current)
    # Dated from before the rotation: a racing request that detects reuse revokes the session after this rotation
    # committed, so its revocation (one access-token lifetime from then) outlives this access token.
    return _issue_pair(current.user_id, current.session_id, successor, generation, issued_at=now)


def _revoke_on_reuse(token: RefreshToken) -> None:
    """A rotated token came back: someone holds a stolen copy, so the whole login session dies, exactly as at logout:
    the refresh-token family in DynamoDB, then every access token carrying the session's `sid` in Redis (those of
    earlier refreshes and the one a racing winner was just given).

    If Redis cannot be told, the answer is still 401: the family is revoked durably, and while Redis is down the
    token check refuses every access token anyway (it fails closed); as for a password change, only a Redis that
    comes back having lost the marker lets the session's access tokens live out their minutes. Logged as an error.
    """
    sessions.revoke_family(token.session_id)
    try:
        revocation.revoke_session_access_tokens(token.session_id)
    except revocation.RevocationStoreUnavailable:
        logger.error(
            "refresh token reuse: session revoked but its access tokens could not be revoked in Redis",
            extra={"user_id": token.user_id, "session_id": token.session_id},
        )
        metrics.add_metric(name="SessionRevocationIncomplete", unit=MetricUnit.Count, value=1)
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
        if session_id:
            revocation.revoke_session_access_tokens(session_id)
        revocation.revoke_access_token(jti, expires_at)
    except revocation.RevocationStoreUnavailable as exc:
        raise ServiceUnavailable("Could not revoke the token; try again", code="REVOCATION_UNAVAILABLE") from exc


def change_password(user_id: str, request: ChangePasswordRequest) -> None:
    """Replace the password and end every session of the user, this one included: all refresh-token families
    (durably, in DynamoDB) and all outstanding access tokens (at once, through Redis). The client signs in again.

    If Redis cannot be told, the change still stands: refresh tokens are already dead, and access tokens are
    refused anyway while Redis is down (the check fails closed); only if Redis comes back having lost the marker
    could a pre-change access token live out its remaining minutes. That is logged as an error.
    """
    user = users.find_by_user_id(user_id)
    if user is None or not passwords.verify_password(request.current_password, user.password_hash):
        raise Forbidden("The current password is not correct", code="INVALID_CURRENT_PASSWORD")
    if request.new_password == request.current_password:
        raise ValidationFailed("The new password must differ from the current one", code="PASSWORD_UNCHANGED")
    settings = token_settings()
    now = time.time()
    current = sessions.current_generation(user_id)
    generation = sessions.next_generation(current, int(now * 1000))
    lifetime = settings.refresh_token_ttl_seconds + settings.access_token_ttl_seconds
    change = SessionGeneration(
        user_id=user_id, generation=generation, previous=current, changed_at=int(now), expires_at=int(now) + lifetime
    )
    try:
        users.replace_password(user, passwords.hash_password(request.new_password), change)
    except users.PasswordChangedConcurrently as exc:
        raise Conflict("The password was changed meanwhile; sign in again", code="PASSWORD_CHANGED") from exc
    metrics.add_metric(name="PasswordChanged", unit=MetricUnit.Count, value=1)
    try:
        revocation.publish_session_generation(user_id, generation)
    except revocation.RevocationStoreUnavailable:
        logger.error("password changed but access tokens could not be revoked in Redis", extra={"user_id": user_id})
        metrics.add_metric(name="SessionRevocationIncomplete", unit=MetricUnit.Count, value=1)
