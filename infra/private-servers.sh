#!/usr/bin/env bash
# Private Redis, Kafka (durable Tansu on S3) and RabbitMQ servers for one stack, on their own ports, which a fault
# test may stop, kill and restart without touching the machine's shared servers (Redis 6379, RabbitMQ 5672, Kafka
# 9092) that other stacks and sessions use.
#   up                      start all three (each reused if ours already runs)
#   down                    stop all three and delete their data (PRIVATE_DIR)
#   start|stop SERVER       SERVER = redis | kafka | rabbitmq; stop is a clean shutdown
#   kill kafka              SIGKILL the broker (a crash: only what it had acknowledged must survive)
#   env                     print REDIS_URL=, KAFKA_BOOTSTRAP_SERVERS=, RABBITMQ_URL= for these servers
#   rabbitmqctl ARGS...     rabbitmqctl against the private node (e.g. stop_app, start_app, list_queues)
# Options: PRIVATE_NAME (default $STACK_NAME), PRIVATE_REDIS_PORT (6390), PRIVATE_KAFKA_PORT (19092),
# PRIVATE_RABBITMQ_PORT (5673), PRIVATE_RABBITMQ_DIST_PORT (25673). Redis keeps nothing on disk (like the machine's);
# Kafka keeps everything in MiniStack's S3 (bucket tansu-<PRIVATE_NAME>, so MiniStack must be up); the RabbitMQ node
# (name <PRIVATE_NAME>@localhost, its own cookie, mnesia and logs under PRIVATE_DIR) keeps its durable queues.
# Measured on the 2-CPU machine: RabbitMQ node ready in ~4 s, Redis and Tansu in well under 1 s.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

PRIVATE_NAME="${PRIVATE_NAME:-$STACK_NAME}"
PRIVATE_DIR="$LOCAL_DIR/private/$PRIVATE_NAME"
REDIS_PORT="${PRIVATE_REDIS_PORT:-6390}"
KAFKA_PORT_PRIVATE="${PRIVATE_KAFKA_PORT:-19092}"
RABBITMQ_PORT="${PRIVATE_RABBITMQ_PORT:-5673}"
RABBITMQ_DIST="${PRIVATE_RABBITMQ_DIST_PORT:-25673}"
NODE_NAME="$(printf '%s' "$PRIVATE_NAME" | tr -c 'A-Za-z0-9_-' '_')@localhost"
# The Debian wrappers in /usr/sbin switch to the rabbitmq user and its cookie; the real scripts run as anyone.
RABBITMQ_BIN="${RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}"
mkdir -p "$PRIVATE_DIR/rabbitmq"  # also the node's HOME: the CLI creates its cookie there

rabbit_env() {
  env HOME="$PRIVATE_DIR/rabbitmq" RABBITMQ_NODENAME="$NODE_NAME" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$RABBITMQ_PORT" RABBITMQ_DIST_PORT="$RABBITMQ_DIST" \
    RABBITMQ_MNESIA_BASE="$PRIVATE_DIR/rabbitmq/mnesia" RABBITMQ_LOG_BASE="$PRIVATE_DIR/rabbitmq/log" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$PRIVATE_DIR/rabbitmq/enabled_plugins" \
    RABBITMQ_CONFIG_FILE="$PRIVATE_DIR/rabbitmq/rabbitmq" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$PRIVATE_DIR/rabbitmq/advanced.config" \
    RABBITMQ_PID_FILE="$PRIVATE_DIR/rabbitmq/pid" ERL_CRASH_DUMP="$LOG_DIR/erl_crash-$PRIVATE_NAME.dump" "$@"
}
rabbitmqctl_private() { rabbit_env "$RABBITMQ_BIN/rabbitmqctl" -n "$NODE_NAME" "$@"; }

# A port held by something that is not ours would silently serve another stack: refuse.
require_free() {
  if tcp_open 127.0.0.1 "$1"; then die "port $1 for the private $2 is taken by another process"; fi
}

