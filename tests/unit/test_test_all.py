"""infra/test-all.sh runs e2e beside the integration tests except the fault suite: nothing else may break the stack.

With TEST_PARALLEL=1 (the default) tests/e2e runs at the same time as tests/integration minus FAULT_SUITE, against
the same deployed test stack. Whatever stops or kills the stack's private servers (infra/private-servers.sh,
tests/support/private_servers.py) or its event bridge (infra/bridge.sh) would fail e2e requests made meanwhile, so
it must live under FAULT_SUITE, which runs alone afterwards. (Tests with servers or bridges of their own, e.g.
tests/integration/test_redis_outage.py's PrivateRedis or tests/integration/bridge's fixture stack, are fine.)
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from pathlib import Path

from tests.support.lambda_events import ROOT

TEST_ALL = ROOT / "infra" / "test-all.sh"
DISRUPTS_THE_STACK = re.compile(r"private_servers|private-servers\.sh|bridge\.sh|STACK_RABBITMQCTL")


def _fault_suite() -> str:
    match = re.search(r"^FAULT_SUITE=(\S+)$", TEST_ALL.read_text(), re.MULTILINE)
    assert match, "test-all.sh names no FAULT_SUITE"
    return match.group(1)


def test_only_the_fault_suite_touches_the_stacks_servers_or_bridge() -> None:
    fault_suite = ROOT / _fault_suite()
    assert fault_suite.is_dir()
    outside = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").rglob("*.py")
        if fault_suite not in path.parents
        and path.parts[-3:-1] != ("tests", "support")
        and DISRUPTS_THE_STACK.search(path.read_text())
        and path != ROOT / "tests" / "unit" / "test_test_all.py"
    ]
    assert outside == [], f"move these under {_fault_suite()} (it runs alone) or keep them off the stack: {outside}"


def test_the_serial_order_is_one_flag_away() -> None:
    text = TEST_ALL.read_text()
    assert 'TEST_PARALLEL="${TEST_PARALLEL:-1}"' in text
    assert text.count('if [ "$TEST_PARALLEL" = 1 ]; then') == 2


def _parallel_integration_runs() -> list[set[Path]]:
    """The test files each tests/integration run of the parallel branch collects (its paths minus its --ignores)."""
    text = TEST_ALL.read_text().replace("\\\n", " ")
    variables: dict[str, str] = {"ROOT": str(ROOT)}

    def expand(word: str) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda match: variables.get(match.group(1), match.group(0)), word)

    for name, value in re.findall(r"^(\w+)=(\S+)$", text, re.MULTILINE):
        variables[name] = expand(value)  # in order, as the shell does: a value may name an earlier variable

    branch = text.split('if [ "$TEST_PARALLEL" = 1 ]; then', 2)[2].split("\nelse\n", 1)[0]
    runs = []
    for line in branch.splitlines():
        if "infra/pytest.sh" not in line:
            continue
        words = [expand(word) for word in shlex.split(line)]
        paths = [ROOT / word for word in words if word.startswith("tests/integration")]
        ignored = [ROOT / word.split("=", 1)[1] for word in words if word.startswith("--ignore=")]
        if not paths:
            continue
        collected = {
            test
            for path in paths
            for test in ([path] if path.is_file() else path.rglob("test_*.py"))
            if not any(test == skip or skip in test.parents for skip in ignored)
        }
        runs.append(collected)
    return runs


def test_the_parallel_branch_runs_every_integration_test_file_exactly_once() -> None:
    runs = _parallel_integration_runs()
    assert len(runs) >= 2, "expected the integration runs beside e2e and the fault suite after it"
    every_file = set((ROOT / "tests" / "integration").rglob("test_*.py"))
    counted = Counter(test for run in runs for test in run)
    never = sorted(str(path.relative_to(ROOT)) for path in every_file - set(counted))
    twice = sorted(str(path.relative_to(ROOT)) for path, times in counted.items() if times > 1)
    assert never == [], f"no run of the parallel branch collects these: {never}"
    assert twice == [], f"more than one run collects these: {twice}"
