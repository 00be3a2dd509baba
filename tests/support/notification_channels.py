"""What the notification path delivers outside the API, read where the local stack records it: SES messages at
MiniStack's inspection endpoint (never a mock), and the WebSocket API of the deployed stack."""

from __future__ import annotations

import os
from typing import Any

import requests

from infra.stack import Stack


def endpoint() -> str:
    return os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566").rstrip("/")


def ses_messages(to_address: str) -> list[dict[str, Any]]:
    """Every message SES accepted for `to_address`, oldest first (MiniStack: GET /_ministack/ses/messages)."""
    answer = requests.get(f"{endpoint()}/_ministack/ses/messages", timeout=10)
    answer.raise_for_status()
    by_account = answer.json().get("messages") or {}
    messages = [message for batch in by_account.values() for message in batch]
    return sorted((m for m in messages if to_address in (m.get("To") or [])), key=lambda m: m.get("Timestamp", 0))


def websocket_url(stack: Stack | None = None) -> str:
    """`WEBSOCKET_URL`, else the deployed stack's WebSocket API as MiniStack serves it (the wss:// output is AWS's)."""
    explicit = os.environ.get("WEBSOCKET_URL", "").strip()
    if explicit:
        return explicit
    stack = stack or Stack()
    api_id, stage = stack.output("WebSocketApiId"), stack.output("ApiStage")
    return f"{endpoint().replace('http', 'ws', 1)}/_aws/execute-api/{api_id}/{stage}"
