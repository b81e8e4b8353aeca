#!/bin/sh
# Runs every libFuzzer target built in BUILD_DIR for SECONDS each, starting
# from its committed corpus (new inputs go to a scratch corpus beside it, so
# the tree is not changed). Usage: scripts/run-fuzz.sh BUILD_DIR [SECONDS]
set -eu
cd "$(dirname "$0")/.."
build=${1:?usage: run-fuzz.sh BUILD_DIR [SECONDS]}
secs=${2:-60}
status=0
for bin in "$build"/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    t=$(basename "$bin" | sed 's/^fuzz_//')
    work="$build/fuzz-work/$t"
    mkdir -p "$work" "$build/fuzz-artifacts/$t"
    dict=""
    [ -f "fuzz/dict/$t.dict" ] && dict="-dict=fuzz/dict/$t.dict"
    echo "== $t ($secs s)"
    # shellcheck disable=SC2086
    if ! "$bin" -max_total_time="$secs" -print_final_stats=1 $dict \
            -artifact_prefix="$build/fuzz-artifacts/$t/" "$work" "fuzz/corpus/$t" \
            >"$build/fuzz-artifacts/$t.log" 2>&1; then
        echo "   FINDING: see $build/fuzz-artifacts/$t.log and $build/fuzz-artifacts/$t/"
        status=1
    fi
    grep -E 'stat::number_of_executed_units|cov:' "$build/fuzz-artifacts/$t.log" | tail -2 | sed 's/^/   /'
done
exit $status
