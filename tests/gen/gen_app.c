/*
 * gen_app.c: application payloads for tw_pcapgen: DNS messages, TLS
 * ClientHellos with their JA3 and JA4 fingerprints, and nothing else: HTTP
 * and SSH lines are plain text written by the callers.
 *
 * The ClientHello builder keeps the lists it writes, so the fingerprints are
 * computed from the same values that went on the wire rather than parsed back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "tidewatch/hash.h"

/* ==== DNS (RFC 1035) ==== */

/* Writes name as length-prefixed labels and a root label; returns bytes written. */
static size_t dns_name(uint8_t *out, size_t cap, const char *name)
{
    size_t o = 0;
    const char *s = name;

    while (*s) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        if (o + n + 2 > cap || n > 63)
            return 0;
        out[o++] = (uint8_t)n;
        memcpy(out + o, s, n);
        o += n;
        s += n;
        if (*s == '.')
            s++;
    }
    out[o++] = 0;
    return o;
}

/*
 * Message: header (id, flags, counts), the question, then answers. Owner
 * names equal to the question name are written as a pointer to offset 12;
 * other owners are written in full (they are the previous CNAME's target).
 */
size_t gen_dns_msg(uint8_t *out, size_t cap, uint16_t id, const char *qname, uint16_t qtype,
        const struct gen_dns_rr *rr, size_t n_rr)
{
    size_t o = 12, n;

    if (cap < 512)
        return 0;
    memset(out, 0, 12);
    gen_be16(out, id);
    gen_be16(out + 2, rr ? 0x8180 : 0x0100); /* response+RD+RA, or query with RD */
    gen_be16(out + 4, 1);
    gen_be16(out + 6, (uint32_t)n_rr);
    if ((n = dns_name(out + o, cap - o, qname)) == 0)
        return 0;
    o += n;
    gen_be16(out + o, qtype);
    gen_be16(out + o + 2, 1);
    o += 4;
    for (size_t i = 0; rr && i < n_rr; i++) {
        struct tw_ip ip;
        uint8_t *rdlen;

        if (o + 300 > cap)
            return 0;
        if (strcmp(rr[i].name, qname) == 0) {
            out[o++] = 0xc0;
            out[o++] = 12;
        } else {
            if ((n = dns_name(out + o, cap - o, rr[i].name)) == 0)
                return 0;
            o += n;
        }
        gen_be16(out + o, rr[i].type);
        gen_be16(out + o + 2, 1);
        gen_be32(out + o + 4, 300);
        rdlen = out + o + 8;
        o += 10;
        if (rr[i].type == 5) {
            n = dns_name(out + o, cap - o, rr[i].data);
        } else if (tw_ip_parse(tw_str_cstr(rr[i].data), &ip, NULL) == 0) {
            n = ip.family == 4 ? 4 : 16;
            memcpy(out + o, ip.bytes, n);
        } else {
            n = 0;
        }
        gen_be16(rdlen, (uint32_t)n);
        o += n;
    }
    return o;
}

/* ==== TLS ClientHello (RFC 8446 4.1.2) ==== */

/* One ClientHello shape: the lists that decide JA3 and JA4. */
struct hello_shape {
    const uint16_t *ciphers;
    size_t n_ciphers;
    const uint16_t *exts; /* extension types in wire order */
    size_t n_exts;
    const uint16_t *groups;
    size_t n_groups;
    const uint16_t *sigalgs;
    size_t n_sigalgs;
    const char *const *alpn;
    size_t n_alpn;
    const uint16_t *versions; /* supported_versions, when that extension is present */
    size_t n_versions;
};

/* A browser-like hello: GREASE values, TLS 1.3, ALPN h2 and http/1.1. */
static const uint16_t browser_ciphers[] = { 0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c,
    0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035 };
static const uint16_t browser_exts[] = { 0x0a0a, 0x0000, 0x0017, 0xff01, 0x000a, 0x000b, 0x0023,
    0x0010, 0x0005, 0x000d, 0x0012, 0x0033, 0x002d, 0x002b, 0x001b, 0x3a3a };
static const uint16_t browser_groups[] = { 0x1a1a, 0x001d, 0x0017, 0x0018 };
static const uint16_t browser_sigalgs[] = { 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806,
    0x0601 };
static const char *const browser_alpn[] = { "h2", "http/1.1" };
static const uint16_t browser_versions[] = { 0x4a4a, 0x0304, 0x0303 };

