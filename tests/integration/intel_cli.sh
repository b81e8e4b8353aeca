#!/bin/sh
# The tidewatch binary end to end on the built-in sample package and on files
# made here: help and exit statuses, check, stats, lookup, convert (twice, to
# show determinism), Zeek and Suricata export, and the demo.
set -u
bin=${TW_BIN:?TW_BIN must point at the tidewatch binary}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
passes=0

ok() { printf 'ok   %s\n' "$1"; passes=$((passes + 1)); }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
# expect STATUS DESCRIPTION COMMAND...: runs the command, checks its exit status.
expect() {
    want=$1; what=$2; shift 2
    "$@" >"$work/out" 2>"$work/err"
    got=$?
    if [ "$got" -eq "$want" ]; then ok "$what"; else bad "$what (exit $got, want $want)"; sed 's/^/    /' "$work/err" | head -5; fi
}
# has PATTERN DESCRIPTION: the last command's standard output matches.
has() { if grep -qE "$1" "$work/out"; then ok "$2"; else bad "$2: no /$1/ in output"; head -20 "$work/out" | sed 's/^/    /'; fi; }

expect 0 "--version" "$bin" --version
has '^tidewatch [0-9]+\.[0-9]+\.[0-9]+$' "version line"
expect 0 "--help" "$bin" --help
has 'intel' "help lists intel"
for c in "intel --help" "intel check --help" "intel stats --help" "intel convert --help" "intel lookup --help" "demo --help"; do
    # shellcheck disable=SC2086
    expect 0 "$c" "$bin" $c
    has '^usage: tidewatch' "$c prints usage"
done
expect 2 "unknown command" "$bin" frobnicate
expect 2 "unknown intel command" "$bin" intel frobnicate
expect 2 "check without a file" "$bin" intel check
expect 3 "check of a missing file" "$bin" intel check "$work/nope.json"

expect 0 "demo" "$bin" demo --write-bundle "$work/demo.json"
has '70 objects, 70 valid, 0 errors' "demo checks its package clean"
has 'MATCH' "demo verifier matches the in-window sequence"
has 'no match \(outside 600 s\)' "demo verifier rejects the late sequence"
has 'TLP:AMBER\+STRICT' "demo shows AMBER+STRICT apart from AMBER"
has '65 packets, 10 flows .*, 15 alerts' "demo hunts its capture: 15 alerts"
has 'vlan/ipv4/udp/gtpu +192.0.2.10 .*dns.query +C2 domain' "demo: the C2 domain inside GTP-U"
has 'pattern +GRE to a known relay, then SSH' "demo: the GRE-then-SSH sequence across two flows"
has '"teid": 10597059' "demo: the alert's EVE JSON carries the GTP TEID"

expect 0 "check demo bundle" "$bin" intel check "$work/demo.json"
expect 0 "stats --json" "$bin" intel stats --json --at 2026-06-01T00:00:00Z "$work/demo.json"
if [ "$(jq '.indicators.total' "$work/out")" = 18 ] &&
   [ "$(jq '.indicators.by_validity.expired' "$work/out")" = 1 ] &&
   [ "$(jq '.indicators.by_validity.revoked' "$work/out")" = 1 ] &&
   [ "$(jq '.indicators.by_validity."not-yet-valid"' "$work/out")" = 1 ] &&
   [ "$(jq '.by_type.indicator' "$work/out")" = 18 ]; then ok "stats counts"; else bad "stats counts"; cat "$work/out"; fi

