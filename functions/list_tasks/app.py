"""GET /tasks: the caller's tasks, newest first, optionally by status, cursor-paged."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import tasks
from taskapp.schemas.tasks import TaskListOut, TaskStatus

app = build_api()


@app.get("/tasks")
def list_tasks(
    status: Annotated[TaskStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=2048)] = None,
) -> Response[TaskListOut]:
    page = tasks.list_tasks(caller_of(app).user_id, status, limit, next_token)
    return respond(HTTPStatus.OK, page)


handler = lambda_handler(app)
