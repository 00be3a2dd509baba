#!/usr/bin/env bash
# Start / stop the servers the stack needs on 127.0.0.1: Redis (reused if running) and MiniStack on 4566.
# `down` stops only what `up` started, by the pids recorded under .local/pids.
set -euo pipefail
source "$(dirname "$0")/common.sh"

start_redis() {
  if redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1; then
    log "redis already running at $REDIS_URL"; return 0
  fi
  command -v redis-server >/dev/null || die "redis-server is not installed (apt-get install -y redis-server)"
  log "starting redis on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir "$LOCAL_DIR" --logfile "$LOG_DIR/redis.log" --pidfile "$PID_DIR/redis.pid"
  wait_for redis 10 redis-cli -u "$REDIS_URL" ping
}

start_ministack() {
  if curl -fsS "$AWS_ENDPOINT_URL/_localstack/health" >/dev/null 2>&1; then
    log "an AWS-compatible stack already answers at $AWS_ENDPOINT_URL; reusing it"; return 0
  fi
  tcp_open 127.0.0.1 4566 && die "port 4566 is taken by something that is not a local AWS stack"
  [ -x "$MINISTACK_VENV/bin/ministack" ] || die "MiniStack is not installed: run infra/bootstrap.sh"
  mkdir -p "$LOCAL_DIR/ministack/tmp" "$LOCAL_DIR/ministack/s3" "$LOCAL_DIR/ministack/state"
  log "starting MiniStack on 127.0.0.1:4566"
  GATEWAY_PORT=4566 BIND_HOST=127.0.0.1 TMPDIR="$LOCAL_DIR/ministack/tmp" \
    S3_DATA_DIR="$LOCAL_DIR/ministack/s3" STATE_DIR="$LOCAL_DIR/ministack/state" \
    nohup "$MINISTACK_VENV/bin/ministack" >"$LOG_DIR/ministack.log" 2>&1 &
  echo $! >"$PID_DIR/ministack.pid"
  wait_for MiniStack 30 curl -fsS "$AWS_ENDPOINT_URL/_localstack/health"
}

case "${1:-up}" in
  up)
    start_redis
    start_ministack
    ;;
  down)
    stop_pidfile "$PID_DIR/ministack.pid" MiniStack
    if [ -f "$PID_DIR/redis.pid" ]; then stop_pidfile "$PID_DIR/redis.pid" redis; fi
    ;;
  *) die "usage: $0 up|down" ;;
esac
