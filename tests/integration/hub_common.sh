# Shared by the hub integration tests (sourced): a throwaway hub on a loopback
# port, and curl wrappers that speak TAXII 2.1 to it.
#   hub_start DB [serve options...]  starts `tidewatch hub serve`, sets $port, $hub_pid
#   hub_stop                         SIGTERM, waits, checks the exit status
#   taxii KEY METHOD PATH [BODY]     $code gets the HTTP status, $work/body the
#                                    body, $hdrs the response headers file
set -u
bin=${TW_BIN:?TW_BIN must point at the tidewatch binary}
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl is not installed"; exit 77; }
command -v jq >/dev/null 2>&1 || { echo "SKIP: jq is not installed"; exit 77; }
work=$(mktemp -d)
hub_pid=
trap 'if [ -n "$hub_pid" ]; then kill "$hub_pid" 2>/dev/null; fi; rm -rf "$work"' EXIT
fails=0
passes=0
ok() { printf 'ok   %s\n' "$1"; passes=$((passes + 1)); }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
finish() {
    echo "$passes passed, $fails failed"
    [ "$fails" -eq 0 ]
}

hub_start() {
    db=$1
    shift
    "$bin" hub serve --db "$db" --listen 127.0.0.1:0 "$@" 2>"$work/serve.err" &
    hub_pid=$!
    port=
    for _ in $(seq 1 100); do
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/serve.err" | head -1)
        [ -n "$port" ] && break
        kill -0 "$hub_pid" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$port" ]; then
        echo "hub did not start:"
        cat "$work/serve.err"
        exit 1
    fi
}

hub_stop() {
    kill -TERM "$hub_pid" 2>/dev/null
    wait "$hub_pid"
    stop_status=$?
    hub_pid=
}

# taxii KEY METHOD PATH [BODY]
taxii() {
    key=$1 method=$2 path=$3 req_body=${4:-}
    hdrs="$work/headers"
    set -- -s -g -o "$work/body" -D "$hdrs" -w '%{http_code}' -X "$method" \
        -H 'Accept: application/taxii+json;version=2.1'
    [ -n "$key" ] && set -- "$@" -H "Authorization: Bearer $key"
    if [ "$method" = POST ]; then
        printf '%s' "$req_body" >"$work/req"
        set -- "$@" -H 'Content-Type: application/taxii+json;version=2.1' --data-binary "@$work/req"
    fi
    code=$(curl "$@" "http://127.0.0.1:$port$path")
}
body() { cat "$work/body"; }

# new_key DB ORG ROLE: prints the new key
new_key() {
    "$bin" hub key create --db "$1" --org "$2" --role "$3" 2>/dev/null | sed -n 's/^api key: //p'
}
