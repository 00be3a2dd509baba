"""GET /tasks/{id}/comments: the task's comments, oldest first, cursor-paged."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from taskapp.api import build_api, caller_of, lambda_handler, refuse_unknown_query_parameters, respond
from taskapp.domain import comments
from taskapp.schemas.comments import CommentListOut
from taskapp.schemas.queries import ListCommentsQuery

app = build_api()


@app.get("/tasks/<id>/comments", middlewares=[refuse_unknown_query_parameters])
def list_comments(
    id: Annotated[UUID, Path()],  # noqa: A002 - the route's parameter name
    query: Annotated[ListCommentsQuery, Query()],
) -> Response[CommentListOut]:
    page = comments.list_comments(caller_of(app).user_id, str(id), query.limit, query.next_token)
    return respond(HTTPStatus.OK, page)


handler = lambda_handler(app)
