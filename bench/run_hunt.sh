#!/bin/sh
# Hunt benchmark: tidewatch against the read ceiling, tcpdump and tshark on the
# same capture and indicator list.
# Usage: bench/run_hunt.sh BUILD_DIR
# Environment: TW_BENCH_SIZE (default 1G), TW_BENCH_SEED (1), TW_BENCH_INDICATORS
# (100000), TW_BENCH_DIR (${TMPDIR:-/tmp}/tw-bench), TW_BENCH_TSHARK_MAX (300 s).
#
# The capture and bundle come from tw_pcapgen and are made once, then reused.
# tcpdump gets a `host A or host B ...` filter of the largest of 10/100/1000
# address indicators that its BPF optimiser compiles within 60 s (1,000 hosts
# take about a minute, 10,000 do not compile in reasonable time); tshark gets
# `ip.addr in {...}` with the same addresses, on a slice of the capture when the
# whole would take longer than TW_BENCH_TSHARK_MAX, and its time is scaled up.
set -u
build=${1:?usage: run_hunt.sh BUILD_DIR}
size=${TW_BENCH_SIZE:-1G}
seed=${TW_BENCH_SEED:-1}
n_ioc=${TW_BENCH_INDICATORS:-100000}
dir=${TW_BENCH_DIR:-${TMPDIR:-/tmp}/tw-bench}
tshark_max=${TW_BENCH_TSHARK_MAX:-300}
gen="$build/tests/gen/tw_pcapgen"
tw="$build/tidewatch"
pcap="$dir/bench-$size-$seed.pcap"
intel="$dir/bench-intel-$n_ioc-$seed.json"
mkdir -p "$dir"

now() { date +%s.%N; }
# rate LABEL SECONDS PACKETS BYTES: one result line; remembers the seconds in t_LABEL.
rate() {
    awk -v l="$1" -v s="$2" -v p="$3" -v b="$4" 'BEGIN {
        if (s <= 0) s = 1e-9
        printf "%-34s %8.2f s  %10.0f pkt/s  %8.1f MB/s\n", l, s, p / s, b / s / 1e6 }'
}
ratio() { awk -v a="$2" -v b="$3" -v l="$1" 'BEGIN { if (b > 0 && a > 0) printf "%-34s %8.2f x\n", l, b / a; else printf "%-34s n/a\n", l }'; }

if [ ! -s "$pcap" ] || [ ! -s "$intel" ]; then
    [ -x "$gen" ] || { echo "run_hunt.sh: $gen not built (ninja -C $build tw_pcapgen)"; exit 1; }
    bad=$(awk -v n="$n_ioc" 'BEGIN { printf "%d", n * 0.01 + 0.5 }')
    "$gen" bench "$pcap" --size "$size" --seed "$seed" --bad-sites "$bad" | tee "$pcap.txt" || exit 1
    "$gen" bench-intel "$intel" --indicators "$n_ioc" --hit-rate 0.01 --seed "$seed" | tee "$intel.txt" || exit 1
else
    echo "reusing $pcap and $intel"
    cat "$pcap.txt" "$intel.txt" 2>/dev/null
fi
bytes=$(stat -c %s "$pcap")
packets=$(sed -n 's/.* bytes, \([0-9]*\) packets.*/\1/p' "$pcap.txt" 2>/dev/null)
[ -n "$packets" ] || packets=$(capinfos -M -c "$pcap" | awk '/Number of packets/ { print $NF }')
echo "capture: $bytes bytes, $packets packets; bundle: $n_ioc indicators"
echo

# 1. The ceiling: reading the file.
cat "$pcap" > /dev/null # warm the page cache
t0=$(now); cat "$pcap" > /dev/null; t1=$(now)
t_cat=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
rate "cat (read ceiling)" "$t_cat" "$packets" "$bytes"

