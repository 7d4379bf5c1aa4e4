#!/usr/bin/env bash
# Runs bench/streaming/batched.bench.ts against two commits of the code, rounds interleaved
# (base, head, base, head, …), one JSON line per scenario prefixed with the side. Each side is a
# snapshot (`git archive`) under a temporary directory that shares this checkout's dependencies;
# both run this checkout's copy of the benchmark, so the scenarios are identical. Each side uses its
# own database, BENCH_DATABASE (default lt_bench_streaming) suffixed with _base or _head.
#
#   bash bench/streaming/compare.sh [BASE] [HEAD]      # defaults: HEAD~ and HEAD (commits)
#   BENCH_ONLY=B,C,D,E COMPARE_ROUNDS=2 bash bench/streaming/compare.sh ebc551d HEAD
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
base=${1:-HEAD~}
head=${2:-HEAD}
rounds=${COMPARE_ROUNDS:-2}
work=$(mktemp -d /tmp/lt-stream-compare.XXXXXX)
trap 'rm -rf "$work"' EXIT
snapshot() { # commit dir
  mkdir -p "$2"
  git archive "$1" | tar -x -C "$2"
  mkdir -p "$2/node_modules"
  for e in "$root"/node_modules/* "$root"/node_modules/.bin; do
    [ "$(basename "$e")" = "@lt" ] || ln -s "$e" "$2/node_modules/$(basename "$e")"
  done
  cp -a "$root/node_modules/@lt" "$2/node_modules/@lt" # relative links: into the snapshot
  cp -a "$root/prisma/generated" "$2/prisma/generated"
  cp "$root/bench/streaming/batched.bench.ts" "$2/bench/streaming/batched.bench.ts"
}
snapshot "$base" "$work/base"
snapshot "$head" "$work/head"
echo "{\"base\":\"$(git rev-parse --short "$base")\",\"head\":\"$(git rev-parse --short "$head")\",\"rounds\":$rounds}"
for ((r = 1; r <= rounds; r++)); do
  for side in base head; do
    # Each side its own database: the two commits may hold different migrations.
    (cd "$work/$side" && BENCH_ROUNDS=1 BENCH_DATABASE="${BENCH_DATABASE:-lt_bench_streaming}_$side" \
      npx tsx bench/streaming/batched.bench.ts 2>/dev/null) |
      grep '^{' | sed "s/^/{\"side\":\"$side\",\"round\":$r,\"result\":/; s/\$/}/" ||
      echo "{\"side\":\"$side\",\"round\":$r,\"failed\":true}" # one side's crash does not end the run
  done
done
