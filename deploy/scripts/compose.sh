#!/usr/bin/env bash
# make compose-up | compose-down | compose-test | bench-compose: the
# production compose stack on this host (crm-compose; crm-bench -topology
# compose), on the engine engine.sh finds or starts. compose-down also stops
# a private engine compose-up started.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=engine.sh
. "$root/deploy/scripts/engine.sh"
cmd=$1
shift
if [ "$cmd" = test ] && [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium for the browser suite"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
engine_up || { echo "make compose-$cmd: the compose stack needs a container engine" >&2; exit 1; }
rc=0
if [ "$cmd" = bench ]; then
  "$CRM_BIN_DIR/crm-bench" -topology compose "$@" || rc=$?
else
  "$CRM_BIN_DIR/crm-compose" "$cmd" "$@" || rc=$?
fi
if [ "$cmd" != up ] && [ -z "$(docker ps -q)" ]; then
  engine_down
fi
exit $rc
