"""The WebSocket API's @connections management API: post a message to one open connection."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from botocore.exceptions import ClientError

from taskapp.settings import runtime_settings, websocket_settings


class ConnectionGone(Exception):
    """The connection is closed (410 GoneException): its row should go."""


@lru_cache(maxsize=1)
def _management_api() -> Any:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 2, "mode": "standard"})
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=websocket_settings().connections_endpoint(runtime_settings().region),
        region_name=runtime_settings().region,
        config=config,
    )


class ConnectionPoster:
    def post(self, connection_id: str, payload: dict[str, Any]) -> None:
        try:
            _management_api().post_to_connection(ConnectionId=connection_id, Data=json.dumps(payload).encode())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "GoneException":
                raise ConnectionGone(connection_id) from exc
            raise
