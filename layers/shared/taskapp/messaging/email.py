"""Email through Amazon SES (API v2 `SendEmail`), with failures sorted into "retry later" and "never".

A permanent failure (the address or the message was rejected) must not hold up the batch or other recipients: the
caller records it and moves on. A transient one (throttling, SES or the network unreachable) gives the send back, and
the batch is redelivered later, then dead-lettered like any other poison message.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from taskapp.settings import email_settings, runtime_settings

# SES v2 error codes that retrying the same message will never fix.
_PERMANENT = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "BadRequestException",
        "NotFoundException",
        "AccountSuspendedException",
    }
)


class EmailFailed(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@lru_cache(maxsize=1)
def _sesv2() -> Any:
    """boto3 reads AWS_ENDPOINT_URL itself (MiniStack, LocalStack); short timeouts keep a batch inside its budget."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})
    return boto3.client("sesv2", region_name=runtime_settings().region, config=config)


class SesMailer:
    def send(self, to_address: str, subject: str, text: str, html: str) -> str:
        """Send one message; returns SES's message id. Raises EmailFailed (permanent or not)."""
        try:
            response = _sesv2().send_email(
                FromEmailAddress=email_settings().notification_sender_email,
                Destination={"ToAddresses": [to_address]},
                Content={
                    "Simple": {
                        "Subject": {"Data": subject, "Charset": "UTF-8"},
                        "Body": {
                            "Text": {"Data": text, "Charset": "UTF-8"},
                            "Html": {"Data": html, "Charset": "UTF-8"},
                        },
                    }
                },
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise EmailFailed(f"{code}: {exc}", permanent=code in _PERMANENT) from exc
        except BotoCoreError as exc:
            raise EmailFailed(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        return str(response.get("MessageId", ""))


@lru_cache(maxsize=1)
def _probe_client() -> Any:
    """For GET /health only: one attempt, 1 s to connect and 1 s to answer, so a slow SES costs the check ~2 s at
    worst; its own session, since the health checks run side by side in threads."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=1, read_timeout=1, retries={"total_max_attempts": 1})
    return boto3.session.Session().client("ses", region_name=runtime_settings().region, config=config)


def probe() -> dict[str, Any]:
    """GET /health: SES's GetSendQuota (nothing sent), on the endpoint the v2 SendEmail uses. The v1 call rather
    than v2's GetAccount because AWS, MiniStack and moto all answer it (moto has no GetAccount), so the check means
    the same in unit tests and on every stack."""
    quota = _probe_client().get_send_quota()
    return {
        "max24HourSend": quota.get("Max24HourSend"),
        "sentLast24Hours": quota.get("SentLast24Hours"),
        "maxSendRate": quota.get("MaxSendRate"),
    }
