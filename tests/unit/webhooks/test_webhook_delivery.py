"""The delivery pipeline against real receivers (HTTP servers on 127.0.0.1): fan-out -> SQS (moto) -> worker.

(a) success: one delivery per event, verified with `standardwebhooks`; (b) fails twice then succeeds: three
attempts logged, one success, one webhook-id; (c) always 500: dead-lettered with the reason, failed, the
subscription disabled after N events and its owner notified; (d) hangs: the timeout holds and the batch's other
delivery is not held up. Plus rotation, SSRF at delivery time, ping, redelivery and the fan-out itself.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from taskapp.schemas.events import TaskEventType
from tests.support.api_client import ApiClient
from tests.support.lambda_events import FakeLambdaContext, load_function
from tests.support.webhook_receiver import HANG, running_receiver
from tests.unit.conftest import Account
from tests.unit.webhooks.conftest import dead_letters, deliver_once, drain, publish, subscribe, task_event

pytestmark = pytest.mark.usefixtures("webhook_env", "empty_queues")


def _deliveries(client: ApiClient, account: Account, webhook_id: str) -> list[dict[str, Any]]:
    answer = client.get(f"/webhooks/{webhook_id}/deliveries", token=account.access_token)
    assert answer.status_code == 200, answer.body
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def _webhook(client: ApiClient, account: Account, webhook_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = client.get(f"/webhooks/{webhook_id}", token=account.access_token).json()
    return answer


def test_a_delivered_event_arrives_once_signed_per_standard_webhooks(client: ApiClient, owner: Account) -> None:
    with running_receiver([200]) as receiver:
        hook = subscribe(client, owner, receiver.url)
        event = task_event(owner.user_id)
        assert publish(event) == 1
        drain()
        [body] = receiver.verify_all(hook["secret"])
    assert len(receiver.requests) == 1
    assert body["type"] == "task.created" and body["data"]["taskId"] == "task-1"
    assert body["id"] == receiver.requests[0].headers["webhook-id"]
    assert set(body) == {"id", "type", "timestamp", "data"}
    [delivery] = _deliveries(client, owner, hook["id"])
    assert delivery["outcome"] == "delivered" and delivery["attempts"] == 1 and delivery["lastStatusCode"] == 200
    assert delivery["messageId"] == body["id"] and delivery["eventId"] == event.event_id
    assert delivery["lastLatencyMs"] is not None and delivery["nextRetryAt"] is None


def test_a_repeated_fan_out_of_a_delivered_event_is_not_sent_again(client: ApiClient, owner: Account) -> None:
    with running_receiver([200]) as receiver:
        subscribe(client, owner, receiver.url)
        event = task_event(owner.user_id)
        publish(event)
        drain()
        publish(event)  # the stream retried the batch
        drain()
    assert len(receiver.requests) == 1


def test_two_failures_then_success_log_three_attempts_under_one_webhook_id(client: ApiClient, owner: Account) -> None:
    with running_receiver([500, 503, 204]) as receiver:
        hook = subscribe(client, owner, receiver.url)
        publish(task_event(owner.user_id))
        first = deliver_once()
        assert first is not None and len(first["batchItemFailures"]) == 1
        [pending] = _deliveries(client, owner, hook["id"])
        assert pending["outcome"] == "pending" and pending["nextRetryAt"] and pending["lastStatusCode"] == 500
        drain()
        receiver.verify_all(hook["secret"])
    ids = {request.headers["webhook-id"] for request in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids) == 1
    [delivery] = _deliveries(client, owner, hook["id"])
    assert delivery["outcome"] == "delivered" and delivery["attempts"] == 3
    assert [a["statusCode"] for a in delivery["attemptLog"]] == [500, 503, 204]
    assert [a["attempt"] for a in delivery["attemptLog"]] == [1, 2, 3]
    assert delivery["attemptLog"][0]["error"] == "HTTP 500" and delivery["attemptLog"][2]["error"] is None


def test_a_receiver_that_always_fails_dead_letters_then_disables_and_notifies(
    client: ApiClient, owner: Account
) -> None:
    with running_receiver([500]) as receiver:
        hook = subscribe(client, owner, receiver.url)
        publish(task_event(owner.user_id, "task-1"))
        drain()
        [delivery] = _deliveries(client, owner, hook["id"])
        assert delivery["outcome"] == "failed" and delivery["attempts"] == 3  # WEBHOOK_MAX_ATTEMPTS
        [letter] = dead_letters()
        assert letter["reason"] == "HTTP 500 after 3 attempts" and json.loads(letter["job"])["webhook_id"] == hook["id"]
        after_one = _webhook(client, owner, hook["id"])
        assert after_one["enabled"] is True and after_one["consecutiveFailures"] == 1
        publish(task_event(owner.user_id, "task-2"))
        drain()
        disabled = _webhook(client, owner, hook["id"])
        assert disabled["enabled"] is False and disabled["consecutiveFailures"] == 2
        assert "2 consecutive failed events" in disabled["disabledReason"]
        sent = len(receiver.requests)
        publish(task_event(owner.user_id, "task-3"))  # a disabled subscription is not matched any more
        drain()
        assert len(receiver.requests) == sent == 6
    inbox = client.get("/notifications", token=owner.access_token)
    assert inbox.status_code == 200, inbox.body
    [notice] = [item for item in inbox.json()["items"] if item["type"] == "webhook.disabled"]
    assert hook["id"] in notice["message"] and "disabled after 2 consecutive failed events" in notice["message"]
    assert notice["readAt"] is None


def test_a_success_resets_the_run_of_failed_events(client: ApiClient, owner: Account) -> None:
    with running_receiver([500, 500, 500, 200]) as receiver:
        hook = subscribe(client, owner, receiver.url)
        publish(task_event(owner.user_id, "task-1"))
        drain()
        assert _webhook(client, owner, hook["id"])["consecutiveFailures"] == 1
        publish(task_event(owner.user_id, "task-2"))
        drain()
    assert _webhook(client, owner, hook["id"])["consecutiveFailures"] == 0


def test_a_hanging_receiver_times_out_without_holding_up_the_batch(client: ApiClient, owner: Account) -> None:
    with running_receiver([HANG], hang_seconds=10) as hanging, running_receiver([200]) as fast:
        slow_hook = subscribe(client, owner, hanging.url)
        subscribe(client, owner, fast.url)
        publish(task_event(owner.user_id))
        # The hanging job first in the batch: one at a time, the fast one would wait for the whole timeout.
        result = deliver_once(skip_backoff=False, order=lambda job: job["webhook_id"] != slow_hook["id"])
    assert result is not None and len(result["batchItemFailures"]) == 1
    [slow] = _deliveries(client, owner, slow_hook["id"])
    assert slow["outcome"] == "pending" and slow["lastError"] == "timeout after 1 s" and slow["lastStatusCode"] is None
    slow_attempt_ended = datetime.fromisoformat(slow["attemptLog"][0]["at"]).timestamp() + slow["lastLatencyMs"] / 1000
    assert len(fast.requests) == 1 and fast.requests[0].received_at < slow_attempt_ended


def test_rotation_signs_with_both_secrets_during_the_grace_period_then_only_the_new(
    client: ApiClient, owner: Account
) -> None:
    from taskapp.data import webhooks as store
    from taskapp.domain.webhook_signing import signed_headers
    from taskapp.domain.webhooks import active_secrets

    with running_receiver([200]) as receiver:
        hook = subscribe(client, owner, receiver.url)
        rotated = client.post(f"/webhooks/{hook['id']}/rotate-secret", token=owner.access_token)
        assert rotated.status_code == 200, rotated.body
        new_secret = rotated.json()["secret"]
        assert new_secret != hook["secret"]
        publish(task_event(owner.user_id))
        drain()
        request = receiver.requests[0]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (hook["secret"], new_secret):
        Verifier(secret).verify(request.body, request.headers)
    # After the grace period (24 h by default) only the new secret signs.
    webhook = store.get_webhook(owner.user_id, hook["id"])
    assert webhook is not None
    later = datetime.now(UTC) + timedelta(hours=24, seconds=1)
    body = request.body.decode()
    headers = signed_headers("msg_later", later, body, active_secrets(webhook, later))
    assert len(headers["webhook-signature"].split(" ")) == 1
    assert Verifier(new_secret).sign("msg_later", later, body) == headers["webhook-signature"]
    with pytest.raises(WebhookVerificationError):
        _verify_at(hook["secret"], body, headers, later)
    _verify_at(new_secret, body, headers, later)


def _verify_at(secret: str, body: str, headers: dict[str, str], moment: datetime) -> None:
    """The library's verify, with its clock at `moment` (it refuses timestamps 5 minutes off its own clock)."""
    import standardwebhooks.webhooks as library

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return moment

    original = library.datetime
    setattr(library, "datetime", FrozenClock)  # noqa: B010 - the library's own clock, which mypy types as a class
    try:
        Verifier(secret).verify(body, headers)
    finally:
        setattr(library, "datetime", original)  # noqa: B010


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.1.1.1", "private"),
        ("172.31.0.9", "private"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.100.0.1", "carrier-grade NAT"),
        ("239.1.1.1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address the rules refuse, not a bind
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd12::1", "private"),
        ("::ffff:192.168.0.1", "private"),
    ],
)
def test_a_host_that_rebinds_to_a_forbidden_address_is_refused_at_delivery(
    client: ApiClient, owner: Account, monkeypatch: pytest.MonkeyPatch, address: str, reason: str
) -> None:
    from taskapp import settings
    from taskapp.domain import webhook_urls

    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK_HTTP", "false")  # what AWS runs with: loopback is refused too
    settings.clear_cache()
    monkeypatch.setattr(webhook_urls.socket, "getaddrinfo", _resolving_to("93.184.215.14"))
    hook = subscribe(client, owner, "https://hooks.example.com/in")
    monkeypatch.setattr(webhook_urls.socket, "getaddrinfo", _resolving_to(address))
    connected: list[Any] = []
    monkeypatch.setattr("taskapp.messaging.webhook_http.socket.create_connection", lambda *a, **k: connected.append(a))
    publish(task_event(owner.user_id))
    deliver_once()
    [delivery] = _deliveries(client, owner, hook["id"])
    assert delivery["outcome"] == "pending" and reason in delivery["lastError"] and "refused" in delivery["lastError"]
    assert connected == []


