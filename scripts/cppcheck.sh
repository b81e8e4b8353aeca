#!/bin/sh
# cppcheck over the build tree's compile_commands.json (library and tool only).
# Usage: scripts/cppcheck.sh BUILD_DIR
set -eu
cd "$(dirname "$0")/.."
build=${1:?usage: cppcheck.sh BUILD_DIR}
# readdirCalled: its "reentrant replacement" readdir_r is deprecated by glibc;
# readdir on a DIR the caller owns is the recommended use.
cppcheck --project="$build/compile_commands.json" --std=c11 --library=posix \
    --enable=warning,performance,portability --inline-suppr --error-exitcode=1 --quiet \
    "--file-filter=src/*" \
    --suppress=missingIncludeSystem --suppress=readdirCalled "--suppress=*:/usr/include/*"
echo "cppcheck.sh: clean"
