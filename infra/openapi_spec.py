"""Generate the OpenAPI 3 spec from the code: each route function's Powertools resolver describes itself.

Routes are discovered from template.yaml (so a function another branch adds is picked up), each function's
`app.get_openapi_json_schema()` gives its operation and pydantic schemas, and this module merges them and adds
what the shared edge (taskapp.api + API Gateway) contributes: the bearer scheme, the error shape and the 4xx/503
responses. Usage: `python -m infra.openapi_spec [--check]` (make openapi), which also renders README's table.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import typing
from types import ModuleType
from typing import Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from infra.local_api.loader import HandlerLoader, add_layers_to_path, module_name_for
from infra.local_api.template import ROOT, SamTemplate

SPEC_PATH = ROOT / "functions" / "openapi" / "openapi.json"
README_PATH = ROOT / "README.md"
TABLE_START, TABLE_END = "<!-- endpoints:start (make openapi) -->", "<!-- endpoints:end -->"
# Powertools documents its own 422 validation shape; taskapp.api answers 400 with the shared error shape instead.
POWERTOOLS_ONLY_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")
ERROR_RESPONSES = {
    "400": "Invalid request: malformed JSON or failed validation (details list each field)",
    "401": "Missing, invalid, expired or revoked token, or wrong credentials",
    "403": "Access denied: the caller's role in the project is too low (FORBIDDEN)",
    "404": "No such resource (another user's task, or a project the caller is not a member of, is also 404)",
    "409": "Conflict: the resource exists already, its version changed, or a request with this Idempotency-Key is "
    "still in progress (Retry-After)",
    "413": "Request body exceeds the route's limit (details.maxBytes)",
    "415": "Request body is not application/json",
    "429": "Too many requests; retry after the Retry-After header",
    "503": "A dependency (DynamoDB, Redis) is unavailable; retry after the Retry-After header",
}
# Answers only some routes give (conditional requests, Idempotency-Key), with the shared error shape unless noted.
ROUTE_ERROR_RESPONSES = {
    "412": "If-Match does not name the current version; the ETag header and details.currentETag give it",
    "422": "This Idempotency-Key was already used with a different request body (IDEMPOTENCY_KEY_REUSED), a "
    "comment mentions more people than a comment may (TOO_MANY_MENTIONS), or the assignee is refused: not a member "
    "of the task's project (ASSIGNEE_NOT_MEMBER), or not the owner of a personal task (ASSIGNEE_NOT_ALLOWED)",
    "428": "PATCH without If-Match or a body version while REQUIRE_IF_MATCH is on",
}
ROUTE_RESPONSES: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", "/tasks"): ("422",),
    ("POST", "/tasks/ingest"): ("422",),
    ("PATCH", "/tasks/{id}"): ("412", "422", "428"),
    ("DELETE", "/tasks/{id}"): ("412",),
    ("POST", "/tasks/{id}/comments"): ("422",),
    ("PATCH", "/tasks/{id}/comments/{commentId}"): ("422",),
}
# Response headers the edge sets, documented where they appear (none is required: a 2xx replay adds one more).
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {"description": "Strong entity tag of this version of the task", "schema": {"type": "string"}},
    "Last-Modified": {"description": "The task's updatedAt as an HTTP date", "schema": {"type": "string"}},
    "Location": {"description": "Where the created resource lives", "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key",
        "schema": {"type": "string"},
    },
}
SUCCESS_HEADERS: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("POST", "/tasks", "201"): ("Location", "ETag", "Last-Modified", "Idempotent-Replayed"),
    ("POST", "/tasks/ingest", "202"): ("Idempotent-Replayed",),
    ("POST", "/projects", "201"): ("Location",),
    ("POST", "/tasks/{id}/comments", "201"): ("Location",),
    ("GET", "/tasks/{id}", "200"): ("ETag", "Last-Modified"),
    ("GET", "/tasks/{id}", "304"): ("ETag", "Last-Modified"),
    ("PATCH", "/tasks/{id}", "200"): ("ETag", "Last-Modified"),
}
ERROR_HEADERS = {"409": ("Retry-After",), "412": ("ETag",), "429": ("Retry-After",), "503": ("Retry-After",)}
NOT_MODIFIED = {
    "description": "Not modified: If-None-Match names the current ETag (no body; ETag and Last-Modified repeated)"
}


def _headers(names: tuple[str, ...]) -> dict[str, Any]:
    return {name: RESPONSE_HEADERS[name] for name in names}


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "examples": ["VALIDATION_ERROR", "NOT_FOUND"]},
                "message": {"type": "string"},
                "details": {"description": "Machine-readable context: field errors, limits, ids; null when none"},
            },
        }
    },
}


def _resolver_spec(loader: HandlerLoader, template: SamTemplate, logical_id: str) -> dict[str, Any]:
    spec = template.function(logical_id)
    loader.load(spec)
    app = getattr(sys.modules[module_name_for(spec)], "app", None)
    if app is None or not hasattr(app, "get_openapi_json_schema"):
        raise LookupError(f"{logical_id}: {spec.code_dir}/app.py has no Powertools resolver named app")
    schema: dict[str, Any] = json.loads(app.get_openapi_json_schema(title="taskapp", version="1"))
    return schema


def _query_parameter_schemas(module: ModuleType) -> dict[str, dict[str, Any]]:
    """Each query parameter's full JSON schema, from the query model the handler declares (`Annotated[M, Query()]`).

    Powertools expands a query model into one parameter per field but gives each only its basic type; the
    model's own schema keeps what a client needs to know (enum values, bounds, maximum length, default).
    """
    schemas: dict[str, dict[str, Any]] = {}
    for function in vars(module).values():
        if not inspect.isfunction(function) or function.__module__ != module.__name__:
            continue
        for hint in typing.get_type_hints(function, include_extras=True).values():
            if typing.get_origin(hint) is not typing.Annotated:
                continue
            model, *metadata = typing.get_args(hint)
            if inspect.isclass(model) and issubclass(model, BaseModel) and any(isinstance(m, Query) for m in metadata):
                model_schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
                schemas.update(model_schema["properties"])
    return schemas


def _summary(template: SamTemplate, logical_id: str) -> str:
    """The handler module's docstring first line, e.g. 'POST /tasks: create a task owned by the caller.'"""
    source = (template.function(logical_id).code_dir / "app.py").read_text()
    doc = source.split('"""')[1] if source.startswith('"""') else logical_id
    first = doc.strip().splitlines()[0]
    return first.split(": ", 1)[1].rstrip(".") if ": " in first else first


