#!/usr/bin/env bash
# Regenerates php-ext/switchboard.stub.php: `cargo php stubs` (cargo install cargo-php
# --locked) reads the debug build, which carries the description; the exception class,
# registered by hand in the extension, is added by hand here too.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
cd "$HERE"
cargo build -q -p switchboard-php
stubs="$(cargo php stubs --stdout "$TARGET/debug/libswitchboard_php.so")"
exception='    /**
     * Thrown by the extension for invalid options and arguments, and for misuse
     * such as calling run() from inside a handler.
     */
    class Exception extends \Exception {}
'
awk -v extra="$exception" '{ print } /^namespace Switchboard \{$/ { printf "%s\n", extra }' \
  <<<"$stubs" > "$HERE/switchboard.stub.php"
echo "wrote php-ext/switchboard.stub.php"
