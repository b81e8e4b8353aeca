#!/bin/sh
# Index and bundle-reader benchmark (bench/bench_index.c) at 1M indicators.
# Usage: bench/run_index.sh BUILD_DIR [N]
set -eu
build=${1:?usage: run_index.sh BUILD_DIR [N]}
"$build/bench/bench_index" "${2:-1000000}" "${TMPDIR:-/tmp}"
