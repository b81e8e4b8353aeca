/*
 * addr.c: strict IPv4/IPv6 address and CIDR parsing, RFC 5952 formatting,
 * prefix arithmetic.
 *
 * The parsers walk the slice once, left to right, and report the offset of
 * the first byte that cannot belong to a valid address. They never read past
 * s.len and never need a NUL. See addr.h for the accepted grammar.
 */
#include "tidewatch/addr.h"

#include <string.h>

/* ==== Static helpers ==== */

/*
 * Parses a strict dotted quad from p[0..len) into out[4]. `base` is added to
 * every reported offset so that an embedded quad reports positions in the
 * enclosing text.
 */
static int parse_v4(const char *p, size_t len, size_t base, uint8_t out[4], struct tw_err *err)
{
    size_t pos = 0;

    for (int i = 0; i < 4; i++) {
        size_t start = pos;
        unsigned v = 0;

        if (pos >= len || !tw_ascii_isdigit(p[pos]))
            return tw_err_set(err, TW_EINVAL, base + pos, "IPv4 address: expected a digit");
        if (p[pos] == '0' && pos + 1 < len && tw_ascii_isdigit(p[pos + 1]))
            return tw_err_set(
                    err, TW_EINVAL, base + start, "IPv4 address: octet has a leading zero");
        while (pos < len && tw_ascii_isdigit(p[pos])) {
            if (pos - start >= 3)
                return tw_err_set(err, TW_EINVAL, base + start, "IPv4 address: octet above 255");
            v = v * 10 + (unsigned)(p[pos] - '0');
            pos++;
        }
        if (v > 255)
            return tw_err_set(err, TW_EINVAL, base + start, "IPv4 address: octet above 255");
        out[i] = (uint8_t)v;
        if (i < 3) {
            if (pos >= len || p[pos] != '.')
                return tw_err_set(err, TW_EINVAL, base + pos, "IPv4 address: expected '.'");
            pos++;
        }
    }
    if (pos != len)
        return tw_err_set(err, TW_EINVAL, base + pos, "IPv4 address: unexpected character");
    return TW_OK;
}

/* Parses an RFC 4291 text address (see addr.h) from p[0..len) into out[16]. */
static int parse_v6(const char *p, size_t len, uint8_t out[16], struct tw_err *err)
{
    uint16_t groups[8] = { 0 };
    uint8_t v4[4] = { 0 };
    int n = 0;          /* groups read */
    int gap = -1;       /* group index where "::" stands, or -1 */
    size_t gap_off = 0; /* offset of that "::" */
    size_t pos = 0;

    if (len >= 1 && p[0] == ':') {
        if (len < 2 || p[1] != ':')
            return tw_err_set(err, TW_EINVAL, 0, "IPv6 address: lone leading ':'");
        gap = 0;
        pos = 2;
    }
    while (pos < len) {
        size_t start = pos;
        unsigned v = 0;
        int h;

        while (pos < len && pos - start < 5 && (h = tw_hex_digit(p[pos])) >= 0) {
            v = (v << 4) | (unsigned)h;
            pos++;
        }
        if (pos < len && p[pos] == '.') {
            /* A trailing dotted quad takes the place of the last two groups. */
            if (n > 6)
                return tw_err_set(err, TW_EINVAL, start, "IPv6 address: too many groups");
            int rc = parse_v4(p + start, len - start, start, v4, err);
            if (rc != TW_OK)
                return rc;
            groups[n++] = (uint16_t)((v4[0] << 8) | v4[1]);
            groups[n++] = (uint16_t)((v4[2] << 8) | v4[3]);
            break;
        }
        if (pos == start)
            return tw_err_set(err, TW_EINVAL, pos, "IPv6 address: expected a hex digit");
        if (pos - start > 4)
            return tw_err_set(
                    err, TW_EINVAL, start + 4, "IPv6 address: group longer than 4 digits");
        if (n == 8)
            return tw_err_set(err, TW_EINVAL, start, "IPv6 address: too many groups");
        groups[n++] = (uint16_t)v;
        if (pos == len)
            break;
        if (p[pos] != ':')
            return tw_err_set(err, TW_EINVAL, pos, "IPv6 address: unexpected character");
        pos++;
        if (pos < len && p[pos] == ':') {
            if (gap >= 0)
                return tw_err_set(err, TW_EINVAL, pos - 1, "IPv6 address: second '::'");
            gap = n;
            gap_off = pos - 1;
            pos++;
        } else if (pos == len) {
            return tw_err_set(err, TW_EINVAL, pos - 1, "IPv6 address: trailing ':'");
        }
    }
    if (gap < 0 && n != 8)
        return tw_err_set(err, TW_EINVAL, len, "IPv6 address: too few groups");
    if (gap >= 0 && n > 7)
        return tw_err_set(err, TW_EINVAL, gap_off, "IPv6 address: '::' stands for no group");

    memset(out, 0, 16);
    if (gap < 0)
        gap = n;
    for (int i = 0; i < gap; i++) {
        out[(size_t)i * 2] = (uint8_t)(groups[i] >> 8);
        out[(size_t)i * 2 + 1] = (uint8_t)groups[i];
    }
    for (int i = gap, j = 8 - (n - gap); i < n; i++, j++) {
        out[(size_t)j * 2] = (uint8_t)(groups[i] >> 8);
        out[(size_t)j * 2 + 1] = (uint8_t)groups[i];
    }
    return TW_OK;
}

