"""No secret reaches the logs: a whole session runs in-process at DEBUG with every log line captured and searched
for the password, the access and refresh tokens and the JWT signing key (and the error responses too)."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator

import pytest

from taskapp.observability import logger
from tests.support.api_client import ApiClient

PASSWORD = "Sup3r-secret-test-passphrase!"
NEW_TASK = {"title": "write the report", "description": "quarterly", "tags": ["work"]}


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything the Powertools logger emits, formatted exactly as in Lambda (JSON), at DEBUG."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_formatter)
    stdlib_logger = logging.getLogger(logger.name)  # the logging.Logger that Powertools' Logger wraps
    previous_level = stdlib_logger.level
    stdlib_logger.addHandler(handler)
    stdlib_logger.setLevel(logging.DEBUG)
    yield buffer
    stdlib_logger.removeHandler(handler)
    stdlib_logger.setLevel(previous_level)


def _run_a_whole_session(client: ApiClient) -> dict[str, str]:
    email = "secret-keeper@example.com"
    assert (
        client.post("/auth/register", json_body={"name": "K", "email": email, "password": PASSWORD}).status_code == 201
    )
    # failures log too: wrong password, unknown user, bad token, too-short password
    assert client.post("/auth/login", json_body={"email": email, "password": PASSWORD + "x"}).status_code == 401
    assert (
        client.post("/auth/login", json_body={"email": "nobody@example.com", "password": PASSWORD}).status_code == 401
    )
    short = client.post("/auth/register", json_body={"name": "K", "email": "k2@example.com", "password": "Sup3r"})
    assert short.status_code == 400
    login = client.post("/auth/login", json_body={"email": email, "password": PASSWORD})
    assert login.status_code == 200
    first_refresh = login.json()["refreshToken"]
    refreshed = client.post("/auth/refresh", json_body={"refreshToken": first_refresh})
    assert refreshed.status_code == 200
    access, refresh = refreshed.json()["accessToken"], refreshed.json()["refreshToken"]

    created = client.post("/tasks", json_body=NEW_TASK, token=access)
    assert created.status_code == 201
    task_id = created.json()["id"]
    assert client.get(f"/tasks/{task_id}", token=access).status_code == 200
    assert (
        client.patch(f"/tasks/{task_id}", json_body={"version": 1, "status": "done"}, token=access).status_code == 200
    )
    assert client.get("/tasks", token=access).status_code == 200
    assert client.get("/tasks", token=access + "tampered").status_code == 401
    assert client.delete(f"/tasks/{task_id}", token=access).status_code == 204

    # reuse of a rotated refresh token is logged as a warning, with ids but never the token
    assert client.post("/auth/refresh", json_body={"refreshToken": first_refresh}).status_code == 401
    assert client.post("/auth/logout", token=access).status_code in (204, 401)
    assert client.get("/tasks", token=access).status_code == 401
    return {
        "password": PASSWORD,
        "first access token": login.json()["accessToken"],
        "first refresh token": first_refresh,
        "access token": access,
        "refresh token": refresh,
        "JWT signing key": os.environ["JWT_SECRET"],
    }


def test_a_whole_session_logs_no_secret(
    client: ApiClient, captured_logs: io.StringIO, capfd: pytest.CaptureFixture[str]
) -> None:
    secrets = _run_a_whole_session(client)
    stdout, stderr = capfd.readouterr()
    logs = captured_logs.getvalue()
    assert logs.count("\n") >= 3, "the capture saw no log lines: the test would prove nothing"
    assert '"level":"WARNING"' in logs.replace(" ", "")  # the refresh-token reuse warning was captured
    everything = "\n".join([logs, stdout, stderr])
    for what, secret in secrets.items():
        assert secret not in everything, f"the {what} appears in the logs"
        # a JWT's signature alone is a credential's fingerprint; its payload part is not secret
        if secret.count(".") == 2:
            assert secret.rsplit(".", 1)[1] not in everything, f"the signature of the {what} appears in the logs"


def test_error_responses_do_not_echo_the_password(client: ApiClient) -> None:
    for body in (
        {"name": "K", "email": "not-an-email", "password": PASSWORD},
        {"name": "K", "email": "k@example.com", "password": "Sup3r"},
        {"name": "K", "email": "k@example.com", "password": PASSWORD, "extra": "field"},
    ):
        response = client.post("/auth/register", json_body=body)
        assert response.status_code == 400
        assert body["password"] not in response.body
