"""Live push: a new notification goes to every open WebSocket connection of its recipient.

Best effort by design: the inbox item is already stored, so a push that fails (API Gateway throttling, a socket
closing mid-send) is logged and skipped rather than failing the batch; a connection that answers GoneException is
deleted so the next push does not try it again.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from taskapp.data import connections
from taskapp.messaging.websocket import ConnectionGone
from taskapp.observability import logger


class Poster(Protocol):
    def post(self, connection_id: str, payload: dict[str, Any]) -> None: ...


class ConnectionPusher:
    def __init__(self, poster: Poster) -> None:
        self.poster = poster

    def push(self, user_id: str, payload: dict[str, Any]) -> int:
        """Returns how many connections received it."""
        delivered = 0
        for connection_id in connections.connections_of(user_id, int(time.time())):
            try:
                self.poster.post(connection_id, payload)
            except ConnectionGone:
                connections.close_connection(connection_id)
            except Exception as exc:  # noqa: BLE001 - a push is best effort; the inbox already has the item
                logger.warning("push failed", extra={"connectionId": connection_id, "error": type(exc).__name__})
            else:
                delivered += 1
        return delivered
