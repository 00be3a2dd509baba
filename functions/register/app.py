"""POST /auth/register: create an account."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

import bcrypt  # noqa: F401 - used by every request: loaded at init, not lazily
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from taskapp.api import build_api, lambda_handler, respond
from taskapp.domain import accounts
from taskapp.rate_limit import RateLimitScope
from taskapp.schemas.accounts import RegisterRequest, UserOut

app = build_api(authenticated=False, rate_limit_scope=RateLimitScope.REGISTRATION)


@app.post("/auth/register", status_code=201)
def register(request: Annotated[RegisterRequest, Body()]) -> Response[UserOut]:
    return respond(HTTPStatus.CREATED, accounts.register(request))


handler = lambda_handler(app)
