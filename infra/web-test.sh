#!/usr/bin/env bash
# The web app's whole check (issue 14) against a deployed stack: installs Chromium (Debian) and the npm packages if
# missing, runs the Vitest unit tests, builds, checks the JS budget, uploads to the stack's bucket, runs the
# Playwright + axe-core suite in real Chromium, then Lighthouse on the board with 200 tasks.
# Env: STACK_NAME (default taskapp), API_BASE_URL (default: the deployed stack's, from API_URL_FILE or .local/api-url).
# Screenshots: web/test-results/screens (CI artifact); WEB_SCREENSHOTS_TO_DOCS=1 also refreshes docs/screenshots.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
export CHROMIUM_PATH
if [ ! -x "$CHROMIUM_PATH" ]; then
  log "installing Chromium (Debian package; browser downloads cannot work here)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >"$LOG_DIR/apt-chromium.log" 2>&1 ||
    { apt-get update -q >>"$LOG_DIR/apt-chromium.log" 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >>"$LOG_DIR/apt-chromium.log" 2>&1; } ||
    die "could not install chromium (see $LOG_DIR/apt-chromium.log)"
fi
# `web-test.sh browser`: only the install above (make test runs it early, beside the unit tests).
[ "${1:-}" != browser ] || exit 0

export API_BASE_URL="${API_BASE_URL:-$(cat "${API_URL_FILE:-$LOCAL_DIR/api-url}" 2>/dev/null || true)}"
[ -n "$API_BASE_URL" ] || die "no API: deploy a stack first (make run) or set API_BASE_URL"

"$ROOT/infra/web.sh" build
cd "$ROOT/web"
log "vitest (API client, import parser)"
npx vitest run
log "bundle budget"
node scripts/budget.mjs
export WEB_URL
WEB_URL="$("$ROOT/infra/web.sh" deploy)"
log "Playwright + axe-core against $WEB_URL"
rm -rf test-results
export SCREENSHOT_DIR="$ROOT/web/test-results/screens"
npx playwright test
log "Lighthouse (board with 200 tasks)"
node scripts/lighthouse.mjs
if [ "${WEB_SCREENSHOTS_TO_DOCS:-0}" = 1 ]; then
  mkdir -p "$ROOT/docs/screenshots"
  for shot in 01-login 04-projects 05-task-dialog 06-notifications 08-comments 09-conflict 10-activity 11-import 12-board \
    13-project-board 14-filters; do
    cp "$SCREENSHOT_DIR/$shot.png" "$ROOT/docs/screenshots/"
  done
  log "docs/screenshots refreshed"
fi
