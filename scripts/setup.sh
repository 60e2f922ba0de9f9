#!/usr/bin/env bash
# Installs everything the integration tests need on a Debian 12 machine (run as root).
# Idempotent and non-interactive; quiet and fast when everything is already in place.
#
#   scripts/setup.sh
#
# - Debian packages (only the missing ones; `apt-get update` runs once, only if something is missing)
# - Python venv at .venv/ with tests/clients/requirements.txt   (python: ${PYTHON:-python3})
# - tests/clients/node_modules from tests/clients/package-lock.json (`npm ci`)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLIENTS="$ROOT/tests/clients"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"
export DEBIAN_FRONTEND=noninteractive

log() { echo "setup: $*"; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# --- Debian packages -------------------------------------------------------------------------
want=(php8.2-cli php8.2-dev php8.2-fpm libfcgi-bin libclang-dev valgrind pkg-config openssl)
# the venv needs ensurepip; Debian's own python3 only has it with python3-venv
if ! command -v "$PY" >/dev/null 2>&1; then
  want+=(python3 python3-venv)
elif ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  want+=(python3-venv)
fi
command -v node >/dev/null 2>&1 || want+=(nodejs)
command -v npm >/dev/null 2>&1 || want+=(npm)

missing=()
for p in "${want[@]}"; do
  st="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
  [ "$st" = "installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Python venv -----------------------------------------------------------------------------
stamp="$(hash_of "$CLIENTS/requirements.txt")"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.requirements-stamp" 2>/dev/null)" != "$stamp" ]; then
  log "python venv .venv"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$CLIENTS/requirements.txt"
  echo "$stamp" > "$VENV/.requirements-stamp"
fi

# --- Node modules ----------------------------------------------------------------------------
stamp="$(hash_of "$CLIENTS/package.json" "$CLIENTS/package-lock.json")"
if [ "$(cat "$CLIENTS/node_modules/.setup-stamp" 2>/dev/null)" != "$stamp" ]; then
  log "npm ci in tests/clients"
  (cd "$CLIENTS" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$stamp" > "$CLIENTS/node_modules/.setup-stamp"
fi
