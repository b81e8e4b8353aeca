#!/bin/sh
# Audit benchmark: tidewatch audit over a generated fleet of device
# configurations (bench/bench_gen_fleet.c: IOS XE, NX-OS, IOS XR, Junos brace
# and set, 300-1,500 lines each, a few percent with the campaign's tradecraft),
# against the shipped catalogue, vulnerability data and the sample bundle.
# Usage: bench/run_audit.sh BUILD_DIR
# Environment: TW_BENCH_DEVICES (default 10000), TW_BENCH_SEED (1),
# TW_BENCH_RUNS (3), TW_BENCH_DIR (${TMPDIR:-/tmp}/tw-bench).
#
# The fleet is generated once and reused. Each run is
# `tidewatch audit --threads 1 --format jsonl -o /dev/null --stats`; the best
# run is reported as configs/s and MB/s of configuration text, then once with
# --threads 2. When valgrind is installed, callgrind counts the instructions
# per device on a 100-device slice. The aim: 10,000 devices in under 10 s on
# one core.
set -u
build=${1:?usage: run_audit.sh BUILD_DIR}
n=${TW_BENCH_DEVICES:-10000}
seed=${TW_BENCH_SEED:-1}
runs=${TW_BENCH_RUNS:-3}
dir=${TW_BENCH_DIR:-${TMPDIR:-/tmp}/tw-bench}
src=$(cd "$(dirname "$0")/.." && pwd)
gen="$build/bench/bench_gen_fleet"
tw="$build/tidewatch"
fleet="$dir/fleet-$n-$seed"
intel="$src/samples/intel/salt-typhoon-demo.json"
mkdir -p "$dir"

now() { date +%s.%N; }

[ -x "$tw" ] || { echo "run_audit.sh: $tw not built"; exit 1; }
if ! "$tw" audit --help >/dev/null 2>&1; then
    echo "run_audit.sh: this tidewatch has no audit command yet"
    exit 1
fi
if [ ! -s "$fleet.txt" ]; then
    [ -x "$gen" ] || { echo "run_audit.sh: $gen not built (ninja -C $build bench/bench_gen_fleet)"; exit 1; }
    rm -rf "$fleet"
    "$gen" "$fleet" --devices "$n" --seed "$seed" | tee "$fleet.txt.tmp" && mv "$fleet.txt.tmp" "$fleet.txt" || exit 1
else
    echo "reusing $fleet"
    cat "$fleet.txt"
fi
bytes=$(cat "$fleet"/* | wc -c)
echo "fleet: $n devices, $bytes bytes of configuration"
echo

# One run: prints "SECONDS FINDINGS", keeps stderr in $dir/audit.err.
run() {
    t0=$(now)
    /usr/bin/time -f %M -o "$dir/audit.rss" "$tw" audit "$@" --format jsonl -o /dev/null \
        --stats -q --intel "$intel" "$fleet" 2>"$dir/audit.err"
    rc=$?
    t1=$(now)
    if [ $rc -gt 1 ]; then
        echo "run_audit.sh: tidewatch audit exited $rc:" >&2
        tail -5 "$dir/audit.err" >&2
        return 1
    fi
    f=$(sed -n 's/.* \([0-9]*\) findings in .*/\1/p' "$dir/audit.err" | head -1)
    awk -v a="$t0" -v b="$t1" -v f="${f:-0}" 'BEGIN { printf "%.3f %d\n", b - a, f }'
}

best=0
for i in $(seq 1 "$runs"); do
    r=$(run --threads 1) || exit 1
    s=${r% *}
    echo "run $i: $s s, ${r#* } findings, peak RSS $(cat "$dir/audit.rss") KB"
    best=$(awk -v a="$best" -v b="$s" 'BEGIN { print (a == 0 || b < a) ? b : a }')
done
grep '^tidewatch audit:' "$dir/audit.err" | head -2
awk -v s="$best" -v n="$n" -v b="$bytes" 'BEGIN {
    printf "%-36s %8.2f s  %8.0f configs/s  %7.1f MB/s\n", "tidewatch audit --threads 1 (best)", s, n / s, b / s / 1e6 }'
r=$(run --threads 2) || exit 1
awk -v s="${r% *}" -v n="$n" -v b="$bytes" 'BEGIN {
    printf "%-36s %8.2f s  %8.0f configs/s  %7.1f MB/s\n", "tidewatch audit --threads 2", s, n / s, b / s / 1e6 }'
awk -v s="$best" -v n="$n" 'BEGIN {
    t = s * 10000 / n
    printf "aim: 10,000 devices in under 10 s on one core: %.2f s for 10,000 -> %s\n", t, t < 10 ? "met" : "NOT met" }'

# Instructions per device, on a 100-device slice (callgrind runs ~50x slower).
if command -v valgrind >/dev/null 2>&1; then
    # Every (n/100)th device, so the slice has the fleet's mix of platforms.
    slice="$dir/fleet-$n-$seed-slice100"
    if [ ! -d "$slice" ]; then
        mkdir -p "$slice"
        ls "$fleet" | awk -v k="$((n / 100))" 'k < 1 || NR % k == 1' | head -100 |
            while read -r f; do cp "$fleet/$f" "$slice/"; done
    fi
    if timeout 600 valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" \
            "$tw" audit -q --format jsonl -o /dev/null --intel "$intel" "$slice" 2>"$dir/callgrind.err"; then
        ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$dir/callgrind.err" | tail -1)
        [ -n "$ir" ] && awk -v i="$ir" 'BEGIN { printf "callgrind: %.1f M instructions per device (100-device slice, start-up included)\n", i / 100 / 1e6 }'
    else
        echo "callgrind: did not finish within 600 s"
    fi
else
    echo "callgrind: valgrind not installed, instruction counts skipped"
fi
echo
echo "No competitor runs here: Batfish needs its JVM service and pybatfish from pip,"
echo "Nipper is commercial, ccat and pynipper-ng need pip; none is installable from"
echo "Debian packages on this machine, so there is no side-by-side figure."
