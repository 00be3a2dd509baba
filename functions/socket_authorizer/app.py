"""REQUEST authorizer of the WebSocket API's $connect: the access token from the `token` query parameter.

Query string, not Sec-WebSocket-Protocol: a browser's WebSocket cannot send an Authorization header, and smuggling
the token in as a subprotocol obliges the $connect answer to echo it back, which MiniStack 1.5.33 never does (its
accept carries no subprotocol), so browsers would drop every connection. The token is the short-lived access token
(15 min) and is checked for revocation like on every REST call; the cost is that it appears in the connect URL,
which is why the WebSocket stage's access-log format names no query string.
"""

# First of all: pauses the garbage collector while the modules below load; ready() at the end resumes it.
from taskapp import coldstart

# isort: split
from typing import Any

import jwt  # noqa: F401 - used by every request: loaded at init, not lazily
from aws_lambda_powertools.utilities.typing import LambdaContext

from taskapp.auth.authorizer import authorize_socket
from taskapp.observability import instrumented


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    token = (event.get("queryStringParameters") or {}).get("token")
    return authorize_socket(token, str(event.get("methodArn", "")))


coldstart.ready()
