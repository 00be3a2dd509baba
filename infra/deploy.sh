#!/usr/bin/env bash
# Build and deploy template.yaml to the AWS-compatible endpoint in AWS_ENDPOINT_URL (MiniStack or LocalStack),
# then print the API's base URL and write it to .local/api-url for tools and tests.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

SECRET_FILE="$LOCAL_DIR/jwt-secret"
[ -s "$SECRET_FILE" ] || (umask 077 && "$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(48))' >"$SECRET_FILE")

"$ROOT/infra/build.sh"

overrides=(
  "Stage=$STAGE"
  "JwtSecret=$(cat "$SECRET_FILE")"
  "RedisUrl=${LAMBDA_REDIS_URL:-$REDIS_URL}"
  # The template has no broker credentials (in AWS they come from RabbitMqUrlSecretArn): local stacks pass theirs.
  "RabbitMqUrl=${LAMBDA_RABBITMQ_URL:-$RABBITMQ_URL}"
  "BcryptRounds=${BCRYPT_ROUNDS:-11}"
  "TracingDisabled=true"
  "LogLevel=${LOG_LEVEL:-INFO}"
  # MiniStack ignores the gateway responses SAM writes into the API body; it applies them as resources.
  "ExplicitGatewayResponses=true"
  # Local stacks deliver webhooks to receivers on this machine (tests, `make run` demos): http://127.0.0.1.
  "WebhookAllowLoopbackHttp=true"
)
# The web app (docs/web.md): no CloudFront locally; the bucket gets a fixed name so its origin (MiniStack's
# virtual-hosted S3 address) is known to the CORS rules before the deploy. Vite's dev server (make web-dev) too.
web_bucket="${WEB_BUCKET_NAME:-$STACK_NAME-web}"
endpoint_port="${AWS_ENDPOINT_URL##*:}"
overrides+=(
  "WebCdn=false"
  "WebBucketName=$web_bucket"
  "WebOrigins=http://$web_bucket.s3.localhost:${endpoint_port%%/*}${WEB_DEV_ORIGINS-,http://localhost:5173,http://127.0.0.1:5173}"
)
# Empty values are not accepted by --parameter-overrides; unset means "the template's default".
[ -z "${LAMBDA_DYNAMODB_ENDPOINT:-}" ] || overrides+=("DynamoDbEndpoint=$LAMBDA_DYNAMODB_ENDPOINT")
# Optional settings: each a template parameter and the variable that sets it. Unset means the template's default,
# passed explicitly: on an update SAM keeps a parameter's previous value (UsePreviousValue) unless it is overridden,
# so a stack once deployed with a stage throttle or a test stack's raised rate limits would silently keep them.
# - Rate limits: the test stack is hammered from one IP by e2e, load and fuzz runs, so test-all.sh raises them.
# - Throughput (issue 17): the stage's throttle (fast 429 THROTTLED in the error shape) and reserved concurrency per
#   function class (the template's defaults: no stage throttle, no reservation).
optional=(
  RateLimitUserPerMinute:RATE_LIMIT_USER_PER_MINUTE
  RateLimitRegistrationsPerIp:RATE_LIMIT_REGISTRATIONS_PER_IP
  RateLimitLoginFailuresPerAccount:RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT
  RateLimitLoginFailuresPerIp:RATE_LIMIT_LOGIN_FAILURES_PER_IP
  RateLimitRefreshesPerSession:RATE_LIMIT_REFRESHES_PER_SESSION
  ApiThrottlingRateLimit:API_THROTTLING_RATE_LIMIT
  ApiThrottlingBurstLimit:API_THROTTLING_BURST_LIMIT
  ApiReservedConcurrency:API_RESERVED_CONCURRENCY
  AuthorizerReservedConcurrency:AUTHORIZER_RESERVED_CONCURRENCY
  ConsumerReservedConcurrency:CONSUMER_RESERVED_CONCURRENCY
)
declare -A template_default=()
while IFS='=' read -r parameter value; do
  template_default[$parameter]="$value"
done < <("$VENV/bin/python" -c '
from infra.sam_template import SamTemplate, TEMPLATE_PATH
for name, value in SamTemplate(TEMPLATE_PATH).parameter_defaults.items():
    print(f"{name}={value}")')
for pair in "${optional[@]}"; do
  parameter="${pair%%:*}" variable="${pair#*:}"
  [ -n "${template_default[$parameter]+set}" ] || die "template.yaml has no default for $parameter"
  overrides+=("$parameter=${!variable:-${template_default[$parameter]}}")
done
# Extra Key=Value overrides, space separated (e.g. private broker names for a second stack on one RabbitMQ).
# shellcheck disable=SC2206
[ -z "${EXTRA_PARAMETER_OVERRIDES:-}" ] || overrides+=($EXTRA_PARAMETER_OVERRIDES)

log "sam deploy (stack $STACK_NAME) to $AWS_ENDPOINT_URL"
"$VENV/bin/sam" deploy \
  --stack-name "$STACK_NAME" --region "$AWS_DEFAULT_REGION" \
  --resolve-s3 --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
  --no-confirm-changeset --no-fail-on-empty-changeset --no-progressbar \
  --parameter-overrides "${overrides[@]}" \
  >"$LOG_DIR/sam-deploy.log" 2>&1 || { tail -60 "$LOG_DIR/sam-deploy.log"; die "sam deploy failed"; }

# MiniStack's CloudFormation ignores ReservedConcurrentExecutions and its Lambda API enforces it: set it there too.
"$VENV/bin/python" -m infra.reserved_concurrency --stack-name "$STACK_NAME" >"$LOG_DIR/reserved-concurrency.log" 2>&1 ||
  log "warning: reserved concurrency not applied (see $LOG_DIR/reserved-concurrency.log)"

# Every local stack declares the same sender identity (NotificationSenderEmail's default), and MiniStack keeps one
# identity per address: deleting any one stack deletes it for all, and an update does not recreate it, so every
# email then fails "not verified". Make sure this stack's sender exists (idempotent; AWS verifies it by mail).
"$VENV/bin/python" - >"$LOG_DIR/ses-identity-$STACK_NAME.log" 2>&1 <<'PY' || log "warning: SES sender identity not checked (see $LOG_DIR/ses-identity-$STACK_NAME.log)"
import os
import boto3
from infra.stack import Stack
parameters = {p["ParameterKey"]: p["ParameterValue"] for p in Stack(os.environ["STACK_NAME"]).description().get("Parameters") or []}
sender = parameters["NotificationSenderEmail"]
ses = boto3.client("sesv2")
try:
    ses.get_email_identity(EmailIdentity=sender)
    print(f"{sender}: present")
except ses.exceptions.NotFoundException:
    ses.create_email_identity(EmailIdentity=sender)
    print(f"{sender}: created (a stack deleted earlier had taken it)")
PY

api_id="$("$VENV/bin/python" -m infra.stack --stack-name "$STACK_NAME" output ApiId)"
api_url="$AWS_ENDPOINT_URL/_aws/execute-api/$api_id/$STAGE"
echo "$api_url" >"${API_URL_FILE:-$LOCAL_DIR/api-url}"
# After an update MiniStack restarts each function's worker: the first /health pays a cold start, which takes
# well over 10 s on a busy 2-core machine. Bound each try, and give the whole wait room for that.
wait_for "the deployed API" "${DEPLOY_READY_TIMEOUT:-180}" curl -fsS -m 60 -o /dev/null "$api_url/health"
log "API ready: $api_url"

# The outbox publisher declares the RabbitMQ topology with its first event. Declaring it now, with the deployed
# function's own settings, lets the bridge consume and /health report queue depths from the start.
if "$VENV/bin/python" - >"$LOG_DIR/rabbitmq-declare-$STACK_NAME.log" 2>&1 <<'PY'
import os, subprocess, sys
import boto3
from infra.stack import Stack
name = Stack(os.environ["STACK_NAME"]).physical_id("OutboxPublisherFunction")
function_env = boto3.client("lambda").get_function_configuration(FunctionName=name)["Environment"]["Variables"]
env = {**os.environ, **function_env, "PYTHONPATH": os.path.join(os.getcwd(), "layers", "shared")}
sys.exit(subprocess.run([sys.executable, "-m", "taskapp.messaging.rabbitmq", "declare"], env=env, check=False).returncode)
PY
then
  log "RabbitMQ topology declared (queues of stack $STACK_NAME)"
else
  log "RabbitMQ topology not declared (the outbox publisher will declare it): $LOG_DIR/rabbitmq-declare-$STACK_NAME.log"
fi
echo "$api_url"
