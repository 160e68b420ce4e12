#!/usr/bin/env bash
# Server-side dry run of rendered manifests against a real Kubernetes API
# server: kube-apiserver (built by `make kube-apiserver`) on Debian's etcd,
# both on free loopback ports in a temporary folder, started for the check
# and stopped after it. Every object is sent as a create with dryRun=All
# (deploy/cmd/k8s-dry-run): the server's validation and admission judge it,
# nothing is stored. cert-manager's Certificate is registered first from
# deploy/k8s/check/certificate-crd.yaml.
#
#   deploy/scripts/k8s-dry-run.sh KUBE_APISERVER NAMESPACE MANIFEST...
#
# Installs etcd-server with apt when etcd is missing. Exits non-zero when
# the server refuses any object.
set -euo pipefail

apiserver=${1:?usage: k8s-dry-run.sh KUBE_APISERVER NAMESPACE MANIFEST...}
namespace=${2:?usage: k8s-dry-run.sh KUBE_APISERVER NAMESPACE MANIFEST...}
shift 2
[ $# -gt 0 ] || { echo "k8s-dry-run.sh: no manifests" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)

need() { # packages
  local sudo=
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "installing $* (apt)"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null ||
    { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null; }
}
command -v etcd >/dev/null || need etcd-server
command -v openssl >/dev/null || need openssl

tmp=$(mktemp -d)
pids=()
stop() {
  local rc=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  # Not a refusal (1) but a server that could not be asked: show why.
  if [ $rc -gt 1 ] && [ -s "$tmp/kube-apiserver.log" ]; then
    echo "--- the last lines of kube-apiserver's log" >&2
    tail -n 20 "$tmp/kube-apiserver.log" >&2
  fi
  rm -rf "$tmp"
  exit $rc
}
trap stop EXIT

# A loopback port nothing listens on, and none of those already taken.
taken=" "
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    [[ $taken == *" $p "* ]] && continue
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
etcd_client=$(free_port) && taken+="$etcd_client "
etcd_peer=$(free_port) && taken+="$etcd_peer "
secure=$(free_port)

etcd --name dry-run --data-dir "$tmp/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_client" --advertise-client-urls "http://127.0.0.1:$etcd_client" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
  --initial-cluster "dry-run=http://127.0.0.1:$etcd_peer" --logger zap --log-level error >"$tmp/etcd.log" 2>&1 &
pids+=($!)

# The service-account signing key the server requires, and one admin token.
openssl genrsa -out "$tmp/sa.key" 2048 2>/dev/null
token=$(openssl rand -hex 16)
echo "$token,dry-run,dry-run,system:masters" >"$tmp/tokens.csv"

"$apiserver" --etcd-servers "http://127.0.0.1:$etcd_client" \
  --bind-address 127.0.0.1 --secure-port "$secure" --cert-dir "$tmp/certs" \
  --token-auth-file "$tmp/tokens.csv" --authorization-mode RBAC \
  --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$tmp/sa.key" \
  --service-account-signing-key-file "$tmp/sa.key" --service-cluster-ip-range 10.96.0.0/16 \
  --enable-priority-and-fairness=false --profiling=false >"$tmp/kube-apiserver.log" 2>&1 &
pids+=($!)

# The server writes its self-signed serving certificate into --cert-dir.
for _ in $(seq 100); do [ -s "$tmp/certs/apiserver.crt" ] && break; sleep 0.1; done
[ -s "$tmp/certs/apiserver.crt" ] || { echo "kube-apiserver wrote no serving certificate" >&2; exit 1; }

cd "$root"
go build -o "$tmp/k8s-dry-run" ./deploy/cmd/k8s-dry-run
"$tmp/k8s-dry-run" -server "https://127.0.0.1:$secure" -ca "$tmp/certs/apiserver.crt" -token "$token" \
  -wait 60s -namespace "$namespace" -crd deploy/k8s/check/certificate-crd.yaml "$@"
