#!/bin/sh
# tidewatch hunt's inputs and failure modes: standard input, a directory, several
# files, a truncated capture (its good packets and the next file still hunted,
# the damage named with its byte offset, exit 3), a file that is no capture,
# a missing file, --stats-json and the help.
set -u
bin=${TW_BIN:?TW_BIN must point at the tidewatch binary}
dir=${TW_TEST_DATA:?}/pcap
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
passes=0
ok() { printf 'ok   %s\n' "$1"; passes=$((passes + 1)); }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
alerts() { grep -c '"event_type":"alert"' "$1" 2>/dev/null || true; }

"$bin" hunt -q -i "$dir/intel.json" -o "$work/file.json" "$dir/vxlan.pcap"
"$bin" hunt -q -i "$dir/intel.json" -o "$work/stdin.json" - <"$dir/vxlan.pcap"
if [ "$(alerts "$work/file.json")" -gt 0 ] && cmp -s "$work/file.json" "$work/stdin.json"; then
    ok "standard input gives the same alerts as the file"
else
    bad "standard input"
fi

mkdir "$work/d"
cp "$dir/vxlan.pcap" "$dir/gtpu_ipv4.pcap" "$work/d/"
echo "not a capture" >"$work/d/README.txt"
"$bin" hunt -i "$dir/intel.json" -o "$work/dir.json" --stats-json "$work/dir.stats" "$work/d" 2>"$work/dir.err"
st=$?
if [ "$st" -eq 0 ] && [ "$(jq .files "$work/dir.stats")" = 2 ] && [ "$(alerts "$work/dir.json")" -ge 2 ]; then
    ok "a directory: its two captures hunted, other files left alone"
else
    bad "directory (exit $st)"; cat "$work/dir.err"
fi
if jq -e '.packets > 0 and .flows > 0 and .alerts > 0 and (.alerts_per_indicator | length > 0) and has("decode_events") and has("packets_per_second")' "$work/dir.stats" >/dev/null; then
    ok "--stats-json has packets, flows, alerts per indicator, decode events and the rate"
else
    bad "--stats-json"; cat "$work/dir.stats"
fi

head -c 700 "$dir/eth_http.pcap" >"$work/trunc.pcap"
"$bin" hunt -i "$dir/intel.json" -o "$work/trunc.json" "$work/trunc.pcap" "$dir/vxlan.pcap" 2>"$work/trunc.err"
st=$?
if [ "$st" -eq 3 ] && grep -q 'trunc.pcap: truncated dump file.*at offset [0-9]' "$work/trunc.err" &&
        [ "$(alerts "$work/trunc.json")" -gt "$(alerts "$work/file.json")" ]; then
    ok "a truncated capture: named with its offset, exit 3, good packets and the next file hunted"
else
    bad "truncated capture (exit $st)"; cat "$work/trunc.err"
fi

printf 'this is no capture at all, only text' >"$work/junk.pcap"
"$bin" hunt -i "$dir/intel.json" -o /dev/null "$work/junk.pcap" 2>"$work/junk.err"
st=$?
if [ "$st" -eq 3 ] && grep -q 'junk.pcap: not a pcap or pcapng file at offset 0' "$work/junk.err"; then
    ok "a file that is no capture is refused by name"
else
    bad "junk (exit $st)"; cat "$work/junk.err"
fi

# Two threads split the flows and share the verification history: the same
# events as one thread (flow ids differ). An alert for a pattern over several
# flows names the flow whose end completed the sequence, which depends on the
# threads' timing, so for those only the count per indicator is compared.
for input in "$dir" "$TW_SOURCE_DIR/samples/pcap/salt-typhoon-demo.pcap"; do
    bundle="$dir/intel.json"
    [ -d "$input" ] || bundle="$TW_SOURCE_DIR/samples/intel/salt-typhoon-demo.json"
    "$bin" hunt -q --flows --metadata -i "$bundle" -o "$work/t1.json" "$input"
    "$bin" hunt -q --flows --metadata --threads 2 -i "$bundle" -o "$work/t2.json" "$input"
    for t in t1 t2; do
        jq -c 'select(.tidewatch.matched.field != "pattern") | del(.flow_id)' "$work/$t.json" | sort >"$work/$t.sorted"
        jq -r 'select(.tidewatch.matched.field == "pattern") | .tidewatch.indicator.id' "$work/$t.json" | sort >"$work/$t.pattern"
    done
    if [ -s "$work/t1.sorted" ] && cmp -s "$work/t1.sorted" "$work/t2.sorted" && cmp -s "$work/t1.pattern" "$work/t2.pattern"; then
        ok "--threads 2 gives the events of one thread on $(basename "$input")"
    else
        bad "--threads 2 on $(basename "$input")"; diff "$work/t1.sorted" "$work/t2.sorted" | head -3
    fi
done
grep -q 'GRE to a known relay' "$work/t2.json" && ok "the cross-flow sequence alert survives sharding" || bad "sequence across shards"

# A compiled index: the same events as the bundle; damage refused with its offset.
"$bin" intel compile -q -o "$work/intel.twi" "$dir/intel.json"
[ $? -eq 0 ] && ok "intel compile writes the index file" || bad "intel compile"
for input in "$dir/vxlan.pcap" "$dir/gtpu_vlan_dns.pcap" "$dir/http_get.pcap"; do
    "$bin" hunt -q -i "$dir/intel.json" -o "$work/b.json" "$input"
    "$bin" hunt -q -i "$work/intel.twi" -o "$work/c.json" "$input"
    if [ "$(alerts "$work/b.json")" -gt 0 ] && cmp -s "$work/b.json" "$work/c.json"; then
        ok "compiled index gives the bundle's events on $(basename "$input")"
    else
        bad "compiled index on $(basename "$input")"; diff "$work/b.json" "$work/c.json" | head -3
    fi
done
cp "$work/intel.twi" "$work/bad.twi"
printf 'X' | dd of="$work/bad.twi" bs=1 seek=100 conv=notrunc 2>/dev/null
"$bin" hunt -q -i "$work/bad.twi" -o /dev/null "$dir/vxlan.pcap" 2>"$work/bad.err"
st=$?
if [ "$st" -eq 3 ] && grep -q 'bad.twi: ERROR at byte 48: checksum mismatch' "$work/bad.err"; then
    ok "a corrupt index file: exit 3, the fault named with its byte offset"
else
    bad "corrupt index file (exit $st)"; cat "$work/bad.err"
fi
"$bin" intel compile "$dir/intel.json" 2>/dev/null
[ $? -eq 2 ] && ok "intel compile without --output: usage error" || bad "intel compile usage"

"$bin" hunt -i "$dir/intel.json" -o /dev/null "$work/nope.pcap" 2>/dev/null
[ $? -eq 3 ] && ok "a missing capture: exit 3" || bad "missing capture"
"$bin" hunt -i "$dir/intel.json" 2>/dev/null
[ $? -eq 2 ] && ok "no capture given: usage error" || bad "usage"
"$bin" hunt --help | grep -q '^usage: tidewatch hunt' && ok "hunt --help" || bad "hunt --help"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
