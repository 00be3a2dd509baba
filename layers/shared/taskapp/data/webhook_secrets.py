"""Webhook signing secrets at rest: encrypted with a KMS key (MiniStack has KMS, so local stacks do the same).

KMS rather than Secrets Manager: a subscription's secret is a small value read with its subscription, and one
Secrets Manager secret per subscription would cost a secret (and a monthly fee) each. The encryption context binds
a ciphertext to its subscription, so a ciphertext copied onto another subscription does not decrypt. Decrypted
secrets are cached per execution environment (the delivery function decrypts each secret once, not per message);
neither the plain text nor the ciphertext is ever logged.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from typing import Any

from taskapp.data import StorageUnavailable
from taskapp.settings import runtime_settings, webhook_secret_settings


@lru_cache(maxsize=1)
def _kms() -> Any:
    import boto3

    return boto3.client("kms", region_name=runtime_settings().region)


def _context(webhook_id: str) -> dict[str, str]:
    return {"webhookId": webhook_id}


def encrypt(secret: str, webhook_id: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        blob = _kms().encrypt(
            KeyId=webhook_secret_settings().webhook_kms_key_id,
            Plaintext=secret.encode("utf-8"),
            EncryptionContext=_context(webhook_id),
        )["CiphertextBlob"]
    except (BotoCoreError, ClientError) as exc:
        raise StorageUnavailable(f"KMS encrypt failed: {type(exc).__name__}") from exc
    return base64.b64encode(blob).decode("ascii")


@lru_cache(maxsize=512)
def decrypt(ciphertext: str, webhook_id: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        plain = _kms().decrypt(CiphertextBlob=base64.b64decode(ciphertext), EncryptionContext=_context(webhook_id))
    except (BotoCoreError, ClientError) as exc:
        raise StorageUnavailable(f"KMS decrypt failed: {type(exc).__name__}") from exc
    return plain["Plaintext"].decode("utf-8")
