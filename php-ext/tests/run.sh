#!/usr/bin/env bash
# The PHP extension's whole test suite: builds the extension and the operator (release),
# then runs
#   1. the .phpt tests with PHP's run-tests.php,
#   2. the end-to-end tests (PHP servers, Python `websockets` and Node `ws` clients),
#   3. PHP-FPM publishing through the control socket (php-ext/tests/fpm), to an
#      in-process server and to the operator with a PHP worker,
#   4. the headless Chromium test of the chat page,
# each bounded in time. Ends with `N passed, N failed`; exits 1 on any failure.
# A runner that exits non-zero, prints no summary or runs no test counts as a
# failure, and so does every skipped .phpt test (SKIPIF, a missing extension).
#
#   php-ext/tests/run.sh
#
# Needs what scripts/setup.sh installs (run here when present), plus Debian's chromium
# and php-ext/tests/browser/node_modules, which this script installs when missing.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
EXT="$TARGET/release/libswitchboard_php.so"
PHP="${PHP:-php}"
passed=0
failed=0
cd "$ROOT"

say() { echo "== $*"; }
count() { passed=$((passed + $1)); failed=$((failed + $2)); }
# Adds the counts of a runner's closing `N passed, N failed` line in $1 (a log file);
# $2 names the runner, $3 is its exit status. A runner that exited non-zero, printed
# no summary or ran no test adds a failure of its own.
count_summary() {
  local line p f
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -1)
  if [ -z "$line" ]; then
    echo "FAIL $2: no summary (timed out or crashed; exit status $3)"
    count 0 1
    return
  fi
  p=$(echo "$line" | cut -d' ' -f1)
  f=$(echo "$line" | cut -d' ' -f3)
  count "$p" "$f"
  if [ $((p + f)) -eq 0 ]; then
    echo "FAIL $2: ran no test"
    count 0 1
  elif [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "FAIL $2: exit status $3 after $line"
    count 0 1
  fi
}

# --- what the tests need ---------------------------------------------------------------------
if [ -x scripts/setup.sh ]; then
  scripts/setup.sh || echo "run.sh: scripts/setup.sh failed; going on with what is installed"
elif ! .venv/bin/python -c 'import websockets' 2>/dev/null; then
  python3 -m venv .venv && .venv/bin/pip install -q websockets
fi
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ]; then
  say "installing chromium"
  apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends chromium >/dev/null
fi
BROWSER="$HERE/browser"
if [ ! -d "$BROWSER/node_modules/playwright-core" ]; then
  (cd "$BROWSER" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# --- build ----------------------------------------------------------------------------------
# The extension, and the operator (`switchboard`) that the worker and FPM tests start.
say "cargo build --release -p switchboard-php -p switchboard-operator"
if ! timeout 900 cargo build --release -p switchboard-php -p switchboard-operator; then
  echo "FAIL build"
  echo "0 passed, 1 failed"
  exit 1
fi
if "$PHP" -d "extension=$EXT" --re switchboard >/dev/null; then
  count 1 0
else
  echo "FAIL php --re switchboard"
  count 0 1
fi

# --- .phpt ----------------------------------------------------------------------------------
say "phpt (run-tests.php)"
RUN_TESTS="$("$PHP" -r 'echo PHP_EXTENSION_DIR;')/build/run-tests.php"
log="$(mktemp)"
NO_INTERACTION=1 timeout 300 "$PHP" "$RUN_TESTS" -q --no-color -p "$(command -v "$PHP")" \
  -d "extension=$EXT" "$HERE" 2>&1 | tee "$log" | grep -E "^(TEST|FAIL|SKIP|WARN|XFAIL|BORK|LEAK)|Tests (passed|failed|skipped)"
# The summary's counts: every test must pass; a skip, a warning or an expected
# failure counts as a failure here, and so does a test the summary does not account for.
phpt_count() { sed -n "s/^$1 *: *\([0-9]*\).*/\1/p" "$log" | head -1; }
files=$(find "$HERE" -maxdepth 1 -name '*.phpt' | wc -l)
total=$(phpt_count 'Number of tests')
p=$(phpt_count 'Tests passed')
if [ -z "$p" ] || [ -z "$total" ]; then
  echo "FAIL phpt: run-tests.php gave no summary"
  count 0 1
else
  bad=0
  for what in 'Tests failed' 'Tests borked' 'Tests skipped' 'Tests warned' 'Expected fail' 'Tests leaked'; do
    n=$(phpt_count "$what")
    bad=$((bad + ${n:-0}))
  done
  skipped=$(phpt_count 'Tests skipped')
  if [ "${skipped:-0}" -gt 0 ]; then
    echo "FAIL phpt: $skipped test(s) skipped, which counts as failed:"
    tr '\r' '\n' <"$log" | grep -aE '^SKIP ' | sed 's/^/  /'
  fi
  if [ "$files" -eq 0 ] || [ "$total" -ne "$files" ] || [ $((p + bad)) -ne "$files" ]; then
    echo "FAIL phpt: $files .phpt files, run-tests.php counted $total and $p passed"
    bad=$((bad + 1))
  fi
  count "$p" "$bad"
fi
rm -f "$log"

# --- end-to-end -----------------------------------------------------------------------------
say "end-to-end (php-ext/tests/e2e)"
log="$(mktemp)"
SWITCHBOARD_EXT="$EXT" PHP="$PHP" timeout 600 .venv/bin/python "$HERE/e2e/run.py" 2>&1 | tee "$log"
count_summary "$log" e2e "${PIPESTATUS[0]}"
rm -f "$log"

# --- PHP-FPM ---------------------------------------------------------------------------------
say "PHP-FPM publishing through the control socket (php-ext/tests/fpm): in-process and operator"
log="$(mktemp)"
SWITCHBOARD_EXT="$EXT" PHP="$PHP" timeout 120 .venv/bin/python "$HERE/fpm/run.py" 2>&1 | tee "$log"
count_summary "$log" fpm "${PIPESTATUS[0]}"
rm -f "$log"

# --- browser --------------------------------------------------------------------------------
say "browser (headless chromium)"
log="$(mktemp)"
SWITCHBOARD_EXT="$EXT" PHP="$PHP" timeout 180 node "$BROWSER/chat.test.js" 2>&1 | tee "$log"
count_summary "$log" browser "${PIPESTATUS[0]}"
rm -f "$log"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
