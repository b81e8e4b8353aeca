#!/bin/sh
# Hub benchmark: `tidewatch hub serve` on loopback, plain HTTP (plus one TLS
# run for comparison), driven by curl (ingest) and wrk (reads).
# Usage: bench/run_hub.sh BUILD_DIR
#
# 1. ingest: envelopes of 5,000 valid indicators POSTed by 2 concurrent curl
#    clients until a collection holds TW_BENCH_HUB_OBJECTS objects; the hub
#    validates every object and commits each POST before answering 202.
# 2. small GETs: discovery, API root, collections, one object by id.
# 3. 100-object pages: walking `next` from the start, pages at random
#    positions, pages in the last 10,000 objects (does the cost grow with the
#    position?), random pages with 2 connections instead of 32 (latency
#    without queueing), and random pages of a 1,000-object collection (how
#    does the cost grow with the collection?).
# 4. TLS: discovery and one 100-object page over HTTPS (self-signed ECDSA
#    certificate from certtool), for comparison with plain HTTP.
# Then a summary against the aims and against medallion's figures as recorded
# in shared/reference/taxii-stix.md section 5 (not measured by this script).
#
# Environment:
#   TW_BENCH_HUB_OBJECTS  objects in the big collection (default 1000000)
#   TW_BENCH_HUB_RELOAD   1: rebuild the loaded store even when one is there
#   TW_BENCH_HUB_INGEST   objects of the ingest measured on a fresh store when
#                         the loaded store is reused (default 100000; 0: skip)
#   TW_BENCH_HUB_SECONDS  duration of each wrk run (default 10)
#   TW_BENCH_HUB_THREADS  hub worker threads (default 2)
#   TW_BENCH_HUB_TLS      0: skip the TLS runs (default 1 when certtool exists)
#   TW_BENCH_DIR          work directory (default ${TMPDIR:-/tmp}/tw-bench)
#
# The loaded store lives in $TW_BENCH_DIR/hub/N/ (N the object count) with the
# keys it was made with (meta.env), and is reused by later runs: loading a
# million objects takes minutes. The load's own ingest figure is kept there and
# printed again. The generated envelopes are removed once loaded. Every run
# adds its requests to the store's access log (a few hundred MB a run);
# TW_BENCH_HUB_RELOAD=1 starts again from an empty store.
set -u
build=${1:?usage: run_hub.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
tw="$build/tidewatch"
n_big=${TW_BENCH_HUB_OBJECTS:-1000000}
n_small=1000
per=5000
reload=${TW_BENCH_HUB_RELOAD:-0}
n_ingest=${TW_BENCH_HUB_INGEST:-100000}
secs=${TW_BENCH_HUB_SECONDS:-10}
threads=${TW_BENCH_HUB_THREADS:-2}
want_tls=${TW_BENCH_HUB_TLS:-1}
base=${TW_BENCH_DIR:-${TMPDIR:-/tmp}/tw-bench}/hub
sdir="$base/$n_big"
media='application/taxii+json;version=2.1'

for t in curl jq wrk; do
    command -v $t >/dev/null 2>&1 || { echo "run_hub.sh: $t is not installed (scripts/install-deps.sh --bench)"; exit 1; }
done
[ -x "$tw" ] || { echo "run_hub.sh: $tw not built"; exit 1; }
[ "$n_big" -ge 2000 ] 2>/dev/null || { echo "run_hub.sh: TW_BENCH_HUB_OBJECTS must be at least 2000"; exit 1; }
mkdir -p "$base"
work=$(mktemp -d "$base/run.XXXXXX")
hub_pid=
trap 'if [ -n "$hub_pid" ]; then kill "$hub_pid" 2>/dev/null; wait "$hub_pid" 2>/dev/null; fi; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
results="$work/results"
: >"$results"
reused=0

now() { date +%s.%N; }
# The hub's CPU time so far (user + system), in clock ticks: figures per request
# from it hold up better than rates when other work shares the two cores.
hub_ticks() { awk '{ print $14 + $15 }' "/proc/$hub_pid/stat" 2>/dev/null || echo 0; }
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
die() {
    echo "run_hub.sh: $*"
    [ -s "$work/serve.err" ] && tail -5 "$work/serve.err"
    exit 1
}

# hub_start DB [serve options...]: starts the hub on an ephemeral loopback port; sets $port, $hub_pid.
hub_start() {
    db=$1
    shift
    # A fresh file: the old hub's "listening on" line must not be read as this one's.
    rm -f "$work/serve.err"
    "$tw" hub serve --db "$db" --listen 127.0.0.1:0 --threads "$threads" --quiet \
        --rate 10000000 "$@" 2>"$work/serve.err" &
    hub_pid=$!
    port=
    for _ in $(seq 1 200); do
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/serve.err" 2>/dev/null |
            head -1)
        [ -n "$port" ] && break
        kill -0 "$hub_pid" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$port" ] || die "the hub did not start"
}

