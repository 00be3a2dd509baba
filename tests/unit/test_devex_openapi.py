"""The committed OpenAPI spec is what the code generates, covers exactly the template's routes and is served."""

from __future__ import annotations

import json

import pytest

from infra import openapi_spec
from infra.local_api import SamTemplate
from tests.support.api_client import ApiClient


@pytest.fixture(scope="module")
def generated() -> dict:
    return openapi_spec.generate_spec()


def test_committed_spec_is_what_the_code_generates(generated: dict) -> None:
    committed = openapi_spec.SPEC_PATH.read_text()
    assert committed == openapi_spec.render_spec(generated), "functions/openapi/openapi.json is stale: make openapi"


def test_readme_endpoint_table_is_current(generated: dict) -> None:
    readme = openapi_spec.README_PATH.read_text()
    expected = openapi_spec.readme_with_table(readme, openapi_spec.endpoint_table(generated))
    assert readme == expected, "README.md's endpoint table is stale: make openapi"


def test_spec_operations_are_exactly_the_template_routes() -> None:
    committed = json.loads(openapi_spec.SPEC_PATH.read_text())
    in_spec = {(method.upper(), path) for path, ops in committed["paths"].items() for method in ops}
    in_template = {(route.method, route.resource) for route in SamTemplate().routes}
    # The one route the spec leaves out: CORS preflights of every path, the browser's protocol, not an operation.
    preflight = {("OPTIONS", "/{proxy+}")}
    assert preflight <= in_template
    assert in_spec == in_template - preflight


def test_authenticated_operations_declare_bearer_and_every_error_uses_the_error_shape(generated: dict) -> None:
    routes = {(r.method, r.resource): r for r in SamTemplate().routes}
    for path, operations in generated["paths"].items():
        for method, operation in operations.items():
            expects_auth = routes[(method.upper(), path)].authorized
            assert bool(operation["security"]) == expects_auth, (method, path)
            for status in ("400", "401", "403", "404", "409", "415", "429", "503"):
                assert operation["responses"][status] == {"$ref": f"#/components/responses/Error{status}"}
            # Powertools' own 422 validation shape is never documented (validation is a 400 here); the one 422 the
            # API gives (IDEMPOTENCY_KEY_REUSED, create routes only) uses the error shape like every other error.
            ours = {"$ref": "#/components/responses/Error422"}
            assert operation["responses"].get("422", ours) == ours, (method, path)
    error = generated["components"]["schemas"]["ErrorResponse"]
    assert error["properties"]["error"]["required"] == ["code", "message", "details"]


def test_success_statuses_come_from_the_handlers(generated: dict) -> None:
    assert "201" in generated["paths"]["/tasks"]["post"]["responses"]
    assert "204" in generated["paths"]["/tasks/{id}"]["delete"]["responses"]
    assert "content" not in generated["paths"]["/tasks/{id}"]["delete"]["responses"]["204"]
    assert generated["paths"]["/tasks"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CreateTaskRequest"
    }


def test_openapi_json_is_served_without_a_token(client: ApiClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200, response.body[:300]
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == json.loads(openapi_spec.SPEC_PATH.read_text())
