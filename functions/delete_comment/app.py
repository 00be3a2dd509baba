"""DELETE /tasks/{id}/comments/{commentId}: its author, or an admin of the task's project, deletes a comment."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import comments

app = build_api()


@app.delete("/tasks/<id>/comments/<commentId>", status_code=204)
def delete_comment(
    id: Annotated[UUID, Path()],  # noqa: A002 - the route's parameter name
    commentId: Annotated[UUID, Path()],  # noqa: N803 - the route's parameter name
) -> Response[None]:
    comments.delete_comment(caller_of(app).user_id, str(id), commentId.hex)
    return respond(HTTPStatus.NO_CONTENT)


handler = lambda_handler(app)