hub_stop() {
    [ -n "$hub_pid" ] || return 0
    kill -TERM "$hub_pid" 2>/dev/null
    wait "$hub_pid" 2>/dev/null
    hub_pid=
}

# make_store DIR: a new store with two orgs, collections big and small, and keys; writes DIR/meta.env.
make_store() {
    d=$1
    rm -rf "$d"
    mkdir -p "$d"
    db="$d/hub.db"
    "$tw" hub init --db "$db" --org "bench operator" >/dev/null 2>&1 || die "hub init failed"
    "$tw" hub org add --db "$db" --sector government-national producer >/dev/null || die "org add"
    "$tw" hub org add --db "$db" --sector telecommunications consumer >/dev/null || die "org add"
    for c in big small; do
        "$tw" hub collection add --db "$db" --title "bench $c" --alias "$c" --default-tlp green >/dev/null || die "collection add"
        "$tw" hub collection grant --db "$db" "$c" --org producer --read --write >/dev/null || die "grant"
        "$tw" hub collection grant --db "$db" "$c" --org consumer --read >/dev/null || die "grant"
    done
    newkey() { "$tw" hub key create --db "$db" --org "$1" --role "$2" 2>/dev/null | sed -n 's/^api key: //p'; }
    kw1=$(newkey producer contributor)
    kw2=$(newkey producer contributor)
    kr=$(newkey consumer reader)
    [ -n "$kw1" ] && [ -n "$kw2" ] && [ -n "$kr" ] || die "key create failed"
    old_umask=$(umask)
    umask 077
    printf "kw1='%s'\nkw2='%s'\nkr='%s'\n" "$kw1" "$kw2" "$kr" >"$d/meta.env"
    umask "$old_umask"
}

# post FILE KEY ALIAS: POSTs one envelope; prints its success_count, or fails.
post() {
    rm -f "$2.resp"
    code=$(curl -s -g -o "$2.resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $3" \
        -H "Accept: $media" -H "Content-Type: $media" -H 'Expect:' --data-binary "@$1" \
        "http://127.0.0.1:$port/api/collections/$4/objects/")
    if [ "$code" != 202 ]; then
        if ! kill -0 "$hub_pid" 2>/dev/null; then
            echo "POST $1: no answer: the hub died ($(tail -1 "$work/serve.err"); see dmesg)" >&2
        else
            echo "POST $1: HTTP $code: $(head -c 300 "$2.resp" 2>/dev/null)" >&2
        fi
        return 1
    fi
    sed -n 's/.*"success_count":\([0-9]*\).*/\1/p' "$2.resp" | head -1
}

# client I KEY ALIAS DIR PREFIX: posts the files of DIR/PREFIX-* whose index is I modulo 2.
client() {
    i=0
    sum=0
    for f in "$4/$5"-*.json; do
        if [ $((i % 2)) -eq "$1" ]; then
            n=$(post "$f" "$work/c$1" "$2" "$3") || { echo fail >"$work/client-$1.sum"; return 1; }
            sum=$((sum + n))
        fi
        i=$((i + 1))
    done
    echo "$sum" >"$work/client-$1.sum"
}

