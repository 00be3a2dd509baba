"""POST /auth/refresh: rotation, reuse detection that kills the whole family, and refused tokens."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import jwt
import pytest

from tests.support.api_client import ApiClient
from tests.unit.conftest import Account
from tests.unit.helpers import assert_error


def _refresh(client: ApiClient, refresh_token: str) -> Any:
    return client.post("/auth/refresh", json_body={"refreshToken": refresh_token})


def test_refresh_answers_a_new_pair_in_the_same_session(client: ApiClient, alice: Account) -> None:
    answer = _refresh(client, alice.refresh_token)
    assert answer.status_code == 200, answer.body
    pair = answer.json()
    assert set(pair) == {"accessToken", "refreshToken", "expiresIn", "tokenType"}
    assert pair["refreshToken"] != alice.refresh_token
    old_sid = jwt.decode(alice.access_token, options={"verify_signature": False})["sid"]
    new_claims = jwt.decode(pair["accessToken"], options={"verify_signature": False})
    assert new_claims["sid"] == old_sid and new_claims["sub"] == alice.user_id
    assert client.get("/tasks", token=pair["accessToken"]).status_code == 200


def test_refresh_token_is_refused_once_it_has_been_rotated(client: ApiClient, alice: Account) -> None:
    assert _refresh(client, alice.refresh_token).status_code == 200
    replay = _refresh(client, alice.refresh_token)
    assert replay.status_code == 401
    assert_error(replay.json(), "REFRESH_TOKEN_REUSED")


def test_reusing_a_rotated_token_revokes_the_family_so_the_newest_token_dies_too(
    client: ApiClient, alice: Account
) -> None:
    second = _refresh(client, alice.refresh_token).json()["refreshToken"]
    third = _refresh(client, second).json()["refreshToken"]
    assert _refresh(client, alice.refresh_token).status_code == 401  # the thief replays the first token
    newest = _refresh(client, third)
    assert newest.status_code == 401
    assert_error(newest.json(), "INVALID_REFRESH_TOKEN")


def test_reuse_in_one_session_leaves_the_users_other_sessions_alive(client: ApiClient, alice: Account) -> None:
    other_session = client.post("/auth/login", json_body={"email": alice.email, "password": alice.password}).json()
    _refresh(client, alice.refresh_token)
    _refresh(client, alice.refresh_token)  # reuse: alice's first session dies
    assert _refresh(client, other_session["refreshToken"]).status_code == 200


def test_refresh_refuses_an_unknown_token_with_401(client: ApiClient, alice: Account) -> None:
    answer = _refresh(client, "q8Zr1m3VYk0bT7cW2xN5pL9sD4fH6jA0uE1iO3gR5tY")
    assert answer.status_code == 401
    assert_error(answer.json(), "INVALID_REFRESH_TOKEN")


def test_refresh_refuses_an_expired_token_with_401(
    client: ApiClient, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskapp.domain import accounts

    later = time.time() + 14 * 24 * 3600 + 1  # one second past the refresh-token lifetime
    monkeypatch.setattr(accounts, "time", SimpleNamespace(time=lambda: later))
    answer = _refresh(client, alice.refresh_token)
    assert answer.status_code == 401
    assert_error(answer.json(), "INVALID_REFRESH_TOKEN")


def test_refresh_token_is_refused_after_its_session_logged_out(client: ApiClient, alice: Account) -> None:
    assert client.post("/auth/logout", token=alice.access_token).status_code == 204
    answer = _refresh(client, alice.refresh_token)
    assert answer.status_code == 401
    assert_error(answer.json(), "INVALID_REFRESH_TOKEN")


def test_refresh_tokens_are_stored_only_as_their_sha256(client: ApiClient, alice: Account) -> None:
    from taskapp.auth.tokens import hash_refresh_token
    from taskapp.data.sessions import SessionItem

    items = [item.attribute_values for item in SessionItem.scan()]
    assert not any(alice.refresh_token in str(values) for values in items)
    assert any(values["pk"] == f"token#{hash_refresh_token(alice.refresh_token)}" for values in items)
    assert all(values["expires_at"] > time.time() for values in items)  # every item carries its DynamoDB TTL


@pytest.mark.parametrize(
    "body",
    [{}, {"refreshToken": ""}, {"refreshToken": 12345}, {"refreshToken": "x", "userId": "u"}],
    ids=["missing", "empty", "not-a-string", "unknown-field"],
)
def test_refresh_refuses_a_malformed_request_with_400(client: ApiClient, body: dict[str, Any]) -> None:
    answer = client.post("/auth/refresh", json_body=body)
    assert answer.status_code == 400
    assert_error(answer.json(), "VALIDATION_ERROR")


def test_losing_a_concurrent_refresh_race_counts_as_reuse_and_revokes_the_family(
    client: ApiClient, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests read the same active token; the one whose rotation lands second must not get a pair."""
    from taskapp.auth.tokens import hash_refresh_token, new_refresh_token
    from taskapp.data import sessions

    real_rotate = sessions.rotate_token
    winner = new_refresh_token()

    def other_request_rotates_first(old: Any, new_token_hash: str, now: int, expires_at: int) -> None:
        same_token = sessions.get_token(hash_refresh_token(alice.refresh_token))
        assert same_token is not None
        real_rotate(same_token, hash_refresh_token(winner), now, expires_at)
        real_rotate(old, new_token_hash, now, expires_at)

    monkeypatch.setattr(sessions, "rotate_token", other_request_rotates_first)
    loser = _refresh(client, alice.refresh_token)
    assert loser.status_code == 401
    assert_error(loser.json(), "REFRESH_TOKEN_REUSED")
    monkeypatch.undo()
    assert _refresh(client, winner).status_code == 401  # the family is gone, the winner's token with it
