#!/bin/sh
# tidewatch flows hunt and flows query end to end: a capture written here
# (python3, no third-party module) is turned into an archive by
# `tidewatch flows import`, then hunted with a small STIX bundle (and its
# compiled index) and queried. Checks the EVE alerts and the sightings with
# jq, the time window in every accepted time form, --filter, one thread
# against two, exit statuses, a damaged archive file, and query's line, CSV
# and JSON output, statistics, limits and filter errors. Skipped (77)
# without python3 or jq.
set -u
bin=${TW_BIN:?TW_BIN must point at the tidewatch binary}
command -v python3 >/dev/null 2>&1 || { echo "python3 missing: skipped"; exit 77; }
command -v jq >/dev/null 2>&1 || { echo "jq missing: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
passes=0
ok() { printf 'ok   %s\n' "$1"; passes=$((passes + 1)); }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

# ---- The capture: flows at 2025-03-01T10:00:00Z (1740823200) and later ----
python3 - "$work/cap.pcap" <<'EOF'
import socket, struct, sys

T0 = 1740823200
out = open(sys.argv[1], "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))

def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff

def l4(proto, sport, dport, flags, payload):
    if proto == 6:
        return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, flags, 8192, 0, 0) + payload
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload

def pkt(ts, src, dst, proto, sport, dport, flags=0x02, payload=b""):
    body = l4(proto, sport, dport, flags, payload)
    if ":" in src:
        ip = struct.pack("!IHBB", 6 << 28, len(body), proto, 64)
        ip += socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
        eth_type = 0x86dd
    else:
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 1, 0, 64, proto, 0,
                          socket.inet_aton(src), socket.inet_aton(dst))
        ip = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
        eth_type = 0x0800
    frame = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + struct.pack("!H", eth_type) + ip + body
    sec = int(ts)
    out.write(struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(frame), len(frame)))
    out.write(frame)

