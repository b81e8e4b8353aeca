/*
 * fuzz_tls.c: the ClientHello parser never reads out of bounds and its
 * results hold together: consumed bytes inside the input, lists within their
 * bounds, a JA3 string that fits its documented maximum, a 36-character JA4.
 * The input is also tried as a bare handshake message (the QUIC path).
 */
#include <stdint.h>
#include <string.h>

#include "tidewatch/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tw_tls_hello hello;

static void check(size_t size)
{
    char ja3[TW_TLS_JA3_STRMAX];
    char md5[TW_TLS_JA3_HEXLEN];
    char ja4[TW_TLS_JA4_STRLEN];

    if (hello.consumed > size || hello.hello_len > TW_TLS_HELLO_MAX)
        __builtin_trap();
    if (hello.n_ciphers > TW_TLS_MAX_CIPHERS || hello.n_exts > TW_TLS_MAX_EXTS ||
            hello.n_alpn > TW_TLS_MAX_ALPN || hello.sni_len > TW_TLS_SNI_MAX)
        __builtin_trap();
    if (tw_tls_ja3(&hello, ja3, sizeof(ja3)) < 0)
        __builtin_trap();
    tw_tls_ja3_hash(&hello, md5);
    tw_tls_ja4(&hello, TW_JA4_TCP, ja4);
    if (strlen(ja4) != 36 || strlen(md5) != 32)
        __builtin_trap();
}

static size_t fuzz_size;

/* Certificates come from a copy of the input's handshake bytes: bounded by 16 KiB. */
static int cert_in_bounds(const uint8_t *der, size_t len, unsigned index, void *ctx)
{
    (void)ctx;
    (void)index;
    if (der == NULL || len == 0 || len > 16384 || len > fuzz_size)
        __builtin_trap();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_size = size;
    if (tw_tls_parse_client_hello(data, size, &hello, NULL) == TW_OK)
        check(size);
    if (tw_tls_parse_handshake(data, size, &hello, NULL) == TW_OK)
        check(size);
    /* The server side: certificates must be plausible, and only documented codes return. */
    {
        int rc = tw_tls_server_certificates(data, size, cert_in_bounds, NULL, NULL);
        if (rc != TW_OK && rc != TW_ETRUNC && rc != TW_ENOTFOUND && rc != TW_EINVAL &&
                rc != TW_ELIMIT)
            __builtin_trap();
    }
    return 0;
}
