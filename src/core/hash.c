/*
 * hash.c: hashing and UUIDs (see include/tidewatch/hash.h). The only file that
 * includes xxhash.h and nettle's headers.
 */
#include "tidewatch/hash.h"

#include <string.h>

#include <nettle/hmac.h>
#include <nettle/md5.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>
#include <sys/random.h>
#include <xxhash.h>

#include "tidewatch/err.h"

uint64_t tw_hash64(const void *p, size_t n, uint64_t seed)
{
    return XXH3_64bits_withSeed(p, n, seed);
}

void tw_md5(const void *p, size_t n, uint8_t out[TW_MD5_LEN])
{
    struct md5_ctx ctx;

    md5_init(&ctx);
    md5_update(&ctx, n, p);
    md5_digest(&ctx, TW_MD5_LEN, out);
}

void tw_sha1(const void *p, size_t n, uint8_t out[TW_SHA1_LEN])
{
    struct sha1_ctx ctx;

    sha1_init(&ctx);
    sha1_update(&ctx, n, p);
    sha1_digest(&ctx, TW_SHA1_LEN, out);
}

void tw_sha256(const void *p, size_t n, uint8_t out[TW_SHA256_LEN])
{
    struct sha256_ctx ctx;

    sha256_init(&ctx);
    sha256_update(&ctx, n, p);
    sha256_digest(&ctx, TW_SHA256_LEN, out);
}

void tw_hmac_sha256(
        const void *key, size_t key_len, const void *msg, size_t n, uint8_t out[TW_SHA256_LEN])
{
    struct hmac_sha256_ctx ctx;

    hmac_sha256_set_key(&ctx, key_len, key);
    hmac_sha256_update(&ctx, n, msg);
    hmac_sha256_digest(&ctx, TW_SHA256_LEN, out);
}

bool tw_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t acc = 0;

    for (size_t i = 0; i < n; i++)
        acc |= (uint8_t)(x[i] ^ y[i]);
    return acc == 0;
}

void tw_hex_encode(const uint8_t *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int tw_hex_decode(struct tw_str s, uint8_t *out, size_t n)
{
    if (s.len != 2 * n)
        return TW_EINVAL;
    for (size_t i = 0; i < n; i++) {
        int hi = tw_hex_digit(s.ptr[2 * i]), lo = tw_hex_digit(s.ptr[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return TW_EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return TW_OK;
}

bool tw_uuid_parse(struct tw_str s, uint8_t out[16])
{
    static const size_t groups[5] = { 8, 4, 4, 4, 12 };
    size_t at = 0, k = 0;

    if (s.len != 36)
        return false;
    for (size_t g = 0; g < 5; g++) {
        if (g > 0) {
            if (s.ptr[at] != '-')
                return false;
            at++;
        }
        if (tw_hex_decode(tw_str_make(s.ptr + at, groups[g]), out + k, groups[g] / 2) != TW_OK)
            return false;
        at += groups[g];
        k += groups[g] / 2;
    }
    return true;
}

void tw_uuid_format(const uint8_t u[16], char out[TW_UUID_STRLEN])
{
    char hex[33];
    size_t o = 0;

    tw_hex_encode(u, 16, hex);
    for (size_t i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            out[o++] = '-';
        out[o++] = hex[i];
    }
    out[o] = '\0';
}

void tw_uuid_v5(const uint8_t ns[16], const void *name, size_t n, uint8_t out[16])
{
    struct sha1_ctx ctx;
    uint8_t digest[TW_SHA1_LEN];

    sha1_init(&ctx);
    sha1_update(&ctx, 16, ns);
    sha1_update(&ctx, n, name);
    sha1_digest(&ctx, TW_SHA1_LEN, digest);
    memcpy(out, digest, 16);
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x50);
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

int tw_uuid_v4(uint8_t out[16])
{
    size_t got = 0;

    while (got < 16) {
        ssize_t r = getrandom(out + got, 16 - got, 0);
        if (r <= 0)
            return TW_EIO;
        got += (size_t)r;
    }
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x40);
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
    return TW_OK;
}
