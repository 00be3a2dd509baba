"""API Gateway REST (v1) in-process: match a route, run the TOKEN authorizer, build the proxy event, call the handler.

Behaviour follows API Gateway's: an unknown path is MISSING_AUTHENTICATION_TOKEN (403 unless customised; an unknown
method on a known path is 405 with Allow instead, the one deliberate difference: see `_method_not_allowed`), a
missing token header is the UNAUTHORIZED gateway response (401), an authorizer raising "Unauthorized" is 401, a Deny
policy is ACCESS_DENIED (403 unless customised: taskapp's template makes it the 401 a refused token always got), an
authorizer crash is AUTHORIZER_FAILURE (500); each answers with the template's
gateway response of its type (else its DEFAULT_4XX/DEFAULT_5XX, else API Gateway's built-in body). The authorizer's
context reaches the handler with values turned into strings, as API Gateway does. Unlike API Gateway, Allow decisions
are not cached (the authorizer runs per request; handlers check revocation anyway).
"""

from __future__ import annotations

import base64
import fnmatch
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infra.local_api.context import LocalLambdaContext
from infra.local_api.loader import Handler, HandlerLoader
from infra.local_api.template import FunctionSpec, Route, SamTemplate

ACCOUNT_ID = "000000000000"
API_ID = "localapi"
# $context.x.y or ${context.x.y} in a gateway response's mapping template.
_TEMPLATE_VARIABLE = re.compile(r"\$(?:\{(context(?:\.\w+)+)\}|(context(?:\.\w+)+))")


@dataclass
class HttpRequest:
    """An HTTP request as received: repeated headers and query parameters kept in order."""

    method: str
    path: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    query: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[-1] if values else None


@dataclass
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[-1] if values else None


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def _is_binary(content_type: str | None, binary_media_types: tuple[str, ...]) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return any(fnmatch.fnmatch(media, pattern.lower()) for pattern in binary_media_types)


def build_proxy_event(
    request: HttpRequest,
    route: Route,
    path_parameters: dict[str, str],
    *,
    stage: str,
    authorizer_context: dict[str, Any] | None = None,
    binary_media_types: tuple[str, ...] = (),
    request_id: str | None = None,
) -> dict[str, Any]:
    """The Lambda proxy event API Gateway REST builds for this request.

    headers/queryStringParameters hold the last value of each name, the multiValue* maps hold all of them, and
    empty maps are null. A body whose media type is in BinaryMediaTypes, or that is not UTF-8, is base64-encoded
    with isBase64Encoded true; any other body is passed as text.
    """
    now = datetime.now(UTC)
    text: str | None = None
    encoded = False
    if request.body:
        if _is_binary(request.header("content-type"), binary_media_types):
            text, encoded = base64.b64encode(request.body).decode("ascii"), True
        else:
            try:
                text = request.body.decode("utf-8")
            except UnicodeDecodeError:
                text, encoded = base64.b64encode(request.body).decode("ascii"), True
    multi_headers = _multi(request.headers)
    multi_query = _multi(request.query)
    request_id = request_id or str(uuid.uuid4())
    return {
        "resource": route.resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": f"{route.method.lower()}-{abs(hash(route.resource)) % 10**6}",
            "resourcePath": route.resource,
            "httpMethod": request.method,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "path": f"/{stage}{request.path}",
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "localhost",
            "domainName": "localhost",
            "requestId": request_id,
            "apiId": API_ID,
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": request.header("user-agent"),
                "accountId": None,
                "apiKey": None,
                "caller": None,
                "user": None,
                "userArn": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "accessKey": None,
            },
            "authorizer": authorizer_context,
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def _json_response(status: int, body: str, request_id: str) -> GatewayResponse:
    return GatewayResponse(
        status,
        [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)],
        body.encode("utf-8"),
    )


