"""POST /webhooks/{id}/deliveries/{deliveryId}/redeliver: send a delivery again (same body and webhook-id)."""

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


@app.post("/webhooks/<id>/deliveries/<deliveryId>/redeliver", status_code=202)
def redeliver_webhook_delivery(
    id: Annotated[str, Path()],  # noqa: A002 - the route's parameter name
    deliveryId: Annotated[str, Path()],  # noqa: N803 - the route's parameter name
) -> Response[DeliveryAcceptedOut]:
    return respond(HTTPStatus.ACCEPTED, webhooks.redeliver(caller_of(app).user_id, id, deliveryId, queue))


handler = lambda_handler(app)
