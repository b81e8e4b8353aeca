#!/bin/sh
# Flow benchmark: tidewatch's collector and archive against nfcapd/nfdump on
# the same generated NetFlow stream.
# Usage: bench/run_flows.sh BUILD_DIR
# Environment: TW_BENCH_FLOWS (default 50000000), TW_BENCH_VERSION (9),
# TW_BENCH_SEED (1), TW_BENCH_INDICATORS (10000), TW_BENCH_RATE_TW (1000000
# flows/s), TW_BENCH_RATE_NF (900000 flows/s), TW_BENCH_BURST (10000000),
# TW_BENCH_DIR (${TMPDIR:-/tmp}/tw-bench; the work files go to its flows/).
#
# 1. Collection. The same stream (`tidewatch flows generate`, one seed) is
#    sent once to `tidewatch flows collect` and once to `nfcapd -y` (LZ4),
#    each paced at a rate it takes without loss on this machine (tidewatch
#    1 M flows/s, nfcapd 0.9 M flows/s as measured in the reference notes).
#    Loss: tidewatch's own counters (sequence and kernel drops), nfcapd's
#    flow count from `nfdump -I`. Then a shorter stream (TW_BENCH_BURST
#    flows) as fast as the generator goes, to each: the rate and what was
#    lost. Both collectors get the same socket buffer: 64 MiB when
#    net.core.rmem_max can be raised for the run (it is restored), else
#    rmem_max for both.
# 2. Archive sizes, bytes per flow.
# 3. The hunt: TW_BENCH_INDICATORS addresses from the generator's outside
#    range 20.0.0.0/10, as `nfdump -R DIR -f FILE` with 'ip in [ ... ]' and as
#    a STIX 2.1 bundle for `tidewatch flows hunt`: wall times, hits (they
#    must agree), the ratio.
set -u
build=${1:?usage: run_flows.sh BUILD_DIR}
n=${TW_BENCH_FLOWS:-50000000}
version=${TW_BENCH_VERSION:-9}
seed=${TW_BENCH_SEED:-1}
n_ioc=${TW_BENCH_INDICATORS:-10000}
rate_tw=${TW_BENCH_RATE_TW:-1000000}
rate_nf=${TW_BENCH_RATE_NF:-900000}
burst=${TW_BENCH_BURST:-10000000}
dir=${TW_BENCH_DIR:-${TMPDIR:-/tmp}/tw-bench}/flows
tw="$build/tidewatch"
nf_port=${TW_BENCH_NF_PORT:-29995}
[ "$burst" -gt "$n" ] && burst=$n

for t in nfcapd nfdump; do
    command -v "$t" >/dev/null 2>&1 || { echo "run_flows.sh: skipped: $t is not installed (apt-get install nfdump)"; exit 0; }
done
[ -x "$tw" ] || { echo "run_flows.sh: $tw not built"; exit 1; }
mkdir -p "$dir"

col_pid=
nf_pid=
rmem_old=
cleanup() {
    [ -n "$col_pid" ] && kill -TERM "$col_pid" 2>/dev/null
    [ -n "$nf_pid" ] && kill -TERM "$nf_pid" 2>/dev/null
    if [ -n "$rmem_old" ]; then
        echo "$rmem_old" >/proc/sys/net/core/rmem_max 2>/dev/null
    fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v l="$1" -v a="$2" -v b="$3" 'BEGIN { if (a > 0 && b > 0) printf "%-44s %8.2f x\n", l, b / a; else printf "%-44s n/a\n", l }'; }

# The socket buffer both collectors get.
rcvbuf=67108864
rmem=$(cat /proc/sys/net/core/rmem_max 2>/dev/null || echo 0)
if [ "$rmem" -lt "$rcvbuf" ]; then
    if echo "$rcvbuf" >/proc/sys/net/core/rmem_max 2>/dev/null; then
        rmem_old=$rmem
        echo "net.core.rmem_max raised from $rmem to $rcvbuf for the run"
    else
        rcvbuf=$rmem
        echo "net.core.rmem_max is $rmem and cannot be raised: both collectors get $rcvbuf bytes"
    fi
