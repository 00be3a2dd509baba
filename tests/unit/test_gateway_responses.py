"""Every answer API Gateway gives by itself (no route, no or bad token, throttled, ...) uses the project's error shape.

template.yaml declares the gateway responses twice, on purpose: as TaskApi's SAM `GatewayResponses` (written into
the API body, which is how AWS deploys them together with the API) and as `AWS::ApiGateway::GatewayResponse`
resources under the `ExplicitGatewayResponses` condition (MiniStack 1.5.33 ignores the first and applies the
second). These tests keep the two identical, check each renders to `{"error": {"code", "message", "details"}}`, and
that the in-process gateway (unit tests, `make local-api`) answers with them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.local_api import HttpRequest, LocalGateway, SamTemplate
from tests.support.api_client import ApiClient, load_template
from tests.support.lambda_events import ROOT

# API Gateway's response types with their default status (AWS docs, "Gateway response types").
RESPONSE_TYPES = {
    "ACCESS_DENIED": 403,
    "API_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_FAILURE": 500,
    "BAD_REQUEST_PARAMETERS": 400,
    "BAD_REQUEST_BODY": 400,
    "DEFAULT_4XX": 400,
    "DEFAULT_5XX": 500,
    "EXPIRED_TOKEN": 403,
    "INTEGRATION_FAILURE": 504,
    "INTEGRATION_TIMEOUT": 504,
    "INVALID_API_KEY": 403,
    "INVALID_SIGNATURE": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "QUOTA_EXCEEDED": 429,
    "REQUEST_TOO_LARGE": 413,
    "RESOURCE_NOT_FOUND": 404,
    "THROTTLED": 429,
    "UNAUTHORIZED": 401,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "WAF_FILTERED": 403,
}


def _resources() -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in load_template()["Resources"].items()
        if resource["Type"] == "AWS::ApiGateway::GatewayResponse"
    }


def _assert_error_shape(body: bytes | str) -> dict[str, Any]:
    payload = json.loads(body)
    assert set(payload) == {"error"}, payload
    error = payload["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str) and error["code"] and "$" not in error["code"], error
    assert isinstance(error["message"], str) and error["message"] and "$" not in error["message"], error
    return dict(error)


def test_the_sam_shorthand_and_the_resources_declare_the_same_responses() -> None:
    shorthand = load_template()["Resources"]["TaskApi"]["Properties"]["GatewayResponses"]
    as_resources = {}
    for resource in _resources().values():
        props = resource["Properties"]
        assert props["RestApiId"] == {"Ref": "TaskApi"}
        headers = {
            name.removeprefix("gatewayresponse.header."): value
            for name, value in (props.get("ResponseParameters") or {}).items()
        }
        as_resources[props["ResponseType"]] = {
            "StatusCode": props.get("StatusCode"),
            "ResponseTemplates": props["ResponseTemplates"],
            "Headers": headers,
        }
    as_shorthand = {
        kind: {
            "StatusCode": spec.get("StatusCode"),
            "ResponseTemplates": spec["ResponseTemplates"],
            "Headers": (spec.get("ResponseParameters") or {}).get("Headers") or {},
        }
        for kind, spec in shorthand.items()
    }
    assert as_resources == as_shorthand
    assert {"UNAUTHORIZED", "ACCESS_DENIED", "MISSING_AUTHENTICATION_TOKEN", "THROTTLED"} <= set(as_shorthand)
    assert {"DEFAULT_4XX", "DEFAULT_5XX"} <= set(as_shorthand)  # every other type inherits one of these


def test_the_resources_exist_only_where_asked_for_and_before_the_deployment_that_snapshots_them() -> None:
    """MiniStack (like API Gateway) answers with the responses a deployment captured when it was created, and
    creates resources that become ready together in name order: the resources must sort before SAM's
    `TaskApiDeployment<hash>`. On AWS they must not exist at all (a body update would drop them; the body has them)."""
    template = load_template()
    assert template["Parameters"]["ExplicitGatewayResponses"]["Default"] == "false"
    for logical_id, resource in _resources().items():
        assert resource["Condition"] == "ExplicitGatewayResponsesOn", logical_id
        assert logical_id < "TaskApiDeployment", logical_id
    assert "ExplicitGatewayResponses=true" in (ROOT / "infra" / "deploy.sh").read_text()


@pytest.mark.parametrize(("kind", "status"), sorted(RESPONSE_TYPES.items()))
def test_every_gateway_response_type_renders_the_error_shape(kind: str, status: int) -> None:
    gateway = LocalGateway(SamTemplate(ROOT / "template.yaml"))

    response = gateway._gateway_error(kind, status, 'A "quoted" gateway message', "request-1")

    error = _assert_error_shape(response.body)
    assert response.header("Content-Type") == "application/json"
    if kind in ("THROTTLED", "AUTHORIZER_FAILURE"):
        assert response.header("Retry-After") == "1"
    if kind == "MISSING_AUTHENTICATION_TOKEN":
        assert (response.status, error["code"]) == (404, "ROUTE_NOT_FOUND")
    elif kind == "THROTTLED":
        assert (response.status, error["code"]) == (429, "RATE_LIMITED")


def _call(client: ApiClient, method: str, path: str, headers: list[tuple[str, str]] | None = None) -> Any:
    return client.gateway.handle(HttpRequest(method=method, path=path, headers=headers or []))


@pytest.mark.parametrize(
    "case",
    [
        ("GET", "/tasks", [], 401, "UNAUTHORIZED"),  # no token: API Gateway's own 401
        ("GET", "/tasks", [("Authorization", "Bearer not.a.jwt")], 401, "UNAUTHORIZED"),  # the authorizer refused
        ("GET", "/no-such-path", [], 404, "ROUTE_NOT_FOUND"),  # was 403 {"message":"Missing Authentication Token"}
        # A declared path with an undeclared method: 405 + Allow in the in-process gateway (issue 16), where the
        # deployed REST API answers its MISSING_AUTHENTICATION_TOKEN response (404 ROUTE_NOT_FOUND) instead.
        ("PUT", "/tasks", [], 405, "METHOD_NOT_ALLOWED"),
        ("HEAD", "/health", [], 405, "METHOD_NOT_ALLOWED"),  # API Gateway has no implicit HEAD either
    ],
)
def test_the_local_gateway_answers_gateway_errors_in_the_error_shape(
    client: ApiClient, case: tuple[str, str, list[tuple[str, str]], int, str]
) -> None:
    method, path, headers, status, code = case

    response = _call(client, method, path, headers)

    assert response.status == status, response.body
    assert response.header("Content-Type") == "application/json"
    assert _assert_error_shape(response.body)["code"] == code


@pytest.mark.parametrize("outcome", ["crash", "malformed"])
def test_a_function_that_crashes_or_answers_malformed_is_a_502_in_the_error_shape(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch, outcome: str
) -> None:
    """API Gateway answers DEFAULT_5XX with 502 here; the project's functions never do it, the gateway still must."""

    def broken(spec: Any, event: dict[str, Any]) -> Any:
        if outcome == "crash":
            raise RuntimeError("boom")
        return {"body": "no status code"}

    monkeypatch.setattr(client.gateway, "invoke", broken)

    response = _call(client, "GET", "/health")

    assert response.status == 502
    _assert_error_shape(response.body)


