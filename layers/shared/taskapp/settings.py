"""Settings read once from the environment the SAM template sets: the only module that reads os.environ.

One read-only model per concern, each behind its own cached accessor, so a function reads only the concerns its code
reaches and the template gives it only those variables (tests/unit/test_settings_per_function.py proves both from
template.yaml). A field's name is its variable's name in lower case, and its default is written once, here.

A small base class and loader rather than pydantic-settings or aws-lambda-env-modeler: both build on pydantic,
which the authorizer does not load otherwise; measured on the authorizer's cold import they add 136 ms
(env-modeler) and 205 ms (pydantic-settings) against under 1 ms for this (docs/hardening.md, "Settings"). Not
dataclasses either: defining the ~20 models as frozen dataclasses cost the authorizer's import ~9 ms of CPU.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

Model = TypeVar("Model", bound="SettingsModel")

_TRUE = {"1", "true", "yes", "on"}


def _parse_bool(raw: str) -> bool:
    return raw.lower() in _TRUE


# Annotations stay strings (`from __future__ import annotations`): the field's type by its name.
_PARSERS: dict[str, Callable[[str], Any]] = {"str": str, "int": int, "float": float, "bool": _parse_bool}


class SettingsModel:
    """A read-only record: each annotated class attribute is a field, and its value the field's default."""

    def __init__(self, **values: Any) -> None:
        for name in field_names(type(self)):
            object.__setattr__(self, name, values.get(name, getattr(type(self), name)))
        self.__post_init__()

    def __post_init__(self) -> None:
        """Derive a field left unset from the others (RabbitMqSettings' DLQ name)."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in field_names(type(self)))
        return f"{type(self).__name__}({fields})"


def _fields(model: type) -> dict[str, str]:
    """Field name -> its type's name, base classes' fields first."""
    found: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        found.update(vars(cls).get("__annotations__", {}))
    return found


def field_names(model: type) -> tuple[str, ...]:
    return tuple(_fields(model))


def env_names(model: type) -> tuple[str, ...]:
    """The variables a model reads: its field names in upper case."""
    return tuple(name.upper() for name in field_names(model))


def load(model: type[Model]) -> Model:
    """Build `model` from the environment: a variable that is unset or blank leaves the field's default."""
    values: dict[str, Any] = {}
    for name, type_name in _fields(model).items():
        raw = os.environ.get(name.upper(), "").strip()
        if raw:
            values[name] = _PARSERS[type_name](raw)
    return model(**values)


ACCESSORS: dict[Callable[[], Any], type] = {}


def _accessor(model: type[Model]) -> Callable[[], Model]:
    """A cached `load(model)`, registered so `clear_cache` and the per-function settings test can find it."""

    @cache
    def read() -> Model:
        return load(model)

    ACCESSORS[read] = model
    return read


def clear_cache() -> None:
    """Forget every model read so far: tests call it after changing the environment."""
    for accessor in ACCESSORS:
        accessor.cache_clear()  # type: ignore[attr-defined]


class RuntimeSettings(SettingsModel):
    """What Lambda (or MiniStack) sets for every function, plus Powertools' tracing switch; read by every function."""

    aws_lambda_function_name: str = ""
    lambda_task_root: str = ""
    aws_region: str = ""
    aws_default_region: str = "us-east-1"
    powertools_trace_disabled: bool = False

    @property
    def region(self) -> str:
        return self.aws_region or self.aws_default_region


class DynamoDbSettings(SettingsModel):
    """Where the tables live. MiniStack and LocalStack inject AWS_ENDPOINT_URL; pynamodb needs it passed explicitly."""

    dynamodb_endpoint: str = ""
    aws_endpoint_url: str = ""

    @property
    def endpoint(self) -> str | None:
        return self.dynamodb_endpoint or self.aws_endpoint_url or None


class UsersTableSettings(SettingsModel):
    users_table: str = "taskapp-users"


class TasksTableSettings(SettingsModel):
    """The tasks table and its tag index table (per-tag items, written in the same transaction as the task)."""

    tasks_table: str = "taskapp-tasks"
    task_tags_table: str = "taskapp-task-tags"


class SessionsTableSettings(SettingsModel):
    sessions_table: str = "taskapp-sessions"


class ActivityTableSettings(SettingsModel):
    activity_table: str = "taskapp-activity"


class SigningKeySettings(SettingsModel):
    """The HMAC key of access tokens and cursors: from Secrets Manager when the ARN is set, else the plain value."""

    jwt_secret: str = ""
    jwt_secret_arn: str = ""


class TokenSettings(SettingsModel):
    jwt_issuer: str = "taskapp"
    jwt_audience: str = "taskapp-api"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 14 * 24 * 3600


class RevocationSettings(SettingsModel):
    # False = fail closed: when Redis cannot say whether a token is revoked, the token is refused.
    revocation_fail_open: bool = False


class PasswordSettings(SettingsModel):
    bcrypt_rounds: int = 11


