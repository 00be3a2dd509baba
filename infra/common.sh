# Shared environment for the local-stack scripts. Sourced, never executed.
# Everything the scripts create lives under .local/ (git-ignored): venvs, pids, logs, state, the API URL.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL_DIR="$ROOT/.local"
PID_DIR="$LOCAL_DIR/pids"
LOG_DIR="$LOCAL_DIR/logs"
mkdir -p "$PID_DIR" "$LOG_DIR"

VENV="${VENV:-$ROOT/.venv}"
MINISTACK_VENV="$LOCAL_DIR/ministack-venv"
SECURITY_VENV="$LOCAL_DIR/security-venv"  # checkov and bandit (infra/requirements-security.txt)
PYTHON_BOOT="${PYTHON_BOOT:-python3.11}"
command -v "$PYTHON_BOOT" >/dev/null 2>&1 || PYTHON_BOOT=python3

export SAM_CLI_TELEMETRY=0
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_REGION="$AWS_DEFAULT_REGION"
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}"
export STACK_NAME="${STACK_NAME:-taskapp}"
export STAGE="${STAGE:-local}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
# The local broker. The template has no default URL (credentials): deploy.sh passes this one, and the tools
# that publish with the functions' code (make replay-dlq) connect with it.
export RABBITMQ_URL="${RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672/%2F}"

log() { printf '\033[1;34m[%s]\033[0m %s\n' "$(basename "$0")" "$*" >&2; }
die() { printf '\033[1;31m[%s] error:\033[0m %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# wait_for NAME SECONDS COMMAND...: poll until COMMAND succeeds or fail loudly.
wait_for() {
  local name="$1" seconds="$2"; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "$name did not become ready within ${seconds}s (logs: $LOG_DIR)"
    sleep 0.2
  done
}

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pidfile FILE NAME: stop a process we started (TERM, then KILL), and forget it.
stop_pidfile() {
  local file="$1" name="$2" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}
