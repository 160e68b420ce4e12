#!/bin/sh
# The postgres image's entrypoint: on the first start (an empty PGDATA) it
# makes the cluster with POSTGRES_USER as its superuser, password-protected
# over the network, and the database POSTGRES_DB; then it runs the server
# in the foreground on PGPORT, listening on POSTGRES_LISTEN (default: all).
set -eu
user=${POSTGRES_USER:-postgres}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  # other containers reach it by address, with the password
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  db=${POSTGRES_DB:-$user}
  if [ "$db" != postgres ]; then
    echo "CREATE DATABASE \"$db\" OWNER \"$user\";" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "crm-postgres: made the cluster in $PGDATA with database $db"
fi
exec postgres -D "$PGDATA" -c listen_addresses="${POSTGRES_LISTEN:-*}" -c unix_socket_directories=/tmp
