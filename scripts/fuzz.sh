#!/usr/bin/env bash
# Runs every fuzz target in fuzz/fuzz_targets for a bounded time, starting
# from its committed seeds (fuzz/seeds/<target>/) copied into a temporary
# corpus, so that a run never changes the repository.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 30)
# Exits non-zero if a target crashes (the crashing input is kept under
# fuzz/artifacts/<target>/, which git ignores) or fails to build.
set -euo pipefail

secs="${1:-30}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

status=0
for source in "$root"/fuzz/fuzz_targets/*.rs; do
    target="$(basename "$source" .rs)"
    corpus="$work/$target"
    mkdir -p "$corpus"
    if [ -d "$root/fuzz/seeds/$target" ]; then
        cp -R "$root/fuzz/seeds/$target/." "$corpus/"
    fi
    echo "== fuzzing $target for ${secs}s"
    # `-s none`: no sanitizer, so the stable toolchain builds the target (the
    # code under test has no unsafe for a sanitizer to watch). RUSTC_BOOTSTRAP
    # covers cargo-fuzz versions that pass other unstable flags.
    if ! (cd "$root" && RUSTC_BOOTSTRAP=1 cargo fuzz run -s none "$target" "$corpus" \
        -- -max_total_time="$secs"); then
        echo "!! $target: crash or build failure (see fuzz/artifacts/$target/)" >&2
        status=1
    fi
done
exit "$status"
