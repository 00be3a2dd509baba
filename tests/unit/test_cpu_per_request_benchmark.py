"""benchmarks/cpu_per_request: the round-trip table reads loopback's extra CPU over stub per round trip."""

from __future__ import annotations

from typing import Any

from benchmarks import cpu_per_request

CODE = "after (working tree)"


def _figures(through_gateway: float, **extra: Any) -> dict[str, Any]:
    return {"authorizer": 1.0, "handler": 1.0, "billed": 2.0, "through_gateway": through_gateway, **extra}


def _report(loopback_code: str = CODE) -> dict[str, Any]:
    stub = {route: _figures(500.0) for route in cpu_per_request.ROUTES}
    loopback: dict[str, Any] = {
        route: _figures(1700.0, round_trips={"redis": 3.0, "dynamodb": 1.0}) for route in cpu_per_request.ROUTES
    }
    loopback["host_round_trip"] = {"cpu_us": 110.0, "user_us": 20.0, "system_us": 90.0, "wall_us": 250.0}
    return {"results": {"stub": {CODE: stub}, "loopback": {loopback_code: loopback}}}


def test_each_route_gets_its_extra_cpu_per_round_trip_beside_the_hosts_price() -> None:
    lines = "\n".join(cpu_per_request._round_trip_lines(_report())).splitlines()
    rows = [line for line in lines if line.startswith("| POST /tasks (seed's body)")]
    assert len(rows) == 1
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    # 1,700 - 500 CPU-us over 3 Redis + 1 DynamoDB round trips
    assert cells[2:] == ["3 + 1", "1200", "300", "110 (20 user, 90 system)"]


def test_no_table_without_a_stub_figure_of_the_same_code() -> None:
    assert cpu_per_request._round_trip_lines(_report(loopback_code="before (main)")) == []
