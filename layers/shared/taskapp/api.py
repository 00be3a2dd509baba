"""The HTTP edge shared by every API function: resolver set-up, error mapping, guards and the Lambda entry point.

Handlers stay thin: they declare a route with typed parameters, call one domain function and return `respond(...)`.

`build_api` imports what a resolver's guards need (Redis for the revocation check and the rate limiter, botocore and
pynamodb for the storage error mapping) when it builds one that has them, still at import time of the handler
module: a function without them (GET /openapi.json) never loads them, the others pay for them before any request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from taskapp import coldstart
from taskapp.errors import AppError, Unauthorized
from taskapp.observability import instrumented, logger, metrics
from taskapp.settings import get_settings

if TYPE_CHECKING:
    from taskapp.rate_limit import RateLimitDecision, RateLimitScope

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]
RateLimiter = Callable[[dict[str, Any]], "RateLimitDecision | None"]


@dataclass(frozen=True)
class Caller:
    """Who is calling, as established by the Lambda authorizer; handlers never look at the token."""

    user_id: str
    jti: str
    expires_at: int
    session_id: str
    session_generation: int = 0


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": {"code": code, "message": message, "details": details}},
        headers=headers,
    )


def respond(status: HTTPStatus, model: BaseModel | None = None, headers: dict[str, str] | None = None) -> Response[Any]:
    if model is None:
        return Response(status_code=int(status), body=None, headers=headers)
    body = model.model_dump(mode="json", by_alias=True)
    return Response(status_code=int(status), content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


def _validation_details(exc: RequestValidationError) -> tuple[str, str, list[dict[str, str]]]:
    details = []
    code, message = "VALIDATION_ERROR", "Request is not valid"
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        if error.get("type") == "json_invalid":
            code, message = "MALFORMED_JSON", "Request body is not valid JSON"
        # loc starts with where the value came from (body/query/path); the rest is the field path.
        details.append(
            {
                "location": loc[0] if loc else "request",
                "field": ".".join(loc[1:]),
                "message": str(error.get("msg", "")),
                "type": str(error.get("type", "")),
            }
        )
    return code, message, details


def caller_of(app: APIGatewayRestResolver) -> Caller:
    context = app.current_event.request_context.authorizer.raw_event or {}
    user_id = context.get("userId")
    if not user_id:
        # Only reachable if a route is deployed without the authorizer: refuse rather than trust the request.
        raise Unauthorized("Missing authorizer context")
    return Caller(
        user_id=str(user_id),
        jti=str(context.get("jti", "")),
        expires_at=int(context.get("exp", 0) or 0),
        session_id=str(context.get("sid", "")),
        session_generation=int(context.get("sgen", 0) or 0),
    )


def _unacceptable_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """JSON-only API: refuse oversize bodies and other media types before the resolver parses anything.

    Runs ahead of the resolver because Powertools' validation middleware parses the body before any
    user middleware, and would happily decode a form-encoded body.
    """
    proxy = APIGatewayProxyEvent(event)
    try:
        body = proxy.decoded_body if proxy.body else None  # isBase64Encoded bodies measured as the client sent them
    except ValueError:  # bad base64 (binascii.Error) or bytes that are not UTF-8 (UnicodeDecodeError)
        return _proxy_error(400, "MALFORMED_BODY", "Request body is not valid base64-encoded UTF-8", None)
    if not body:
        return None
    limit = get_settings().max_body_bytes
    if len(body.encode("utf-8")) > limit:
        return _proxy_error(400, "BODY_TOO_LARGE", f"Request body exceeds {limit} bytes", {"maxBytes": limit})
    content_type = (proxy.headers.get("content-type") or "").split(";")[0].strip().lower()
    # Exactly application/json: Powertools' body parser accepts no other JSON type (+json, other letter cases).
    if content_type and content_type != "application/json":
        return _proxy_error(
            415, "UNSUPPORTED_MEDIA_TYPE", "Send the request body as application/json", {"contentType": content_type}
        )
    if body.lstrip().startswith("["):
        # Powertools validates a top-level array by its first element (a rule meant for repeated query values),
        # so `[{...}, {...}]` would create from the first item and drop the rest: every body here is an object.
        detail = {"location": "body", "field": "", "message": "Input should be a JSON object", "type": "object_type"}
        return _proxy_error(400, "VALIDATION_ERROR", "Request body must be a JSON object", [detail])
    return None


def _proxy_error(
    status: int, code: str, message: str, details: Any, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON, **(headers or {})},
        "body": _json({"error": {"code": code, "message": message, "details": details}}),
        "isBase64Encoded": False,
    }


def _revocation_guard() -> Callable[[APIGatewayRestResolver, NextMiddleware], Response[Any]]:
    from taskapp.auth.revocation import RevocationStoreUnavailable, is_token_revoked

    def guard(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
        """Refuse a logged-out token even while API Gateway still caches the authorizer's Allow for it."""
        caller = caller_of(app)
        try:
            revoked = is_token_revoked(caller.jti, caller.user_id, caller.session_generation, caller.session_id)
        except RevocationStoreUnavailable:
            return error_response(
                503, "AUTH_UNAVAILABLE", "Cannot verify the token right now; try again", headers={"Retry-After": "1"}
            )
        if revoked:
            return error_response(401, "TOKEN_REVOKED", "Token has been revoked")
        return next_middleware(app)

    return guard


