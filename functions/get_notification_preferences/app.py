"""GET /me/notification-preferences: per notification type, the channels it reaches the caller on."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import notification_preferences
from taskapp.schemas.notifications import NotificationPreferences

app = build_api()


@app.get("/me/notification-preferences")
def get_notification_preferences() -> Response[NotificationPreferences]:
    return respond(HTTPStatus.OK, notification_preferences.get_preferences(caller_of(app).user_id))


handler = lambda_handler(app)
