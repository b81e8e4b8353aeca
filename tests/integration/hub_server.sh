#!/bin/sh
# The hub's server half over real sockets (docs/internals/HUB.md, "The server
# half"): a self-signed certificate from certtool; TLS 1.2 and 1.3 accepted,
# TLS 1.1 and non-AEAD suites refused; a TAXII 401 without a key and 200 with
# one; the fixed response headers; 413 for a body over --max-body, announced
# by Content-Length or sent chunked; plain HTTP on loopback with a warning,
# refused on 0.0.0.0; a certificate without its key refused; IPv6 loopback;
# a clean exit 0 on SIGTERM.
set -u
bin=${TW_BIN:?TW_BIN must point at the tidewatch binary}
for tool in curl certtool jq; do
    command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is not installed"; exit 77; }
done
"$bin" hub serve --help >/dev/null 2>&1 || { echo "SKIP: this tidewatch has no 'hub serve'"; exit 77; }
work=$(mktemp -d)
pid=
trap 'if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null; fi; rm -rf "$work"' EXIT
fails=0
passes=0
ok() { printf 'ok   %s\n' "$1"; passes=$((passes + 1)); }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
db="$work/hub.db"
taxii_type='application/taxii+json;version=2.1'

# serve NAME [serve options...]: starts `hub serve` in the background, stderr
# in $work/NAME.err. Returns 0 with $pid and $port set once it printed
# "listening on ADDR:PORT", 1 when it exited first (or never got there).
serve() {
    name=$1
    shift
    "$bin" hub serve --db "$db" --quiet "$@" 2>"$work/$name.err" &
    pid=$!
    port=
    i=0
    while [ "$i" -lt 200 ]; do
        port=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$work/$name.err" | head -1)
        [ -n "$port" ] && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# stop: SIGTERM, then waits (at most 10 s before SIGKILL); $st gets the exit status.
stop() {
    kill -TERM "$pid" 2>/dev/null
    (sleep 10; kill -KILL "$pid") >/dev/null 2>&1 &
    dog=$!
    wait "$pid"
    st=$?
    kill "$dog" 2>/dev/null
    wait "$dog" 2>/dev/null
    pid=
}

# get URL [curl options...]: $code gets the status (000 when no HTTP answer),
# $curl_rc curl's exit status, $work/body the body, $work/hdrs the headers.
# The test certificate is the trust anchor (curl ignores it for http URLs).
get() {
    url=$1
    shift
    : >"$work/body"
    : >"$work/hdrs"
    code=$(curl -sS --max-time 20 --cacert "$work/c.pem" -o "$work/body" -D "$work/hdrs" -w '%{http_code}' "$@" "$url" 2>"$work/curl.err")
    curl_rc=$?
}
header() { tr -d '\r' <"$work/hdrs" | sed -n "s/^$1: //Ip" | head -1; }
fixed_headers() {
    [ "$(header Cache-Control)" = no-store ] && [ "$(header X-Content-Type-Options)" = nosniff ]
}

# ==== Setup: a certificate, a hub, a collection the contributor may write ====

cat >"$work/cert.cfg" <<'EOF'
cn = "127.0.0.1"
ip_address = "127.0.0.1"
ip_address = "::1"
expiration_days = 2
tls_www_server
signing_key
EOF
if certtool --generate-privkey --key-type ecdsa --outfile "$work/k.pem" >/dev/null 2>&1 &&
        certtool --generate-self-signed --load-privkey "$work/k.pem" --template "$work/cert.cfg" \
            --outfile "$work/c.pem" >/dev/null 2>&1; then
    ok "certtool made a self-signed certificate for 127.0.0.1 and ::1"
else
    bad "certtool"
    exit 1
fi

admin=$("$bin" hub init --db "$db" 2>&1 | sed -n 's/^api key: //p')
case "$admin" in
    tw_*) ok "hub init printed the admin key" ;;
    *) bad "hub init printed no 'api key: tw_...' line"; exit 1 ;;
