/*
 * tls.c: TLS ClientHello parser, JA3 and JA4; see include/tidewatch/tls.h.
 *
 * The record layer is walked first: the fragments of consecutive handshake
 * records are copied into a scratch buffer of TW_TLS_HELLO_MAX bytes on the
 * stack until the handshake header's length is satisfied, and the hello is
 * then parsed from that buffer with a length check before every read. When
 * the hello body turns out to be malformed, its offset in the scratch buffer
 * is mapped back to the input by walking the records again.
 *
 * Record header (RFC 8446 section 5.1):
 *
 *   OFFSET  SIZE  DESCRIPTION
 *   0       1     content type, 22 = handshake
 *   1       2     legacy record version, 0x0300..0x0304
 *   3       2     fragment length, at most 2^14 + 2048
 *
 * ClientHello handshake message:
 *
 *   OFFSET  SIZE  DESCRIPTION
 *   0       1     handshake type, 1 = client_hello
 *   1       3     body length
 *   4       2     legacy_version (client_version)
 *   6       32    random
 *   38      1     session id length (0..32), then the id
 *   ..      2     cipher suites length (even), then 2-byte suites
 *   ..      1     compression methods length (>= 1), then the methods
 *   ..      2     extensions length (absent in old hellos), then extensions,
 *                 each a 2-byte type, a 2-byte length and the data
 */
#include "tidewatch/tls.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tidewatch/hash.h"
#include "tidewatch/str.h"

#define REC_HDR_LEN     5
#define REC_MAX_LEN     (16384 + 2048)
#define HS_HDR_LEN      4
#define HS_CLIENT_HELLO 1
#define CT_HANDSHAKE    22

#define EXT_SERVER_NAME        0
#define EXT_SUPPORTED_GROUPS   10
#define EXT_EC_POINT_FORMATS   11
#define EXT_SIGNATURE_ALGS     13
#define EXT_ALPN               16
#define EXT_SUPPORTED_VERSIONS 43

/* ==== Static helpers: reading ==== */

