"""The /webhooks routes: subscriptions of the caller only, the secret shown once and stored encrypted, SSRF rules
at creation (project subscriptions: tests/unit/webhooks/test_project_webhooks.py)."""

from __future__ import annotations

import base64
from typing import Any

import boto3
import pytest

from taskapp.data.webhooks import WebhookModel
from tests.support.api_client import ApiClient
from tests.unit.conftest import Account
from tests.unit.helpers import assert_error
from tests.unit.webhooks.conftest import subscribe

pytestmark = pytest.mark.usefixtures("webhook_env", "empty_queues")

PUBLIC_URL = "https://93.184.215.14/hooks"


def _create(client: ApiClient, account: Account, body: dict[str, Any]) -> Any:
    return client.post("/webhooks", json_body=body, token=account.access_token)


def test_create_answers_the_secret_once_and_reads_never_show_it(client: ApiClient, owner: Account) -> None:
    created = subscribe(client, owner, PUBLIC_URL, ["task.created", "task.completed"])
    assert created["secret"].startswith("whsec_") and len(base64.b64decode(created["secret"][6:])) == 32
    assert created["enabled"] is True and created["events"] == ["task.created", "task.completed"]
    one = client.get(f"/webhooks/{created['id']}", token=owner.access_token)
    listed = client.get("/webhooks", token=owner.access_token)
    assert one.status_code == 200 and listed.status_code == 200
    assert "secret" not in one.json() and all("secret" not in item for item in listed.json()["items"])
    assert [item["id"] for item in listed.json()["items"]] == [created["id"]]
    assert created["secret"] not in one.body + listed.body


def test_the_secret_is_stored_as_a_kms_ciphertext_bound_to_its_webhook(client: ApiClient, owner: Account) -> None:
    created = subscribe(client, owner, PUBLIC_URL)
    item = WebhookModel.get(owner.user_id, created["id"])
    blob = base64.b64decode(item.secret_ciphertext)
    assert created["secret"].encode() not in blob and created["secret"] not in item.secret_ciphertext
    kms = boto3.client("kms")
    plain = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"webhookId": created["id"]})["Plaintext"]
    assert plain.decode() == created["secret"]
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"webhookId": "wh_someone_else"})


def test_another_users_webhook_is_not_found(client: ApiClient, new_account: Any) -> None:
    alice, bob = new_account(), new_account()
    created = subscribe(client, alice, PUBLIC_URL)
    for method, path in (
        ("GET", f"/webhooks/{created['id']}"),
        ("DELETE", f"/webhooks/{created['id']}"),
        ("POST", f"/webhooks/{created['id']}/ping"),
        ("POST", f"/webhooks/{created['id']}/rotate-secret"),
        ("GET", f"/webhooks/{created['id']}/deliveries"),
    ):
        answer = client.request(method, path, token=bob.access_token)
        assert answer.status_code == 404, (method, path, answer.body)
        assert_error(answer.json(), "NOT_FOUND")
    assert client.get("/webhooks", token=bob.access_token).json()["items"] == []


def test_patch_changes_fields_and_reenabling_clears_the_failure_count(client: ApiClient, owner: Account) -> None:
    created = subscribe(client, owner, PUBLIC_URL)
    path = f"/webhooks/{created['id']}"
    disabled = client.patch(path, json_body={"enabled": False, "events": ["task.deleted"]}, token=owner.access_token)
    assert disabled.status_code == 200, disabled.body
    assert disabled.json()["enabled"] is False and disabled.json()["events"] == ["task.deleted"]
    assert disabled.json()["disabledReason"] == "disabled by its owner"
    enabled = client.patch(path, json_body={"enabled": True}, token=owner.access_token).json()
    assert enabled["enabled"] is True and enabled["disabledReason"] is None and enabled["consecutiveFailures"] == 0
    unsafe = client.patch(path, json_body={"url": "https://10.1.2.3/x"}, token=owner.access_token)
    assert unsafe.status_code == 400
    assert_error(unsafe.json(), "UNSAFE_WEBHOOK_URL")
    for body in ({}, {"url": None}, {"secret": "whsec_x"}):
        refused = client.patch(path, json_body=body, token=owner.access_token)
        assert refused.status_code == 400, (body, refused.body)
        assert_error(refused.json())


def test_delete_then_everything_about_it_is_not_found(client: ApiClient, owner: Account) -> None:
    created = subscribe(client, owner, PUBLIC_URL)
    assert client.delete(f"/webhooks/{created['id']}", token=owner.access_token).status_code == 204
    assert client.get(f"/webhooks/{created['id']}", token=owner.access_token).status_code == 404
    assert client.delete(f"/webhooks/{created['id']}", token=owner.access_token).status_code == 404


@pytest.mark.parametrize(
    "events", [[], ["task.exploded"], ["task.created", "task.created"], ["webhook.ping"], ["*"] * 11, "*"]
)
def test_unknown_repeated_or_missing_event_types_are_400(client: ApiClient, owner: Account, events: Any) -> None:
    answer = _create(client, owner, {"url": PUBLIC_URL, "events": events})
    assert answer.status_code == 400, answer.body
    assert_error(answer.json(), "VALIDATION_ERROR")


