"""DELETE /projects/{id}: the owner archives the project (read-only, out of default lists)."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import projects

app = build_api()


@app.delete("/projects/<id>", status_code=204)
def archive_project(id: Annotated[UUID, Path()]) -> Response[None]:  # noqa: A002 - the route's parameter name
    projects.archive_project(caller_of(app).user_id, str(id))
    return respond(HTTPStatus.NO_CONTENT)


handler = lambda_handler(app)
