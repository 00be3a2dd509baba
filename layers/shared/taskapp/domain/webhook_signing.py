"""Standard Webhooks signatures (https://www.standardwebhooks.com), made by the `standardwebhooks` package.

Headers: `webhook-id` (stable across retries), `webhook-timestamp` (this attempt, Unix seconds) and
`webhook-signature`: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` per active secret, space separated, so
during a rotation's grace period a receiver holding either the old or the new secret verifies the request.
"""

from __future__ import annotations

import base64
import math
import secrets
from collections.abc import Sequence
from datetime import datetime

# The format's prefix, not a secret.
SECRET_PREFIX = "whsec_"  # noqa: S105  # nosec B105
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signed_headers(message_id: str, timestamp: datetime, body: str, active_secrets: Sequence[str]) -> dict[str, str]:
    from standardwebhooks.webhooks import Webhook

    signatures = " ".join(Webhook(secret).sign(message_id, timestamp, body) for secret in active_secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(math.floor(timestamp.timestamp())),
        "webhook-signature": signatures,
    }
