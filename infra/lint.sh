#!/usr/bin/env bash
# Static checks: ruff, mypy, both SAM validations (the translator, then cfn-lint's schema checks), and the security
# scanners: checkov on the template (accepted findings: .checkov.yaml, docs/hardening.md) and bandit on our code.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
# explicit_package_bases maps functions/<name>/app.py to distinct modules, so one run checks everything.
"$VENV/bin/mypy" layers/shared/taskapp functions tests infra benchmarks
"$VENV/bin/sam" validate
"$VENV/bin/sam" validate --lint
# Any finding not accepted in .checkov.yaml / pyproject.toml fails the run.
"$SECURITY_VENV/bin/checkov" --config-file .checkov.yaml --quiet --compact
"$SECURITY_VENV/bin/bandit" -c pyproject.toml -q -r layers functions infra
