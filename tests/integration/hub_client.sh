#!/bin/sh
# The hub's own clients and endpoints: `intel push` and `intel pull` (full,
# incremental with --state, into a compiled index), the admin API (org admins
# limited to their organisation), sightings with the reporter hidden from
# other operators, and the tally over the API and the command line.
. "$(dirname "$0")/hub_common.inc"
src=${TW_SOURCE_DIR:-$(dirname "$0")/../..}
bundle="$src/samples/intel/salt-typhoon-demo.json"

db="${TW_HUB_DB:-$work/hub.db}" # TW_HUB_DB: a PostgreSQL URL (hub_pg.sh)
admin=$("$bin" hub init --db "$db" --org "National CERT" 2>/dev/null | sed -n 's/^api key: //p')
hub_start "$db" --quiet
api() { # KEY METHOD PATH [JSON]
    set -- -s -g -o "$work/body" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $1" "http://127.0.0.1:$port$3" ${4:+-H 'Content-Type: application/json' --data-binary "$4"}
    code=$(curl "$@")
}

# ---- the admin API sets the hub up
api "$admin" POST /admin/orgs/ '{"name":"agency","sector":"government-national"}'
a1=$code
api "$admin" POST /admin/orgs/ '{"name":"opa","sector":"telecommunications"}'
a2=$code
api "$admin" POST /admin/orgs/ '{"name":"opb","sector":"telecommunications","disclose_sightings":true}'
[ "$a1$a2$code" = 201201201 ] && ok "admin API: organisations created (201)" || bad "orgs $a1 $a2 $code"
api "$admin" POST /admin/orgs/ '{"name":"opa"}'
[ "$code" = 409 ] && ok "admin API: a taken name is 409" || bad "dup org $code"
api "$admin" POST /admin/collections/ '{"title":"Campaign","alias":"campaign","default_tlp":"green"}'
coll=$(body | jq -r .id)
[ "$code" = 201 ] && ok "admin API: collection created" || bad "collection $code"
api "$admin" POST /admin/collections/ '{"title":"Sightings","alias":"sightings","default_tlp":"green"}'
scoll=$(body | jq -r .id)
for g in '{"org":"agency","read":true,"write":true}' '{"org":"opa","read":true}' '{"org":"opb","read":true}'; do
    api "$admin" POST /admin/collections/campaign/grants/ "$g"
    [ "$code" = 201 ] || bad "grant $g: $code"
done
for g in '{"org":"agency","read":true,"write":true}' '{"org":"opa","read":true,"write":true}' '{"org":"opb","read":true,"write":true}'; do
    api "$admin" POST /admin/collections/sightings/grants/ "$g"
    [ "$code" = 201 ] || bad "grant $g: $code"
done
ok "admin API: grants"
api "$admin" POST /admin/keys/ '{"org":"opa","role":"org-admin","label":"opa admin"}'
opa_admin=$(body | jq -r .api_key)
[ "$code" = 201 ] && [ -n "$opa_admin" ] && ok "admin API: a key is returned once at creation" || bad "key $code"
api "$opa_admin" POST /admin/keys/ '{"org":"opa","role":"contributor"}'
k_a=$(body | jq -r .api_key)
c1=$code
api "$opa_admin" POST /admin/keys/ '{"org":"opb","role":"reader"}'
c2=$code
api "$opa_admin" POST /admin/keys/ '{"org":"opa","role":"hub-admin"}'
c3=$code
api "$opa_admin" POST /admin/orgs/ '{"name":"rogue"}'
[ "$c1/$c2/$c3/$code" = 201/403/403/403 ] && ok "org admin: keys for its own organisation only, never above its role, no organisations" || bad "org admin $c1/$c2/$c3/$code"
api "$opa_admin" GET /admin/keys/
[ "$(body | jq '[.keys[].org] | unique | length')" = 1 ] && ok "org admin lists only its organisation's keys" || bad "org admin key list"
if body | grep -q '"api_key"' || grep -q "$(echo "$k_a" | cut -c21-)" "$work/body"; then bad "a listing shows a secret"; else ok "listings never show a key's secret"; fi
api "$admin" POST /admin/keys/ '{"org":"agency","role":"contributor"}'
k_ag=$(body | jq -r .api_key)
api "$admin" POST /admin/keys/ '{"org":"opb","role":"contributor"}'
k_b=$(body | jq -r .api_key)
api "$admin" POST /admin/keys/ '{"org":"opa","role":"reader"}'
k_tmp=$(body | jq -r .api_key)
tmp_id=$(body | jq -r .key_id)
api "$opa_admin" DELETE "/admin/keys/$tmp_id/"
r1=$code
taxii "$k_tmp" GET /taxii2/
[ "$r1" = 200 ] && [ "$code" = 401 ] && ok "revoking through the API takes effect on the next request" || bad "revoke $r1/$code"

