"""PUT /me/notification-preferences: choose the channels of the types named; unknown types or channels are 400."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import notification_preferences
from taskapp.schemas.notifications import NotificationPreferences

app = build_api()


@app.put("/me/notification-preferences")
def put_notification_preferences(
    request: Annotated[NotificationPreferences, Body()],
) -> Response[NotificationPreferences]:
    return respond(HTTPStatus.OK, notification_preferences.put_preferences(caller_of(app).user_id, request))


handler = lambda_handler(app)
