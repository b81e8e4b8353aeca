#!/bin/sh
# The public STIX sample bundles in ../shared/data/stix: every valid one checks
# clean, every broken one fails naming the object and the field, and the rest
# of a broken bundle is still read. Skipped (status 77) when the folder is absent.
set -u
bin=${TW_BIN:?TW_BIN must point at the tidewatch binary}
data=${TW_SHARED_DATA:-}/stix
if [ ! -d "$data" ]; then
    echo "SKIP: $data not found (the shared sample data lives beside the project)"
    exit 77
fi
fails=0
passes=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

for f in "$data"/*.json; do
    if "$bin" intel check "$f" >"$out" 2>&1; then
        passes=$((passes + 1)); echo "ok   clean: $(basename "$f")"
    else
        echo "FAIL not clean: $(basename "$f")"; sed 's/^/    /' "$out"; fails=$((fails + 1))
    fi
done

# broken file, the field its error must name, a valid object that must still be read
check_broken() {
    f="$data/broken/$1"
    "$bin" intel check --format json "$f" >"$out" 2>&1
    st=$?
    if [ "$st" -ne 1 ]; then echo "FAIL $1: exit $st, want 1"; fails=$((fails + 1)); return; fi
    if jq -e --arg p "$2" 'select(.severity == "error" and (.path | test($p)) and (.object | length > 0))' "$out" >/dev/null; then
        passes=$((passes + 1)); echo "ok   $1: error names the object and $2"
    else
        echo "FAIL $1: no error at $2"; cat "$out"; fails=$((fails + 1))
    fi
    total=$(jq '.objects | length' "$f")
    "$bin" intel check "$f" >"$out" 2>&1
    valid=$(sed -n 's/.*objects, \([0-9]*\) valid.*/\1/p' "$out")
    if [ -n "$valid" ] && [ "$valid" -eq $((total - 1)) ]; then
        passes=$((passes + 1)); echo "ok   $1: the other $valid of $total objects are valid"
    else
        echo "FAIL $1: $valid of $total valid, want $((total - 1))"; cat "$out"; fails=$((fails + 1))
    fi
}
check_broken missing-created.json '\.created$'
check_broken bad-uuid.json '\.id$'
check_broken pattern-unbalanced.json '\.pattern$'
check_broken relationship-source-not-id.json '\.source_ref$'

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