fi

# tw_collect ARCHIVE: starts tidewatch's collector; sets $col_pid and $col_port.
tw_collect() {
    : >"$dir/collect.err" # truncated here: the old port must not be read back
    "$tw" flows collect --listen 127.0.0.1:0 --archive "$1" --rcvbuf "$rcvbuf" --stats-every 0 \
        2>"$dir/collect.err" &
    col_pid=$!
    col_port=
    for _ in $(seq 1 200); do
        col_port=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$dir/collect.err")
        [ -n "$col_port" ] && break
        sleep 0.05
    done
    [ -n "$col_port" ] || { cat "$dir/collect.err"; exit 1; }
}
tw_stop() {
    kill -TERM "$col_pid"
    wait "$col_pid"
    col_pid=
    sed -n '/stopped:/,$p' "$dir/collect.err"
}
tw_stat() {
    case "$1" in
        records) sed -n 's/.*stopped: .* \([0-9][0-9]*\) records in .*/\1/p' "$dir/collect.err" ;;
        rate) sed -n 's/.*stopped: .* records in [0-9.]* s (\([0-9]*\) records\/s).*/\1/p' "$dir/collect.err" ;;
        *) sed -n "s/.*[ ,]$1 \([0-9][0-9]*\).*/\1/p" "$dir/collect.err" | tail -1 ;;
    esac
}
# nf_collect DIR: starts nfcapd (LZ4) on $nf_port.
nf_collect() {
    rm -rf "$1"
    mkdir -p "$1"
    nfcapd -b 127.0.0.1 -p "$nf_port" -w "$1" -y -B "$rcvbuf" -t 300 >"$dir/nfcapd.log" 2>&1 &
    nf_pid=$!
    sleep 1
    kill -0 "$nf_pid" 2>/dev/null || { echo "nfcapd did not start:"; cat "$dir/nfcapd.log"; exit 1; }
}
nf_stop() {
    kill -TERM "$nf_pid"
    wait "$nf_pid"
    nf_pid=
}
nf_flows() { nfdump -I -R "$1" 2>/dev/null | sed -n 's/^Flows: \([0-9]*\)$/\1/p'; }
# generate PORT FLOWS [RATE]: prints the generator's line.
generate() {
    "$tw" flows generate --to "127.0.0.1:$1" --version "$version" --flows "$2" --seed "$seed" \
        --start 1767225600 ${3:+--rate "$3"}
}

echo "== collection: $n flows, NetFlow v$version, seed $seed"
rm -rf "$dir/tw" "$dir/nf"
tw_collect "$dir/tw"
t0=$(now)
generate "$col_port" "$n" "$rate_tw"
sleep 1
tw_stop
echo "tidewatch flows collect paced at $rate_tw flows/s: $(tw_stat records) of $n flows kept, lost $(tw_stat lost), dropped by the kernel $(tw_stat kernel) ($(since "$t0") s)"
tw_kept=$(tw_stat records)

nf_collect "$dir/nf"
t0=$(now)
generate "$nf_port" "$n" "$rate_nf"
sleep 2
nf_stop
nf_kept=$(nf_flows "$dir/nf")
echo "nfcapd -y paced at $rate_nf flows/s: $nf_kept of $n flows kept ($(since "$t0") s); $(grep -o 'Sequence Errors: [0-9]*' "$dir/nfcapd.log" | tail -1)"

echo
echo "== as fast as the generator goes: $burst flows"
rm -rf "$dir/tw-burst" "$dir/nf-burst"
tw_collect "$dir/tw-burst"
generate "$col_port" "$burst"
sleep 1
tw_stop >/dev/null
echo "tidewatch flows collect: $(tw_stat records) of $burst kept at $(tw_stat rate) records/s, lost $(tw_stat lost), dropped by the kernel $(tw_stat kernel)"
nf_collect "$dir/nf-burst"
t0=$(now)
generate "$nf_port" "$burst"
sleep 2
nf_stop
echo "nfcapd -y: $(nf_flows "$dir/nf-burst") of $burst kept"
rm -rf "$dir/tw-burst" "$dir/nf-burst"