def _resolving_to(address: str) -> Any:
    return lambda host, port, *args, **kwargs: [(10, 1, 6, "", (address, port))]


def test_a_delivery_connects_to_the_address_it_checked_not_a_new_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    from taskapp.messaging import webhook_http

    answers = iter([["93.184.215.14"], ["10.0.0.1"]])  # a rebinding DNS server: public first, private after
    opened: list[tuple[str, int]] = []

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        opened.append(address)
        raise ConnectionRefusedError("test stops here")

    monkeypatch.setattr(webhook_http.socket, "create_connection", create_connection)
    result = webhook_http.post(
        "http://rebind.example/x", b"{}", {}, timeout=1, allow_loopback_http=False, resolve=lambda h, p: next(answers)
    )
    assert result.status_code is None and "https" in (result.error or "")
    answers = iter([["93.184.215.14"], ["10.0.0.1"]])
    result = webhook_http.post(
        "https://rebind.example/x", b"{}", {}, timeout=1, allow_loopback_http=False, resolve=lambda h, p: next(answers)
    )
    assert opened == [("93.184.215.14", 443)] and "ConnectionRefusedError" in (result.error or "")


def test_redirects_are_not_followed_and_response_bodies_are_read_at_most_4_kb() -> None:
    from taskapp.messaging import webhook_http

    with running_receiver([302]) as redirecting:
        result = webhook_http.post(redirecting.url, b"{}", {}, timeout=1, allow_loopback_http=True)
    assert result.status_code == 302 and not result.delivered and len(redirecting.requests) == 1
    with running_receiver([500]) as chatty:  # answers ~11 KB
        result = webhook_http.post(chatty.url, b"{}", {}, timeout=1, allow_loopback_http=True)
    assert len(result.response_excerpt.encode()) == webhook_http.MAX_RESPONSE_BYTES


