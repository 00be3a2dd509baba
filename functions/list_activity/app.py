"""GET /activity: the caller's own feed, with others' changes to tasks the caller owns or is assigned."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from taskapp.api import build_api, caller_of, lambda_handler, refuse_unknown_query_parameters, respond
from taskapp.domain import activity
from taskapp.schemas.events import ActivityPageOut
from taskapp.schemas.queries import ListActivityQuery

app = build_api()


@app.get("/activity", middlewares=[refuse_unknown_query_parameters])
def list_activity(query: Annotated[ListActivityQuery, Query()]) -> Response[ActivityPageOut]:
    page = activity.list_activity(caller_of(app).user_id, query.limit, query.next_token)
    return respond(HTTPStatus.OK, page)


handler = lambda_handler(app)
