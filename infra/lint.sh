#!/usr/bin/env bash
# Static checks: ruff, mypy, and both SAM validations (the translator, then cfn-lint's schema checks).
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/mypy" layers/shared/taskapp infra tests
# Every function module is called app.py: check each on its own so mypy sees no duplicate module names.
for fn in functions/*/app.py; do "$VENV/bin/mypy" --no-error-summary "$fn"; done
"$VENV/bin/sam" validate
"$VENV/bin/sam" validate --lint