expect 0 "hunt the demo capture" "$bin" hunt -q -i "$work/demo.json" -o "$work/eve.json" --sightings "$work/sightings.json" "$TW_SOURCE_DIR/samples/pcap/salt-typhoon-demo.pcap"
if [ "$(grep -c '"event_type":"alert"' "$work/eve.json")" = 15 ]; then ok "hunt writes 15 EVE alerts"; else bad "hunt alert count"; fi
if jq -e -s 'all(.[]; has("timestamp") and has("flow_id") and has("event_type") and has("src_ip") and has("dest_ip") and has("proto") and (.alert | has("signature_id") and has("signature") and has("category") and has("severity")))' "$work/eve.json" >/dev/null; then ok "every EVE line parses and has Suricata's alert fields"; else bad "EVE fields"; fi
if jq -e -s 'all(.[]; (.timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}\\+0000$")) and (.flow_id | type == "number") and (.src_port // 0 | type == "number") and (.dest_port // 0 | type == "number") and (.proto | type == "string") and (.alert.severity | . >= 1 and . <= 4) and ((.dns.rrtype // "A") | type == "string") and ((.tls.ja3 // {}) | type == "object"))' "$work/eve.json" >/dev/null; then ok "EVE field types as Suricata writes them (timestamp form, numbers, rrtype by name)"; else bad "EVE field types"; fi
expect 0 "sightings check clean" "$bin" intel check "$work/sightings.json"
if [ "$(jq '[.objects[] | select(.type=="sighting")] | length' "$work/sightings.json")" -ge 10 ]; then ok "sightings: one per indicator seen"; else bad "sightings count"; fi
echo 8.8.4.4 >"$work/none.txt"
expect 0 "a one-address bundle" "$bin" intel convert --timestamp 2025-01-01T00:00:00.000Z -o "$work/none.json" "$work/none.txt"
expect 1 "hunt with no match exits 1" "$bin" hunt -q -i "$work/none.json" -o /dev/null "$TW_SOURCE_DIR/samples/pcap/salt-typhoon-demo.pcap"

expect 0 "lookup a CIDR member" "$bin" intel lookup -i "$work/demo.json" 192.0.2.200
has 'match +indicator--.*Staging network' "lookup names the CIDR indicator"
expect 0 "lookup a URL spelled differently" "$bin" intel lookup -i "$work/demo.json" 'HTTP://Telemetry-Update.EXAMPLE:80/fw/update.bin'
has 'Payload URL' "URL normalisation"
expect 1 "lookup a clean address" "$bin" intel lookup -i "$work/demo.json" 8.8.8.8
has 'no indicator' "clean address has no indicator"
expect 0 "lookup --json" "$bin" intel lookup -j -i "$work/demo.json" 203.0.113.17
if [ "$(jq -r '.indicators | length' "$work/out")" -ge 2 ]; then ok "lookup json lists indicators"; else bad "lookup json"; fi

cat >"$work/feed.csv" <<'CSV'
type,value,name,tlp
ipv4,203.0.113.5,relay,amber
domain,bad[.]example,c2 domain,green
url,hxxp://bad[.]example/x,payload,
sha256,E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855,dropper,red
ipv4,999.1.1.1,broken row,
CSV
expect 1 "convert CSV with one bad row" "$bin" intel convert --timestamp 2025-01-01T00:00:00.000Z -o "$work/a.json" "$work/feed.csv"
if grep -q ':6:' "$work/err"; then ok "bad CSV row reported with its line"; else bad "bad CSV row line"; cat "$work/err"; fi
expect 1 "convert CSV again" "$bin" intel convert --timestamp 2025-01-01T00:00:00.000Z -o "$work/b.json" "$work/feed.csv"
if cmp -s "$work/a.json" "$work/b.json"; then ok "converting twice gives the same bundle"; else bad "conversion not deterministic"; fi
expect 0 "converted bundle checks clean" "$bin" intel check "$work/a.json"
expect 0 "converted values are found" "$bin" intel lookup -i "$work/a.json" 203.0.113.5 bad.example
expect 0 "STIX to Zeek" "$bin" intel convert --to zeek -o "$work/intel.dat" "$work/a.json"
if grep -q "$(printf '^203.0.113.5\tIntel::ADDR')" "$work/intel.dat"; then ok "Zeek intel line"; else bad "Zeek intel line"; cat "$work/intel.dat"; fi
mkdir "$work/suri"
expect 1 "STIX to Suricata (demo has non-exact rules)" "$bin" intel convert --to suricata -o "$work/suri" "$work/demo.json"
if [ -s "$work/suri/tw-ip.lst" ] && [ -s "$work/suri/tw-domains.lst" ]; then ok "Suricata dataset files"; else bad "Suricata dataset files"; ls -l "$work/suri"; fi

printf '{"type":"bundle","id":"bundle--6b1a9c1e-8f0d-4c52-9a7e-3d2f1b0c4e5a","objects":[{"type":"indicator"' >"$work/trunc.json"
expect 1 "truncated JSON" "$bin" intel check "$work/trunc.json"
has 'trunc.json' "JSON error names the file"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
