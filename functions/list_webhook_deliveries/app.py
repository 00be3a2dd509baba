"""GET /webhooks/{id}/deliveries: the subscription's delivery log, newest first, cursor-paged."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from taskapp.api import build_api, caller_of, lambda_handler, refuse_unknown_query_parameters, respond
from taskapp.domain import webhooks
from taskapp.schemas.queries import ListDeliveriesQuery
from taskapp.schemas.webhooks import DeliveryListOut

app = build_api()


@app.get("/webhooks/<id>/deliveries", middlewares=[refuse_unknown_query_parameters])
def list_webhook_deliveries(
    id: Annotated[str, Path()],  # noqa: A002 - the route's parameter name
    query: Annotated[ListDeliveriesQuery, Query()],
) -> Response[DeliveryListOut]:
    page = webhooks.list_deliveries(caller_of(app).user_id, id, query.limit, query.next_token)
    return respond(HTTPStatus.OK, page)


handler = lambda_handler(app)
