"""GET /health: each dependency's state."""

from __future__ import annotations

from typing import Any

from taskapp.schemas.common import ApiModel


class DependencyStatus(ApiModel):
    status: str
    latency_ms: float | None = None
    error: str | None = None
    details: dict[str, Any] | None = None


class HealthOut(ApiModel):
    status: str
    dependencies: dict[str, DependencyStatus]
