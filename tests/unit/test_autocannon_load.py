"""The load benchmark reads autocannon's result and tables it beside issue 17's figures (no server, no Node)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import autocannon_load

RESULT = {
    "requests": {"average": 812.4, "total": 8124},
    "latency": {"p50": 11, "p99": 48, "max": 90},
    "timeouts": 0,
    "errors": 0,
    "non2xx": 12,
    "5xx": 0,
    "statusCodeStats": {"201": {"count": 8112}, "503": {"count": 12}},
}


def test_a_run_is_summarised_with_its_refusals() -> None:
    cell = autocannon_load.summarize(RESULT)
    assert cell["requests_per_s"] == 812.4
    assert cell["statuses"] == {"201": 8112, "503": 12}
    text = autocannon_load._cell_text({**cell, "served_per_s": 811.2, "load_average_before": 1.5})
    assert text == "**811/s served**, p50 11 ms, p99 48 ms; 12 fast 429/503 (812 answers/s in all); load 1.5"


def test_answers_that_are_not_the_routes_are_not_counted_as_throughput() -> None:
    # A wrong URL (MiniStack's 400) or a wrong secret (401) once filled a whole table: such a cell says so.
    assert autocannon_load.unexpected_statuses("deployed", "post", {"400": 6930}) == {"400": 6930}
    assert autocannon_load.unexpected_statuses("deployed", "get", {"200": 9, "429": 3, "503": 1}) == {}
    assert autocannon_load.unexpected_statuses("deployed", "post", {"201": 5, "500": 1}) == {"500": 1}
    assert autocannon_load.unexpected_statuses("seed", "post", {"202": 5}) == {}
    assert autocannon_load.unexpected_statuses("seed", "post", {"201": 5}) == {"201": 5}
    assert autocannon_load.unexpected_statuses("backend", "post", {"200": 5}) == {}
    cell = {**autocannon_load.summarize(RESULT), "unexpected": {"400": 3}, "load_average_before": 1.0}
    assert "NOT MEASURED, answers 3 x 400" in autocannon_load._cell_text(cell)


def test_the_table_has_the_seed_and_the_before_figures_beside_each_measured_cell() -> None:
    cells = {"local|post|50": {**autocannon_load.summarize(RESULT), "served_per_s": 811.2, "load_average_before": 2.0}}
    table = autocannon_load.markdown(cells, [10, 50, 200])
    assert "~1,050-1,450 req/s" in table
    assert "| POST /tasks | local, before | 163 req/s, p50 55 ms |" in table
    assert "| POST /tasks | local | - | **811/s served**" in table


def test_the_pinned_autocannon_is_the_one_the_lockfile_installs() -> None:
    load = Path(autocannon_load.LOAD_DIR)
    wanted = json.loads((load / "package.json").read_text())["dependencies"]["autocannon"]
    locked = json.loads((load / "package-lock.json").read_text())["packages"]["node_modules/autocannon"]["version"]
    assert wanted == locked


def test_cpu_ratio_compares_the_same_route_at_ten_connections_and_flags_refusals() -> None:
    cell = {"statuses": {"200": 10}, "cpu_ms_per_answer": 1.2}
    cells = {
        "local|get|10": cell,
        "seed|get|10": {**cell, "cpu_ms_per_answer": 0.3},
        "local|post|10": {"statuses": {"201": 5, "503": 1}, "cpu_ms_per_answer": 2.0},
        "seed|post|10": {"statuses": {"202": 5}, "cpu_ms_per_answer": 0.5},
        "seed|get|50": {**cell, "cpu_ms_per_answer": 0.1},
    }
    lines = autocannon_load.cpu_ratio_lines(cells)
    assert any("GET /tasks/{id}" in line and "**4.0x**" in line and "not comparable" not in line for line in lines)
    assert any("POST /tasks" in line and "**4.0x**" in line and "not comparable" in line for line in lines)
    assert autocannon_load.cpu_ratio_lines({"local|get|10": cell}) == []


def test_before_ratio_is_served_over_served_at_fifty_connections() -> None:
    cells: dict[str, dict[str, Any]] = {
        "local|get|50": {"served_per_s": 900.0},
        "local-before|get|50": {"served_per_s": 300.0, "code": "abc123"},
        "local|post|50": {"served_per_s": 100.0},
        "local-before|post|50": {"served_per_s": 0.0, "code": "abc123"},
    }
    lines = autocannon_load.before_ratio_lines(cells)
    assert any("GET /tasks/{id}" in line and "**3.0x**" in line and "abc123" in line for line in lines)
    assert any("POST /tasks" in line and "served nothing" in line for line in lines)
    assert autocannon_load.before_ratio_lines({"local|get|50": {"served_per_s": 1.0}}) == []


def test_warm_up_ramps_up_after_a_run_with_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    warm = {"timeouts": 0, "errors": 0, "requests": {"total": 500}}
    answers = iter([{"timeouts": 10, "errors": 0, "requests": {"total": 0}}, *[warm] * 5])
    connections = []

    def fake_run(config: dict) -> dict:
        assert config["duration"] == 5
        connections.append(config["connections"])
        return next(answers)

    monkeypatch.setattr(autocannon_load, "run_autocannon", fake_run)
    assert autocannon_load.warm_up({"duration": 10, "connections": 10}, 5) == 6
    assert connections == [10, 1, 2, 4, 8, 10]
    assert autocannon_load.warm_up({"duration": 10, "connections": 10}, 0) == 0


def test_warm_up_of_a_warm_stack_is_one_run_and_gives_up_after_three(monkeypatch: pytest.MonkeyPatch) -> None:
    warm = {"timeouts": 0, "errors": 0, "requests": {"total": 500}}
    monkeypatch.setattr(autocannon_load, "run_autocannon", lambda config: warm)
    assert autocannon_load.warm_up({"duration": 10, "connections": 50}, 5) == 1
    full = []

    def always_timing_out(config: dict) -> dict:
        full.append(config["connections"] == 2)
        return {"timeouts": 1, "errors": 0, "requests": {"total": 100}}

    monkeypatch.setattr(autocannon_load, "run_autocannon", always_timing_out)
    assert autocannon_load.warm_up({"duration": 10, "connections": 2}, 5) == 5  # 2, then (1, 2) twice
    assert full.count(True) == autocannon_load.MAX_WARMUP_RUNS


def test_a_warm_up_that_answered_nothing_is_not_warm() -> None:
    """A 5 s run counts no timeout for requests still hanging when it ends (autocannon's timeout is 10 s)."""
    assert not autocannon_load.warmed({"timeouts": 0, "errors": 0, "requests": {"total": 0}}, 10)
    assert not autocannon_load.warmed({"timeouts": 0, "errors": 0, "requests": {"total": 15}}, 10)
    assert not autocannon_load.warmed({"timeouts": 0, "errors": 2, "requests": {"total": 900}}, 10)
    assert autocannon_load.warmed({"timeouts": 0, "errors": 0, "requests": {"total": 20}}, 10)


def test_a_warm_up_that_started_a_worker_is_followed_by_another_at_the_full_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The deployed stack: a run can answer well while its last workers are still starting."""
    warm = {"timeouts": 0, "errors": 0, "requests": {"total": 500}}
    connections = []

    def fake_run(config: dict) -> dict:
        connections.append(config["connections"])
        return warm

    pools = iter([set(), {1}, {1}, {1}])  # the first run starts worker 1, the second none
    monkeypatch.setattr(autocannon_load, "run_autocannon", fake_run)

    assert autocannon_load.warm_up({"duration": 10, "connections": 10}, 5, lambda: next(pools)) == 2
    assert connections == [10, 10], "no ramp: the run answered, it only started a worker"
