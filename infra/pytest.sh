#!/usr/bin/env bash
# Run one pytest suite; "no tests collected" (exit 5) is a failure, never a pass. Each run lists its slowest tests
# (2 s or more), so the suite that ends a CI stage last can be cut from that run's log.
set -uo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
"$VENV/bin/python" -m pytest --durations=12 --durations-min=2 "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests for: $*" >&2
  exit 1
fi
exit "$rc"
