"""The settings loader: a variable unset or blank keeps the default, values are typed, models are read-only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from taskapp import settings


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    settings.clear_cache()
    yield monkeypatch
    settings.clear_cache()


def test_unset_or_blank_variables_keep_the_default(env: pytest.MonkeyPatch) -> None:
    env.delenv("REDIS_URL", raising=False)
    env.setenv("REDIS_TIMEOUT_SECONDS", "   ")
    redis = settings.redis_settings()
    assert (redis.redis_url, redis.redis_timeout_seconds) == ("redis://127.0.0.1:6379/0", 0.5)


def test_values_are_parsed_by_the_field_type(env: pytest.MonkeyPatch) -> None:
    env.setenv("REDIS_BREAKER_FAIL_MAX", "7")
    env.setenv("REDIS_BREAKER_RESET_SECONDS", "2.5")
    env.setenv("REVOCATION_FAIL_OPEN", "Yes")
    assert settings.redis_settings().redis_breaker_fail_max == 7
    assert settings.redis_settings().redis_breaker_reset_seconds == 2.5
    assert settings.revocation_settings().revocation_fail_open is True


def test_a_model_is_read_once_and_cannot_be_changed(env: pytest.MonkeyPatch) -> None:
    first = settings.cursor_settings()
    env.setenv("CURSOR_TTL_SECONDS", "5")
    assert settings.cursor_settings() is first  # cached until clear_cache()
    with pytest.raises(AttributeError):
        first.cursor_ttl_seconds = 5
    settings.clear_cache()
    assert settings.cursor_settings().cursor_ttl_seconds == 5


def test_field_names_are_the_variable_names_and_each_has_its_one_default() -> None:
    assert settings.env_names(settings.KafkaSettings) == ("BROKER_TIMEOUT_SECONDS", "KAFKA_BOOTSTRAP_SERVERS")
    for model in settings.ACCESSORS.values():
        for name in settings.field_names(model):
            assert name == name.lower() and hasattr(model, name), f"{model.__name__}.{name} needs a default"


def test_the_dead_letter_queue_follows_the_queue_unless_set(env: pytest.MonkeyPatch) -> None:
    env.setenv("NOTIFICATIONS_QUEUE", "stack-b.notifications")
    env.delenv("NOTIFICATIONS_DLQ", raising=False)
    assert settings.rabbitmq_settings().notifications_dlq == "stack-b.notifications.dlq"
    settings.clear_cache()
    env.setenv("NOTIFICATIONS_DLQ", "elsewhere")
    assert settings.rabbitmq_settings().notifications_dlq == "elsewhere"
