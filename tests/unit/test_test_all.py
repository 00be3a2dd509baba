"""infra/test-all.sh runs e2e beside the integration tests except the fault suite: nothing else may break the stack.

With TEST_PARALLEL=1 (the default) tests/e2e runs at the same time as tests/integration minus FAULT_SUITE, against
the same deployed test stack. Whatever stops or kills the stack's private servers (infra/private-servers.sh,
tests/support/private_servers.py) or its event bridge (infra/bridge.sh) would fail e2e requests made meanwhile, so
it must live under FAULT_SUITE, which runs alone afterwards. (Tests with servers or bridges of their own, e.g.
tests/integration/test_redis_outage.py's PrivateRedis or tests/integration/bridge's fixture stack, are fine.)
"""

from __future__ import annotations

import re

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
