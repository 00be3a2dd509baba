"""The import-instruction gate of `make test` (benchmarks/import_instructions.py): its arithmetic, its baseline."""

from __future__ import annotations

import json

import pytest

from benchmarks import import_instructions
from benchmarks.import_instructions import BASELINE, CI_SUBSET, STARTUP, compare
from tests.support.lambda_events import ROOT


def test_more_than_ten_percent_more_instructions_is_a_regression() -> None:
    rows = compare({"a": 1000, "b": 1000, "c": 1000}, {STARTUP: 5, "a": 1101, "b": 1099, "c": 500})
    assert {row["function"]: row["regressed"] for row in rows} == {"a": True, "b": False, "c": False}
    assert [round(row["change"], 3) for row in rows] == [0.101, 0.099, -0.5]


def test_a_function_without_a_baseline_fails_the_check() -> None:
    (row,) = compare({}, {"new_function": 10})
    assert row["regressed"] and row["baseline"] is None
    assert "no baseline" in import_instructions.report([row])


def test_the_baseline_holds_every_function_of_the_template() -> None:
    """`make bench-imports-record` measures all of them; the check measures CI_SUBSET against it."""
    recorded = json.loads(BASELINE.read_text())
    folders = {path.parent.name for path in (ROOT / "functions").glob("*/app.py")}
    assert set(recorded["functions"]) == folders, "run make bench-imports-record after adding or removing a function"
    assert all(isinstance(count, int) and count > 10_000_000 for count in recorded["functions"].values())
    assert set(CI_SUBSET) <= folders
    assert recorded["pinned"]["PYTHONHASHSEED"] == "0"


@pytest.mark.parametrize("text", ["==123== Collected : 610491411\n", "x\n==9== Collected : 610491411\n==9==\n"])
def test_the_count_is_read_from_callgrinds_summary(text: str) -> None:
    match = import_instructions._COLLECTED.search(text)
    assert match is not None and int(match.group(1)) == 610_491_411
