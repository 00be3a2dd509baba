#!/usr/bin/env bash
# sam build, then compile every module of the build to bytecode that ships with it.
#
# Why: Lambda unpacks a function and its layers into read-only folders (/var/task, /opt), so CPython cannot write
# the __pycache__ it would normally keep: without .pyc files in the artifact, every cold start compiles the whole
# layer from source again (get_task: ~3x its import from bytecode, benchmarks/perf_budget.md). `sam build` ships
# none. The bytecode is "unchecked-hash": valid whatever timestamps the zip carries, and never revalidated against
# the source, so this script recompiles everything (-f) after every build; tests/build checks that each .pyc holds
# the hash of the source beside it, so stale bytecode cannot ship.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

BUILD_DIR="$ROOT/.aws-sam/build"
runtime="$(sed -n 's/^ *Runtime: *python\([0-9.]*\).*/\1/p' template.yaml | head -1)"
venv_version="$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[ "$runtime" = "$venv_version" ] || die "template.yaml runs python$runtime but $VENV is Python $venv_version: bytecode would not match"

log "sam build"
"$VENV/bin/sam" build --parallel --cached >"$LOG_DIR/sam-build.log" 2>&1 || { tail -40 "$LOG_DIR/sam-build.log"; die "sam build failed"; }

log "compiling the build to bytecode (unchecked-hash, python$runtime)"
PYTHONDONTWRITEBYTECODE= "$VENV/bin/python" -m compileall -q -f -j 0 --invalidation-mode unchecked-hash "$BUILD_DIR" \
  >"$LOG_DIR/compileall.log" 2>&1 || { tail -40 "$LOG_DIR/compileall.log"; die "compileall failed"; }
