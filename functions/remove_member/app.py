"""DELETE /projects/{id}/members/{userId}: remove a member, or leave when it is the caller."""

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


@app.delete("/projects/<id>/members/<userId>", status_code=204)
def remove_member(
    id: Annotated[UUID, Path()],  # noqa: A002 - the route's parameter name
    userId: Annotated[UUID, Path()],  # noqa: N803 - the route's parameter name
) -> Response[None]:
    projects.remove_member(caller_of(app).user_id, str(id), str(userId))
    return respond(HTTPStatus.NO_CONTENT)


handler = lambda_handler(app)
