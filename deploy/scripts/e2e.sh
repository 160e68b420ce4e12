#!/usr/bin/env bash
# Runs the console's browser tests (@playwright/test, frontend/e2e) against a
# fresh local stack. Arguments go to `playwright test` (a file, --grep, -x…).
set -euo pipefail
exec "$(dirname "$0")/with-stack.sh" npx --no-install playwright test "$@"
