#!/usr/bin/env bash
# Brings up every local service the tests need (idempotent; ~0.1 s when all are already up):
#   postgres 127.0.0.1:5432, redis 127.0.0.1:6379, kafka 127.0.0.1:9092, cognito-local 127.0.0.1:9229
# Exits non-zero naming every service that could not be brought up. Env overrides: README.md.
set -uo pipefail
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

failed=()
run() {
  local name=$1
  shift
  if ! "$@"; then
    failed+=("$name")
  fi
}
t0=$(date +%s)
run postgres bash "$SCRIPT_DIR/postgres.sh"
run redis bash "$SCRIPT_DIR/redis.sh"
run kafka bash "$SCRIPT_DIR/kafka.sh" start
run cognito bash "$SCRIPT_DIR/cognito.sh" start

if ((${#failed[@]} > 0)); then
  printf '[services] FAILED to bring up: %s (see the messages above)\n' "${failed[*]}" >&2
  exit 1
fi
printf '[services] all up in %ss: postgres 127.0.0.1:5432, redis 127.0.0.1:6379, kafka 127.0.0.1:9092, cognito http://127.0.0.1:9229\n' \
  "$(($(date +%s) - t0))" >&2
