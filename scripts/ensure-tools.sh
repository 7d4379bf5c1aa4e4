#!/usr/bin/env bash
# Makes sure the Debian tools some tests use are installed (idempotent, fast when present):
#   docker-compose  validates docker-compose.yml without a Docker engine (e2e/compose)
#   chromium        headless browser for the dashboard e2e test (driven by playwright-core)
# Installs with apt-get when missing and running as root; otherwise says what to install.
set -uo pipefail
missing=()
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if ((${#missing[@]} == 0)); then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[tools] missing: ${missing[*]} — install them (Debian: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "[tools] installing ${missing[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
timeout 300 apt-get update -qq >/dev/null || true
timeout 600 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
  echo "[tools] apt-get install ${missing[*]} failed" >&2
  exit 1
}
