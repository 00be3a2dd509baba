"""GET /notifications/unread-count: how many of the caller's notifications are unread (the badge)."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import notifications
from taskapp.schemas.notifications import UnreadCountOut

app = build_api()


@app.get("/notifications/unread-count")
def unread_count() -> Response[UnreadCountOut]:
    return respond(HTTPStatus.OK, notifications.unread_count(caller_of(app).user_id))


handler = lambda_handler(app)
