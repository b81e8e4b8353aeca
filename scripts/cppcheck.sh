#!/bin/sh
# cppcheck over the library and tool sources (src/) of a build tree's
# compile_commands.json. Tests, fuzz targets and benchmarks are left out: a
# filtered database is written beside the build's own.
# Usage: scripts/cppcheck.sh BUILD_DIR
set -eu
cd "$(dirname "$0")/.."
build=${1:?usage: cppcheck.sh BUILD_DIR}
src="$PWD/src/"
db="$build/compile_commands.src.json"
jq --arg src "$src" '[.[] | select(.file | startswith($src))]' "$build/compile_commands.json" >"$db"
n=$(jq length "$db")
if [ "$n" -eq 0 ]; then
    echo "cppcheck.sh: no source files of src/ in $build/compile_commands.json" >&2
    exit 1
fi
# readdirCalled: its "reentrant replacement" readdir_r is deprecated by glibc;
# readdir on a DIR the caller owns is the recommended use.
cppcheck --project="$db" --std=c11 --library=posix \
    --enable=warning,performance,portability --inline-suppr --error-exitcode=1 --quiet \
    --suppress=missingIncludeSystem --suppress=readdirCalled "--suppress=*:/usr/include/*"
echo "cppcheck.sh: clean ($n files)"
