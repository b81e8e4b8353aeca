#!/bin/sh
# TAXII 2.1 conformance of the hub, driven by curl against the real server on
# a loopback port: every endpoint, every filter, both pagination modes (next,
# and added_after = X-TAXII-Date-Added-Last), and every error status.
. "$(dirname "$0")/hub_common.inc"

db="${TW_HUB_DB:-$work/hub.db}" # TW_HUB_DB: a PostgreSQL URL (hub_pg.sh)
admin=$("$bin" hub init --db "$db" 2>/dev/null | sed -n 's/^api key: //p')
"$bin" hub org add --db "$db" --sector government-national agency >/dev/null
"$bin" hub org add --db "$db" opa >/dev/null
"$bin" hub collection add --db "$db" --title "Campaign feed" --alias feed --description "test" --default-tlp green >/dev/null
"$bin" hub collection grant --db "$db" feed --org agency --read --write >/dev/null
"$bin" hub collection grant --db "$db" feed --org opa --read >/dev/null
k=$(new_key "$db" agency contributor)
kr=$(new_key "$db" opa reader)
kslow=$("$bin" hub key create --db "$db" --org opa --role reader --rate 3 2>/dev/null | sed -n 's/^api key: //p')
[ -n "$admin" ] && [ -n "$k" ] && [ -n "$kr" ] && [ -n "$kslow" ] || { echo "setup failed"; exit 1; }
hub_start "$db" --quiet --max-body 65536 --max-page 50
media='application/taxii+json;version=2.1'
ctype_ok() { grep -qi "^Content-Type: application/taxii+json;version=2.1" "$hdrs"; }
hdr() { sed -n "s/^$1: *//Ip" "$hdrs" | tr -d '\r'; }

# ---- discovery, API root, collections
taxii "$k" GET /taxii2/
[ "$code" = 200 ] && ctype_ok && [ "$(body | jq -r '.api_roots[0]')" = /api/ ] && [ "$(body | jq -r .default)" = /api/ ] &&
    [ "$(body | jq -r .title)" != null ] && ok "discovery: 200, title, default and api_roots, TAXII media type" || { bad "discovery ($code)"; body; }
taxii "$k" GET /api/
[ "$code" = 200 ] && [ "$(body | jq -r '.versions[0]')" = "$media" ] && [ "$(body | jq .max_content_length)" = 65536 ] &&
    ok "api root: versions and max_content_length" || { bad "api root ($code)"; body; }
taxii "$k" GET /api/collections/
coll=$(body | jq -r '.collections[0].id')
[ "$code" = 200 ] && [ "$(body | jq '.collections[0] | .can_read and .can_write and .alias == "feed"')" = true ] &&
    ok "collections: the feed, readable and writable by its producer" || { bad "collections ($code)"; body; }
taxii "$kr" GET "/api/collections/$coll/"
[ "$code" = 200 ] && [ "$(body | jq '.can_read == true and .can_write == false and (.media_types | length) == 1')" = true ] &&
    ok "collection by id: can_read, can_write as the reader's grants say" || { bad "collection ($code)"; body; }
taxii "$kr" GET /api/collections/feed/
[ "$code" = 200 ] && [ "$(body | jq -r .id)" = "$coll" ] && ok "collection by alias" || bad "alias ($code)"
base="/api/collections/$coll"

