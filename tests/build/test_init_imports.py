"""A handler's init imports only what its first request uses (issue 17 goal 5c): every module loaded at init is
paid at every cold start, used or not.

Each function's `import app` runs from the build (.aws-sam/build: the function's folder, the built layer and its
shipped bytecode, -S -B, as Lambda loads it; the venv holds dev-only packages, e.g. pyOpenSSL, which botocore picks
up and which pulls in bcrypt) in a fresh interpreter (forked from one that has loaded only libraries allowed
everywhere, so the 50-odd imports take seconds, not a minute), and the heavy clients some functions need must be
absent from `sys.modules` in all the others: the brokers' clients outside the functions that publish (health
checks the brokers, but only when asked, with lazy imports), bcrypt outside the routes that hash or check a
password, PyJWT outside those that sign or verify an access token.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmarks.perf_budget import FUNCTION_ENV
from infra.sam_template import SamTemplate
from tests.support.build import BUILD_DIR, ensure_built
from tests.support.lambda_events import ROOT

# Module -> the functions whose first request uses it (so they may load it at init).
ALLOWED_ONLY_IN = {
    "kafka": {"ingest_tasks"},  # produces every request; task_ingestion dead-letters rarely: lazily
    "pika": {"outbox_publisher"},
    "bcrypt": {"login", "register", "change_password"},
    "jwt": {"authorizer", "socket_authorizer", "login", "refresh"},
}
# Loaded by the parent before forking: libraries every function may load (checked to load none of the above).
PRELOADED = ("pydantic", "aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.data_classes")

PROBE = """
import json, os, sys
forbidden, preloaded, code_dirs = json.loads(sys.argv[1])
functions = sorted(code_dirs)
for name in preloaded:
    __import__(name)
leaked = sorted(m for m in forbidden if m in sys.modules)
if leaked:
    raise SystemExit(f"the preloaded libraries load {leaked}: the probe would blame every function")
results = {}
for function in functions:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one cold import of this function's app module
        os.close(read_end)
        os.environ["AWS_LAMBDA_FUNCTION_NAME"] = os.environ["POWERTOOLS_SERVICE_NAME"] = function
        sys.path.insert(0, code_dirs[function])
        try:
            import app  # noqa: F401
            answer = {"loaded": sorted(m for m in forbidden if m in sys.modules)}
        except BaseException as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        os.write(write_end, json.dumps(answer).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        results[function] = json.loads(pipe.read() or '{"error": "the child died"}')
    os.waitpid(pid, 0)
print(json.dumps(results))
"""


def _functions() -> list[str]:
    return sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))


def _built_code_dirs() -> dict[str, str]:
    """Function folder name -> its built folder (.aws-sam/build/<LogicalId>)."""
    sources, built = SamTemplate(ROOT / "template.yaml").functions, SamTemplate(ensure_built()).functions
    return {
        sources[logical_id].folder: str(spec.code_dir) for logical_id, spec in built.items() if logical_id in sources
    }


@pytest.fixture(scope="module")
def loaded_at_init() -> dict[str, dict[str, list[str] | str]]:
    code_dirs = _built_code_dirs()
    env = {
        **FUNCTION_ENV,
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(BUILD_DIR / "SharedLayer" / "python"),
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "InitImports",
    }
    args = json.dumps([sorted(ALLOWED_ONLY_IN), PRELOADED, code_dirs])
    result = subprocess.run(
        [sys.executable, "-S", "-B", "-c", PROBE, args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer: dict[str, dict[str, list[str] | str]] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def test_every_function_is_probed_and_imports(loaded_at_init: dict[str, dict[str, list[str] | str]]) -> None:
    assert set(loaded_at_init) == set(_functions())
    assert {name: row["error"] for name, row in loaded_at_init.items() if "error" in row} == {}
    assert set().union(*ALLOWED_ONLY_IN.values()) <= set(_functions()), "an allowance names no function"


@pytest.mark.parametrize("module", sorted(ALLOWED_ONLY_IN))
def test_a_heavy_client_is_loaded_at_init_only_where_the_first_request_uses_it(
    loaded_at_init: dict[str, dict[str, list[str] | str]], module: str
) -> None:
    loading = {name for name, row in loaded_at_init.items() if module in row.get("loaded", [])}
    assert loading <= ALLOWED_ONLY_IN[module], f"{module} loaded at init by {sorted(loading - ALLOWED_ONLY_IN[module])}"


def test_the_probe_sees_a_module_a_function_does_load(loaded_at_init: dict[str, dict[str, list[str] | str]]) -> None:
    """Otherwise an empty answer would pass the test above: these functions use them on every request."""
    assert "kafka" in loaded_at_init["ingest_tasks"]["loaded"]
    assert "bcrypt" in loaded_at_init["login"]["loaded"]
    assert "jwt" in loaded_at_init["login"]["loaded"]