/* GREASE values (RFC 8701): 0x?a?a with equal bytes. tw_tls_is_grease() for the loops here. */
static inline bool is_grease(uint16_t v)
{
    return (v & 0x0f0fu) == 0x0a0au && (v >> 8) == (v & 0xffu);
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* Records v as the highest version seen, ignoring GREASE. */
static void note_version(struct tw_tls_hello *h, uint16_t v)
{
    if (!is_grease(v) && v > h->max_version)
        h->max_version = v;
}

/* Appends v to a bounded u16 list, setting the cut flag when it is full. */
static void push16(struct tw_tls_hello *h, uint16_t *arr, uint16_t *n, size_t cap, uint16_t v)
{
    if (*n < cap)
        arr[(*n)++] = v;
    else
        h->flags |= TW_TLS_F_LISTS_CUT;
}

/* Parses a list of 2-byte values with a 2-byte (len_bytes 2) or 1-byte length prefix. */
static int read_u16_list(const uint8_t *d, size_t n, size_t len_bytes, struct tw_tls_hello *h,
        uint16_t *arr, uint16_t *cnt, size_t cap, size_t *bad)
{
    size_t l;

    if (n < len_bytes) {
        *bad = 0;
        return TW_EINVAL;
    }
    l = len_bytes == 2 ? rd16(d) : d[0];
    if (l % 2 != 0 || l > n - len_bytes) {
        *bad = 0;
        return TW_EINVAL;
    }
    for (size_t i = 0; i < l; i += 2)
        push16(h, arr, cnt, cap, rd16(d + len_bytes + i));
    return TW_OK;
}

static int ext_server_name(const uint8_t *d, size_t n, struct tw_tls_hello *h, size_t *bad)
{
    size_t l, i;

    h->has_sni = true;
    if (n == 0)
        return TW_OK; /* a server's empty acknowledgement; clients should not send it */
    if (n < 2 || (l = rd16(d)) > n - 2) {
        *bad = 0;
        return TW_EINVAL;
    }
    for (i = 2; i < 2 + l;) {
        size_t nl;
        uint8_t type;

        if (2 + l - i < 3) {
            *bad = i;
            return TW_EINVAL;
        }
        type = d[i];
        nl = rd16(d + i + 1);
        if (nl > 2 + l - i - 3) {
            *bad = i + 1;
            return TW_EINVAL;
        }
        if (type == 0 && h->sni_len == 0) {
            size_t keep = nl;

            if (keep > TW_TLS_SNI_MAX) {
                keep = TW_TLS_SNI_MAX;
                h->flags |= TW_TLS_F_SNI_CUT;
            }
            for (size_t k = 0; k < keep; k++)
                h->sni[k] = tw_ascii_lower((char)d[i + 3 + k]);
            h->sni[keep] = '\0';
            h->sni_len = (uint16_t)keep;
        }
        i += 3 + nl;
    }
    return TW_OK;
}

static int ext_alpn(const uint8_t *d, size_t n, struct tw_tls_hello *h, size_t *bad)
{
    size_t l;

    if (n < 2 || (l = rd16(d)) > n - 2) {
        *bad = 0;
        return TW_EINVAL;
    }
    for (size_t i = 2; i < 2 + l;) {
        size_t pl = d[i];

        if (pl == 0 || pl > 2 + l - i - 1) {
            *bad = i;
            return TW_EINVAL;
        }
        if (h->n_alpn == 0) {
            h->alpn0_first = d[i + 1];
            h->alpn0_last = d[i + pl];
        }
        if (h->n_alpn < TW_TLS_MAX_ALPN) {
            struct tw_tls_alpn *a = &h->alpn[h->n_alpn++];
            size_t keep = pl;

            if (keep > TW_TLS_ALPN_LEN) {
                keep = TW_TLS_ALPN_LEN;
                h->flags |= TW_TLS_F_ALPN_CUT;
            }
            memcpy(a->name, d + i + 1, keep);
            a->len = (uint8_t)keep;
            a->wire_len = (uint8_t)pl;
        } else {
            h->flags |= TW_TLS_F_LISTS_CUT;
        }
        i += 1 + pl;
    }
    return TW_OK;
}

/* Decodes one extension's data d[0..n); *bad receives the offset in d of a problem. */
static int read_extension(
        uint16_t type, const uint8_t *d, size_t n, struct tw_tls_hello *h, size_t *bad)
{
    switch (type) {
        case EXT_SERVER_NAME:
            return ext_server_name(d, n, h, bad);
        case EXT_SUPPORTED_GROUPS:
            return read_u16_list(d, n, 2, h, h->groups, &h->n_groups, TW_TLS_MAX_GROUPS, bad);
        case EXT_SIGNATURE_ALGS:
            return read_u16_list(d, n, 2, h, h->sigalgs, &h->n_sigalgs, TW_TLS_MAX_SIGALGS, bad);
        case EXT_SUPPORTED_VERSIONS: {
            uint16_t before = h->n_versions;
            int rc = read_u16_list(
                    d, n, 1, h, h->versions, &h->n_versions, TW_TLS_MAX_VERSIONS, bad);

            for (uint16_t i = before; rc == TW_OK && i < h->n_versions; i++)
                note_version(h, h->versions[i]);
            return rc;
        }
        case EXT_EC_POINT_FORMATS:
            if (n < 1 || d[0] > n - 1) {
                *bad = 0;
                return TW_EINVAL;
            }
            for (size_t i = 0; i < d[0]; i++) {
                if (h->n_pointfmts < TW_TLS_MAX_POINTFMTS)
                    h->pointfmts[h->n_pointfmts++] = d[1 + i];
                else
                    h->flags |= TW_TLS_F_LISTS_CUT;
            }
            return TW_OK;
        case EXT_ALPN:
            return ext_alpn(d, n, h, bad);
        default:
            return TW_OK;
    }
}

/*
 * Parses the handshake message b[0..n) (complete, n = 4 + body length). On
 * TW_EINVAL *bad is the offset in b of the problem.
 */
static int parse_hello(const uint8_t *b, size_t n, struct tw_tls_hello *h, size_t *bad)
{
    size_t off = HS_HDR_LEN;
    size_t l, ext_end;

    if (b[0] != HS_CLIENT_HELLO) {
        *bad = 0;
        return TW_EINVAL;
    }
    if (n - off < 2 + 32 + 1) {
        *bad = off;
        return TW_EINVAL;
    }
    h->legacy_version = rd16(b + off);
    note_version(h, h->legacy_version);
    memcpy(h->random, b + off + 2, 32);
    off += 34;
    l = b[off];
    if (l > 32 || l > n - off - 1) {
        *bad = off;
        return TW_EINVAL;
    }
    h->session_id_len = (uint8_t)l;
    off += 1 + l;
    if (n - off < 2 || (l = rd16(b + off)) % 2 != 0 || l > n - off - 2) {
        *bad = off;
        return TW_EINVAL;
    }
    for (size_t i = 0; i < l; i += 2)
        push16(h, h->ciphers, &h->n_ciphers, TW_TLS_MAX_CIPHERS, rd16(b + off + 2 + i));
    off += 2 + l;
    if (n - off < 1 || (l = b[off]) == 0 || l > n - off - 1) {
        *bad = off;
        return TW_EINVAL;
    }
    h->n_compression = (uint8_t)l;
    off += 1 + l;
    if (off == n)
        return TW_OK; /* no extensions (allowed before TLS 1.2) */
    if (n - off < 2 || (l = rd16(b + off)) != n - off - 2) {
        *bad = off;
        return TW_EINVAL;
    }
    off += 2;
    ext_end = off + l;
    while (off < ext_end) {
        uint16_t type;
        size_t el;
        size_t where = 0;

        if (ext_end - off < 4) {
            *bad = off;
            return TW_EINVAL;
        }
        type = rd16(b + off);
        el = rd16(b + off + 2);
        if (el > ext_end - off - 4) {
            *bad = off + 2;
            return TW_EINVAL;
        }
        push16(h, h->exts, &h->n_exts, TW_TLS_MAX_EXTS, type);
        if (read_extension(type, b + off + 4, el, h, &where) != TW_OK) {
            *bad = off + 4 + where;
            return TW_EINVAL;
        }
        off += 4 + el;
    }
    return TW_OK;
}

/* Maps an offset in the assembled handshake bytes back to the record stream. */
static size_t map_offset(const uint8_t *p, size_t len, size_t hs_off)
{
    size_t s = 0;

    while (s + REC_HDR_LEN <= len) {
        size_t rlen = rd16(p + s + 3);

        if (hs_off < rlen)
            return s + REC_HDR_LEN + hs_off;
        hs_off -= rlen;
        s += REC_HDR_LEN + rlen;
    }
    return s;
}

static void hello_reset(struct tw_tls_hello *h)
{
    memset(h, 0, sizeof(*h));
}

/* ==== Static helpers: fingerprints ==== */

/*
 * A bounded string writer: appends until full, then only remembers the
 * overflow. What fits of a piece that does not is still written, so the
 * buffer ends exactly as if the bytes had been put one by one.
 */
struct sw {
    char *buf;
    size_t size;
    size_t len;
    bool over;
};

static inline void sw_put(struct sw *w, const char *s, size_t n)
{
    size_t room = w->size - 1 - w->len; /* size >= 1 and len <= size - 1 always */

    if (TW_UNLIKELY(n > room)) {
        w->over = true;
        n = room;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static inline void sw_putc(struct sw *w, char c)
{
    if (w->len + 1 < w->size)
        w->buf[w->len++] = c;
    else
        w->over = true;
}

/*
 * An optional separator, then v in decimal. Written in place when the
 * buffer has room for the longest form (the usual case), else through a
 * scratch copy so that a cut piece ends the buffer as sw_put does.
 */
static inline void sw_sep_dec(struct sw *w, char sep, unsigned v)
{
    char tmp[12];
    char *d = tmp;
    size_t n = 0, digits = 1;

    if (TW_LIKELY(w->size - 1 - w->len >= sizeof(tmp)))
        d = w->buf + w->len;
    if (sep != '\0')
        d[n++] = sep;
    for (unsigned x = v; x >= 10; x /= 10)
        digits++;
    for (size_t i = digits; i > 0; i--) {
        d[n + i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    n += digits;
    if (d == tmp)
        sw_put(w, tmp, n);
    else
        w->len += n;
}

/* An optional separator, then v as four lowercase hex digits (in place when there is room). */
static inline void sw_sep_hex4(struct sw *w, char sep, uint16_t v)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[5];
    char *d = tmp;
    size_t n = 0;

    if (TW_LIKELY(w->size - 1 - w->len >= sizeof(tmp)))
        d = w->buf + w->len;
    if (sep != '\0')
        d[n++] = sep;
    d[n++] = hex[v >> 12];
    d[n++] = hex[(v >> 8) & 0xf];
    d[n++] = hex[(v >> 4) & 0xf];
    d[n++] = hex[v & 0xf];
    if (d == tmp)
        sw_put(w, tmp, n);
    else
        w->len += n;
}

static void ja3_list16(struct sw *w, const uint16_t *v, size_t n)
{
    char sep = '\0';

    for (size_t i = 0; i < n; i++) {
        if (is_grease(v[i]))
            continue;
        sw_sep_dec(w, sep, v[i]);
        sep = '-';
    }
}

static int cmp_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a;
    uint16_t y = *(const uint16_t *)b;

    return (x > y) - (x < y);
}

/*
 * Copies the non-GREASE values of v (dropping SNI and ALPN when asked) and
 * sorts them: by insertion for the usual few dozen, qsort beyond (equal values
 * are indistinguishable, so the result is the same either way).
 */
static size_t sorted_copy(const uint16_t *v, size_t n, bool drop_sni_alpn, uint16_t *out)
{
    size_t m = 0;

    for (size_t i = 0; i < n; i++) {
        uint16_t x = v[i];
        size_t k;

        if (is_grease(x))
            continue;
        if (drop_sni_alpn && (x == EXT_SERVER_NAME || x == EXT_ALPN))
            continue;
        if (n > 64) {
            out[m++] = x;
            continue;
        }
        for (k = m; k > 0 && out[k - 1] > x; k--)
            out[k] = out[k - 1];
        out[k] = x;
        m++;
    }
    if (n > 64)
        qsort(out, m, sizeof(out[0]), cmp_u16);
    return m;
}

static void sw_hex_list(struct sw *w, const uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sw_sep_hex4(w, i > 0 ? ',' : '\0', v[i]);
}

/* Writes the first 12 hex digits of SHA-256(s[0..n)) to out. */
static void sha12(const char *s, size_t n, char *out)
{
    uint8_t d[TW_SHA256_LEN];
    char hex[13];

    tw_sha256(s, n, d);
    tw_hex_encode(d, 6, hex);
    memcpy(out, hex, 12);
}

static bool is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static size_t count_non_grease(const uint16_t *v, size_t n)
{
    size_t m = 0;

    for (size_t i = 0; i < n; i++)
        m += !is_grease(v[i]);
    return m;
}

/* ==== Public API ==== */

bool tw_tls_is_grease(uint16_t v)
{
    return is_grease(v);
}

int tw_tls_parse_handshake(const uint8_t *p, size_t len, struct tw_tls_hello *h, struct tw_err *err)
{
    size_t body, bad = 0;

    hello_reset(h);
    if (len >= 1 && p[0] != HS_CLIENT_HELLO)
        return TW_E_HERE(err, TW_EINVAL, 0, "tls: handshake type %u is not a ClientHello", p[0]);
    if (len < HS_HDR_LEN)
        return TW_E_HERE(err, TW_ETRUNC, len, "tls: handshake header cut short");
    body = (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
    if (HS_HDR_LEN + body > TW_TLS_HELLO_MAX)
        return TW_E_HERE(err, TW_ELIMIT, 1, "tls: ClientHello of %zu bytes is over the cap", body);
    if (len < HS_HDR_LEN + body)
        return TW_E_HERE(err, TW_ETRUNC, len, "tls: ClientHello cut short");
    h->hello_len = HS_HDR_LEN + body;
    h->consumed = h->hello_len;
    if (parse_hello(p, h->hello_len, h, &bad) != TW_OK)
        return TW_E_HERE(err, TW_EINVAL, bad, "tls: malformed ClientHello");
    return TW_OK;
}

int tw_tls_parse_client_hello(
        const uint8_t *p, size_t len, struct tw_tls_hello *h, struct tw_err *err)
{
    uint8_t scratch[TW_TLS_HELLO_MAX];
    size_t have = 0; /* handshake bytes assembled */
    size_t need = 0; /* handshake bytes the hello occupies, once known */
    size_t s = 0;    /* offset of the current record header */
    size_t bad = 0;

    hello_reset(h);
    for (;;) {
        size_t rlen, avail, take;

        /* Check what is present of the record header before asking for more. */
        if (s < len && p[s] != CT_HANDSHAKE)
            return TW_E_HERE(err, TW_EINVAL, s, "tls: record type %u is not handshake", p[s]);
        if (s + 1 < len && p[s + 1] != 3)
            return TW_E_HERE(err, TW_EINVAL, s + 1, "tls: record version major %u", p[s + 1]);
        if (s + 2 < len && p[s + 2] > 4)
            return TW_E_HERE(err, TW_EINVAL, s + 2, "tls: record version minor %u", p[s + 2]);
        if (len - s < REC_HDR_LEN)
            return TW_E_HERE(err, TW_ETRUNC, len, "tls: record header cut short");
        if (s == 0)
            h->record_version = rd16(p + 1);
        rlen = rd16(p + s + 3);
        if (rlen == 0 || rlen > REC_MAX_LEN)
            return TW_E_HERE(err, TW_EINVAL, s + 3, "tls: record length %zu", rlen);
        avail = TW_MIN(rlen, len - s - REC_HDR_LEN);
        /* Copy no more than the hello can still use (or the cap allows). */
        take = need != 0 ? TW_MIN(avail, need - have) : avail;
        take = TW_MIN(take, sizeof(scratch) - have);
        memcpy(scratch + have, p + s + REC_HDR_LEN, take);
        if (have == 0 && take > 0 && scratch[0] != HS_CLIENT_HELLO)
            return TW_E_HERE(err, TW_EINVAL, s + REC_HDR_LEN,
                    "tls: handshake type %u is not a ClientHello", scratch[0]);
        have += take;
        if (need == 0 && have >= HS_HDR_LEN) {
            need = HS_HDR_LEN + ((size_t)scratch[1] << 16 | (size_t)scratch[2] << 8 | scratch[3]);
            if (need > TW_TLS_HELLO_MAX)
                return TW_E_HERE(err, TW_ELIMIT, map_offset(p, len, 1),
                        "tls: ClientHello of %zu bytes is over the cap", need - HS_HDR_LEN);
            if (have > need)
                have = need;
        }
        if (need != 0 && have >= need) {
            h->consumed = map_offset(p, len, need - 1) + 1;
            break;
        }
        if (avail < rlen)
            return TW_E_HERE(err, TW_ETRUNC, len, "tls: record cut short");
        s += REC_HDR_LEN + rlen;
    }
    h->hello_len = need;
    if (parse_hello(scratch, need, h, &bad) != TW_OK)
        return TW_E_HERE(err, TW_EINVAL, map_offset(p, len, bad), "tls: malformed ClientHello");
    return TW_OK;
}

int tw_tls_ja3(const struct tw_tls_hello *h, char *out, size_t out_size)
{
    struct sw w = { out, out_size, 0, false };

    if (out_size == 0)
        return TW_ETRUNC;
    sw_sep_dec(&w, '\0', h->legacy_version);
    sw_putc(&w, ',');
    ja3_list16(&w, h->ciphers, h->n_ciphers);
    sw_putc(&w, ',');
    ja3_list16(&w, h->exts, h->n_exts);
    sw_putc(&w, ',');
    ja3_list16(&w, h->groups, h->n_groups);
    sw_putc(&w, ',');
    for (size_t i = 0; i < h->n_pointfmts; i++)
        sw_sep_dec(&w, i > 0 ? '-' : '\0', h->pointfmts[i]);
    if (w.over) {
        out[0] = '\0';
        return TW_ETRUNC;
    }
    out[w.len] = '\0';
    return (int)w.len;
}

void tw_tls_ja3_hash(const struct tw_tls_hello *h, char out[TW_TLS_JA3_HEXLEN])
{
    char s[TW_TLS_JA3_STRMAX];
    uint8_t d[TW_MD5_LEN];
    int n = tw_tls_ja3(h, s, sizeof(s));

    /* TW_TLS_JA3_STRMAX holds the longest string the bounded lists can give. */
    tw_md5(s, n > 0 ? (size_t)n : 0, d);
    tw_hex_encode(d, TW_MD5_LEN, out);
}

void tw_tls_ja4(const struct tw_tls_hello *h, char transport, char out[TW_TLS_JA4_STRLEN])
{
    static const char hex[] = "0123456789abcdef";
    uint16_t sorted[TW_TLS_MAX_CIPHERS];
    char raw[TW_TLS_MAX_CIPHERS * 5 + TW_TLS_MAX_SIGALGS * 5 + 8];
    struct sw w = { raw, sizeof(raw), 0, false };
    const char *ver;
    size_t nc, ne, m, o = 0;
    char a0 = '0', a1 = '0';

    switch (h->max_version) {
        case 0x0304:
            ver = "13";
            break;
        case 0x0303:
            ver = "12";
            break;
        case 0x0302:
            ver = "11";
            break;
        case 0x0301:
            ver = "10";
            break;
        case 0x0300:
            ver = "s3";
            break;
        default:
            ver = "00";
            break;
    }
    nc = TW_MIN(count_non_grease(h->ciphers, h->n_ciphers), (size_t)99);
    ne = TW_MIN(count_non_grease(h->exts, h->n_exts), (size_t)99);
    if (h->n_alpn > 0) {
        uint8_t f = h->alpn0_first, l = h->alpn0_last;
        bool grease = h->alpn[0].wire_len == 2 && is_grease((uint16_t)(f << 8 | l));

        if (grease) {
            /* stays "00" */
        } else if (!is_alnum(f) || !is_alnum(l)) {
            a0 = hex[f >> 4];
            a1 = hex[l & 0xf];
        } else {
            a0 = (char)f;
            a1 = (char)l;
        }
    }
    out[o++] = transport;
    out[o++] = ver[0];
    out[o++] = ver[1];
    out[o++] = h->has_sni ? 'd' : 'i';
    out[o++] = (char)('0' + nc / 10);
    out[o++] = (char)('0' + nc % 10);
    out[o++] = (char)('0' + ne / 10);
    out[o++] = (char)('0' + ne % 10);
    out[o++] = a0;
    out[o++] = a1;
    out[o++] = '_';

    m = sorted_copy(h->ciphers, h->n_ciphers, false, sorted);
    sw_hex_list(&w, sorted, m);
    sha12(raw, w.len, out + o);
    o += 12;
    out[o++] = '_';

    w.len = 0;
    m = sorted_copy(h->exts, h->n_exts, true, sorted);
    sw_hex_list(&w, sorted, m);
    sw_putc(&w, '_');
    m = 0;
    for (size_t i = 0; i < h->n_sigalgs; i++) {
        if (is_grease(h->sigalgs[i]))
            continue;
        sw_sep_hex4(&w, m++ > 0 ? ',' : '\0', h->sigalgs[i]);
    }
    sha12(raw, w.len, out + o);
    o += 12;
    out[o] = '\0';
}

/* ==== Server certificates ==== */

#define HS_SERVER_HELLO      2
#define HS_CERTIFICATE       11
#define HS_SERVER_HELLO_DONE 14
/* Server handshake bytes gathered from records before the Certificate is walked. */
#define CERT_FLIGHT_MAX 16384

/* 24-bit big-endian length. */
static size_t rd24(const uint8_t *p)
{
    return (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
}

/*
 * Walks one Certificate message body (RFC 5246 section 7.4.2):
 *
 *   OFFSET  SIZE  DESCRIPTION
 *   0       3     certificate_list length
 *   3       3     length of certificate 0, then its DER bytes, then the next ...
 */
static int walk_certificates(
        const uint8_t *b, size_t n, tw_tls_cert_fn *fn, void *ctx, struct tw_err *err, size_t base)
{
    size_t list, off = 3;
    unsigned index = 0;

    if (n < 3)
        return tw_err_set(err, TW_EINVAL, base, "tls: Certificate message too short");
    list = rd24(b);
    if (list > n - 3)
        return tw_err_set(err, TW_EINVAL, base, "tls: certificate list longer than its message");
    while (off + 3 <= 3 + list) {
        size_t clen = rd24(b + off);
        int rc;

        if (clen == 0 || clen > 3 + list - off - 3)
            return tw_err_set(err, TW_EINVAL, base + off, "tls: certificate length out of range");
        rc = fn(b + off + 3, clen, index++, ctx);
        if (rc != 0)
            return rc;
        off += 3 + clen;
    }
    return TW_OK;
}

int tw_tls_server_certificates(
        const uint8_t *p, size_t len, tw_tls_cert_fn *fn, void *ctx, struct tw_err *err)
{
    uint8_t flight[CERT_FLIGHT_MAX];
    size_t have = 0, rec = 0, hs = 0;
    bool ended = false;

    /* Gather the handshake bytes of the leading run of handshake records. */
    while (rec + REC_HDR_LEN <= len) {
        size_t rlen = rd16(p + rec + 3);

        if (p[rec] != CT_HANDSHAKE) {
            ended = true; /* ChangeCipherSpec, alert or data: the clear flight is over */
            break;
        }
        if (p[rec + 1] != 3 || rlen == 0 || rlen > REC_MAX_LEN)
            return tw_err_set(err, TW_EINVAL, rec, "tls: bad record header");
        if (rec + REC_HDR_LEN + rlen > len)
            break; /* the rest of this record has not arrived */
        if (have + rlen > sizeof(flight))
            return tw_err_set(
                    err, TW_ELIMIT, rec, "tls: server flight over %d bytes", CERT_FLIGHT_MAX);
        memcpy(flight + have, p + rec + REC_HDR_LEN, rlen);
        have += rlen;
        rec += REC_HDR_LEN + rlen;
    }
    /* Walk the handshake messages that are complete. */
    while (hs + HS_HDR_LEN <= have) {
        size_t mlen = rd24(flight + hs + 1);
        uint8_t type = flight[hs];

        if (hs + HS_HDR_LEN + mlen > have)
            break;
        if (type == HS_CERTIFICATE)
            return walk_certificates(flight + hs + HS_HDR_LEN, mlen, fn, ctx, err, hs);
        if (type == HS_SERVER_HELLO_DONE)
            return TW_ENOTFOUND; /* no Certificate in this handshake (PSK, anonymous) */
        hs += HS_HDR_LEN + mlen;
    }
    return ended ? TW_ENOTFOUND : TW_ETRUNC;
}
