"""GET /projects/{id}: one project the caller is a member of (404 for anyone else)."""

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
from taskapp.schemas.projects import ProjectOut

app = build_api()


@app.get("/projects/<id>")
def get_project(id: Annotated[UUID, Path()]) -> Response[ProjectOut]:  # noqa: A002 - the route's parameter name
    return respond(HTTPStatus.OK, projects.get_project(caller_of(app).user_id, str(id)))


handler = lambda_handler(app)
