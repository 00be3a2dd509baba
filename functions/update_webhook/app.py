"""PATCH /webhooks/{id}: change the URL (checked again), the events, the description, or enable/disable it."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import webhooks
from taskapp.schemas.webhooks import UpdateWebhookRequest, WebhookOut

app = build_api()


@app.patch("/webhooks/<id>")
def update_webhook(
    id: Annotated[str, Path()],  # noqa: A002 - the route's parameter name
    request: Annotated[UpdateWebhookRequest, Body()],
) -> Response[WebhookOut]:
    return respond(HTTPStatus.OK, webhooks.update_webhook(caller_of(app).user_id, id, request))


handler = lambda_handler(app)
