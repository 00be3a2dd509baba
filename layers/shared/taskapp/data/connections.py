"""Open WebSocket connections: who is listening, so a new notification can be pushed to each of their sockets.

Table: hash `connectionId` ($disconnect knows only that), index `byUser` (hash `userId`) for the push fan-out.
`expiresAt` is the TTL: API Gateway closes a connection after 2 hours at the latest, and a $disconnect that never
arrived (a crash, a lost event) must not leave the row forever; push also deletes rows that answer GoneException.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from taskapp.data.base import model_meta
from taskapp.settings import connections_table_settings


class ByUserIndex(GlobalSecondaryIndex["ConnectionModel"]):
    class Meta:
        index_name = "byUser"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")


class ConnectionModel(Model):
    Meta = model_meta(connections_table_settings().connections_table)

    connection_id = UnicodeAttribute(hash_key=True, attr_name="connectionId")
    user_id = UnicodeAttribute(attr_name="userId")
    connected_at = NumberAttribute(attr_name="connectedAt")
    expires_at = NumberAttribute(attr_name="expiresAt")

    by_user = ByUserIndex()


def open_connection(connection_id: str, user_id: str, connected_at: int, expires_at: int) -> None:
    ConnectionModel(connection_id, user_id=user_id, connected_at=connected_at, expires_at=expires_at).save()


def close_connection(connection_id: str) -> None:
    ConnectionModel(connection_id).delete()


def connections_of(user_id: str, now: int) -> list[str]:
    """The user's connection ids that have not expired (TTL deletion lags by up to days)."""
    return [row.connection_id for row in ConnectionModel.by_user.query(user_id) if int(row.expires_at) > now]
