"""In-process API client: routes a request through the real authorizer and the route's handler, no server.

The route table comes from template.yaml, so a route missing from the template cannot pass a test.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from tests.support.lambda_events import ROOT, FakeLambdaContext, api_event, load_function, token_authorizer_event


class _TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !GetAtt, ...) as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node)}
    return {suffix: loader.construct_mapping(node)}  # type: ignore[arg-type]


_TemplateLoader.add_multi_constructor("!", _any_tag)


def load_template(path: Path = ROOT / "template.yaml") -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_TemplateLoader)  # noqa: S506 - SafeLoader subclass


@dataclass(frozen=True)
class Route:
    method: str
    resource: str
    function: str
    authorized: bool
    pattern: re.Pattern[str] = field(compare=False)


@lru_cache(maxsize=1)
def template_routes() -> tuple[Route, ...]:
    template = load_template()
    routes = []
    for resource in template["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        code_uri = resource["Properties"]["CodeUri"].rstrip("/")
        for event in (resource["Properties"].get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            props = event["Properties"]
            authorized = (props.get("Auth") or {}).get("Authorizer") != "NONE"
            regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", props["Path"]) + "$"
            routes.append(
                Route(props["Method"].upper(), props["Path"], Path(code_uri).name, authorized, re.compile(regex))
            )
    return tuple(routes)


@dataclass
class ApiResponse:
    status_code: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class ApiClient:
    """Calls routes the way API Gateway would: authorizer first (TOKEN), then the function with its context."""

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        raw_body: str | None = None,
        token: str | None = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> ApiResponse:
        route, params = self._match(method, path)
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        authorizer_context = None
        if route.authorized:
            header = all_headers.get("Authorization")
            if not header:
                return ApiResponse(401, {}, json.dumps({"message": "Unauthorized"}))
            decision = self._authorize(header, method, route.resource)
            if decision is None:
                return ApiResponse(401, {}, json.dumps({"message": "Unauthorized"}))
            authorizer_context = {**decision.get("context", {}), "principalId": decision["principalId"]}
        event = api_event(
            method,
            path,
            resource=route.resource,
            body=json_body,
            raw_body=raw_body,
            headers=all_headers,
            query=query,
            path_params=params or None,
            authorizer=authorizer_context,
        )
        result = load_function(route.function).handler(event, FakeLambdaContext(route.function))
        body = result.get("body") or ""
        if result.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        # Powertools puts a REST API response's headers in multiValueHeaders; API Gateway merges both maps.
        headers = {name: values[-1] for name, values in (result.get("multiValueHeaders") or {}).items()}
        headers.update(result.get("headers") or {})
        return ApiResponse(result["statusCode"], headers, body)

    def _authorize(self, header: str, method: str, resource: str) -> dict[str, Any] | None:
        from taskapp.auth.authorizer import AuthorizerRejected

        arn = f"arn:aws:execute-api:us-east-1:000000000000:testapi/local/{method}{resource}"
        try:
            decision = load_function("authorizer").handler(token_authorizer_event(header, arn), FakeLambdaContext())
        except AuthorizerRejected:
            return None
        statement = decision["policyDocument"]["Statement"][0]
        return decision if statement["Effect"] == "Allow" else None

    @staticmethod
    def _match(method: str, path: str) -> tuple[Route, dict[str, str]]:
        for route in template_routes():
            match = route.pattern.match(path)
            if match and route.method == method.upper():
                return route, match.groupdict()
        raise LookupError(f"no route {method} {path} in template.yaml")

    def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("DELETE", path, **kwargs)
