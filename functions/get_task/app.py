"""GET /tasks/{id}: one of the caller's tasks or a task of a project they belong to; else 404, like a missing one.

Answers ETag and Last-Modified; If-None-Match naming the current ETag is 304 with no body.
"""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path

from taskapp.api import build_api, caller_of, lambda_handler, not_modified_when_current, respond, validators
from taskapp.domain import tasks
from taskapp.schemas.tasks import TaskOut

app = build_api()


@app.get("/tasks/<id>", middlewares=[not_modified_when_current])
def get_task(
    id: Annotated[UUID, Path()],  # noqa: A002 - the route's parameter name
    if_none_match: Annotated[
        str | None,
        Header(alias="If-None-Match", max_length=2048, description="ETags the client holds: 304 if one is current"),
    ] = None,
) -> Response[TaskOut]:
    task = tasks.get_task(caller_of(app).user_id, str(id))
    return respond(HTTPStatus.OK, task, headers=validators(task))


handler = lambda_handler(app)
