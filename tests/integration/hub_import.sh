#!/bin/sh
# `tidewatch hub import`: one hub is the source, a fresh store is filled from it
# over HTTP, and a second hub serving that store must answer as the first did:
# the same collection (id, title, description, alias), every object version,
# the same date_added in every manifest record and in the X-TAXII-Date-Added
# headers. Also: a second import adds nothing (all duplicates), an object whose
# AMBER+STRICT recipient is unknown to the target is refused by name, HTTP
# Basic works, and a wrong key is exit 3 with a clear message.
#
#
# Then a small stand-in TAXII server in Python (skipped without python3) for
# what our own hub never serves: an invalid object (our hub validates every
# POST), paging without `next` (added_after = X-TAXII-Date-Added-Last, with a
# page boundary inside one date_added), a 400 to match[spec_version]=2.0,2.1,
# manifest versions written differently from the objects' ("...00Z" against
# "...00.000Z"), an SCO without a version whose manifest version is its
# date_added (as medallion writes it), relative and absolute API root URLs, a
# root on another server (credentials are not sent there), --root renaming,
# and a collection the credentials cannot read.
. "$(dirname "$0")/hub_common.inc"

src="$work/src.db"
admin=$("$bin" hub init --db "$src" --org "source cert" 2>/dev/null | sed -n 's/^api key: //p')
"$bin" hub org add --db "$src" agency >/dev/null
"$bin" hub org add --db "$src" opa >/dev/null
"$bin" hub collection add --db "$src" --title "Campaign feed" --alias feed --description "migrated" --default-tlp green >/dev/null
"$bin" hub collection add --db "$src" --title "Empty" >/dev/null
"$bin" hub collection grant --db "$src" feed --org agency --read --write >/dev/null
k=$(new_key "$src" agency contributor)
[ -n "$admin" ] && [ -n "$k" ] || { echo "setup failed"; exit 1; }
printf '%s\n' "$admin" >"$work/admin.key"
printf 'wrong\n' >"$work/wrong.key"
hub_start "$src" --quiet
url="http://127.0.0.1:$port/taxii2/"

ind() { # N MODIFIED [EXTRA]
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2025-03-01T00:00:00.000Z","modified":"%s","name":"i%d","pattern":"[domain-name:value = '"'"'d%d.example'"'"']","pattern_type":"stix","valid_from":"2025-03-01T00:00:00Z"%s}' "$1" "$2" "$1" "$1" "${3:-}"
}
T1=2025-03-01T00:00:00.000Z
T2=2025-04-01T00:00:00.000Z
STRICT=',"object_marking_refs":["marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"],"x_tidewatch_recipients":["opa"]'
strict_id=indicator--00000000-0000-4000-8000-000000000003
sight='{"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-000000000099","created":"2025-03-02T00:00:00.000Z","modified":"2025-03-02T00:00:00.000Z","sighting_of_ref":"indicator--00000000-0000-4000-8000-000000000001","count":3}'
taxii "$k" GET /api/collections/feed/
coll=$(body | jq -r .id)
base="/api/collections/$coll"
taxii "$k" POST "$base/objects/" "{\"objects\":[$(ind 1 $T1),$(ind 2 $T1),$(ind 3 $T1 "$STRICT"),$sight]}"
[ "$code" = 202 ] && [ "$(body | jq .success_count)" = 4 ] || { echo "POST 1 failed ($code)"; body; exit 1; }
sleep 0.05
taxii "$k" POST "$base/objects/" "{\"objects\":[$(ind 1 $T2),$(ind 4 $T1)]}"
[ "$code" = 202 ] && [ "$(body | jq .success_count)" = 2 ] || { echo "POST 2 failed ($code)"; body; exit 1; }

