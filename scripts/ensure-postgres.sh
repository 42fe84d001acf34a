#!/usr/bin/env bash
# Makes sure a PostgreSQL server runs on loopback with the credentials the project uses,
# installing Debian's `postgresql` on a fresh machine. Idempotent: safe to run any time.
#
#   PGPORT      port of the cluster (default 5432)
#   PGPASSWORD  password set for the `postgres` role (default "postgres")
set -euo pipefail

port="${PGPORT:-5432}"
password="${PGPASSWORD:-postgres}"
log() { echo "[postgres] $*"; }

if [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ] || ! command -v pg_ctlcluster >/dev/null; then
  log "installing Debian's postgresql"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
  log "creating cluster $version/main"
  pg_createcluster "$version" main --port "$port" >/dev/null
fi

conf="/etc/postgresql/$version/main/postgresql.conf"
# Loopback only, on the configured port; enough connections for parallel tests and workers.
sed -i -E \
  -e "s/^#?listen_addresses\s*=.*/listen_addresses = 'localhost'/" \
  -e "s/^#?port\s*=.*/port = $port/" \
  -e "s/^#?max_connections\s*=.*/max_connections = 300/" \
  "$conf"

if ! pg_ctlcluster "$version" main status >/dev/null 2>&1; then
  log "starting cluster $version/main on 127.0.0.1:$port"
  pg_ctlcluster "$version" main start
fi

for _ in $(seq 1 50); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.2
done
pg_isready -q -h 127.0.0.1 -p "$port" || { log "server did not become ready"; exit 1; }

runuser -u postgres -- psql -q -p "$port" -c "ALTER ROLE postgres PASSWORD '$password'" >/dev/null
log "ready: postgres://postgres:***@127.0.0.1:$port/postgres"
