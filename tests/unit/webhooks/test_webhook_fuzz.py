"""Property: whatever a client sends to the webhook routes, the answer is a success or a clean 4xx, never a 5xx.

Host names are resolved by a stub (public for `*.example.com`, nothing else resolves), so examples never wait on
DNS; IP literals go through the real rules.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.api_client import ApiClient
from tests.unit.conftest import Account
from tests.unit.test_request_fuzz import FUZZ, JSON_VALUES
from tests.unit.webhooks.conftest import subscribe

pytestmark = pytest.mark.usefixtures("webhook_env", "empty_queues", "stub_dns")

URLS = (
    st.sampled_from(
        [
            "https://hooks.example.com/in",
            "https://10.0.0.1/x",
            "http://127.0.0.1:9/x",
            "https://[::1]/",
            "https://[fe80::1%25eth0]/",
            "https://nowhere.invalid/",
            "https://93.184.215.14:99999/",
            "https://:80/",
            "https://93.184.215.14/#frag",
            "javascript:alert(1)",
            "https://u:p@93.184.215.14/",
            "https://" + "a" * 300 + ".example.com/",
        ]
    )
    | st.text(max_size=60)
    | JSON_VALUES
)
EVENTS = st.lists(st.sampled_from(["*", "task.created", "task.deleted", "task.nope", ""]), max_size=12) | JSON_VALUES
FIELDS = {"url": URLS, "events": EVENTS, "description": st.text(max_size=510) | JSON_VALUES, "projectId": JSON_VALUES}


@pytest.fixture
def stub_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if str(host).endswith(".example.com"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]
        raise socket.gaierror("no such host")

    from taskapp.domain import webhook_urls

    monkeypatch.setattr(webhook_urls.socket, "getaddrinfo", getaddrinfo)
    yield


def _assert_clean(answer: Any, allowed: set[int]) -> None:
    assert answer.status_code in allowed, answer.body
    if answer.status_code >= 400:
        body = answer.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body


@FUZZ
@given(body=st.fixed_dictionaries({}, optional=FIELDS) | JSON_VALUES)
def test_create_webhook_never_answers_5xx(client: ApiClient, owner: Account, body: Any) -> None:
    answer = client.post("/webhooks", raw_body=json.dumps(body), token=owner.access_token)
    _assert_clean(answer, {201, 400})


@FUZZ
@given(
    body=st.fixed_dictionaries({}, optional={**FIELDS, "enabled": st.booleans() | JSON_VALUES}) | JSON_VALUES,
)
def test_update_webhook_never_answers_5xx(client: ApiClient, owner: Account, body: Any) -> None:
    existing = client.get("/webhooks", token=owner.access_token).json()["items"]  # one per test, not per example
    created = existing[0] if existing else subscribe(client, owner, "https://hooks.example.com/in")
    answer = client.patch(f"/webhooks/{created['id']}", raw_body=json.dumps(body), token=owner.access_token)
    _assert_clean(answer, {200, 400})


@FUZZ
@given(
    webhook_id=st.text(min_size=1, max_size=40).filter(lambda s: "/" not in s and s not in (".", "..")),
    delivery_id=st.text(min_size=1, max_size=40).filter(lambda s: "/" not in s and s not in (".", "..")),
    query=st.dictionaries(st.sampled_from(["limit", "nextToken", "x"]), st.text(max_size=30), max_size=2),
)
def test_path_and_query_text_never_answers_5xx(
    client: ApiClient, owner: Account, webhook_id: str, delivery_id: str, query: dict[str, str]
) -> None:
    from urllib.parse import quote

    hook, delivery = quote(webhook_id, safe=""), quote(delivery_id, safe="")
    for method, path, params in (
        ("GET", f"/webhooks/{hook}", None),
        ("GET", f"/webhooks/{hook}/deliveries", query),
        ("POST", f"/webhooks/{hook}/ping", None),
        ("POST", f"/webhooks/{hook}/rotate-secret", None),
        ("POST", f"/webhooks/{hook}/deliveries/{delivery}/redeliver", None),
        ("DELETE", f"/webhooks/{hook}", None),
        ("GET", "/webhooks", query),
    ):
        answer = client.request(method, path, query=params, token=owner.access_token)
        _assert_clean(answer, {200, 204, 400, 404})
