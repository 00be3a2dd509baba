"""GET /projects/{id}/activity: the project's activity feed (members only), newest first, cursor-paged."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from taskapp.api import build_api, caller_of, lambda_handler, refuse_unknown_query_parameters, respond
from taskapp.domain import project_activity
from taskapp.schemas.events import ActivityPageOut
from taskapp.schemas.queries import ListActivityQuery

app = build_api()


@app.get("/projects/<id>/activity", middlewares=[refuse_unknown_query_parameters])
def list_project_activity(
    id: Annotated[UUID, Path()],  # noqa: A002 - the route's parameter name
    query: Annotated[ListActivityQuery, Query()],
) -> Response[ActivityPageOut]:
    page = project_activity.list_project_activity(caller_of(app).user_id, str(id), query.limit, query.next_token)
    return respond(HTTPStatus.OK, page)


handler = lambda_handler(app)
