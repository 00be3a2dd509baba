"""POST /projects/{id}/invitations: invite an email (202 whether or not it has an account)."""

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
from taskapp.schemas.projects import InvitationAcceptedOut, InviteRequest

app = build_api()


@app.post("/projects/<id>/invitations", status_code=202)
def invite_member(
    id: Annotated[UUID, Path()],  # noqa: A002 - the route's parameter name
    request: Annotated[InviteRequest, Body()],
) -> Response[InvitationAcceptedOut]:
    return respond(HTTPStatus.ACCEPTED, projects.invite(caller_of(app).user_id, str(id), request))


handler = lambda_handler(app)