esac
"$bin" hub org add --db "$db" --sector telecommunications ops >/dev/null 2>&1
writer=$("$bin" hub key create --db "$db" --org ops --role contributor 2>/dev/null | sed -n 's/^api key: //p')
"$bin" hub collection add --db "$db" --title "Feed" --alias feed >/dev/null 2>&1
"$bin" hub collection grant --db "$db" feed --org ops --read --write >/dev/null 2>&1
[ -n "$writer" ] || bad "setup: no contributor key (hub org add / key create / collection add / grant)"

if ! serve tls --listen 127.0.0.1:0 --tls-cert "$work/c.pem" --tls-key "$work/k.pem" --max-body 1024; then
    bad "hub serve with TLS did not start"
    cat "$work/tls.err"
    exit 1
fi
base="https://127.0.0.1:$port"
ok "hub serve with TLS printed 'listening on 127.0.0.1:$port'"

# ==== TLS versions and suites ====

get "$base/taxii2/" --tlsv1.2 --tls-max 1.2
[ "$code" = 401 ] && ok "TLS 1.2 handshake" || { bad "TLS 1.2 (curl $curl_rc, HTTP $code)"; cat "$work/curl.err"; }
get "$base/taxii2/" --tlsv1.3
[ "$code" = 401 ] && ok "TLS 1.3 handshake" || { bad "TLS 1.3 (curl $curl_rc, HTTP $code)"; cat "$work/curl.err"; }

# Debian's OpenSSL refuses TLS 1.1 on the client side at its default security
# level; SECLEVEL=0 lets curl really offer it, so the refusal is the server's.
legacy=
curl -V | head -1 | grep -q OpenSSL && legacy="--ciphers DEFAULT:@SECLEVEL=0"
# shellcheck disable=SC2086 # $legacy is empty or one option and its value
get "$base/taxii2/" --tlsv1.1 --tls-max 1.1 $legacy
[ "$code" = 000 ] && [ "$curl_rc" -ne 0 ] && ok "TLS 1.1 refused" || bad "TLS 1.1 was accepted (HTTP $code)"
if [ -n "$legacy" ]; then
    get "$base/taxii2/" --tlsv1.2 --tls-max 1.2 \
        --ciphers 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384'
    [ "$code" = 000 ] && ok "TLS 1.2 CBC (non-AEAD) suites refused" || bad "a CBC suite was accepted (HTTP $code)"
    get "$base/taxii2/" --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-CHACHA20-POLY1305
    [ "$code" = 401 ] && ok "TLS 1.2 ChaCha20-Poly1305 accepted" || bad "ChaCha20-Poly1305 (HTTP $code)"
fi

# ==== TAXII answers through the server ====

get "$base/taxii2/" -H "Accept: $taxii_type"
if [ "$code" = 401 ] && [ "$(header Content-Type)" = "$taxii_type" ] &&
        jq -e '.http_status == "401" and (.title | length > 0)' "$work/body" >/dev/null 2>&1; then
    ok "GET /taxii2/ without a key: 401, $taxii_type, a TAXII error with http_status \"401\""
else
    bad "no key (HTTP $code, Content-Type $(header Content-Type))"; cat "$work/body"; echo
fi
fixed_headers && ok "401 carries Cache-Control: no-store and X-Content-Type-Options: nosniff" ||
    bad "fixed headers on 401"

get "$base/taxii2/" -H "Accept: $taxii_type" -H "Authorization: Bearer $admin"
if [ "$code" = 200 ] && [ "$(header Content-Type)" = "$taxii_type" ] && jq -e . "$work/body" >/dev/null 2>&1; then
    ok "GET /taxii2/ with the admin key: 200 and a JSON discovery resource"
else
    bad "with key (HTTP $code)"; cat "$work/body"; echo
fi
fixed_headers && ok "200 carries the fixed headers" || bad "fixed headers on 200"

# ==== The project's own client over TLS: verification on by default ====

printf '%s\n' "$writer" >"$work/writer.key"
"$bin" intel pull --url "$base/api/collections/feed/" --key-file "$work/writer.key" \
    --ca-file "$work/c.pem" -o "$work/pulled.json" 2>"$work/pull.err"
[ $? = 0 ] && jq -e '.type == "bundle"' "$work/pulled.json" >/dev/null 2>&1 &&
    ok "intel pull over HTTPS with --ca-file: the hub's certificate verified" || { bad "intel pull over TLS"; cat "$work/pull.err"; }