# ingest LABEL ALIAS DIR PREFIX N: the two clients in parallel; prints the rate line, records it.
ingest() {
    k0=$(hub_ticks)
    t0=$(now)
    client 0 "$kw1" "$2" "$3" "$4" &
    c0=$!
    client 1 "$kw2" "$2" "$3" "$4" &
    c1=$!
    wait "$c0"
    wait "$c1"
    t1=$(now)
    k1=$(hub_ticks)
    s0=$(cat "$work/client-0.sum")
    s1=$(cat "$work/client-1.sum")
    [ "$s0" != fail ] && [ "$s1" != fail ] || die "ingest failed"
    got=$((s0 + s1))
    [ "$got" -eq "$5" ] || die "ingest stored $got objects, expected $5"
    secs_i=$(elapsed "$t0" "$t1")
    rate=$(awk -v n="$got" -v s="$secs_i" 'BEGIN { printf "%.0f", n / s }')
    cpu=$(awk -v k=$((k1 - k0)) -v hz="$hz" -v n="$got" 'BEGIN { printf "%.0f", k / hz * 1e6 / n }')
    printf '%-44s %8d objects in %7.2f s  %8d objects/s  hub CPU %4d us/object\n' "$1" "$got" "$secs_i" "$rate" "$cpu"
    echo "ingest|$1|$rate|$got|$secs_i|$cpu" >>"$results"
}

# gen DIR PREFIX TAG N: envelopes of $per objects.
gen() {
    mkdir -p "$1"
    awk -v out="$1" -v prefix="$2" -v tag="$3" -v total="$4" -v per="$per" \
        -f "$here/hub/gen_envelopes.awk" >/dev/null || die "envelope generation failed"
}

# page_table ALIAS TOTAL OUT: "DATE_HEX FIRST_SEQ COUNT" per bulk add, from limit=1 pages.
page_table() {
    : >"$3.tmp"
    q="limit=1"
    while :; do
        curl -s -g -o "$work/pt" -H "Authorization: Bearer $kr" -H "Accept: $media" \
            "http://127.0.0.1:$port/api/collections/$1/objects/?$q" || die "page table: curl failed"
        nx=$(jq -r '.next // empty' "$work/pt")
        [ -n "$nx" ] || break
        echo "$nx" | tr '.' ' ' >>"$3.tmp"
        # after the last seq of this date: the first object of the next add
        q="limit=1&next=${nx%%.*}.fffffffffffffff"
    done
    awk -v total="$2" '{ d[NR] = $1; s[NR] = strtonum_hex($2) }
        function strtonum_hex(h,   i, v, c) {
            v = 0
            for (i = 1; i <= length(h); i++) {
                c = index("0123456789abcdef", substr(h, i, 1)) - 1
                v = v * 16 + c
            }
            return v
        }
        END {
            used = 0
            for (i = 1; i <= NR; i++) {
                n = i < NR ? s[i + 1] - s[i] : total - used
                used += n
                printf "%s %d %d\n", d[i], s[i], n
            }
        }' "$3.tmp" >"$3"
    rm -f "$3.tmp"
    [ -s "$3" ] || die "page table for $1 is empty"
}

# to_ms VALUE: wrk's "574.00us", "1.23ms", "2.01s" in milliseconds.
to_ms() {
    echo "$1" | awk '{ v = $1 + 0
        if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /ms$/) v *= 1; else if ($1 ~ /m$/) v *= 60000; else if ($1 ~ /s$/) v *= 1000
        printf "%.2f", v }'
}

