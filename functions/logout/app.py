"""POST /auth/logout: revoke the caller's access token at once and end its refresh-token session."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import accounts

app = build_api()


@app.post("/auth/logout", status_code=204)
def logout() -> Response[None]:
    caller = caller_of(app)
    accounts.logout(caller.jti, caller.expires_at, caller.session_id)
    return respond(HTTPStatus.NO_CONTENT)


handler = lambda_handler(app)
