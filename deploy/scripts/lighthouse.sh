#!/usr/bin/env bash
# Measures the console's sign-in and signed-in home with Lighthouse (mobile
# preset) against a fresh local stack (frontend/lighthouse/run.mjs).
set -euo pipefail
exec "$(dirname "$0")/with-stack.sh" node lighthouse/run.mjs "$@"
