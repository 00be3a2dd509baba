"""Each handler's cold import counted in CPU instructions (valgrind's callgrind), against a recorded baseline.

    python -m benchmarks.import_instructions record            # every function -> benchmarks/import-instructions.json
    python -m benchmarks.import_instructions check             # the CI subset; exit 1 on a > 10% regression
    python -m benchmarks.import_instructions check --functions get_task,login --jobs 2

Why instructions: wall-clock import times on a shared 2-core machine move by 20-50% with the load; the number of
instructions an import executes does not (callgrind counts them in a simulated CPU: three runs of the authorizer
differ by 0.003%). A regression gate can then be tight (10%) without being flaky.

What is measured, pinned so the count repeats: `python -S -B -c "import app"` in the function's *built* folder
(.aws-sam/build/<LogicalId>, infra/build.sh's shipped unchecked-hash bytecode, read-only with -B, as in Lambda),
with only the built layer on PYTHONPATH, in an emptied environment holding Lambda's variables for the function
(benchmarks/perf_budget.py's), PYTHONHASHSEED=0 (the str hash seed moves dict/set layouts and so the count), TZ=UTC
and the C locale. The count of `python -S -B -c pass` in the same environment (the interpreter's own start-up) is
subtracted. A change of Python, of a pinned library or of a handler's imports moves the figures: after an intended
one, run `make bench-imports-record` (about 10 minutes for every function on 2 cores) and commit the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks import harness
from benchmarks.harness import ROOT, markdown_table

BASELINE = ROOT / "benchmarks" / "import-instructions.json"
BUILD_DIR = ROOT / ".aws-sam" / "build"
LAYER = BUILD_DIR / "SharedLayer" / "python"
# The check `make test` runs: the authorizer (every API request), the two hottest routes, and one consumer.
CI_SUBSET = ("authorizer", "get_task", "create_task", "task_ingestion")
TOLERANCE = 0.10
PINNED_ENV = {"PYTHONHASHSEED": "0", "TZ": "UTC", "LC_ALL": "C", "PYTHONDONTWRITEBYTECODE": "1"}
_COLLECTED = re.compile(r"^==\d+== Collected : (\d+)$", re.MULTILINE)
STARTUP = "(interpreter start-up)"


def built_code_dirs() -> dict[str, Path]:
    """Function folder name -> its built code folder (.aws-sam/build/<LogicalId>), what Lambda unpacks."""
    sources = harness.template().functions
    built = harness.template(BUILD_DIR / "template.yaml").functions
    return {sources[logical_id].folder: spec.code_dir for logical_id, spec in built.items() if logical_id in sources}


def probe_env(function: str) -> dict[str, str]:
    from benchmarks.perf_budget import _lambda_env

    return {**_lambda_env(function), **PINNED_ENV, "PYTHONPATH": str(LAYER), "PATH": "/usr/bin:/bin"}


def instructions(function: str, code_dir: Path, statement: str = "import app") -> int:
    """Instructions callgrind counts for one cold `python -S -B -c statement` in code_dir."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    result = subprocess.run(  # noqa: S603 - valgrind running this interpreter on a fixed statement
        [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-S", "-B", "-c", statement],
        cwd=code_dir,
        env=probe_env(function),
        capture_output=True,
        text=True,
        check=False,
    )
    match = _COLLECTED.search(result.stderr)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"{function}: `{statement}` failed under callgrind:\n{result.stderr[-3000:]}")
    return int(match.group(1))


def measure(functions: list[str], jobs: int) -> dict[str, int]:
    """Instructions of each function's `import app` minus the interpreter's start-up, `jobs` valgrinds at a time."""
    if not LAYER.is_dir():
        raise SystemExit(f"{LAYER} is missing: run infra/build.sh first")
    dirs = built_code_dirs()
    unknown = sorted(set(functions) - set(dirs))
    if unknown:
        raise SystemExit(f"not functions of the build: {unknown}")
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        startup = pool.submit(instructions, functions[0], dirs[functions[0]], "pass")
        imports = {name: pool.submit(instructions, name, dirs[name]) for name in functions}
        base = startup.result()
        return {STARTUP: base, **{name: future.result() - base for name, future in imports.items()}}


def versions() -> dict[str, str]:
    valgrind = subprocess.run(["valgrind", "--version"], capture_output=True, text=True, check=False)  # noqa: S607
    return {"python": platform.python_version(), "valgrind": valgrind.stdout.strip(), "machine": harness.machine()}


def compare(baseline: dict[str, int], measured: dict[str, int], tolerance: float = TOLERANCE) -> list[dict[str, Any]]:
    """One row per measured function: baseline, now, change; `regressed` beyond +tolerance."""
    rows: list[dict[str, Any]] = []
    for name, now in measured.items():
        if name == STARTUP:
            continue
        before = baseline.get(name)
        change = None if before is None else now / before - 1
        regressed = change is None or change > tolerance
        rows.append({"function": name, "baseline": before, "now": now, "change": change, "regressed": regressed})
    return rows


def report(rows: list[dict[str, Any]]) -> str:
    def cell(row: dict[str, Any]) -> str:
        if row["baseline"] is None:
            return "no baseline"
        return f"{row['change']:+.2%}" + (" **regressed**" if row["regressed"] else "")

    return markdown_table(
        ["function", "baseline instructions", "now", "change"],
        ([row["function"], row["baseline"], row["now"], cell(row)] for row in rows),
        align="lrrr",
    )


def record(jobs: int) -> None:
    functions = sorted(built_code_dirs())
    print(f"callgrind: {len(functions)} functions, {jobs} at a time ...", file=sys.stderr)
    measured = measure(functions, jobs)
    data = {
        "measured_at": harness.utc_now(),
        **versions(),
        "how": "callgrind: python -S -B -c 'import app' minus -c pass (benchmarks/import_instructions.py)",
        "pinned": PINNED_ENV,
        "startup_instructions": measured.pop(STARTUP),
        "functions": dict(sorted(measured.items())),
    }
    BASELINE.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {BASELINE.relative_to(ROOT)}", file=sys.stderr)


def check(functions: list[str], jobs: int, tolerance: float) -> int:
    baseline = json.loads(BASELINE.read_text())
    if baseline.get("python") != platform.python_version():
        print(f"note: baseline from Python {baseline.get('python')}, this is {platform.python_version()}")
    rows = compare(baseline["functions"], measure(functions, jobs), tolerance)
    print(report(rows))
    failed = [row["function"] for row in rows if row["regressed"]]
    if failed:
        print(
            f"\nimport instructions regressed by more than {tolerance:.0%} (or have no baseline): {failed}. "
            "Find the new import (python -X importtime), or, if the increase is intended, run "
            "`make bench-imports-record` and commit benchmarks/import-instructions.json."
        )
        return 1
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["record", "check"])
    parser.add_argument("--functions", default=",".join(CI_SUBSET), help="check only: comma-separated folder names")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("IMPORT_CHECK_JOBS", os.cpu_count() or 2)))
    parser.add_argument("--tolerance", type=float, default=TOLERANCE)
    parser.add_argument("--build", action="store_true", help="run infra/build.sh first (make test does)")
    args = parser.parse_args()
    if args.build:
        subprocess.run([str(ROOT / "infra" / "build.sh")], cwd=ROOT, check=True)  # noqa: S603 - our own script
    if args.action == "record":
        record(args.jobs)
    else:
        sys.exit(check([name for name in args.functions.split(",") if name], args.jobs, args.tolerance))


if __name__ == "__main__":
    main()
