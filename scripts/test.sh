#!/usr/bin/env bash
# `npm test`: bring up the real local services (idempotent), then run unit, integration and e2e
# tests. Totals are written to test-results/vitest.json; .ci/run prints them as "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 KAFKAJS_NO_PARTITIONER_WARNING=1
bash scripts/ensure-tools.sh
bash scripts/services/up.sh
mkdir -p test-results
exec npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json "$@"
