"""GET /projects: the caller's projects with their role, newest first, cursor-paged."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from taskapp.api import build_api, caller_of, lambda_handler, refuse_unknown_query_parameters, respond
from taskapp.domain import projects
from taskapp.schemas.projects import ProjectListOut
from taskapp.schemas.queries import ListProjectsQuery

app = build_api()


@app.get("/projects", middlewares=[refuse_unknown_query_parameters])
def list_projects(query: Annotated[ListProjectsQuery, Query()]) -> Response[ProjectListOut]:
    page = projects.list_projects(caller_of(app).user_id, query.archived, query.limit, query.next_token)
    return respond(HTTPStatus.OK, page)


handler = lambda_handler(app)