# ---- push the sample intelligence as the agency
url="http://127.0.0.1:$port/api/collections/$coll/"
printf '%s\n' "$k_ag" >"$work/ag.key"
"$bin" intel push --url "$url" --key-file "$work/ag.key" "$bundle" >"$work/push.out" 2>&1
st=$?
n=$(jq '.objects | length' "$bundle")
if [ "$st" = 0 ] && grep -q "$n objects sent, $n accepted, 0 refused" "$work/push.out"; then
    ok "intel push: the $n objects of the sample bundle accepted"
else
    bad "intel push (exit $st)"; cat "$work/push.out"
fi
printf '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001","objects":[{"type":"indicator","id":"indicator--00000000-0000-4000-8000-0000000000aa","spec_version":"2.1","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"}]}' >"$work/bad.json"
"$bin" intel push --url "$url" --key-file "$work/ag.key" "$work/bad.json" >"$work/push2.out" 2>&1
[ $? = 1 ] && grep -q 'refused indicator--00000000-0000-4000-8000-0000000000aa' "$work/push2.out" && ok "intel push: a refused object is named, exit 1" || { bad "push refused"; cat "$work/push2.out"; }

# ---- pull as operator A: whole, then incremental
printf '%s\n' "$k_a" >"$work/a.key"
"$bin" intel pull --url "$url" --key-file "$work/a.key" --state "$work/state" -o "$work/pulled.json" 2>"$work/pull.err"
st=$?
visible=$(jq '[.objects[]] | length' "$work/pulled.json" 2>/dev/null)
[ "$st" = 0 ] && [ "${visible:-0}" -gt 0 ] && [ -s "$work/state" ] && ok "intel pull: $visible objects into a bundle, the position kept in --state" || { bad "pull (exit $st)"; cat "$work/pull.err"; }
"$bin" intel check "$work/pulled.json" >/dev/null && ok "the pulled bundle validates" || bad "pulled bundle invalid"
"$bin" intel pull --url "$url" --key-file "$work/a.key" --state "$work/state" -o "$work/pulled2.json" 2>/dev/null
[ "$(jq '.objects | length' "$work/pulled2.json")" = 0 ] && ok "intel pull --state again: nothing new" || bad "incremental pull not empty"
printf '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000002","objects":[{"type":"indicator","id":"indicator--00000000-0000-4000-8000-0000000000bb","spec_version":"2.1","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '"'"'203.0.113.250'"'"']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"}]}' >"$work/new.json"
"$bin" intel push --url "$url" --key-file "$work/ag.key" "$work/new.json" >/dev/null 2>&1
"$bin" intel pull --url "$url" --key-file "$work/a.key" --state "$work/state" -o "$work/pulled3.json" 2>/dev/null
[ "$(jq -r '[.objects[].id] | join(",")' "$work/pulled3.json")" = indicator--00000000-0000-4000-8000-0000000000bb ] && ok "intel pull --state: only what was added since" || bad "incremental pull: $(jq -c '[.objects[].id]' "$work/pulled3.json")"
"$bin" intel pull --url "$url" --key-file "$work/a.key" -o "$work/pulled.twi" 2>/dev/null
"$bin" intel lookup -i "$work/pulled.twi" 203.0.113.250 | grep -q 'indicator--00000000-0000-4000-8000-0000000000bb' && ok "intel pull into a compiled index, usable by lookup and hunt" || bad "pull to .twi"
TIDEWATCH_KEY=tw_0000000000000000_0000000000000000000000000000000000000000000000000000000000000000 \
    "$bin" intel pull --url "$url" -o "$work/x.json" 2>"$work/deny.err"
[ $? = 3 ] && grep -q 'HTTP 401' "$work/deny.err" && ok "a wrong key: exit 3, the hub's 401 named" || bad "wrong key pull"

# ---- sightings: reporters hidden from other operators unless they opted in
ind=$(jq -r '[.objects[] | select(.type == "indicator")][0].id' "$bundle")
sighting() { # ID-SUFFIX ORG-IDENTITY COUNT
    printf '{"objects":[{"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-%012d","created":"2025-05-01T00:00:00.000Z","modified":"2025-05-01T00:00:00.000Z","created_by_ref":"%s","where_sighted_refs":["%s"],"sighting_of_ref":"%s","first_seen":"2025-05-01T10:00:00Z","last_seen":"2025-05-0%dT10:00:00Z","count":%d}]}' "$1" "$2" "$2" "$ind" "$3" "$3"
}
api "$admin" GET /admin/orgs/
id_a=$(body | jq -r '.organisations[] | select(.name == "opa") | .identity_id')
id_b=$(body | jq -r '.organisations[] | select(.name == "opb") | .identity_id')
surl="/api/collections/$scoll/objects/"
tally_of() { body | jq -c --arg i "$ind" '[.tally[] | select(.ref == $i) | .organisations, .count] | if length == 0 then [0, 0] else . end'; }
api "$k_ag" GET /tally/
before=$(tally_of)
taxii "$k_a" POST "$surl" "$(sighting 1 "$id_a" 2)"
s1=$code
taxii "$k_b" POST "$surl" "$(sighting 2 "$id_b" 3)"
[ "$s1$code" = 202202 ] && ok "two operators report sightings" || bad "sightings $s1 $code"
taxii "$k_b" GET "$surl"
[ "$(body | jq -r '.objects[] | select(.id | endswith("1")) | .where_sighted_refs[0]')" != "$id_a" ] &&
    [ "$(body | jq -r '.objects[] | select(.id | endswith("2")) | .where_sighted_refs[0]')" = "$id_b" ] &&
    ok "operator B sees its own sighting's reporter, and A's replaced by an anonymous identity" || { bad "anonymisation for B"; body; }