class RedisSettings(SettingsModel):
    """The connection and its circuit breaker (docs/hardening.md)."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_timeout_seconds: float = 0.5
    redis_breaker_fail_max: int = 3
    redis_breaker_reset_seconds: float = 5.0


class RateLimitSettings(SettingsModel):
    """Sliding-window limits, 0 disables one (taskapp.rate_limit and docs/hardening.md have the policy): requests per
    authenticated user, registrations per client IP, refreshes per login session."""

    rate_limit_user_per_minute: int = 100
    rate_limit_window_seconds: int = 60
    rate_limit_registrations_per_ip: int = 50
    rate_limit_registration_window_seconds: int = 3600
    rate_limit_refreshes_per_session: int = 10
    rate_limit_refresh_window_seconds: int = 60


class LoginLimitSettings(SettingsModel):
    """Failed logins: per account (free attempts, then a growing delay, forgotten after a while) and per client IP."""

    rate_limit_login_failures_per_account: int = 5
    rate_limit_login_forget_seconds: int = 900
    rate_limit_login_delay_base_seconds: int = 30
    rate_limit_login_delay_max_seconds: int = 900
    rate_limit_login_failures_per_ip: int = 100
    rate_limit_login_ip_window_seconds: int = 900


class ApiSettings(SettingsModel):
    max_body_bytes: int = 16 * 1024


class CorsSettings(SettingsModel):
    """The browser origins the web app is served from (template parameter WebOrigins, comma separated): the only
    origins API answers name in Access-Control-Allow-Origin. Empty: no cross-origin browser access at all."""

    web_origins: str = ""

    @property
    def origins(self) -> tuple[str, ...]:
        # A wildcard is never honoured: only origins named exactly may read answers from a browser.
        named = (origin.strip().rstrip("/") for origin in self.web_origins.split(","))
        return tuple(origin for origin in named if origin and origin != "*")


class CursorSettings(SettingsModel):
    cursor_ttl_seconds: int = 24 * 3600


class _BrokerTimeout(SettingsModel):
    """One bound for every broker call, so an unreachable broker fails a request inside the Lambda timeout."""

    broker_timeout_seconds: float = 3.0


class KafkaSettings(_BrokerTimeout):
    kafka_bootstrap_servers: str = "127.0.0.1:9092"

    @property
    def servers(self) -> list[str]:
        return self.kafka_bootstrap_servers.split(",")


class IngestSettings(SettingsModel):
    ingest_topic: str = "task.ingested"
    ingest_dlq_topic: str = "task.ingested.dlq"
    ingest_consumer_group: str = "taskapp-ingestion"


class RabbitMqSettings(_BrokerTimeout):
    """The broker and its topology. The URL holds credentials: in AWS it comes from the secret named by
    RABBITMQ_URL_SECRET_ARN (`taskapp.messaging.rabbitmq.broker_url`); RABBITMQ_URL is for local stacks."""

    rabbitmq_url: str = ""
    rabbitmq_url_secret_arn: str = ""
    events_exchange: str = "task.events"
    notifications_queue: str = "task.notifications"
    notifications_dlq: str = ""  # "<notifications_queue>.dlq" when unset
    notifications_delivery_limit: int = 5

    def __post_init__(self) -> None:
        if not self.notifications_dlq:
            object.__setattr__(self, "notifications_dlq", f"{self.notifications_queue}.dlq")


class OutboxFailureSettings(SettingsModel):
    """Where the outbox sends the stream records it cannot publish (and Lambda its on-failure records)."""

    outbox_failure_queue_url: str = ""


class IdempotencySettings(SettingsModel):
    """Idempotency records of the create routes: only the functions that use them get the table (and its IAM)."""

    idempotency_table: str = ""
    idempotency_ttl_seconds: int = 24 * 3600


class ConditionalRequestSettings(SettingsModel):
    # False: a PATCH with neither If-Match nor a body version is the 400 it always was, not a 428.
    require_if_match: bool = False


class TaskCacheSettings(SettingsModel):
    """The read-through Redis cache of GET /tasks/{id}: off unless configured (the template turns it on)."""

    task_cache_enabled: bool = False
    task_cache_ttl_seconds: int = 5


class ProjectsTableSettings(SettingsModel):
    projects_table: str = "taskapp-projects"


class ProjectLimitSettings(SettingsModel):
    """Per shared project (taskapp.domain.projects); past them 409 LIMIT_REACHED."""

    project_member_limit: int = 1000
    project_invitation_limit: int = 100


class CommentsTableSettings(SettingsModel):
    comments_table: str = "taskapp-comments"


class CommentLimitSettings(SettingsModel):
    """Per task (taskapp.domain.comments); past it 409 LIMIT_REACHED. Deleting a comment frees its slot."""

    comment_limit_per_task: int = 1000


class WebhookTablesSettings(SettingsModel):
    """Webhook subscriptions and their delivery log: one module (data/webhooks.py) defines both models."""

    webhooks_table: str = "taskapp-webhooks"
    webhook_deliveries_table: str = "taskapp-webhook-deliveries"


class WebhookQueueSettings(SettingsModel):
    """The delivery queue (one message per event and subscription) and its dead-letter queue."""

    webhook_queue_url: str = ""
    webhook_dlq_url: str = ""


class WebhookSecretSettings(SettingsModel):
    """The KMS key that encrypts signing secrets at rest (MiniStack has KMS too), and a rotation's grace period."""

    webhook_kms_key_id: str = "alias/taskapp-webhook-secrets"
    webhook_secret_grace_seconds: int = 24 * 3600