# What the source serves (the hub admin sees everything), for comparison.
# snapshot NAME KEY: collection, every manifest record and every object version.
snapshot() {
    taxii "$2" GET "$base/"
    body | jq -S '{id, title, description, alias}' >"$work/$1.coll"
    taxii "$2" GET "$base/manifest/?match%5Bversion%5D=all&limit=1000"
    body | jq -S '[.objects[] | {id, version, date_added}] | sort_by(.id, .version)' >"$work/$1.manifest"
    taxii "$2" GET "$base/objects/?match%5Bversion%5D=all&limit=1000"
    body | jq -S '.objects | sort_by(.id, .modified)' >"$work/$1.objects"
    hdr_first=$(sed -n 's/^X-TAXII-Date-Added-First: *//Ip' "$hdrs" | tr -d '\r')
    hdr_last=$(sed -n 's/^X-TAXII-Date-Added-Last: *//Ip' "$hdrs" | tr -d '\r')
    printf '%s %s\n' "$hdr_first" "$hdr_last" >"$work/$1.headers"
}
snapshot source "$admin"
[ "$(jq length "$work/source.manifest")" = 6 ] && [ "$(jq '[.[].date_added] | unique | length' "$work/source.manifest")" = 2 ] ||
    { echo "source setup: expected 6 versions over 2 dates"; cat "$work/source.manifest"; exit 1; }

# ---- import into a fresh store (its own root is "local"; the import creates "api")
dst="$work/dst.db"
dadmin=$("$bin" hub init --db "$dst" --root local 2>/dev/null | sed -n 's/^api key: //p')
"$bin" hub org add --db "$dst" opa >/dev/null
"$bin" "hub" import --db "$dst" --url "$url" --key-file "$work/admin.key" --grant-org opa --page 2 >"$work/imp1.out" 2>"$work/imp1.err"
st=$?
[ "$st" = 0 ] && grep -q "^collection $coll: seen 6, imported 6, duplicates 0, refused 0, missing 0, re-dated 0$" "$work/imp1.out" &&
    grep -q "^api root /api/ from .*: created$" "$work/imp1.out" && grep -q "^collection $coll /api/ \"Campaign feed\" alias feed: created$" "$work/imp1.out" &&
    grep -q '^import: 2 collections, seen 6, imported 6' "$work/imp1.out" &&
    ok "import: exit 0, the API root and both collections created, 6 versions imported (pages of 2)" ||
    { bad "import (exit $st)"; cat "$work/imp1.out" "$work/imp1.err"; }
grep -q "^organisation \"127.0.0.1:$port\": created" "$work/imp1.out" && [ "$("$bin" hub org list --db "$dst" | grep -c "127.0.0.1:$port")" = 1 ] &&
    ok "import: the producer organisation is named after the source server" || bad "producer organisation"

# ---- re-import: idempotent
"$bin" hub import --db "$dst" --url "$url" --key-file "$work/admin.key" >"$work/imp2.out" 2>"$work/imp2.err"
st=$?
[ "$st" = 0 ] && grep -q "^collection $coll: seen 6, imported 0, duplicates 6, refused 0, missing 0, re-dated 0$" "$work/imp2.out" &&
    grep -q "^collection $coll /api/ \"Campaign feed\": existing$" "$work/imp2.out" &&
    ok "re-import: exit 0, nothing imported, all 6 duplicates" || { bad "re-import (exit $st)"; cat "$work/imp2.out" "$work/imp2.err"; }

# ---- HTTP Basic (the key as the password), into another store without the recipient
dst2="$work/dst2.db"
"$bin" hub init --db "$dst2" >/dev/null 2>&1
"$bin" hub import --db "$dst2" --url "$url" --user importer --password-file "$work/admin.key" --collection feed --as-org "old server" >"$work/imp3.out" 2>"$work/imp3.err"
st=$?
[ "$st" = 1 ] && grep -q "^refused $strict_id $T1: x_tidewatch_recipients names an organisation this store does not know" "$work/imp3.out" &&
    grep -q "^collection $coll: seen 6, imported 5, duplicates 0, refused 1, missing 0, re-dated 0$" "$work/imp3.out" &&
    grep -q '^import: 1 collections' "$work/imp3.out" && grep -q "^api root /api/ from .*: existing$" "$work/imp3.out" &&
    ok "Basic auth, --collection by alias, --as-org: an AMBER+STRICT object for an unknown recipient is refused by id, exit 1" ||
    { bad "import with Basic (exit $st)"; cat "$work/imp3.out" "$work/imp3.err"; }

# ---- wrong credentials: exit 3 and a clear message
"$bin" hub import --db "$dst2" --url "$url" --key-file "$work/wrong.key" >"$work/imp4.out" 2>"$work/imp4.err"
st=$?
[ "$st" = 3 ] && grep -q "refused the credentials (HTTP 401)" "$work/imp4.err" &&
    ok "a wrong key: exit 3, 'refused the credentials (HTTP 401)'" || { bad "wrong key (exit $st)"; cat "$work/imp4.out" "$work/imp4.err"; }
