"""The HTTP edge shared by every API function: resolver set-up, error mapping, guards and the Lambda entry point.

Handlers stay thin: they declare a route with typed parameters, call one domain function and return `respond(...)`.

Every answer also gets the browser edge's headers in one place, `lambda_handler` (`EdgeHeaders`): CORS for the
configured web origins only (Powertools' `CORSConfig`), HSTS, `nosniff`, and `Cache-Control: no-store` unless the
route chose its own caching. Preflights (`OPTIONS`, sent without a token) go to one function, `preflight_handler`.

Every error answer is made by `error_response` from an `AppError`, whose HTTP status comes from `HTTP_STATUS` (the
only place a status is chosen for an error); the domain raises errors that carry a code, never a status. Every check
a request passes before its handler is declared in `build_api` as `Guards`, in the order they run.

`build_api` imports what a resolver's guards need (Redis for the revocation check and the rate limiter, botocore and
pynamodb for the storage error mapping) when it builds one that has them, still at import time of the handler
module: a function without them (GET /openapi.json) never loads them, the others pay for them before any request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from http import HTTPStatus
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Protocol, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from taskapp import coldstart
from taskapp.auth.context import AuthorizerContext, InvalidAuthorizerContext
from taskapp.conditional import EntityTagCondition, entity_tag, http_date
from taskapp.errors import (
    AppError,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    RateLimited,
    RequestInProgress,
    ServiceUnavailable,
    Unauthorized,
    Unprocessable,
    ValidationFailed,
)
from taskapp.observability import instrumented, logger, metrics
from taskapp.settings import api_settings, cors_settings

if TYPE_CHECKING:
    from taskapp.rate_limit import RateLimitScope

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]

# Handlers' name for the authorizer's context: who is calling.
Caller = AuthorizerContext


class UnsupportedMediaType(AppError):
    """The edge's own refusal of a body that is not application/json (the domain never sees one)."""

    code = "UNSUPPORTED_MEDIA_TYPE"


class InternalError(AppError):
    """An unexpected failure: the answer says nothing of it, the log says everything."""

    code = "INTERNAL_ERROR"


# The one table from error class to HTTP status; a subclass answers with its nearest listed ancestor's status.
HTTP_STATUS: Mapping[type[AppError], HTTPStatus] = {
    AppError: HTTPStatus.BAD_REQUEST,
    ValidationFailed: HTTPStatus.BAD_REQUEST,
    Unauthorized: HTTPStatus.UNAUTHORIZED,
    Forbidden: HTTPStatus.FORBIDDEN,
    NotFound: HTTPStatus.NOT_FOUND,
    Conflict: HTTPStatus.CONFLICT,
    PreconditionFailed: HTTPStatus.PRECONDITION_FAILED,
    PayloadTooLarge: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    UnsupportedMediaType: HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    Unprocessable: HTTPStatus.UNPROCESSABLE_ENTITY,
    PreconditionRequired: HTTPStatus.PRECONDITION_REQUIRED,
    RateLimited: HTTPStatus.TOO_MANY_REQUESTS,
    InternalError: HTTPStatus.INTERNAL_SERVER_ERROR,
    ServiceUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
}


def http_status_of(error: AppError) -> HTTPStatus:
    return next(HTTP_STATUS[cls] for cls in type(error).__mro__ if cls in HTTP_STATUS)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def error_response(error: AppError) -> Response[Any]:
    """The one error builder: `{"error": {"code", "message", "details"}}` with the error's status.

    A 503 says when to retry (`Retry-After: 1`): every dependency outage here is one a client may simply retry. A
    429 carries the headers of the limit that refused it (Retry-After, X-RateLimit-*).
    """
    status = http_status_of(error)
    headers = _error_headers(error, status)
    if isinstance(error, RateLimited):
        headers = dict(error.headers)
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body={"error": {"code": error.code, "message": error.message, "details": error.details}},
        headers=headers,
    )


def _error_headers(error: AppError, status: HTTPStatus) -> dict[str, str] | None:
    """Headers an error answer needs for the client to act on it: when to retry, which version is current."""
    if status is HTTPStatus.SERVICE_UNAVAILABLE or isinstance(error, RequestInProgress):
        return {"Retry-After": "1"}
    if isinstance(error, PreconditionFailed) and isinstance(error.details, dict) and error.details.get("currentETag"):
        return {"ETag": str(error.details["currentETag"])}
    return None


