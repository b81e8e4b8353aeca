#!/bin/sh
# The demo's flow step (src/cli/demo_flows.c): NetFlow v9 collected over the
# loopback into an archive, then hunted. Checks the counts it prints, that
# the planted flows to the demo bundle's addresses are found, and that the
# temporary archive is removed.
set -u
bin=${TW_BIN:?TW_BIN must point at the tidewatch binary}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fails=0
ok() { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

if "$bin" demo >"$out" 2>&1; then ok "demo exits 0"; else bad "demo exit status"; fi
sed -n '/10\. Collect NetFlow/,/^Try it yourself/p' "$out" >"$out.step"
grep -q '20000 flow records, 0 lost, 0 malformed' "$out.step" && ok "20,000 records collected" ||
    bad "collected counts"
grep -q '20000 records, 7 hits' "$out.step" && ok "7 hits" || bad "hit count"
for a in 203.0.113.17:443 192.0.2.110:22 198.51.100.99:57722; do
    grep -q -- "-> $a " "$out.step" && ok "planted flow to $a found" || bad "planted flow to $a"
done
dir=$(sed -n 's/.*archive \(\/tmp\/tidewatch-demo-flows-[A-Za-z0-9]*\);.*/\1/p' "$out.step")
[ -n "$dir" ] && [ ! -e "$dir" ] && ok "temporary archive removed" || bad "temporary archive left: $dir"
rm -f "$out.step"
[ "$fails" -eq 0 ]
