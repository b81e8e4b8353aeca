#!/bin/sh
# The hub on PostgreSQL: the TAXII conformance, TLP matrix, crash and client
# tests again with --db postgresql://..., each against its own throwaway server
# (pg_env.sh). Skipped (77) when PostgreSQL's server binaries are absent.
here=$(dirname "$0")
status=0
for t in hub_taxii hub_tlp_matrix hub_crash hub_client; do
    echo "== $t on PostgreSQL"
    sh "$here/pg_env.sh" sh -c 'TW_HUB_DB=$TW_TEST_PG exec sh "$0"' "$here/$t.sh"
    rc=$?
    [ "$rc" = 77 ] && exit 77
    [ "$rc" = 0 ] || status=1
done
exit $status