/* A tool-like hello: TLS 1.2 only, no GREASE, no ALPN, a short cipher list. */
static const uint16_t implant_ciphers[] = { 0xc02f, 0xc030, 0xc013, 0xc014, 0x009c, 0x002f, 0x0035,
    0x000a };
static const uint16_t implant_exts[] = { 0x0000, 0x000a, 0x000b, 0x000d, 0x0023 };
static const uint16_t implant_groups[] = { 0x0017, 0x0018 };
static const uint16_t implant_sigalgs[] = { 0x0401, 0x0501, 0x0201 };

static const struct hello_shape shapes[] = {
    [GEN_HELLO_BROWSER] = { browser_ciphers, TW_ARRAY_LEN(browser_ciphers), browser_exts,
            TW_ARRAY_LEN(browser_exts), browser_groups, TW_ARRAY_LEN(browser_groups),
            browser_sigalgs, TW_ARRAY_LEN(browser_sigalgs), browser_alpn,
            TW_ARRAY_LEN(browser_alpn), browser_versions, TW_ARRAY_LEN(browser_versions) },
    [GEN_HELLO_IMPLANT] = { implant_ciphers, TW_ARRAY_LEN(implant_ciphers), implant_exts,
            TW_ARRAY_LEN(implant_exts), implant_groups, TW_ARRAY_LEN(implant_groups),
            implant_sigalgs, TW_ARRAY_LEN(implant_sigalgs), NULL, 0, NULL, 0 },
};

/* GREASE values (RFC 8701) are 0x?a?a with both bytes equal; fingerprints skip them. */
static bool is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* A tiny bounded writer for the hello. */
struct wr {
    uint8_t *p;
    size_t len, cap;
};

static void w8(struct wr *w, uint32_t v)
{
    if (w->len < w->cap)
        w->p[w->len] = (uint8_t)v;
    w->len++;
}
static void w16(struct wr *w, uint32_t v)
{
    w8(w, v >> 8);
    w8(w, v);
}
static void wbytes(struct wr *w, const void *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        w8(w, ((const uint8_t *)d)[i]);
}
/* Patches a 16-bit length at position at, counting from at+2 to the end. */
static void wlen16(struct wr *w, size_t at)
{
    size_t n = w->len - at - 2;
    if (at + 1 < w->cap) {
        w->p[at] = (uint8_t)(n >> 8);
        w->p[at + 1] = (uint8_t)n;
    }
}

static void put_ext(
        struct wr *w, const struct hello_shape *s, uint16_t type, const char *sni, uint32_t seed)
{
    size_t at, at2;

    w16(w, type);
    at = w->len;
    w16(w, 0);
    switch (type) {
        case 0x0000: /* server_name: list length, type 0, name length, name */
            at2 = w->len;
            w16(w, 0);
            w8(w, 0);
            w16(w, (uint32_t)strlen(sni));
            wbytes(w, sni, strlen(sni));
            wlen16(w, at2);
            break;
        case 0x000a: /* supported_groups */
            w16(w, (uint32_t)(2 * s->n_groups));
            for (size_t i = 0; i < s->n_groups; i++)
                w16(w, s->groups[i]);
            break;
        case 0x000b: /* ec_point_formats: uncompressed */
            w8(w, 1);
            w8(w, 0);
            break;
        case 0x000d: /* signature_algorithms */
            w16(w, (uint32_t)(2 * s->n_sigalgs));
            for (size_t i = 0; i < s->n_sigalgs; i++)
                w16(w, s->sigalgs[i]);
            break;
        case 0x0010: /* ALPN */
            at2 = w->len;
            w16(w, 0);
            for (size_t i = 0; i < s->n_alpn; i++) {
                w8(w, (uint32_t)strlen(s->alpn[i]));
                wbytes(w, s->alpn[i], strlen(s->alpn[i]));
            }
            wlen16(w, at2);
            break;
        case 0x0005: /* status_request: OCSP, empty responder list and extensions */
            w8(w, 1);
            w16(w, 0);
            w16(w, 0);
            break;
        case 0xff01: /* renegotiation_info: empty */
            w8(w, 0);
            break;
        case 0x0033: /* key_share: one x25519 share */
            w16(w, 36);
            w16(w, 0x001d);
            w16(w, 32);
            for (uint32_t i = 0; i < 32; i++)
                w8(w, (seed * 2654435761u + i * 40503u) >> 11);
            break;
        case 0x002d: /* psk_key_exchange_modes: psk_dhe_ke */
            w8(w, 1);
            w8(w, 1);
            break;
        case 0x002b: /* supported_versions */
            w8(w, (uint32_t)(2 * s->n_versions));
            for (size_t i = 0; i < s->n_versions; i++)
                w16(w, s->versions[i]);
            break;
        case 0x001b: /* compress_certificate: brotli */
            w8(w, 2);
            w16(w, 2);
            break;
        default:
            if (is_grease(type) && type == 0x3a3a)
                w8(w, 0); /* a one-byte GREASE extension, as Chrome sends */
            break;
    }
    wlen16(w, at);
}

