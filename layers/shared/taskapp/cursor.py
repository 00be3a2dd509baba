"""Opaque, signed pagination cursors: a client can pass one back but cannot forge or edit it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any

from taskapp.auth.keys import signing_key
from taskapp.errors import ValidationFailed
from taskapp.settings import get_settings


def _key() -> bytes:
    return hmac.new(signing_key().encode("utf-8"), b"pagination-cursor-v1", hashlib.sha256).digest()


def _sign(payload: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(_key(), payload, hashlib.sha256).digest()[:16]).decode().rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(last_key: dict[str, Any], scope: str) -> str:
    """`scope` binds the cursor to the query (owner and filter) it came from."""
    body = {"k": last_key, "s": scope, "e": int(time.time()) + get_settings().cursor_ttl_seconds}
    payload = json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _sign(payload)


def decode_cursor(cursor: str, scope: str) -> dict[str, Any]:
    invalid = ValidationFailed("nextToken is not a valid cursor", code="INVALID_CURSOR")
    try:
        encoded, signature = cursor.split(".", 1)
        payload = _b64decode(encoded)
    except (ValueError, binascii.Error) as exc:
        raise invalid from exc
    if not hmac.compare_digest(signature, _sign(payload)):
        raise invalid
    try:
        body = json.loads(payload)
    except ValueError as exc:
        raise invalid from exc
    if not isinstance(body, dict) or body.get("s") != scope or not isinstance(body.get("k"), dict):
        raise invalid
    if int(body.get("e", 0)) < time.time():
        raise ValidationFailed("nextToken has expired; start the listing again", code="INVALID_CURSOR")
    return body["k"]
