"""DELETE /webhooks/{id}: unsubscribe; deliveries still queued for it are skipped."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import webhooks

app = build_api()


@app.delete("/webhooks/<id>", status_code=204)
def delete_webhook(id: Annotated[str, Path()]) -> Response[None]:  # noqa: A002 - the route's parameter name
    webhooks.delete_webhook(caller_of(app).user_id, id)
    return respond(HTTPStatus.NO_CONTENT)


handler = lambda_handler(app)
