"""POST /auth/login: exchange credentials for an access and a refresh token."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

import bcrypt  # noqa: F401 - used by every request: loaded at init, not lazily
import jwt  # noqa: F401 - used by every request: loaded at init, not lazily
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from taskapp.api import build_api, client_ip_of, lambda_handler, respond
from taskapp.domain import accounts
from taskapp.schemas.accounts import LoginRequest, TokenPairOut

# Failed attempts are limited per account and per client IP inside accounts.login (taskapp.rate_limit).
app = build_api(authenticated=False)


@app.post("/auth/login")
def login(request: Annotated[LoginRequest, Body()]) -> Response[TokenPairOut]:
    return respond(HTTPStatus.OK, accounts.login(request, client_ip=client_ip_of(app)))


handler = lambda_handler(app)
