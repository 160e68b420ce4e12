#!/usr/bin/env bash
# Measures the console's sign-in and signed-in home with Lighthouse (mobile
# preset) against a fresh local stack (frontend/lighthouse/run.mjs): first
# over plain HTTP/1.1, as `make dev` serves it, then over HTTPS with HTTP/2,
# as a deployment reaches a phone (the gateway's own TLS, or an ingress).
set -euo pipefail
"$(dirname "$0")/with-stack.sh" node lighthouse/run.mjs "$@"
E2E_HTTPS=1 exec "$(dirname "$0")/with-stack.sh" node lighthouse/run.mjs "$@"