def _proxy_result(response: Response[Any]) -> dict[str, Any]:
    """A response made before the resolver ran, as a Lambda proxy result (plain headers; the resolver uses multi)."""
    return {
        "statusCode": response.status_code,
        "headers": dict(response.headers),
        "body": _json(response.body),
        "isBase64Encoded": False,
    }


# --- validators and conditional requests (RFC 9110 section 13) ------------------------------------------------


class Versioned(Protocol):
    """A representation with validators: its id and version make the ETag, `updated_at` the Last-Modified."""

    id: str
    version: int
    updated_at: str


def validators(resource: Versioned) -> dict[str, str]:
    """`ETag` (strong, from id and version) and `Last-Modified` headers of one resource's representation."""
    return {
        "ETag": entity_tag(resource.id, resource.version),
        "Last-Modified": http_date(datetime.fromisoformat(resource.updated_at)),
    }


IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=2048,
        description="The task's ETag as last read: the write applies only to that version (412 otherwise). "
        "The standard alternative to the body's `version`.",
    ),
]


def if_match_of(header: str | None) -> EntityTagCondition | None:
    return EntityTagCondition.parse(header)


def not_modified_when_current(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Route middleware for conditional GETs: a 200 whose ETag If-None-Match names becomes a 304 with no body.

    Outside Powertools' response validation (route middlewares run before it), so the 200 was built and checked
    as usual and the 304 keeps only its validators (RFC 9110 15.4.5).
    """
    response = next_middleware(app)
    condition = EntityTagCondition.parse(app.current_event.headers.get("If-None-Match"))
    etag = response.headers.get("ETag")
    if response.status_code != HTTPStatus.OK or condition is None or not isinstance(etag, str):
        return response
    if not condition.matches_weakly(etag):
        return response
    kept = {name: value for name, value in response.headers.items() if name in {"ETag", "Last-Modified"}}
    return Response(status_code=int(HTTPStatus.NOT_MODIFIED), body=None, headers=kept)


def respond(status: HTTPStatus, model: BaseModel | None = None, headers: dict[str, str] | None = None) -> Response[Any]:
    """The model itself is the body: Powertools' response validation accepts an instance of the declared model as
    it is and serialises it once (camelCase, JSON types); a dict would be validated into the model again first."""
    if model is None:
        return Response(status_code=int(status), body=None, headers=headers)
    return Response(status_code=int(status), content_type=content_types.APPLICATION_JSON, body=model, headers=headers)


# The handler parameter that declares a route's query model: `query: Annotated[ListTasksQuery, Query()]`.
QUERY_MODEL_PARAMETER = "query"


def _validation_failure(exc: RequestValidationError) -> ValidationFailed:
    details = []
    code, message = "VALIDATION_ERROR", "Request is not valid"
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        if loc[:2] == ["query", QUERY_MODEL_PARAMETER] and len(loc) > 2:
            del loc[1]  # a field of the route's query model: the client sent `limit`, not `query.limit`
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
    return ValidationFailed(message, details, code=code)


def _unsupported_media_type(content_type: str | None) -> UnsupportedMediaType:
    return UnsupportedMediaType("Send the request body as application/json", {"contentType": content_type})


# --- guards -----------------------------------------------------------------------------------------------------


# The edge's records are plain classes with __slots__: a frozen dataclass or a NamedTuple costs 0.1-0.5 ms each to
# define, paid on every cold start, and nothing here needs their generated methods.


class EdgeRequest:
    """One request as the guards and handlers see it: the proxy event, and its caller parsed once."""

    __slots__ = ("caller", "event", "revocation_values")

    def __init__(self, event: dict[str, Any]) -> None:
        self.event = event
        self.caller = _caller_in(event)
        # The caller's revocation keys, read by the rate limiter's round trip (None: not read; the guard reads them).
        self.revocation_values: list[Any] | None = None


def _caller_in(event: dict[str, Any]) -> AuthorizerContext | None:
    try:
        return AuthorizerContext.from_context((event.get("requestContext") or {}).get("authorizer"))
    except InvalidAuthorizerContext:
        return None  # a public route, or a route deployed without the authorizer: the revocation guard says 401


class GuardOutcome:
    """A guard's verdict: a refusal answers the request at once; headers go on whatever answers it."""

    __slots__ = ("headers", "refusal")

    def __init__(self, refusal: AppError | None = None, headers: Mapping[str, str] = MappingProxyType({})) -> None:
        self.refusal = refusal
        self.headers = headers


PASS = GuardOutcome()
Guard = Callable[[EdgeRequest], GuardOutcome]


class Guards:
    """Every check a request passes before its handler, in the order they run; the first refusal answers.

    `before_routing` see the raw event, ahead of the resolver: a limited client is refused before anything is
    parsed, and Powertools' validation (which runs before any middleware) never decodes a body the API refuses.
    `after_validation` run once the route matched and its parameters validated, just before the handler, so an
    unknown path stays a 404 and an invalid request a 400 whoever sends it.
    """

    __slots__ = ("after_validation", "before_routing")

    def __init__(self, before_routing: tuple[Guard, ...] = (), after_validation: tuple[Guard, ...] = ()) -> None:
        self.before_routing = before_routing
        self.after_validation = after_validation


def _run(guards: tuple[Guard, ...], request: EdgeRequest) -> GuardOutcome:
    headers: dict[str, str] = {}
    for guard in guards:
        outcome = guard(request)
        headers.update(outcome.headers)
        if outcome.refusal is not None:
            return GuardOutcome(outcome.refusal, headers)
    return GuardOutcome(None, headers)


def _rate_limit_identity(per_user: bool, request: EdgeRequest) -> str | None:
    if per_user:
        return request.caller.user_id if request.caller else None  # no caller: the revocation guard answers 401
    return _source_ip(request.event)


def _source_ip(event: dict[str, Any]) -> str:
    """The caller's address as API Gateway saw it: the TCP peer on AWS; MiniStack trusts `X-Forwarded-For`."""
    identity = (event.get("requestContext") or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def _rate_limit_guard(scope: RateLimitScope) -> Guard:
    """Counts one request of the caller (user id or client IP) against the scope's limit."""
    from taskapp import rate_limit
    from taskapp.auth.revocation import revocation_keys

    per_user = scope is rate_limit.RateLimitScope.USER

    def rate_limit_guard(request: EdgeRequest) -> GuardOutcome:
        """Every answer of a limited route carries the limit's headers, a refusal included.

        Per user, the same round trip reads the caller's revocation keys for the revocation guard, which judges
        them after validation as before: one Redis round trip fewer on every authenticated request."""
        identity = _rate_limit_identity(per_user, request)
        caller = request.caller
        if identity and per_user and caller is not None:
            keys = revocation_keys(caller.jti, caller.user_id, caller.session_id)
            decision, request.revocation_values = rate_limit.hit_and_read(scope, identity, keys)
        else:
            decision = rate_limit.hit(scope, identity) if identity else None
        if decision is None:
            return PASS
        refusal = None
        if not decision.allowed:
            refusal = RateLimited(
                "Too many requests; retry after the time in Retry-After",
                {"limit": decision.limit, "retryAfterSeconds": decision.retry_after_seconds},
            )
        return GuardOutcome(refusal, decision.headers())

    return rate_limit_guard


def _body_shape_guard(request: EdgeRequest) -> GuardOutcome:
    """JSON-only API: refuse oversize bodies, other media types and top-level arrays before the resolver parses them.

    Ahead of the resolver because Powertools' validation middleware parses the body before any user middleware,
    and would happily decode a form-encoded body.
    """
    proxy = APIGatewayProxyEvent(request.event)
    try:
        body = proxy.decoded_body if proxy.body else None  # isBase64Encoded bodies measured as the client sent them
    except ValueError:  # bad base64 (binascii.Error) or bytes that are not UTF-8 (UnicodeDecodeError)
        return GuardOutcome(ValidationFailed("Request body is not valid base64-encoded UTF-8", code="MALFORMED_BODY"))
    if not body:
        return PASS
    limit = api_settings().max_body_bytes
    if len(body.encode("utf-8")) > limit:
        return GuardOutcome(PayloadTooLarge(f"Request body exceeds {limit} bytes", {"maxBytes": limit}))
    content_type = (proxy.headers.get("content-type") or "").split(";")[0].strip().lower()
    # Exactly application/json: Powertools' body parser accepts no other JSON type (+json, other letter cases).
    if content_type and content_type != "application/json":
        return GuardOutcome(_unsupported_media_type(content_type))
    if body.lstrip().startswith("["):
        # Powertools validates a top-level array by its first element (a rule meant for repeated query values),
        # so `[{...}, {...}]` would create from the first item and drop the rest: every body here is an object.
        detail = {"location": "body", "field": "", "message": "Input should be a JSON object", "type": "object_type"}
        return GuardOutcome(ValidationFailed("Request body must be a JSON object", [detail]))
    return PASS


def _revocation_guard() -> Guard:
    from taskapp.auth.revocation import RevocationStoreUnavailable, is_token_revoked, judge_revocation

    def revocation_guard(request: EdgeRequest) -> GuardOutcome:
        """Refuse a logged-out token even while API Gateway still caches the authorizer's Allow for it."""
        caller = request.caller
        if caller is None:
            # Only reachable if a route is deployed without the authorizer: refuse rather than trust the request.
            return GuardOutcome(Unauthorized("Missing authorizer context"))
        try:
            if request.revocation_values is not None:  # read beside the rate limit (_rate_limit_guard)
                revoked = judge_revocation(request.revocation_values, caller.session_generation, caller.session_id)
            else:
                revoked = is_token_revoked(caller.jti, caller.user_id, caller.session_generation, caller.session_id)
        except RevocationStoreUnavailable:
            unverifiable = ServiceUnavailable("Cannot verify the token right now; try again", code="AUTH_UNAVAILABLE")
            return GuardOutcome(unverifiable)
        return GuardOutcome(Unauthorized("Token has been revoked", code="TOKEN_REVOKED")) if revoked else PASS

    return revocation_guard


def refuse_unknown_query_parameters(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Route middleware: a query parameter the route does not declare, or one given twice, is a 400.

    Powertools hands a query model only the fields it declares, so `?lmit=5` would list 20 items without a word, and
    it takes the first of repeated values where API Gateway's single-value map keeps the last. No route declares a
    list-valued query parameter. Runs after Powertools' validation, which may add the model's own entry (a dict) to
    the event's query map: skipped.
    """
    declared: set[str] = set()
    for param in app.context["_route"].dependant.query_params:
        model = param.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            declared.update(field.alias or name for name, field in model.model_fields.items())
        else:
            declared.add(param.alias)
    event = app.current_event
    sent: dict[str, list[Any]] = {}
    for name, value in (event.get("queryStringParameters") or {}).items():
        if not isinstance(value, dict):
            sent[name] = [value]
    for name, values in (event.get("multiValueQueryStringParameters") or {}).items():
        if not isinstance(values, dict):
            sent[name] = values if isinstance(values, list) else [values]
    unknown = f"Unknown query parameter; this route accepts: {', '.join(sorted(declared)) or 'none'}"
    errors: list[dict[str, Any]] = []
    for name, values in sorted(sent.items()):
        if name not in declared:
            errors.append({"type": "extra_forbidden", "loc": ("query", name), "msg": unknown, "input": values})
        elif len(values) > 1:
            repeated = "Query parameter given more than once; give it once"
            errors.append({"type": "repeated_parameter", "loc": ("query", name), "msg": repeated, "input": values})
    if errors:
        raise RequestValidationError(errors)
    return next_middleware(app)


# --- the resolver -----------------------------------------------------------------------------------------------


class TaskApiResolver(APIGatewayRestResolver):
    """The Powertools resolver plus its guards and the request being served (set by `lambda_handler`)."""

    def __init__(self, guards: Guards) -> None:
        super().__init__(enable_validation=True, serializer=_json)
        self.guards = guards
        self.edge_request: EdgeRequest | None = None
        if guards.after_validation:
            self.use(middlewares=[_after_validation])

    def current_request(self) -> EdgeRequest:
        """The request `lambda_handler` is serving; parsed from the event only if the resolver is driven directly."""
        return self.edge_request or EdgeRequest(self.current_event.raw_event)


def _after_validation(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Runs the resolver's `after_validation` guards.

    A module function, not a method: Powertools caches a middleware's signature inspection on the callable, and a
    bound method (a new object at every attribute access) cannot hold it, so a method was inspected again on every
    request (`typing.get_type_hints` and `inspect`: ~9% of a warm request's CPU)."""
    resolver = cast(TaskApiResolver, app)
    outcome = _run(resolver.guards.after_validation, resolver.current_request())
    response = next_middleware(app) if outcome.refusal is None else error_response(outcome.refusal)
    response.headers.update(outcome.headers)
    return response


def build_api(
    *, authenticated: bool = True, rate_limit_scope: RateLimitScope | None = None, storage: bool = True
) -> TaskApiResolver:
    """A resolver with validation, the shared error shape and the guards every route of that kind needs.

    Authenticated routes are always rate-limited per user; a public route opts in to a limit counted before
    routing with `rate_limit_scope` (registration: per client IP). Login and refresh are limited in the domain
    instead, where the account, the outcome and the session are known (taskapp.rate_limit). `storage=False` is
    for a function that never reaches DynamoDB (its guards may still use Redis): no storage error mapping, so
    botocore and pynamodb are not loaded for it.
    """
    if authenticated:
        from taskapp.rate_limit import RateLimitScope

        rate_limit_scope = RateLimitScope.USER
    rate_limit = (_rate_limit_guard(rate_limit_scope),) if rate_limit_scope is not None else ()
    app = TaskApiResolver(
        Guards(
            before_routing=(*rate_limit, _body_shape_guard),
            after_validation=(_revocation_guard(),) if authenticated else (),
        )
    )

    @app.exception_handler(AppError)
    def _app_error(exc: AppError) -> Response:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(exc: RequestValidationError) -> Response:
        return error_response(_validation_failure(exc))

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_content_type(exc: RequestUnsupportedContentType) -> Response:
        return error_response(_unsupported_media_type(app.current_event.headers.get("content-type")))

    @app.exception_handler(RecursionError)
    def _too_deep(exc: RecursionError) -> Response:
        # json.loads recurses per nesting level: a small body of 10k brackets would otherwise be a 500.
        return error_response(ValidationFailed("Request body is nested too deeply to parse", code="MALFORMED_JSON"))

    @app.exception_handler(NotFoundError)
    def _no_route(exc: NotFoundError) -> Response:
        return error_response(NotFound("No such route", code="ROUTE_NOT_FOUND"))

    if storage:
        from botocore.exceptions import BotoCoreError, ClientError
        from pynamodb.exceptions import PynamoDBException

        from taskapp.data import StorageUnavailable

        # The data layer's own failure type, and what pynamodb/botocore raise from operations it does not wrap.
        @app.exception_handler([StorageUnavailable, PynamoDBException, BotoCoreError, ClientError])
        def _storage_down(exc: Exception) -> Response:
            logger.exception("storage call failed")
            metrics.add_metric(name="StorageError", unit="Count", value=1)
            return error_response(
                ServiceUnavailable("Storage is temporarily unavailable; try again", code="STORAGE_UNAVAILABLE")
            )

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(InternalError("Internal error"))

    return app


def caller_of(app: TaskApiResolver) -> AuthorizerContext:
    """The caller of the request being served, parsed once by `lambda_handler` from the authorizer's context."""
    caller = app.current_request().caller
    if caller is None:
        # Only reachable if a route is deployed without the authorizer: refuse rather than trust the request.
        raise Unauthorized("Missing authorizer context")
    return caller


def client_ip_of(app: TaskApiResolver) -> str:
    """The address of the request being served, for limits that only a handler can apply (failed logins)."""
    return _source_ip(app.current_request().event)


def _add_headers(result: dict[str, Any], headers: Mapping[str, str]) -> None:
    """The REST resolver answers with multiValueHeaders; early rejections use plain headers."""
    if "multiValueHeaders" in result:
        for name, value in headers.items():
            result["multiValueHeaders"][name] = [value]
    else:
        result.setdefault("headers", {}).update(headers)


# --- the browser edge: CORS and security headers --------------------------------------------------------------

# Request headers the web app sends besides those Powertools always allows (Authorization, Content-Type, ...).
CORS_ALLOW_HEADERS = ("Idempotency-Key", "If-Match", "If-None-Match")
# Response headers the app reads: CORS hides every header that is not CORS-safelisted from scripts otherwise (the
# client needs Retry-After for a 429 and the ETag of a task).
CORS_EXPOSE_HEADERS = (
    "ETag",
    "Location",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
)
CORS_ALLOW_METHODS = "DELETE,GET,OPTIONS,PATCH,POST,PUT"
CORS_MAX_AGE_SECONDS = 600
SECURITY_HEADERS: Mapping[str, str] = MappingProxyType(
    {"Strict-Transport-Security": "max-age=63072000; includeSubDomains", "X-Content-Type-Options": "nosniff"}
)


def cors_config() -> CORSConfig | None:
    """Powertools' CORS rules for the configured origins; None (no CORS headers at all) when none is configured.

    Never a wildcard: `*` in WebOrigins is dropped by the settings, and credentials are never allowed (the app sends
    its token in the Authorization header, not in cookies)."""
    origins = cors_settings().origins
    if not origins:
        return None
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=list(origins[1:]),
        allow_headers=list(CORS_ALLOW_HEADERS),
        expose_headers=list(CORS_EXPOSE_HEADERS),
        max_age=CORS_MAX_AGE_SECONDS,
        allow_credentials=False,
    )


def _request_header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header by name, whatever its case (API Gateway keeps the client's)."""
    wanted = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == wanted and isinstance(value, str):
            return value
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if key.lower() == wanted and values:
            return str(values[-1])
    return None


def _header_names(result: Mapping[str, Any]) -> set[str]:
    return {name.lower() for name in (result.get("headers") or {})} | {
        name.lower() for name in (result.get("multiValueHeaders") or {})
    }


class EdgeHeaders:
    """The headers every API answer carries, built once per function from the settings."""

    __slots__ = ("cors",)

    def __init__(self, cors: CORSConfig | None) -> None:
        self.cors = cors

    def cors_headers(self, event: Mapping[str, Any]) -> dict[str, str]:
        """CORS headers for an allowed Origin (none for another origin or no Origin), and `Vary: Origin`: the
        answer depends on it, so no cache may hand one origin's answer to another."""
        if self.cors is None:
            return {}
        return {"Vary": "Origin", **self.cors.to_dict(_request_header(event, "Origin"))}

    def apply(self, event: Mapping[str, Any], result: dict[str, Any]) -> None:
        headers = {**SECURITY_HEADERS, **self.cors_headers(event)}
        if "cache-control" not in _header_names(result):
            # Every answer is per caller (or holds tokens); only a route that says so may be cached.
            headers["Cache-Control"] = "no-store"
        _add_headers(result, headers)

    def preflight(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The answer to a CORS preflight: 204 with the allowed methods and headers for a configured origin, 403 in
        the error shape for any other origin (the browser then refuses the real request)."""
        origin = _request_header(event, "Origin")
        cors = self.cors_headers(event)
        if origin and "Access-Control-Allow-Origin" not in cors:
            refusal = Forbidden(
                "This origin may not call the API from a browser", {"origin": origin}, code="ORIGIN_NOT_ALLOWED"
            )
            result = _proxy_result(error_response(refusal))
        else:
            if cors:
                cors["Access-Control-Allow-Methods"] = CORS_ALLOW_METHODS
            result = {
                "statusCode": 204,
                "headers": {"Allow": CORS_ALLOW_METHODS, **cors},
                "body": "",
                "isBase64Encoded": False,
            }
        self.apply(event, result)
        return result


def preflight_handler() -> LambdaHandler:
    """The function behind `OPTIONS /{proxy+}` (no authorizer: browsers send preflights without the token).

    API Gateway routes a method a resource does not declare to a greedy `{proxy+}` that does, so this one route
    answers the preflight of every path; MiniStack does the same (services/apigateway_v1.py, greedy fallback).
    """
    edge = EdgeHeaders(cors_config())
    coldstart.ready()

    @partial(instrumented, correlation_id_path=correlation_paths.API_GATEWAY_REST)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return edge.preflight(event)

    return handler


RETRY_LATER = frozenset({429, 503})


def _ensure_retry_after(result: dict[str, Any]) -> None:
    """Every 429 and 503 says when to come back (a 503 /health too), whoever built the answer."""
    if result.get("statusCode") not in RETRY_LATER:
        return
    if "retry-after" not in _header_names(result):
        _add_headers(result, {"Retry-After": "1"})


def lambda_handler(app: TaskApiResolver) -> LambdaHandler:
    """Wrap a resolver with its guards, structured logging (correlation id = API request id), tracing and metrics.

    Called last by every API handler module, so it also ends the cold-start pause of the garbage collector.
    """
    edge = EdgeHeaders(cors_config())
    coldstart.ready()

    @partial(instrumented, correlation_id_path=correlation_paths.API_GATEWAY_REST)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        request = EdgeRequest(event)
        app.edge_request = request
        try:
            before = _run(app.guards.before_routing, request)
            if before.refusal is not None:
                result = _proxy_result(error_response(before.refusal))
            else:
                result = app.resolve(event, context)
        finally:
            app.edge_request = None
        if result.get("body") is None:
            result["body"] = ""  # a 204's null body is turned into a 500 by some API Gateway emulators
        if before.headers:
            _add_headers(result, before.headers)
        _ensure_retry_after(result)
        edge.apply(event, result)
        return result

    return handler