class LocalGateway:
    """One router for the dev server and the test client.

    Thread-safe by running one invocation at a time: all functions share this interpreter, and state that is
    per-process in Lambda (Powertools' logger keys, the resolvers' current event, os.environ) would otherwise
    leak between concurrent requests (seen as 401 "Missing authorizer context" under load). HTTP parsing and
    I/O outside handlers still run in parallel threads.
    """

    def __init__(
        self,
        template: SamTemplate | None = None,
        *,
        stage: str = "local",
        loader: HandlerLoader | None = None,
        on_invoke: Callable[[FunctionSpec, dict[str, Any], float], None] | None = None,
    ) -> None:
        self.template = template or SamTemplate()
        self.stage = stage
        self.loader = loader or HandlerLoader()
        self.on_invoke = on_invoke
        self._invocation_lock = threading.Lock()

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.template.routes:
            found = route.pattern.match(path)
            if found and route.method in (method.upper(), "ANY"):
                return route, found.groupdict()
        return None

    def allowed_methods(self, path: str) -> tuple[str, ...]:
        """The methods the template routes for this path (empty when no route has the path).

        A literal resource wins over a templated one, as in API Gateway: /tasks/ingest is not /tasks/{id}.
        """
        # The CORS preflight route (OPTIONS /{proxy+}) matches every path: it makes no path known.
        routes = [route for route in self.template.routes if route.method != "OPTIONS" and route.pattern.match(path)]
        if not routes:
            return ()
        fewest_parameters = min(route.resource.count("{") for route in routes)
        return tuple(sorted({route.method for route in routes if route.resource.count("{") == fewest_parameters}))

    def invoke(self, spec: FunctionSpec, event: dict[str, Any]) -> Any:
        handler: Handler = self.loader.load(spec)
        started = time.perf_counter()
        with self._invocation_lock:
            result = handler(event, LocalLambdaContext(spec.logical_id))
        if self.on_invoke:
            self.on_invoke(spec, event, (time.perf_counter() - started) * 1000)
        return result

    def handle(self, request: HttpRequest) -> GatewayResponse:
        request_id = str(uuid.uuid4())
        matched = self.match(request.method, request.path)
        if matched is None:
            allowed = self.allowed_methods(request.path)
            if allowed:
                return _method_not_allowed(request.method, allowed, request_id)
            return self._gateway_error("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token", request_id)
        route, path_parameters = matched
        context = None
        if route.authorized:
            decision = self._authorize(request, route, request_id)
            if isinstance(decision, GatewayResponse):
                return decision
            context = decision
        event = build_proxy_event(
            request,
            route,
            path_parameters,
            stage=self.stage,
            authorizer_context=context,
            binary_media_types=self.template.binary_media_types,
            request_id=request_id,
        )
        try:
            result = self.invoke(self.template.function(route.logical_id), event)
        except Exception:  # a crashed Lambda is API Gateway's 502, never a dead server
            logging.getLogger("local_api").exception("function %s crashed", route.logical_id)
            return self._gateway_error("DEFAULT_5XX", 502, "Internal server error", request_id)
        if not isinstance(result, dict) or "statusCode" not in result:  # a malformed proxy response: 502 too
            return self._gateway_error("DEFAULT_5XX", 502, "Internal server error", request_id)
        return self._to_http(result, request_id)

    def crash_response(self) -> GatewayResponse:
        """What API Gateway answers when the function died mid-request: the DEFAULT_5XX response, 502."""
        return self._gateway_error("DEFAULT_5XX", 502, "Internal server error", str(uuid.uuid4()))

    def _gateway_error(self, kind: str, default_status: int, default_message: str, request_id: str) -> GatewayResponse:
        """Answer like API Gateway: the type's customised response, else the customised DEFAULT_4XX/DEFAULT_5XX
        (templates and headers, the type's own status), else the built-in `{"message": ...}`."""
        responses = self.template.gateway_responses
        family = responses.get("DEFAULT_5XX" if default_status >= 500 else "DEFAULT_4XX")
        spec = responses.get(kind) or family
        status = (responses[kind].status if kind in responses else None) or default_status
        template = spec.template if spec and spec.template else '{"message":$context.error.messageString}'
        variables = {
            "context.error.message": default_message,
            "context.error.messageString": json.dumps(default_message),
            "context.error.responseType": kind,
            "context.requestId": request_id,
            "context.stage": self.stage,
        }
        body = _TEMPLATE_VARIABLE.sub(lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), template)
        response = _json_response(status, body, request_id)
        response.headers.extend((spec.headers if spec else {}).items())
        return response

    def _authorize(self, request: HttpRequest, route: Route, request_id: str) -> dict[str, Any] | GatewayResponse:
        header = request.header(self.template.authorizer_header)
        authorizer = self.template.authorizer_function
        if not header or authorizer is None:
            return self._gateway_error("UNAUTHORIZED", 401, "Unauthorized", request_id)
        method_arn = f"arn:aws:execute-api:us-east-1:{ACCOUNT_ID}:{API_ID}/{self.stage}/{route.method}{route.resource}"
        event = {"type": "TOKEN", "authorizationToken": header, "methodArn": method_arn}
        try:
            policy = self.invoke(authorizer, event)
        except Exception as exc:  # noqa: BLE001 - API Gateway maps authorizer errors to responses
            if str(exc) == "Unauthorized":
                return self._gateway_error("UNAUTHORIZED", 401, "Unauthorized", request_id)
            return self._gateway_error("AUTHORIZER_FAILURE", 500, "Internal server error", request_id)
        if not _allows(policy, method_arn):
            denied = "User is not authorized to access this resource"
            return self._gateway_error("ACCESS_DENIED", 403, denied, request_id)
        return authorizer_request_context(policy)

    @staticmethod
    def _to_http(result: Any, request_id: str) -> GatewayResponse:
        if not isinstance(result, dict) or "statusCode" not in result:
            return _json_response(502, '{"message": "Internal server error"}', request_id)
        headers: list[tuple[str, str]] = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers = [(k, v) for k, v in headers if k.lower() != name.lower()]
            headers.extend((name, str(v)) for v in values)
        headers.append(("x-amzn-RequestId", request_id))
        body = result.get("body") or ""
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
        return GatewayResponse(int(result["statusCode"]), headers, raw)


