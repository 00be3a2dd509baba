"""In-process API client: routes a request through the real authorizer and the route's handler, no server.

It is a thin wrapper over infra.local_api.LocalGateway, the same router and event builder `make local-api` serves,
so the route table comes from template.yaml and a route missing from the template cannot pass a test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from infra.local_api import HttpRequest, LocalGateway, Route, SamTemplate
from infra.local_api.template import load_template as _load_template
from tests.support.lambda_events import ROOT

__all__ = ["ApiClient", "ApiResponse", "Route", "load_template", "template_routes"]


def load_template(path: Path = ROOT / "template.yaml") -> dict[str, Any]:
    return _load_template(path)


@lru_cache(maxsize=1)
def _gateway() -> LocalGateway:
    return LocalGateway(SamTemplate(ROOT / "template.yaml"))


def template_routes() -> tuple[Route, ...]:
    return _gateway().template.routes


@dataclass
class ApiResponse:
    status_code: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class ApiClient:
    """Calls routes the way API Gateway would: authorizer first (TOKEN), then the function with its context.

    The process environment is left alone: tests set it (tests/unit/conftest.py), the dev server sets its own.
    """

    def __init__(self, gateway: LocalGateway | None = None) -> None:
        self.gateway = gateway or _gateway()

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
        source_ip: str | None = None,
    ) -> ApiResponse:
        """`source_ip` is the caller's address as API Gateway reports it (`identity.sourceIp`); MiniStack takes it
        from the client's first `X-Forwarded-For` entry, so locally a client chooses it."""
        if self.gateway.match(method, path) is None:
            raise LookupError(f"no route {method} {path} in template.yaml")
        all_headers = dict(headers or {})
        names = {name.lower() for name in all_headers}
        if "content-type" not in names:
            all_headers["Content-Type"] = "application/json"
        if "host" not in names:
            all_headers["Host"] = "api.local"
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        text = raw_body if raw_body is not None else (json.dumps(json_body) if json_body is not None else "")
        response = self.gateway.handle(
            HttpRequest(
                method=method.upper(),
                path=path,
                headers=list(all_headers.items()),
                query=list((query or {}).items()),
                body=text.encode("utf-8"),
                source_ip=source_ip or HttpRequest.source_ip,
            )
        )
        merged: dict[str, str] = {}
        for name, value in response.headers:
            merged[name] = value
        return ApiResponse(response.status, merged, response.body.decode("utf-8"))

    def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("DELETE", path, **kwargs)
