"""GET /tasks/{id}: one of the caller's tasks; another user's task is 404, like a missing one."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import tasks
from taskapp.schemas.tasks import TaskOut

app = build_api()


@app.get("/tasks/<id>")
def get_task(id: Annotated[UUID, Path()]) -> Response[TaskOut]:  # noqa: A002 - the route's parameter name
    return respond(HTTPStatus.OK, tasks.get_task(caller_of(app).user_id, str(id)))


handler = lambda_handler(app)
