#!/bin/sh
# tidewatch audit end to end on the sample fleet (samples/audit) and on files
# made here: every option and format (JSON lines through jq, CSV through
# Python's csv module, HTML that loads nothing and escapes a hostile device
# name), --fail-on exit statuses, unreadable files named while the others are
# still reported, operational outputs beside a configuration, baseline drift,
# --intel with a live and a revoked indicator, --vulns, --threads 2 giving the
# output of one thread, and no planted secret in any output or on stderr.
#
# Rules of its own (--no-catalogue --rules) keep most checks independent of the
# shipped catalogue; the catalogue runs are checked for shape only.
set -u
bin=${TW_BIN:?TW_BIN must point at the tidewatch binary}
src=${TW_SOURCE_DIR:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The sample fleet without its baseline directory (which `--baseline` would
# keep out of the walk; without it, it would be audited as a sixth device).
samples="$src/samples/audit"
fleet="$work/fleet"
mkdir "$fleet"
cp "$samples"/* "$fleet/" 2>/dev/null
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
# has FILE PATTERN DESCRIPTION: FILE matches the extended regex.
has() { if grep -qE -- "$2" "$1"; then ok "$3"; else bad "$3: no /$2/ in $(basename "$1")"; head -20 "$1" | sed 's/^/    /'; fi; }
hasnt() { if grep -qE -- "$2" "$1"; then bad "$3: /$2/ found in $(basename "$1")"; grep -E -- "$2" "$1" | head -3 | sed 's/^/    /'; else ok "$3"; fi; }
# jqok FILE EXPR DESCRIPTION: the JSON lines of FILE, slurped, make EXPR true.
jqok() { if jq -s -e "$2" "$1" >/dev/null 2>&1; then ok "$3"; else bad "$3"; head -5 "$1" | sed 's/^/    /'; fi; }

if ! "$bin" audit --help >/dev/null 2>&1; then
    echo "SKIP: this tidewatch has no audit command"
    exit 77
fi

# Rules of the test's own, so the checks below do not move with the catalogue.
cat >"$work/t.rules" <<'EOF'
rule T-HTTP-01
    title "HTTP server enabled"
    severity critical
    check ios iosxe
        has /^ip http server$/
end
rule T-SSHPORT-01
    title "SSH on a non-standard port"
    severity high
    check ios iosxe
        has /^ip ssh port (\d+)/
end
rule T-HOST-01
    title "Hostname set"
    severity info
    check all
        has /^(hostname|switchname) /
    check junos
        has /^system host-name /
end
rule T-SNMP-01
    title "SNMP community"
    severity medium
    check ios iosxe iosxr nxos
        has /^snmp-server community /
    check junos
        has /^snmp community /
end
rule T-IOC-01
    title "Address of the intelligence"
    severity critical
    needs config intel
    builtin ioc-addresses
end
rule T-CVE-01
    title "Vulnerable release"
    severity high
    builtin cve
end
rule T-DRF-01
    title "Changed since the baseline"
    severity medium
    needs baseline
    builtin drift
end
rule T-USR-01
    title "Local users"
    severity high
    drift ios iosxe /^username /
    drift ios iosxe /^tacacs server /
    drift ios iosxe /^ip ssh /
    check ios iosxe
        has /^username \S+ privilege 15/
end
EOF
own="--no-catalogue --rules $work/t.rules"

# ==== Help and usage ====
expect 0 "audit --help" "$bin" audit --help
has "$work/out" '^usage: tidewatch audit' "--help prints the usage"
has "$work/out" '--fail-on' "--help names --fail-on"
expect 2 "no path: usage error" "$bin" audit
expect 2 "bad --format" "$bin" audit --format xml "$fleet"
has "$work/err" "bad --format 'xml'" "bad --format is named"
expect 2 "bad --min-severity" "$bin" audit --min-severity severe "$fleet"
expect 2 "bad --fail-on" "$bin" audit --fail-on 3 "$fleet"
expect 2 "bad --threads" "$bin" audit --threads 0 "$fleet"
expect 2 "bad --platform" "$bin" audit --platform vyos "$fleet"
expect 2 "--no-catalogue without --rules" "$bin" audit --no-catalogue "$fleet"
expect 2 "--baseline that is no directory" "$bin" audit --baseline "$fleet/kst-pe01.cfg" "$fleet"
expect 0 "without --baseline a baseline folder inside the fleet is part of it" "$bin" audit -q $own "$samples"
has "$work/out" '^devices audited +6$' "the sample folder with its baseline folder: six devices"
expect 2 "a missing path" "$bin" audit "$work/nope"
has "$work/err" 'nope: No such file' "a missing path is named"
printf 'rule BAD\n    title "x"\n    severity extreme\nend\n' >"$work/bad.rules"
expect 2 "a bad rule file" "$bin" audit --rules "$work/bad.rules" "$fleet"
has "$work/err" 'bad.rules:3' "a bad rule file is named with its line"
expect 2 "an unreadable --intel" "$bin" audit -i "$work/nope.json" "$fleet"
printf 'CVE-2099-0001\tiosxe\n' >"$work/bad.tsv"
expect 2 "bad --vulns data" "$bin" audit --vulns "$work/bad.tsv" "$fleet"
has "$work/err" 'bad.tsv' "bad --vulns data is named"

# ==== --list-rules ====
expect 0 "--list-rules" "$bin" audit $own --list-rules
has "$work/out" '^T-HTTP-01 +critical +ios,iosxe +HTTP server enabled$' "--list-rules: id, severity, platforms, title"
n_text=$(wc -l <"$work/out")
expect 0 "--list-rules --format jsonl" "$bin" audit $own --list-rules --format jsonl
jqok "$work/out" "length == $n_text and all(.[]; has(\"id\") and has(\"severity\") and (.platforms | type == \"array\") and has(\"title\") and (.needs | type == \"array\"))" "--list-rules jsonl: one object per rule with its fields"
jqok "$work/out" 'any(.[]; .id == "T-IOC-01" and .builtin == "ioc-addresses" and (.needs | index("intel")))' "--list-rules jsonl: builtin and needs"
expect 0 "--list-rules of the shipped catalogue" "$bin" audit --list-rules
if [ "$(wc -l <"$work/out")" -gt 0 ]; then ok "the catalogue has rules ($(wc -l <"$work/out"))"; else bad "empty catalogue"; fi
expect 2 "--list-rules --format html is refused" "$bin" audit --list-rules --format html

# ==== The sample fleet in every format ====
expect 0 "text report of the sample fleet" "$bin" audit -q $own "$fleet"
cp "$work/out" "$work/fleet.txt"
for d in kst-agg-rtr02 kst-core-sw01 kst-dc-leaf01 kst-fw01 kst-pe01; do
    has "$work/fleet.txt" "^== $d  \(" "text: a section for $d"
done
has "$work/fleet.txt" '^== kst-core-sw01  \(Cisco IOS XE, version 17\.9\.5 from show-version' "show-version beside the config gives the core switch its version"
has "$work/fleet.txt" '^== kst-agg-rtr02  \(Cisco IOS XE, version 17\.6\.5 from comments' "the collector's comments give the router its version"
has "$work/fleet.txt" '^CRITICAL T-HTTP-01 .*kst-agg-rtr02\.cfg:[0-9]+  HTTP server enabled$' "text: SEVERITY RULE file:line  title"
has "$work/fleet.txt" '^    evidence: ip ssh port 22022 rotary 1$' "text: the evidence under the finding"
has "$work/fleet.txt" '^devices audited +5$' "text: fleet summary counts 5 devices (README.md skipped, the outputs not audited)"
hasnt "$work/fleet.txt" '^== [^ ]*(README|\.dir\.txt|\.show-version\.txt)' "no section for README.md or an operational output"
# Most severe first inside a device.
awk '/^== kst-agg-rtr02/ { on = 1; next } /^== / { on = 0 } on && /^(CRITICAL|HIGH|MEDIUM|LOW|INFO) / { print $1 }' "$work/fleet.txt" >"$work/sev.txt"
if [ -s "$work/sev.txt" ] && awk 'BEGIN { r["CRITICAL"]=5; r["HIGH"]=4; r["MEDIUM"]=3; r["LOW"]=2; r["INFO"]=1 } { if (NR > 1 && r[$1] > last) bad = 1; last = r[$1] } END { exit bad }' "$work/sev.txt"; then
    ok "text: findings of a device most severe first"
else
    bad "text: severity order"; cat "$work/sev.txt"
fi

expect 0 "jsonl report" "$bin" audit -q $own --format jsonl "$fleet"
cp "$work/out" "$work/fleet.jsonl"
if jq -e . "$work/fleet.jsonl" >/dev/null 2>&1; then ok "jsonl: every line is JSON"; else bad "jsonl parse"; fi
jqok "$work/fleet.jsonl" 'all(.[]; keys_unsorted == ["device","platform","version","file","line","rule_id","severity","title","context","evidence","message","implicit","delta","touches","ref","needs"])' "jsonl: the documented keys in order"
jqok "$work/fleet.jsonl" 'any(.[]; .device == "kst-core-sw01" and .version == "17.9.5" and .platform == "iosxe")' "jsonl: version and platform"
jqok "$work/fleet.jsonl" 'any(.[]; .device == "kst-agg-rtr02" and .rule_id == "T-SSHPORT-01" and .evidence == "ip ssh port 22022 rotary 1" and .line > 0 and (.file | endswith("kst-agg-rtr02.cfg")) and .delta == null and .needs == ["config"])' "jsonl: a finding's fields"
jqok "$work/fleet.jsonl" 'any(.[]; .device == "kst-fw01" and .platform == "junos" and .rule_id == "T-HOST-01")' "jsonl: the Junos firewall"
jqok "$work/fleet.jsonl" '[.[] | .device] | unique | length == 5' "jsonl: findings on all five devices"

expect 0 "csv report" "$bin" audit -q $own --format csv "$fleet"
cp "$work/out" "$work/fleet.csv"
if python3 - "$work/fleet.csv" "$(wc -l <"$work/fleet.jsonl")" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
head = ["device", "platform", "version", "file", "line", "rule_id", "severity", "title", "context",
        "evidence", "message", "implicit", "delta", "touches", "ref", "needs"]
assert rows[0] == head, rows[0]
assert len(rows) - 1 == int(sys.argv[2]), (len(rows), sys.argv[2])
assert all(len(r) == len(head) for r in rows)
assert all(not c or c[0] not in "=+-@" for r in rows for c in r), "formula cell"
assert any(r[0] == "kst-agg-rtr02" and r[9] == "ip ssh port 22022 rotary 1" for r in rows)
EOF
then ok "csv: Python's csv module reads it; header, one row per finding, no formula cell"; else bad "csv"; fi

expect 0 "html report" "$bin" audit -q $own --format html -o "$work/fleet.html" "$fleet"
has "$work/fleet.html" '^<!DOCTYPE html>' "html: a document"
has "$work/fleet.html" "Content-Security-Policy\" content=\"default-src 'none'" "html: a CSP that forbids external loads"
hasnt "$work/fleet.html" '(src|href|action)="?(https?:)?//' "html: no external URL in src or href"
hasnt "$work/fleet.html" '<(script|link|img|iframe|object|embed)' "html: no script, link, image or frame"
has "$work/fleet.html" 'href="#dev-0"' "html: the summary links to the device sections"
has "$work/fleet.html" 'id="rule-T-HTTP-01"' "html: the rule appendix"

# A hostile device: its name and evidence carry markup.
mkdir "$work/evil"
cat >"$work/evil/evil\"<b>.cfg" <<'EOF'
hostname <script>alert("x")</script>
!
username a'b privilege 15 secret 9 <secret hidden>
snmp-server community "><img src=x onerror=alert(1)> RO
ip http server
end
EOF
expect 0 "html report of a hostile device" "$bin" audit -q $own --format html -o "$work/evil.html" "$work/evil"
hasnt "$work/evil.html" '<script|<img|<b>' "html: markup from a configuration is never live"
has "$work/evil.html" '&lt;script&gt;alert\(&quot;x&quot;\)&lt;/script&gt;' "html: the hostile device name is escaped"
has "$work/evil.html" 'evil&quot;&lt;b&gt;\.cfg' "html: a hostile file name is escaped"

# ==== --fail-on and --min-severity ====
expect 1 "--fail-on critical with a critical finding" "$bin" audit -q $own --fail-on critical "$fleet/kst-agg-rtr02.cfg"
expect 0 "--fail-on critical without one" "$bin" audit -q $own --fail-on critical "$fleet/kst-core-sw01.cfg"
expect 1 "--fail-on info" "$bin" audit -q $own --fail-on info "$fleet/kst-core-sw01.cfg"
expect 0 "--min-severity high" "$bin" audit -q $own --min-severity high --format jsonl "$fleet"
jqok "$work/out" 'length > 0 and all(.[]; .severity == "high" or .severity == "critical")' "--min-severity high leaves out the rest"
expect 0 "--min-severity critical --fail-on high: nothing left at high" "$bin" audit -q $own --min-severity critical --fail-on info "$fleet/kst-core-sw01.cfg"

# ==== Files that cannot be read ====
mkdir "$work/mixed"
cp "$fleet/kst-pe01.cfg" "$fleet/kst-dc-leaf01.cfg" "$work/mixed/"
: >"$work/mixed/empty.cfg"
head -c 4096 "$bin" >"$work/mixed/blob.cfg"
expect 2 "unreadable files: exit 2" "$bin" audit -q $own --format jsonl -o "$work/mixed.jsonl" "$work/mixed"
has "$work/err" 'empty\.cfg: .*(line|byte|offset|empty)' "the empty file is named, with where"
has "$work/err" 'blob\.cfg: .*(line [0-9]|byte [0-9]|offset [0-9])' "the binary file is named with its line or offset"
jqok "$work/mixed.jsonl" '[.[] | .device] | unique == ["kst-dc-leaf01", "kst-pe01"]' "the readable devices are still reported"
expect 2 "text report with unreadable files" "$bin" audit -q $own "$work/mixed"
has "$work/out" '^== .*blob\.cfg  could not be read' "the text report lists the unreadable file"
has "$work/out" '^devices with errors +2$' "the summary counts it"

# ==== Operational outputs beside a configuration ====
mkdir "$work/ops"
cp "$fleet/kst-core-sw01.cfg" "$fleet/kst-core-sw01.show-version.txt" "$work/ops/"
printf 'Cisco IOS XE Software, Version 17.09.05\n' >"$work/ops/orphan.show-version.txt"
expect 0 "a directory with an output and an orphan output" "$bin" audit $own --format jsonl "$work/ops"
jqok "$work/out" 'all(.[]; .device == "kst-core-sw01" and .version == "17.9.5")' "the show-version output is read with its configuration"
has "$work/err" 'orphan\.show-version\.txt: an operational output without its configuration' "an output without its configuration is said and skipped"
expect 0 "the output named on the command line is not a device" "$bin" audit -q $own --format jsonl "$work/ops/kst-core-sw01.cfg" "$work/ops/kst-core-sw01.show-version.txt"
jqok "$work/out" '[.[] | .device] | unique == ["kst-core-sw01"]' "one device only"

# ==== --platform ====
expect 0 "--platform forces the platform" "$bin" audit -q $own --platform ios --format jsonl "$fleet/kst-agg-rtr02.cfg"
jqok "$work/out" 'length > 0 and all(.[]; .platform == "ios" or .platform == "iosxe")' "--platform ios: an IOS-family device"

# ==== Baseline drift ====
expect 0 "drift against the baseline" "$bin" audit -q $own --baseline "$samples/baseline" --format jsonl "$samples"
cp "$work/out" "$work/drift.jsonl"
jqok "$work/drift.jsonl" 'any(.[]; .device == "kst-agg-rtr02" and .delta == "added" and (.evidence | test("cisco_support")) and .touches == "T-USR-01")' "drift: the new privileged user is added"
jqok "$work/drift.jsonl" 'any(.[]; .device == "kst-agg-rtr02" and .delta == "added" and (.evidence | test("22022")))' "drift: the SSH port is added"
jqok "$work/drift.jsonl" 'any(.[]; .device == "kst-agg-rtr02" and .delta == "removed" and (.evidence | test("198\\.51\\.100\\.10")))' "drift: the TACACS+ address that was replaced is removed"
jqok "$work/drift.jsonl" '[.[] | select(.device == "kst-core-sw01" and .delta != null)] | length == 0' "no drift for devices without a baseline"
jqok "$work/drift.jsonl" '[.[] | select(.rule_id == "T-DRF-01" and .severity == "info" and (.message | test("no baseline")))] | length == 4' "the four devices without a baseline get an info finding each"
jqok "$work/drift.jsonl" '[.[] | select(.delta == null) | .file] | all(test("/baseline/") | not)' "the baseline directory inside the fleet is not audited"
jqok "$work/drift.jsonl" '[.[] | .device] | unique | length == 5' "with --baseline, five devices"
mkdir "$work/golden"
cp "$samples/baseline/kst-agg-rtr02.cfg" "$work/golden/any-name.cfg"
expect 0 "baseline found by hostname" "$bin" audit -q $own --baseline "$work/golden" --format jsonl "$fleet/kst-agg-rtr02.cfg"
jqok "$work/out" 'any(.[]; .delta == "added" and (.evidence | test("cisco_support")))' "a baseline with another file name is found by hostname"
expect 0 "a baseline identical to the device" "$bin" audit -q $own --baseline "$samples/baseline" --format jsonl "$samples/baseline/kst-agg-rtr02.cfg"
jqok "$work/out" '[.[] | select(.delta != null)] | length == 0' "no drift against itself"

# ==== --intel ====
bundle() { # FILE REVOKED
    cat >"$1" <<EOF
{"type":"bundle","id":"bundle--1b8e5d9a-46f3-4a8e-9a3c-2b4f6f0c9d11","objects":[
{"type":"indicator","spec_version":"2.1","id":"indicator--0b7a3c5e-2f1d-4e8a-9c6b-5d4e3f2a1b0c","created":"2025-01-01T00:00:00.000Z","modified":"2025-02-01T00:00:00.000Z","name":"Relay","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '203.0.113.17']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z","revoked":$2}]}
EOF
}
bundle "$work/live.json" false
bundle "$work/revoked.json" true
expect 0 "--intel with the relay's address" "$bin" audit -q $own -i "$work/live.json" --format jsonl "$fleet"
jqok "$work/out" 'any(.[]; .device == "kst-agg-rtr02" and .rule_id == "T-IOC-01" and .ref == "indicator--0b7a3c5e-2f1d-4e8a-9c6b-5d4e3f2a1b0c" and (.evidence | test("203\\.0\\.113\\.17")))' "--intel: the address in the ACL is a finding naming the indicator"
jqok "$work/out" '[.[] | select(.rule_id == "T-IOC-01") | .device] | unique == ["kst-agg-rtr02"]' "--intel: only the compromised device"
expect 0 "--intel with the same indicator revoked" "$bin" audit -q $own -i "$work/revoked.json" --format jsonl "$fleet"
jqok "$work/out" '[.[] | select(.rule_id == "T-IOC-01")] | length == 0' "--intel: a revoked indicator finds nothing"
expect 0 "without --intel" "$bin" audit -q $own --format jsonl "$fleet"
jqok "$work/out" '[.[] | select(.rule_id == "T-IOC-01")] | length == 0' "no --intel, no IOC finding"

# ==== --vulns ====
printf '# cve\tplatform\ttrain\tfixed\tkev\trule\trequires\tsource\nCVE-2099-0001\tiosxe\t17.6\t17.6.9\tno\tT-CVE-01\t-\thttps://example.invalid/advisory\n' >"$work/v.tsv"
expect 0 "--vulns replaces the shipped data" "$bin" audit -q $own --vulns "$work/v.tsv" --format jsonl "$fleet"
jqok "$work/out" 'any(.[]; .device == "kst-agg-rtr02" and .rule_id == "T-CVE-01" and .ref == "CVE-2099-0001")' "--vulns: 17.6.5 is below the fixed 17.6.9"
jqok "$work/out" '[.[] | select(.ref == "CVE-2099-0001") | .device] | unique == ["kst-agg-rtr02"]' "--vulns: 17.9.5 is not in the 17.6 train"

# ==== -o, --stats, -q ====
expect 0 "-o writes the report" "$bin" audit -q $own --format jsonl -o "$work/o.jsonl" --stats "$fleet"
if cmp -s "$work/o.jsonl" "$work/fleet.jsonl" && [ ! -s "$work/out" ]; then ok "-o: the file holds what stdout would, stdout is empty"; else bad "-o"; fi
has "$work/err" 'tidewatch audit: 5 devices \(0 unreadable\), [0-9]+ statements, .* findings in .* configs/s, .* MB/s' "--stats: devices, statements, findings, rates"
if ls "$work"/o.jsonl.tmp-* >/dev/null 2>&1; then bad "-o left a temporary file"; else ok "-o leaves no temporary file"; fi
expect 3 "-o into a missing directory" "$bin" audit -q $own -o "$work/no/such/dir/r.txt" "$fleet"
expect 0 "-o /dev/null is written in place" "$bin" audit -q $own -o /dev/null "$fleet"
if [ -c /dev/null ]; then ok "/dev/null is still a device"; else bad "/dev/null replaced"; fi
expect 0 "-q: nothing on stderr" "$bin" audit -q $own "$fleet"
if [ ! -s "$work/err" ]; then ok "-q keeps stderr empty"; else bad "-q"; head -3 "$work/err"; fi

# ==== --threads ====
gen="${TW_BINARY_DIR:-}/bench/bench_gen_fleet"
inputs="$samples"
if [ -x "$gen" ]; then
    "$gen" "$work/gen" --devices 150 --seed 7 --tradecraft 10 >/dev/null && inputs="$samples $work/gen"
fi
for fmt in text jsonl csv html; do
    # shellcheck disable=SC2086
    "$bin" audit -q --baseline "$samples/baseline" -i "$src/samples/intel/salt-typhoon-demo.json" --format $fmt -o "$work/t1.$fmt" $inputs
    # shellcheck disable=SC2086
    "$bin" audit -q --baseline "$samples/baseline" -i "$src/samples/intel/salt-typhoon-demo.json" --format $fmt --threads 2 -o "$work/t2.$fmt" $inputs
    # shellcheck disable=SC2086
    "$bin" audit -q --baseline "$samples/baseline" -i "$src/samples/intel/salt-typhoon-demo.json" --format $fmt --threads 5 -o "$work/t5.$fmt" $inputs
    if [ -s "$work/t1.$fmt" ] && cmp -s "$work/t1.$fmt" "$work/t2.$fmt" && cmp -s "$work/t1.$fmt" "$work/t5.$fmt"; then
        ok "--threads 2 and 5 write the $fmt report of one thread, byte for byte"
    else
        bad "--threads $fmt"; diff "$work/t1.$fmt" "$work/t2.$fmt" | head -3
    fi
done

# ==== Secrets ====
# Every secret planted in the sample fleet and its baseline; none may reach any
# output, in any format, or standard error, with every input option on.
cat >"$work/secrets" <<'EOF'
EnableHashValueKeepsItsTypeDigit
BreakGlassHashValue
0105175A0A1D5A5E57
KstTacK6aZOb_XbTEEHGcaQFPCBEIBbV
KstR0-c0re-7741
121A0C0411045D5679
Sup0rt-Backd00r!
Kst-RW-0wn3d
14141B180F0B7B7977
BreakGlassSha512HashValue
KstXrRo-2209
0822455D0A16544541
060506324F41584B56
AdminSha256HashValue
Md5CryptHashValue
KstNxTacKey7
KstNxAuthPhrase1
KstNxPrivPhrase2
4f7a2b1c9d8e6f50
JunosRootHashValueKeepItMasked
JunosBreakGlassHashValue
KstJnTacSecretValue
KstJnNtpKeyValue
KstFtpPass-88
KstJunosComm-55
EOF
for s in $(cat "$work/secrets"); do
    grep -rqF -- "$s" "$samples" || bad "secret $s is not in the samples any more (update this list)"
done
: >"$work/all-out"
for fmt in text jsonl csv html; do
    "$bin" audit --stats --baseline "$samples/baseline" -i "$src/samples/intel/salt-typhoon-demo.json" --format $fmt "$samples" >>"$work/all-out" 2>>"$work/all-out"
    "$bin" audit --stats $own --baseline "$samples/baseline" -i "$work/live.json" --format $fmt "$samples" >>"$work/all-out" 2>>"$work/all-out"
    "$bin" audit --stats "$samples" >>"$work/all-out" 2>>"$work/all-out"
done
"$bin" audit --list-rules --format jsonl >>"$work/all-out" 2>&1
leaked=$(grep -oF -f "$work/secrets" "$work/all-out" | sort -u | tr '\n' ' ')
if [ -z "$leaked" ]; then ok "no planted secret in any format or on stderr ($(wc -c <"$work/all-out") bytes checked)"; else bad "secrets leaked: $leaked"; fi
has "$work/all-out" '<masked>' "secrets are shown as <masked>"

# ==== The demo's step 9 ====
mkdir "$work/tmp"
TMPDIR="$work/tmp" expect 0 "demo --audit-html" "$bin" demo --audit-html "$work/demo.html"
has "$work/out" '^== 9\. Audit the fleet' "the demo has its audit step"
has "$work/out" '^  devices audited +5$' "the demo prints the fleet summary"
has "$work/out" '^  CRITICAL AUD-[A-Z]+-[0-9]+ samples/audit/kst-agg-rtr02\.cfg:[0-9]+ ' "the demo prints the compromised device's critical findings"
has "$work/demo.html" 'kst-agg-rtr02' "the demo writes the HTML report"
if [ -z "$(ls -A "$work/tmp")" ]; then ok "the demo leaves nothing in TMPDIR"; else bad "the demo left $(ls "$work/tmp")"; fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
