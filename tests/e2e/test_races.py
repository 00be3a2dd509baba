"""Races through the whole stack: the DynamoDB conditions, not the handlers' reads, decide who wins."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.support.http_api import Account, Api, assert_error

pytestmark = pytest.mark.e2e


def _together(calls: list[tuple[str, str, str | None, Any]], api: Api) -> list[requests.Response]:
    """Fire the calls at once, each on its own connection."""

    def one(call: tuple[str, str, str | None, Any]) -> requests.Response:
        method, path, token, body = call
        return Api(api.base_url).call(method, path, token=token, json=body)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(one, calls))


def test_two_updates_from_the_same_version_one_wins_one_gets_409(api: Api, alice: Account) -> None:
    task = api.create_task(alice, title="v1")
    path = f"/tasks/{task['id']}"

    responses = _together(
        [("PATCH", path, alice.access_token, {"version": 1, "title": title}) for title in ("first", "second")], api
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 409], [response.text for response in responses]
    winner = next(response.json() for response in responses if response.status_code == 200)
    assert_error(next(response for response in responses if response.status_code == 409), 409, "VERSION_CONFLICT")
    stored = api.call("GET", path, token=alice.access_token).json()
    assert (stored["title"], stored["version"]) == (winner["title"], 2)


def test_one_refresh_token_used_twice_at_once_never_yields_two_live_sessions(api: Api, alice: Account) -> None:
    body = {"refreshToken": alice.refresh_token}

    responses = _together([("POST", "/auth/refresh", None, body), ("POST", "/auth/refresh", None, body)], api)

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 401], [response.text for response in responses]
    # The loser is treated as reuse: the family is revoked, so the winner's new refresh token is dead too.
    successor = next(response.json()["refreshToken"] for response in responses if response.status_code == 200)
    assert_error(api.call("POST", "/auth/refresh", json={"refreshToken": successor}), 401)


def test_twenty_parallel_refreshes_of_one_token_end_every_access_token_of_the_session(api: Api, alice: Account) -> None:
    """Issue 15, defect 2: one refresh wins, the 19 that lose the race are reuse, and reuse ends the whole session:
    the access token the login gave and the one the winner was just given both answer 401 from then on."""
    assert api.call("GET", "/tasks", token=alice.access_token).status_code == 200  # its Allow is now cached
    body = {"refreshToken": alice.refresh_token}

    responses = _together([("POST", "/auth/refresh", None, body)] * 20, api)

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [401] * 19, [response.text for response in responses]
    for loser in (response for response in responses if response.status_code == 401):
        assert_error(loser, 401)
    winner = next(response.json() for response in responses if response.status_code == 200)
    for token in (alice.access_token, winner["accessToken"]):  # the handler guard or the authorizer refuses it
        refused = api.call("GET", "/tasks", token=token)
        assert refused.status_code == 401, refused.text
    assert_error(api.call("POST", "/auth/refresh", json={"refreshToken": winner["refreshToken"]}), 401)
