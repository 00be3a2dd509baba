"""Users, keyed by normalised email so uniqueness is a conditional put, not a racy index lookup."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from taskapp.data import sessions
from taskapp.data.base import model_meta
from taskapp.settings import get_settings


class UserIdIndex(GlobalSecondaryIndex["UserModel"]):
    class Meta:
        index_name = "byUserId"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")


class UserModel(Model):
    Meta = model_meta(get_settings().users_table)

    email = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(attr_name="userId")
    name = UnicodeAttribute()
    password_hash = UnicodeAttribute(attr_name="passwordHash")
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    # Sessions started before this epoch second are no longer valid (password change, "log out everywhere").
    sessions_valid_after = NumberAttribute(attr_name="sessionsValidAfter", default=0)

    by_user_id = UserIdIndex()


class EmailAlreadyRegistered(Exception):
    pass


def create_user(user: UserModel) -> None:
    try:
        user.save(condition=UserModel.email.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise EmailAlreadyRegistered(user.email) from exc
        raise


def find_by_email(email: str) -> UserModel | None:
    try:
        return UserModel.get(email, consistent_read=True)
    except DoesNotExist:
        return None


class PasswordChangedConcurrently(Exception):
    """Someone changed the password or the session generation between our read and our write."""


def find_by_user_id(user_id: str) -> UserModel | None:
    """Through the byUserId index (eventually consistent): writes based on it must re-check in a condition."""
    for user in UserModel.by_user_id.query(user_id, limit=1):
        return user
    return None


def replace_password(
    user: UserModel, new_hash: str, generation_record: sessions.SessionItem, current_generation: int
) -> None:
    """The new hash and the new session generation are written together or not at all."""
    meta = UserModel.Meta
    connection = Connection(region=meta.region, host=getattr(meta, "host", None))
    try:
        with TransactWrite(connection=connection) as tx:
            tx.update(
                user,
                actions=[UserModel.password_hash.set(new_hash)],
                condition=UserModel.password_hash == user.password_hash,
            )
            tx.save(generation_record, condition=sessions.generation_unchanged(current_generation))
    except TransactWriteError as exc:
        if any(reason is not None and reason.code == "ConditionalCheckFailed" for reason in exc.cancellation_reasons):
            raise PasswordChangedConcurrently(user.user_id) from exc
        raise


def utc_now() -> datetime:
    return datetime.now(UTC)
