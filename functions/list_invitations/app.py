"""GET /invitations: pending invitations addressed to the caller's email."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from taskapp.api import build_api, caller_of, lambda_handler, refuse_unknown_query_parameters, respond
from taskapp.domain import projects
from taskapp.schemas.projects import InvitationListOut
from taskapp.schemas.queries import ListInvitationsQuery

app = build_api()


@app.get("/invitations", middlewares=[refuse_unknown_query_parameters])
def list_invitations(query: Annotated[ListInvitationsQuery, Query()]) -> Response[InvitationListOut]:
    page = projects.list_invitations(caller_of(app).user_id, query.limit, query.next_token)
    return respond(HTTPStatus.OK, page)


handler = lambda_handler(app)
