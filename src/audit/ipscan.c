/*
 * ipscan.c: every IPv4 and IPv6 literal of one configuration statement, for
 * the ioc-addresses builtin (audit.c). No regex, no allocation: one pass
 * over the text in runs of address characters.
 *
 * A run is a maximal stretch of [0-9A-Fa-f.:]. It can only be a literal
 * when no letter, digit or underscore touches it on either side, which is
 * what keeps interface names (GigabitEthernet0/0/1.100), image names
 * (nxos64-cs.10.4.5.M.bin), versions (v1.2.0.1) and words out. Then:
 *
 *   - with two colons or more it may be an IPv6 address (tw_ip_parse is
 *     strict), unless it is a fibre-channel WWN (eight two-digit groups) or
 *     has no hex digit at all ("::" alone), optionally followed by /nn;
 *   - with one colon, only "a.b.c.d:port" inside a URL counts (route
 *     distinguishers and targets such as 192.0.2.1:100 and 65000:1, and
 *     times, do not);
 *   - otherwise exactly four decimal octets (one trailing sentence dot
 *     allowed), optionally followed by /nn, or by a second dotted quad that
 *     is a netmask or a wildcard (IOS routes and ACLs, ASA objects): that
 *     second quad is part of the literal, never an address of its own.
 *     0.0.0.0 and 255.255.255.255 are both a mask and a wildcard: on ASA
 *     they are a mask, elsewhere a wildcard in permit/deny/network
 *     statements and a mask otherwise.
 *
 * Dotted quads in SNMP view statements are OIDs (snmp-server view V 1.3.6.1
 * included) and are skipped.
 */
#include <string.h>

#include "audit_int.h"
#include "tidewatch/str.h"

/* ==== Character classes ==== */

static bool addr_char(char c)
{
    return tw_ascii_isxdigit(c) || c == '.' || c == ':';
}

/* A character that glues a run to a word: any letter or digit, or '_'. */
static bool word_char(char c)
{
    return tw_ascii_isalpha(c) || tw_ascii_isdigit(c) || c == '_';
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

/* ==== Statement context ==== */

/* True when the statement has the word w (delimited by blanks or the ends). */
static bool has_word(const char *t, size_t len, const char *w)
{
    size_t n = strlen(w);

    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(t + i, w, n) != 0)
            continue;
        if ((i == 0 || blank(t[i - 1])) && (i + n == len || blank(t[i + n])))
            return true;
    }
    return false;
}

static bool starts_with(const char *t, size_t len, const char *w)
{
    size_t n = strlen(w);

    return len >= n && memcmp(t, w, n) == 0;
}

/* Statements in which a quad after an address that is both mask and wildcard is a wildcard. */
static bool wildcard_context(const char *t, size_t len)
{
    return has_word(t, len, "permit") || has_word(t, len, "deny") || has_word(t, len, "wildcard") ||
           starts_with(t, len, "network ") || starts_with(t, len, "access-list ");
}

/* SNMP views: dotted numbers there are OIDs. */
static bool oid_context(const char *t, size_t len)
{
    return starts_with(t, len, "snmp-server view ") || starts_with(t, len, "snmp view ") ||
           has_word(t, len, "oid");
}

/* True when the blank-delimited word around position at has "://" before at. */
static bool in_url(const char *t, size_t at)
{
    size_t w = at;

    while (w > 0 && !blank(t[w - 1]))
        w--;
    for (size_t i = w; i + 3 <= at; i++)
        if (t[i] == ':' && t[i + 1] == '/' && t[i + 2] == '/')
            return true;
    return false;
}

/* ==== Pieces ==== */

/* Exactly four decimal octets in t[s..e), parsed strictly. */
static bool quad(const char *t, size_t s, size_t e, struct tw_ip *ip)
{
    unsigned dots = 0;

    if (e <= s || e - s > 15)
        return false;
    for (size_t i = s; i < e; i++) {
        if (t[i] == '.')
            dots++;
        else if (!tw_ascii_isdigit(t[i]))
            return false;
    }
    return dots == 3 && tw_ip_parse(tw_str_make(t + s, e - s), ip, NULL) == TW_OK;
}

