#!/usr/bin/env bash
# Real-client tests (Python websockets, Node ws, raw sockets) against the echo example.
#   tests/clients/run.sh [-k SUBSTRING]... [--list]
# Needs scripts/setup.sh (the .venv and node_modules) and a release build of the echo example,
# or SERVER_CMD (see tests/clients/harness.py).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  echo "clients: .venv missing: run scripts/setup.sh" >&2
  exit 1
fi
exec "$ROOT/.venv/bin/python" "$ROOT/tests/clients/run.py" "$@"
