#!/usr/bin/env bash
# The web app (web/, docs/web.md): `web.sh deploy` builds it when its sources changed (npm ci + npm run build) and
# uploads it to the stack's web bucket with a generated config.json, then prints the web URL and writes it to
# .local/web-url; `web.sh build` only builds; `web.sh dev` runs Vite's dev server against the deployed API.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

WEB_DIR="$ROOT/web"
STAMP_DIR="$LOCAL_DIR/web"
mkdir -p "$STAMP_DIR"

ensure_node() {
  if ! command -v npm >/dev/null 2>&1; then
    log "installing Node.js and npm (Debian packages)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >"$LOG_DIR/apt-node.log" 2>&1 ||
      { apt-get update -q >>"$LOG_DIR/apt-node.log" 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >>"$LOG_DIR/apt-node.log" 2>&1; } ||
      die "could not install nodejs/npm (see $LOG_DIR/apt-node.log)"
  fi
  # Vite 8 needs Node 20.19 or later (this machine kind ships Node 20; Debian 12's own nodejs is 18).
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
    die "Node $(node --version) is too old for the web build: Vite 8 needs Node >= 20.19"
}

digest() { sha256sum "$@" | sha256sum | cut -c1-16; }

install_deps() {
  ensure_node
  local lock_hash
  lock_hash="$(digest "$WEB_DIR/package-lock.json")"
  if [ -d "$WEB_DIR/node_modules" ] && [ "$(cat "$STAMP_DIR/deps" 2>/dev/null)" = "$lock_hash" ]; then return 0; fi
  log "npm ci (web/)"
  # Browsers come from Debian (infra/web-test.sh), never from a download.
  (cd "$WEB_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) >"$LOG_DIR/web-npm-ci.log" 2>&1 ||
    { tail -30 "$LOG_DIR/web-npm-ci.log"; die "npm ci failed in web/"; }
  echo "$lock_hash" >"$STAMP_DIR/deps"
}

build() {
  install_deps
  local sources source_hash
  # Only the paths that exist (a fresh clone has no public/): find fails on a missing one, and set -e with it.
  sources="$(cd "$WEB_DIR" && for path in index.html vite.config.ts tsconfig.json package-lock.json src public; do
    [ ! -e "$path" ] || find "$path" -type f; done | sort)"
  # shellcheck disable=SC2086
  source_hash="$(cd "$WEB_DIR" && digest $sources)"
  if [ -f "$WEB_DIR/dist/index.html" ] && [ "$(cat "$STAMP_DIR/build" 2>/dev/null)" = "$source_hash" ]; then
    log "web app unchanged since the last build: skipping it"
    return 0
  fi
  log "building the web app (npm run build)"
  (cd "$WEB_DIR" && npm run build) >"$LOG_DIR/web-build.log" 2>&1 || { tail -40 "$LOG_DIR/web-build.log"; die "web build failed"; }
  echo "$source_hash" >"$STAMP_DIR/build"
}

stack_urls() {
  api_url="${API_BASE_URL:-$(cat "${API_URL_FILE:-$LOCAL_DIR/api-url}" 2>/dev/null || true)}"
  [ -n "$api_url" ] || die "no API URL: deploy first (make run) or set API_BASE_URL"
  local socket_id
  socket_id="$("$VENV/bin/python" -m infra.stack --stack-name "$STACK_NAME" output WebSocketApiId)"
  # MiniStack serves WebSocket APIs on its own port, beside the REST APIs (README, "Live push").
  websocket_url="${AWS_ENDPOINT_URL/#http/ws}/_aws/execute-api/$socket_id/$STAGE"
}

deploy() {
  build
  stack_urls
  local url
  url="$("$VENV/bin/python" -m infra.web_upload --stack-name "$STACK_NAME" --dist "$WEB_DIR/dist" \
    --api-url "$api_url" --websocket-url "$websocket_url" --config-out "$LOCAL_DIR/web-config.json")"
  echo "$url" >"${WEB_URL_FILE:-$LOCAL_DIR/web-url}"
  log "web app uploaded: $url"
  echo "$url"
}

dev() {
  install_deps
  stack_urls
  printf '{"apiUrl": "%s", "webSocketUrl": "%s"}\n' "$api_url" "$websocket_url" >"$LOCAL_DIR/web-config.json"
  log "Vite dev server on http://localhost:${WEB_DEV_PORT:-5173} against $api_url"
  cd "$WEB_DIR" && WEB_DEV_CONFIG="$LOCAL_DIR/web-config.json" exec npx vite --port "${WEB_DEV_PORT:-5173}"
}

case "${1:-deploy}" in
  deploy) deploy ;;
  build) build ;;
  dev) dev ;;
  *) die "usage: $0 deploy|build|dev" ;;
esac
