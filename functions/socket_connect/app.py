"""WebSocket $connect (after the authorizer allowed it): remember the connection under its user."""

# First of all: pauses the garbage collector while the modules below load; ready() at the end resumes it.
from taskapp import coldstart

# isort: split
import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from taskapp.data import connections
from taskapp.observability import instrumented, logger

# API Gateway closes every WebSocket connection after 2 hours; the row lives no longer.
MAX_CONNECTION_SECONDS = 2 * 3600


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = event.get("requestContext") or {}
    user_id = str((request.get("authorizer") or {}).get("userId") or "")
    connection_id = str(request.get("connectionId") or "")
    if not user_id or not connection_id:
        logger.warning("connect without an authorized user", extra={"connectionId": connection_id})
        return {"statusCode": 403}
    now = int(time.time())
    connections.open_connection(connection_id, user_id, now, now + MAX_CONNECTION_SECONDS)
    return {"statusCode": 200}


coldstart.ready()
