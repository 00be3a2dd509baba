#!/usr/bin/env bash
# Static checks: ruff, mypy, and both SAM validations (the translator, then cfn-lint's schema checks).
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
# explicit_package_bases maps functions/<name>/app.py to distinct modules, so one run checks everything.
"$VENV/bin/mypy" layers/shared/taskapp functions tests infra benchmarks
"$VENV/bin/sam" validate
"$VENV/bin/sam" validate --lint
