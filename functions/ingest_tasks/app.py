"""POST /tasks/ingest: accept up to 500 tasks for asynchronous creation through Kafka (202 with their ids).

Retry-safe with Idempotency-Key: a retried batch answers the first 202 with the same ids, producing nothing twice.
"""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import ingest_accept
from taskapp.idempotency import IdempotencyKeyHeader, idempotent
from taskapp.schemas.ingest import IngestAcceptedOut, IngestTasksRequest

app = build_api(storage=False)  # Redis and Kafka only (the idempotency table is reached through boto3 if asked)


@app.post("/tasks/ingest", status_code=202, middlewares=[idempotent("POST /tasks/ingest")])
def ingest_tasks(
    request: Annotated[IngestTasksRequest, Body()],
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[IngestAcceptedOut]:
    accepted = ingest_accept.accept_tasks(caller_of(app).user_id, request.tasks)
    return respond(HTTPStatus.ACCEPTED, accepted)


handler = lambda_handler(app)