# ---- add objects
ind() { # N MODIFIED [EXTRA]
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2025-03-01T00:00:00.000Z","modified":"%s","name":"i%d","pattern":"[domain-name:value = '"'"'d%d.example'"'"']","pattern_type":"stix","valid_from":"2025-03-01T00:00:00Z"%s}' "$1" "$2" "$1" "$1" "${3:-}"
}
T1=2025-03-01T00:00:00.000Z
T2=2025-04-01T00:00:00.000Z
sight='{"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-000000000099","created":"2025-03-02T00:00:00.000Z","modified":"2025-03-02T00:00:00.000Z","sighting_of_ref":"indicator--00000000-0000-4000-8000-000000000001","count":3}'
broken='{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000050","created":"2025-03-01T00:00:00.000Z","modified":"2025-03-01T00:00:00.000Z","pattern_type":"stix","valid_from":"2025-03-01T00:00:00Z"}'
taxii "$k" POST "$base/objects/" "{\"objects\":[$(ind 1 $T1),$(ind 2 $T1),$(ind 3 $T1),$sight,$broken]}"
status_id=$(body | jq -r .id)
[ "$code" = 202 ] && [ "$(body | jq -c '[.status, .total_count, .success_count, .failure_count, .pending_count]')" = '["complete",5,4,1,0]' ] &&
    [ "$(body | jq -r '.failures[0].id')" = indicator--00000000-0000-4000-8000-000000000050 ] && [ "$(body | jq -r '.failures[0].message' | grep -c pattern)" = 1 ] &&
    ok "POST: 202 status, 4 stored, the invalid indicator refused with the validator's reason" || { bad "POST ($code)"; body; }
taxii "$k" GET "$base/objects/"
first_last=$(hdr X-TAXII-Date-Added-Last)
sleep 0.01
taxii "$k" POST "$base/objects/" "{\"objects\":[$(ind 1 $T2),$(ind 4 $T1),$(ind 2 $T1)]}"
[ "$code" = 202 ] && [ "$(body | jq .success_count)" = 3 ] && ok "POST: a new version, a new object and an exact duplicate all succeed" || { bad "POST 2 ($code)"; body; }
taxii "$k" POST "$base/objects/" "{\"objects\":[$(ind 3 $T1 ',"description":"changed"')]}"
[ "$code" = 202 ] && [ "$(body | jq .failure_count)" = 1 ] && ok "POST: the same version with other content is refused" || { bad "conflict ($code)"; body; }

# ---- status
taxii "$k" GET "/api/status/$status_id/"
[ "$code" = 200 ] && [ "$(body | jq -c '[.id == "'"$status_id"'", .success_count, .failure_count, (.successes | length)]')" = '[true,4,1,4]' ] &&
    ok "status resource: counts and details kept" || { bad "status ($code)"; body; }
taxii "$kr" GET "/api/status/$status_id/"
[ "$code" = 404 ] && ok "status of another organisation's request: 404" || bad "status other ($code)"

# ---- objects and filters
taxii "$kr" GET "$base/objects/"
names=$(body | jq -r '[.objects[] | .name // .type] | join(",")')
[ "$code" = 200 ] && [ "$names" = "i2,i3,sighting,i1,i4" ] && [ -n "$(hdr X-TAXII-Date-Added-First)" ] && [ -n "$(hdr X-TAXII-Date-Added-Last)" ] &&
    ok "objects: latest versions by date_added ascending, with the X-TAXII-Date-Added headers" || { bad "objects: $names ($code)"; }
taxii "$kr" GET "$base/objects/?match%5Btype%5D=sighting"
[ "$(body | jq '.objects | length')" = 1 ] && ok "match[type]" || bad "match[type]"
taxii "$kr" GET "$base/objects/?match[id]=indicator--00000000-0000-4000-8000-000000000002,indicator--00000000-0000-4000-8000-000000000004"
[ "$(body | jq -r '[.objects[].name] | join(",")')" = "i2,i4" ] && ok "match[id] with two ids" || bad "match[id]"
taxii "$kr" GET "$base/objects/?match[id]=indicator--00000000-0000-4000-8000-000000000001&match[version]=all"
[ "$(body | jq -r '[.objects[].modified] | join(",")')" = "$T1,$T2" ] && ok "match[version]=all" || bad "version all: $(body)"
taxii "$kr" GET "$base/objects/?match[id]=indicator--00000000-0000-4000-8000-000000000001&match[version]=first"
[ "$(body | jq -r '.objects[0].modified')" = "$T1" ] && ok "match[version]=first" || bad "version first"
taxii "$kr" GET "$base/objects/?match[version]=$T2"
[ "$(body | jq -r '[.objects[].name] | join(",")')" = "i1" ] && ok "match[version]=<modified>" || bad "version exact"
taxii "$kr" GET "$base/objects/?match[spec_version]=2.0"
[ "$code" = 200 ] && [ "$(body)" = "{}" ] && ok "match[spec_version]=2.0: an empty envelope {}" || bad "spec_version ($(body))"
taxii "$kr" GET "$base/objects/?match[spec_version]=2.1&match[type]=indicator"
[ "$(body | jq '.objects | length')" = 4 ] && ok "match[spec_version]=2.1 with match[type] (ANDed)" || bad "spec_version 2.1"

