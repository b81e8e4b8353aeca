#!/bin/sh
# pg_env.sh: a throwaway PostgreSQL server for tests, on 127.0.0.1 with an
# ephemeral port, its data and socket directory in a temporary directory, and
# one empty database. Anyone's test can use it:
#
#   pg_env.sh CMD [ARG...]  start a server, run CMD with TW_TEST_PG set to a libpq
#                           URI of the empty database (postgresql://postgres@
#                           127.0.0.1:PORT/tw_test), then stop the server, remove
#                           it, and exit with CMD's status
#   pg_env.sh --start       start a server and print shell assignments to eval:
#                           TW_TEST_PG=... and TW_TEST_PG_DIR=... (the server runs
#                           until stopped)
#   pg_env.sh --stop DIR    stop and remove the server started in DIR
#   pg_env.sh               (as ctest runs it) self-check: start, query, stop
#
# Exit status 77 (ctest's "skipped") when the PostgreSQL server binaries are
# absent, with the reason on standard error. The binaries are taken from
# $TW_PG_BINDIR, else the newest /usr/lib/postgresql/*/bin, else PATH. initdb
# refuses to run as root: as root the server runs as the `postgres` user
# (runuser, else su), from a temporary directory that user owns.
set -u

skip() {
    echo "SKIP: PostgreSQL: $*" >&2
    exit 77
}

find_bindir() {
    if [ -n "${TW_PG_BINDIR:-}" ]; then
        echo "$TW_PG_BINDIR"
        return
    fi
    best=""
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && best=$d
    done
    if [ -z "$best" ] && command -v initdb >/dev/null 2>&1; then
        best=$(dirname "$(command -v initdb)")
    fi
    echo "$best"
}

bindir=$(find_bindir)
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] && [ -x "$bindir/pg_ctl" ] ||
    skip "server binaries (initdb, pg_ctl) not found; install the postgresql package or set TW_PG_BINDIR"
client() { "$bindir/$@"; }

# Runs a server command as the user that owns the cluster.
as_owner() {
    if [ "$(id -u)" -ne 0 ]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u postgres -- "$@"
    else
        # The arguments are paths from mktemp and fixed options: no quoting needed.
        su postgres -s /bin/sh -c "$*"
    fi
}

stop_server() {
    d=$1
    [ -d "$d" ] || return 0
    if [ -f "$d/data/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null 2>&1
    fi
    rm -rf "$d"
}

# Starts a server; sets $dir and $url. Returns non-zero (after cleaning up) on failure.
start_server() {
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        skip "running as root and there is no postgres user to run the server"
    fi
    dir=$(mktemp -d "${TMPDIR:-/tmp}/tw-pg.XXXXXX") || return 1
    chmod 755 "$dir"
    mkdir "$dir/sock"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$dir" "$dir/sock"
    fi
    if ! as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
            --no-sync >"$dir/initdb.log" 2>&1; then
        echo "pg_env: initdb failed:" >&2
        sed 's/^/    /' "$dir/initdb.log" >&2
        rm -rf "$dir"
        return 1
    fi
    tries=0
    while :; do
        # An ephemeral port; if another process holds it, the start fails and we try another.
        port=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000 + 30000 ))
        if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
                -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c fsync=off" \
                start >/dev/null 2>&1; then
            break
        fi
        tries=$((tries + 1))
        if [ "$tries" -ge 5 ] || ! grep -q "could not bind\|in use" "$dir/server.log" 2>/dev/null; then
            echo "pg_env: the server did not start:" >&2
            sed 's/^/    /' "$dir/server.log" >&2 2>/dev/null
            stop_server "$dir"
            return 1
        fi
    done
    if ! client createdb -h 127.0.0.1 -p "$port" -U postgres tw_test >"$dir/createdb.log" 2>&1; then
        echo "pg_env: createdb failed:" >&2
        sed 's/^/    /' "$dir/createdb.log" >&2
        stop_server "$dir"
        return 1
    fi
    url="postgresql://postgres@127.0.0.1:$port/tw_test"
    return 0
}

case "${1:-}" in
    --start)
        start_server || exit 1
        echo "TW_TEST_PG=$url"
        echo "TW_TEST_PG_DIR=$dir"
        exit 0
        ;;
    --stop)
        [ -n "${2:-}" ] || { echo "usage: pg_env.sh --stop DIR" >&2; exit 2; }
        stop_server "$2"
        exit 0
        ;;
    "")
        start_server || exit 1
        trap 'stop_server "$dir"' EXIT INT TERM
        got=$(client psql "$url" -Atc "SELECT 6 * 7" 2>&1)
        if [ "$got" = "42" ]; then
            echo "ok   pg_env: throwaway PostgreSQL at $url answered"
            exit 0
        fi
        echo "FAIL pg_env: the server did not answer: $got" >&2
        exit 1
        ;;
    *)
        start_server || exit 1
        trap 'stop_server "$dir"' EXIT INT TERM
        echo "pg_env: PostgreSQL $("$bindir/pg_ctl" --version | sed 's/^[^0-9]*\([0-9.]*\).*/\1/') at $url" >&2
        TW_TEST_PG=$url "$@"
        status=$?
        exit "$status"
        ;;
esac
