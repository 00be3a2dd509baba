"""The bridge's Invoke call (the deployed stack itself is looked up with infra.stack).

Endpoints come from the environment (AWS_ENDPOINT_URL), so the same code talks to MiniStack, LocalStack or AWS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from infra.bridge.delivery import InvokeOutcome, describe_payload
from infra.bridge.events import encode_event


class LambdaInvoker:
    """Synchronous Invoke (RequestResponse), no SDK retries: the bridge owns retry and backoff."""

    def __init__(self, client: Any | None = None, read_timeout_seconds: int = 905) -> None:
        config = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=read_timeout_seconds)
        self._client = client or boto3.client("lambda", config=config)

    def __call__(self, function_name: str, event: Mapping[str, Any]) -> InvokeOutcome:
        try:
            payload_bytes = encode_event(event)
        except (TypeError, ValueError) as exc:  # a value JSON cannot hold: fail this invoke, never the poller
            return InvokeOutcome(error=f"event is not JSON-encodable: {exc}")
        try:
            response = self._client.invoke(
                FunctionName=function_name, InvocationType="RequestResponse", Payload=payload_bytes
            )
        except (ClientError, BotoCoreError) as exc:
            return InvokeOutcome(error=f"invoke failed: {exc}")
        raw = response["Payload"].read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        if response.get("FunctionError"):
            return InvokeOutcome(payload=payload, error=f"{response['FunctionError']}: {describe_payload(payload)}")
        return InvokeOutcome(payload=payload)
