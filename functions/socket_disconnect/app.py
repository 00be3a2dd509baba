"""WebSocket $disconnect: forget the connection (best effort: the TTL and GoneException clean up the rest)."""

# First of all: pauses the garbage collector while the modules below load; ready() at the end resumes it.
from taskapp import coldstart

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from taskapp.data import connections
from taskapp.observability import instrumented


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    connection_id = (event.get("requestContext") or {}).get("connectionId")
    if connection_id:
        connections.close_connection(str(connection_id))
    return {"statusCode": 200}


coldstart.ready()
