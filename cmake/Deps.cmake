# Every third-party dependency, found through pkg-config. The Debian packages
# that provide them are listed once, in scripts/install-deps.sh.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)                                   # libc
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)      # libjansson-dev
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)     # libpcre2-dev
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)     # libxxhash-dev
pkg_check_modules(NETTLE REQUIRED IMPORTED_TARGET nettle)        # nettle-dev
pkg_check_modules(PCAP REQUIRED IMPORTED_TARGET libpcap)         # libpcap-dev
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)         # libzstd-dev
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)    # libmicrohttpd-dev
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)         # libcurl4-gnutls-dev
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)      # libsqlite3-dev
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)          # libpq-dev
if(TW_TESTS)
    pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)    # libcmocka-dev
endif()
