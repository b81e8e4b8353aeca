#!/bin/sh
# Runs every benchmark built in BUILD_DIR. Usage: scripts/run-bench.sh BUILD_DIR
set -eu
cd "$(dirname "$0")/.."
build=${1:?usage: run-bench.sh BUILD_DIR}
for b in bench/run_*.sh; do
    [ -f "$b" ] || continue
    echo "== $b"
    sh "$b" "$build"
done
