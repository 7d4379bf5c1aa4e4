#!/usr/bin/env bash
# Fails, naming the fix, when the committed typed client (examples/client/src/gql) is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CODEGEN_OUT="$tmp/gql/" npx graphql-codegen --config codegen.ts --silent >/dev/null
if ! diff -r -q "$tmp/gql" examples/client/src/gql >/dev/null 2>&1; then
  echo "examples/client/src/gql is stale: run \`npm run compose && npm run codegen\` and commit the result" >&2
  exit 1
fi
echo "generated client is up to date"
