"""Malformed pagination cursors on both list routes: every one is a 400 INVALID_CURSOR, never a 500.

A client can send any string as `nextToken`; a cursor that passes the signature check can only come from a holder
of the signing key (a past version of the code, a bug), and is still checked for shape before DynamoDB sees it.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.api_client import ApiClient
from tests.unit.conftest import Account
from tests.unit.helpers import assert_error

LIST_ROUTES = ["/tasks", "/activity"]
DROP = object()  # as a field value: leave the field out of the cursor body


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _signed(payload: bytes) -> str:
    """A cursor with a genuine signature over any payload, as only the signing key's holder could make."""
    from taskapp import cursor

    return f"{_b64(payload)}.{cursor._sign(payload)}"


def _scope(route: str, account: Account) -> str:
    return f"{account.user_id}|*" if route == "/tasks" else f"activity|{account.user_id}"


def _signed_body(route: str, account: Account, **fields: Any) -> str:
    key = (
        {"ownerId": {"S": account.user_id}, "taskId": {"S": "t"}, "createdKey": {"S": "2026-01-01T00:00:00#t"}}
        if route == "/tasks"
        else {"ownerId": {"S": account.user_id}, "entryKey": {"S": "2026-01-01T00:00:00#e"}}
    )
    body: dict[str, Any] = {"k": key, "s": _scope(route, account), "e": int(time.time()) + 600}
    body.update(fields)
    for name in [name for name, value in body.items() if value is DROP]:
        del body[name]
    return _signed(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())


def _assert_invalid_cursor(client: ApiClient, route: str, account: Account, cursor: str) -> None:
    answer = client.get(route, token=account.access_token, query={"nextToken": cursor})
    assert answer.status_code == 400, answer.body
    assert_error(answer.json(), "INVALID_CURSOR")


# Strings any client can send: nothing here passes the signature check.
UNSIGNED = {
    "non-ascii-signature": "eyJ9.é",  # the reported one: GET /tasks?nextToken=eyJ9.%C3%A9
    "non-ascii-payload": "é.AAAAAAAAAAAAAAAAAAAAAA",
    "emoji-both-halves": "\U0001f600.\U0001f600",
    "nul-signature": "eyJ9.\x00",
    "nul-payload": "\x00.AAAA",
    "control-characters": "eyJ9.\t\r\n",
    "fullwidth-digits": "\uff10\uff11\uff12\uff13.\uff14\uff15\uff16\uff17",
    "payload-with-padding": "eyJ9==.AAAA",
    "standard-base64-alphabet": "a+b/.AAAA",
    "two-dots": "eyJ9.AAAA.AAAA",
    "only-a-dot": ".",
    "empty-payload": ".AAAA",
    "leading-space": " eyJ9.AAAA",
    "not-base64-length": "eyJ9x.AAAA",
}


@pytest.mark.parametrize("route", LIST_ROUTES)
@pytest.mark.parametrize("cursor", UNSIGNED.values(), ids=UNSIGNED.keys())
def test_a_malformed_cursor_from_a_client_is_400_invalid_cursor(
    client: ApiClient, caller: Account, route: str, cursor: str
) -> None:
    _assert_invalid_cursor(client, route, caller, cursor)


# Payloads behind a genuine signature that the code must still refuse by shape.
SIGNED_PAYLOADS = {
    "not-utf8": b"\xff\xfe\xfd",
    "not-json": b"not json",
    "json-array": b"[]",
    "json-number": b"1",
    "json-null": b"null",
    "nan-literal": b'{"e":NaN,"k":{},"s":""}',
    "deeply-nested": b"[" * 700 + b"]" * 700,  # as deep as fits in 2,048 characters
}


@pytest.mark.parametrize("route", LIST_ROUTES)
@pytest.mark.parametrize("payload", SIGNED_PAYLOADS.values(), ids=SIGNED_PAYLOADS.keys())
def test_a_signed_cursor_whose_payload_is_not_a_json_object_is_400(
    client: ApiClient, caller: Account, route: str, payload: bytes
) -> None:
    _assert_invalid_cursor(client, route, caller, _signed(payload))


BAD_FIELDS: dict[str, dict[str, Any]] = {
    "expiry-a-string": {"e": "soon"},
    "expiry-a-numeric-string": {"e": "99999999999"},
    "expiry-null": {"e": None},
    "expiry-a-boolean": {"e": True},
    "expiry-infinite": {"e": float("inf")},
    "expiry-nan": {"e": float("nan")},
    "expiry-missing": {"e": DROP},
    "scope-missing": {"s": DROP},
    "scope-a-number": {"s": 1},
    "key-missing": {"k": DROP},
    "key-a-string": {"k": "ownerId"},
    "key-empty": {"k": {}},
    "key-value-untyped": {"k": {"ownerId": "someone"}},
    "key-value-a-list": {"k": {"ownerId": ["S", "x"]}},
    "key-value-unknown-type": {"k": {"ownerId": {"SS": ["x"]}}},
    "key-value-two-types": {"k": {"ownerId": {"S": "x", "N": "1"}}},
    "key-string-not-a-string": {"k": {"ownerId": {"S": 1}}},
    "key-number-not-numeric": {"k": {"ownerId": {"N": "one"}}},
    "key-too-many-attributes": {"k": {f"a{n}": {"S": "x"} for n in range(5)}},
    "key-attribute-name-empty": {"k": {"": {"S": "x"}}},
}


@pytest.mark.parametrize("route", LIST_ROUTES)
@pytest.mark.parametrize("fields", BAD_FIELDS.values(), ids=BAD_FIELDS.keys())
def test_a_signed_cursor_with_a_field_of_the_wrong_shape_is_400(
    client: ApiClient, caller: Account, route: str, fields: dict[str, Any]
) -> None:
    _assert_invalid_cursor(client, route, caller, _signed_body(route, caller, **fields))


@pytest.mark.parametrize("route", LIST_ROUTES)
def test_a_well_formed_signed_cursor_is_accepted(client: ApiClient, alice: Account, route: str) -> None:
    """The shape checks above refuse only what is wrong: a cursor of the shape the code issues still works."""
    answer = client.get(route, token=alice.access_token, query={"nextToken": _signed_body(route, alice)})
    assert answer.status_code == 200, answer.body


# Cursor-shaped text (base64url, a dot, anything) reaches past the format check into decoding and the signature
# comparison, where the reported 500 was; arbitrary text (non-ASCII, NUL, surrogate-free by hypothesis' default)
# covers the rest. `eyJ9.é` is one draw of the first strategy.
BASE64URL = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/", max_size=12)
CURSOR_TEXT = st.tuples(BASE64URL, st.text(max_size=30)).map(".".join) | st.text(max_size=40)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(LIST_ROUTES), cursor=CURSOR_TEXT)
def test_any_cursor_text_is_400_invalid_cursor_or_a_page(
    client: ApiClient, caller: Account, route: str, cursor: str
) -> None:
    answer = client.get(route, token=caller.access_token, query={"nextToken": cursor})
    if cursor:  # an empty nextToken means "first page"
        assert answer.status_code == 400, answer.body
        assert_error(answer.json(), "INVALID_CURSOR")
    else:
        assert answer.status_code == 200, answer.body