def test_a_deny_answers_exactly_what_a_missing_or_unverifiable_token_answers() -> None:
    """The authorizer answers a refused token with a Deny (ACCESS_DENIED) so its worker stays alive; clients must
    see the 401 UNAUTHORIZED they always got, in both declarations of the responses."""
    shorthand = load_template()["Resources"]["TaskApi"]["Properties"]["GatewayResponses"]
    assert shorthand["ACCESS_DENIED"] == shorthand["UNAUTHORIZED"]
    by_type = {resource["Properties"]["ResponseType"]: resource["Properties"] for resource in _resources().values()}
    assert {k: v for k, v in by_type["ACCESS_DENIED"].items() if k != "ResponseType"} == {
        k: v for k, v in by_type["UNAUTHORIZED"].items() if k != "ResponseType"
    }


def test_the_local_gateway_answers_a_deny_with_the_bytes_of_a_missing_token(client: ApiClient) -> None:
    missing = _call(client, "GET", "/tasks")
    denied = _call(client, "GET", "/tasks", [("Authorization", "Bearer not.a.jwt")])
    assert (denied.status, denied.body) == (missing.status, missing.body) == (401, missing.body)
    assert _assert_error_shape(denied.body) == {
        "code": "UNAUTHORIZED",
        "message": "Missing or invalid access token",
        "details": None,
    }
