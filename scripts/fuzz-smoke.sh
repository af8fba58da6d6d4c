#!/usr/bin/env bash
# Builds every cargo-fuzz target and runs each for a few seconds on its committed corpus, so that
# the targets keep building and the seeds keep passing (CI). Longer runs: see docs/robustness.md.
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Usage: scripts/fuzz-smoke.sh [seconds per target, default 5]
set -euo pipefail

secs="${1:-5}"
cd "$(dirname "$0")/.."

targets=$(cargo +nightly fuzz list)
cargo +nightly fuzz build
for t in $targets; do
    echo "== $t (${secs}s)"
    # A scratch copy of the seeds: the fuzzer writes what it finds into its corpus directory,
    # and the committed one should only hold seeds.
    work=$(mktemp -d)
    cp -R "fuzz/corpus/$t/." "$work/" 2>/dev/null || true
    cargo +nightly fuzz run "$t" "$work" -- -max_total_time="$secs" -print_final_stats=1
    rm -rf "$work"
done
echo "all fuzz targets built and ran for ${secs}s each"
