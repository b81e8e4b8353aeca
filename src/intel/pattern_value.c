/*
 * pattern_value.c: the value codecs the pattern module needs on both sides of
 * a comparison: address and CIDR values for ISSUBSET and ISSUPERSET (parsed
 * by the strict parser of src/net, addr.h), network containment, and
 * canonical base64 decoding for b'...' literals and binary properties.
 */
#include <stdint.h>
#include <string.h>

#include "pattern_int.h"
#include "tidewatch/addr.h"

/* ==== Addresses ==== */

bool tw__pattern_cidr_parse(struct tw_str s, struct tw__cidr *out)
{
    struct tw_ip ip;
    unsigned plen;

    memset(out, 0, sizeof(*out));
    if (tw_cidr_parse(s, &ip, &plen, NULL) != TW_OK)
        return false;
    out->family = ip.family;
    out->prefix = (uint8_t)plen;
    memcpy(out->addr, ip.bytes, sizeof(out->addr));
    return true;
}

bool tw__pattern_cidr_within(const struct tw__cidr *inner, const struct tw__cidr *outer)
{
    unsigned bits = outer->prefix;

    if (inner->family != outer->family || inner->prefix < outer->prefix)
        return false;
    for (unsigned k = 0; bits > 0; k++) {
        uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
        if ((inner->addr[k] & mask) != (outer->addr[k] & mask))
            return false;
        bits = bits >= 8 ? bits - 8 : 0;
    }
    return true;
}

/* ==== Base64 ==== */

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

long tw__pattern_b64_decode(struct tw_str s, uint8_t *out)
{
    size_t n = 0;

    if (s.len % 4 != 0)
        return -1;
    for (size_t i = 0; i < s.len; i += 4) {
        int v[4];
        int pad = 0;
        bool last = i + 4 == s.len;

        for (int k = 0; k < 4; k++) {
            char c = s.ptr[i + (size_t)k];
            if (c == '=' && last && k >= 2) {
                pad++;
                v[k] = 0;
                continue;
            }
            if (pad > 0 || (v[k] = b64val(c)) < 0)
                return -1;
        }
        out[n++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
        if (pad < 2)
            out[n++] = (uint8_t)((v[1] & 0xf) << 4 | v[2] >> 2);
        if (pad < 1)
            out[n++] = (uint8_t)((v[2] & 0x3) << 6 | v[3]);
    }
    return (long)n;
}
