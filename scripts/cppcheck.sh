#!/bin/sh
# cppcheck over the build tree's compile_commands.json (library and tool only).
# Usage: scripts/cppcheck.sh BUILD_DIR
set -eu
cd "$(dirname "$0")/.."
build=${1:?usage: cppcheck.sh BUILD_DIR}
cppcheck --project="$build/compile_commands.json" --std=c11 --library=posix \
    --enable=warning,performance,portability --inline-suppr --error-exitcode=1 --quiet \
    -i "$PWD/tests" -i "$PWD/fuzz" -i "$PWD/bench" -i "$build" \
    --suppress=missingIncludeSystem "--suppress=*:/usr/include/*"
echo "cppcheck.sh: clean"