# 2. tidewatch hunt.
t_tw=0
t_twc=0
t_tw2=0
if [ -x "$tw" ]; then
    t0=$(now)
    /usr/bin/time -f %M -o "$dir/tw.rss" "$tw" hunt --intel "$intel" --eve /dev/null "$pcap" > "$dir/tw.out" 2>&1
    rc=$?
    t1=$(now)
    if [ $rc -ne 0 ] && grep -qiE 'unknown command|no such command|not a command|usage' "$dir/tw.out"; then
        echo "tidewatch hunt: the binary has no hunt command yet ($(head -1 "$dir/tw.out"))"
    elif [ $rc -ne 0 ]; then
        echo "tidewatch hunt: exit $rc: $(tail -3 "$dir/tw.out")"
    else
        t_tw=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
        rate "tidewatch hunt ($n_ioc indicators)" "$t_tw" "$packets" "$bytes"
        echo "tidewatch peak RSS: $(cat "$dir/tw.rss") KB"
        tail -5 "$dir/tw.out"
        # The same indicators compiled once (intel compile), as a sensor would load them.
        twi="${intel%.json}.twi"
        t0=$(now)
        "$tw" intel compile -q -o "$twi" "$intel"
        t1=$(now)
        echo "tidewatch intel compile: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s, $(stat -c %s "$twi") bytes"
        t0=$(now)
        /usr/bin/time -f %M -o "$dir/twc.rss" "$tw" hunt --intel "$twi" --eve /dev/null "$pcap" > "$dir/twc.out" 2>&1
        t1=$(now)
        t_twc=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
        rate "tidewatch hunt (compiled index)" "$t_twc" "$packets" "$bytes"
        echo "tidewatch peak RSS: $(cat "$dir/twc.rss") KB"
        head -1 "$dir/twc.out"
        # The same with both cores (--threads 2).
        t0=$(now)
        "$tw" hunt --threads 2 --intel "$twi" --eve /dev/null "$pcap" > "$dir/tw2.out" 2>&1
        t1=$(now)
        t_tw2=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
        rate "tidewatch hunt --threads 2 (compiled)" "$t_tw2" "$packets" "$bytes"
        head -1 "$dir/tw2.out"
    fi
else
    echo "tidewatch: $tw not built"
fi

# 3. tcpdump with the largest host list that compiles within 60 s.
grep -oE "ipv4-addr:value = '[0-9.]+'" "$intel" | sed "s/.*= '//; s/'//" > "$dir/addrs.txt"
n_hosts=0
for n in 10 100 1000; do
    head -n "$n" "$dir/addrs.txt" | awk 'NR > 1 { printf " or " } { printf "host %s", $1 } END { print "" }' > "$dir/filter-$n.txt"
    t0=$(now)
    if timeout 60 tcpdump -d -F "$dir/filter-$n.txt" > /dev/null 2>&1; then
        t1=$(now)
        echo "tcpdump: $n hosts compile in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
        n_hosts=$n
    else
        echo "tcpdump: $n hosts do not compile within 60 s"
        break
    fi
done
t_td=0
if [ "$n_hosts" -gt 0 ]; then
    t0=$(now)
    tcpdump -r "$pcap" -w /dev/null -F "$dir/filter-$n_hosts.txt" 2> "$dir/tcpdump.err"
    t1=$(now)
    t_td=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    rate "tcpdump ($n_hosts hosts, incl. compile)" "$t_td" "$packets" "$bytes"
fi

# 4. tshark with the same addresses; a slice when the whole file would take too long.
t_ts=0
if [ "$n_hosts" -gt 0 ] && command -v tshark > /dev/null; then
    set_=$(head -n "$n_hosts" "$dir/addrs.txt" | paste -sd, -)
    slice="$dir/slice-100k.pcap"
    [ -s "$slice" ] || editcap -F pcap -r "$pcap" "$slice" 1-100000
    t0=$(now)
    if ! tshark -r "$slice" -Y "ip.addr in {$set_}" > "$dir/tshark.out" 2>&1; then
        echo "tshark failed: $(grep -v 'Running as user' "$dir/tshark.out" | head -2)"
    fi
    t1=$(now)
    t_slice=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    est=$(awk -v s="$t_slice" -v p="$packets" 'BEGIN { printf "%.0f", s * p / 100000 }')
    if [ "$est" -le "$tshark_max" ]; then
        t0=$(now)
        tshark -r "$pcap" -Y "ip.addr in {$set_}" 2>/dev/null | wc -l > "$dir/tshark.count"
        t1=$(now)
        t_ts=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
        rate "tshark ($n_hosts addresses)" "$t_ts" "$packets" "$bytes"
        echo "tshark: $(cat "$dir/tshark.count") packets matched"
    else
        t_ts=$est
        echo "tshark: whole file estimated at $est s (> $tshark_max s); measured on the first 100,000 packets and scaled"
        rate "tshark ($n_hosts addresses, scaled)" "$t_ts" "$packets" "$bytes"
    fi
fi

echo
ratio "tidewatch (bundle) / ceiling" "$t_tw" "$t_cat" | sed 's/ x$//'
ratio "tidewatch (compiled) / ceiling" "$t_twc" "$t_cat" | sed 's/ x$//'
ratio "tidewatch --threads 2 / ceiling" "${t_tw2:-0}" "$t_cat" | sed 's/ x$//'
ratio "tidewatch (compiled) vs tcpdump" "$t_twc" "$t_td"
ratio "tidewatch (compiled) vs tshark" "$t_twc" "$t_ts"
ratio "tidewatch (bundle) vs tcpdump" "$t_tw" "$t_td"
ratio "tidewatch (bundle) vs tshark" "$t_tw" "$t_ts"
