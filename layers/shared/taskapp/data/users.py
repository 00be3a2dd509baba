"""Users, keyed by normalised email so uniqueness is a conditional put, not a racy index lookup."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

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


def utc_now() -> datetime:
    return datetime.now(UTC)
