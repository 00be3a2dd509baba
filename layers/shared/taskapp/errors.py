"""Errors a client can cause or observe: a stable code, a message and details, and no HTTP status.

The HTTP edge (`taskapp.api`) maps each class to its status in one table and renders every error as
`{"error": {"code", "message", "details"}}`; the domain only says what went wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class AppError(Exception):
    """Base class: a stable code (a subclass's default, or one passed per error), a message and optional details."""

    code = "BAD_REQUEST"

    def __init__(self, message: str, details: Any = None, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code


class ValidationFailed(AppError):
    code = "VALIDATION_ERROR"


class Unauthorized(AppError):
    code = "UNAUTHORIZED"


class Forbidden(AppError):
    code = "FORBIDDEN"


class NotFound(AppError):
    code = "NOT_FOUND"


class Conflict(AppError):
    code = "CONFLICT"


class ServiceUnavailable(AppError):
    code = "SERVICE_UNAVAILABLE"


class RateLimited(AppError):
    """A rate limit refused the request; `headers` (Retry-After and the X-RateLimit-* values) go on the answer."""

    code = "RATE_LIMITED"

    def __init__(
        self, message: str, details: Any = None, *, headers: Mapping[str, str] | None = None, code: str | None = None
    ) -> None:
        super().__init__(message, details, code=code)
        self.headers: Mapping[str, str] = dict(headers or {})


class PayloadTooLarge(AppError):
    code = "BODY_TOO_LARGE"


class PreconditionFailed(AppError):
    """If-Match named another version than the stored one; details carry the current ETag (the edge sends it too)."""

    code = "PRECONDITION_FAILED"


class Unprocessable(AppError):
    code = "UNPROCESSABLE"


class PreconditionRequired(AppError):
    code = "PRECONDITION_REQUIRED"


class RequestInProgress(Conflict):
    """The same idempotent request is still being served: the client retries after Retry-After."""

    code = "IDEMPOTENCY_IN_PROGRESS"
