#!/usr/bin/env bash
# Builds the echo example (release) and runs the real-client tests, then the Autobahn TestSuite.
#   tests/run-integration.sh
# Runs scripts/setup.sh first when the venv or the Node modules are missing.
# Exits non-zero if the build or either test stage fails.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ ! -x .venv/bin/python ] || [ ! -d tests/clients/node_modules/ws ]; then
  scripts/setup.sh || exit 1
fi

echo "--- build: cargo build --release -p switchboard --example echo"
cargo build --release -p switchboard --example echo || { echo "integration: build FAILED"; exit 1; }

failed=()
echo "--- real clients (tests/clients)"
timeout -k 10 300 tests/clients/run.sh || failed+=("clients")
echo "--- Autobahn TestSuite (tests/autobahn)"
timeout -k 10 1200 tests/autobahn/run.sh || failed+=("autobahn")
echo "--- Autobahn TestSuite over TLS (tests/autobahn, AUTOBAHN_TLS=1)"
AUTOBAHN_TLS=1 timeout -k 10 1200 tests/autobahn/run.sh || failed+=("autobahn over TLS")

if [ "${#failed[@]}" -gt 0 ]; then
  echo "integration: FAILED: ${failed[*]}"
  exit 1
fi
echo "integration: ok"
