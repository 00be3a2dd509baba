"""Bad inputs schemathesis found answering 500; each must be a clean 4xx."""

from __future__ import annotations

from tests.support.api_client import ApiClient


def test_login_with_a_password_longer_than_bcrypt_accepts_is_400_not_500(client: ApiClient) -> None:
    """No password over 72 bytes can ever be registered, so login refuses it as invalid input, known email or not."""
    registered = client.post(
        "/auth/register", json_body={"name": "Ann", "email": "ann@example.com", "password": "s3cret-pass"}
    )
    assert registered.status_code == 201
    for email in ("ann@example.com", "nobody@example.com"):
        response = client.post("/auth/login", json_body={"email": email, "password": "p" * 73})
        assert response.status_code == 400, response.body
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_a_base64_body_that_is_not_utf8_is_400_not_a_crash(client: ApiClient) -> None:
    from infra.local_api import HttpRequest

    # The local gateway passes a non-UTF-8 body base64-encoded (isBase64Encoded true), as API Gateway does for
    # binary media types; decoding it used to raise inside the handler (a 502 from API Gateway).
    response = client.gateway.handle(
        HttpRequest(
            method="POST", path="/auth/login", headers=[("Content-Type", "application/json")], body=b"=\\Y\xff9Q"
        )
    )
    assert response.status == 400, response.body
    assert b'"MALFORMED_BODY"' in response.body
