"""GET /openapi.json (no auth): the API's OpenAPI 3 spec, generated from the code by `make openapi`."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
import json
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from taskapp.api import build_api, lambda_handler

SPEC_FILE = Path(__file__).with_name("openapi.json")

app = build_api(authenticated=False, storage=False)


@cache
def _spec() -> dict[str, Any]:
    """Read once per execution environment: the file ships with the function and never changes under it."""
    spec: dict[str, Any] = json.loads(SPEC_FILE.read_text())
    return spec


@app.get("/openapi.json")
def openapi_spec() -> Response[dict[str, Any]]:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=_spec(),
        headers={"Cache-Control": "public, max-age=300"},
    )


handler = lambda_handler(app)
