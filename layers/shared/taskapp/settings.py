"""Settings read once from the environment the SAM template sets, so code never reads os.environ directly."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "on"}


def _env_str(name: str, default: str = "") -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _scoped_env_str(name: str) -> str:
    """A setting only some functions get (with the IAM that goes with it); empty in every other function.

    Not an `_env_*` reader on purpose: tests/build requires those on every function, while a scoped setting is
    checked against the functions that use it (tests/unit/test_http_template.py).
    """
    return os.environ.get(name, "").strip()


@dataclass(frozen=True)
class Settings:
    region: str
    stage: str
    users_table: str
    tasks_table: str
    sessions_table: str
    dynamodb_endpoint: str | None
    redis_url: str
    redis_timeout_seconds: float
    jwt_secret: str
    jwt_secret_arn: str
    jwt_issuer: str
    jwt_audience: str
    access_token_ttl_seconds: int
    refresh_token_ttl_seconds: int
    bcrypt_rounds: int
    max_body_bytes: int
    cursor_ttl_seconds: int
    # Hardening: rate limits (0 disables a limit; taskapp.rate_limit has the policy), Redis circuit breaker,
    # revocation failure policy.
    rate_limit_user_per_window: int
    rate_limit_window_seconds: int
    rate_limit_registrations_per_ip: int
    rate_limit_registration_window_seconds: int
    rate_limit_login_failures_per_account: int
    rate_limit_login_forget_seconds: int
    rate_limit_login_delay_base_seconds: int
    rate_limit_login_delay_max_seconds: int
    rate_limit_login_failures_per_ip: int
    rate_limit_login_ip_window_seconds: int
    rate_limit_refreshes_per_session: int
    rate_limit_refresh_window_seconds: int
    redis_breaker_fail_max: int
    redis_breaker_reset_seconds: float
    revocation_fail_open: bool
    activity_table: str
    notifications_table: str
    kafka_bootstrap_servers: str
    ingest_topic: str
    ingest_dlq_topic: str
    ingest_consumer_group: str
    rabbitmq_url: str
    events_exchange: str
    notifications_queue: str
    notifications_dlq: str
    notifications_delivery_limit: int
    broker_timeout_seconds: float
    # Where the outbox sends the stream records it cannot publish (and Lambda its on-failure records).
    outbox_failure_queue_url: str
    # HTTP semantics (issue 16): idempotency records (create routes only), conditional requests, the task cache.
    idempotency_table: str
    idempotency_ttl_seconds: int
    require_if_match: bool
    task_cache_enabled: bool
    task_cache_ttl_seconds: int


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Build the settings once per execution environment; tests clear the cache after changing env vars."""
    # MiniStack and LocalStack inject AWS_ENDPOINT_URL; pynamodb needs the endpoint passed explicitly.
    dynamodb_endpoint = _env_str("DYNAMODB_ENDPOINT") or _env_str("AWS_ENDPOINT_URL") or None
    notifications_queue = _env_str("NOTIFICATIONS_QUEUE", "task.notifications")
    return Settings(
        region=_env_str("AWS_REGION", _env_str("AWS_DEFAULT_REGION", "us-east-1")),
        stage=_env_str("STAGE", "local"),
        users_table=_env_str("USERS_TABLE", "taskapp-users"),
        tasks_table=_env_str("TASKS_TABLE", "taskapp-tasks"),
        sessions_table=_env_str("SESSIONS_TABLE", "taskapp-sessions"),
        dynamodb_endpoint=dynamodb_endpoint,
        redis_url=_env_str("REDIS_URL", "redis://127.0.0.1:6379/0"),
        redis_timeout_seconds=float(_env_str("REDIS_TIMEOUT_SECONDS", "0.5")),
        jwt_secret=_env_str("JWT_SECRET"),
        jwt_secret_arn=_env_str("JWT_SECRET_ARN"),
        jwt_issuer=_env_str("JWT_ISSUER", "taskapp"),
        jwt_audience=_env_str("JWT_AUDIENCE", "taskapp-api"),
        access_token_ttl_seconds=_env_int("ACCESS_TOKEN_TTL_SECONDS", 900),
        refresh_token_ttl_seconds=_env_int("REFRESH_TOKEN_TTL_SECONDS", 14 * 24 * 3600),
        bcrypt_rounds=_env_int("BCRYPT_ROUNDS", 11),
        max_body_bytes=_env_int("MAX_BODY_BYTES", 16 * 1024),
        cursor_ttl_seconds=_env_int("CURSOR_TTL_SECONDS", 24 * 3600),
        rate_limit_user_per_window=_env_int("RATE_LIMIT_USER_PER_MINUTE", 100),
        rate_limit_window_seconds=_env_int("RATE_LIMIT_WINDOW_SECONDS", 60),
        rate_limit_registrations_per_ip=_env_int("RATE_LIMIT_REGISTRATIONS_PER_IP", 50),
        rate_limit_registration_window_seconds=_env_int("RATE_LIMIT_REGISTRATION_WINDOW_SECONDS", 3600),
        rate_limit_login_failures_per_account=_env_int("RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT", 5),
        rate_limit_login_forget_seconds=_env_int("RATE_LIMIT_LOGIN_FORGET_SECONDS", 900),
        rate_limit_login_delay_base_seconds=_env_int("RATE_LIMIT_LOGIN_DELAY_BASE_SECONDS", 30),
        rate_limit_login_delay_max_seconds=_env_int("RATE_LIMIT_LOGIN_DELAY_MAX_SECONDS", 900),
        rate_limit_login_failures_per_ip=_env_int("RATE_LIMIT_LOGIN_FAILURES_PER_IP", 100),
        rate_limit_login_ip_window_seconds=_env_int("RATE_LIMIT_LOGIN_IP_WINDOW_SECONDS", 900),
        rate_limit_refreshes_per_session=_env_int("RATE_LIMIT_REFRESHES_PER_SESSION", 10),
        rate_limit_refresh_window_seconds=_env_int("RATE_LIMIT_REFRESH_WINDOW_SECONDS", 60),
        redis_breaker_fail_max=_env_int("REDIS_BREAKER_FAIL_MAX", 3),
        redis_breaker_reset_seconds=float(_env_str("REDIS_BREAKER_RESET_SECONDS", "5")),
        # Default False = fail closed: when Redis cannot say whether a token is revoked, the token is refused.
        revocation_fail_open=_env_bool("REVOCATION_FAIL_OPEN", False),
        activity_table=_env_str("ACTIVITY_TABLE", "taskapp-activity"),
        notifications_table=_env_str("NOTIFICATIONS_TABLE", "taskapp-notifications"),
        kafka_bootstrap_servers=_env_str("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        ingest_topic=_env_str("INGEST_TOPIC", "task.ingested"),
        ingest_dlq_topic=_env_str("INGEST_DLQ_TOPIC", "task.ingested.dlq"),
        ingest_consumer_group=_env_str("INGEST_CONSUMER_GROUP", "taskapp-ingestion"),
        rabbitmq_url=_env_str("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
        events_exchange=_env_str("EVENTS_EXCHANGE", "task.events"),
        notifications_queue=notifications_queue,
        notifications_dlq=_env_str("NOTIFICATIONS_DLQ", f"{notifications_queue}.dlq"),
        notifications_delivery_limit=_env_int("NOTIFICATIONS_DELIVERY_LIMIT", 5),
        broker_timeout_seconds=float(_env_str("BROKER_TIMEOUT_SECONDS", "3")),
        outbox_failure_queue_url=_env_str("OUTBOX_FAILURE_QUEUE_URL"),
        idempotency_table=_scoped_env_str("IDEMPOTENCY_TABLE"),
        idempotency_ttl_seconds=_env_int("IDEMPOTENCY_TTL_SECONDS", 24 * 3600),
        # Default False: a PATCH with neither If-Match nor a body version is the 400 it always was, not a 428.
        require_if_match=_env_bool("REQUIRE_IF_MATCH", False),
        # Off unless configured (the template turns it on: docs/data-model.md has the numbers).
        task_cache_enabled=_env_bool("TASK_CACHE_ENABLED", False),
        task_cache_ttl_seconds=_env_int("TASK_CACHE_TTL_SECONDS", 5),
    )
