"""POST /notifications/read-all: mark every unread notification of the caller read."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import notifications
from taskapp.schemas.notifications import ReadAllOut

app = build_api()


@app.post("/notifications/read-all")
def read_all_notifications() -> Response[ReadAllOut]:
    return respond(HTTPStatus.OK, notifications.mark_all_read(caller_of(app).user_id))


handler = lambda_handler(app)
