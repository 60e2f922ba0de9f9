#!/usr/bin/env bash
# The operator with PHP echo workers attached, as one server for the benchmark tool:
#
#   scripts/operator-with-php-workers.sh ADDR [WORKERS] [OPERATOR FLAGS...]   (default: 1 worker)
#
# Starts target/release/switchboard listening on ADDR with a control socket in a temporary
# directory, attaches WORKERS php-ext/tests/e2e/servers/echo_worker.php processes, and only
# then prints the operator's `listening on ADDR` line. SIGTERM/SIGINT stop them all.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
EXT="${SWITCHBOARD_EXT:-$TARGET/release/libswitchboard_php.so}"
ADDR="${1:?usage: $0 ADDR [WORKERS]}"
WORKERS="${2:-1}"
shift $(($# < 2 ? $# : 2))
DIR="$(mktemp -d)"
pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait
  rm -rf "$DIR"
}
trap 'stop; exit 0' TERM INT
trap stop EXIT

mkfifo "$DIR/operator.out"
"$TARGET/release/switchboard" --listen "$ADDR" --control "unix:$DIR/control.sock" "$@" \
  >"$DIR/operator.out" &
pids+=($!)
exec 3<"$DIR/operator.out"
read -r listening <&3
read -r _control <&3
for i in $(seq "$WORKERS"); do
  mkfifo "$DIR/worker$i.out"
  php -d "extension=$EXT" "$ROOT/php-ext/tests/e2e/servers/echo_worker.php" \
    "unix:$DIR/control.sock" >"$DIR/worker$i.out" &
  pids+=($!)
  read -r _attached <"$DIR/worker$i.out"
done
echo "$listening"
wait
