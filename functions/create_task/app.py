"""POST /tasks: create a task owned by the caller, personal or in a project (retry-safe with Idempotency-Key).

With `projectId` the caller needs member rights there (a non-member gets 404); `assigneeId` must be a member of
that project, or for a personal task the caller.
"""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from taskapp.api import build_api, caller_of, lambda_handler, respond, validators
from taskapp.domain import tasks
from taskapp.idempotency import IdempotencyKeyHeader, idempotent
from taskapp.schemas.tasks import CreateTaskRequest, TaskOut

app = build_api()


@app.post("/tasks", status_code=201, middlewares=[idempotent("POST /tasks")])
def create_task(
    request: Annotated[CreateTaskRequest, Body()],
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[TaskOut]:
    task = tasks.create_task(caller_of(app).user_id, request)
    headers = {"Location": f"/tasks/{task.id}", **validators(task)}
    return respond(HTTPStatus.CREATED, task, headers=headers)


handler = lambda_handler(app)