taxii "$k_a" GET "$surl"
[ "$(body | jq -r '.objects[] | select(.id | endswith("2")) | .where_sighted_refs[0]')" = "$id_b" ] && ok "B opted in: A sees B as the reporter" || bad "opt-in"
taxii "$k_ag" GET "$surl"
[ "$(body | jq -r '.objects[] | select(.id | endswith("1")) | .where_sighted_refs[0]')" = "$id_a" ] && ok "the agency (government) sees who reported" || bad "government view"

# ---- the tally
api "$k_ag" GET /tally/
after=$(tally_of)
want=$(echo "$before" | jq -c '[.[0] + 2, .[1] + 5]')
[ "$code" = 200 ] && [ "$after" = "$want" ] &&
    ok "GET /tally/: two more organisations and five more sightings of the indicator ($before -> $after)" || { bad "tally API ($code): $before -> $after"; body; }
# ---- hunting with the pulled index and reporting straight to the hub
"$bin" hunt -q -i "$work/pulled.twi" -o "$work/eve.json" --org opa \
    --sightings-to "http://127.0.0.1:$port/api/collections/$scoll/" --key-file "$work/a.key" \
    "$src/samples/pcap/salt-typhoon-demo.pcap" 2>"$work/hunt.err"
st=$?
api "$k_ag" GET /tally/
after_hunt=$(tally_of)
if [ "$st" = 0 ] && [ "$(echo "$after_hunt" | jq '.[1]')" -gt "$(echo "$after" | jq '.[1]')" ]; then
    ok "hunt --sightings-to: the hunt's sightings reach the hub and the tally grows ($after -> $after_hunt)"
else
    bad "hunt --sightings-to (exit $st)"; cat "$work/hunt.err"
fi
after=$after_hunt

# ---- the dashboard: a browser's Basic auth, what the key may see, escaped
api "$admin" POST /admin/orgs/ '{"name":"<script>alert(1)</script>"}'
code=$(curl -s -o "$work/dash.html" -D "$work/dash.h" -w '%{http_code}' -u "browser:$k_a" "http://127.0.0.1:$port/dashboard/")
if [ "$code" = 200 ] && grep -qi '^Content-Type: text/html' "$work/dash.h" && grep -qi "^Content-Security-Policy: default-src 'none'" "$work/dash.h" &&
    grep -q 'Campaign' "$work/dash.html" && grep -q "$(jq -r --arg i "$ind" '.objects[] | select(.id == $i) | .name' "$bundle")" "$work/dash.html"; then
    ok "dashboard: HTML for a browser's Basic auth, the key's collections and the tally with names, under a strict CSP"
else
    bad "dashboard ($code)"
fi
grep -q 'Organisations' "$work/dash.html" && bad "a non-admin sees the organisations table" || ok "dashboard: no organisations or keys for a non-admin"
curl -s -o "$work/dash2.html" -u "browser:$admin" "http://127.0.0.1:$port/dashboard/"
if grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$work/dash2.html" && ! grep -q '<script>' "$work/dash2.html"; then
    ok "dashboard: an admin sees organisations, every value HTML-escaped"
else
    bad "dashboard escaping"
fi
code=$(curl -s -o /dev/null -D "$work/dash3.h" -w '%{http_code}' "http://127.0.0.1:$port/dashboard/")
[ "$code" = 401 ] && grep -qi '^WWW-Authenticate: Basic' "$work/dash3.h" && ok "dashboard without a key: 401 with a Basic challenge for the browser" || bad "dashboard 401 ($code)"

hub_stop
orgs=$(echo "$after" | jq '.[0]')
count=$(echo "$after" | jq '.[1]')
"$bin" hub tally --db "$db" | grep -q "$ind *$orgs orgs *$count sightings" && ok "hub tally on the command line agrees" || { bad "hub tally"; "$bin" hub tally --db "$db"; }
"$bin" hub log verify --db "$db" >/dev/null && ok "the access log verifies" || bad "log verify"
finish
