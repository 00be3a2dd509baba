"""Refresh-token sessions: each login starts a family; each refresh rotates the token inside that family.

Items (one table, `pk` hash key, `expiresAt` as the DynamoDB TTL attribute):
- `family#{sessionId}`: owner and revoked flag of a login session.
- `token#{sha256}`: one refresh token; state `active` until used, then `rotated`.
- `user#{userId}`: the user's current session generation, the epoch millisecond of their last password change.
  A family started in an older generation can no longer refresh (the durable half of "revoke every session";
  Redis holds the fast half for access tokens, see taskapp.auth.revocation). The item expires one refresh-token
  lifetime after the change: by then every older family's last token has expired too, and generations stay
  monotonic across the expiry because they are timestamps, not counters.
"""

from __future__ import annotations

# Every function that loads this module writes transactions (login, refresh, password change): load pynamodb's with
# the module, where the import budget counts it, not inside the first request.
import pynamodb.transactions  # noqa: F401
from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from taskapp.data.base import is_condition_failure, model_meta, transaction
from taskapp.domain.records.accounts import RefreshToken, SessionFamily, SessionGeneration
from taskapp.settings import sessions_table_settings

ACTIVE = "active"
ROTATED = "rotated"


class SessionItem(Model):
    Meta = model_meta(sessions_table_settings().sessions_table)

    pk = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(attr_name="userId")
    session_id = UnicodeAttribute(attr_name="sessionId")
    state = UnicodeAttribute(null=True)
    revoked = BooleanAttribute(default=False)
    created_at = NumberAttribute(attr_name="createdAt")
    expires_at = NumberAttribute(attr_name="expiresAt")
    # family#: the generation the session was started in; user#: the user's current generation.
    generation = NumberAttribute(null=True)


class TokenAlreadyRotated(Exception):
    """A rotate lost the race against another use of the same refresh token: treat as reuse."""


def _family_key(session_id: str) -> str:
    return f"family#{session_id}"


def _token_key(token_hash: str) -> str:
    return f"token#{token_hash}"


def _user_key(user_id: str) -> str:
    return f"user#{user_id}"


def _token_record(item: SessionItem) -> RefreshToken:
    return RefreshToken(
        token_hash=item.pk.removeprefix(_token_key("")),
        user_id=item.user_id,
        session_id=item.session_id,
        state=item.state,
        created_at=int(item.created_at),
        expires_at=int(item.expires_at),
    )


def _family_record(item: SessionItem) -> SessionFamily:
    return SessionFamily(
        session_id=item.session_id,
        user_id=item.user_id,
        revoked=bool(item.revoked),
        generation=int(item.generation or 0),
        created_at=int(item.created_at),
        expires_at=int(item.expires_at),
    )


def current_generation(user_id: str) -> int:
    """0 until the user first changes their password."""
    try:
        item = SessionItem.get(_user_key(user_id), consistent_read=True)
    except DoesNotExist:
        return 0
    return int(item.generation or 0)


def next_generation(current: int, now_ms: int) -> int:
    return max(now_ms, current + 1)


def generation_write(change: SessionGeneration) -> tuple[SessionItem, Condition]:
    """The `user#` item recording a new generation and the condition that nobody moved it since it was read,
    for the password change's transaction (taskapp.data.users.replace_password)."""
    item = SessionItem(
        _user_key(change.user_id),
        user_id=change.user_id,
        session_id="-",
        generation=change.generation,
        created_at=change.changed_at,
        expires_at=change.expires_at,
    )
    unchanged = (
        SessionItem.generation.does_not_exist() if change.previous == 0 else SessionItem.generation == change.previous
    )
    return item, unchanged


def start_session(
    user_id: str, session_id: str, token_hash: str, now: int, expires_at: int, *, generation: int = 0
) -> None:
    family = SessionItem(
        _family_key(session_id),
        user_id=user_id,
        session_id=session_id,
        generation=generation,
        revoked=False,
        created_at=now,
        expires_at=expires_at,
    )
    token = SessionItem(
        _token_key(token_hash),
        user_id=user_id,
        session_id=session_id,
        state=ACTIVE,
        created_at=now,
        expires_at=expires_at,
    )
    with transaction() as tx:
        tx.save(family, condition=SessionItem.pk.does_not_exist())
        tx.save(token, condition=SessionItem.pk.does_not_exist())


def get_token(token_hash: str) -> RefreshToken | None:
    try:
        return _token_record(SessionItem.get(_token_key(token_hash), consistent_read=True))
    except DoesNotExist:
        return None


def get_family(session_id: str) -> SessionFamily | None:
    try:
        return _family_record(SessionItem.get(_family_key(session_id), consistent_read=True))
    except DoesNotExist:
        return None


def rotate_token(old: RefreshToken, new_token_hash: str, now: int, expires_at: int) -> None:
    """Mark the old token used and store its successor atomically, only while the family is still live."""
    successor = SessionItem(
        _token_key(new_token_hash),
        user_id=old.user_id,
        session_id=old.session_id,
        state=ACTIVE,
        created_at=now,
        expires_at=expires_at,
    )
    try:
        with transaction() as tx:
            tx.update(
                SessionItem(_token_key(old.token_hash)),
                actions=[SessionItem.state.set(ROTATED)],
                condition=SessionItem.state == ACTIVE,
            )
            tx.condition_check(SessionItem, _family_key(old.session_id), condition=SessionItem.revoked == False)  # noqa: E712
            tx.save(successor, condition=SessionItem.pk.does_not_exist())
    except TransactWriteError as exc:
        # Only a failed condition means someone used this token first. Throttling, a transaction conflict or an
        # internal error must surface as "try again" (503), not as reuse, which would kill a healthy session.
        if is_condition_failure(exc):
            raise TokenAlreadyRotated(_token_key(old.token_hash)) from exc
        raise


def revoke_family(session_id: str) -> None:
    """Idempotent: revoking an unknown or already revoked family is a no-op."""
    family = SessionItem(_family_key(session_id))
    try:
        family.update(actions=[SessionItem.revoked.set(True)], condition=SessionItem.pk.exists())
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
