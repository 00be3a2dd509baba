"""`Idempotency-Key` on the routes that create: a retried request answers the first response again.

Powertools' idempotency utility keeps the books (an in-progress record written with a conditional put, the stored
response, expiry after IDEMPOTENCY_TTL_SECONDS, payload validation) in the table `taskapp.data.idempotency` owns.
The record is keyed on the header value and the caller's user id, so one client's key never meets another's; the
SHA-256 of the body (canonical JSON) is the payload Powertools validates, so the same key with another body is
refused (422 IDEMPOTENCY_KEY_REUSED) instead of being answered with a response to a different request. While the
first request runs, a second one with the key answers 409 IDEMPOTENCY_IN_PROGRESS with Retry-After.

Only a 2xx answer is stored and replayed (status, body and headers, `Location` and `ETag` included, plus
`Idempotent-Replayed: true`). Any other outcome deletes the in-progress record, so the client may retry with the
same key: a 400 is answered again by validation, a 503 may succeed next time. A request without the header is
served exactly as before, and never loads the utility.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.params import Header

from taskapp.api import TaskApiResolver, caller_of
from taskapp.errors import RequestInProgress, ServiceUnavailable, Unprocessable, ValidationFailed
from taskapp.observability import logger, metrics
from taskapp.settings import idempotency_settings

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255

# How a handler declares the header (so the OpenAPI spec lists it); the middleware reads and checks the value.
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        description="Optional. A client-chosen unique key (a UUID is ideal): a retry with the same key and body "
        "answers the first response again for 24 h; the same key with another body is 422 IDEMPOTENCY_KEY_REUSED, "
        "and while the first request is in flight 409 IDEMPOTENCY_IN_PROGRESS.",
    ),
]
Middleware = Callable[[APIGatewayRestResolver, NextMiddleware], Response[Any]]
StoredResponse = dict[str, Any]


class _NotStored(Exception):
    """The first answer was not a success: Powertools deletes the in-progress record, the client may retry."""

    def __init__(self, response: Response[Any]) -> None:
        super().__init__(response.status_code)
        self.response = response


def idempotency_key(app: APIGatewayRestResolver) -> str | None:
    """The header's value (any letter case), refused with 400 when it could not be a key a client chose."""
    key = app.current_event.headers.get(HEADER)
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        detail = {"location": "header", "field": HEADER, "message": f"1 to {MAX_KEY_LENGTH} printable ASCII characters"}
        raise ValidationFailed("Idempotency-Key is not valid", [{**detail, "type": "idempotency_key"}])
    return key


def body_digest(app: APIGatewayRestResolver) -> str:
    """SHA-256 of the body as canonical JSON: the same request re-sent with other spacing or key order matches."""
    body = app.current_event.json_body if app.current_event.body else None
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _storable(response: Response[Any]) -> StoredResponse:
    if not 200 <= response.status_code < 300:
        raise _NotStored(response)
    headers = {name: value for name, value in response.headers.items() if isinstance(value, str)}
    return {"status": response.status_code, "headers": headers, "body": response.body}


def _replayed(stored: StoredResponse) -> Response[Any]:
    headers = {**stored["headers"], REPLAYED_HEADER: "true"} if stored.get("replayed") else stored["headers"]
    return Response(status_code=int(stored["status"]), body=stored["body"], headers=headers)


@cache
def _runner(route: str) -> tuple[Any, Callable[..., StoredResponse]]:
    """The Powertools-wrapped call for one route (its records are prefixed with the route, not the function)."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    from taskapp.data.idempotency import persistence_layer

    config = IdempotencyConfig(
        event_key_jmespath="[key, caller]",
        payload_validation_jmespath="body",
        expires_after_seconds=idempotency_settings().idempotency_ttl_seconds,
        hash_function="sha256",
        response_hook=lambda response, _record: {**response, "replayed": True},
    )

    @idempotent_function(
        data_keyword_argument="request", persistence_store=persistence_layer(), config=config, key_prefix=route
    )
    def run_once(*, request: dict[str, str], produce: Callable[[], StoredResponse]) -> StoredResponse:
        return produce()

    return config, run_once


def idempotent(route: str) -> Middleware:
    """Route middleware: with Idempotency-Key, the route's handler runs at most once per key, caller and body."""

    def middleware(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
        key = idempotency_key(app)
        if key is None:
            return next_middleware(app)
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyInconsistentStateError,
            IdempotencyPersistenceLayerError,
            IdempotencyValidationError,
        )

        request = {"key": key, "caller": caller_of(cast(TaskApiResolver, app)).user_id, "body": body_digest(app)}
        config, run_once = _runner(route)
        config.register_lambda_context(app.lambda_context)  # an abandoned in-progress record expires with the call
        try:
            stored = run_once(request=request, produce=lambda: _storable(next_middleware(app)))
        except _NotStored as not_stored:
            return not_stored.response
        except IdempotencyValidationError as exc:
            raise Unprocessable(
                "This Idempotency-Key was already used with a different request body; use a new key",
                details={"header": HEADER},
                code="IDEMPOTENCY_KEY_REUSED",
            ) from exc
        except IdempotencyAlreadyInProgressError as exc:
            raise RequestInProgress(
                "A request with this Idempotency-Key is still in progress; retry after Retry-After",
                details={"header": HEADER},
            ) from exc
        except (IdempotencyPersistenceLayerError, IdempotencyInconsistentStateError) as exc:
            logger.warning("idempotency store unavailable", extra={"route": route, "error": str(exc)})
            raise ServiceUnavailable(
                "Cannot check the Idempotency-Key right now; retry with the same key", code="IDEMPOTENCY_UNAVAILABLE"
            ) from exc
        if stored.get("replayed"):
            metrics.add_metric(name="IdempotentReplay", unit="Count", value=1)
        return _replayed(stored)

    return middleware
