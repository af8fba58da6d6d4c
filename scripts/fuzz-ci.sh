#!/usr/bin/env bash
# CI's check that every fuzz target still builds and runs: a stable build of fuzz/ (no
# sanitizers, no coverage instrumentation) into the shared target dir, then each target run for a
# few seconds on a scratch copy of its committed seeds. libFuzzer executes every seed first, so a
# seed that now crashes fails CI. Real fuzzing (nightly, AddressSanitizer, coverage-guided) is
# scripts/fuzz-smoke.sh and `cargo +nightly fuzz run T`; see docs/robustness.md.
# Usage: scripts/fuzz-ci.sh [seconds per target, default 3]
set -euo pipefail

secs="${1:-3}"
cd "$(dirname "$0")/.."

cargo build --locked --manifest-path fuzz/Cargo.toml --target-dir target
targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^mcp-audit-fuzz$')
for t in $targets; do
    work=$(mktemp -d)
    cp -R "fuzz/corpus/$t/." "$work/" 2>/dev/null || true
    echo "== fuzz target $t (${secs}s on its seeds)"
    "target/debug/$t" "$work" -max_total_time="$secs" -print_final_stats=0 2>&1 | tail -n 1
    rm -rf "$work"
done
echo "all fuzz targets built and ran"
