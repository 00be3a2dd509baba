"""The JWT signing key and clock-skew leeway, apart from `tokens` so that modules needing only these do not import
PyJWT: the revocation check (every authenticated request) and the pagination cursors sign nothing with JWT."""

from __future__ import annotations

from functools import lru_cache

from taskapp.settings import signing_key_settings

# Clock skew tolerated on exp/nbf: a token stays usable until exp + this, so revocation must cover it too.
LEEWAY_SECONDS = 5


@lru_cache(maxsize=1)
def signing_key() -> str:
    """The HMAC key: from Secrets Manager when JWT_SECRET_ARN is set (production), else from JWT_SECRET."""
    settings = signing_key_settings()
    if settings.jwt_secret_arn:
        # Imported here: Powertools' parameters utility builds boto3 clients, which only this setting needs.
        from aws_lambda_powertools.utilities.parameters import get_secret

        secret = get_secret(settings.jwt_secret_arn, max_age=300)
        key = secret if isinstance(secret, str) else secret.decode("utf-8")
    else:
        key = settings.jwt_secret
    if len(key) < 32:
        raise RuntimeError("JWT signing key must be at least 32 characters")
    return key
