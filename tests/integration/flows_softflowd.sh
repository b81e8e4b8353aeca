#!/bin/sh
# A real exporter end to end: Debian's softflowd reads captures and exports
# their flows, as NetFlow v9 and as IPFIX, to two collectors at once (its -n
# takes a comma-separated list and sends every datagram to each): tidewatch
# flows collect and nfcapd. nfdump and `tidewatch flows query` must then
# agree on the number of flows, the total packets and bytes, and on every
# flow's protocol, addresses, ports, packets and bytes. The captures are the
# project's sample and, when ../shared/data is there, the Ethernet captures
# of its pcap folder.
set -u
bin=${TW_BIN:?TW_BIN must point at the tidewatch binary}
for t in softflowd softflowctl nfcapd nfdump; do
    command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t is not installed"; exit 77; }
done
work=$(mktemp -d)
col_pid=
nf_pid=
sfd_pid=
trap 'for p in $col_pid $nf_pid $sfd_pid; do kill -9 "$p" 2>/dev/null; done; [ -n "${TW_KEEP:-}" ] || rm -rf "$work"' EXIT
fails=0
passes=0
ok() { printf 'ok   %s\n' "$1"; passes=$((passes + 1)); }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

captures="$TW_SOURCE_DIR/samples/pcap/salt-typhoon-demo.pcap"
shared=${TW_SHARED_DATA:-$TW_SOURCE_DIR/../shared/data}/pcap
if [ -d "$shared" ]; then
    for f in $(find "$shared" -name '*.pcap' | sort); do
        # Ethernet captures only (link type 1 at offset 20 of a little-endian
        # pcap header): the others are left to `hunt`.
        if [ "$(od -An -tx1 -N4 "$f" | tr -d ' ')" = d4c3b2a1 ] &&
                [ "$(od -An -tu4 -j20 -N4 "$f" | tr -d ' ')" = 1 ]; then
            captures="$captures $f"
        fi
    done
else
    echo "note: $shared is absent: only the project's sample capture is exported"
fi
[ -f "$TW_SOURCE_DIR/samples/pcap/salt-typhoon-demo.pcap" ] ||
    { echo "SKIP: samples/pcap/salt-typhoon-demo.pcap is absent"; exit 77; }

# tidewatch's collector on an ephemeral port.
: >"$work/col.err"
"$bin" flows collect --listen 127.0.0.1:0 --archive "$work/tw" --stats-every 0 2>"$work/col.err" &
col_pid=$!
tw_port=
for _ in $(seq 1 100); do
    tw_port=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$work/col.err")
    [ -n "$tw_port" ] && break
    sleep 0.05
done
[ -n "$tw_port" ] || { echo "the collector did not start:"; cat "$work/col.err"; exit 1; }

# nfcapd needs a port number: try a few until one binds.
nf_port=
for try in 1 2 3 4 5 6 7 8; do
    p=$((20000 + ($$ * 7 + try * 977) % 40000))
    mkdir -p "$work/nf"
    nfcapd -b 127.0.0.1 -p "$p" -w "$work/nf" -t 3600 >"$work/nfcapd.log" 2>&1 &
    nf_pid=$!
    sleep 0.5
    if kill -0 "$nf_pid" 2>/dev/null; then
        nf_port=$p
        break
    fi
    wait "$nf_pid" 2>/dev/null
    nf_pid=
done
[ -n "$nf_port" ] || { echo "nfcapd did not start:"; cat "$work/nfcapd.log"; exit 1; }

# softflowd -r blocks on its control socket before it reads the capture: the
# first control command starts it, `shutdown` exports every flow and ends it.
export_capture() {
    cap=$1 version=$2
    rm -f "$work/sfd.ctl"
    softflowd -r "$cap" -n "127.0.0.1:$tw_port,127.0.0.1:$nf_port" -v "$version" -d \
        -p "$work/sfd.pid" -c "$work/sfd.ctl" >"$work/sfd.log" 2>&1 &
    sfd_pid=$!
    for _ in $(seq 1 100); do
        [ -S "$work/sfd.ctl" ] && break
        sleep 0.02
    done
    softflowctl -c "$work/sfd.ctl" statistics >/dev/null 2>&1
    sleep 0.3
    softflowctl -c "$work/sfd.ctl" shutdown >/dev/null 2>&1
    wait "$sfd_pid"
    sfd_pid=
}
n_caps=0
for cap in $captures; do
    export_capture "$cap" 9
    export_capture "$cap" 10
    n_caps=$((n_caps + 1))