# ---- paging by next (the server caps limit at 50; ask for 2)
all=""
next=""
pages=0
while :; do
    q="?limit=2"
    [ -n "$next" ] && q="$q&next=$next"
    taxii "$kr" GET "$base/objects/$q"
    pages=$((pages + 1))
    [ "$(body | jq '.objects | length')" -le 2 ] || bad "page over the limit"
    all="$all $(body | jq -r '.objects[] | .id')"
    next=$(body | jq -r '.next // empty')
    [ "$(body | jq -r '.more // false')" = true ] || break
    [ -n "$next" ] || { bad "more without next"; break; }
done
[ "$pages" = 3 ] && [ "$(echo "$all" | wc -w)" = 5 ] && ok "paging with limit=2 and next: 3 pages, 5 objects, none twice" || bad "paging: $pages pages"
taxii "$kr" GET "$base/objects/?limit=1000"
[ "$(body | jq '.objects | length')" = 5 ] && ok "limit above the server's cap is capped, not refused" || bad "limit cap"
# ---- paging by added_after: what came after the first POST
taxii "$kr" GET "$base/objects/?added_after=$first_last"
[ "$(body | jq -r '[.objects[].name] | join(",")')" = "i1,i4" ] && ok "added_after = the first POST's X-TAXII-Date-Added-Last: only later additions" || bad "added_after: $(body)"
last=$(hdr X-TAXII-Date-Added-Last)
taxii "$kr" GET "$base/objects/?added_after=$last"
[ "$(body)" = "{}" ] && ok "added_after is strictly after" || bad "added_after inclusive"

# ---- object by id, versions, manifest
taxii "$kr" GET "$base/objects/indicator--00000000-0000-4000-8000-000000000001/"
[ "$code" = 200 ] && [ "$(body | jq -r '.objects[0].modified')" = "$T2" ] && [ -n "$(hdr X-TAXII-Date-Added-Last)" ] && ok "object by id: the latest version" || bad "by id ($code)"
taxii "$kr" GET "$base/objects/indicator--00000000-0000-4000-8000-000000000001/versions/"
[ "$code" = 200 ] && [ "$(body | jq -c .versions)" = "[\"$T1\",\"$T2\"]" ] && [ "$(body | jq .more)" = false ] && ok "versions: both, oldest first" || { bad "versions ($code)"; body; }
taxii "$kr" GET "$base/manifest/?match[type]=indicator"
[ "$(body | jq -c '[.objects[] | (has("id") and has("date_added") and has("version") and .media_type == "application/stix+json;version=2.1")] | all')" = true ] &&
    [ "$(body | jq '.objects | length')" = 4 ] && ok "manifest: id, date_added, version, media_type per record" || { bad "manifest"; body; }
taxii "$kr" GET "$base/objects/indicator--00000000-0000-4000-8000-000000000077/"
[ "$code" = 404 ] && ok "object by id that does not exist: 404" || bad "missing object ($code)"
taxii "$kr" GET "$base/objects/indicator--00000000-0000-4000-8000-000000000001/?match[type]=indicator"
[ "$code" = 400 ] && ok "object by id refuses match[type]: 400" || bad "by id filter ($code)"

