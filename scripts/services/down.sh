#!/usr/bin/env bash
# Stops the services that scripts/services/up.sh started itself: Kafka and cognito-local.
# PostgreSQL and Redis belong to the machine and are left running. Data dirs are kept
# (`kafka.sh reset` / `cognito.sh reset` delete them).
set -uo pipefail
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rc=0
bash "$SCRIPT_DIR/kafka.sh" stop || { echo '[services] could not stop kafka' >&2; rc=1; }
bash "$SCRIPT_DIR/cognito.sh" stop || { echo '[services] could not stop cognito' >&2; rc=1; }
exit $rc