echo
echo "== archive sizes"
tw_bytes=$(du -sb "$dir/tw" | cut -f1)
nf_bytes=$(du -sb "$dir/nf" | cut -f1)
awk -v t="$tw_bytes" -v f="$nf_bytes" -v a="$tw_kept" -v b="$nf_kept" 'BEGIN {
    printf "tidewatch archive  %12.0f bytes  %6.1f bytes/flow\n", t, (a > 0 ? t / a : 0)
    printf "nfcapd -y (LZ4)    %12.0f bytes  %6.1f bytes/flow\n", f, (b > 0 ? f / b : 0)
    if (t > 0) printf "nfdump / tidewatch size: %.2f\n", f / t }'

echo
echo "== hunt: $n_ioc addresses"
# Addresses of the generator's outside range 20.0.0.0/10, distinct, from the seed.
awk -v n="$n_ioc" -v s="$seed" 'BEGIN {
    srand(s); k = 0
    while (k < n) {
        v = int(rand() * 4194304)
        if (v in seen) continue
        seen[v] = 1; k++
        printf "20.%d.%d.%d\n", int(v / 65536), int(v / 256) % 256, v % 256
    } }' >"$dir/iocs.txt"
{ echo "ip in ["; cat "$dir/iocs.txt"; echo "]"; } >"$dir/filter.txt"
awk 'BEGIN { printf "{\"type\":\"bundle\",\"id\":\"bundle--6d8c0a1e-5f11-4c6b-9a51-3f0e2b7d9c40\",\"objects\":[" }
    { printf "%s\n{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08x-7a1c-4d2e-8f00-%012x\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\",\"name\":\"bench address %d\",\"pattern\":\"[ipv4-addr:value = '\''%s'\'']\",\"pattern_type\":\"stix\",\"valid_from\":\"2026-01-01T00:00:00Z\"}", (NR > 1 ? "," : ""), NR, NR, NR, $1 }
    END { print "\n]}" }' "$dir/iocs.txt" >"$dir/bundle.json"

cat "$dir"/nf/nfcapd.* >/dev/null 2>&1 # warm the page cache for both
find "$dir/tw" -name '*.twf' -exec cat {} + >/dev/null
t0=$(now)
nfdump -R "$dir/nf" -q -o line -f "$dir/filter.txt" >"$dir/nfdump.hits" 2>"$dir/nfdump.err"
t_nf=$(since "$t0")
nf_hits=$(grep -c . "$dir/nfdump.hits")
echo "nfdump -R -f 'ip in [ $n_ioc ]'           $t_nf s  $nf_hits flows"
t0=$(now)
"$tw" flows hunt --archive "$dir/tw" -i "$dir/bundle.json" -o "$dir/tw.eve" \
    --stats-json "$dir/tw.hunt.json" 2>"$dir/tw.hunt.err"
t_tw=$(since "$t0")
tw_hits=$(grep -c '"event_type":"alert"' "$dir/tw.eve")
echo "tidewatch flows hunt ($n_ioc indicators)       $t_tw s  $tw_hits hits"
tail -3 "$dir/tw.hunt.err"
if [ "$nf_kept" = "$tw_kept" ] && [ "$nf_hits" = "$tw_hits" ]; then
    echo "hits agree: $tw_hits"
elif [ "$nf_kept" != "$tw_kept" ]; then
    echo "hits: nfdump $nf_hits, tidewatch $tw_hits (the archives hold $nf_kept and $tw_kept flows)"
else
    echo "HITS DISAGREE: nfdump $nf_hits, tidewatch $tw_hits over the same $tw_kept flows"
    disagree=1
fi
ratio "tidewatch flows hunt vs nfdump" "$t_tw" "$t_nf"
exit "${disagree:-0}"
