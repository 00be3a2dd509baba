"""PATCH /tasks/{id}: partial update guarded by the task's version (body `version` or `If-Match`).

Project tasks: members and up edit (viewers 403, non-members 404, archived project 409); `projectId` moves the
task (member rights in both projects), `assigneeId` assigns it to a member or unassigns it (null).

A stale body version answers 409, a stale If-Match 412 with the current ETag; with REQUIRE_IF_MATCH a request
with neither is 428. The answer carries the new ETag.
"""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from taskapp.api import IfMatchHeader, build_api, caller_of, if_match_of, lambda_handler, respond, validators
from taskapp.domain import tasks
from taskapp.schemas.tasks import TaskOut, UpdateTaskRequest

app = build_api()


@app.patch("/tasks/<id>")
def update_task(
    id: Annotated[UUID, Path()],  # noqa: A002 - the route's parameter name
    request: Annotated[UpdateTaskRequest, Body()],
    if_match: IfMatchHeader = None,
) -> Response[TaskOut]:
    task = tasks.update_task(caller_of(app).user_id, str(id), request, if_match_of(if_match))
    return respond(HTTPStatus.OK, task, headers=validators(task))


handler = lambda_handler(app)