# bench LABEL URL SCRIPT [CONNECTIONS]: one wrk run (-t2 -c32 unless told, keep-alive,
# --latency); prints and records the result, with the hub's CPU time per request.
bench() {
    out="$work/wrk.out"
    k0=$(hub_ticks)
    wrk -t2 -c"${4:-32}" -d"${secs}s" --latency -s "$3" "$2" >"$out" 2>&1
    k1=$(hub_ticks)
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    bad=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
    errs=$(awk '/Socket errors:/ { sub(/.*Socket errors: */, ""); print }' "$out")
    [ -n "$rps" ] || { cat "$out"; die "wrk failed for $1"; }
    kill -0 "$hub_pid" 2>/dev/null || die "the hub died during: $1 (see dmesg)"
    note=""
    [ -n "$bad" ] && note=" ($bad responses not 2xx: NOT VALID)"
    [ -n "$errs" ] && note="$note (socket errors: $errs)"
    n_req=$(awk '/requests in/ { print $1 }' "$out")
    cpu=$(awk -v k=$((k1 - k0)) -v hz="$hz" -v n="${n_req:-0}" 'BEGIN { printf "%.0f", (n > 0 ? k / hz * 1e6 / n : 0) }')
    printf '%-44s %8d req/s  p50 %7.2f ms  p99 %7.2f ms  hub CPU %4d us/req%s\n' "$1" "$rps" "$p50" "$p99" "$cpu" "$note"
    echo "get|$1|$rps|$p50|$p99|${bad:-0}|$cpu" >>"$results"
}

echo "tidewatch hub benchmark: plain HTTP on 127.0.0.1 (no TLS unless labelled), $threads hub threads"
echo "store: SQLite, WAL, synchronous=FULL (each POST and each access-log record is on disk before the answer)"
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# ---- 1. The loaded store: reuse or build (the build is the ingest measurement).
if [ "$reload" = 1 ] || [ ! -s "$sdir/meta.env" ] || ! grep -q '^loaded=' "$sdir/meta.env"; then
    echo "loading $n_big objects into $sdir (TW_BENCH_HUB_RELOAD=1 forces this again)"
    make_store "$sdir"
    . "$sdir/meta.env"
    gen "$sdir/env" small 05a1 "$n_small"
    gen "$sdir/env" big 0b16 "$n_big"
    echo "envelopes: $(ls "$sdir/env" | wc -l) files, $(du -sh "$sdir/env" | cut -f1); about $(($(stat -c %s "$sdir/env/big-00000.json") / per)) bytes per object"
    hub_start "$sdir/hub.db"
    ingest "ingest, small collection (1 POST)" small "$sdir/env" small "$n_small" >/dev/null
    ingest "ingest into an empty collection, 2 clients" big "$sdir/env" big "$n_big"
    load_line=$(tail -1 "$results")
    page_table big "$n_big" "$sdir/pages-big.txt"
    page_table small "$n_small" "$sdir/pages-small.txt"
    rm -rf "$sdir/env"
    printf "loaded='%s'\nload_date='%s'\n" "$load_line" "$(date -u +%Y-%m-%dT%H:%MZ)" >>"$sdir/meta.env"
    echo "store: $(du -sh "$sdir" | cut -f1) on disk"
else
    . "$sdir/meta.env"
    reused=1
    echo "reusing the store loaded on $load_date in $sdir ($(du -sh "$sdir" | cut -f1))"
    echo "$loaded" | awk -F'|' '{ printf "%-44s %8d objects in %7.2f s  %8d objects/s  hub CPU %4d us/object  (the load, %s)\n", $2, $4, $5, $3, $6, d }' d="$load_date"
    echo "$loaded" >>"$results"
    if [ "$n_ingest" -gt 0 ]; then
        # A fresh store, so the figure is measured in this run too.
        sc="$base/scratch"
        kw1_=$kw1 kw2_=$kw2 kr_=$kr
        make_store "$sc"
        . "$sc/meta.env"
        gen "$sc/env" big 0c0c "$n_ingest"
        hub_start "$sc/hub.db"
        ingest "ingest into an empty store, 2 clients" big "$sc/env" big "$n_ingest"
        hub_stop
        rm -rf "$sc"
        kw1=$kw1_ kw2=$kw2_ kr=$kr_
    fi
    hub_start "$sdir/hub.db"
