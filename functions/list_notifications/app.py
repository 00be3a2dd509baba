"""GET /notifications: the caller's inbox, newest first, cursor-paged, optionally unread only."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from taskapp.api import build_api, caller_of, lambda_handler, refuse_unknown_query_parameters, respond
from taskapp.domain import notifications
from taskapp.schemas.notifications import NotificationPageOut
from taskapp.schemas.queries import ListNotificationsQuery

app = build_api()


@app.get("/notifications", middlewares=[refuse_unknown_query_parameters])
def list_notifications(query: Annotated[ListNotificationsQuery, Query()]) -> Response[NotificationPageOut]:
    page = notifications.list_notifications(caller_of(app).user_id, query.limit, query.next_token, query.unread)
    return respond(HTTPStatus.OK, page)


handler = lambda_handler(app)
