"""POST /invitations/{id}/accept: join the project with the invitation's role."""

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


@app.post("/invitations/<id>/accept")
def accept_invitation(id: Annotated[UUID, Path()]) -> Response[ProjectOut]:  # noqa: A002 - the route's parameter name
    return respond(HTTPStatus.OK, projects.accept_invitation(caller_of(app).user_id, str(id)))


handler = lambda_handler(app)
