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

# TEST_PARALLEL=1 (the default) runs independent steps side by side: static checks, unit tests, the import
# instruction gate and the in-process fuzz together (none uses the test stack), then e2e beside the integration tests
# that leave the stack's servers alone, then the fault-heavy ones (tests/integration/events: they stop the stack's
# Redis, Kafka, RabbitMQ and bridge) alone. TEST_PARALLEL=0 runs every step one after the other, as before.
TEST_PARALLEL="${TEST_PARALLEL:-1}"
# What tests/integration/events does to the stack's servers would fail e2e requests made meanwhile.
FAULT_SUITE=tests/integration/events
# The event-source bridge's own tests (a fixture stack, topics, queues and bridges of their own) mostly wait on
# timeouts and redeliveries: ~30 s of CPU in ~160 s, the integration run's tail. In two runs of their own beside it,
# Kafka's apart from RabbitMQ's, the e2e stage ends when e2e does.
BRIDGE_SUITE=tests/integration/bridge
BRIDGE_KAFKA_TESTS=$BRIDGE_SUITE/test_bridge_kafka.py

started_services=0
started_private=0
started_bridge=0
bg_names=()
bg_pids=()
# start_bg NAME COMMAND...: run beside the next steps, in a process group of its own, output to a log file.
start_bg() {
  local name="$1"; shift
  log "$name: started beside the next steps (output when it ends; log $LOG_DIR/test-$name.log)"
  setsid "$@" >"$LOG_DIR/test-$name.log" 2>&1 &
  bg_names+=("$name")
  bg_pids+=("$!")
}
# wait_bg: wait for every background step, print its output, fail if one failed.
wait_bg() {
  local i rc failed=()
  for i in "${!bg_pids[@]}"; do
    rc=0
    wait "${bg_pids[$i]}" || rc=$?
    log "${bg_names[$i]}: exit $rc"
    cat "$LOG_DIR/test-${bg_names[$i]}.log"
    [ "$rc" -eq 0 ] || failed+=("${bg_names[$i]}")
  done
  bg_names=()
  bg_pids=()
  [ "${#failed[@]}" -eq 0 ] || die "failed beside the other steps: ${failed[*]}"
}
# Builds first (deploy.sh's build is then a cache hit), then counts a few functions' import instructions. Beside the
# unit tests it runs niced with two jobs: the fuzz suite, the longest step of the stage, keeps its share of the CPU,
# and the counts (instructions, not time) finish on whatever core frees up first.
IMPORT_GATE=(nice -n 10 "$VENV/bin/python" -m benchmarks.import_instructions check --build --jobs "${IMPORT_CHECK_JOBS:-2}")
cleanup() {
  local rc=$? pid
  for pid in "${bg_pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  if [ "$started_bridge" -eq 1 ]; then "$ROOT/infra/bridge.sh" stop || true; fi
  if [ "$started_private" -eq 1 ]; then "$ROOT/infra/private-servers.sh" down || true; fi
  if [ "$started_services" -eq 1 ]; then "$ROOT/infra/services.sh" down || true; fi
  exit "$rc"
}
trap cleanup EXIT INT TERM

"$ROOT/infra/bootstrap.sh"

services_up() {
  # Start only what is not already running; remember to stop it afterwards.
  local before after
  before="$(ls "$PID_DIR" 2>/dev/null | sort | tr '\n' ' ')"
  "$ROOT/infra/services.sh" up
  after="$(ls "$PID_DIR" 2>/dev/null | sort | tr '\n' ' ')"
  [ "$before" = "$after" ] || started_services=1
}

if [ "$TEST_PARALLEL" = 1 ]; then
  services_up  # the fuzz suite's in-process API needs MiniStack and Redis
  start_bg lint "$ROOT/infra/lint.sh"
  start_bg import-instructions "${IMPORT_GATE[@]}"
  start_bg resilience "$ROOT/infra/pytest.sh" tests/resilience -q -p no:cacheprovider
  # Installing Chromium (apt: mostly download) took ~45 s of the browser suite's time at the end of the run.
  start_bg browser "$ROOT/infra/web-test.sh" browser
  log "unit tests (static checks, import instructions and the fuzz suite run beside them)"
  # Two pytest-xdist workers: the steps beside them end first, and one worker left the second core idle after.
  "$ROOT/infra/pytest.sh" tests/unit -q -p no:cacheprovider -n 2
  wait_bg
