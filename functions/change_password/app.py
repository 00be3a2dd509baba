"""POST /auth/password: change the password and end every session of the user (this one too)."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus
from typing import Annotated

import bcrypt  # noqa: F401 - used by every request: loaded at init, not lazily
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from taskapp.api import build_api, caller_of, lambda_handler, respond
from taskapp.domain import accounts
from taskapp.schemas.accounts import ChangePasswordRequest

app = build_api()


@app.post("/auth/password", status_code=204)
def change_password(request: Annotated[ChangePasswordRequest, Body()]) -> Response[None]:
    accounts.change_password(caller_of(app).user_id, request)
    return respond(HTTPStatus.NO_CONTENT)


handler = lambda_handler(app)