done
sleep 0.5
kill -TERM "$col_pid"
wait "$col_pid"
col_status=$?
col_pid=
kill -TERM "$nf_pid"
wait "$nf_pid"
nf_pid=

# nfdump's view: one line per flow, then the totals.
# nfdump writes an ICMP destination port as TYPE.CODE, tidewatch as NetFlow
# carries it: TYPE * 256 + CODE.
nfdump -R "$work/nf" -q -N -6 -o 'fmt:%pr|%sa|%sp|%da|%dp|%pkt|%byt' 2>"$work/nfdump.err" |
    tr -d ' ' | awk -F'|' -v OFS='|' '$5 ~ /\./ { split($5, t, "."); $5 = t[1] * 256 + t[2] } { print }' |
    sort >"$work/nf.flows"
# tidewatch's: the same columns from the CSV (pr sa sp da dp ipkt ibyt).
"$bin" flows query --archive "$work/tw" -q -o csv 2>"$work/query.err" |
    awk -F, '!/^ts,/ { print $8 "|" $4 "|" $6 "|" $5 "|" $7 "|" $11 "|" $12 }' | sort >"$work/tw.flows"
sum() { awk -F'|' -v c="$2" '{ s += $c } END { printf "%d\n", s }' "$1"; }
nf_n=$(grep -c . "$work/nf.flows")
tw_n=$(grep -c . "$work/tw.flows")

if [ "$col_status" -eq 0 ] && [ "$nf_n" -gt 0 ] && [ "$tw_n" = "$nf_n" ]; then
    ok "$n_caps captures, v9 and IPFIX: nfdump and tidewatch both have $tw_n flows"
else
    bad "flow counts: nfdump $nf_n, tidewatch $tw_n (collector exit $col_status)"
    cat "$work/col.err" "$work/query.err" "$work/nfdump.err"
fi
if [ "$(sum "$work/tw.flows" 6)" = "$(sum "$work/nf.flows" 6)" ] &&
        [ "$(sum "$work/tw.flows" 7)" = "$(sum "$work/nf.flows" 7)" ]; then
    ok "the same totals: $(sum "$work/tw.flows" 6) packets, $(sum "$work/tw.flows" 7) bytes"
else
    bad "totals: packets $(sum "$work/tw.flows" 6) vs $(sum "$work/nf.flows" 6), bytes $(sum "$work/tw.flows" 7) vs $(sum "$work/nf.flows" 7)"
fi
if cmp -s "$work/tw.flows" "$work/nf.flows"; then
    ok "every flow agrees: protocol, addresses, ports, packets, bytes"
else
    bad "per-flow differences (< tidewatch, > nfdump):"
    diff "$work/tw.flows" "$work/nf.flows" | head -10
fi
# nfcapd's files imported through nfdump: the same flows once more.
"$bin" flows import --archive "$work/imp" --nfdump "$work/nf" >"$work/imp.out" 2>"$work/imp.err"
imp_status=$?
"$bin" flows query --archive "$work/imp" -q -o csv 2>>"$work/imp.err" |
    awk -F, '!/^ts,/ { print $8 "|" $4 "|" $6 "|" $5 "|" $7 "|" $11 "|" $12 }' | sort >"$work/imp.flows"
if [ "$imp_status" -eq 0 ] && grep -q "^imported 1 nfdump input: $nf_n flows read, $nf_n records written, 0 bad lines" "$work/imp.out" &&
        cmp -s "$work/imp.flows" "$work/nf.flows"; then
    ok "flows import --nfdump of nfcapd's files gives nfdump's $nf_n flows"
else
    bad "nfdump import (exit $imp_status)"; cat "$work/imp.out" "$work/imp.err"
    diff "$work/imp.flows" "$work/nf.flows" | head -5
fi

# Sequence numbers are not checked: every softflowd run is a new exporter on
# the same address and domain, and softflowd 1.1.0 starts v9 at 1 and counts
# IPFIX's including the message's own records, so restarts and jumps appear.
if grep -q ' 0 v9, ' "$work/col.err" || grep -q ' 0 IPFIX)' "$work/col.err"; then
    bad "the collector did not see both versions"; cat "$work/col.err"
elif grep -q 'malformed 0, unsupported 0, ' "$work/col.err" &&
        grep -q 'no template 0 ' "$work/col.err"; then
    ok "softflowd's v9 and IPFIX datagrams all decoded (none malformed, none without template)"
else
    bad "collector counters"; cat "$work/col.err"
fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
