/*
 * pattern_value.c: the value codecs the pattern module needs on both sides of
 * a comparison: strict IPv4/IPv6 address and CIDR parsing for ISSUBSET and
 * ISSUPERSET, network containment, and canonical base64 decoding for b'...'
 * literals and binary properties. The address module in src/net is written
 * separately; these parsers are deliberately small and strict so that every
 * pattern this module accepts is one any STIX consumer accepts too.
 */
#include <stdint.h>
#include <string.h>

#include "pattern_int.h"

/* ==== IPv4 ==== */

/* Parses a dotted quad at s[0..len) exactly: four decimal octets, no leading zeros. */
static bool parse_v4(const char *s, size_t len, uint8_t out[4])
{
    size_t i = 0;

    for (int part = 0; part < 4; part++) {
        unsigned v = 0;
        size_t start = i;

        if (part > 0) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
            start = i;
        }
        while (i < len && tw_ascii_isdigit(s[i]) && i - start < 3) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        if (i == start || v > 255)
            return false;
        if (s[start] == '0' && i - start > 1)
            return false;
        out[part] = (uint8_t)v;
    }
    return i == len;
}

/* ==== IPv6 ==== */

/*
 * Parses RFC 4291 section 2.2 text at s[0..len): eight groups of one to four
 * hex digits, at most one "::" standing for one or more zero groups, and an
 * optional dotted quad in place of the last two groups.
 */
static bool parse_v6(const char *s, size_t len, uint8_t out[16])
{
    uint16_t groups[8];
    int n = 0, gap = -1;
    size_t i = 0;

    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
        if (i == len)
            goto done;
    } else if (len >= 1 && s[0] == ':') {
        return false;
    }
    for (;;) {
        size_t start = i;
        unsigned v = 0;

        while (i < len && tw_hex_digit(s[i]) >= 0 && i - start < 4) {
            v = v * 16 + (unsigned)tw_hex_digit(s[i]);
            i++;
        }
        if (i < len && s[i] == '.') {
            /* An embedded IPv4 tail takes the last two groups. */
            uint8_t q[4];
            if (n > 6 || !parse_v4(s + start, len - start, q))
                return false;
            groups[n++] = (uint16_t)(q[0] << 8 | q[1]);
            groups[n++] = (uint16_t)(q[2] << 8 | q[3]);
            break;
        }
        if (i == start || n >= 8)
            return false;
        groups[n++] = (uint16_t)v;
        if (i == len)
            break;
        if (s[i] != ':')
            return false;
        i++;
        if (i < len && s[i] == ':') {
            if (gap >= 0)
                return false;
            gap = n;
            i++;
            if (i == len)
                break;
        } else if (i == len) {
            return false; /* trailing single colon */
        }
    }
done:
    if (gap < 0) {
        if (n != 8)
            return false;
    } else {
        int zeros = 8 - n;
        if (zeros < 1)
            return false;
        memmove(groups + gap + zeros, groups + gap, (size_t)(n - gap) * sizeof(groups[0]));
        for (int k = 0; k < zeros; k++)
            groups[gap + k] = 0;
    }
    for (int k = 0; k < 8; k++) {
        out[(size_t)k * 2] = (uint8_t)(groups[k] >> 8);
        out[(size_t)k * 2 + 1] = (uint8_t)(groups[k] & 0xff);
    }
    return true;
}

bool tw__pattern_cidr_parse(struct tw_str s, struct tw__cidr *out)
{
    long slash = tw_str_find(s, '/');
    size_t alen = slash < 0 ? s.len : (size_t)slash;
    unsigned width;

    memset(out, 0, sizeof(*out));
    if (alen == 0)
        return false;
    if (tw_str_find(tw_str_make(s.ptr, alen), ':') >= 0) {
        if (!parse_v6(s.ptr, alen, out->addr))
            return false;
        out->family = 6;
        width = 128;
    } else {
        if (!parse_v4(s.ptr, alen, out->addr))
            return false;
        out->family = 4;
        width = 32;
    }
    out->prefix = (uint8_t)width;
    if (slash >= 0) {
        struct tw_str ps = tw_str_make(s.ptr + alen + 1, s.len - alen - 1);
        uint64_t v;
        if (ps.len == 0 || ps.len > 3 || (ps.ptr[0] == '0' && ps.len > 1) || ps.ptr[0] == '+' ||
                tw_parse_u64(ps, width, &v) != TW_OK)
            return false;
        out->prefix = (uint8_t)v;
    }
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
