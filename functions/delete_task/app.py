"""DELETE /tasks/{id}: remove a task the caller may delete; with If-Match, only the version it names (else 412).

The caller's personal task, or a project task for a member (viewers 403, non-members 404, archived 409).
"""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from taskapp.api import IfMatchHeader, build_api, caller_of, if_match_of, lambda_handler, respond
from taskapp.domain import tasks

app = build_api()


@app.delete("/tasks/<id>", status_code=204)
def delete_task(
    id: Annotated[UUID, Path()],  # noqa: A002 - the route's parameter name
    if_match: IfMatchHeader = None,
) -> Response[None]:
    tasks.delete_task(caller_of(app).user_id, str(id), if_match_of(if_match))
    return respond(HTTPStatus.NO_CONTENT)


handler = lambda_handler(app)