start_redis() {
  if pid_alive "$PRIVATE_DIR/redis.pid"; then return 0; fi
  require_free "$REDIS_PORT" redis
  command -v redis-server >/dev/null || die "redis-server is not installed (apt-get install -y redis-server)"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$PRIVATE_DIR" --logfile "$PRIVATE_DIR/redis.log" --pidfile "$PRIVATE_DIR/redis.pid"
  wait_for "private redis" 10 redis-cli -p "$REDIS_PORT" ping
  log "private redis on 127.0.0.1:$REDIS_PORT"
}

start_kafka() {
  if pid_alive "$PRIVATE_DIR/kafka.pid"; then return 0; fi
  require_free "$KAFKA_PORT_PRIVATE" kafka
  KAFKA_PORT="$KAFKA_PORT_PRIVATE" KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$KAFKA_PORT_PRIVATE" KAFKA_STORAGE=s3 \
    KAFKA_S3_BUCKET="tansu-$(printf '%s' "$PRIVATE_NAME" | tr 'A-Z_' 'a-z-')" \
    KAFKA_PID_FILE="$PRIVATE_DIR/kafka.pid" KAFKA_LOG_FILE="$PRIVATE_DIR/kafka.log" "$ROOT/infra/kafka.sh" up
}

start_rabbitmq() {
  if rabbitmqctl_private -q status >/dev/null 2>&1; then return 0; fi
  require_free "$RABBITMQ_PORT" rabbitmq
  [ -x "$RABBITMQ_BIN/rabbitmq-server" ] || die "RabbitMQ scripts not found in $RABBITMQ_BIN (set RABBITMQ_BIN)"
  mkdir -p "$PRIVATE_DIR/rabbitmq"
  # No plugins: the management plugin alone doubles the start time, and nothing here needs it.
  echo "[]." >"$PRIVATE_DIR/rabbitmq/enabled_plugins"
  rabbit_env "$RABBITMQ_BIN/rabbitmq-server" -detached >>"$PRIVATE_DIR/rabbitmq-start.log" 2>&1
  wait_for "private rabbitmq" 60 tcp_open 127.0.0.1 "$RABBITMQ_PORT"
  rabbitmqctl_private await_startup >/dev/null
  log "private rabbitmq node $NODE_NAME on 127.0.0.1:$RABBITMQ_PORT"
}

stop_rabbitmq() {
  rabbitmqctl_private -q status >/dev/null 2>&1 || return 0
  log "stopping private rabbitmq node $NODE_NAME"
  rabbitmqctl_private shutdown >/dev/null 2>&1 || true
}

kill_pidfile() {
  [ -f "$1" ] || return 0
  kill -KILL "$(cat "$1")" 2>/dev/null || true
  rm -f "$1"
}

server="${2:-}"
case "${1:-}" in
  up) start_redis; start_kafka; start_rabbitmq ;;
  down)
    stop_rabbitmq
    stop_pidfile "$PRIVATE_DIR/kafka.pid" "private kafka"
    stop_pidfile "$PRIVATE_DIR/redis.pid" "private redis"
    rm -rf "$PRIVATE_DIR"
    ;;
  start)
    case "$server" in redis) start_redis ;; kafka) start_kafka ;; rabbitmq) start_rabbitmq ;; *) die "start redis|kafka|rabbitmq" ;; esac ;;
  stop)
    case "$server" in
      redis) stop_pidfile "$PRIVATE_DIR/redis.pid" "private redis" ;;
      kafka) stop_pidfile "$PRIVATE_DIR/kafka.pid" "private kafka" ;;
      rabbitmq) stop_rabbitmq ;;
      *) die "stop redis|kafka|rabbitmq" ;;
    esac ;;
  kill)
    [ "$server" = kafka ] || die "kill kafka (the others stop cleanly with stop)"
    kill_pidfile "$PRIVATE_DIR/kafka.pid" ;;
  env)
    echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
    echo "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_PORT_PRIVATE"
    echo "RABBITMQ_URL=amqp://guest:guest@127.0.0.1:$RABBITMQ_PORT/%2F"
    ;;
  rabbitmqctl) shift; rabbitmqctl_private "$@" ;;
  *) die "usage: $0 up|down|start SERVER|stop SERVER|kill kafka|env|rabbitmqctl ARGS" ;;
esac