# ---- delete
taxii "$kr" DELETE "$base/objects/indicator--00000000-0000-4000-8000-000000000004/"
[ "$code" = 403 ] && ok "delete needs write: 403 for a reader" || bad "reader delete ($code)"
taxii "$k" DELETE "$base/objects/indicator--00000000-0000-4000-8000-000000000001/?match[version]=$T1"
taxii "$k" GET "$base/objects/indicator--00000000-0000-4000-8000-000000000001/versions/"
[ "$(body | jq -c .versions)" = "[\"$T2\"]" ] && ok "delete one version: the other stays" || { bad "delete version"; body; }
taxii "$k" DELETE "$base/objects/indicator--00000000-0000-4000-8000-000000000004/"
d=$code
taxii "$k" GET "$base/objects/indicator--00000000-0000-4000-8000-000000000004/"
g=$code
taxii "$k" GET "$base/manifest/"
[ "$d" = 200 ] && [ "$g" = 404 ] && ! body | grep -q 000000000004 && ok "delete: 200, then 404 and gone from the manifest" || bad "delete ($d/$g)"

# ---- errors
taxii "$kr" GET "$base/objects/?limit=0"
[ "$code" = 400 ] && ctype_ok && [ "$(body | jq -r .http_status)" = 400 ] && ok "limit=0: 400 with a TAXII error body" || bad "limit=0 ($code)"
for q in "added_after=yesterday" "match[version]=all,first" "next=nonsense" "limit=1&limit=2" "match[id]=x"; do
    taxii "$kr" GET "$base/objects/?$q"
    [ "$code" = 400 ] || bad "$q gave $code"
done
ok "malformed filters give 400 (5 more)"
taxii "" GET /taxii2/
[ "$code" = 401 ] && ok "no key: 401 even for discovery" || bad "no key ($code)"
taxii "$kr" POST "$base/objects/" '{"objects":[]}'
[ "$code" = 403 ] && ok "reader POST: 403" || bad "reader POST ($code)"
taxii "$kr" GET /api/collections/00000000-0000-4000-8000-000000000000/
c1=$code
taxii "$kr" GET /nope/
c2=$code
taxii "$kr" GET /api/collections
[ "$c1" = 404 ] && [ "$c2" = 404 ] && [ "$code" = 404 ] && ok "unknown collection, unknown root, path without '/': 404" || bad "404s ($c1/$c2/$code)"
taxii "$kr" PUT "$base/objects/"
[ "$code" = 405 ] && ok "PUT: 405" || bad "PUT ($code)"
code=$(curl -s -g -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $kr" -H 'Accept: application/xml' "http://127.0.0.1:$port/taxii2/")
[ "$code" = 406 ] && ok "Accept: application/xml: 406" || bad "406 ($code)"
code=$(curl -s -g -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $kr" -H 'Accept: application/taxii+json;version=2.0' "http://127.0.0.1:$port/taxii2/")
[ "$code" = 406 ] && ok "Accept: TAXII version 2.0: 406" || bad "406 v2.0 ($code)"
code=$(curl -s -g -o "$work/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $k" -H "Accept: $media" -H 'Content-Type: application/json' --data-binary '{"objects":[]}' "http://127.0.0.1:$port$base/objects/")
[ "$code" = 415 ] && ok "Content-Type application/json: 415" || bad "415 ($code)"
taxii "$k" POST "$base/objects/" '[1,2,3]'
[ "$code" = 422 ] && ok "a body that is not an envelope: 422" || bad "422 ($code)"
head -c 70000 /dev/zero | tr '\0' ' ' >"$work/big"
code=$(curl -s -g -o "$work/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $k" -H "Accept: $media" -H "Content-Type: $media" --data-binary "@$work/big" "http://127.0.0.1:$port$base/objects/")
[ "$code" = 413 ] && ok "a body over max_content_length: 413" || bad "413 ($code)"
for _ in 1 2 3 4 5 6; do taxii "$kslow" GET /taxii2/; done
[ "$code" = 429 ] && grep -qi '^Retry-After:' "$hdrs" && ok "a key over its rate: 429 with Retry-After" || bad "rate ($code)"
taxii "$k" GET /taxii2/
[ "$code" = 200 ] && ok "other keys are not slowed by it" || bad "rate spill ($code)"

hub_stop
[ "$stop_status" = 0 ] && ok "clean stop" || bad "stop ($stop_status)"
finish
