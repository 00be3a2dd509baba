"""PATCH /tasks/{id}/comments/{commentId}: its author edits a comment, guarded by its version (409 if stale)."""

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
from taskapp.schemas.comments import CommentOut, UpdateCommentRequest

app = build_api()


@app.patch("/tasks/<id>/comments/<commentId>")
def update_comment(
    id: Annotated[UUID, Path()],  # noqa: A002 - the route's parameter name
    commentId: Annotated[UUID, Path()],  # noqa: N803 - the route's parameter name
    request: Annotated[UpdateCommentRequest, Body()],
) -> Response[CommentOut]:
    return respond(HTTPStatus.OK, comments.edit_comment(caller_of(app).user_id, str(id), commentId.hex, request))


handler = lambda_handler(app)
