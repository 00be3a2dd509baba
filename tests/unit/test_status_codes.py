"""Status codes a client expects (issue 16): 413, Location on a 201, Retry-After on every 429 and 503.

The revocation check's, storage's and the rate limiter's Retry-After have their own tests (test_redis_breaker,
test_api_edge, test_rate_limit); these cover the answers that had none and the rule that now adds it.
"""

from __future__ import annotations

import fakeredis

from tests.support.api_client import ApiClient
from tests.unit.conftest import Account
from tests.unit.helpers import assert_error


def test_an_oversize_ingest_is_413(client: ApiClient, alice: Account) -> None:
    body = {"tasks": [{"title": "t", "description": "d" * 2000}] * 600}
    answer = client.post("/tasks/ingest", json_body=body, token=alice.access_token)
    assert answer.status_code == 413
    assert set(assert_error(answer.json(), "BODY_TOO_LARGE")["details"]) == {"maxBytes"}


def test_a_201_says_where_the_new_task_lives(client: ApiClient, alice: Account) -> None:
    created = client.post("/tasks", json_body={"title": "t"}, token=alice.access_token)
    assert created.status_code == 201
    location = created.headers["Location"]
    assert location == f"/tasks/{created.json()['id']}"
    assert client.get(location, token=alice.access_token).status_code == 200


def test_a_503_health_says_when_to_retry(client: ApiClient, redis_server: fakeredis.FakeServer) -> None:
    redis_server.connected = False
    answer = client.get("/health")
    assert answer.status_code == 503
    assert answer.headers.get("Retry-After") == "1"


def test_no_retry_after_where_retrying_does_not_help(client: ApiClient, alice: Account) -> None:
    assert "Retry-After" not in client.get("/tasks", token=alice.access_token).headers
    assert "Retry-After" not in client.post("/tasks", json_body={}, token=alice.access_token).headers


def test_retry_after_is_added_to_any_429_or_503_that_lacks_it() -> None:
    from taskapp.api import _ensure_retry_after

    for status in (429, 503):
        result: dict[str, object] = {"statusCode": status, "multiValueHeaders": {}}
        _ensure_retry_after(result)
        assert result["multiValueHeaders"] == {"Retry-After": ["1"]}
    kept: dict[str, object] = {"statusCode": 429, "headers": {"retry-after": "30"}}
    _ensure_retry_after(kept)
    assert kept["headers"] == {"retry-after": "30"}
    untouched: dict[str, object] = {"statusCode": 500, "headers": {}}
    _ensure_retry_after(untouched)
    assert untouched["headers"] == {}
