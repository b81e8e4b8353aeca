/*
 * hash.h: hashing and identifiers.
 *
 * tw_hash64 is the fast non-cryptographic hash for in-memory tables (XXH3 from
 * libxxhash). SHA-1, SHA-256 and HMAC-SHA-256 come from nettle. UUIDs are the
 * RFC 4122 kinds STIX uses: version 4 (random) for new objects and version 5
 * (SHA-1 of a namespace and a name) for deterministic ids.
 */
#ifndef TIDEWATCH_HASH_H
#define TIDEWATCH_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/common.h"
#include "tidewatch/str.h"

#define TW_MD5_LEN     16
#define TW_SHA1_LEN    20
#define TW_SHA256_LEN  32
#define TW_UUID_STRLEN 37 /* 36 characters and a NUL */

uint64_t tw_hash64(const void *p, size_t n, uint64_t seed);
/* MD5 is here for JA3 fingerprints and file hashes, never for security. */
void tw_md5(const void *p, size_t n, uint8_t out[TW_MD5_LEN]);
void tw_sha1(const void *p, size_t n, uint8_t out[TW_SHA1_LEN]);
void tw_sha256(const void *p, size_t n, uint8_t out[TW_SHA256_LEN]);
void tw_hmac_sha256(
        const void *key, size_t key_len, const void *msg, size_t n, uint8_t out[TW_SHA256_LEN]);
/* Constant-time comparison of two equal-length byte strings. */
bool tw_ct_equal(const void *a, const void *b, size_t n);

/* Writes 2n lowercase hex digits and a NUL into out. */
void tw_hex_encode(const uint8_t *p, size_t n, char *out);
/* Decodes exactly 2n hex digits of s into out[n]. Returns TW_OK or TW_EINVAL. */
int tw_hex_decode(struct tw_str s, uint8_t *out, size_t n) TW_MUST_CHECK;

/* Parses a UUID in 8-4-4-4-12 form (hex digits in either case). */
bool tw_uuid_parse(struct tw_str s, uint8_t out[16]);
/* Writes the lowercase 8-4-4-4-12 form and a NUL. */
void tw_uuid_format(const uint8_t u[16], char out[TW_UUID_STRLEN]);
/* Version of a parsed UUID (the high nibble of byte 6). */
static inline unsigned tw_uuid_version(const uint8_t u[16])
{
    return (unsigned)(u[6] >> 4);
}
/* RFC 4122 version 5: SHA-1 of namespace || name. */
void tw_uuid_v5(const uint8_t ns[16], const void *name, size_t n, uint8_t out[16]);
/* RFC 4122 version 4 from the kernel's random source. Returns TW_OK or TW_EIO. */
int tw_uuid_v4(uint8_t out[16]) TW_MUST_CHECK;

#endif
