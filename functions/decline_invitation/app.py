"""POST /invitations/{id}/decline: refuse an invitation; it is gone afterwards."""

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


@app.post("/invitations/<id>/decline", status_code=204)
def decline_invitation(id: Annotated[UUID, Path()]) -> Response[None]:  # noqa: A002 - the route's parameter name
    projects.decline_invitation(caller_of(app).user_id, str(id))
    return respond(HTTPStatus.NO_CONTENT)


handler = lambda_handler(app)
