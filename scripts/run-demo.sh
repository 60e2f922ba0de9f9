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
scripts/setup.sh
# cargo by its path, with PATH left as it is: the PHP bindings' build script runs
# again (slowly) whenever PATH differs from the last build's.
CARGO="$(command -v cargo || echo "$HOME/.cargo/bin/cargo")"
[ -x "$CARGO" ] || { echo "run-demo: a Rust toolchain (cargo) is required" >&2; exit 1; }

"$CARGO" build --release -p switchboard-php
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
echo "open http://$ADDR/ in two browser tabs"
exec php -d "extension=$TARGET/release/libswitchboard_php.so" php-ext/examples/chat.php "$ADDR"