"$bin" hub import --db "$dst2" --url "http://127.0.0.1:1/taxii2/" --key-file "$work/admin.key" >/dev/null 2>"$work/imp5.err"
st=$?
[ "$st" = 3 ] && [ -s "$work/imp5.err" ] && ok "an unreachable source: exit 3" || { bad "unreachable (exit $st)"; cat "$work/imp5.err"; }
"$bin" hub import --db "$dst2" --url "$url" >/dev/null 2>&1
[ $? = 2 ] && ok "no credentials: exit 2" || bad "no credentials"
hub_stop

# ---- the imported store, served, answers as the source did
hub_start "$dst" --quiet
snapshot imported "$dadmin"
cmp -s "$work/source.coll" "$work/imported.coll" && ok "the same collection id, title, description and alias" ||
    { bad "collection differs"; diff "$work/source.coll" "$work/imported.coll"; }
cmp -s "$work/source.manifest" "$work/imported.manifest" && ok "every manifest record with the same version and date_added" ||
    { bad "manifest differs"; diff "$work/source.manifest" "$work/imported.manifest"; }
cmp -s "$work/source.objects" "$work/imported.objects" && ok "every object version, byte for byte as JSON" ||
    { bad "objects differ"; diff "$work/source.objects" "$work/imported.objects"; }
cmp -s "$work/source.headers" "$work/imported.headers" && ok "the same X-TAXII-Date-Added-First and -Last ($(cat "$work/imported.headers"))" ||
    { bad "headers differ"; cat "$work/source.headers" "$work/imported.headers"; }
kopa=$(new_key "$dst" opa reader)
taxii "$kopa" GET "$base/objects/?match%5Bid%5D=$strict_id"
[ "$code" = 200 ] && [ "$(body | jq -r '.objects[0].id')" = "$strict_id" ] &&
    ok "--grant-org: opa reads the collection and, as the named recipient, its AMBER+STRICT object" || { bad "opa ($code)"; body; }
hub_stop

# ---- a stand-in server: what our hub cannot serve
if ! command -v python3 >/dev/null 2>&1; then
    echo "skip the stand-in server cases: python3 is not installed"
    finish
    exit $?
fi
cat >"$work/fake.py" <<'EOF_PY'
import base64, json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

C1 = "11111111-1111-4111-8111-111111111111"
C2 = "22222222-2222-4222-8222-222222222222"
D = ["2024-01-01T00:00:00.000001Z", "2024-01-02T00:00:00.000002Z", "2024-01-03T00:00:00.000003Z"]
def ind(n, mod, extra=None):
    o = {"type": "indicator", "spec_version": "2.1", "id": "indicator--00000000-0000-4000-8000-%012d" % n,
         "created": "2024-01-01T00:00:00.000Z", "modified": mod, "name": "f%d" % n,
         "pattern": "[ipv4-addr:value = '10.0.0.%d']" % n, "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"}
    o.update(extra or {})
    return o
