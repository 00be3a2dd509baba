"""POST /webhooks/{id}/rotate-secret: a new signing secret; the old one also signs during the grace period."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import webhooks
from taskapp.schemas.webhooks import SecretRotatedOut

app = build_api()


@app.post("/webhooks/<id>/rotate-secret")
def rotate_webhook_secret(id: Annotated[str, Path()]) -> Response[SecretRotatedOut]:  # noqa: A002
    return respond(HTTPStatus.OK, webhooks.rotate_secret(caller_of(app).user_id, id))


handler = lambda_handler(app)