def test_ping_is_a_signed_webhook_ping_delivery(client: ApiClient, owner: Account) -> None:
    with running_receiver([200]) as receiver:
        hook = subscribe(client, owner, receiver.url, ["task.completed"])
        accepted = client.post(f"/webhooks/{hook['id']}/ping", token=owner.access_token)
        assert accepted.status_code == 202, accepted.body
        drain()
        [body] = receiver.verify_all(hook["secret"])
    assert body["type"] == "webhook.ping" and body["data"] == {"webhookId": hook["id"]}
    assert body["id"] == accepted.json()["messageId"]
    [delivery] = _deliveries(client, owner, hook["id"])
    assert delivery["id"] == accepted.json()["deliveryId"] and delivery["outcome"] == "delivered"


def test_redeliver_sends_the_same_body_and_webhook_id_again(client: ApiClient, owner: Account) -> None:
    with running_receiver([500, 500, 500, 200]) as receiver:
        hook = subscribe(client, owner, receiver.url)
        publish(task_event(owner.user_id))
        drain()
        [failed] = _deliveries(client, owner, hook["id"])
        assert failed["outcome"] == "failed"
        path = f"/webhooks/{hook['id']}/deliveries/{failed['id']}/redeliver"
        accepted = client.post(path, token=owner.access_token)
        assert accepted.status_code == 202, accepted.body
        assert _deliveries(client, owner, hook["id"])[0]["outcome"] == "pending"
        again = client.post(path, token=owner.access_token)
        assert again.status_code == 409 and again.json()["error"]["code"] == "DELIVERY_IN_PROGRESS"
        drain()
        bodies = receiver.verify_all(hook["secret"])
    assert len(receiver.requests) == 4 and len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert bodies[0] == bodies[3]
    [delivered] = _deliveries(client, owner, hook["id"])
    assert delivered["outcome"] == "delivered" and delivered["attempts"] == 4


