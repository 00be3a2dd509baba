"""POST /tasks/{id}/comments: comment on a task the caller may see; `@mentions` of project members are kept."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import comments
from taskapp.schemas.comments import CommentOut, CreateCommentRequest

app = build_api()


@app.post("/tasks/<id>/comments", status_code=201)
def create_comment(
    id: Annotated[UUID, Path()],  # noqa: A002 - the route's parameter name
    request: Annotated[CreateCommentRequest, Body()],
) -> Response[CommentOut]:
    comment = comments.add_comment(caller_of(app).user_id, str(id), request)
    return respond(HTTPStatus.CREATED, comment, headers={"Location": f"/tasks/{id}/comments/{comment.id}"})


handler = lambda_handler(app)