fi
echo

# ---- 2. Small GETs.
export TW_BENCH_KEY="$kr"
url="http://127.0.0.1:$port"
# The id gen_envelopes.awk gave object n_big / 2.
k=$((n_big / 2))
mid=$(printf 'indicator--%08x-0b16-4000-8000-%012x' $(((k * 2654435761) % 4294967296)) "$k")
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $kr" -H "Accept: $media" "$url/api/collections/big/objects/$mid/")
[ "$code" = 200 ] || die "GET object by id: HTTP $code"
bench "GET /taxii2/ (discovery)" "$url/taxii2/" "$here/hub/get.lua"
bench "GET /api/ (API root)" "$url/api/" "$here/hub/get.lua"
bench "GET /api/collections/" "$url/api/collections/" "$here/hub/get.lua"
bench "GET one object by id (of $n_big)" "$url/api/collections/big/objects/$mid/" "$here/hub/get.lua"
echo

# ---- 3. 100-object pages.
export TW_BENCH_PAGE_LIMIT=100
export TW_BENCH_PAGE_PATH=/api/collections/big/objects/
TW_BENCH_PAGE_MODE=walk bench "page walk by next, limit=100 ($n_big)" "$url/" "$here/hub/pages.lua"
export TW_BENCH_PAGE_TABLE="$sdir/pages-big.txt"
TW_BENCH_PAGE_MODE=random bench "page at random positions ($n_big)" "$url/" "$here/hub/pages.lua"
TW_BENCH_PAGE_MODE=deep bench "page in the last 10,000 ($n_big)" "$url/" "$here/hub/pages.lua"
# Latency without a queue: with 32 connections a page waits behind the others.
TW_BENCH_PAGE_MODE=random bench "page at random positions, 2 connections" "$url/" "$here/hub/pages.lua" 2
export TW_BENCH_PAGE_PATH=/api/collections/small/objects/
export TW_BENCH_PAGE_TABLE="$sdir/pages-small.txt"
TW_BENCH_PAGE_MODE=random bench "page at random positions ($n_small)" "$url/" "$here/hub/pages.lua"
hub_stop
echo

# ---- 4. TLS, for comparison.
if [ "$want_tls" = 1 ] && command -v certtool >/dev/null 2>&1; then
    certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --outfile "$work/key.pem" >/dev/null 2>&1
    printf 'cn = "127.0.0.1"\nip_address = "127.0.0.1"\nexpiration_days = 2\ntls_www_server\nsigning_key\n' >"$work/cert.tmpl"
    if certtool --generate-self-signed --load-privkey "$work/key.pem" --template "$work/cert.tmpl" \
        --outfile "$work/cert.pem" >/dev/null 2>&1; then
        hub_start "$sdir/hub.db" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem"
        bench "TLS: GET /taxii2/ (discovery)" "https://127.0.0.1:$port/taxii2/" "$here/hub/get.lua"
        export TW_BENCH_PAGE_PATH=/api/collections/big/objects/
        export TW_BENCH_PAGE_TABLE="$sdir/pages-big.txt"
        TW_BENCH_PAGE_MODE=random bench "TLS: page at random positions ($n_big)" "https://127.0.0.1:$port/" "$here/hub/pages.lua"
        hub_stop
        echo
    else
        echo "TLS: certtool could not make a certificate; skipped"
    fi
fi

