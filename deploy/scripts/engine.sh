# Sourced by the scripts that need a container engine (images.sh,
# compose.sh). engine_up uses DOCKER_HOST when set, else the default socket
# when a daemon answers there, else starts a private daemon — no bridge
# network, its data under .build/docker — and exports DOCKER_HOST for it
# (installing Debian's docker.io first where no daemon is installed);
# ENGINE_STARTED says whether it did. engine_down stops that private daemon.
# Needs $root (the repository).

engine_dir=$root/.build/docker
ENGINE_STARTED=""

engine_up() {
  # Debian's docker.io brings the daemon (a docker client alone is no
  # engine); installed only where we may, as root with apt.
  if ! command -v dockerd >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's docker.io (the container engine)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null || true
  fi
  if ! command -v docker >/dev/null; then
    echo "no container engine here (the docker command is missing; Debian's docker.io provides one)" >&2
    return 1
  fi
  if [ -n "${DOCKER_HOST:-}" ]; then
    # the engine named is the one to use: say so when it does not answer
    docker info >/dev/null 2>&1 && return 0
    echo "the container engine at DOCKER_HOST=$DOCKER_HOST does not answer" >&2
    return 1
  fi
  docker info >/dev/null 2>&1 && return 0
  export DOCKER_HOST=unix://$engine_dir/docker.sock
  docker info >/dev/null 2>&1 && return 0 # the private daemon is up already
  if ! command -v dockerd >/dev/null || [ "$(id -u)" != 0 ]; then
    unset DOCKER_HOST
    echo "no container engine answers (set DOCKER_HOST, or start dockerd)" >&2
    return 1
  fi
  mkdir -p "$engine_dir"
  setsid dockerd --bridge=none --iptables=false --ip6tables=false --storage-driver=overlay2 \
    --data-root="$engine_dir/data" --exec-root="$engine_dir/exec" --pidfile="$engine_dir/dockerd.pid" \
    -H "$DOCKER_HOST" >"$engine_dir/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 50); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { tail -20 "$engine_dir/dockerd.log"; echo "the private docker daemon did not start" >&2; return 1; }
  ENGINE_STARTED=1
}

engine_down() {
  local pid
  pid=$(cat "$engine_dir/dockerd.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  umount "$engine_dir/exec/netns/default" 2>/dev/null || true
  rm -f "$engine_dir/dockerd.pid"
}
