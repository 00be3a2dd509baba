"""Issue 16 through the deployed stack: Idempotency-Key retries, ETags and conditional requests, the task cache."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.support.http_api import Account, Api, assert_error

pytestmark = pytest.mark.e2e

KEY = "Idempotency-Key"


def _titles(api: Api, account: Account) -> list[str]:
    listed = api.call("GET", "/tasks", token=account.access_token, params={"limit": 100})
    assert listed.status_code == 200, listed.text
    return [task["title"] for task in listed.json()["items"]]


def _create_until_answered(api: Api, account: Account, body: dict[str, Any], key: str) -> requests.Response:
    """Retry as a client should: while the first request is in flight (409), wait Retry-After and send it again."""
    deadline = time.monotonic() + 60
    while True:
        response = api.call("POST", "/tasks", token=account.access_token, json=body, headers={KEY: key})
        if response.status_code != 409 or time.monotonic() > deadline:
            return response
        assert_error(response, 409, "IDEMPOTENCY_IN_PROGRESS")
        time.sleep(float(response.headers.get("Retry-After", "1")))


def test_a_retried_create_after_the_first_response_was_dropped_finds_exactly_one_task(api: Api, alice: Account) -> None:
    """The client gives up before the answer arrives (a mobile network dropping it); the server acted anyway."""
    title = f"dropped-{uuid.uuid4().hex[:8]}"
    key = str(uuid.uuid4())
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(
            f"{api.base_url}/tasks",
            json={"title": title},
            headers={KEY: key, "Authorization": f"Bearer {alice.access_token}"},
            timeout=(10, 0.001),
        )
    retried = _create_until_answered(api, alice, {"title": title}, key)
    assert retried.status_code == 201, retried.text
    assert retried.headers["Location"] == f"/tasks/{retried.json()['id']}"
    again = _create_until_answered(api, alice, {"title": title}, key)
    assert again.json() == retried.json()
    assert _titles(api, alice).count(title) == 1


def test_two_concurrent_creates_with_one_key_create_one_task(api: Api, alice: Account) -> None:
    title = f"race-{uuid.uuid4().hex[:8]}"
    key = str(uuid.uuid4())

    def send(_: int) -> requests.Response:
        return Api(api.base_url).call(
            "POST", "/tasks", token=alice.access_token, json={"title": title}, headers={KEY: key}
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(send, range(2)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses in ([201, 201], [201, 409]), [answer.text for answer in answers]
    assert _create_until_answered(api, alice, {"title": title}, key).status_code == 201
    assert _titles(api, alice).count(title) == 1


def test_the_same_key_with_another_body_is_422(api: Api, alice: Account) -> None:
    key = str(uuid.uuid4())
    assert _create_until_answered(api, alice, {"title": "one"}, key).status_code == 201
    assert_error(
        api.call("POST", "/tasks", token=alice.access_token, json={"title": "two"}, headers={KEY: key}),
        422,
        "IDEMPOTENCY_KEY_REUSED",
    )


def test_etag_304_and_a_stale_if_match_after_another_clients_patch_is_412(api: Api, alice: Account) -> None:
    task = api.create_task(alice, title="etag")
    path = f"/tasks/{task['id']}"
    read = api.call("GET", path, token=alice.access_token)
    etag = read.headers["ETag"]
    assert read.headers["Last-Modified"]
    not_modified = api.call("GET", path, token=alice.access_token, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""

    first = api.call("PATCH", path, token=alice.access_token, json={"title": "tab 1"}, headers={"If-Match": etag})
    assert first.status_code == 200, first.text
    second = api.call("PATCH", path, token=alice.access_token, json={"title": "tab 2"}, headers={"If-Match": etag})
    error = assert_error(second, 412, "PRECONDITION_FAILED")
    assert second.headers["ETag"] == first.headers["ETag"] == error["details"]["currentETag"]
    assert api.call("GET", path, token=alice.access_token).json()["title"] == "tab 1"


def test_a_read_after_each_write_shows_that_write_never_an_older_version(api: Api, alice: Account) -> None:
    """Through the task cache (on in the template) and whichever Lambda instance answers."""
    task = api.create_task(alice, title="v1")
    path = f"/tasks/{task['id']}"
    version = task["version"]
    for step in range(30):
        assert api.call("GET", path, token=alice.access_token).json()["version"] == version
        patched = api.call("PATCH", path, token=alice.access_token, json={"version": version, "title": f"s{step}"})
        assert patched.status_code == 200, patched.text
        version = patched.json()["version"]
        seen = api.call("GET", path, token=alice.access_token).json()
        assert (seen["version"], seen["title"]) == (version, f"s{step}")
