"""GET /webhooks/{id}: one subscription of the caller (never its secret)."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import webhooks
from taskapp.schemas.webhooks import WebhookOut

app = build_api()


@app.get("/webhooks/<id>")
def get_webhook(id: Annotated[str, Path()]) -> Response[WebhookOut]:  # noqa: A002 - the route's parameter name
    return respond(HTTPStatus.OK, webhooks.get_webhook(caller_of(app).user_id, id))


handler = lambda_handler(app)