# ---- Summary.
val() { awk -F'|' -v l="$1" -v f="$2" '$2 == l { v = $f } END { print v + 0 }' "$results"; }
# aim LABEL VALUE AIM min|max UNIT: one line of the summary.
aim() {
    awk -v l="$1" -v v="$2" -v a="$3" -v dir="$4" -v u="$5" 'BEGIN {
        ok = dir == "min" ? v >= a : v < a
        printf "  %-52s %10s %-10s aim %s %-8s %s\n", l, v, u, dir == "min" ? ">=" : "<", a, ok ? "met" : "NOT met" }'
}
# The ingest measured by this run: the load, or (reusing a loaded store) the fresh-store one.
ing_label="ingest into an empty store, 2 clients"
[ "$(val "$ing_label" 3)" -gt 0 ] || ing_label="ingest into an empty collection, 2 clients"
ing=$(val "$ing_label" 3)
ing_cpu=$(val "$ing_label" 6)
disc=$(val "GET /taxii2/ (discovery)" 3)
coll=$(val "GET /api/collections/" 3)
byid=$(val "GET one object by id (of $n_big)" 3)
pr=$(val "page at random positions ($n_big)" 3)
pr50=$(val "page at random positions ($n_big)" 4)
ps=$(val "page at random positions ($n_small)" 3)
ps50=$(val "page at random positions ($n_small)" 4)
pd50=$(val "page in the last 10,000 ($n_big)" 4)
ing_when="measured in this run"
[ "$ing_label" = "ingest into an empty collection, 2 clients" ] && [ "$reused" = 1 ] && ing_when="from the load of $load_date"
echo "summary against the aims of shared/reference/taxii-stix.md section 5; everything measured in"
echo "this run except where said (ingest: $ing_label, $ing_when)"
aim "ingest, every object validated, objects/s" "$ing" 50000 min ""
echo "  (the hub spent $ing_cpu us of CPU per object: 2 cores allow at most $(awk -v c="$ing_cpu" 'BEGIN { printf "%.0f", (c > 0 ? 2e6 / c : 0) }') objects/s)"
for l in "GET /taxii2/ (discovery)" "GET /api/ (API root)" "GET /api/collections/" "GET one object by id (of $n_big)"; do
    aim "$l, req/s" "$(val "$l" 3)" 20000 min ""
    aim "$l, p99" "$(val "$l" 5)" 5 max ms
done
for l in "page at random positions ($n_big)" "page in the last 10,000 ($n_big)" "page at random positions, 2 connections"; do
    aim "100-object $l, p99" "$(val "$l" 5)" 20 max ms
done
awk -v a="$pr50" -v b="$pd50" -v c="$ps50" -v ra="$pr" -v rs="$ps" -v n="$n_big" -v m="$n_small" 'BEGIN {
    printf "  page cost, %d vs %d objects: p50 %.2f vs %.2f ms (x%.2f), req/s %d vs %d (x%.2f); last 10,000: p50 %.2f ms\n",
        n, m, a, c, (c > 0 ? a / c : 0), ra, rs, (ra > 0 ? rs / ra : 0), b }'
echo
echo "medallion: figures from shared/reference/taxii-stix.md section 5 (medallion HEAD, memory"
echo "backend, Flask dev server, wrk -t2 -c8, measured earlier on this 2-core machine with a"
echo "background process using about one core), NOT measured in this run: medallion cannot be"
echo "installed here (no pip). Ratios are tidewatch (this run) / medallion (the file):"
awk -v d="$disc" -v i="$ing" -v p="$pr" -v ps="$ps" -v n="$n_big" 'BEGIN {
    printf "  %-44s %16s   tidewatch %7d req/s      x%.0f\n", "GET /taxii2/", "1,420 req/s", d, d / 1420
    printf "  %-44s %16s   tidewatch %7d objects/s  x%.1f (tidewatch validates each)\n", "POST 10 x 1,000 indicators, unvalidated", "3,950 objects/s", i, i / 3950
    printf "  %-44s %16s   tidewatch %7d pages/s of a %d-object collection\n", "GET limit=100 page, 10k objects", "263-268 s/page", p, n
    printf "  %-44s %16s   (O(n^2) in the collection size; tidewatch %d pages/s at 1,000)\n", "  with match[spec_version]=2.1", "10.9 s/page", ps
}'
