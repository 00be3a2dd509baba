"""POST /auth/register: validation, normalisation, uniqueness, and what the answer never contains."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.support.api_client import ApiClient
from tests.support.lambda_events import api_event
from tests.unit.helpers import assert_error, invoke

VALID = {"name": "Ada Lovelace", "email": "ada@example.com", "password": "correct-horse-battery"}


def _register(client: ApiClient, **changes: Any) -> Any:
    return client.post("/auth/register", json_body={**VALID, **changes})


def test_register_answers_201_with_the_user_and_never_the_password_or_its_hash(client: ApiClient) -> None:
    answer = _register(client)
    assert answer.status_code == 201, answer.body
    user = answer.json()
    assert set(user) == {"id", "name", "email", "createdAt"}
    assert user["name"] == "Ada Lovelace" and user["email"] == "ada@example.com"
    assert "correct-horse-battery" not in answer.body and "$2b$" not in answer.body


def test_register_stores_a_bcrypt_hash_not_the_password(client: ApiClient) -> None:
    from taskapp.data.users import find_by_email

    _register(client)
    stored = find_by_email("ada@example.com")
    assert stored is not None
    assert stored.password_hash.startswith("$2b$04$")  # BCRYPT_ROUNDS=4 in unit tests
    assert "correct-horse-battery" not in stored.password_hash


def test_register_normalises_the_email_to_trimmed_lower_case(client: ApiClient) -> None:
    answer = _register(client, email="  Ada.Lovelace@Example.COM ")
    assert answer.status_code == 201, answer.body
    assert answer.json()["email"] == "ada.lovelace@example.com"


@pytest.mark.parametrize("second_email", ["ada@example.com", "ADA@EXAMPLE.COM", "Ada@Example.com", " ada@example.com"])
def test_register_refuses_an_email_already_taken_in_any_letter_case_with_409(
    client: ApiClient, second_email: str
) -> None:
    assert _register(client).status_code == 201
    answer = _register(client, email=second_email, name="Someone Else")
    assert answer.status_code == 409
    assert_error(answer.json(), "EMAIL_TAKEN")


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("1234567", False),  # 7 characters
        ("12345678", True),  # exactly 8
        ("a" * 72, True),  # exactly bcrypt's 72-byte limit
        ("a" * 73, False),
        ("é" * 36, True),  # 72 bytes in UTF-8
        ("é" * 37, False),  # 37 characters but 74 bytes: bcrypt would silently cut it
    ],
    ids=["7-chars", "8-chars", "72-bytes", "73-bytes", "72-bytes-utf8", "74-bytes-utf8"],
)
def test_register_password_must_be_8_characters_to_72_bytes(client: ApiClient, password: str, accepted: bool) -> None:
    answer = _register(client, password=password)
    if accepted:
        assert answer.status_code == 201, answer.body
    else:
        assert answer.status_code == 400
        error = assert_error(answer.json(), "VALIDATION_ERROR")
        assert [detail["field"] for detail in error["details"]] == ["password"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "ada@example.com", "password": "correct-horse-battery"}, "name"),
        ({"name": "Ada", "password": "correct-horse-battery"}, "email"),
        ({"name": "Ada", "email": "ada@example.com"}, "password"),
        ({**VALID, "role": "admin"}, "role"),
        ({**VALID, "name": 42}, "name"),
        ({**VALID, "email": ["ada@example.com"]}, "email"),
        ({**VALID, "password": 12345678}, "password"),
        ({**VALID, "name": "   "}, "name"),
        ({**VALID, "name": "x" * 101}, "name"),
        ({**VALID, "email": "not-an-email"}, "email"),
        ({**VALID, "email": "ada@localhost"}, "email"),
    ],
    ids=[
        "missing-name",
        "missing-email",
        "missing-password",
        "unknown-field",
        "name-not-string",
        "email-not-string",
        "password-number-not-coerced",
        "blank-name",
        "name-101-chars",
        "email-without-at",
        "email-without-domain-dot",
    ],
)
def test_register_refuses_missing_unknown_or_wrong_typed_fields_naming_the_field(
    client: ApiClient, body: dict[str, Any], field: str
) -> None:
    answer = client.post("/auth/register", json_body=body)
    assert answer.status_code == 400
    error = assert_error(answer.json(), "VALIDATION_ERROR")
    assert field in [detail["field"] for detail in error["details"]]


def test_register_refuses_malformed_json_with_400(client: ApiClient) -> None:
    answer = client.post("/auth/register", raw_body='{"name": "Ada", "email": ')
    assert answer.status_code == 400
    assert_error(answer.json(), "MALFORMED_JSON")


@pytest.mark.parametrize(
    "raw_body", ["[]", '["Ada", "ada@example.com"]', json.dumps([VALID]), '"Ada"', "42", "null", "true"]
)
def test_register_refuses_json_that_is_not_an_object_with_400(client: ApiClient, raw_body: str) -> None:
    answer = client.post("/auth/register", raw_body=raw_body)
    assert answer.status_code == 400
    assert_error(answer.json(), "VALIDATION_ERROR")
    assert (
        client.post("/auth/login", json_body={"email": VALID["email"], "password": VALID["password"]}).status_code
        == 401
    )


@pytest.mark.usefixtures("client")
def test_register_refuses_a_request_without_body_with_400() -> None:
    answer = invoke("register", api_event("POST", "/auth/register"))
    assert answer.status_code == 400
    assert_error(answer.body)


def test_register_refuses_an_oversize_body_with_413_before_parsing_it(client: ApiClient) -> None:
    answer = _register(client, name="x" * 20_000)
    assert answer.status_code == 413
    error = assert_error(answer.json(), "BODY_TOO_LARGE")
    assert error["details"] == {"maxBytes": 16 * 1024}


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"]
)
def test_register_refuses_a_non_json_media_type_with_415(client: ApiClient, content_type: str) -> None:
    answer = client.post(
        "/auth/register",
        raw_body="name=Ada&email=ada%40example.com&password=correct-horse-battery",
        headers={"Content-Type": content_type},
    )
    assert answer.status_code == 415
    assert_error(answer.json(), "UNSUPPORTED_MEDIA_TYPE")


def test_register_refuses_a_json_body_sent_as_a_form_with_415(client: ApiClient) -> None:
    """The media type decides, not whether the bytes happen to parse as JSON."""
    answer = client.post(
        "/auth/register", raw_body=json.dumps(VALID), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 415


def test_register_accepts_application_json_with_a_charset(client: ApiClient) -> None:
    answer = client.post(
        "/auth/register", raw_body=json.dumps(VALID), headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert answer.status_code == 201, answer.body


@pytest.mark.parametrize("content_type", ["application/vnd.api+json", "Application/JSON", "APPLICATION/JSON"])
def test_register_refuses_json_under_another_media_type_spelling_with_415_not_500(
    client: ApiClient, content_type: str
) -> None:
    """Powertools' body parser only knows lower-case application/json; anything else must be a clean 415."""
    answer = client.post("/auth/register", raw_body=json.dumps(VALID), headers={"Content-Type": content_type})
    assert answer.status_code == 415, answer.body
    assert_error(answer.json(), "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.usefixtures("client")
def test_register_accepts_a_base64_encoded_body() -> None:
    answer = invoke("register", api_event("POST", "/auth/register", body=VALID, base64_body=True))
    assert answer.status_code == 201, answer.body
    assert answer.body["email"] == "ada@example.com"


@pytest.mark.usefixtures("client")
def test_register_measures_a_base64_body_by_its_decoded_size() -> None:
    """Base64 inflates by a third: a body just under the limit must not be refused for its encoded size."""
    body = {**VALID, "name": "x" * 15_000}
    assert len(base64.b64encode(json.dumps(body).encode())) > 16 * 1024
    answer = invoke("register", api_event("POST", "/auth/register", body=body, base64_body=True))
    assert answer.status_code == 400  # name is over 100 characters: refused by validation, not by size
    assert_error(answer.body, "VALIDATION_ERROR")


@pytest.mark.usefixtures("client")
@pytest.mark.parametrize("body", ["!!not base64!!", base64.b64encode(b"\xff\xfe{}").decode()])
def test_register_refuses_a_base64_flagged_body_that_is_not_base64_utf8_with_400(body: str) -> None:
    event = api_event("POST", "/auth/register", raw_body=body)
    event["isBase64Encoded"] = True
    answer = invoke("register", event)
    assert answer.status_code == 400
    assert_error(answer.body, "MALFORMED_BODY")


def test_register_strips_the_name_and_accepts_100_characters(client: ApiClient) -> None:
    answer = _register(client, name="  " + "x" * 100 + "  ")
    assert answer.status_code == 201, answer.body
    assert answer.json()["name"] == "x" * 100
