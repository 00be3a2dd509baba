#!/usr/bin/env bash
# Run the event-source bridge (python -m infra.bridge) in the background for $STACK_NAME.
#   start   start it unless it already runs, and wait until it reports ready (every consumer connected)
#   stop    stop it (SIGTERM: it finishes or abandons the batch in flight, leaves the Kafka group, exits)
#   status  say whether it runs and is ready
#   logs    follow its JSON-lines log
# Optional: TEMPLATE (default template.yaml), BRIDGE_READY_TIMEOUT (s, default 150), and the bridge's own env
# (KAFKA_BOOTSTRAP_SERVERS, RABBITMQ_URL, BRIDGE_MAX_RETRIES, ...; see docs/bridge.md).
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

TEMPLATE="${TEMPLATE:-template.yaml}"
PID_FILE="$PID_DIR/bridge-$STACK_NAME.pid"
LOG_FILE="$LOG_DIR/bridge-$STACK_NAME.log"
READY_FILE="$LOCAL_DIR/run/bridge-$STACK_NAME.ready"
READY_TIMEOUT="${BRIDGE_READY_TIMEOUT:-150}"
STOP_TIMEOUT="${BRIDGE_STOP_TIMEOUT:-40}"

# SIGTERM lets the bridge finish (or abandon, uncommitted) the batch in flight and leave its Kafka group cleanly,
# which spares the next bridge a session timeout; KILL only if it does not exit within STOP_TIMEOUT seconds.
stop() {
  if pid_alive "$PID_FILE"; then
    local pid; pid="$(cat "$PID_FILE")"
    log "stopping the bridge for $STACK_NAME (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((STOP_TIMEOUT * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE" "$READY_FILE"
}

start() {
  if pid_alive "$PID_FILE"; then
    log "bridge for $STACK_NAME already running (pid $(cat "$PID_FILE"))"; return 0
  fi
  rm -f "$READY_FILE"
  mkdir -p "$(dirname "$READY_FILE")"
  log "starting the event-source bridge for stack $STACK_NAME ($TEMPLATE); log: $LOG_FILE"
  nohup "$VENV/bin/python" -m infra.bridge --stack-name "$STACK_NAME" --template "$TEMPLATE" \
    --ready-file "$READY_FILE" >>"$LOG_FILE" 2>&1 &
  echo $! >"$PID_FILE"
  local deadline=$((SECONDS + READY_TIMEOUT))
  until [ -f "$READY_FILE" ]; do
    if ! pid_alive "$PID_FILE"; then
      tail -20 "$LOG_FILE" >&2; rm -f "$PID_FILE"; die "the bridge exited before it was ready"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -20 "$LOG_FILE" >&2; stop; die "the bridge was not ready within ${READY_TIMEOUT}s"
    fi
    sleep 0.2
  done
  log "bridge ready (pid $(cat "$PID_FILE"))"
}

status() {
  if pid_alive "$PID_FILE"; then
    local state=starting
    [ -f "$READY_FILE" ] && state=ready
    echo "bridge for $STACK_NAME: running (pid $(cat "$PID_FILE"), $state), log $LOG_FILE"
  else
    echo "bridge for $STACK_NAME: not running"; return 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  logs) touch "$LOG_FILE"; exec tail -n 50 -F "$LOG_FILE" ;;
  *) die "usage: $0 start|stop|status|logs" ;;
esac
