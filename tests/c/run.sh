#!/usr/bin/env bash
# The C library's tests: builds libswitchboard (release), the C tests and the C examples with
# `cc -std=c11 -Wall -Wextra -Werror`, then runs every test with real WebSocket clients, once
# plain and once under valgrind memcheck (no leaks, no invalid accesses), plus the Rust tests
# of ffi/ (the header check among them) and an install with pkg-config.
#
#   tests/c/run.sh [--no-valgrind] [NAME_FILTER]
#
# Every step is bounded in time; test servers bind 127.0.0.1 port 0. Ends with the line
# `N passed, N failed` and exits 1 if anything failed. Logs of failures are printed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/c"
VALGRIND=1
FILTER=""
for arg in "$@"; do
  case "$arg" in
    --no-valgrind) VALGRIND=0 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) FILTER="$arg" ;;
  esac
done

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
RELEASE="$TARGET_DIR/release"
BUILD="$TARGET_DIR/c-tests"
LOGS="$BUILD/logs"
mkdir -p "$BUILD" "$LOGS"

CC="${CC:-cc}"
CFLAGS=(-std=c11 -Wall -Wextra -Werror -g -O1 -pthread -I"$ROOT/include")
LDFLAGS=(-L"$RELEASE" -lswitchboard -Wl,-rpath,"$RELEASE")
# Leaks are errors: a block still allocated at exit that live memory no longer points to
# (definitely or indirectly lost) or points into only past its start (possibly lost). The
# library frees all it allocates, so none is expected.
MEMCHECK=(valgrind -q --error-exitcode=1 --leak-check=full
          --errors-for-leak-kinds=definite,indirect,possible
          --show-leak-kinds=definite,indirect,possible
          --trace-children=no)

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
    sed 's/^/    /' "$2" | tail -n 40
  fi
}