def authorizer_request_context(policy: dict[str, Any]) -> dict[str, Any]:
    """`requestContext.authorizer` as API Gateway builds it from an Allow: the context in strings, and the principal."""
    # The string rule is taskapp's, beside its inverse (AuthorizerContext.from_context). Imported here, not at the
    # top: the shared layer is on sys.path only once the server or the test run has put it there.
    from taskapp.auth.context import delivered

    return {**delivered(policy.get("context") or {}), "principalId": policy.get("principalId"), "integrationLatency": 0}


def _method_not_allowed(method: str, allowed: tuple[str, ...], request_id: str) -> GatewayResponse:
    """A known path, another method: 405 with Allow (RFC 9110 15.5.6) in the API's error shape.

    Deliberately not API Gateway's answer: the deployed REST API never passes an undeclared method to a Lambda and
    answers its MISSING_AUTHENTICATION_TOKEN gateway response (403) instead; here our code sees the request.
    """
    body = {
        "error": {
            "code": "METHOD_NOT_ALLOWED",
            "message": f"{method} is not allowed on this path",
            "details": {"allow": list(allowed)},
        }
    }
    response = _json_response(405, json.dumps(body, separators=(",", ":")), request_id)
    response.headers.append(("Allow", ", ".join(allowed)))
    return response


def _allows(policy: Any, method_arn: str) -> bool:
    """Deny wins; otherwise some Allow statement's resource pattern must cover the method ARN."""
    if not isinstance(policy, dict):
        return False
    statements = (policy.get("policyDocument") or {}).get("Statement") or []
    allowed = False
    for statement in statements:
        resources = statement.get("Resource") or []
        resources = [resources] if isinstance(resources, str) else resources
        if any(fnmatch.fnmatchcase(method_arn, pattern) for pattern in resources):
            if statement.get("Effect") == "Deny":
                return False
            allowed = allowed or statement.get("Effect") == "Allow"
    return allowed
