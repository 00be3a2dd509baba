"""Answers API Gateway gives by itself (no route, no or bad token) use the project's error shape (issue 15 defect 3).

They come from the template's gateway responses, which MiniStack applies as `AWS::ApiGateway::GatewayResponse`
resources (infra/deploy.sh sets ExplicitGatewayResponses=true). Before, a missing token answered
`{"message":"Unauthorized"}`, an undeclared path or method `403 {"message":"Missing Authentication Token"}`.
"""

from __future__ import annotations

import pytest

from tests.support.http_api import Api, assert_error

pytestmark = pytest.mark.e2e


def test_a_missing_token_is_401_in_the_error_shape(api: Api) -> None:
    assert_error(api.call("GET", "/tasks"), 401, "UNAUTHORIZED")


def test_a_token_the_authorizer_refuses_is_401_in_the_error_shape(api: Api) -> None:
    assert_error(api.call("GET", "/tasks", token="not.a.jwt"), 401, "UNAUTHORIZED")


@pytest.mark.parametrize("path", ["/no-such-path", "/tasks/some-id/unknown"])
def test_an_unknown_path_is_404_route_not_found(api: Api, path: str) -> None:
    assert_error(api.call("GET", path), 404, "ROUTE_NOT_FOUND")


@pytest.mark.parametrize(("method", "path"), [("PUT", "/tasks"), ("POST", "/health"), ("DELETE", "/auth/login")])
def test_an_undeclared_method_is_404_route_not_found(api: Api, method: str, path: str) -> None:
    assert_error(api.call(method, path), 404, "ROUTE_NOT_FOUND")


def test_head_gets_the_same_status_and_media_type_without_a_body(api: Api) -> None:
    """API Gateway has no implicit HEAD; a HEAD answer carries no body (RFC 9110), so status and type must say it."""
    response = api.call("HEAD", "/health")

    assert response.status_code == 404, response.headers
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    assert response.content == b""