/* Appends "a-b-c" decimal of the non-GREASE values to out (cap bytes). */
static void ja3_list(char *out, size_t cap, const uint16_t *v, size_t n)
{
    bool first = true;

    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(out);
        if (is_grease(v[i]))
            continue;
        (void)snprintf(out + l, cap - l, "%s%u", first ? "" : "-", v[i]);
        first = false;
    }
}

static int cmp_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

/* Writes the first 12 hex digits of SHA-256(text) into out (13 bytes). */
static void ja4_hash12(const char *text, char *out)
{
    uint8_t d[TW_SHA256_LEN];
    char hex[2 * TW_SHA256_LEN + 1];

    if (!*text) {
        memcpy(out, "000000000000", 13);
        return;
    }
    tw_sha256(text, strlen(text), d);
    tw_hex_encode(d, TW_SHA256_LEN, hex);
    memcpy(out, hex, 12);
    out[12] = 0;
}

/* Sorted, comma-joined 4-digit hex of the non-GREASE values, skipping skip1/skip2. */
static void ja4_sorted(char *out, size_t cap, const uint16_t *v, size_t n, int skip1, int skip2)
{
    uint16_t tmp[64];
    size_t k = 0;

    out[0] = 0;
    for (size_t i = 0; i < n && k < 64; i++)
        if (!is_grease(v[i]) && v[i] != skip1 && v[i] != skip2)
            tmp[k++] = v[i];
    qsort(tmp, k, sizeof(tmp[0]), cmp_u16);
    for (size_t i = 0; i < k; i++) {
        size_t l = strlen(out);
        (void)snprintf(out + l, cap - l, "%s%04x", i ? "," : "", tmp[i]);
    }
}

/*
 * JA4 (FoxIO, JA4 TLS client): t, version (highest supported_versions entry,
 * else the hello's), d/i for SNI present, cipher and extension counts (two
 * digits, GREASE excluded), first and last character of the first ALPN value
 * ("00" without one); then the truncated SHA-256 of the sorted cipher list and
 * of the sorted extension list (without SNI and ALPN) joined by "_" to the
 * signature algorithms in wire order.
 */
static void ja4_of(const struct hello_shape *s, char *out, size_t cap)
{
    uint16_t ver = 0x0303;
    size_t nc = 0, ne = 0;
    char alpn[3] = "00", list[512], ext[1024], h1[13], h2[13];
    const char *vs = "12";
    bool has_sni = false;

    for (size_t i = 0; i < s->n_versions; i++)
        if (!is_grease(s->versions[i]) && s->versions[i] > ver)
            ver = s->versions[i];
    if (ver == 0x0304)
        vs = "13";
    for (size_t i = 0; i < s->n_ciphers; i++)
        nc += !is_grease(s->ciphers[i]);
    for (size_t i = 0; i < s->n_exts; i++) {
        ne += !is_grease(s->exts[i]);
        has_sni |= s->exts[i] == 0x0000;
    }
    if (s->n_alpn) {
        const char *a = s->alpn[0];
        alpn[0] = a[0];
        alpn[1] = a[strlen(a) - 1];
    }
    ja4_sorted(list, sizeof(list), s->ciphers, s->n_ciphers, -1, -1);
    ja4_hash12(list, h1);
    ja4_sorted(ext, sizeof(ext), s->exts, s->n_exts, 0x0000, 0x0010);
    if (s->n_sigalgs) {
        size_t l = strlen(ext);
        (void)snprintf(ext + l, sizeof(ext) - l, "_");
        for (size_t i = 0; i < s->n_sigalgs; i++) {
            l = strlen(ext);
            (void)snprintf(ext + l, sizeof(ext) - l, "%s%04x", i ? "," : "", s->sigalgs[i]);
        }
    }
    ja4_hash12(ext, h2);
    (void)snprintf(out, cap, "t%s%c%02zu%02zu%s_%s_%s", vs, has_sni ? 'd' : 'i',
            TW_MIN(nc, (size_t)99), TW_MIN(ne, (size_t)99), alpn, h1, h2);
}