else
  log "static checks"
  "$ROOT/infra/lint.sh"
  log "unit tests"
  "$ROOT/infra/pytest.sh" tests/unit -q
  services_up
fi

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

# The web app's build (npm ci, vite) needs no stack: beside the deploy, which mostly waits on MiniStack.
[ "$TEST_PARALLEL" != 1 ] || start_bg web-build "$ROOT/infra/web.sh" build
"$ROOT/infra/deploy.sh" >/dev/null
[ "$TEST_PARALLEL" != 1 ] || wait_bg
# The web app in the stack's bucket before e2e (tests/e2e/test_web_edge.py reads it); web-test.sh reuses the build.
log "web app: build and upload to the stack's bucket"
"$ROOT/infra/web.sh" deploy >/dev/null
if [ "$TEST_PARALLEL" != 1 ]; then
  log "sam build parity (static checks of .aws-sam/build)"
  "$ROOT/infra/pytest.sh" tests/build -q
fi
export API_BASE_URL="$(cat "$API_URL_FILE")"
# The e2e tests forge an expired-but-genuine token with the deployed key (deploy.sh wrote it).
export E2E_JWT_SECRET_FILE="$LOCAL_DIR/jwt-secret"
[ -s "$E2E_JWT_SECRET_FILE" ] || die "deploy.sh left no JWT secret at $E2E_JWT_SECRET_FILE"
# The event-source bridge feeds the test stack's Kafka and RabbitMQ functions (MiniStack does not poll them).
started_bridge=1
KAFKA_BOOTSTRAP_SERVERS="$stack_kafka" RABBITMQ_URL="$stack_rabbitmq" "$ROOT/infra/bridge.sh" start
if [ "$TEST_PARALLEL" = 1 ]; then
  start_bg integration "$ROOT/infra/pytest.sh" tests/integration -q -p no:cacheprovider --ignore="$FAULT_SUITE" \
    --ignore="$BRIDGE_SUITE"
  start_bg bridge-kafka "$ROOT/infra/pytest.sh" "$BRIDGE_KAFKA_TESTS" -q -p no:cacheprovider
  start_bg bridge-rabbitmq "$ROOT/infra/pytest.sh" "$BRIDGE_SUITE" -q -p no:cacheprovider --ignore="$BRIDGE_KAFKA_TESTS"
  # Static checks of .aws-sam/build, which nothing rebuilds from here on: ~30 s that used the CPU e2e leaves idle.
  start_bg build-parity "$ROOT/infra/pytest.sh" tests/build -q -p no:cacheprovider
  log "e2e tests against $API_BASE_URL (the integration tests that leave the stack's servers alone run beside)"
  "$ROOT/infra/pytest.sh" tests/e2e -q -p no:cacheprovider
  wait_bg
  # The browser suite needs the bridge (bulk import, live notifications): before the fault suite stops it.
  log "web app: vitest, bundle budget, Playwright + axe, Lighthouse"
  "$ROOT/infra/web-test.sh"
  log "fault-heavy integration tests, alone ($FAULT_SUITE)"
  "$ROOT/infra/pytest.sh" "$FAULT_SUITE" -q
else
  log "integration and e2e tests against $API_BASE_URL"
  "$ROOT/infra/pytest.sh" tests/integration -q
  "$ROOT/infra/pytest.sh" tests/e2e -q
  log "web app: vitest, bundle budget, Playwright + axe, Lighthouse"
  "$ROOT/infra/web-test.sh"
  log "import instructions against benchmarks/import-instructions.json"
  "${IMPORT_GATE[@]}"
  log "resilience: schemathesis against the in-process API"
  "$ROOT/infra/pytest.sh" tests/resilience -q -p no:cacheprovider
fi
