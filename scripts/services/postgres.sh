#!/usr/bin/env bash
# Makes sure PostgreSQL answers on 127.0.0.1:5432; starts the machine's Debian cluster if not.
# Idempotent and bounded (PG_START_TIMEOUT, default 30 s). The machine owns this server:
# down.sh never stops it.
set -euo pipefail
SVC_NAME=postgres
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$SCRIPT_DIR/lib.sh"

PG_HOST=127.0.0.1
PG_PORT=${PG_PORT:-5432}
PG_START_TIMEOUT=${PG_START_TIMEOUT:-30}

ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2; }

command -v pg_isready >/dev/null || svc_die "pg_isready not found (apt-get install postgresql-client)"
if ready; then
  svc_log "ready on $PG_HOST:$PG_PORT"
  exit 0
fi

command -v pg_ctlcluster >/dev/null || svc_die "not answering on $PG_HOST:$PG_PORT and pg_ctlcluster is missing"
version=${PG_VERSION:-$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)}
[[ -n $version ]] || svc_die "not answering on $PG_HOST:$PG_PORT and no cluster under /etc/postgresql"
cluster=${PG_CLUSTER:-main}
svc_log "not answering on $PG_HOST:$PG_PORT; starting cluster $version/$cluster"
t0=$(svc_now)
# "already running" (exit 2) is fine: the server may be up but still recovering.
if ! out=$(timeout "$PG_START_TIMEOUT" pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start 2>&1); then
  if ! grep -qi 'already running' <<<"$out"; then
    printf '%s\n' "$out" >&2
    svc_tail "/var/log/postgresql/postgresql-$version-$cluster.log" 30
    svc_die "pg_ctlcluster $version $cluster start failed"
  fi
fi
deadline=$((t0 + PG_START_TIMEOUT))
until ready; do
  if (($(svc_now) >= deadline)); then
    svc_tail "/var/log/postgresql/postgresql-$version-$cluster.log" 30
    svc_die "not ready on $PG_HOST:$PG_PORT within ${PG_START_TIMEOUT}s"
  fi
  sleep 0.5
done
svc_log "started, ready on $PG_HOST:$PG_PORT after $(($(svc_now) - t0))s"
