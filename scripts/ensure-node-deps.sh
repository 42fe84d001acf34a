#!/usr/bin/env bash
# Installs the pinned L1 toolchain (anvil, forge, cast 1.7.1 and solc-js) from
# contracts/package-lock.json, and Node.js itself from Debian when it is missing.
# Skips `npm ci` when node_modules already matches the lockfile.
set -euo pipefail
cd "$(dirname "$0")/../contracts"

if ! command -v npm >/dev/null; then
  echo "[node] installing Debian's nodejs and npm"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
  || [ ! -x node_modules/.bin/forge ] || [ ! -x node_modules/.bin/anvil ]; then
  echo "[node] npm ci in contracts/"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "[node] ready: $(node_modules/.bin/forge --version | head -n 1)"
