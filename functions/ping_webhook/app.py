"""POST /webhooks/{id}/ping: queue a signed `webhook.ping` delivery (202); follow it in the delivery log."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import webhooks
from taskapp.messaging.webhook_queue import WebhookQueue
from taskapp.schemas.webhooks import DeliveryAcceptedOut

app = build_api()
queue = WebhookQueue()


@app.post("/webhooks/<id>/ping", status_code=202)
def ping_webhook(id: Annotated[str, Path()]) -> Response[DeliveryAcceptedOut]:  # noqa: A002
    return respond(HTTPStatus.ACCEPTED, webhooks.ping(caller_of(app).user_id, id, queue))


handler = lambda_handler(app)
