#!/bin/sh
# The authorisation matrix: every TLP level x every relation to the object,
# through every read path (objects, object by id, versions, manifest, paging),
# asserting exactly who sees what.
#
# An agency publishes six indicators into a collection whose AMBER audience is
# the sharing group {agency, operator A}; operator B reads the collection
# through a grant to another group (readers), which gives CLEAR and GREEN but
# not AMBER; operator C has no grant at all.
#   CLEAR, GREEN        every reader of the collection
#   AMBER, unmarked     the audience (the collection's default is AMBER)
#   AMBER+STRICT        the producer's organisation and the named recipient (B)
#   RED                 the producing key and the named key (A's first key)
# Relations tried: the producing key, another key of the producer, A's two
# keys, B, C, a revoked key, no key.
. "$(dirname "$0")/hub_common.inc"

db="${TW_HUB_DB:-$work/hub.db}" # TW_HUB_DB: a PostgreSQL URL (hub_pg.sh)
admin=$("$bin" hub init --db "$db" 2>/dev/null | sed -n 's/^api key: //p')
[ -n "$admin" ] || { echo "hub init failed"; exit 1; }
for o in agency:government-national opa:telecommunications opb:telecommunications opc:telecommunications; do
    "$bin" hub org add --db "$db" --sector "${o#*:}" "${o%%:*}" >/dev/null || exit 1
done
"$bin" hub group add --db "$db" responders >/dev/null
"$bin" hub group member --db "$db" responders agency
"$bin" hub group member --db "$db" responders opa
"$bin" hub collection add --db "$db" --title "Campaign intelligence" --alias intel --group responders >/dev/null
"$bin" hub collection grant --db "$db" intel --org agency --read --write >/dev/null
"$bin" hub collection grant --db "$db" intel --group responders --read >/dev/null
"$bin" hub group add --db "$db" readers >/dev/null
"$bin" hub group member --db "$db" readers opb
"$bin" hub collection grant --db "$db" intel --group readers --read >/dev/null
k_ag=$(new_key "$db" agency contributor)
k_ag2=$(new_key "$db" agency reader)
k_a=$(new_key "$db" opa reader)
k_a2=$(new_key "$db" opa reader)
k_b=$(new_key "$db" opb reader)
k_c=$(new_key "$db" opc reader)
k_rev=$(new_key "$db" opa reader)
"$bin" hub key revoke --db "$db" "$(echo "$k_rev" | cut -c4-19)" >/dev/null
k_a_id=$(echo "$k_a" | cut -c4-19)

hub_start "$db" --quiet
coll=$(taxii "$k_ag" GET /api/collections/intel/ >/dev/null; body | jq -r .id)
[ -n "$coll" ] && [ "$coll" != null ] || { echo "collection not visible to its producer"; body; exit 1; }
base=/api/collections/$coll

# Six indicators, one per level.
ind() { # NAME UUID-SUFFIX MARKING-JSON [EXTRA-JSON]
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2025-03-01T00:00:00.000Z","modified":"2025-03-01T00:00:00.000Z","name":"%s","pattern":"[ipv4-addr:value = '"'"'198.51.100.%d'"'"']","pattern_type":"stix","valid_from":"2025-03-01T00:00:00Z"%s%s}' \
        "$2" "$1" "$2" "$3" "${4:-}"
}
M_CLEAR=',"object_marking_refs":["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"]'
M_GREEN=',"object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]'
M_AMBER=',"object_marking_refs":["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]'
M_STRICT=',"object_marking_refs":["marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"]'
M_RED=',"object_marking_refs":["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]'
env="{\"objects\":[$(ind clear 1 "$M_CLEAR"),$(ind green 2 "$M_GREEN"),$(ind amber 3 "$M_AMBER"),$(ind unmarked 4 ""),$(ind strict 5 "$M_STRICT" ',"x_tidewatch_recipients":["opb"]'),$(ind red 6 "$M_RED" ",\"x_tidewatch_recipient_keys\":[\"$k_a_id\"]")]}"
taxii "$k_ag" POST "$base/objects/" "$env"
if [ "$code" = 202 ] && [ "$(body | jq .success_count)" = 6 ]; then
    ok "the agency publishes six indicators, one per TLP level (202, 6 successes)"
else
    bad "publish (HTTP $code)"; body; echo
fi