def test_the_delivery_log_is_newest_first_and_paged(client: ApiClient, owner: Account) -> None:
    with running_receiver([200]) as receiver:
        hook = subscribe(client, owner, receiver.url)
        for number in range(3):
            publish(task_event(owner.user_id, f"task-{number}"))
            drain()
    first = client.get(f"/webhooks/{hook['id']}/deliveries", query={"limit": "2"}, token=owner.access_token).json()
    rest = client.get(
        f"/webhooks/{hook['id']}/deliveries", query={"nextToken": first["nextToken"]}, token=owner.access_token
    ).json()
    tasks = [item["eventId"].split(":")[0] for item in first["items"] + rest["items"]]
    assert tasks == ["task-2", "task-1", "task-0"] and rest["nextToken"] is None


def test_fan_out_matches_event_types_and_skips_disabled_subscriptions(client: ApiClient, owner: Account) -> None:
    every = subscribe(client, owner, "http://127.0.0.1:9/all")
    completed = subscribe(client, owner, "http://127.0.0.1:9/done", ["task.completed"])
    off = subscribe(client, owner, "http://127.0.0.1:9/off")
    client.patch(f"/webhooks/{off['id']}", json_body={"enabled": False}, token=owner.access_token)
    from taskapp.data import webhooks as store
    from taskapp.domain.webhook_fanout import jobs_for

    subscriptions = store.enabled_webhooks_of(owner.user_id)
    event = task_event(owner.user_id)
    created = jobs_for(event, subscriptions)
    done = jobs_for(task_event(owner.user_id, kind=TaskEventType.COMPLETED), subscriptions)
    assert {job.webhook_id for job in created} == {every["id"]}
    assert {job.webhook_id for job in done} == {every["id"], completed["id"]}
    assert jobs_for(event, subscriptions) == created  # the same delivery ids when the event is fanned out again


def test_the_stream_handler_fans_out_and_fails_the_batch_when_sqs_is_down(
    client: ApiClient, owner: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskapp.data import webhooks as store
    from tests.support.sample_events import load_event

    event = load_event("webhook_fanout/task-lifecycle")
    stream_owner = event["Records"][0]["dynamodb"]["NewImage"]["ownerId"]["S"]
    hook = subscribe(client, owner, "http://127.0.0.1:9/all")
    webhook = store.get_webhook(owner.user_id, hook["id"])
    assert webhook is not None
    store.create_webhook(webhook._replace(owner_id=stream_owner))
    fanout = load_function("webhook_fanout")
    counts = fanout.handler(event, FakeLambdaContext("webhook-fanout"))
    assert counts["jobs"] == counts["events"] >= 1
    from taskapp import settings
    from taskapp.messaging.webhook_queue import WebhookQueueUnavailable

    queue_url = settings.webhook_queue_settings().webhook_queue_url
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/no-such-queue")
    settings.clear_cache()
    with pytest.raises(WebhookQueueUnavailable):
        fanout.handler(event, FakeLambdaContext("webhook-fanout"))
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", queue_url)
    settings.clear_cache()


def test_a_message_that_is_not_a_job_is_dead_lettered_not_retried() -> None:
    from tests.support.sample_events import load_event

    event = load_event("webhook_delivery/sqs-batch")
    event["Records"] = [event["Records"][1]]
    result = load_function("webhook_delivery").handler(event, FakeLambdaContext("webhook-delivery"))
    assert result["batchItemFailures"] == []
    [letter] = dead_letters()
    assert letter["reason"].startswith("not a delivery job")


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    from taskapp.domain.webhook_delivery import backoff_seconds

    assert [backoff_seconds(n, rand=lambda: 1.0) for n in range(1, 6)] == [1, 2, 4, 4, 4]
    assert [backoff_seconds(n, rand=lambda: 0.0) for n in range(1, 6)] == [1, 1, 2, 2, 2]


def test_the_timeout_bounds_the_whole_attempt_not_each_read() -> None:
    """A receiver that answers a byte at a time, each well within the timeout, is still cut off at the timeout."""
    import socket
    import threading

    from taskapp.messaging import webhook_http

    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
                if stop.wait(0.3):
                    return
                connection.sendall(bytes([byte]))

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        result = webhook_http.post(
            f"http://127.0.0.1:{server.getsockname()[1]}/", b"{}", {}, timeout=1, allow_loopback_http=True
        )
    finally:
        stop.set()
        server.close()
    # Without the deadline every read would be in time and this would be a delivered 200 after ~12 s.
    assert result.error == "timeout after 1 s" and result.status_code is None
