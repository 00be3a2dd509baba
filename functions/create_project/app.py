"""POST /projects: create a shared project; the caller becomes its owner."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import projects
from taskapp.schemas.projects import CreateProjectRequest, ProjectOut

app = build_api()


@app.post("/projects", status_code=201)
def create_project(request: Annotated[CreateProjectRequest, Body()]) -> Response[ProjectOut]:
    project = projects.create_project(caller_of(app).user_id, request)
    return respond(HTTPStatus.CREATED, project, headers={"Location": f"/projects/{project.id}"})


handler = lambda_handler(app)