/* Writes the decimal form of v (0..255) at out and returns the count written. */
static int put_dec(char *out, unsigned v)
{
    int n = 0;

    if (v >= 100)
        out[n++] = (char)('0' + v / 100);
    if (v >= 10)
        out[n++] = (char)('0' + (v / 10) % 10);
    out[n++] = (char)('0' + v % 10);
    return n;
}

static int put_quad(char *out, const uint8_t b[4])
{
    int n = 0;

    for (int i = 0; i < 4; i++) {
        if (i > 0)
            out[n++] = '.';
        n += put_dec(out + n, b[i]);
    }
    return n;
}

/* Writes v (a 16-bit group) in lowercase hex without leading zeros. */
static int put_hex16(char *out, unsigned v)
{
    static const char digits[] = "0123456789abcdef";
    int n = 0;
    int shift = 12;

    while (shift > 0 && ((v >> shift) & 0xf) == 0)
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        out[n++] = digits[(v >> shift) & 0xf];
    return n;
}

/* ==== Public API ==== */

int tw_ip_parse(struct tw_str s, struct tw_ip *out, struct tw_err *err)
{
    struct tw_ip ip;
    int rc;

    memset(&ip, 0, sizeof(ip));
    if (s.ptr == NULL && s.len > 0)
        return tw_err_set(err, TW_EINVAL, 0, "IP address: no input");
    if (s.len > 0 && memchr(s.ptr, ':', s.len) != NULL) {
        ip.family = 6;
        rc = parse_v6(s.ptr, s.len, ip.bytes, err);
    } else {
        ip.family = 4;
        rc = parse_v4(s.ptr, s.len, 0, ip.bytes, err);
    }
    if (rc == TW_OK)
        *out = ip;
    return rc;
}

int tw_ip_format(const struct tw_ip *ip, char out[TW_IP_STRLEN])
{
    const uint8_t *b = ip->bytes;
    int best = -1, best_len = 0;
    int n = 0;

    if (ip->family == 4) {
        n = put_quad(out, b);
        out[n] = '\0';
        return n;
    }
    if (ip->family != 6) {
        out[0] = '\0';
        return TW_EINVAL;
    }
    if (tw_ip_is_v4mapped(ip)) {
        memcpy(out, "::ffff:", 7);
        n = 7 + put_quad(out + 7, b + 12);
        out[n] = '\0';
        return n;
    }
    /* Longest run of zero groups, two or more long, the first on a tie. */
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && b[(size_t)j * 2] == 0 && b[(size_t)j * 2 + 1] == 0)
            j++;
        if (j - i > best_len && j - i >= 2) {
            best = i;
            best_len = j - i;
        }
        i = (j == i) ? i + 1 : j;
    }
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            out[n++] = ':';
            out[n++] = ':';
            i += best_len - 1;
            continue;
        }
        if (i > 0 && i != best + best_len)
            out[n++] = ':';
        n += put_hex16(out + n, (unsigned)((b[(size_t)i * 2] << 8) | b[(size_t)i * 2 + 1]));
    }
    out[n] = '\0';
    return n;
}

int tw_cidr_parse_flags(struct tw_str s, struct tw_ip *net, unsigned *prefix_len, unsigned *flags,
        struct tw_err *err)
{
    const char *slash = s.len > 0 ? memchr(s.ptr, '/', s.len) : NULL;
    struct tw_ip ip;
    unsigned plen, f = 0;
    int rc;

