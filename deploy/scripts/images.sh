#!/usr/bin/env bash
# Builds every image of deploy/docker/Dockerfile offline (make images):
# stages the build context — the static binaries make build made, the
# built console, a root filesystem of CA certificates, time zones and a
# non-root user from this machine's Debian packages, Temporal's SQL schema —
# then builds each target on scratch and lists the images with their sizes.
#
# The engine: see engine.sh; a private daemon started for the build is
# stopped after it.
#
# postgres is built on a Debian bookworm root filesystem made here with
# debootstrap from the mirror apt uses (kept under .build/images), and its
# packages come from that mirror: its build step has the host's network.
#
# Environment: CRM_VERSION (the tag, from the Makefile), CRM_IMAGE_PREFIX
# (default crm), CRM_TEMPORAL_SCHEMA_DIR (Temporal's schema/postgresql/v12),
# IMAGES (targets to build; default all); from the Makefile:
# CRM_BIN_DIR (make build's binaries), TEMPORAL_SERVER_VERSION and the
# static Temporal binaries prod-test runs too
# (TEMPORAL_SERVER_BIN, TEMPORAL_SQL_TOOL_BIN, TEMPORAL_UI_BIN).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/.build/images
ctx=$build/context
prefix=${CRM_IMAGE_PREFIX:-crm}
version=${CRM_VERSION:?set by the Makefile}
targets=${IMAGES:-identity customer contract task notifier worker migrate gateway temporal-server temporal-admin-tools temporal-ui postgres}
temporal_server=${TEMPORAL_SERVER_VERSION:?set by the Makefile}

# need installs a Debian package the build uses.
need() {
  echo "installing Debian's $1"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}

# shellcheck source=engine.sh
. "$root/deploy/scripts/engine.sh"
engine_up || { echo "make images: the images need a container engine" >&2; exit 1; }
# a daemon started for the build is stopped after it, unless a compose
# stack runs on it
trap '[ -z "$ENGINE_STARTED" ] || [ -n "$(docker ps -q)" ] || engine_down' EXIT

# --- the context ----------------------------------------------------------------
start=$(date +%s)
rm -rf "$ctx"
mkdir -p "$ctx/bin" "$ctx/rootfs/etc/ssl/certs" "$ctx/rootfs/usr/share" "$ctx/home/nonroot/data" "$ctx/console"
# The static binaries make build made.
for b in identity customer contract task notifier migrate worker gateway crm-probe; do
  cp "${CRM_BIN_DIR:?set by the Makefile}/$b" "$ctx/bin/"
done
# Temporal's binaries: the Makefile's static builds, the ones prod-test runs.
cp "${TEMPORAL_SERVER_BIN:?set by the Makefile}" "$ctx/bin/temporal-server"
cp "${TEMPORAL_SQL_TOOL_BIN:?set by the Makefile}" "$ctx/bin/temporal-sql-tool"
cp "${TEMPORAL_UI_BIN:?set by the Makefile}" "$ctx/bin/temporal-ui"
schema=${CRM_TEMPORAL_SCHEMA_DIR:-$(cd "$root" && go mod download -json "go.temporal.io/server@$temporal_server" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')/schema/postgresql/v12}
# The Web UI's configuration: ours, read-only and served behind the
# gateway, filled from the environment (deploy/temporal-ui/production.yaml).
mkdir -p "$ctx/temporal-ui/config"
cp "$root/deploy/temporal-ui/production.yaml" "$ctx/temporal-ui/config/production.yaml"
mkdir -p "$ctx/temporal-schema/postgresql"
cp -r "$schema" "$ctx/temporal-schema/postgresql/v12"
chmod -R u+w "$ctx/temporal-schema"

echo "root filesystem"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/rootfs/etc/ssl/certs/"
cp -r /usr/share/zoneinfo "$ctx/rootfs/usr/share/"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$ctx/rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$ctx/rootfs/etc/group"
cp -r "$root/frontend/dist/." "$ctx/console/"
# A shell for the admin tools' schema steps: Debian's static busybox.
[ -x /bin/busybox ] || need busybox-static
cp /bin/busybox "$ctx/bin/busybox"
cp "$root/deploy/docker/postgres-entrypoint.sh" "$ctx/"

# The Debian base of the postgres image, made once.
base=$prefix/debian-base:bookworm
if [[ " $targets " == *" postgres "* ]] && ! docker image inspect "$base" >/dev/null 2>&1; then
  echo "Debian bookworm base (debootstrap)"
  command -v debootstrap >/dev/null || need debootstrap
  mirror=$(sed -n 's/^URIs: *\([^ ]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  [ -n "$mirror" ] || mirror=$(sed -n 's/^deb \([^ ]*\) bookworm main.*/\1/p' /etc/apt/sources.list 2>/dev/null | head -1)
  [ -n "$mirror" ] || { echo "make images: no Debian mirror found in apt's sources" >&2; exit 1; }
  rm -rf "$build/debian"
  debootstrap --variant=minbase bookworm "$build/debian" "$mirror" >"$build/debootstrap.log" 2>&1 ||
    { tail -20 "$build/debootstrap.log"; exit 1; }
  # debootstrap leaves the packages it fetched in apt's cache
  rm -rf "$build/debian/var/cache/apt/archives/"*.deb "$build/debian/var/lib/apt/lists/"*
  tar -C "$build/debian" --numeric-owner -c . | docker import - "$base" >/dev/null
  rm -rf "$build/debian"
fi

# --- the images -------------------------------------------------------------------
for t in $targets; do
  echo "image $prefix/$t:$version"
  # (the build's own chatter, such as the legacy builder's notice, goes to
  # a log shown only when the build fails)
  net=none args=()
  if [ "$t" = postgres ]; then net=host args=(--build-arg "DEBIAN_BASE=$base"); fi
  docker build --quiet --network "$net" "${args[@]}" -f "$root/deploy/docker/Dockerfile" --target "$t" -t "$prefix/$t:$version" "$ctx" \
    >/dev/null 2>"$build/build-$t.log" || { cat "$build/build-$t.log"; exit 1; }
done
echo
docker image ls --format '{{.Repository}}:{{.Tag}}\t{{.Size}}' | grep "^$prefix/" | grep ":$version" | sort | column -t
echo "built in $(($(date +%s) - start)) s"