def generate_spec(template: SamTemplate | None = None) -> dict[str, Any]:
    template = template or SamTemplate()
    add_layers_to_path(template.layer_dirs)
    loader = HandlerLoader()
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for route in sorted(template.routes, key=lambda r: (r.resource, r.method)):
        if route.method == "OPTIONS":
            continue  # CORS preflights (CorsPreflightFunction): the browser's protocol, not an operation of the API
        generated = _resolver_spec(loader, template, route.logical_id)
        method = route.method.lower()
        operation = (generated.get("paths", {}).get(route.resource) or {}).get(method)
        if operation is None:
            raise LookupError(
                f"{route.logical_id} is routed {route.method} {route.resource} in template.yaml "
                "but its handler registers no such route"
            )
        schemas.update(generated.get("components", {}).get("schemas", {}))
        query_schemas = _query_parameter_schemas(sys.modules[module_name_for(template.function(route.logical_id))])
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and parameter["name"] in query_schemas:
                parameter["schema"] = query_schemas[parameter["name"]]
        operation["operationId"] = route.logical_id.removesuffix("Function")
        operation["summary"] = _summary(template, route.logical_id)
        operation["tags"] = [route.resource.strip("/").split("/")[0] or "root"]
        responses = {k: v for k, v in operation.get("responses", {}).items() if k != "422"}
        for status, response in responses.items():
            if status == "204":
                response.pop("content", None)
        for status in (*ERROR_RESPONSES, *ROUTE_RESPONSES.get((route.method, route.resource), ())):
            responses.setdefault(status, {"$ref": f"#/components/responses/Error{status}"})
        if (route.method, route.resource) == ("GET", "/tasks/{id}"):
            responses["304"] = dict(NOT_MODIFIED)
        for status, response in responses.items():
            names = SUCCESS_HEADERS.get((route.method, route.resource, status))
            if names and "$ref" not in response:
                response["headers"] = _headers(names)
        operation["responses"] = dict(sorted(responses.items()))
        operation["security"] = [{"bearerAuth": []}] if route.authorized else []
        paths.setdefault(route.resource, {})[method] = operation
    for name in POWERTOOLS_ONLY_SCHEMAS:
        schemas.pop(name, None)
    schemas["ErrorResponse"] = ERROR_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "taskapp API",
            "version": "1.0.0",
            "description": "Task-management REST API (API Gateway REST + Lambda). Generated by `make openapi`.",
        },
        "servers": [{"url": "http://127.0.0.1:3000", "description": "make local-api"}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "responses": {
                f"Error{status}": {
                    "description": description,
                    **({"headers": _headers(ERROR_HEADERS[status])} if status in ERROR_HEADERS else {}),
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
                }
                for status, description in sorted({**ERROR_RESPONSES, **ROUTE_ERROR_RESPONSES}.items())
            },
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "Access token from POST /auth/login, checked by the TOKEN authorizer",
                }
            },
        },
    }


def render_spec(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=False) + "\n"


def endpoint_table(spec: dict[str, Any]) -> str:
    """A Markdown table of every operation, for README.md."""
    lines = ["| Method | Path | Auth | Success | Request body | Summary |", "|---|---|---|---|---|---|"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            success = next((s for s in operation["responses"] if s.startswith("2")), "")
            body = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {})
            body_ref = str((body.get("schema") or {}).get("$ref", "")).rsplit("/", 1)[-1]
            auth = "Bearer" if operation.get("security") else "none"
            lines.append(
                f"| {method.upper()} | `{path}` | {auth} | {success} | {body_ref or '-'} | {operation['summary']} |"
            )
    return "\n".join(lines)


def readme_with_table(readme: str, table: str) -> str:
    if TABLE_START not in readme or TABLE_END not in readme:
        raise LookupError(f"README.md lacks the {TABLE_START} ... {TABLE_END} markers")
    head, rest = readme.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    return f"{head}{TABLE_START}\n{table}\n{TABLE_END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate functions/openapi/openapi.json and README's table")
    parser.add_argument("--check", action="store_true", help="fail if the committed files are stale")
    args = parser.parse_args(argv)
    spec = generate_spec()
    text = render_spec(spec)
    readme = readme_with_table(README_PATH.read_text(), endpoint_table(spec)) if README_PATH.exists() else None
    if args.check:
        stale = [p.name for p, new in ((SPEC_PATH, text), (README_PATH, readme)) if new and p.read_text() != new]
        if stale:
            print(f"stale: {', '.join(stale)}; run `make openapi`", file=sys.stderr)
            return 1
        return 0
    SPEC_PATH.write_text(text)
    if readme is not None:
        README_PATH.write_text(readme)
    print(f"wrote {SPEC_PATH.relative_to(ROOT)} ({sum(len(v) for v in spec['paths'].values())} operations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