size_t gen_tls_client_hello(uint8_t *out, size_t cap, enum gen_hello kind, const char *sni,
        uint32_t seed, char *ja3, char *ja3_md5, char *ja4)
{
    const struct hello_shape *s = &shapes[kind];
    struct wr w = { out, 0, cap };
    size_t rec, hs, exts;

    /* Record header: handshake (22), legacy version TLS 1.0, length. */
    w8(&w, 22);
    w16(&w, 0x0301);
    rec = w.len;
    w16(&w, 0);
    /* Handshake: type 1, 24-bit length (patched below), legacy version TLS 1.2. */
    w8(&w, 1);
    hs = w.len;
    w8(&w, 0);
    w16(&w, 0);
    w16(&w, 0x0303);
    for (uint32_t i = 0; i < 32; i++) /* random */
        w8(&w, (seed * 2246822519u + i * 3266489917u) >> 13);
    w8(&w, 32); /* legacy session id */
    for (uint32_t i = 0; i < 32; i++)
        w8(&w, (seed * 668265263u + i * 374761393u) >> 9);
    w16(&w, (uint32_t)(2 * s->n_ciphers));
    for (size_t i = 0; i < s->n_ciphers; i++)
        w16(&w, s->ciphers[i]);
    w8(&w, 1); /* compression methods: null */
    w8(&w, 0);
    exts = w.len;
    w16(&w, 0);
    for (size_t i = 0; i < s->n_exts; i++)
        put_ext(&w, s, s->exts[i], sni, seed);
    wlen16(&w, exts);
    wlen16(&w, rec);
    if (hs + 3 <= cap) {
        size_t n = w.len - hs - 3;
        out[hs] = (uint8_t)(n >> 16);
        out[hs + 1] = (uint8_t)(n >> 8);
        out[hs + 2] = (uint8_t)n;
    }

    if (ja3 || ja3_md5) {
        char j[1024];
        uint16_t pf = 0;
        j[0] = 0;
        (void)snprintf(j, sizeof(j), "771,");
        ja3_list(j, sizeof(j), s->ciphers, s->n_ciphers);
        (void)snprintf(j + strlen(j), sizeof(j) - strlen(j), ",");
        ja3_list(j, sizeof(j), s->exts, s->n_exts);
        (void)snprintf(j + strlen(j), sizeof(j) - strlen(j), ",");
        ja3_list(j, sizeof(j), s->groups, s->n_groups);
        (void)snprintf(j + strlen(j), sizeof(j) - strlen(j), ",");
        ja3_list(j, sizeof(j), &pf, 1);
        if (ja3)
            (void)snprintf(ja3, 512, "%.511s", j);
        if (ja3_md5) {
            uint8_t d[TW_MD5_LEN];
            tw_md5(j, strlen(j), d);
            tw_hex_encode(d, TW_MD5_LEN, ja3_md5);
        }
    }
    if (ja4)
        ja4_of(s, ja4, 48);
    return w.len <= cap ? w.len : 0;
}

size_t gen_tls_server_hello(uint8_t *out, size_t cap, uint32_t seed)
{
    struct wr w = { out, 0, cap };
    size_t rec, hs;

    /* ServerHello for TLS 1.2 with cipher 0xc02f, no extensions. */
    w8(&w, 22);
    w16(&w, 0x0303);
    rec = w.len;
    w16(&w, 0);
    w8(&w, 2);
    hs = w.len;
    w8(&w, 0);
    w16(&w, 0);
    w16(&w, 0x0303);
    for (uint32_t i = 0; i < 32; i++)
        w8(&w, (seed * 3266489917u + i * 2246822519u) >> 7);
    w8(&w, 0);
    w16(&w, 0xc02f);
    w8(&w, 0);
    w16(&w, 0); /* empty extensions block */
    wlen16(&w, rec);
    if (hs + 3 <= cap) {
        size_t n = w.len - hs - 3;
        out[hs] = (uint8_t)(n >> 16);
        out[hs + 1] = (uint8_t)(n >> 8);
        out[hs + 2] = (uint8_t)n;
    }
    return w.len <= cap ? w.len : 0;
}
