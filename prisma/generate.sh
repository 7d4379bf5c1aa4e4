#!/usr/bin/env bash
# Generates the Prisma client into prisma/generated, offline or online.
# `prisma generate` downloads a schema-engine binary at start that it never runs for generation;
# offline that download fails, so point it at any executable unless one is configured.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PRISMA_SCHEMA_ENGINE_BINARY:-}" ]; then
  export PRISMA_SCHEMA_ENGINE_BINARY=/bin/true
fi
export PRISMA_HIDE_UPDATE_MESSAGE=1 CHECKPOINT_DISABLE=1
exec npx --no-install prisma generate "$@"
