#!/usr/bin/env bash
# Run one pytest suite; "no tests collected" (exit 5) is a failure, never a pass.
set -uo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
"$VENV/bin/python" -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests for: $*" >&2
  exit 1
fi
exit "$rc"
