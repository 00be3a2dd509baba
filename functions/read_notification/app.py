"""POST /notifications/{id}/read: mark one of the caller's notifications read (again is a no-op)."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import notifications
from taskapp.schemas.notifications import NotificationOut

app = build_api()


@app.post("/notifications/<id>/read")
def read_notification(
    id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,1400}$")],  # noqa: A002 - the route's parameter name
) -> Response[NotificationOut]:
    return respond(HTTPStatus.OK, notifications.mark_read(caller_of(app).user_id, id))


handler = lambda_handler(app)
