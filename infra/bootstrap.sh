#!/usr/bin/env bash
# Create (or refresh) the project's virtual environments from the pinned requirement files.
# Idempotent and fast when nothing changed: a stamp records the hash of the requirement files.
#
# uv (pinned in infra/requirements-bootstrap.txt, installed by pip into a venv of its own) does the installing: on
# a clean clone, where CI pays for all three venvs, it takes ~25 s where pip took ~170 s. The three are
# independent, so they install side by side. Each venv is seeded with pip, for the tools that run `python -m pip`
# (sam build's Python workflow).
set -euo pipefail
source "$(dirname "$0")/common.sh"

UV_VENV="$LOCAL_DIR/uv-venv"
UV="$UV_VENV/bin/uv"

stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

ensure_uv() {
  local stamp="$UV_VENV/.requirements.sha256" want
  want="$(stamp_of infra/requirements-bootstrap.txt)"
  if [ -x "$UV" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  log "installing uv from infra/requirements-bootstrap.txt"
  [ -x "$UV_VENV/bin/python" ] || "$PYTHON_BOOT" -m venv "$UV_VENV"
  "$UV_VENV/bin/python" -m pip install --quiet -r infra/requirements-bootstrap.txt
  echo "$want" >"$stamp"
}

install_venv() {
  local venv="$1"; shift
  local stamp="$venv/.requirements.sha256" want
  want="$(stamp_of "$@")"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  log "installing $(basename "$venv") from $*"
  [ -x "$venv/bin/python" ] || "$UV" venv --quiet --seed --python "$(command -v "$PYTHON_BOOT")" "$venv"
  local args=()
  for file in "$@"; do args+=(-r "$file"); done
  "$UV" pip install --quiet --python "$venv/bin/python" "${args[@]}"
  echo "$want" >"$stamp"
}

cd "$ROOT"
ensure_uv
pids=()
install_venv "$VENV" requirements-dev.txt layers/shared/requirements.txt & pids+=("$!")
install_venv "$MINISTACK_VENV" infra/requirements-ministack.txt & pids+=("$!")
install_venv "$SECURITY_VENV" infra/requirements-security.txt & pids+=("$!")
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
[ "$failed" -eq 0 ] || die "a virtual environment failed to install (see above)"
