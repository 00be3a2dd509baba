"""GET /webhooks: the caller's subscriptions (never their secrets), cursor-paged."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from taskapp.api import build_api, caller_of, lambda_handler, refuse_unknown_query_parameters, respond
from taskapp.domain import webhooks
from taskapp.schemas.queries import ListWebhooksQuery
from taskapp.schemas.webhooks import WebhookListOut

app = build_api()


@app.get("/webhooks", middlewares=[refuse_unknown_query_parameters])
def list_webhooks(query: Annotated[ListWebhooksQuery, Query()]) -> Response[WebhookListOut]:
    return respond(HTTPStatus.OK, webhooks.list_webhooks(caller_of(app).user_id, query.limit, query.next_token))


handler = lambda_handler(app)
