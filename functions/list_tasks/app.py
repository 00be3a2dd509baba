"""GET /tasks: the caller's personal tasks or a project's (`projectId`), filtered and sorted by index, cursor-paged.

Without `projectId` the list means what it always did; with it, members only (404 otherwise, like a missing
project). Each supported filter combination is one index Query (docs/data-model.md); any other is 400
UNSUPPORTED_FILTER.
"""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from taskapp.api import build_api, caller_of, lambda_handler, refuse_unknown_query_parameters, respond
from taskapp.domain import tasks
from taskapp.schemas.queries import ListTasksQuery
from taskapp.schemas.tasks import TaskListOut

app = build_api()


@app.get("/tasks", middlewares=[refuse_unknown_query_parameters])
def list_tasks(query: Annotated[ListTasksQuery, Query()]) -> Response[TaskListOut]:
    page = tasks.list_tasks(caller_of(app).user_id, query)
    return respond(HTTPStatus.OK, page)


handler = lambda_handler(app)
