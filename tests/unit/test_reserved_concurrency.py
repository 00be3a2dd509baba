"""Concurrency and throttling are template parameters per function class, and reach MiniStack too (issue 17)."""

from __future__ import annotations

from typing import Any

from infra.reserved_concurrency import apply, reserved_concurrency
from infra.sam_template import NO_VALUE, SamTemplate

AUTHORIZERS = {"AuthorizerFunction", "SocketAuthorizerFunction"}
CONSUMERS = {
    "TaskIngestionFunction",
    "OutboxPublisherFunction",
    "NotificationFunction",
    "ReminderSchedulerFunction",
    "ReminderFunction",
}


def test_by_default_no_function_reserves_concurrency_and_the_stage_keeps_the_default_throttle() -> None:
    template = SamTemplate()
    assert set(reserved_concurrency(template, {}).values()) == {None}
    method_settings = template.resources["TaskApi"]["Properties"]["MethodSettings"]
    assert template.local_resolver().resolve(method_settings) is NO_VALUE


def test_each_function_class_gets_its_own_figure() -> None:
    template = SamTemplate()
    parameters = {
        "ApiReservedConcurrency": "4",
        "AuthorizerReservedConcurrency": "16",
        "ConsumerReservedConcurrency": "2",
    }
    figures = reserved_concurrency(template, parameters)
    assert {name: figures.pop(name) for name in AUTHORIZERS} == dict.fromkeys(AUTHORIZERS, 16)
    assert {name: figures.pop(name) for name in CONSUMERS} == dict.fromkeys(CONSUMERS, 2)
    assert figures and set(figures.values()) == {4}  # every route function, REST (Api events) and WebSocket
    routes = [name for name in figures if not template.resources[name]["Properties"].get("Events")]
    assert all(name.startswith("Socket") for name in routes), routes


def test_the_stage_throttle_is_the_parameters_given() -> None:
    template = SamTemplate()
    method_settings = template.resources["TaskApi"]["Properties"]["MethodSettings"]
    resolver = template.local_resolver({"ApiThrottlingRateLimit": "100", "ApiThrottlingBurstLimit": "50"})
    assert resolver.resolve(method_settings) == [
        {"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": "100", "ThrottlingBurstLimit": "50"}
    ]
    only_rate = template.local_resolver({"ApiThrottlingRateLimit": "100"}).resolve(method_settings)
    assert only_rate == [{"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": "100"}]


class _Stack:
    def physical_id(self, logical_id: str) -> str:
        return f"app-{logical_id}"


class _Lambda:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def put_function_concurrency(self, **kwargs: Any) -> None:
        self.calls.append(("put", kwargs))

    def delete_function_concurrency(self, **kwargs: Any) -> None:
        self.calls.append(("delete", kwargs))


def test_apply_puts_each_reservation_and_removes_the_ones_the_template_no_longer_sets() -> None:
    client = _Lambda()
    done = apply(_Stack(), {"GetTaskFunction": 4, "AuthorizerFunction": None}, client)  # type: ignore[arg-type]
    assert client.calls == [
        ("delete", {"FunctionName": "app-AuthorizerFunction"}),
        ("put", {"FunctionName": "app-GetTaskFunction", "ReservedConcurrentExecutions": 4}),
    ]
    assert done == ["AuthorizerFunction: no reservation", "GetTaskFunction: ReservedConcurrentExecutions=4"]
    dry = _Lambda()
    apply(_Stack(), {"GetTaskFunction": 4}, dry, dry_run=True)  # type: ignore[arg-type]
    assert dry.calls == []
