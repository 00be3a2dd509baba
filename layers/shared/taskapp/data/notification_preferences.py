"""Notification preferences: one item per user holding only the types the user changed (the defaults are code)."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute
from pynamodb.models import Model

from taskapp.data.base import model_meta
from taskapp.settings import notification_preferences_table_settings


class PreferencesModel(Model):
    """One item per user: only the types the user changed; the defaults fill in the rest (domain)."""

    Meta = model_meta(notification_preferences_table_settings().notification_preferences_table)

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    channels = JSONAttribute(default=dict)
    updated_at = UnicodeAttribute(attr_name="updatedAt")


def get_preferences(user_id: str) -> dict[str, list[str]]:
    """The types the user changed (type -> channels); {} when the user never saved any."""
    try:
        return dict(PreferencesModel.get(user_id).channels or {})
    except PreferencesModel.DoesNotExist:
        return {}


def put_preferences(user_id: str, channels: dict[str, list[str]], updated_at: str) -> None:
    PreferencesModel(user_id, channels=channels, updated_at=updated_at).save()
