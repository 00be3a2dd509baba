"""PATCH /projects/{id}: rename or redescribe, guarded by the project's version (409 if stale)."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import projects
from taskapp.schemas.projects import ProjectOut, UpdateProjectRequest

app = build_api()


@app.patch("/projects/<id>")
def update_project(
    id: Annotated[UUID, Path()],  # noqa: A002 - the route's parameter name
    request: Annotated[UpdateProjectRequest, Body()],
) -> Response[ProjectOut]:
    return respond(HTTPStatus.OK, projects.update_project(caller_of(app).user_id, str(id), request))


handler = lambda_handler(app)
