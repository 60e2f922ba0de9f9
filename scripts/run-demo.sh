#!/usr/bin/env bash
# The chat demo: on a fresh Debian 12 machine (as root) it installs what is missing,
# builds the PHP extension in release mode and starts php-ext/examples/chat.php on
# 127.0.0.1:8080, which also serves the chat page: open http://127.0.0.1:8080/ in two
# browser tabs and chat between them. Ctrl-C stops it gracefully.
#
#   scripts/run-demo.sh [ADDR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ADDR="${1:-127.0.0.1:8080}"
cd "$ROOT"
export DEBIAN_FRONTEND=noninteractive

apt_install() {
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$@"
}

if [ -x scripts/setup.sh ]; then
  scripts/setup.sh
else
  missing=()
  for p in php8.2-cli php8.2-dev libclang-dev; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] || apt_install "${missing[@]}"
fi
command -v cc >/dev/null || apt_install gcc libc6-dev
if ! command -v cargo >/dev/null && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null; then
  command -v curl >/dev/null || apt_install curl ca-certificates
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  export PATH="$HOME/.cargo/bin:$PATH"
fi

cargo build --release -p switchboard-php
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
echo "open http://$ADDR/ in two browser tabs"
exec php -d "extension=$TARGET/release/libswitchboard_php.so" php-ext/examples/chat.php "$ADDR"
