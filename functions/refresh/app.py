"""POST /auth/refresh: rotate a refresh token; reusing a rotated one revokes the whole session."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

import jwt  # noqa: F401 - used by every request: loaded at init, not lazily
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from taskapp.api import build_api, lambda_handler, respond
from taskapp.domain import accounts
from taskapp.schemas.accounts import RefreshRequest, TokenPairOut

# Limited per session inside accounts.refresh, once the token has named its session (taskapp.rate_limit).
app = build_api(authenticated=False)


@app.post("/auth/refresh")
def refresh(request: Annotated[RefreshRequest, Body()]) -> Response[TokenPairOut]:
    return respond(HTTPStatus.OK, accounts.refresh(request.refresh_token))


handler = lambda_handler(app)
