"""POST /webhooks: subscribe a URL to the caller's task events, or (admins) a project's; the secret is shown once."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import webhooks
from taskapp.schemas.webhooks import CreateWebhookRequest, WebhookCreatedOut

app = build_api()


@app.post("/webhooks", status_code=201)
def create_webhook(request: Annotated[CreateWebhookRequest, Body()]) -> Response[WebhookCreatedOut]:
    webhook = webhooks.create_webhook(caller_of(app).user_id, request)
    return respond(HTTPStatus.CREATED, webhook, headers={"Location": f"/webhooks/{webhook.id}"})


handler = lambda_handler(app)