# Background: 200 TCP flows no indicator names.
for i in range(200):
    pkt(T0 + i * 0.5, "10.2.%d.%d" % (i // 250, i % 250 + 1), "172.16.0.%d" % (i % 200 + 1), 6, 30000 + i, 443)
# A client to an indicator's address, and the answer (two records).
pkt(T0 + 10, "10.1.1.1", "198.51.100.9", 6, 40000, 443, 0x02)
pkt(T0 + 11, "10.1.1.1", "198.51.100.9", 6, 40000, 443, 0x10, b"x" * 100)
pkt(T0 + 10.5, "198.51.100.9", "10.1.1.1", 6, 443, 40000, 0x12)
# SSH to 192.0.2.66 (the pattern asks for port 22) and Telnet to it (no).
pkt(T0 + 60, "10.5.5.5", "192.0.2.66", 6, 50000, 22, 0x02)
pkt(T0 + 61, "10.5.5.5", "192.0.2.66", 6, 50001, 23, 0x02)
# A revoked indicator's address.
pkt(T0 + 62, "10.5.5.6", "198.51.100.77", 6, 50002, 80, 0x02)
# UDP into the indicator network, in the next partition.
pkt(T0 + 400, "10.9.9.9", "203.0.113.7", 17, 5353, 53, payload=b"q" * 20)
# IPv6 to an indicator's address, in the third partition.
pkt(T0 + 700, "2001:db8::1", "2001:db8::66", 17, 1234, 53, payload=b"q" * 20)
EOF

cat >"$work/intel.json" <<'EOF'
{"type":"bundle","id":"bundle--6ba7b810-9dad-41d1-80b4-00c04fd430c9","objects":[
{"type":"indicator","spec_version":"2.1","id":"indicator--a0000000-0000-4000-8000-000000000001","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","name":"salt typhoon relay","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.100.9']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"},
{"type":"indicator","spec_version":"2.1","id":"indicator--a0000000-0000-4000-8000-000000000002","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","name":"v6 relay","pattern":"[ipv6-addr:value = '2001:db8::66']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"},
{"type":"indicator","spec_version":"2.1","id":"indicator--a0000000-0000-4000-8000-000000000003","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","name":"staging network","pattern":"[ipv4-addr:value ISSUBSET '203.0.113.0/24']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"},
{"type":"indicator","spec_version":"2.1","id":"indicator--a0000000-0000-4000-8000-000000000004","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","name":"ssh to jump host","pattern":"[network-traffic:dst_ref.value = '192.0.2.66' AND network-traffic:dst_port = 22]","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"},
{"type":"indicator","spec_version":"2.1","id":"indicator--a0000000-0000-4000-8000-000000000005","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","name":"withdrawn","pattern":"[ipv4-addr:value = '198.51.100.77']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z","revoked":true}
]}
EOF
ID1=indicator--a0000000-0000-4000-8000-000000000001
ID2=indicator--a0000000-0000-4000-8000-000000000002
ID3=indicator--a0000000-0000-4000-8000-000000000003
ID4=indicator--a0000000-0000-4000-8000-000000000004

"$bin" flows import -q --archive "$work/arch" "$work/cap.pcap" >"$work/import.out" 2>&1
st=$?
nfiles=$(find "$work/arch" -name '*.twf' | wc -l)
if [ "$st" -eq 0 ] && [ "$nfiles" -eq 3 ]; then
    ok "flows import: the capture became an archive of three partitions"
else
    bad "flows import (exit $st, $nfiles files)"; cat "$work/import.out"
    exit 1
fi

# ---- flows hunt ----
"$bin" flows hunt --archive "$work/arch" -i "$work/intel.json" -o "$work/eve.json" \
    --sightings "$work/sightings.json" --stats-json "$work/stats.json" --threads 2 2>"$work/hunt.err"
st=$?
n=$(wc -l <"$work/eve.json")
if [ "$st" -eq 0 ] && [ "$n" -eq 5 ] && [ "$(jq -s 'map(select(.event_type == "alert")) | length' "$work/eve.json")" = 5 ]; then
    ok "flows hunt: five alerts, exit 0"
else
    bad "flows hunt (exit $st, $n lines)"; cat "$work/hunt.err" "$work/eve.json"
fi
if grep -q '^tidewatch flows hunt: 3 files (0 skipped, 0 unreadable), 3 blocks read.* 207 records, 5 hits on 4 indicators' "$work/hunt.err"; then
    ok "the summary on standard error counts files, blocks, records and hits"
else
    bad "summary"; cat "$work/hunt.err"
fi
# Alerts in archive order (the import writes a partition's flows in the order they ended):
# ssh, the client's record, the answer, UDP to the network, IPv6.
if jq -se --arg i1 "$ID1" --arg i2 "$ID2" --arg i3 "$ID3" --arg i4 "$ID4" '
    map(.tidewatch.indicator.id) == [$i4, $i1, $i1, $i3, $i2] and
    map(.tidewatch.matched.field) == ["pattern", "ip.dst", "ip.src", "ip.dst", "ip.dst"] and
    map(.tidewatch.matched.value) == ["ssh to jump host", "198.51.100.9", "198.51.100.9", "203.0.113.7", "2001:db8::66"]' \
    "$work/eve.json" >/dev/null; then
    ok "the right indicators, in archive order, with what matched where"
else
    bad "indicators and order"; cat "$work/eve.json"
fi
if jq -se '.[1] | .timestamp == "2025-03-01T10:00:10.000000+0000" and .src_ip == "10.1.1.1" and
    .src_port == 40000 and .dest_ip == "198.51.100.9" and .dest_port == 443 and .proto == "TCP" and
    (.flow_id | type == "number") and .alert.signature == "salt typhoon relay" and
    .alert.severity == 1 and .alert.category == "Threat intelligence match" and
    .flow.pkts_toserver == 2 and .flow.bytes_toserver == 180 and .flow.pkts_toclient == 0 and
    .flow.start == "2025-03-01T10:00:10.000000+0000" and .flow.end == "2025-03-01T10:00:11.000000+0000" and
    .tcp.tcp_flags == "12" and .tcp.syn == true and .tcp.ack == true and
    .netflow.source == "capture" and .netflow.exporter == null and .netflow.in_if == 0 and
    .netflow.first == "2025-03-01T10:00:10.000000+0000" and .netflow.last == "2025-03-01T10:00:11.000000+0000" and
    .tidewatch.tlp == "unmarked" and (.tidewatch.archive_file | test("/2025/03/01/flows-202503011000-[0-9]+\\.twf$"))' \
    "$work/eve.json" >/dev/null; then
    ok "an alert has Suricata's fields, the flow's packets and bytes, netflow and tidewatch sections"
else
    bad "alert fields"; sed -n 2p "$work/eve.json"
fi
if jq -se '.[3] | .proto == "UDP" and .src_port == 5353 and .dest_port == 53 and (has("tcp") | not) and
    .flow.bytes_toserver == 48' "$work/eve.json" >/dev/null &&
        jq -se '.[4] | .src_ip == "2001:db8::1" and .dest_ip == "2001:db8::66"' "$work/eve.json" >/dev/null; then
    ok "UDP and IPv6 alerts"
else
    bad "UDP and IPv6 alerts"; cat "$work/eve.json"
fi
if jq -e --arg i1 "$ID1" --arg i3 "$ID3" '
    [.objects[] | select(.type == "sighting")] as $s |
    ($s | length) == 4 and
    ($s[] | select(.sighting_of_ref == $i1) | .count == 2 and
        .first_seen == "2025-03-01T10:00:10.000Z" and .last_seen == "2025-03-01T10:00:11.000Z") and
    ($s[] | select(.sighting_of_ref == $i3) | .count == 1 and
        .first_seen == "2025-03-01T10:06:40.000Z" and .last_seen == "2025-03-01T10:06:40.000Z") and
    ([.objects[] | select(.type == "identity")] | length) == 1' "$work/sightings.json" >/dev/null; then
    ok "sightings: one per indicator, count and first/last seen from the flows"
else
    bad "sightings"; cat "$work/sightings.json"
fi
if jq -e '.files == 3 and .records == 207 and .hits == 5 and .indicators_sighted == 4 and .files_bad == 0' \
    "$work/stats.json" >/dev/null; then
    ok "--stats-json"
else
    bad "--stats-json"; cat "$work/stats.json"
fi

# One thread and two write the same lines; a compiled index the same as the bundle.
"$bin" flows hunt -q --archive "$work/arch" -i "$work/intel.json" -o "$work/eve1.json" --threads 1
"$bin" intel compile -q -o "$work/intel.twi" "$work/intel.json" 2>/dev/null
"$bin" flows hunt -q --archive "$work/arch" -i "$work/intel.twi" -o "$work/evec.json"
if cmp -s "$work/eve.json" "$work/eve1.json" && cmp -s "$work/eve.json" "$work/evec.json"; then
    ok "one thread, two threads and the compiled index give the same alerts"
else
    bad "threads / compiled index"; diff "$work/eve.json" "$work/eve1.json" | head
fi

# Time windows in every accepted form.
count() { "$bin" flows hunt -q --archive "$work/arch" -i "$work/intel.json" "$@" | wc -l; }
a=$(count --from 2025-03-01T10:01:00Z --to "2025-03-01 10:10")
b=$(count --from 1740823260 --to 1740823800)
c=$(count --from "2025-03-01T11:01:00+01:00" --to "2025-03-01T10:10:00")
d=$(count --to 2025-03-01)
e=$(count --from "2025-03-01 10:00:11" --to "2025-03-01 10:00:12")
if [ "$a" -eq 2 ] && [ "$b" -eq 2 ] && [ "$c" -eq 2 ] && [ "$d" -eq 0 ] && [ "$e" -eq 1 ]; then
    ok "--from/--to: RFC 3339, offsets, 'YYYY-MM-DD hh:mm[:ss]', dates and epoch seconds"
else
    bad "time windows ($a $b $c $d $e)"
fi
n=$(count --filter 'dst port 22 or inet6')
if [ "$n" -eq 2 ]; then
    ok "--filter narrows the alerts"
else
    bad "--filter ($n)"
fi

"$bin" flows hunt -q --archive "$work/arch" -i "$work/intel.json" --from 2024-01-01 --to 2024-02-01 >/dev/null
st1=$?
"$bin" flows hunt -q --archive "$work/arch" -i "$work/intel.json" --from yesterday 2>/dev/null
st2=$?
"$bin" flows hunt -q --archive "$work/arch" -i "$work/intel.json" --filter 'port 99999' 2>"$work/badf.err"
st3=$?
"$bin" flows hunt -q --archive "$work/arch" 2>/dev/null
st4=$?
"$bin" flows hunt -q --archive "$work/arch" -i "$work/missing.json" 2>/dev/null
st5=$?
if [ "$st1" -eq 1 ] && [ "$st2" -eq 2 ] && [ "$st3" -eq 2 ] && grep -q 'at 5' "$work/badf.err" &&
        [ "$st4" -eq 2 ] && [ "$st5" -eq 3 ]; then
    ok "exit statuses: nothing found 1, bad time, filter or options 2, unreadable intel 3"
else
    bad "exit statuses ($st1 $st2 $st3 $st4 $st5)"; cat "$work/badf.err"
fi

# A damaged file is reported and skipped; the others are hunted.
cp -r "$work/arch" "$work/arch2"
victim=$(find "$work/arch2" -name 'flows-202503011005-*.twf')
printf 'XXXXXXXX' | dd of="$victim" bs=1 seek=$(($(wc -c <"$victim") - 8)) conv=notrunc 2>/dev/null
"$bin" flows hunt --archive "$work/arch2" -i "$work/intel.json" -o "$work/eve2.json" \
    --stats-json "$work/stats2.json" 2>"$work/dmg.err"
st=$?
if [ "$st" -eq 0 ] && [ "$(wc -l <"$work/eve2.json")" -eq 4 ] && grep -q 'flows-202503011005-.*(file skipped)' "$work/dmg.err" &&
        jq -e '.files_bad == 1' "$work/stats2.json" >/dev/null; then
    ok "a damaged file: named on standard error, counted, the rest hunted"
else
    bad "damaged file (exit $st)"; cat "$work/dmg.err"
fi

# ---- flows query ----
q() { "$bin" flows query --archive "$work/arch" "$@"; }
q >"$work/all.txt"
st=$?
if [ "$st" -eq 0 ] && [ "$(grep -c -- ' -> ' "$work/all.txt")" -eq 207 ] &&
        head -1 "$work/all.txt" | grep -q '^Date first seen' &&
        grep -q '^Summary: total flows: 207, total bytes: ' "$work/all.txt" &&
        grep -q '^Total flows processed: 207, files: 3' "$work/all.txt"; then
    ok "flows query: every flow as a line, a header and the summary"
else
    bad "flows query (exit $st)"; tail -5 "$work/all.txt"
fi
if q ip 198.51.100.9 | grep -q '^2025-03-01 10:00:10.500     0.000 TCP   *198.51.100.9:443 -> 10.1.1.1:40000 *1 *40 *1$'; then
    ok "a line: date first seen, duration, proto, endpoints, packets, bytes, flows"
else
    bad "line format"; q ip 198.51.100.9
fi
n=$(q -q -o csv proto udp | wc -l)
m=$(q -o csv -q 'src net 10.2.0.0/16 and dst port 443' | wc -l)
if [ "$n" -eq 2 ] && [ "$m" -eq 200 ] && q -o csv ip 2001:db8::66 2>/dev/null | head -1 | grep -q '^ts,te,td,sa,da,sp,dp,pr,flg'; then
    ok "filters from the remaining arguments, CSV output with nfdump's column names"
else
    bad "csv / filters ($n $m)"
fi
if q -o json not net 10.2.0.0/16 2>/dev/null | jq -e 'length == 7 and (.[0] | .src_addr == "10.5.5.5" and .dst_port == 22 and .bytes == 40 and .exporter == null and .tcp_flags == "......S.")' >/dev/null; then
    ok "JSON output is an array of flows"
else
    bad "json output"
fi
q -s dstip/bytes -n 2 -q >"$work/top.txt"
if [ "$(wc -l <"$work/top.txt")" -eq 2 ] && head -1 "$work/top.txt" | grep -q ' 198.51.100.9 ' &&
        q -s proto -o json 2>/dev/null | jq -e '.[0].proto == "TCP" and .[0].flows == 205 and .[1].proto == "UDP" and .[1].flows == 2 and length == 2' >/dev/null; then
    ok "-s: top-N by bytes and by flows"
else
    bad "-s statistics"; cat "$work/top.txt"
fi
n=$(q -q -c 3 | wc -l)
q -q 'port in [22 23' >/dev/null 2>"$work/qerr.txt"
st=$?
q -q ip 192.0.2.200 >/dev/null
st2=$?
if [ "$n" -eq 3 ] && [ "$st" -eq 2 ] && grep -q "missing ']'.* at 14" "$work/qerr.txt" && [ "$st2" -eq 1 ]; then
    ok "-c limits the flows; a bad filter names its offset (exit 2); no match exits 1"
else
    bad "limit / errors ($n $st $st2)"; cat "$work/qerr.txt"
fi

printf '%d passed, %d failed\n' "$passes" "$fails"
[ "$fails" -eq 0 ]
