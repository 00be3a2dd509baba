"""Table settings shared by every pynamodb model: endpoint, region and short retries taken from Settings."""

from __future__ import annotations

from typing import Any

from taskapp.settings import get_settings


def model_meta(table_name: str) -> Any:
    """A pynamodb `Meta` class built from Settings; read at import time, when the Lambda environment is final."""
    settings = get_settings()
    meta: dict[str, Any] = {
        "table_name": table_name,
        "region": settings.region,
        "connect_timeout_seconds": 2,
        "read_timeout_seconds": 5,
        "max_retry_attempts": 3,
    }
    if settings.dynamodb_endpoint:
        meta["host"] = settings.dynamodb_endpoint
    return type("Meta", (), meta)
