#!/usr/bin/env bash
# Makes sure Redis answers PING on 127.0.0.1:6379; starts a throw-away redis-server if not
# (no persistence). Idempotent and bounded (REDIS_START_TIMEOUT, default 15 s). The machine owns
# this server: down.sh never stops it.
set -euo pipefail
SVC_NAME=redis
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$SCRIPT_DIR/lib.sh"

REDIS_HOST=127.0.0.1
REDIS_PORT=${REDIS_PORT:-6379}
REDIS_START_TIMEOUT=${REDIS_START_TIMEOUT:-15}

ready() { [[ $(timeout 3 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

command -v redis-cli >/dev/null || svc_die "redis-cli not found (apt-get install redis-tools)"
if ready; then
  svc_log "ready on $REDIS_HOST:$REDIS_PORT"
  exit 0
fi
if svc_port_open "$REDIS_HOST" "$REDIS_PORT"; then
  # Something listens but does not answer PING (loading a dump, or not redis): wait, do not start
  # a second server on the same port.
  svc_log "port $REDIS_PORT is open but PING fails; waiting"
else
  command -v redis-server >/dev/null || svc_die "not answering on $REDIS_HOST:$REDIS_PORT and redis-server is missing"
  svc_log "not answering on $REDIS_HOST:$REDIS_PORT; starting redis-server"
  redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" --save "" --appendonly no \
    --logfile "${REDIS_LOG_FILE:-/tmp/location-supergraph-redis.log}" ||
    svc_die "redis-server failed to start"
fi
t0=$(svc_now)
deadline=$((t0 + REDIS_START_TIMEOUT))
until ready; do
  if (($(svc_now) >= deadline)); then
    svc_tail "${REDIS_LOG_FILE:-/tmp/location-supergraph-redis.log}" 30
    svc_die "no PONG from $REDIS_HOST:$REDIS_PORT within ${REDIS_START_TIMEOUT}s"
  fi
  sleep 0.3
done
svc_log "started, ready on $REDIS_HOST:$REDIS_PORT"
