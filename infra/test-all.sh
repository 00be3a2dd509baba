#!/usr/bin/env bash
# The whole test run from nothing: venvs, static checks, unit tests, then the real servers and a deployed stack
# for integration and e2e tests. Stops whatever it started, even when a step fails.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

export STACK_NAME="${TEST_STACK_NAME:-taskapp-test}"
export STAGE=test
export BCRYPT_ROUNDS="${BCRYPT_ROUNDS:-4}"
export API_URL_FILE="$LOCAL_DIR/api-url-test"
# Every e2e/load/fuzz request comes from 127.0.0.1, and the fuzzer repeats emails and refreshes: deploy the test
# stack with generous limits. The limits themselves are proven by tests/unit/test_rate_limit.py and
# tests/integration/test_rate_limit_redis.py.
export RATE_LIMIT_USER_PER_MINUTE="${RATE_LIMIT_USER_PER_MINUTE:-100000}"
export RATE_LIMIT_REGISTRATIONS_PER_IP="${RATE_LIMIT_REGISTRATIONS_PER_IP:-100000}"
export RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT="${RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT:-100000}"
export RATE_LIMIT_LOGIN_FAILURES_PER_IP="${RATE_LIMIT_LOGIN_FAILURES_PER_IP:-100000}"
export RATE_LIMIT_REFRESHES_PER_SESSION="${RATE_LIMIT_REFRESHES_PER_SESSION:-100000}"
# Private RabbitMQ names, so a `make run` stack's bridge on the same broker never takes the test stack's messages.
export EXTRA_PARAMETER_OVERRIDES="${EXTRA_PARAMETER_OVERRIDES:-EventsExchange=task.events.test NotificationsQueue=task.notifications.test}"
# Webhook retries in seconds, few attempts and a short timeout, so tests/e2e/test_webhooks.py sees every path
# (retry, dead letter, auto-disable, hang) in ~20 s per test; it refuses a stack deployed without them.
WEBHOOK_TEST_PARAMETERS="WebhookRetryBaseSeconds=1 WebhookRetryMaxSeconds=2 WebhookMaxAttempts=4"
WEBHOOK_TEST_PARAMETERS="$WEBHOOK_TEST_PARAMETERS WebhookDisableAfterFailures=2 WebhookTimeoutSeconds=2"
export EXTRA_PARAMETER_OVERRIDES="$EXTRA_PARAMETER_OVERRIDES ${WEBHOOK_TEST_OVERRIDES:-$WEBHOOK_TEST_PARAMETERS}"

started_services=0
started_private=0
started_bridge=0
cleanup() {
  local rc=$?
  if [ "$started_bridge" -eq 1 ]; then "$ROOT/infra/bridge.sh" stop || true; fi
  if [ "$started_private" -eq 1 ]; then "$ROOT/infra/private-servers.sh" down || true; fi
  if [ "$started_services" -eq 1 ]; then "$ROOT/infra/services.sh" down || true; fi
  exit "$rc"
}
trap cleanup EXIT INT TERM

"$ROOT/infra/bootstrap.sh"

log "static checks"
"$ROOT/infra/lint.sh"

log "unit tests"
"$ROOT/infra/pytest.sh" tests/unit -q

# Start only what is not already running; remember to stop it afterwards.
before="$(ls "$PID_DIR" 2>/dev/null | sort | tr '\n' ' ')"
"$ROOT/infra/services.sh" up
after="$(ls "$PID_DIR" 2>/dev/null | sort | tr '\n' ' ')"
[ "$before" = "$after" ] || started_services=1

# The test stack gets a Redis, a Kafka broker (durable Tansu on MiniStack's S3) and a RabbitMQ node of its own on
# other ports (infra/private-servers.sh): the fault suite and the outage tests stop and kill them mid-stream,
# which must never hit the machine's shared servers that `make run` stacks and other sessions use.
started_private=1
"$ROOT/infra/private-servers.sh" up
while IFS='=' read -r name value; do
  case "$name" in REDIS_URL) stack_redis="$value" ;; KAFKA_BOOTSTRAP_SERVERS) stack_kafka="$value" ;;
    RABBITMQ_URL) stack_rabbitmq="$value" ;; esac
done < <("$ROOT/infra/private-servers.sh" env)
export LAMBDA_REDIS_URL="$stack_redis" LAMBDA_RABBITMQ_URL="$stack_rabbitmq"
export EXTRA_PARAMETER_OVERRIDES="$EXTRA_PARAMETER_OVERRIDES KafkaBootstrapServers=$stack_kafka"
# What the tests that talk to the stack's brokers directly use (tests/integration/events).
export STACK_KAFKA_BOOTSTRAP_SERVERS="$stack_kafka" STACK_RABBITMQ_URL="$stack_rabbitmq"
export STACK_RABBITMQCTL="$ROOT/infra/private-servers.sh rabbitmqctl"

"$ROOT/infra/deploy.sh" >/dev/null
log "sam build parity (static checks of .aws-sam/build)"
"$ROOT/infra/pytest.sh" tests/build -q
export API_BASE_URL="$(cat "$API_URL_FILE")"
# The e2e tests forge an expired-but-genuine token with the deployed key (deploy.sh wrote it).
export E2E_JWT_SECRET_FILE="$LOCAL_DIR/jwt-secret"
[ -s "$E2E_JWT_SECRET_FILE" ] || die "deploy.sh left no JWT secret at $E2E_JWT_SECRET_FILE"
# The event-source bridge feeds the test stack's Kafka and RabbitMQ functions (MiniStack does not poll them).
started_bridge=1
KAFKA_BOOTSTRAP_SERVERS="$stack_kafka" RABBITMQ_URL="$stack_rabbitmq" "$ROOT/infra/bridge.sh" start
log "integration and e2e tests against $API_BASE_URL"
"$ROOT/infra/pytest.sh" tests/integration -q
"$ROOT/infra/pytest.sh" tests/e2e -q
log "resilience: schemathesis against the in-process API"
"$ROOT/infra/pytest.sh" tests/resilience -q -p no:cacheprovider
