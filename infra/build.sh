#!/usr/bin/env bash
# sam build, then trim the layer and compile every module of the build to bytecode that ships with it.
#
# Why: Lambda unpacks a function and its layers into read-only folders (/var/task, /opt), so CPython cannot write
# the __pycache__ it would normally keep: without .pyc files in the artifact, every cold start compiles the whole
# layer from source again (get_task: 4.6x its import from bytecode, benchmarks/perf_budget.md), and plain
# `sam build` ships none. The bytecode is "unchecked-hash": valid whatever timestamps the zip carries, and never
# revalidated against the source, so this script recompiles everything (-f) after every build; tests/build checks
# that each .pyc holds the hash of the source beside it, so stale bytecode cannot ship.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

BUILD_DIR="$ROOT/.aws-sam/build"
runtime="$(sed -n 's/^ *Runtime: *python\([0-9.]*\).*/\1/p' template.yaml | head -1)"
venv_version="$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[ "$runtime" = "$venv_version" ] || die "template.yaml runs python$runtime but $VENV is Python $venv_version: bytecode would not match"

log "sam build"
"$VENV/bin/sam" build --parallel --cached >"$LOG_DIR/sam-build.log" 2>&1 || { tail -40 "$LOG_DIR/sam-build.log"; die "sam build failed"; }

# Service models no function uses: removed, so no cold start unpacks them (infra/layer-botocore-services.txt).
data_dir="$BUILD_DIR/SharedLayer/python/botocore/data"
[ -d "$data_dir/dynamodb" ] || die "$data_dir has no dynamodb model: did the layer build change?"
keep=" $(sed -e 's/#.*//' "$ROOT/infra/layer-botocore-services.txt" | xargs) "
for service_dir in "$data_dir"/*/; do
  service="$(basename "$service_dir")"
  [[ "$keep" == *" $service "* ]] || rm -rf "$service_dir"
done

log "compiling the build to bytecode (unchecked-hash, python$runtime)"
PYTHONDONTWRITEBYTECODE= "$VENV/bin/python" -m compileall -q -f -j 0 --invalidation-mode unchecked-hash "$BUILD_DIR" \
  >"$LOG_DIR/compileall.log" 2>&1 || { tail -40 "$LOG_DIR/compileall.log"; die "compileall failed"; }

# Third-party modules ship as bytecode alone: half the layer's files, which every new worker unpacks first
# (infra/layer_sourceless.py says why). taskapp keeps its source, for tracebacks with lines.
log "layer: $("$VENV/bin/python" -m infra.layer_sourceless "$BUILD_DIR/SharedLayer/python" taskapp)"
