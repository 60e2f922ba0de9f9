#!/usr/bin/env bash
# Fairness under overload: 50 clients flood a server whose handler takes 2 ms per
# message (tests/fairness/flood.py); a newcomer connecting 2 s into the flood must
# complete its handshake and get its echo within 2 s each. A starvation check with a
# wide margin, not a speed measurement. Runs against a Rust, a C and a PHP server, each
# in inline mode (threads 0) and with one I/O thread, and the Rust and C servers in
# per-loop mode with two loops.
#
#   tests/fairness/run.sh [NAME_FILTER]
#
# Builds what it needs (release: the slow_echo example, libswitchboard, the PHP
# extension) into CARGO_TARGET_DIR (default target/). Every step is bounded in time;
# servers bind 127.0.0.1 port 0. Ends with `N passed, N failed`; exits 1 on a failure.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/fairness"
FILTER="${1:-}"
case "$FILTER" in -h|--help) sed -n '2,12p' "$0"; exit 0 ;; esac

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
export CARGO_TARGET_DIR="$TARGET_DIR"
RELEASE="$TARGET_DIR/release"
BUILD="$TARGET_DIR/fairness"
LOGS="$BUILD/logs"
mkdir -p "$BUILD" "$LOGS"
PY="$ROOT/.venv/bin/python"
PHP="${PHP:-php}"
CC="${CC:-cc}"

passed=0
failed=0
failures=()

# record NAME LOG STATUS
record() {
  if [ "$3" -eq 0 ]; then
    passed=$((passed + 1))
    echo "PASS $1"
  else
    failed=$((failed + 1))
    failures+=("$1")
    echo "FAIL $1 (status $3)"
  fi
  sed 's/^/    /' "$2" | tail -n 20
}

wanted() { [ -z "$FILTER" ] || [[ "$1" == *"$FILTER"* ]]; }

# check NAME SECONDS COMMAND...: runs one bounded step and records it.
check() {
  local name="$1" secs="$2"
  shift 2
  wanted "$name" || return 0
  local log="$LOGS/${name//[^A-Za-z0-9_.-]/_}.log"
  timeout -k 5 "$secs" "$@" >"$log" 2>&1
  record "$name" "$log" $?
}

# flood COMMAND...: starts the server, waits for its `listening on ADDR` line, runs the
# flood against it, stops it. Status: the flood's.
flood() {
  local out
  out="$(mktemp)"
  "$@" >"$out" 2>&1 &
  local pid=$! addr="" i
  for i in $(seq 100); do
    addr=$(sed -n 's/^listening on \([^ ]*\).*/\1/p' "$out" | head -1)
    [ -n "$addr" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$addr" ]; then
    echo "the server did not start:"
    cat "$out"
    kill -9 "$pid" 2>/dev/null
    rm -f "$out"
    return 1
  fi
  "$PY" "$HERE/flood.py" "ws://$addr"
  local status=$?
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  if [ "$status" -ne 0 ]; then
    echo "server output:"
    tail -n 5 "$out"
  fi
  rm -f "$out"
  return "$status"
}

finish() {
  if [ $((passed + failed)) -eq 0 ]; then
    echo "FAIL no check ran${FILTER:+ (no name matches \"$FILTER\")}"
    failed=1
    failures+=("(no check ran)")
  fi
  if [ "$failed" -gt 0 ]; then echo "failed: ${failures[*]}"; fi
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

# --- what the tests need ---------------------------------------------------------------------
if [ ! -x "$PY" ] || ! "$PY" -c 'import websockets' 2>/dev/null; then
  "$ROOT/scripts/setup.sh" || echo "run.sh: scripts/setup.sh failed" >&2
fi

# --- build -----------------------------------------------------------------------------------
cd "$ROOT"
check "build: cargo build --release -p switchboard --example slow_echo" 1200 \
  cargo build --release -p switchboard --example slow_echo
check "build: make -C ffi (libswitchboard)" 1200 make -s -C "$ROOT/ffi"
check "build: cargo build --release -p switchboard-php" 1200 \
  cargo build --release -p switchboard-php
check "compile: tests/fairness/slow_echo.c" 60 \
  "$CC" -std=c11 -Wall -Wextra -Werror -O2 -pthread -I"$ROOT/include" "$HERE/slow_echo.c" \
  -L"$RELEASE" -lswitchboard -Wl,-rpath,"$RELEASE" -o "$BUILD/slow_echo_c"

# --- run -------------------------------------------------------------------------------------
export PY HERE
export -f flood
# scenario NAME COMMAND...: the flood against one server (`timeout` runs no shell function).
scenario() {
  local name="$1"
  shift
  check "$name" 30 bash -c 'flood "$@"' flood "$@"
}
for mode in "inline 0" "threads 1"; do
  set -- $mode
  scenario "rust $1" "$RELEASE/examples/slow_echo" --listen 127.0.0.1:0 --threads "$2"
  scenario "c $1" "$BUILD/slow_echo_c" --listen 127.0.0.1:0 --threads "$2"
  scenario "php $1" "$PHP" -d "extension=$RELEASE/libswitchboard_php.so" \
    "$HERE/slow_echo.php" 127.0.0.1:0 "$2"
done
# Per-loop serving, two loops (PHP has no per-loop mode: one interpreter, one thread).
scenario "rust per-loop" "$RELEASE/examples/slow_echo" --listen 127.0.0.1:0 --threads 2 --per-loop 1
scenario "c per-loop" "$BUILD/slow_echo_c" --listen 127.0.0.1:0 --threads 2 --per-loop 1

finish