bad = ind(3, "2024-01-01T00:00:00.000Z")
del bad["pattern"]
sco = {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--0e0b2d2a-6a39-5b45-a8b6-1c1d1e1f2021", "value": "10.9.9.9"}
# (date_added, manifest version, object); two dates hold two records each, so
# a page of 3 ends inside a date.
ROWS = [(D[0], "2024-01-01T00:00:00Z", ind(1, "2024-01-01T00:00:00.000Z")),
        (D[0], "2024-01-01T00:00:00Z", ind(2, "2024-01-01T00:00:00.000Z")),
        (D[1], "2024-01-05T00:00:00Z", ind(1, "2024-01-05T00:00:00.000Z")),
        (D[1], "2024-01-01T00:00:00Z", bad),
        (D[2], D[2], sco)]

def rows():
    # Rows the test adds later (extra.json: [[date_added, version, n, modified,
    # listed only in the manifest]...]).
    try:
        with open(sys.argv[1]) as f:
            extra = [(d, v, ind(n, m), only) for d, v, n, m, only in json.load(f)]
    except FileNotFoundError:
        extra = []
    return sorted([r + (False,) for r in ROWS] + extra, key=lambda r: r[0])

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def send(self, code, body, hdrs=()):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/taxii+json;version=2.1")
        self.send_header("Content-Length", str(len(data)))
        for k, v in hdrs:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        if self.headers.get("Authorization") != "Basic " + base64.b64encode(b"u:p").decode():
            return self.send(401, {"title": "Unauthorized", "http_status": "401"}, [("WWW-Authenticate", "Basic")])
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        me = "http://127.0.0.1:%d" % self.server.server_address[1]
        p = u.path
        if p == "/taxii2/":
            return self.send(200, {"title": "stand-in", "api_roots": [me + "/r1/", "/r2/", "http://localhost:1/far/"]})
        if p in ("/r1/", "/r2/"):
            return self.send(200, {"title": "Root " + p[2], "versions": ["application/taxii+json;version=2.1"]})
        if p == "/r2/collections/":
            return self.send(200, {})
        if p == "/r1/collections/":
            return self.send(200, {"collections": [
                {"id": C1, "title": "Stand-in", "alias": "standin", "can_read": True, "can_write": False},
                {"id": C2, "title": "Inbox", "can_read": False, "can_write": True}]})
        for what in ("manifest", "objects"):
            if p == "/r1/collections/%s/%s/" % (C1, what):
                if "2.0" in q.get("match[spec_version]", ""):
                    return self.send(400, {"title": "Bad filter", "http_status": "400"})
                sel = [r for r in rows() if r[0] > q.get("added_after", "") and (what == "manifest" or not r[3])]
                if "match[id]" in q:
                    sel = [r for r in sel if r[2]["id"] == q["match[id]"]]
                lim = int(q.get("limit", "100"))
                page, more = sel[:lim], len(sel) > lim
                if not page:
                    return self.send(200, {})
                items = [r[2] if what == "objects" else
                         {"id": r[2]["id"], "date_added": r[0], "version": r[1],
                          "media_type": "application/stix+json;version=2.1"} for r in page]
                return self.send(200, {"more": more, "objects": items},
                                 [("X-TAXII-Date-Added-First", page[0][0]), ("X-TAXII-Date-Added-Last", page[-1][0])])
        self.send(404, {"title": "Not found", "http_status": "404"})

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
print("listening on 127.0.0.1:%d" % srv.server_address[1], flush=True)
srv.serve_forever()
EOF_PY
python3 "$work/fake.py" "$work/extra.json" >"$work/fake.out" 2>&1 &
fake_pid=$!
trap 'kill "$fake_pid" 2>/dev/null; if [ -n "$hub_pid" ]; then kill "$hub_pid" 2>/dev/null; fi; rm -rf "$work"' EXIT
fport=
for _ in $(seq 1 100); do
    fport=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/fake.out")
    [ -n "$fport" ] && break
    sleep 0.05
done
[ -n "$fport" ] || { echo "the stand-in server did not start"; cat "$work/fake.out"; exit 1; }
printf 'p\n' >"$work/fake.pw"
"$bin" hub import --db "$dst" --url "http://127.0.0.1:$fport/taxii2" --user u --password-file "$work/fake.pw" --page 3 \
    >"$work/imp6.out" 2>"$work/imp6.err"
st=$?
C1=11111111-1111-4111-8111-111111111111
[ "$st" = 1 ] && grep -q "^collection $C1: seen 5, imported 4, duplicates 0, refused 1, missing 0, re-dated 0$" "$work/imp6.out" &&
    grep -q '^refused indicator--00000000-0000-4000-8000-000000000003 2024-01-01T00:00:00.000Z: missing required property (pattern)$' "$work/imp6.out" &&
    ok "stand-in: without next, a page boundary inside a date loses nothing; the invalid indicator is refused with the validator's reason" ||
    { bad "stand-in import (exit $st)"; cat "$work/imp6.out" "$work/imp6.err"; }
grep -q 'refuses match\[spec_version\]=2.0,2.1 (HTTP 400); trying match\[spec_version\]=2.1' "$work/imp6.err" && grep -q "API root http://localhost:1/far/ is on another server: skipped" "$work/imp6.err" &&
    grep -q "collection 22222222-2222-4222-8222-222222222222: not readable with these credentials: skipped" "$work/imp6.err" &&
    grep -q "^api root /r1/ from http://127.0.0.1:$fport/r1/: created$" "$work/imp6.out" && grep -q "^api root /r2/ from http://127.0.0.1:$fport/r2/: created$" "$work/imp6.out" &&
    ok "stand-in: spec_version narrowed after a 400, relative and absolute roots, another server's root and an unreadable collection skipped and said" ||
    { bad "stand-in messages"; cat "$work/imp6.out" "$work/imp6.err"; }
"$bin" hub import --db "$dst" --url "http://127.0.0.1:$fport/taxii2/" --user u --password-file "$work/fake.pw" --root r2=renamed \
    >"$work/imp7.out" 2>"$work/imp7.err"
st=$?
[ "$st" = 0 ] && grep -q "^api root /renamed/ from http://127.0.0.1:$fport/r2/: created$" "$work/imp7.out" &&
    grep -q '^import: 0 collections, seen 0' "$work/imp7.out" &&
    ok "--root r2=renamed: only that root, stored under the new name, exit 0" || { bad "--root rename (exit $st)"; cat "$work/imp7.out" "$work/imp7.err"; }
hub_start "$dst" --quiet
taxii "$dadmin" GET "/r1/collections/$C1/manifest/?match%5Bversion%5D=all"
got=$(body | jq -c '[.objects[] | [.id[0:12], .date_added]]')
want='[["indicator--0","2024-01-01T00:00:00.000001Z"],["indicator--0","2024-01-01T00:00:00.000001Z"],["indicator--0","2024-01-02T00:00:00.000002Z"],["ipv4-addr--0","2024-01-03T00:00:00.000003Z"]]'
[ "$got" = "$want" ] && ok "stand-in: every imported version keeps its date_added, the versionless SCO too" || { bad "stand-in dates: $got"; }
hub_stop

# Two more objects on the source, one with a date_added earlier than the last
# one already imported: that one gets the collection's last + 1 microsecond
# (the store's stamp, after the duplicates' runs moved it too) and is counted
# as re-dated; the later one keeps its date.
echo '[["2024-01-02T12:00:00.000005Z","2024-01-01T00:00:00Z",5,"2024-01-01T00:00:00.000Z",false],["2024-01-04T00:00:00.000004Z","2024-01-01T00:00:00Z",6,"2024-01-01T00:00:00.000Z",false]]' >"$work/extra.json"
"$bin" hub import --db "$dst" --url "http://127.0.0.1:$fport/taxii2/" --user u --password-file "$work/fake.pw" --collection standin \
    >"$work/imp8.out" 2>"$work/imp8.err"
st=$?
[ "$st" = 1 ] && grep -q "^collection $C1: seen 7, imported 2, duplicates 4, refused 1, missing 0, re-dated 1$" "$work/imp8.out" &&
    grep -q "collection $C1: 1 objects got a later date_added than on the source" "$work/imp8.err" &&
    ok "re-import of a grown source: the 2 new objects imported, the one dated before the collection's last one re-dated and said" ||
    { bad "re-import, re-dated (exit $st)"; cat "$work/imp8.out" "$work/imp8.err"; }
hub_start "$dst" --quiet
taxii "$dadmin" GET "/r1/collections/$C1/manifest/?match%5Bid%5D=indicator--00000000-0000-4000-8000-000000000005,indicator--00000000-0000-4000-8000-000000000006"
got=$(body | jq -c '[.objects[] | [.id[-1:], .date_added]]')
[ "$got" = '[["5","2024-01-03T00:00:00.000006Z"],["6","2024-01-04T00:00:00.000004Z"]]' ] &&
    ok "re-dated: the early one at last + 1 us (two runs of duplicates moved last on before it), the later one at its own date" || bad "re-dated dates: $got"
hub_stop

# A version the manifest lists but the objects endpoint never returns.
echo '[["2024-01-05T00:00:00.000005Z","2024-01-05T00:00:00Z",7,"2024-01-05T00:00:00.000Z",true]]' >"$work/extra.json"
"$bin" hub import --db "$dst" --url "http://127.0.0.1:$fport/taxii2/" --user u --password-file "$work/fake.pw" --collection $C1 \
    >"$work/imp9.out" 2>"$work/imp9.err"
st=$?
[ "$st" = 1 ] && grep -q "^missing indicator--00000000-0000-4000-8000-000000000007 2024-01-05T00:00:00.000000Z: listed in the source's manifest, not returned by its objects endpoint$" "$work/imp9.out" &&
    grep -q "^collection $C1: seen 5, imported 0, duplicates 4, refused 1, missing 1, re-dated 0$" "$work/imp9.out" &&
    ok "a version only the manifest lists is reported missing by id and version, exit 1" || { bad "missing (exit $st)"; cat "$work/imp9.out" "$work/imp9.err"; }
finish