# check NAME SECONDS COMMAND...: runs one bounded step and records it.
check() {
  local name="$1" secs="$2"
  shift 2
  if [ -n "$FILTER" ] && [[ "$name" != *"$FILTER"* ]]; then return; fi
  local log="$LOGS/${name//[^A-Za-z0-9_.-]/_}.log"
  timeout -k 5 "$secs" "$@" >"$log" 2>&1
  record "$name" "$log" $?
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
PY="$ROOT/.venv/bin/python"
if [ ! -x "$PY" ] || ! "$PY" -c 'import websockets' 2>/dev/null \
   || { [ "$VALGRIND" -eq 1 ] && ! command -v valgrind >/dev/null; }; then
  "$ROOT/scripts/setup.sh" || echo "run.sh: scripts/setup.sh failed" >&2
fi
export SB_TEST_PYTHON="$PY" SB_TEST_CLIENTS="$HERE/clients.py"

# --- build -----------------------------------------------------------------------------------
echo "building libswitchboard (release)..."
# Builds run whatever the name filter: the tests it selects need them.
FILTER="" check "build: make -C ffi (cargo build --release -p switchboard-ffi)" 1200 \
  make -s -C "$ROOT/ffi"
if [ ! -f "$RELEASE/libswitchboard.so" ]; then finish; fi
# test_worker attaches to the operator program, which it starts.
FILTER="" check "build: the operator (cargo build --release -p switchboard-operator)" 1200 \
  bash -c "cd '$ROOT' && cargo build --release -p switchboard-operator"
export SB_TEST_OPERATOR="$RELEASE/switchboard"

check "rust: cargo test -p switchboard-ffi (unit tests, header check)" 1200 \
  bash -c "cd '$ROOT' && cargo test -p switchboard-ffi"

tests=()
for src in "$HERE"/test_*.c; do tests+=("$(basename "$src" .c)"); done
FILTER="" check "compile: tests/c/harness.c" 60 "$CC" "${CFLAGS[@]}" -c "$HERE/harness.c" -o "$BUILD/harness.o"
for t in "${tests[@]}"; do
  rm -f "$BUILD/$t"
  check "compile: tests/c/$t.c" 60 \
    "$CC" "${CFLAGS[@]}" "$HERE/$t.c" "$BUILD/harness.o" "${LDFLAGS[@]}" -o "$BUILD/$t"
done
for ex in echo chat; do
  rm -f "$BUILD/example-$ex"
  check "compile: ffi/examples/$ex.c" 60 \
    "$CC" "${CFLAGS[@]}" "$ROOT/ffi/examples/$ex.c" "${LDFLAGS[@]}" -o "$BUILD/example-$ex"
  lines=$(wc -l <"$ROOT/ffi/examples/$ex.c")
  check "size: ffi/examples/$ex.c under 150 lines" 5 test "$lines" -lt 150
done

# --- run -------------------------------------------------------------------------------------
run_all() { # MODE SECONDS IO_SECONDS PREFIX...
  local mode="$1" secs="$2" io="$3"
  shift 3
  export SB_TEST_TIMEOUT=$((secs - 10)) SB_TEST_IO_TIMEOUT="$io"
  for t in "${tests[@]}"; do
    [ -x "$BUILD/$t" ] && check "$mode: $t" "$secs" "$@" "$BUILD/$t"
  done
  for ex in echo chat; do
    [ -x "$BUILD/example-$ex" ] &&
      check "$mode: example $ex" "$secs" "$PY" "$HERE/examples.py" "$ex" "$@" "$BUILD/example-$ex"
  done
  [ -x "$BUILD/example-echo" ] && check "$mode: example echo --threads 0 (inline)" "$secs" \
    "$PY" "$HERE/examples.py" echo "$@" "$BUILD/example-echo" --threads 0
  [ -x "$BUILD/example-echo" ] && check "$mode: example echo over TLS" "$secs" \
    "$PY" "$HERE/examples.py" echo-tls "$@" "$BUILD/example-echo"
}
run_all plain 60 10
if [ "$VALGRIND" -eq 1 ]; then
  run_all valgrind 240 40 "${MEMCHECK[@]}"
fi

# --- install ---------------------------------------------------------------------------------
PREFIX="$BUILD/prefix"
rm -rf "$PREFIX"
check "install: make -C ffi install PREFIX=..." 1200 make -s -C "$ROOT/ffi" install PREFIX="$PREFIX"
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
# LIBDIR: libswitchboard.so -> its SONAME (libswitchboard.so.ABI) -> the versioned file.
soname_links() {
  local soname
  soname=$(readelf -d "$1/libswitchboard.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
  echo "SONAME: ${soname:-none}"
  [[ $soname == libswitchboard.so.* ]] && [ "$(readlink "$1/libswitchboard.so")" = "$soname" ] &&
    [ -f "$1/$(readlink "$1/$soname")" ] && [ ! -L "$1/$(readlink "$1/$soname")" ]
}
check "install: the library's SONAME and links" 10 bash -c "$(declare -f soname_links); soname_links '$PREFIX/lib'"
check "install: cc \$(pkg-config --cflags --libs switchboard)" 60 bash -c \
  "$CC -std=c11 -Wall -Wextra -Werror -o '$BUILD/echo-installed' '$ROOT/ffi/examples/echo.c' \
     \$(pkg-config --cflags --libs switchboard) &&
   LD_LIBRARY_PATH='$PREFIX/lib' timeout 10 '$PY' '$HERE/examples.py' echo '$BUILD/echo-installed'"
check "install: static link with libswitchboard.a" 60 bash -c \
  "$CC -std=c11 -o '$BUILD/echo-static' '$ROOT/ffi/examples/echo.c' \
     \$(pkg-config --cflags switchboard) '$PREFIX/lib/libswitchboard.a' \
     \$(pkg-config --static --libs-only-l switchboard | sed 's/-lswitchboard//') &&
   ! ldd '$BUILD/echo-static' | grep -q libswitchboard &&
   timeout 10 '$PY' '$HERE/examples.py' echo '$BUILD/echo-static'"

finish