FORBIDDEN_AT_CREATION = [
    ("https://127.0.0.1/hook", "loopback"),
    ("https://10.0.0.7/hook", "private"),
    ("https://172.16.5.4/hook", "private"),
    ("https://192.168.1.10/hook", "private"),
    ("https://169.254.169.254/latest/meta-data", "link-local"),
    ("https://100.64.0.1/hook", "carrier-grade NAT"),
    ("https://224.0.0.1/hook", "multicast"),
    ("https://0.0.0.0/hook", "unspecified"),
    ("https://[fe80::1]/hook", "link-local"),
    ("https://[fc00::1]/hook", "private"),
    ("https://[ff02::1]/hook", "multicast"),
    ("https://[::ffff:10.0.0.1]/hook", "private address (inside an IPv6"),
    ("https://[::ffff:169.254.169.254]/hook", "link-local"),
    ("https://[2002:a00:1::]/hook", "private address (inside an IPv6"),  # 6to4 of 10.0.0.1
    ("http://93.184.215.14/hook", "https"),
    ("ftp://93.184.215.14/hook", "https"),
    ("https://user:pw@93.184.215.14/hook", "credentials"),
    ("not a url", "https"),
    ("https://host.invalid/hook", "does not resolve"),
]


@pytest.mark.parametrize(("url", "reason"), FORBIDDEN_AT_CREATION)
def test_forbidden_targets_are_refused_at_creation_with_the_reason(
    client: ApiClient, owner: Account, monkeypatch: pytest.MonkeyPatch, url: str, reason: str
) -> None:
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK_HTTP", "false")
    from taskapp import settings

    settings.clear_cache()
    answer = _create(client, owner, {"url": url, "events": ["*"]})
    assert answer.status_code == 400, answer.body
    error = assert_error(answer.json(), "UNSAFE_WEBHOOK_URL")
    assert reason in error["message"], error


def test_a_host_name_resolving_to_a_private_address_is_refused(
    client: ApiClient, owner: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskapp.domain import webhook_urls

    monkeypatch.setattr(webhook_urls.socket, "getaddrinfo", _resolves_to("93.184.215.14", "10.9.8.7"))
    answer = _create(client, owner, {"url": "https://hooks.example.com/in", "events": ["*"]})
    assert answer.status_code == 400
    assert "private address" in assert_error(answer.json(), "UNSAFE_WEBHOOK_URL")["message"]


def test_loopback_http_needs_the_local_setting(
    client: ApiClient, owner: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskapp import settings

    allowed = _create(client, owner, {"url": "http://127.0.0.1:8123/hook", "events": ["*"]})
    assert allowed.status_code == 201, allowed.body
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK_HTTP", "false")
    settings.clear_cache()
    refused = _create(client, owner, {"url": "http://127.0.0.1:8123/hook", "events": ["*"]})
    assert refused.status_code == 400
    assert_error(refused.json(), "UNSAFE_WEBHOOK_URL")
    # The local setting opens loopback only: private addresses stay refused over http and https.
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK_HTTP", "true")
    settings.clear_cache()
    assert _create(client, owner, {"url": "http://10.0.0.1/hook", "events": ["*"]}).status_code == 400


def test_webhook_and_delivery_ids_that_cannot_exist_are_404_not_5xx(client: ApiClient, owner: Account) -> None:
    created = subscribe(client, owner, PUBLIC_URL)
    for path in (
        "/webhooks/" + "x" * 2000,
        "/webhooks/%00",
        f"/webhooks/{created['id']}/deliveries/" + "d" * 1500 + "/redeliver",
        f"/webhooks/{created['id']}/deliveries/dlv_1795424400000_0a1b2c3d4e5f6071/redeliver",
    ):
        method = "POST" if path.endswith("/redeliver") else "GET"
        answer = client.request(method, path, token=owner.access_token)
        assert answer.status_code == 404, (path[:80], answer.body)


def test_list_pages_with_a_cursor_bound_to_the_caller(client: ApiClient, new_account: Any) -> None:
    alice, bob = new_account(), new_account()
    ids = {subscribe(client, alice, PUBLIC_URL)["id"] for _ in range(3)}
    first = client.get("/webhooks", query={"limit": "2"}, token=alice.access_token).json()
    assert len(first["items"]) == 2 and first["nextToken"]
    second = client.get("/webhooks", query={"limit": "2", "nextToken": first["nextToken"]}, token=alice.access_token)
    assert {item["id"] for item in first["items"] + second.json()["items"]} == ids
    stolen = client.get("/webhooks", query={"nextToken": first["nextToken"]}, token=bob.access_token)
    assert stolen.status_code == 400
    assert_error(stolen.json(), "INVALID_CURSOR")
    unknown = client.get("/webhooks", query={"lmit": "2"}, token=alice.access_token)
    assert unknown.status_code == 400


def _resolves_to(*addresses: str) -> Any:
    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(2, 1, 6, "", (address, port)) for address in addresses]

    return getaddrinfo


def test_an_owner_has_at_most_25_webhooks(client: ApiClient, owner: Account) -> None:
    from taskapp.domain.webhooks import MAX_WEBHOOKS_PER_OWNER

    for _ in range(MAX_WEBHOOKS_PER_OWNER):
        subscribe(client, owner, PUBLIC_URL)
    answer = _create(client, owner, {"url": PUBLIC_URL, "events": ["*"]})
    assert answer.status_code == 409
    assert_error(answer.json(), "TOO_MANY_WEBHOOKS")