    memset(&ip, 0, sizeof(ip));
    if (slash == NULL) {
        rc = tw_ip_parse(s, &ip, err);
        if (rc != TW_OK)
            return rc;
        plen = tw_ip_max_prefix(&ip);
        f |= TW_CIDR_BARE;
    } else {
        size_t at = (size_t)(slash - s.ptr);
        size_t pos = at + 1;
        unsigned max;

        rc = tw_ip_parse(tw_str_make(s.ptr, at), &ip, err);
        if (rc != TW_OK)
            return rc;
        max = tw_ip_max_prefix(&ip);
        if (pos >= s.len || !tw_ascii_isdigit(s.ptr[pos]))
            return tw_err_set(err, TW_EINVAL, pos, "CIDR: expected a prefix length");
        if (s.ptr[pos] == '0' && pos + 1 < s.len)
            return tw_err_set(err, TW_EINVAL, pos, "CIDR: prefix length has a leading zero");
        plen = 0;
        for (; pos < s.len; pos++) {
            if (!tw_ascii_isdigit(s.ptr[pos]))
                return tw_err_set(err, TW_EINVAL, pos, "CIDR: unexpected character");
            plen = plen * 10 + (unsigned)(s.ptr[pos] - '0');
            if (plen > max)
                return tw_err_set(err, TW_EINVAL, at + 1, "CIDR: prefix length above %u", max);
        }
    }
    if (tw_ip_host_bits_set(&ip, plen)) {
        f |= TW_CIDR_HOST_BITS;
        tw_ip_mask(&ip, plen);
    }
    *net = ip;
    *prefix_len = plen;
    if (flags != NULL)
        *flags = f;
    return TW_OK;
}

int tw_cidr_parse(struct tw_str s, struct tw_ip *net, unsigned *prefix_len, struct tw_err *err)
{
    return tw_cidr_parse_flags(s, net, prefix_len, NULL, err);
}

bool tw_ip_in_cidr(const struct tw_ip *ip, const struct tw_ip *net, unsigned prefix_len)
{
    unsigned full, rest;

    if (ip->family != net->family || prefix_len > tw_ip_max_prefix(ip))
        return false;
    full = prefix_len / 8;
    rest = prefix_len % 8;
    if (memcmp(ip->bytes, net->bytes, full) != 0)
        return false;
    if (rest != 0) {
        uint8_t mask = (uint8_t)(0xffu << (8 - rest));
        if ((ip->bytes[full] & mask) != (net->bytes[full] & mask))
            return false;
    }
    return true;
}

int tw_ip_cmp(const struct tw_ip *a, const struct tw_ip *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->bytes, b->bytes, 16);
}

void tw_ip_mask(struct tw_ip *ip, unsigned prefix_len)
{
    unsigned max = tw_ip_max_prefix(ip);
    unsigned nbytes = max / 8;

    if (prefix_len >= max)
        return;
    if (prefix_len % 8 != 0)
        ip->bytes[prefix_len / 8] &= (uint8_t)(0xffu << (8 - prefix_len % 8));
    for (unsigned i = (prefix_len + 7) / 8; i < nbytes; i++)
        ip->bytes[i] = 0;
}

bool tw_ip_host_bits_set(const struct tw_ip *ip, unsigned prefix_len)
{
    struct tw_ip m = *ip;

    tw_ip_mask(&m, prefix_len);
    return memcmp(m.bytes, ip->bytes, 16) != 0;
}

unsigned tw_ip_max_prefix(const struct tw_ip *ip)
{
    return ip->family == 4 ? 32u : ip->family == 6 ? 128u : 0u;
}

bool tw_ip_is_v4mapped(const struct tw_ip *ip)
{
    static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

    return ip->family == 6 && memcmp(ip->bytes, prefix, 12) == 0;
}

bool tw_ip_unmap(struct tw_ip *ip)
{
    if (!tw_ip_is_v4mapped(ip))
        return false;
    memmove(ip->bytes, ip->bytes + 12, 4);
    memset(ip->bytes + 4, 0, 12);
    ip->family = 4;
    return true;
}

void tw_ip_from_v4(struct tw_ip *out, uint32_t addr_host_order)
{
    memset(out, 0, sizeof(*out));
    out->family = 4;
    out->bytes[0] = (uint8_t)(addr_host_order >> 24);
    out->bytes[1] = (uint8_t)(addr_host_order >> 16);
    out->bytes[2] = (uint8_t)(addr_host_order >> 8);
    out->bytes[3] = (uint8_t)addr_host_order;
}

uint32_t tw_ip_v4(const struct tw_ip *ip)
{
    return ((uint32_t)ip->bytes[0] << 24) | ((uint32_t)ip->bytes[1] << 16) |
           ((uint32_t)ip->bytes[2] << 8) | (uint32_t)ip->bytes[3];
}
