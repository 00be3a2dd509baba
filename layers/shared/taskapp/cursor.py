"""Opaque, signed pagination cursors: a client can pass one back but cannot forge or edit it.

Decoding trusts nothing about the string it is given: any client can send any text as `nextToken`, so every
malformed one is a 400 INVALID_CURSOR. The format is checked before any decoding (ASCII base64url, one dot), the
signature is compared as bytes, and even a signed payload is checked for shape before DynamoDB sees its key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import time
from typing import Any, TypeGuard

from taskapp.auth.keys import signing_key
from taskapp.errors import ValidationFailed
from taskapp.settings import cursor_settings

# What encode_cursor writes: unpadded base64url, a dot, unpadded base64url. re.ASCII, or \w-like classes widen.
_CURSOR_FORMAT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", re.ASCII)
# A DynamoDB key (the table's key plus an index's): at most 4 attributes, each {type: value} of a key type.
_MAX_KEY_ATTRIBUTES = 4
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?", re.ASCII)


def _key() -> bytes:
    return hmac.new(signing_key().encode("utf-8"), b"pagination-cursor-v1", hashlib.sha256).digest()


def _sign(payload: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(_key(), payload, hashlib.sha256).digest()[:16]).decode().rstrip("=")


def _b64decode(text: str) -> bytes:
    """Strict: `validate=True` refuses characters outside the alphabet instead of silently dropping them."""
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def encode_cursor(last_key: dict[str, Any], scope: str) -> str:
    """`scope` binds the cursor to the query (owner and filter) it came from."""
    body = {"k": last_key, "s": scope, "e": int(time.time()) + cursor_settings().cursor_ttl_seconds}
    payload = json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _sign(payload)


def _is_key_value(value: Any) -> bool:
    """One attribute of a DynamoDB key in wire format: {"S": str}, {"N": numeric str} or {"B": base64 str}."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    ((kind, text),) = value.items()
    if not isinstance(text, str):
        return False
    return kind in ("S", "B") or (kind == "N" and _NUMBER.fullmatch(text) is not None)


def _is_dynamodb_key(key: Any) -> bool:
    return (
        isinstance(key, dict)
        and 0 < len(key) <= _MAX_KEY_ATTRIBUTES
        and all(isinstance(name, str) and name and _is_key_value(value) for name, value in key.items())
    )


def _is_expiry(value: Any) -> TypeGuard[float]:
    """A finite JSON number: bool is an int in Python, and json.loads reads NaN and Infinity as floats."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def decode_cursor(cursor: str, scope: str) -> dict[str, Any]:
    invalid = ValidationFailed("nextToken is not a valid cursor", code="INVALID_CURSOR")
    if _CURSOR_FORMAT.fullmatch(cursor) is None:
        raise invalid
    encoded, signature = cursor.split(".")
    try:
        payload = _b64decode(encoded)
    except binascii.Error as exc:
        raise invalid from exc
    # Bytes on both sides: compare_digest raises TypeError for a str with non-ASCII characters.
    if not hmac.compare_digest(signature.encode("ascii"), _sign(payload).encode("ascii")):
        raise invalid
    try:
        body = json.loads(payload)  # bytes: not UTF-8/16/32 or not JSON is a ValueError
    except (ValueError, RecursionError) as exc:
        raise invalid from exc
    if not isinstance(body, dict) or body.get("s") != scope or not _is_dynamodb_key(body.get("k")):
        raise invalid
    expires_at = body.get("e")
    if not _is_expiry(expires_at):
        raise invalid
    if expires_at < time.time():
        raise ValidationFailed("nextToken has expired; start the listing again", code="INVALID_CURSOR")
    key: dict[str, Any] = body["k"]
    return key
