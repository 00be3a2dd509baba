"""Users, keyed by normalised email so uniqueness is a conditional put, not a racy index lookup."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from taskapp.data import sessions
from taskapp.data.base import is_condition_failure, model_meta, transaction
from taskapp.domain.records.accounts import SessionGeneration, User
from taskapp.settings import users_table_settings

BATCH_GET_LIMIT = 100  # keys per BatchGetItem (DynamoDB's limit)


class UserIdIndex(GlobalSecondaryIndex["UserModel"]):
    class Meta:
        index_name = "byUserId"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")


class UserModel(Model):
    """Items written before `sessionsValidAfter` was retired still carry it; reading them ignores it."""

    Meta = model_meta(users_table_settings().users_table)

    email = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(attr_name="userId")
    name = UnicodeAttribute()
    password_hash = UnicodeAttribute(attr_name="passwordHash")
    created_at = UTCDateTimeAttribute(attr_name="createdAt")

    by_user_id = UserIdIndex()


class EmailAlreadyRegistered(Exception):
    pass


class PasswordChangedConcurrently(Exception):
    """Someone changed the password or the session generation between our read and our write."""


def to_model(user: User) -> UserModel:
    return UserModel(
        user.email,
        user_id=user.user_id,
        name=user.name,
        password_hash=user.password_hash,
        created_at=user.created_at,
    )


def to_record(model: UserModel) -> User:
    return User(
        email=model.email,
        user_id=model.user_id,
        name=model.name,
        password_hash=model.password_hash,
        created_at=model.created_at,
    )


def create_user(user: User) -> None:
    try:
        to_model(user).save(condition=UserModel.email.does_not_exist())
    except PutError as exc:
        if is_condition_failure(exc):
            raise EmailAlreadyRegistered(user.email) from exc
        raise


def find_by_email(email: str) -> User | None:
    try:
        return to_record(UserModel.get(email, consistent_read=True))
    except DoesNotExist:
        return None


def find_by_user_id(user_id: str) -> User | None:
    """Through the byUserId index (eventually consistent): writes based on it must re-check in a condition."""
    for model in UserModel.by_user_id.query(user_id, limit=1):
        return to_record(model)
    return None


def user_ids_by_email(emails: Collection[str]) -> dict[str, str]:
    """Normalised email -> user id for those of `emails` that are registered: one BatchGetItem (at most 100 keys,
    its limit; callers bound what they ask for), reading only the two attributes."""
    keys = list(dict.fromkeys(emails))
    if not keys:
        return {}
    if len(keys) > BATCH_GET_LIMIT:
        raise ValueError(f"at most {BATCH_GET_LIMIT} emails per lookup")
    return {
        model.email: model.user_id
        for model in UserModel.batch_get(keys, consistent_read=True, attributes_to_get=["email", "userId"])
    }


def replace_password(user: User, new_hash: str, generation: SessionGeneration) -> None:
    """The new hash and the new session generation are written together or not at all."""
    generation_item, generation_unchanged = sessions.generation_write(generation)
    try:
        with transaction() as tx:
            tx.update(
                UserModel(user.email),
                actions=[UserModel.password_hash.set(new_hash)],
                condition=UserModel.password_hash == user.password_hash,
            )
            tx.save(generation_item, condition=generation_unchanged)
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            raise PasswordChangedConcurrently(user.user_id) from exc
        raise


def utc_now() -> datetime:
    return datetime.now(UTC)
