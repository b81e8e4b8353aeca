#!/bin/sh
# clang-tidy over the library and tool sources, with the build tree's
# compile_commands.json. Usage: scripts/tidy.sh BUILD_DIR
set -eu
cd "$(dirname "$0")/.."
build=${1:?usage: tidy.sh BUILD_DIR}
files=$(find src -name '*.c' | sort)
# Sanitizer and fuzzer flags in the database confuse nothing, but -Werror from
# gcc-only warnings would; clang-tidy ignores unknown warning flags with this.
run-clang-tidy -quiet -p "$build" -j 2 -extra-arg=-Wno-unknown-warning-option $files >"$build/clang-tidy.log" 2>&1 || {
    grep -E 'warning:|error:' "$build/clang-tidy.log" | sort -u | head -50
    echo "tidy.sh: clang-tidy found problems (full log: $build/clang-tidy.log)" >&2
    exit 1
}
echo "tidy.sh: clean ($(echo "$files" | wc -l) files)"
