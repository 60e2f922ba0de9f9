#!/usr/bin/env bash
# Runs every fuzz target in fuzz/fuzz_targets for a bounded time, starting
# from its committed seeds (fuzz/seeds/<target>/) copied into a temporary
# corpus, so that a run never changes the repository. Then it replays that
# corpus (the committed seeds and every input the run added) through the
# target under valgrind memcheck: the fuzzers run without a sanitizer (the
# stable toolchain has none), and the decoder's path has unsafe code
# (`set_len` in core/src/protocol/mask.rs) whose memory errors only a
# checker sees.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 30)
# Exits non-zero if a target crashes (the crashing input is kept under
# fuzz/artifacts/<target>/, which git ignores), fails to build, or makes
# memcheck report an error.
set -euo pipefail

secs="${1:-30}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz
fi

if ! command -v valgrind >/dev/null 2>&1; then
    echo "fuzz.sh: valgrind is missing (scripts/setup.sh installs it)" >&2
    exit 1
fi
host="$(rustc -vV | sed -n 's/^host: //p')"

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
    # memcheck replay below stands in for one). RUSTC_BOOTSTRAP
    # covers cargo-fuzz versions that pass other unstable flags.
    if ! (cd "$root" && RUSTC_BOOTSTRAP=1 cargo fuzz run -s none "$target" "$corpus" \
        -- -max_total_time="$secs"); then
        echo "!! $target: crash or build failure (see fuzz/artifacts/$target/)" >&2
        status=1
        continue
    fi
    # -runs=0: run each corpus input once, generate nothing.
    echo "== replaying $target's corpus ($(find "$corpus" -type f | wc -l) inputs) under valgrind memcheck"
    log="$work/$target.memcheck.log"
    if valgrind -q --error-exitcode=99 --leak-check=no \
        "$root/fuzz/target/$host/release/$target" -runs=0 "$corpus" >"$log" 2>&1; then
        grep '^Done' "$log" || true
    else
        grep -v -e '^INFO: ' -e '^WARNING: Failed to find function' "$log" | tail -n 60 >&2
        echo "!! $target: memcheck found an error replaying the corpus" >&2
        status=1
    fi
done
exit "$status"