class WebhookUrlSettings(SettingsModel):
    """Local stacks only: lets http://127.0.0.1 (loopback) receivers through the SSRF rules, for tests and demos."""

    webhook_allow_loopback_http: bool = False


class WebhookDeliverySettings(SettingsModel):
    """One attempt's timeout, the retry schedule, and when a failing subscription is disabled (docs/webhooks.md)."""

    webhook_timeout_seconds: float = 5.0
    webhook_max_attempts: int = 8
    webhook_retry_base_seconds: int = 60
    webhook_retry_max_seconds: int = 3600
    webhook_disable_after_failures: int = 5


runtime_settings = _accessor(RuntimeSettings)
dynamodb_settings = _accessor(DynamoDbSettings)
users_table_settings = _accessor(UsersTableSettings)
tasks_table_settings = _accessor(TasksTableSettings)
sessions_table_settings = _accessor(SessionsTableSettings)
activity_table_settings = _accessor(ActivityTableSettings)
signing_key_settings = _accessor(SigningKeySettings)
token_settings = _accessor(TokenSettings)
revocation_settings = _accessor(RevocationSettings)
password_settings = _accessor(PasswordSettings)
redis_settings = _accessor(RedisSettings)
rate_limit_settings = _accessor(RateLimitSettings)
login_limit_settings = _accessor(LoginLimitSettings)
api_settings = _accessor(ApiSettings)
cors_settings = _accessor(CorsSettings)
cursor_settings = _accessor(CursorSettings)
kafka_settings = _accessor(KafkaSettings)
ingest_settings = _accessor(IngestSettings)
rabbitmq_settings = _accessor(RabbitMqSettings)
outbox_failure_settings = _accessor(OutboxFailureSettings)
idempotency_settings = _accessor(IdempotencySettings)
conditional_request_settings = _accessor(ConditionalRequestSettings)
task_cache_settings = _accessor(TaskCacheSettings)
projects_table_settings = _accessor(ProjectsTableSettings)
project_limit_settings = _accessor(ProjectLimitSettings)
comments_table_settings = _accessor(CommentsTableSettings)
comment_limit_settings = _accessor(CommentLimitSettings)


# The notification path (issue 12): one small model per concern, so each function reads only what its code needs.


class NotificationsTableSettings(SettingsModel):
    notifications_table: str = "taskapp-notifications"


class NotificationPreferencesTableSettings(SettingsModel):
    notification_preferences_table: str = "taskapp-notification-preferences"


class NotificationDeliverySettings(SettingsModel):
    notification_ttl_days: int = 90  # an inbox item expires this long after it was created (TTL on `expiresAt`)


class EmailSettings(SettingsModel):
    notification_sender_email: str = "notifications@taskapp.example.com"  # the SES identity (NotificationSenderEmail)


class ReminderScheduleSettings(SettingsModel):
    """EventBridge Scheduler: the target of due reminders, the role it assumes to invoke it, the schedules' group."""

    reminder_function_arn: str = ""
    scheduler_role_arn: str = ""
    reminder_schedule_group: str = "default"


class ConnectionsTableSettings(SettingsModel):
    connections_table: str = "taskapp-connections"  # open WebSocket connections, with a TTL


class WebSocketSettings(SettingsModel):
    websocket_api_id: str = ""
    websocket_stage: str = "local"
    aws_endpoint_url: str = (
        ""  # MiniStack/LocalStack: the @connections API is served under {endpoint}/_aws/execute-api/
    )

    def connections_endpoint(self, region: str) -> str:
        """Where the @connections management API of the WebSocket API answers."""
        if self.aws_endpoint_url:
            local = self.aws_endpoint_url.rstrip("/")
            return f"{local}/_aws/execute-api/{self.websocket_api_id}/{self.websocket_stage}"
        return f"https://{self.websocket_api_id}.execute-api.{region}.amazonaws.com/{self.websocket_stage}"


notifications_table_settings = _accessor(NotificationsTableSettings)
notification_preferences_table_settings = _accessor(NotificationPreferencesTableSettings)
notification_delivery_settings = _accessor(NotificationDeliverySettings)
email_settings = _accessor(EmailSettings)
reminder_schedule_settings = _accessor(ReminderScheduleSettings)
connections_table_settings = _accessor(ConnectionsTableSettings)
websocket_settings = _accessor(WebSocketSettings)
webhook_tables_settings = _accessor(WebhookTablesSettings)
webhook_queue_settings = _accessor(WebhookQueueSettings)
webhook_secret_settings = _accessor(WebhookSecretSettings)
webhook_url_settings = _accessor(WebhookUrlSettings)
webhook_delivery_settings = _accessor(WebhookDeliverySettings)
