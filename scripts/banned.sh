#!/bin/sh
# Fails when library or tool code calls a function we ban (curl's checksrc idea):
# unbounded copies and formats, unchecked conversions, non-reentrant tokenisers.
set -eu
cd "$(dirname "$0")/.."
pattern='\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|atof|strtok|strncpy|strncat|tmpnam|mktemp)[[:space:]]*\('
if grep -rnE "$pattern" src include --include='*.c' --include='*.h'; then
    echo "banned.sh: banned function used (see docs/internals/CODING.md)" >&2
    exit 1
fi
echo "banned.sh: no banned functions"