id_of() { printf 'indicator--00000000-0000-4000-8000-%012d' "$1"; }
# names seen by KEY through objects/
seen_objects() { taxii "$1" GET "$base/objects/"; body | jq -r '[.objects[]?.name] | sort | join(",")'; }
seen_manifest() { taxii "$1" GET "$base/manifest/"; body | jq -r '[.objects[]?.id] | sort | join(",")'; }
seen_paged() { # walk with limit=1 and next
    names="" next=""
    for _ in 1 2 3 4 5 6 7 8; do
        q="?limit=1"
        [ -n "$next" ] && q="$q&next=$next"
        taxii "$1" GET "$base/objects/$q"
        names="$names $(body | jq -r '.objects[]?.name')"
        next=$(body | jq -r '.next // empty')
        [ "$(body | jq -r '.more // false')" = true ] || break
    done
    echo $names | tr ' ' '\n' | sort | paste -sd, -
}
seen_by_id() { # names of the six reachable one by one
    out=""
    for n in 1 2 3 4 5 6; do
        taxii "$1" GET "$base/objects/$(id_of $n)/"
        [ "$code" = 200 ] && out="$out,$(body | jq -r '.objects[0].name')"
        taxii "$1" GET "$base/objects/$(id_of $n)/versions/"
        [ "$code" = 200 ] && out="$out,v$n"
    done
    echo "${out#,}"
}
ids_for() { # names -> manifest ids
    out=""
    for n in $(echo "$1" | tr ',' ' '); do
        case $n in clear) i=1 ;; green) i=2 ;; amber) i=3 ;; unmarked) i=4 ;; strict) i=5 ;; red) i=6 ;; esac
        out="$out $(id_of $i)"
    done
    echo $out | tr ' ' '\n' | sort | paste -sd, -
}
byid_for() {
    out=""
    for n in clear green amber unmarked strict red; do
        case ",$1," in *",$n,"*)
            case $n in clear) i=1 ;; green) i=2 ;; amber) i=3 ;; unmarked) i=4 ;; strict) i=5 ;; red) i=6 ;; esac
            out="$out,$n,v$i" ;;
        esac
    done
    echo "${out#,}"
}

check() { # LABEL KEY EXPECTED-NAMES (sorted, comma-separated)
    want=$3
    got=$(seen_objects "$2")
    [ "$got" = "$want" ] && ok "$1: objects/ shows {$want}" || bad "$1: objects/ shows {$got}, want {$want}"
    got=$(seen_paged "$2")
    [ "$got" = "$want" ] && ok "$1: paging one by one shows the same" || bad "$1: paging shows {$got}, want {$want}"
    got=$(seen_manifest "$2")
    [ "$got" = "$(ids_for "$want")" ] && ok "$1: manifest/ lists the same" || bad "$1: manifest lists {$got}"
    got=$(seen_by_id "$2")
    [ "$got" = "$(byid_for "$want")" ] && ok "$1: by id and versions/ reach exactly those" || bad "$1: by id {$got}, want {$(byid_for "$want")}"
}

check "producing key (agency)" "$k_ag" "amber,clear,green,red,strict,unmarked"
check "other agency key" "$k_ag2" "amber,clear,green,strict,unmarked"
check "operator A, named RED key" "$k_a" "amber,clear,green,red,unmarked"
check "operator A, other key" "$k_a2" "amber,clear,green,unmarked"
check "operator B, AMBER+STRICT recipient outside the audience" "$k_b" "clear,green,strict"
check "hub admin" "$admin" "amber,clear,green,red,strict,unmarked"

# No grant: the collection does not exist for C; same answer as a missing one.
taxii "$k_c" GET "$base/objects/"
c1=$code
taxii "$k_c" GET "/api/collections/00000000-0000-4000-8000-000000000000/objects/"
[ "$c1" = 404 ] && [ "$code" = 404 ] && ok "operator C (no grant): 404, as for a collection that does not exist" || bad "operator C: $c1/$code"
taxii "$k_c" GET /api/collections/
[ "$(body | jq '.collections // [] | length')" = 0 ] && ok "operator C: the collection is not listed" || bad "operator C sees the collection listed"
for k in "$k_rev" ""; do
    taxii "$k" GET "$base/objects/"
    label=$([ -n "$k" ] && echo "revoked key" || echo "no key")
    if [ "$code" = 401 ] && [ "$(body | jq -r .http_status)" = 401 ] && grep -qi '^WWW-Authenticate:' "$hdrs"; then
        ok "$label: 401 with a TAXII error body and a challenge"
    else
        bad "$label: HTTP $code"
    fi
done
# Writing is for writers.
taxii "$k_a" POST "$base/objects/" '{"objects":[]}'
[ "$code" = 403 ] && ok "a reader cannot write (403)" || bad "reader write: $code"

# The access log names the AMBER+ objects each read returned, and verifies.
hub_stop
[ "$stop_status" = 0 ] && ok "the hub stops cleanly on SIGTERM" || bad "hub exit status $stop_status"
"$bin" hub log show --db "$db" >"$work/log.txt"
# fields: seq time key method path status ids...
awk '{ for (i = 7; i <= NF; i++) print $i }' "$work/log.txt" | sort -u >"$work/logged_ids"
if [ "$(paste -sd, "$work/logged_ids")" = "$(id_of 3),$(id_of 4),$(id_of 5),$(id_of 6)" ]; then
    ok "the access log names the AMBER, AMBER+STRICT and RED ids returned, and no others"
else
    bad "access log contents"
fi
if grep -q 'tw_[0-9a-f]\{16\}_[0-9a-f]\{64\}' "$work/log.txt" "$work/serve.err"; then
    bad "a full API key appears in a log"
else
    ok "no API key secret in the access log or the server's log"
fi
"$bin" hub log verify --db "$db" >/dev/null && ok "the access log chain verifies" || bad "log verify"
finish
