#!/usr/bin/env bash
# Create (or refresh) the project's virtual environments from the pinned requirement files.
# Idempotent and fast when nothing changed: a stamp records the hash of the requirement files.
set -euo pipefail
source "$(dirname "$0")/common.sh"

install_venv() {
  local venv="$1"; shift
  local stamp="$venv/.requirements.sha256" want
  want="$(cat "$@" | sha256sum | cut -d' ' -f1)"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  log "installing $(basename "$venv") from $*"
  [ -x "$venv/bin/python" ] || "$PYTHON_BOOT" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  local args=()
  for file in "$@"; do args+=(-r "$file"); done
  "$venv/bin/python" -m pip install --quiet "${args[@]}"
  echo "$want" >"$stamp"
}

cd "$ROOT"
install_venv "$VENV" requirements-dev.txt layers/shared/requirements.txt
install_venv "$MINISTACK_VENV" infra/requirements-ministack.txt
install_venv "$SECURITY_VENV" infra/requirements-security.txt