def _rate_limiter(scope: RateLimitScope) -> RateLimiter:
    """Counts one request of the event's caller (user id or client IP) against the scope's limit."""
    from taskapp import rate_limit

    per_user = scope is rate_limit.RateLimitScope.USER

    def check(event: dict[str, Any]) -> RateLimitDecision | None:
        identity = _rate_limit_identity(per_user, event)
        return rate_limit.hit(scope, identity) if identity else None

    return check


class TaskApiResolver(APIGatewayRestResolver):
    """The Powertools resolver plus the rate limiter that `lambda_handler` applies before routing."""

    rate_limiter: RateLimiter | None = None


def build_api(
    *, authenticated: bool = True, rate_limit_scope: RateLimitScope | None = None, storage: bool = True
) -> TaskApiResolver:
    """A resolver with validation, the shared error shape and the guards every route of that kind needs.

    Authenticated routes are always rate-limited per user; public routes opt in (per client IP) with
    `rate_limit_scope=RateLimitScope.CLIENT_IP`. `storage=False` is for a function that never reaches DynamoDB
    (its guards may still use Redis): no storage error mapping, so botocore and pynamodb are not loaded for it.
    """
    app = TaskApiResolver(enable_validation=True, serializer=_json)
    if authenticated:
        from taskapp.rate_limit import RateLimitScope

        rate_limit_scope = RateLimitScope.USER
    if rate_limit_scope is not None:
        app.rate_limiter = _rate_limiter(rate_limit_scope)

    @app.exception_handler(AppError)
    def _app_error(exc: AppError) -> Response:
        headers = {"Retry-After": "1"} if exc.status_code == 503 else None
        return error_response(exc.status_code, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(exc: RequestValidationError) -> Response:
        code, message, details = _validation_details(exc)
        return error_response(400, code, message, details)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_media_type(exc: RequestUnsupportedContentType) -> Response:
        content_type = app.current_event.headers.get("content-type")
        return error_response(
            415, "UNSUPPORTED_MEDIA_TYPE", "Send the request body as application/json", {"contentType": content_type}
        )

    @app.exception_handler(RecursionError)
    def _too_deep(exc: RecursionError) -> Response:
        # json.loads recurses per nesting level: a small body of 10k brackets would otherwise be a 500.
        return error_response(400, "MALFORMED_JSON", "Request body is nested too deeply to parse")

    @app.exception_handler(NotFoundError)
    def _no_route(exc: NotFoundError) -> Response:
        return error_response(404, "ROUTE_NOT_FOUND", "No such route")

    if storage:
        from botocore.exceptions import BotoCoreError, ClientError
        from pynamodb.exceptions import PynamoDBException

        @app.exception_handler([PynamoDBException, BotoCoreError, ClientError])
        def _storage_down(exc: Exception) -> Response:
            logger.exception("storage call failed")
            metrics.add_metric(name="StorageError", unit="Count", value=1)
            return error_response(
                503,
                "STORAGE_UNAVAILABLE",
                "Storage is temporarily unavailable; try again",
                headers={"Retry-After": "1"},
            )

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(500, "INTERNAL_ERROR", "Internal error")

    if authenticated:
        app.use(middlewares=[_revocation_guard()])
    return app


def _rate_limit_identity(per_user: bool, event: dict[str, Any]) -> str | None:
    request_context = event.get("requestContext") or {}
    if per_user:
        user_id = (request_context.get("authorizer") or {}).get("userId")
        return str(user_id) if user_id else None  # no caller: the revocation guard answers 401
    return str((request_context.get("identity") or {}).get("sourceIp") or "unknown")


def _check_rate_limit(app: APIGatewayRestResolver, event: dict[str, Any]) -> RateLimitDecision | None:
    limiter = getattr(app, "rate_limiter", None)
    return limiter(event) if limiter is not None else None


def _add_headers(result: dict[str, Any], headers: dict[str, str]) -> None:
    """The REST resolver answers with multiValueHeaders; early rejections use plain headers."""
    if "multiValueHeaders" in result:
        for name, value in headers.items():
            result["multiValueHeaders"][name] = [value]
    else:
        result.setdefault("headers", {}).update(headers)


def lambda_handler(app: APIGatewayRestResolver) -> LambdaHandler:
    """Wrap a resolver with structured logging (correlation id = API request id), tracing and metrics.

    Called last by every API handler module, so it also ends the cold-start pause of the garbage collector.
    """
    coldstart.ready()

    @partial(instrumented, correlation_id_path=correlation_paths.API_GATEWAY_REST)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        limit = _check_rate_limit(app, event)
        if limit is not None and not limit.allowed:
            return _proxy_error(
                429,
                "RATE_LIMITED",
                "Too many requests; retry after the time in Retry-After",
                {"limit": limit.limit, "retryAfterSeconds": limit.retry_after_seconds},
                limit.headers(),
            )
        result = _unacceptable_body(event) or app.resolve(event, context)
        if result.get("body") is None:
            result["body"] = ""  # a 204's null body is turned into a 500 by some API Gateway emulators
        if limit is not None:
            _add_headers(result, limit.headers())
        return result

    return handler
