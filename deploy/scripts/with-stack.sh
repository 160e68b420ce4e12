#!/usr/bin/env bash
# Starts a fresh local stack (its own data folder and ports, so it never
# touches a developer's `make dev`), runs the given command in frontend/ with
# E2E_BASE_URL, E2E_ADMIN_LOGIN, E2E_ADMIN_PASSWORD and E2E_TEMPORAL_UI_URL
# pointing at it, and stops the stack. The browser tests (e2e.sh) and the
# console's speed measurement (lighthouse.sh) run this way.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium for the browser"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

data=$(mktemp -d)
export CRM_DATA_DIR="$data"
export CRM_HTTP_ADDR=127.0.0.1:${E2E_HTTP_PORT:-18480}
export CRM_TEMPORAL_PORT=${E2E_TEMPORAL_PORT:-17433} CRM_TEMPORAL_UI_PORT=${E2E_TEMPORAL_UI_PORT:-18433}
export CRM_ADMIN_PASSWORD=${E2E_ADMIN_PASSWORD:-e2e-admin-password}
# The browser signs in with it; no change at the first sign-in.
export CRM_ADMIN_PASSWORD_CHANGE=false
export CRM_BIN_DIR="$root/.build/bin" CRM_CONSOLE_DIR="${CRM_CONSOLE_DIR:-$root/frontend/dist}"

scheme=http
if [ "${E2E_HTTPS:-0}" = 1 ]; then
  (cd "$root/deploy" && go run ./cmd/crm-certs -dir "$data/certs" -hosts 127.0.0.1,localhost >/dev/null)
  export CRM_HTTP_TLS_CERT_FILE="$data/certs/gateway.pem" CRM_HTTP_TLS_KEY_FILE="$data/certs/gateway-key.pem"
  export NODE_EXTRA_CA_CERTS="$data/certs/ca.pem"
  scheme=https
fi

"$CRM_BIN_DIR/crm-local" >"$data/stack.log" 2>&1 &
stack=$!
cleanup() {
  kill -INT "$stack" 2>/dev/null || true
  wait "$stack" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

for _ in $(seq 1 120); do
  if grep -q "CRM is up" "$data/stack.log"; then break; fi
  if ! kill -0 "$stack" 2>/dev/null; then cat "$data/stack.log"; echo "the stack did not start"; exit 1; fi
  sleep 1
done
grep -q "CRM is up" "$data/stack.log" || { tail -50 "$data/stack.log"; echo "the stack did not start in time"; exit 1; }

cd "$root/frontend"
E2E_BASE_URL="$scheme://$CRM_HTTP_ADDR" E2E_ADMIN_LOGIN=admin E2E_ADMIN_PASSWORD="$CRM_ADMIN_PASSWORD" \
  E2E_TEMPORAL_UI_URL="http://127.0.0.1:$CRM_TEMPORAL_UI_PORT" "$@"