/* "/nn" at t[at] (at most max), ending at a boundary; *end after it. */
static bool prefix_len(
        const char *t, size_t len, size_t at, unsigned max, unsigned *out, size_t *end)
{
    unsigned v = 0;
    size_t i = at + 1, n = 0;

    if (at >= len || t[at] != '/')
        return false;
    while (i < len && tw_ascii_isdigit(t[i]) && n < 3) {
        v = v * 10u + (unsigned)(t[i] - '0');
        i++;
        n++;
    }
    if (n == 0 || (n > 1 && t[at + 1] == '0') || v > max)
        return false;
    if (i < len && (word_char(t[i]) || t[i] == '.' || t[i] == ':'))
        return false;
    *out = v;
    *end = i;
    return true;
}

/* Leading ones of a contiguous netmask, or -1 when m is not one. */
static int mask_bits(uint32_t m)
{
    uint32_t inv = ~m;
    int n = 0;

    if ((inv & (inv + 1u)) != 0)
        return -1;
    while (n < 32 && (m & (0x80000000u >> n)) != 0)
        n++;
    return n;
}

/* Prefix length of a contiguous wildcard (trailing ones), or -1. */
static int wildcard_bits(uint32_t w)
{
    int ones = 0;

    if ((w & (w + 1u)) != 0)
        return -1;
    while (ones < 32 && (w & (1u << ones)) != 0)
        ones++;
    return 32 - ones;
}

/* Eight groups of exactly two hex digits: a fibre-channel WWN, not an address. */
static bool wwn(const char *t, size_t s, size_t e)
{
    unsigned groups = 0, digits = 0;

    for (size_t i = s; i < e; i++) {
        if (t[i] == ':') {
            if (digits != 2)
                return false;
            groups++;
            digits = 0;
        } else if (tw_ascii_isxdigit(t[i])) {
            digits++;
        } else {
            return false;
        }
    }
    return digits == 2 && groups == 7;
}

/* ==== Classification of one run ==== */

struct scan {
    enum tw_platform p;
    const char *t;
    size_t len;
    bool wild_ctx;
    bool oid_ctx;
};

/* An IPv6 run t[s..e): fills lit and *end, or returns false. */
static bool run_v6(
        const struct scan *sc, size_t s, size_t e, struct tw__ip_literal *lit, size_t *end)
{
    const char *t = sc->t;
    bool hex = false, dot_stripped = false;
    unsigned plen;
    size_t pend;

    if (t[e - 1] == '.') {
        e--;
        dot_stripped = true;
    }
    if (e <= s || e - s > 45 || wwn(t, s, e))
        return false;
    if (tw_ip_parse(tw_str_make(t + s, e - s), &lit->ip, NULL) != TW_OK)
        return false;
    for (size_t i = s; i < e && !hex; i++)
        hex = t[i] != ':' && t[i] != '.';
    lit->off = (uint32_t)s;
    if (!dot_stripped && prefix_len(t, sc->len, e, 128, &plen, &pend)) {
        lit->form = TW__IP_CIDR;
        lit->prefix_len = plen;
        *end = pend;
    } else if (hex) {
        lit->form = TW__IP_ADDR;
        lit->prefix_len = 128;
        *end = e;
    } else {
        return false; /* "::" alone is punctuation more often than an address */
    }
    lit->len = (uint32_t)(*end - s);
    return true;
}

/* A second quad after an address at t[e..]: a mask or wildcard makes a pair. */
static bool pair(const struct scan *sc, size_t e, struct tw__ip_literal *lit, size_t *end)
{
    const char *t = sc->t;
    size_t j = e, k;
    struct tw_ip m;
    uint32_t v;
    int mb, wb;

    while (j < sc->len && blank(t[j]))
        j++;
    if (j == e)
        return false;
    k = j;
    while (k < sc->len && (tw_ascii_isdigit(t[k]) || t[k] == '.'))
        k++;
    if (k < sc->len && (word_char(t[k]) || t[k] == ':' || t[k] == '/'))
        return false;
    if (!quad(t, j, k, &m))
        return false;
    v = tw_ip_v4(&m);
    mb = mask_bits(v);
    wb = wildcard_bits(v);
    if (mb >= 0 && wb >= 0) {
        bool as_wild = sc->p != TW_PLAT_ASA && sc->wild_ctx;
        lit->form = as_wild ? TW__IP_WILDCARD : TW__IP_MASK;
        lit->prefix_len = (unsigned)(as_wild ? wb : mb);
    } else if (mb >= 0) {
        lit->form = TW__IP_MASK;
        lit->prefix_len = (unsigned)mb;
    } else if (wb >= 0) {
        lit->form = TW__IP_WILDCARD;
        lit->prefix_len = (unsigned)wb;
    } else if ((v >> 24) == 0 || (v >> 24) == 255) {
        /* 0.0.255.0, 255.0.255.0: a non-contiguous wildcard or mask, no host. */
        lit->form = TW__IP_NONCONTIG;
        lit->prefix_len = 32;
    } else {
        return false; /* a second address (a range, a next hop, a name server) */
    }
    *end = k;
    return true;
}

