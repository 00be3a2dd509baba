"""PATCH /projects/{id}/members/{userId}: change a member's role (policy: taskapp.domain.policy)."""

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
from taskapp.schemas.projects import ChangeRoleRequest, MemberOut

app = build_api()


@app.patch("/projects/<id>/members/<userId>")
def change_member_role(
    id: Annotated[UUID, Path()],  # noqa: A002 - the route's parameter name
    userId: Annotated[UUID, Path()],  # noqa: N803 - the route's parameter name
    request: Annotated[ChangeRoleRequest, Body()],
) -> Response[MemberOut]:
    member = projects.change_role(caller_of(app).user_id, str(id), str(userId), request)
    return respond(HTTPStatus.OK, member)


handler = lambda_handler(app)
