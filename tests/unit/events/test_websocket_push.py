"""Issue 12, live push: the $connect authorizer (same token and revocation checks), the connections table, and the
push of each new notification to the recipient's open connections (GoneException deletes the connection)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import fakeredis
import pytest

from taskapp.data.connections import ConnectionModel, connections_of, open_connection
from taskapp.domain import notification_delivery as notifications
from taskapp.domain.push import ConnectionPusher
from taskapp.domain.records.notifications import Occurrence
from taskapp.messaging.websocket import ConnectionGone
from tests.support.lambda_events import FakeLambdaContext, load_function
from tests.support.sample_events import load_event
from tests.support.tokens import mint_access_token
from tests.unit.conftest import JWT_SECRET

USER = "3f0c9a52-8d1e-4b7a-9c61-2f4e5a6b7c8d"


@dataclass
class FakePoster:
    posted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)
    broken: set[str] = field(default_factory=set)

    def post(self, connection_id: str, payload: dict[str, Any]) -> None:
        if connection_id in self.gone:
            raise ConnectionGone(connection_id)
        if connection_id in self.broken:
            raise RuntimeError("throttled")
        self.posted.append((connection_id, payload))


def _authorize(token: str | None) -> dict[str, Any]:
    event = load_event("socket_authorizer/missing_token")
    if token is not None:
        event["queryStringParameters"] = {"token": token}
    return load_function("socket_authorizer").handler(event, FakeLambdaContext())


def test_connect_authorizer_allows_a_live_token_for_connect_only(fake_redis: fakeredis.FakeRedis) -> None:
    event = load_event("socket_authorizer/allow", ACCESS_TOKEN=mint_access_token(JWT_SECRET, sub=USER))
    answer = load_function("socket_authorizer").handler(event, FakeLambdaContext())
    assert answer["principalId"] == USER and answer["context"]["userId"] == USER
    assert answer["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
    ]


@pytest.mark.parametrize("token", [None, "", "garbage", "revoked"])
def test_connect_authorizer_denies_missing_bad_or_revoked_tokens(fake_redis: fakeredis.FakeRedis, token: Any) -> None:
    from taskapp.auth.revocation import KEY_PREFIX

    if token == "revoked":
        token = mint_access_token(JWT_SECRET, jti="revoked-ws-jti")
        fake_redis.set(KEY_PREFIX + "revoked-ws-jti", "1", ex=600)
    answer = _authorize(token)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "context" not in answer


def test_connect_authorizer_fails_closed_when_redis_is_down(
    fake_redis: fakeredis.FakeRedis, redis_server: fakeredis.FakeServer
) -> None:
    redis_server.connected = False
    assert _authorize(mint_access_token(JWT_SECRET))["policyDocument"]["Statement"][0]["Effect"] == "Deny"


def test_connect_stores_and_disconnect_forgets_the_connection(aws: None) -> None:
    connect = load_function("socket_connect").handler(load_event("socket_connect/connect"), FakeLambdaContext())
    assert connect == {"statusCode": 200}
    row = ConnectionModel.get("Zx9aBcDeFgHiJkL=")
    assert row.user_id == USER and int(row.expires_at) - int(row.connected_at) == 7200
    load_function("socket_disconnect").handler(load_event("socket_disconnect/disconnect"), FakeLambdaContext())
    assert connections_of(USER, 0) == []


def test_connect_without_an_authorized_user_is_refused(aws: None) -> None:
    event = load_event("socket_connect/connect")
    del event["requestContext"]["authorizer"]
    assert load_function("socket_connect").handler(event, FakeLambdaContext()) == {"statusCode": 403}


def test_new_notification_is_pushed_to_every_open_connection_and_gone_ones_are_deleted(aws: None) -> None:
    for connection_id in ("c-live", "c-gone", "c-broken", "c-expired"):
        open_connection(connection_id, USER, 100, 10**10 if connection_id != "c-expired" else 200)
    open_connection("c-other", "someone-else", 100, 10**10)
    poster = FakePoster(gone={"c-gone"}, broken={"c-broken"})
    occurrence = Occurrence(
        event_id="t1:3:task.completed",
        type="task.completed",
        occurred_at="2026-12-01T09:00:00+00:00",
        actor_id=None,
        title="Ship it",
        owner_id=USER,
        task_id="t1",
        creator_id=USER,
    )
    first = notifications.deliver(occurrence, addresses=_NoAddresses(), pusher=ConnectionPusher(poster))
    assert first.pushed == 1
    assert [connection for connection, _ in poster.posted] == ["c-live"]
    payload = poster.posted[0][1]
    assert payload["kind"] == "notification" and payload["notification"]["title"] == "Ship it"
    assert sorted(connections_of(USER, 300)) == ["c-broken", "c-live"]  # gone: deleted; broken: kept, retried later
    again = notifications.deliver(occurrence, addresses=_NoAddresses(), pusher=ConnectionPusher(poster))
    assert again.pushed == 0  # a redelivered event pushes nothing new


class _NoAddresses:
    def email_of(self, user_id: str) -> str | None:
        return None

    def user_id_of(self, email: str) -> str | None:
        return None
