"""PATCH /tasks/{id}: partial update guarded by the task's version (stale version answers 409)."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import tasks
from taskapp.schemas.tasks import TaskOut, UpdateTaskRequest

app = build_api()


@app.patch("/tasks/<id>")
def update_task(
    id: Annotated[UUID, Path()],  # noqa: A002 - the route's parameter name
    request: Annotated[UpdateTaskRequest, Body()],
) -> Response[TaskOut]:
    return respond(HTTPStatus.OK, tasks.update_task(caller_of(app).user_id, str(id), request))


handler = lambda_handler(app)