"$bin" intel pull --url "$base/api/collections/feed/" --key-file "$work/writer.key" \
    -o "$work/pulled2.json" 2>"$work/pull2.err"
[ $? = 3 ] && grep -qi 'certificate' "$work/pull2.err" && [ ! -e "$work/pulled2.json" ] &&
    ok "intel pull of a self-signed hub without --ca-file: refused (verification is on by default)" ||
    { bad "unverified certificate accepted"; cat "$work/pull2.err"; }

objects="$base/api/collections/feed/objects/"
post() { # FILE [curl options...]
    f=$1
    shift
    get "$objects" -X POST -H "Accept: $taxii_type" -H "Content-Type: $taxii_type" \
        -H "Authorization: Bearer $writer" --data-binary "@$f" "$@"
}
printf '{"objects":[]}' >"$work/small.json"
post "$work/small.json"
[ "$code" != 413 ] && [ "$code" != 000 ] && ok "a POST body under --max-body is read (HTTP $code)" ||
    bad "small POST (HTTP $code)"
{
    printf '{"objects":[{"type":"note","x":"'
    head -c 2000 /dev/zero | tr '\0' a
    printf '"}]}'
} >"$work/big.json"
post "$work/big.json"
if [ "$code" = 413 ] && jq -e '.http_status == "413"' "$work/body" >/dev/null 2>&1; then
    ok "a 2 KB POST with --max-body 1024 (Content-Length): 413 with a TAXII error"
else
    bad "Content-Length over the limit (HTTP $code)"; cat "$work/body"; echo
fi
post "$work/big.json" -H 'Transfer-Encoding: chunked'
[ "$code" = 413 ] && ok "the same body sent chunked: 413" || bad "chunked over the limit (HTTP $code)"
get "$base/taxii2/" -H "Accept: $taxii_type" -H "Authorization: Bearer $admin"
[ "$code" = 200 ] && ok "the server still answers after refusing bodies" || bad "after 413 (HTTP $code)"

stop
[ "$st" -eq 0 ] && ok "SIGTERM: hub serve exits 0" || { bad "SIGTERM exit $st"; cat "$work/tls.err"; }

# ==== Plain HTTP, refusals, IPv6 ====

if serve plain --listen 127.0.0.1:0; then
    grep -qi 'warn.*plain HTTP' "$work/plain.err" && ok "plain HTTP on 127.0.0.1 warns on stderr" ||
        { bad "no plain-HTTP warning"; cat "$work/plain.err"; }
    get "http://127.0.0.1:$port/taxii2/" -H "Accept: $taxii_type" -H "Authorization: Bearer $admin"
    [ "$code" = 200 ] && ok "plain HTTP on 127.0.0.1 serves" || bad "plain HTTP (HTTP $code)"
    stop
    [ "$st" -eq 0 ] && ok "plain HTTP server exits 0 on SIGTERM" || bad "plain stop exit $st"
else
    bad "plain HTTP on 127.0.0.1 did not start"; cat "$work/plain.err"
fi

if serve open --listen 0.0.0.0:0; then
    bad "plain HTTP on 0.0.0.0 was served"
    stop
else
    wait "$pid"
    st=$?
    pid=
    [ "$st" -ne 0 ] && grep -qi 'loopback' "$work/open.err" &&
        ok "plain HTTP on 0.0.0.0 refused (exit $st, the reason named)" ||
        { bad "0.0.0.0 refusal (exit $st)"; cat "$work/open.err"; }
fi

if serve halfcert --listen 127.0.0.1:0 --tls-cert "$work/c.pem"; then
    bad "a certificate without its key was accepted"
    stop
else
    wait "$pid"
    st=$?
    pid=
    [ "$st" -ne 0 ] && ok "a certificate without its key refused (exit $st)" || bad "half TLS config exit 0"
fi

if serve v6 --listen '[::1]:0' --tls-cert "$work/c.pem" --tls-key "$work/k.pem"; then
    get "https://[::1]:$port/taxii2/" -g -H "Accept: $taxii_type"
    [ "$code" = 401 ] && ok "TLS on [::1]" || bad "IPv6 (HTTP $code)"
    stop
else
    wait "$pid"
    pid=
    echo "skip IPv6 loopback: $(tail -1 "$work/v6.err")"
fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