/* An IPv4 run t[s..e) with no colon. */
static bool run_v4(
        const struct scan *sc, size_t s, size_t e, struct tw__ip_literal *lit, size_t *end)
{
    const char *t = sc->t;
    bool dot_stripped = false;
    unsigned plen;
    size_t pend;

    if (sc->oid_ctx)
        return false;
    if (t[e - 1] == '.' && (e == sc->len || blank(t[e]) || t[e] == '"' || t[e] == ')')) {
        e--;
        dot_stripped = true;
    }
    if (!quad(t, s, e, &lit->ip))
        return false;
    lit->off = (uint32_t)s;
    lit->form = TW__IP_ADDR;
    lit->prefix_len = 32;
    *end = e;
    if (!dot_stripped) {
        if (prefix_len(t, sc->len, e, 32, &plen, &pend)) {
            lit->form = TW__IP_CIDR;
            lit->prefix_len = plen;
            *end = pend;
        } else if (!pair(sc, e, lit, end)) {
            lit->form = TW__IP_ADDR;
            lit->prefix_len = 32;
            *end = e;
        }
    }
    lit->len = (uint32_t)(*end - s);
    return true;
}

/* "a.b.c.d:port" inside a URL: the address part of run t[s..e) with one colon at c. */
static bool run_v4_port(const struct scan *sc, size_t s, size_t c, size_t e,
        struct tw__ip_literal *lit, size_t *end)
{
    if (sc->oid_ctx || c + 1 >= e || !in_url(sc->t, s))
        return false;
    for (size_t i = c + 1; i < e; i++)
        if (!tw_ascii_isdigit(sc->t[i]))
            return false;
    if (!quad(sc->t, s, c, &lit->ip))
        return false;
    lit->off = (uint32_t)s;
    lit->len = (uint32_t)(c - s);
    lit->form = TW__IP_ADDR;
    lit->prefix_len = 32;
    *end = e;
    return true;
}

/* ==== Public ==== */

int tw__ipscan(enum tw_platform p, const char *text, size_t len, tw__ipscan_fn fn, void *ctx)
{
    struct scan sc = { p, text, len, false, false };
    size_t i = 0;

    if (text == NULL || len == 0)
        return TW_OK;
    sc.wild_ctx = wildcard_context(text, len);
    sc.oid_ctx = oid_context(text, len);
    while (i < len) {
        struct tw__ip_literal lit;
        size_t s, e, end = 0, colon = 0;
        unsigned colons = 0;
        bool found;

        if (!addr_char(text[i])) {
            i++;
            continue;
        }
        s = i;
        while (i < len && addr_char(text[i])) {
            if (text[i] == ':') {
                colons++;
                colon = i;
            }
            i++;
        }
        e = i;
        if ((s > 0 && word_char(text[s - 1])) || (e < len && word_char(text[e])))
            continue;
        memset(&lit, 0, sizeof(lit));
        if (colons >= 2)
            found = run_v6(&sc, s, e, &lit, &end);
        else if (colons == 1)
            found = run_v4_port(&sc, s, colon, e, &lit, &end);
        else
            found = run_v4(&sc, s, e, &lit, &end);
        if (!found)
            continue;
        {
            int rc = fn(ctx, &lit);
            if (rc != 0)
                return rc;
        }
        i = TW_MAX(end, e);
    }
    return TW_OK;
}
