#!/bin/sh
# The one list of Debian packages tidewatch needs to build, test, fuzz and
# benchmark. Installs only what is missing and says what it installs.
# Usage: scripts/install-deps.sh [--bench] [--check]
#   --bench  also the tools the benchmarks compare against (tcpdump, tshark, wrk)
#   --check  list what is missing, install nothing
set -eu

PACKAGES="
build-essential cmake ninja-build pkg-config
clang clang-14 libclang-rt-14-dev clang-format clang-tidy cppcheck
libcmocka-dev
libjansson-dev
libpcre2-dev
libxxhash-dev
nettle-dev
libpcap-dev
libzstd-dev
libmicrohttpd-dev libgnutls28-dev gnutls-bin
libsqlite3-dev
libpq-dev postgresql
libcurl4-gnutls-dev curl
python3
jq valgrind
nfdump softflowd
"
BENCH_PACKAGES="tcpdump tshark wrk"

check=0
for arg in "$@"; do
    case "$arg" in
        --bench) PACKAGES="$PACKAGES $BENCH_PACKAGES" ;;
        --check) check=1 ;;
        *) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
    esac
done

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi
if [ "$check" -eq 1 ]; then
    echo "missing Debian packages:$missing"
    exit 1
fi

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
