#!/usr/bin/env bash
# Start / stop the servers the stack needs on 127.0.0.1: Redis, RabbitMQ (both reused if running), MiniStack on 4566
# and Kafka (Tansu, infra/kafka.sh; memory-only unless KAFKA_STORAGE=s3) on 9092. `down` stops only what `up`
# started, by the pids and markers recorded under .local/pids.
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

# RabbitMQ is a machine service (rabbitmq-server): start it only if it is down, and remember that we did so
# `down` stops it in that case only.
RABBITMQ_MARKER="$PID_DIR/rabbitmq.started-by-services"
start_rabbitmq() {
  if tcp_open 127.0.0.1 5672; then
    log "rabbitmq already running on 127.0.0.1:5672"; return 0
  fi
  command -v rabbitmq-server >/dev/null || die "rabbitmq-server is not installed (apt-get install -y rabbitmq-server)"
  log "starting rabbitmq (rabbitmq-server -detached)"
  rabbitmq-server -detached >>"$LOG_DIR/rabbitmq.log" 2>&1
  date -u +%FT%TZ >"$RABBITMQ_MARKER"
  wait_for RabbitMQ 90 tcp_open 127.0.0.1 5672
  rabbitmqctl await_startup >/dev/null 2>&1 || true
}

stop_rabbitmq() {
  [ -f "$RABBITMQ_MARKER" ] || return 0
  log "stopping rabbitmq (started by services.sh up)"
  rabbitmqctl stop >>"$LOG_DIR/rabbitmq.log" 2>&1 || true
  rm -f "$RABBITMQ_MARKER"
}

start_ministack() {
  if curl -fsS "$AWS_ENDPOINT_URL/_localstack/health" >/dev/null 2>&1; then
    log "an AWS-compatible stack already answers at $AWS_ENDPOINT_URL; reusing it"; return 0
  fi
  tcp_open 127.0.0.1 4566 && die "port 4566 is taken by something that is not a local AWS stack"
  [ -x "$MINISTACK_VENV/bin/ministack" ] || die "MiniStack is not installed: run infra/bootstrap.sh"
  mkdir -p "$LOCAL_DIR/ministack/tmp" "$LOCAL_DIR/ministack/s3" "$LOCAL_DIR/ministack/state"
  log "starting MiniStack on 127.0.0.1:4566"
  # Lambda concurrency (issue 17; MiniStack's lambda_svc): each in-flight invocation is one worker subprocess,
  # and MiniStack never queues: past LAMBDA_ACCOUNT_CONCURRENCY it throttles at once (TooManyRequestsException)
  # where its own default (half the RAM / 21 MiB: ~560 here) lets 200 connections start 200 workers that each
  # import the layer for ~2 s on 2 cores, pass the 10 s timeout and restart. Surplus workers a burst leaves
  # behind are kept LAMBDA_WARM_TTL_SECONDS (default 300) so the next burst reuses them instead of a cold start.
  GATEWAY_PORT=4566 BIND_HOST=127.0.0.1 TMPDIR="$LOCAL_DIR/ministack/tmp" \
    S3_DATA_DIR="$LOCAL_DIR/ministack/s3" STATE_DIR="$LOCAL_DIR/ministack/state" \
    LAMBDA_ACCOUNT_CONCURRENCY="${LAMBDA_ACCOUNT_CONCURRENCY:-32}" \
    LAMBDA_WARM_TTL_SECONDS="${LAMBDA_WARM_TTL_SECONDS:-900}" \
    nohup "$MINISTACK_VENV/bin/ministack" >"$LOG_DIR/ministack.log" 2>&1 &
  echo $! >"$PID_DIR/ministack.pid"
  wait_for MiniStack 30 curl -fsS "$AWS_ENDPOINT_URL/_localstack/health"
}

case "${1:-up}" in
  up)
    start_redis
    start_rabbitmq
    # MiniStack before Kafka: KAFKA_STORAGE=s3 keeps the broker's data in MiniStack's S3.
    start_ministack
    "$ROOT/infra/kafka.sh" up
    ;;
  down)
    if [ -f "$PID_DIR/ministack.pid" ]; then
      stop_pidfile "$PID_DIR/ministack.pid" MiniStack
      # MiniStack's warm Lambda workers outlive it (a stopped MiniStack left 57 of them here); they all run from
      # this checkout's own TMPDIR, so matching that path stops ours and nobody else's.
      pkill -f "$LOCAL_DIR/ministack/tmp/ministack-lambda-" 2>/dev/null || true
    fi
    "$ROOT/infra/kafka.sh" down
    stop_rabbitmq
    if [ -f "$PID_DIR/redis.pid" ]; then stop_pidfile "$PID_DIR/redis.pid" redis; fi
    ;;
  *) die "usage: $0 up|down" ;;
esac
