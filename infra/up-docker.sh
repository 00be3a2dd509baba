#!/usr/bin/env bash
# The Docker path (make up-docker): compose up LocalStack, Redis, RabbitMQ and Kafka, deploy the stack to LocalStack,
# start the event-source bridge when this checkout has one, then run the e2e suite against LocalStack's API URL.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

command -v docker >/dev/null || die "docker is not installed; without Docker use: make run"
docker info >/dev/null 2>&1 || die "no Docker engine answers; without Docker use: make run"
[ -n "${LOCALSTACK_AUTH_TOKEN:-}" ] || die "set LOCALSTACK_AUTH_TOKEN (LocalStack refuses to start without it)"

log "docker compose up (waits for every health check)"
docker compose -f docker-compose.localstack.yml up -d --wait

export STACK_NAME="${STACK_NAME:-taskapp}" STAGE="${STAGE:-local}"
# Functions run in LocalStack's containers on the compose network: they reach Redis by service name.
export LAMBDA_REDIS_URL="${LAMBDA_REDIS_URL:-redis://redis:6379/0}"
"$ROOT/infra/deploy.sh" >/dev/null
export API_BASE_URL="$(cat "${API_URL_FILE:-$LOCAL_DIR/api-url}")"
log "API on LocalStack: $API_BASE_URL"

if [ -x "$ROOT/infra/bridge.sh" ]; then
  log "starting the event-source bridge"
  KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5672/%2F "$ROOT/infra/bridge.sh" start
fi

[ "${SKIP_E2E:-0}" = 1 ] || "$ROOT/infra/pytest.sh" tests/e2e -q
