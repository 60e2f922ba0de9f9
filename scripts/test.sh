#!/usr/bin/env bash
# Runs every test of the project. On a fresh Debian 12 machine (as root) it first
# installs what is missing (scripts/setup.sh). Each step is bounded in time.
#
#   scripts/test.sh
#
# Steps: formatting and lints, Rust tests (protocol, server, FFI, benchmark tool),
# a short fuzz run, real-client integration tests and the Autobahn TestSuite,
# the C library's tests (plain and under valgrind), the PHP extension's tests.
# The last line sums up the steps as `N passed, N failed`.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TERM_COLOR=never

passed=0
failed=0
failures=()

step() {
    local name="$1"
    shift
    echo
    echo "=== $name"
    local started=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        echo "=== $name: ok ($((SECONDS - started)) s)"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "=== $name: FAILED ($((SECONDS - started)) s)"
    fi
}

step "setup" scripts/setup.sh || true
step "cargo fmt" cargo fmt --all -- --check
step "cargo clippy" cargo clippy --workspace --all-targets -- -D warnings
step "cargo test" cargo test --workspace
step "fuzz (bounded)" scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
step "real clients and Autobahn" tests/run-integration.sh
[ -x tests/c/run.sh ] && step "C library" tests/c/run.sh
[ -x php-ext/tests/run.sh ] && step "PHP extension" php-ext/tests/run.sh

echo
for f in "${failures[@]}"; do echo "failed step: $f"; done
echo "steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
