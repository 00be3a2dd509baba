"""TOKEN authorizer: verifies the access JWT and the Redis blacklist, then passes the caller to the handlers."""

# First of all: pauses the garbage collector while the modules below load; ready() at the end resumes it.
from taskapp import coldstart

# isort: split
from typing import Any

import jwt  # noqa: F401 - used by every request: loaded at init, not lazily
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import APIGatewayAuthorizerTokenEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from taskapp.auth.authorizer import authorize
from taskapp.observability import instrumented


@instrumented
@event_source(data_class=APIGatewayAuthorizerTokenEvent)
def handler(event: APIGatewayAuthorizerTokenEvent, context: LambdaContext) -> dict[str, Any]:
    return authorize(event.authorization_token, event.method_arn)


coldstart.ready()
