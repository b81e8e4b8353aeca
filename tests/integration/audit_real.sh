#!/bin/sh
# tidewatch audit on the real public configurations in ../shared/data/configs
# (Oxidized's test data: IOS XE, NX-OS, Junos and ASA devices contributed by
# users, secrets masked), compared with the reviewed findings in
# tests/golden/audit/<name>.jsonl. Skipped (77) when the shared data is absent.
#
# Each golden file holds the findings of one configuration as JSON lines, one
# finding per line, sorted by rule id and line, the rule, severity, line and
# evidence first, and the file's directory removed (the only field that
# varies by machine). To regenerate
# them after a deliberate change to the parsers or the catalogue, run
#
#   TW_GOLDEN_UPDATE=1 ctest --test-dir BUILD -R integration/audit_real
#
# and review the diff (git diff tests/golden/audit) before committing it.
set -u
bin=${TW_BIN:?TW_BIN must point at the tidewatch binary}
data=${TW_SHARED_DATA:-}/configs
golden=${TW_SOURCE_DIR:?}/tests/golden/audit
if [ ! -d "$data" ]; then
    echo "SKIP: $data not found (the shared sample data lives beside the project)"
    exit 77
fi
if ! "$bin" audit --help >/dev/null 2>&1; then
    echo "SKIP: this tidewatch has no audit command"
    exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
passes=0
ok() { printf 'ok   %s\n' "$1"; passes=$((passes + 1)); }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }

# The secrets Oxidized's test data plants (masked values and made-up ones).
cat >"$work/secrets" <<'EOF'
very-secret-encrypted-password
CorrectHorseBattery
$9$FAKEHASHDATAXXXXXXXXXXXXXXXXXXXX
SECRET_ENABLE
SECRET_OXIDIZED
AAAAAAAAAABBBBBBBBBB
EOF

n=0
for cfg in "$data"/*; do
    name=$(basename "$cfg")
    case "$name" in LICENSE* | README* | *.md) continue ;; esac
    base=${name%.txt}
    n=$((n + 1))
    "$bin" audit --format jsonl "$cfg" >"$work/$base.raw" 2>"$work/$base.err"
    st=$?
    if [ "$st" -ne 0 ]; then
        bad "$name: exit $st"
        sed 's/^/    /' "$work/$base.err" | head -5
        continue
    fi
    jq -s -c 'map(.file |= sub("^.*/"; "")) | sort_by(.rule_id, .line, .file, .evidence, .message) | .[] |
        {rule_id, severity, line, file, context, evidence, message, title, implicit, delta, touches,
         ref, needs, device, platform, version}' "$work/$base.raw" >"$work/$base.jsonl"
    if [ "${TW_GOLDEN_UPDATE:-0}" = 1 ]; then
        mkdir -p "$golden"
        cp "$work/$base.jsonl" "$golden/$base.jsonl"
        echo "updated $golden/$base.jsonl ($(wc -l <"$work/$base.jsonl") findings)"
        continue
    fi
    if [ ! -f "$golden/$base.jsonl" ]; then
        bad "$name: no golden file $golden/$base.jsonl (TW_GOLDEN_UPDATE=1 makes it)"
        continue
    fi
    if cmp -s "$work/$base.jsonl" "$golden/$base.jsonl"; then
        ok "$name: $(wc -l <"$work/$base.jsonl") findings as reviewed"
    else
        bad "$name: findings differ from $golden/$base.jsonl (< golden, > now)"
        diff "$golden/$base.jsonl" "$work/$base.jsonl" | head -10 | sed 's/^/    /'
    fi
    leaked=$(grep -oF -f "$work/secrets" "$work/$base.raw" "$work/$base.err" | sort -u | tr '\n' ' ')
    if [ -z "$leaked" ]; then ok "$name: no secret in the findings"; else bad "$name: secrets in the output: $leaked"; fi
done
[ "$n" -gt 0 ] || bad "no configuration in $data"

# The whole folder at once (LICENSE skipped): the same findings as one by one.
"$bin" audit -q --format jsonl "$data" >"$work/all.raw" 2>"$work/all.err"
st=$?
jq -S -c . "$work/all.raw" | LC_ALL=C sort >"$work/whole"
for f in "$work"/*.raw; do [ "$f" = "$work/all.raw" ] || cat "$f"; done | jq -S -c . | LC_ALL=C sort >"$work/each"
if [ "$st" -eq 0 ] && cmp -s "$work/each" "$work/whole"; then
    ok "the folder at once: exit 0, the same findings as one file at a time"
else
    bad "the folder at once (exit $st)"; head -3 "$work/all.err"
fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
