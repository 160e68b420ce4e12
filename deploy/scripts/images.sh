#!/usr/bin/env bash
# Builds every image of deploy/docker/Dockerfile offline (make images):
# stages the build context — static binaries from the Go module proxy, the
# built console, a root filesystem of CA certificates, time zones and a
# non-root user from this machine's Debian packages, Temporal's SQL schema —
# then builds each target on scratch and lists the images with their sizes.
#
# The engine: DOCKER_HOST when set, else the default socket when a daemon
# answers there, else a private daemon started for the build (no bridge
# network, its data under .build/docker) and stopped after.
#
# Environment: CRM_VERSION (tag; default: git describe), CRM_IMAGE_PREFIX
# (default crm), CRM_TEMPORAL_SCHEMA_DIR (Temporal's schema/postgresql/v12),
# IMAGES (targets to build; default all); TEMPORAL_SERVER_VERSION and
# TEMPORAL_UI_VERSION (the Makefile's).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/.build/images
ctx=$build/context
prefix=${CRM_IMAGE_PREFIX:-crm}
version=${CRM_VERSION:-$(git -C "$root" describe --tags --always --dirty 2>/dev/null || echo dev)}
targets=${IMAGES:-identity customer contract task notifier worker migrate gateway temporal-server temporal-admin-tools temporal-ui}
temporal_server=${TEMPORAL_SERVER_VERSION:?set by the Makefile} temporal_ui=${TEMPORAL_UI_VERSION:?set by the Makefile}

if ! command -v docker >/dev/null; then
  echo "make images: no container engine here (the docker command is missing; Debian's docker.io provides one)" >&2
  exit 1
fi

# --- the engine ---------------------------------------------------------------
daemon=""
stop_daemon() {
  [ -n "$daemon" ] || return 0
  kill "$daemon" 2>/dev/null || true
  wait "$daemon" 2>/dev/null || true
  umount "$build/docker/exec/netns/default" 2>/dev/null || true
}
trap stop_daemon EXIT
if [ -z "${DOCKER_HOST:-}" ] && ! docker info >/dev/null 2>&1; then
  if ! command -v dockerd >/dev/null || [ "$(id -u)" != 0 ]; then
    echo "make images: no container engine answers (set DOCKER_HOST, or start dockerd)" >&2
    exit 1
  fi
  d=$build/docker
  mkdir -p "$d"
  dockerd --bridge=none --iptables=false --ip6tables=false --storage-driver=overlay2 \
    --data-root="$d/data" --exec-root="$d/exec" --pidfile="$d/dockerd.pid" -H "unix://$d/docker.sock" >"$d/dockerd.log" 2>&1 &
  daemon=$!
  export DOCKER_HOST=unix://$d/docker.sock
  for _ in $(seq 1 50); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { tail -20 "$d/dockerd.log"; echo "make images: the private docker daemon did not start" >&2; exit 1; }
fi

# --- the context ----------------------------------------------------------------
start=$(date +%s)
rm -rf "$ctx"
mkdir -p "$ctx/bin" "$ctx/rootfs/etc/ssl/certs" "$ctx/rootfs/usr/share" "$ctx/home/nonroot/data" "$ctx/console"
export CGO_ENABLED=0 GOFLAGS=-trimpath
ldflags='-s -w'
echo "static binaries"
(cd "$root/services" && go build -ldflags="$ldflags" -o "$ctx/bin/" ./cmd/identity ./cmd/customer ./cmd/contract ./cmd/task ./cmd/notifier ./cmd/migrate)
(cd "$root/workflows" && go build -ldflags="$ldflags" -o "$ctx/bin/" ./cmd/worker)
(cd "$root/gateway" && go build -ldflags="$ldflags" -o "$ctx/bin/" ./cmd/gateway)
(cd "$root/deploy" && go build -ldflags="$ldflags" -o "$ctx/bin/" ./cmd/crm-probe)
# Temporal's binaries: static builds of the versions prod-test runs, kept
# between runs (building the server takes minutes).
tool() { # name module version
  local dir=$build/tools/$1-$3
  [ -x "$dir/$(basename "$2")" ] || GOBIN=$dir go install -ldflags="$ldflags" "$2@$3"
  cp "$dir/$(basename "$2")" "$ctx/bin/$1"
}
echo "Temporal $temporal_server and its Web UI $temporal_ui"
tool temporal-server go.temporal.io/server/cmd/server "$temporal_server"
tool temporal-sql-tool go.temporal.io/server/cmd/tools/sql "$temporal_server"
tool temporal-ui github.com/temporalio/ui-server/v2/cmd/server "$temporal_ui"
schema=${CRM_TEMPORAL_SCHEMA_DIR:-$(cd "$root" && go mod download -json "go.temporal.io/server@$temporal_server" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')/schema/postgresql/v12}
mkdir -p "$ctx/temporal-schema/postgresql"
cp -r "$schema" "$ctx/temporal-schema/postgresql/v12"
chmod -R u+w "$ctx/temporal-schema"

echo "root filesystem"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/rootfs/etc/ssl/certs/"
cp -r /usr/share/zoneinfo "$ctx/rootfs/usr/share/"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$ctx/rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$ctx/rootfs/etc/group"
cp -r "$root/frontend/dist/." "$ctx/console/"

# --- the images -------------------------------------------------------------------
for t in $targets; do
  echo "image $prefix/$t:$version"
  # (the build's own chatter, such as the legacy builder's notice, goes to
  # a log shown only when the build fails)
  docker build --quiet --network none -f "$root/deploy/docker/Dockerfile" --target "$t" -t "$prefix/$t:$version" "$ctx" \
    >/dev/null 2>"$build/build-$t.log" || { cat "$build/build-$t.log"; exit 1; }
done
echo
docker image ls --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' | grep "^$prefix/" | grep ":$version" | sort | column -t
echo "built in $(($(date +%s) - start)) s"
