/*
 * convert.c: the format-independent half of `intel convert`.
 *
 * The readers (convert_list.c, convert_csv.c, convert_zeek.c) cut their input
 * into rows of named fields. This file turns one row into STIX objects:
 * refang the value, classify it among the kinds its type allows, write its
 * canonical form and pattern, derive the deterministic id, check the optional
 * fields, then append the indicator (and, the first time they are needed, the
 * source's identity and the TLP marking definition) to the bundle. It also
 * holds the tables (type names, TLP levels), the problem list and the stable
 * serialiser.
 *
 * Determinism: every id is UUIDv5 over TW_CONVERT_NAMESPACE. An indicator's
 * name is its canonical pattern, followed by a newline and the source name when
 * the row has a source; an identity's is "identity\n" and the source name; the
 * bundle's is "bundle\n" and the sorted indicator ids joined by newlines. So the
 * same indicator gets the same id whatever its position in the input, and the
 * bundle id depends only on the set of indicators.
 */
#include "tidewatch/convert.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "convert_int.h"
#include "tidewatch/addr.h"
#include "tidewatch/alloc.h"
#include "tidewatch/buf.h"
#include "tidewatch/hash.h"
#include "tidewatch/time.h"
#include "tidewatch/tlp.h"

/* ==== Tables ==== */

#define K(kind) (1u << (kind))

#define KINDS_ADDR      (K(TW_IOC_IPV4) | K(TW_IOC_IPV6))
#define KINDS_CIDR      (K(TW_IOC_IPV4) | K(TW_IOC_IPV6) | K(TW_IOC_IPV4_CIDR) | K(TW_IOC_IPV6_CIDR))
#define KINDS_FILE_HASH (K(TW_IOC_MD5) | K(TW_IOC_SHA1) | K(TW_IOC_SHA256) | K(TW_IOC_SHA512))
#define KINDS_AUTO                                                                                 \
    (KINDS_CIDR | K(TW_IOC_DOMAIN) | K(TW_IOC_URL) | K(TW_IOC_EMAIL) | KINDS_FILE_HASH)

/* Type names accepted in CSV `type` columns, Zeek `indicator_type` and --type. */
static const struct type_name {
    const char *name;
    unsigned kinds;
} type_names[] = {
    { "", KINDS_AUTO },
    { "auto", KINDS_AUTO },
    { "ip", KINDS_CIDR },
    { "addr", KINDS_ADDR },
    { "address", KINDS_CIDR },
    { "ip-addr", KINDS_CIDR },
    { "ip-src", KINDS_CIDR },
    { "ip-dst", KINDS_CIDR },
    { "ipv4", K(TW_IOC_IPV4) | K(TW_IOC_IPV4_CIDR) },
    { "ipv4-addr", K(TW_IOC_IPV4) | K(TW_IOC_IPV4_CIDR) },
    { "ipv6", K(TW_IOC_IPV6) | K(TW_IOC_IPV6_CIDR) },
    { "ipv6-addr", K(TW_IOC_IPV6) | K(TW_IOC_IPV6_CIDR) },
    { "cidr", KINDS_CIDR },
    { "subnet", KINDS_CIDR },
    { "network", KINDS_CIDR },
    { "domain", K(TW_IOC_DOMAIN) },
    { "domain-name", K(TW_IOC_DOMAIN) },
    { "hostname", K(TW_IOC_DOMAIN) },
    { "host", K(TW_IOC_DOMAIN) },
    { "fqdn", K(TW_IOC_DOMAIN) },
    { "url", K(TW_IOC_URL) | TW__KIND_BARE_URL },
    { "uri", K(TW_IOC_URL) | TW__KIND_BARE_URL },
    { "email", K(TW_IOC_EMAIL) },
    { "email-addr", K(TW_IOC_EMAIL) },
    { "email-src", K(TW_IOC_EMAIL) },
    { "email-dst", K(TW_IOC_EMAIL) },
    { "md5", K(TW_IOC_MD5) },
    { "sha1", K(TW_IOC_SHA1) },
    { "sha-1", K(TW_IOC_SHA1) },
    { "sha256", K(TW_IOC_SHA256) },
    { "sha-256", K(TW_IOC_SHA256) },
    { "sha512", K(TW_IOC_SHA512) },
    { "sha-512", K(TW_IOC_SHA512) },
    { "hash", KINDS_FILE_HASH },
    { "file-hash", KINDS_FILE_HASH },
    { "ja3", K(TW_IOC_JA3) },
    { "ja3-fingerprint-md5", K(TW_IOC_JA3) },
    { "ja4", K(TW_IOC_JA4) },
    { "x509-sha1", K(TW_IOC_X509_SHA1) },
    { "x509-fingerprint-sha1", K(TW_IOC_X509_SHA1) },
    { "x509-sha256", K(TW_IOC_X509_SHA256) },
    { "x509-fingerprint-sha256", K(TW_IOC_X509_SHA256) },
    { "filename", K(TW_IOC_FILE_NAME) },
    { "file-name", K(TW_IOC_FILE_NAME) },
    { "username", K(TW_IOC_USER_NAME) },
    { "user", K(TW_IOC_USER_NAME) },
    { "software", K(TW_IOC_SOFTWARE) },
    /* Zeek's Intel::Type names, with or without the "Intel::" prefix. */
    { "ADDR", KINDS_ADDR },
    { "SUBNET", KINDS_CIDR },
    { "DOMAIN", K(TW_IOC_DOMAIN) },
    { "URL", K(TW_IOC_URL) | TW__KIND_BARE_URL },
    { "EMAIL", K(TW_IOC_EMAIL) },
    { "FILE_HASH", KINDS_FILE_HASH },
    { "CERT_HASH", K(TW_IOC_X509_SHA1) | K(TW_IOC_X509_SHA256) },
    { "FILE_NAME", K(TW_IOC_FILE_NAME) },
    { "USER_NAME", K(TW_IOC_USER_NAME) },
    { "SOFTWARE", K(TW_IOC_SOFTWARE) },
};

static const char *const kind_names[TW_IOC__COUNT] = {
    [TW_IOC_NONE] = "none",
    [TW_IOC_IPV4] = "ipv4",
    [TW_IOC_IPV4_CIDR] = "ipv4 cidr",
    [TW_IOC_IPV6] = "ipv6",
    [TW_IOC_IPV6_CIDR] = "ipv6 cidr",
    [TW_IOC_DOMAIN] = "domain",
    [TW_IOC_URL] = "url",
    [TW_IOC_EMAIL] = "email",
    [TW_IOC_MD5] = "md5",
    [TW_IOC_SHA1] = "sha1",
    [TW_IOC_SHA256] = "sha256",
    [TW_IOC_SHA512] = "sha512",
    [TW_IOC_JA3] = "ja3",
    [TW_IOC_JA4] = "ja4",
    [TW_IOC_X509_SHA1] = "x509-sha1",
    [TW_IOC_X509_SHA256] = "x509-sha256",
    [TW_IOC_FILE_NAME] = "filename",
    [TW_IOC_USER_NAME] = "username",
    [TW_IOC_SOFTWARE] = "software",
};

/* Pattern text around the value: prefix 'value' ]. */
static const char *const kind_patterns[TW_IOC__COUNT] = {
    [TW_IOC_IPV4] = "[ipv4-addr:value = '",
    [TW_IOC_IPV4_CIDR] = "[ipv4-addr:value ISSUBSET '",
    [TW_IOC_IPV6] = "[ipv6-addr:value = '",
    [TW_IOC_IPV6_CIDR] = "[ipv6-addr:value ISSUBSET '",
    [TW_IOC_DOMAIN] = "[domain-name:value = '",
    [TW_IOC_URL] = "[url:value = '",
    [TW_IOC_EMAIL] = "[email-addr:value = '",
    [TW_IOC_MD5] = "[file:hashes.MD5 = '",
    [TW_IOC_SHA1] = "[file:hashes.'SHA-1' = '",
    [TW_IOC_SHA256] = "[file:hashes.'SHA-256' = '",
    [TW_IOC_SHA512] = "[file:hashes.'SHA-512' = '",
    [TW_IOC_JA3] = "[network-traffic:x_ja3 = '",
    [TW_IOC_JA4] = "[network-traffic:x_ja4 = '",
    [TW_IOC_X509_SHA1] = "[x509-certificate:hashes.'SHA-1' = '",
    [TW_IOC_X509_SHA256] = "[x509-certificate:hashes.'SHA-256' = '",
    [TW_IOC_FILE_NAME] = "[file:name = '",
    [TW_IOC_USER_NAME] = "[user-account:user_id = '",
    [TW_IOC_SOFTWARE] = "[software:name = '",
};

/* Creation time of the OASIS TLP 2.0 marking definitions (oasis-open/cti-stix-common-objects). */
#define TLP2_CREATED "2022-10-01T00:00:00.000Z"

/* The converter keeps a row's TLP as 0..4 (CLEAR..RED) or -1 for none. */
static enum tw_tlp tlp_level(int tlp)
{
    return (enum tw_tlp)(tlp + (int)TW_TLP_CLEAR);
}

/* ==== Small helpers ==== */

bool tw__utf8_valid(struct tw_str s)
{
    size_t i = 0;

    while (i < s.len) {
        unsigned char c = (unsigned char)s.ptr[i];
        size_t n;
        unsigned long cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1fu;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0fu;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (s.len - i - 1 < n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            unsigned char d = (unsigned char)s.ptr[i + k];
            if ((d & 0xc0u) != 0x80u)
                return false;
            cp = (cp << 6) | (d & 0x3fu);
        }
        /* Overlong forms, surrogates and values past U+10FFFF. */
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
                (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

static bool has_control(struct tw_str s)
{
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c < 0x20 || c == 0x7f)
            return true;
    }
    return false;
}

void tw__conv_quote(struct tw_str s, char out[48])
{
    size_t n = TW_MIN(s.len, (size_t)40);

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c >= 0x20 && c < 0x7f && c != '\'')
            out[i] = (char)c;
        else
            out[i] = '?';
    }
    if (s.len > n) {
        out[n++] = '.';
        out[n++] = '.';
        out[n++] = '.';
    }
    out[n] = '\0';
}

void tw__problem_add(struct tw_convert_problems *p, size_t line, size_t column, bool warning,
        const char *fmt, va_list ap)
{
    struct tw_convert_problem *it;

    if (p->n >= TW_CONVERT_MAX_PROBLEMS) {
        p->n_dropped++;
        return;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        struct tw_convert_problem *items;

        cap = TW_MIN(cap, (size_t)TW_CONVERT_MAX_PROBLEMS);
        items = tw_reallocarray(p->items, cap, sizeof(*items));
        if (items == NULL) {
            p->n_dropped++;
            return;
        }
        p->items = items;
        p->cap = cap;
    }
    it = &p->items[p->n++];
    it->line = line;
    it->column = column;
    it->warning = warning;
    (void)vsnprintf(it->msg, sizeof(it->msg), fmt, ap);
}

void tw__problems_free(struct tw_convert_problems *p)
{
    tw_free(p->items);
    tw_free(p->file);
    memset(p, 0, sizeof(*p));
}

void tw__conv_problem(
        struct tw__conv *c, size_t line, size_t column, bool warning, const char *fmt, ...)
{
    va_list ap;

    if (warning)
        c->res->n_warnings++;
    va_start(ap, fmt);
    tw__problem_add(&c->res->problems, line, column, warning, fmt, ap);
    va_end(ap);
}

int tw__conv_count_row(struct tw__conv *c, struct tw_err *err)
{
    if (c->res->n_read >= TW_CONVERT_MAX_ROWS)
        return TW_E_HERE(err, TW_ELIMIT, TW_NOPOS, "more than %zu rows", TW_CONVERT_MAX_ROWS);
    c->res->n_read++;
    return TW_OK;
}

/* ==== Refanging ==== */

static const struct refang {
    const char *from;
    const char *to;
} refangs[] = {
    { "[.]", "." },
    { "(.)", "." },
    { "{.}", "." },
    { "[dot]", "." },
    { "(dot)", "." },
    { "{dot}", "." },
    { "[@]", "@" },
    { "(@)", "@" },
    { "{@}", "@" },
    { "[at]", "@" },
    { "(at)", "@" },
    { "[://]", "://" },
    { "[:]", ":" },
    { "[/]", "/" },
};

static bool ci_prefix(const char *p, size_t n, const char *lit)
{
    size_t k = strlen(lit);

    if (n < k)
        return false;
    for (size_t i = 0; i < k; i++) {
        if (tw_ascii_lower(p[i]) != lit[i])
            return false;
    }
    return true;
}

int tw_convert_refang(struct tw_str s, struct tw_buf *out)
{
    size_t i = 0;
    int rc;

    /* Scheme forms only at the start: hxxp(s) and fxp. */
    if (ci_prefix(s.ptr, s.len, "hxxps")) {
        if ((rc = tw_buf_puts(out, "https")) != TW_OK)
            return rc;
        i = 5;
    } else if (ci_prefix(s.ptr, s.len, "hxxp")) {
        if ((rc = tw_buf_puts(out, "http")) != TW_OK)
            return rc;
        i = 4;
    } else if (ci_prefix(s.ptr, s.len, "fxp:") || ci_prefix(s.ptr, s.len, "fxp[")) {
        if ((rc = tw_buf_puts(out, "ftp")) != TW_OK)
            return rc;
        i = 3;
    }
    while (i < s.len) {
        const struct refang *hit = NULL;

        if (s.ptr[i] == '[' || s.ptr[i] == '(' || s.ptr[i] == '{') {
            for (size_t k = 0; k < TW_ARRAY_LEN(refangs); k++) {
                if (ci_prefix(s.ptr + i, s.len - i, refangs[k].from)) {
                    hit = &refangs[k];
                    break;
                }
            }
        }
        if (hit != NULL) {
            rc = tw_buf_puts(out, hit->to);
            i += strlen(hit->from);
        } else {
            rc = tw_buf_putc(out, s.ptr[i]);
            i++;
        }
        if (rc != TW_OK)
            return rc;
    }
    return TW_OK;
}

/* ==== Classification ==== */

unsigned tw_convert_type_kinds(struct tw_str type_name)
{
    struct tw_str t = tw_str_trim(type_name);

    if (ci_prefix(t.ptr, t.len, "intel::")) {
        t.ptr += 7;
        t.len -= 7;
    }
    for (size_t i = 0; i < TW_ARRAY_LEN(type_names); i++) {
        if (tw_str_caseeq(t, tw_str_cstr(type_names[i].name)))
            return type_names[i].kinds;
    }
    /* Underscores for dashes: x509_sha1, file_name, user_name, ip_dst, ... */
    if (t.len > 0 && t.len < 32) {
        char tmp[32];
        for (size_t i = 0; i < t.len; i++)
            tmp[i] = t.ptr[i];
        for (size_t i = 0; i < t.len; i++) {
            if (tmp[i] == '_')
                tmp[i] = '-';
        }
        for (size_t i = 0; i < TW_ARRAY_LEN(type_names); i++) {
            if (tw_str_caseeq(tw_str_make(tmp, t.len), tw_str_cstr(type_names[i].name)))
                return type_names[i].kinds;
        }
    }
    return 0;
}

const char *tw_convert_kind_name(enum tw_ioc_kind kind)
{
    if ((unsigned)kind >= TW_IOC__COUNT)
        return "unknown";
    return kind_names[kind];
}

static bool all_hex(struct tw_str s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (!tw_ascii_isxdigit(s.ptr[i]))
            return false;
    }
    return s.len > 0;
}

static int put_lower(struct tw_buf *out, struct tw_str s)
{
    for (size_t i = 0; i < s.len; i++) {
        int rc = tw_buf_putc(out, tw_ascii_lower(s.ptr[i]));
        if (rc != TW_OK)
            return rc;
    }
    return TW_OK;
}

/*
 * Addresses and networks (addr.h). Writes the canonical text (RFC 5952 for
 * IPv6) and returns the kind, or TW_IOC_NONE. Unlike a STIX pattern, an input
 * network with host bits set is refused: "10.1.2.3/8" is more likely a typo
 * than a network.
 */
static enum tw_ioc_kind classify_ip(
        struct tw_str s, unsigned allowed, struct tw_buf *out, const char **why, int *rc)
{
    struct tw_ip net;
    unsigned prefix, flags = 0, max;
    char text[TW_IP_STRLEN];
    enum tw_ioc_kind kind;
    long slash = tw_str_find(s, '/');
    struct tw_str addr = slash < 0 ? s : tw_str_make(s.ptr, (size_t)slash);

    if (tw_ip_parse(addr, &net, NULL) != TW_OK)
        return TW_IOC_NONE;
    if (tw_cidr_parse_flags(s, &net, &prefix, &flags, NULL) != TW_OK) {
        *why = "bad prefix length";
        return TW_IOC_NONE;
    }
    if (flags & TW_CIDR_HOST_BITS) {
        *why = "network has host bits set";
        return TW_IOC_NONE;
    }
    max = net.family == 4 ? 32 : 128;
    if (prefix == max)
        kind = net.family == 4 ? TW_IOC_IPV4 : TW_IOC_IPV6;
    else
        kind = net.family == 4 ? TW_IOC_IPV4_CIDR : TW_IOC_IPV6_CIDR;
    if (!(allowed & K(kind))) {
        *why = "address kind not allowed by the type";
        return TW_IOC_NONE;
    }
    (void)tw_ip_format(&net, text);
    *rc = tw_buf_puts(out, text);
    if (*rc == TW_OK && kind != TW_IOC_IPV4 && kind != TW_IOC_IPV6)
        *rc = tw_buf_printf(out, "/%u", prefix);
    return kind;
}

/* A DNS name of at least two labels: letters, digits, '-', '_'; a TLD with a letter. */
static bool valid_domain(struct tw_str s)
{
    size_t label = 0;
    size_t n_labels = 1;
    bool tld_alpha = false;

    if (s.len > 0 && s.ptr[s.len - 1] == '.')
        s.len--;
    if (s.len == 0 || s.len > 253)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (c == '.') {
            if (label == 0 || s.ptr[i - 1] == '-')
                return false;
            label = 0;
            n_labels++;
            tld_alpha = false;
            continue;
        }
        if (!(tw_ascii_isalpha(c) || tw_ascii_isdigit(c) || c == '-' || c == '_'))
            return false;
        if (c == '-' && label == 0)
            return false;
        if (tw_ascii_isalpha(c))
            tld_alpha = true;
        if (++label > 63)
            return false;
    }
    return label > 0 && s.ptr[s.len - 1] != '-' && n_labels >= 2 && tld_alpha;
}

static bool valid_url_rest(struct tw_str s)
{
    /* The authority must not be empty; no spaces, controls or non-ASCII quoting issues. */
    if (s.len == 0 || s.ptr[0] == '/' || s.ptr[0] == '?' || s.ptr[0] == '#')
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c <= 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

/* Length of a URL scheme followed by "://", or 0. */
static size_t scheme_len(struct tw_str s)
{
    size_t i = 0;

    if (s.len == 0 || !tw_ascii_isalpha(s.ptr[0]))
        return 0;
    while (i < s.len && i < 32 &&
            (tw_ascii_isalpha(s.ptr[i]) || tw_ascii_isdigit(s.ptr[i]) || s.ptr[i] == '+' ||
                    s.ptr[i] == '-' || s.ptr[i] == '.'))
        i++;
    if (s.len - i >= 3 && memcmp(s.ptr + i, "://", 3) == 0)
        return i;
    return 0;
}

static bool valid_email(struct tw_str s, size_t *at)
{
    long a = tw_str_find(s, '@');

    if (a <= 0 || a > 64)
        return false;
    for (long i = 0; i < a; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c <= 0x20 || c >= 0x7f || strchr("\"(),:;<>[\\]@", c) != NULL)
            return false;
    }
    *at = (size_t)a;
    return valid_domain(tw_str_make(s.ptr + a + 1, s.len - (size_t)a - 1));
}

/* JA4: ten alphanumerics, '_', twelve hex digits, '_', twelve hex digits. */
static bool valid_ja4(struct tw_str s)
{
    if (s.len != 36 || s.ptr[10] != '_' || s.ptr[23] != '_')
        return false;
    for (size_t i = 0; i < 10; i++) {
        if (!tw_ascii_isalpha(s.ptr[i]) && !tw_ascii_isdigit(s.ptr[i]))
            return false;
    }
    return all_hex(tw_str_make(s.ptr + 11, 12)) && all_hex(tw_str_make(s.ptr + 24, 12));
}

enum tw_ioc_kind tw__classify(
        struct tw_str value, unsigned allowed, struct tw_buf *out, const char **why)
{
    struct tw_str s = value;
    enum tw_ioc_kind kind;
    size_t at;
    size_t sl;
    int rc = TW_OK;

    *why = NULL;
    if (s.len == 0) {
        *why = "empty value";
        return TW_IOC_NONE;
    }
    if (s.len > TW_CONVERT_MAX_VALUE) {
        *why = "value too long";
        return TW_IOC_NONE;
    }
    if (has_control(s)) {
        *why = "value has control characters";
        return TW_IOC_NONE;
    }
    if (allowed & KINDS_CIDR) {
        kind = classify_ip(s, allowed, out, why, &rc);
        if (kind != TW_IOC_NONE)
            return rc == TW_OK ? kind : TW_IOC_NONE;
        if (*why != NULL)
            return TW_IOC_NONE;
    }
    sl = scheme_len(s);
    if ((allowed & K(TW_IOC_URL)) && sl > 0 &&
            valid_url_rest(tw_str_make(s.ptr + sl + 3, s.len - sl - 3))) {
        /* Lowercase the scheme only; the rest is case-sensitive. */
        if (put_lower(out, tw_str_make(s.ptr, sl)) != TW_OK ||
                tw_buf_append(out, s.ptr + sl, s.len - sl) != TW_OK)
            return TW_IOC_NONE;
        return TW_IOC_URL;
    }
    if ((allowed & K(TW_IOC_EMAIL)) && valid_email(s, &at)) {
        if (tw_buf_append(out, s.ptr, at + 1) != TW_OK ||
                put_lower(out, tw_str_make(s.ptr + at + 1, s.len - at - 1)) != TW_OK)
            return TW_IOC_NONE;
        if (out->ptr[out->len - 1] == '.')
            out->ptr[--out->len] = '\0';
        return TW_IOC_EMAIL;
    }
    if (all_hex(s)) {
        kind = TW_IOC_NONE;
        if (s.len == 32)
            kind = (allowed & K(TW_IOC_MD5)) ? TW_IOC_MD5 : TW_IOC_JA3;
        else if (s.len == 40)
            kind = (allowed & K(TW_IOC_SHA1)) ? TW_IOC_SHA1 : TW_IOC_X509_SHA1;
        else if (s.len == 64)
            kind = (allowed & K(TW_IOC_SHA256)) ? TW_IOC_SHA256 : TW_IOC_X509_SHA256;
        else if (s.len == 128)
            kind = TW_IOC_SHA512;
        if (kind != TW_IOC_NONE && (allowed & K(kind)))
            return put_lower(out, s) == TW_OK ? kind : TW_IOC_NONE;
    }
    if ((allowed & K(TW_IOC_JA4)) && valid_ja4(s))
        return put_lower(out, s) == TW_OK ? TW_IOC_JA4 : TW_IOC_NONE;
    if ((allowed & K(TW_IOC_DOMAIN)) && valid_domain(s)) {
        if (put_lower(out, s) != TW_OK)
            return TW_IOC_NONE;
        if (out->ptr[out->len - 1] == '.')
            out->ptr[--out->len] = '\0';
        return TW_IOC_DOMAIN;
    }
    if ((allowed & TW__KIND_BARE_URL) && sl == 0 && valid_url_rest(s)) {
        /* Zeek writes URLs without a scheme; HTTP is what it matches them in. */
        if (tw_buf_puts(out, "http://") != TW_OK || tw_buf_append(out, s.ptr, s.len) != TW_OK)
            return TW_IOC_NONE;
        return TW_IOC_URL;
    }
    /* The free-text kinds take any printable value. */
    for (kind = TW_IOC_FILE_NAME; kind <= TW_IOC_SOFTWARE; kind++) {
        if (allowed & K(kind))
            return tw_buf_append(out, s.ptr, s.len) == TW_OK ? kind : TW_IOC_NONE;
    }
    return TW_IOC_NONE;
}

enum tw_ioc_kind tw_convert_classify(struct tw_str value, unsigned allowed, struct tw_buf *out)
{
    const char *why;

    return tw__classify(value, allowed, out, &why);
}

int tw_convert_pattern(enum tw_ioc_kind kind, struct tw_str value, struct tw_buf *out)
{
    int rc;

    if (kind <= TW_IOC_NONE || kind >= TW_IOC__COUNT)
        return TW_EINVAL;
    if ((rc = tw_buf_puts(out, kind_patterns[kind])) != TW_OK)
        return rc;
    for (size_t i = 0; i < value.len; i++) {
        if (value.ptr[i] == '\'' || value.ptr[i] == '\\') {
            if ((rc = tw_buf_putc(out, '\\')) != TW_OK)
                return rc;
        }
        if ((rc = tw_buf_putc(out, value.ptr[i])) != TW_OK)
            return rc;
    }
    return tw_buf_puts(out, "']");
}

/* ==== The id set ==== */

static size_t id_slot(const uint8_t id[16], size_t cap)
{
    uint64_t h = 0;

    memcpy(&h, id, sizeof(h));
    return (size_t)h & (cap - 1);
}

static bool ids_has(const struct tw__conv *c, const uint8_t id[16])
{
    static const uint8_t zero[16];

    if (c->ids_cap == 0)
        return false;
    for (size_t i = id_slot(id, c->ids_cap);; i = (i + 1) & (c->ids_cap - 1)) {
        if (memcmp(c->ids[i], id, 16) == 0)
            return true;
        if (memcmp(c->ids[i], zero, 16) == 0)
            return false;
    }
}

/* Adds id (never all zero: a v5 UUID has version bits) to the set. */
static int ids_add(struct tw__conv *c, const uint8_t id[16])
{
    static const uint8_t zero[16];
    size_t i;

    if ((c->ids_n + 1) * 2 > c->ids_cap) {
        size_t cap = c->ids_cap ? c->ids_cap * 2 : 64;
        uint8_t(*ids)[16] = tw_calloc(cap, 16);
        if (ids == NULL)
            return TW_ENOMEM;
        for (size_t k = 0; k < c->ids_cap; k++) {
            if (memcmp(c->ids[k], zero, 16) == 0)
                continue;
            for (i = id_slot(c->ids[k], cap); memcmp(ids[i], zero, 16) != 0;
                    i = (i + 1) & (cap - 1))
                ;
            memcpy(ids[i], c->ids[k], 16);
        }
        tw_free(c->ids);
        c->ids = ids;
        c->ids_cap = cap;
    }
    for (i = id_slot(id, c->ids_cap); memcmp(c->ids[i], zero, 16) != 0;
            i = (i + 1) & (c->ids_cap - 1))
        ;
    memcpy(c->ids[i], id, 16);
    c->ids_n++;
    return TW_OK;
}

static int make_id(const struct tw__conv *c, const char *type, struct tw_str a, struct tw_str b,
        uint8_t uuid[16], char out[TW__ID_LEN])
{
    struct tw_buf name;
    char text[TW_UUID_STRLEN];
    int rc;

    tw_buf_init(&name, a.len + b.len + 1);
    rc = tw_buf_append(&name, a.ptr, a.len);
    if (rc == TW_OK && b.len > 0) {
        rc = tw_buf_putc(&name, '\n');
        if (rc == TW_OK)
            rc = tw_buf_append(&name, b.ptr, b.len);
    }
    if (rc == TW_OK) {
        tw_uuid_v5(c->ns, name.ptr ? name.ptr : "", name.len, uuid);
        tw_uuid_format(uuid, text);
        (void)snprintf(out, TW__ID_LEN, "%s--%s", type, text);
    }
    tw_buf_cleanup(&name);
    return rc;
}

/* ==== Rows to objects ==== */

static int find_tlp(struct tw_str s)
{
    s = tw_str_trim(s);
    if (ci_prefix(s.ptr, s.len, "tlp:") || ci_prefix(s.ptr, s.len, "tlp-")) {
        s.ptr += 4;
        s.len -= 4;
    }
    {
        enum tw_tlp level;
        if (tw_tlp_parse(s, &level) != TW_OK || level == TW_TLP_NONE)
            return -1;
        return (int)level - (int)TW_TLP_CLEAR;
    }
}

/* Parses an RFC 3339 time or a plain YYYY-MM-DD date into STIX text. */
static bool parse_when(struct tw_str s, char out[TW_TIME_STRLEN], struct tw_time *t)
{
    char tmp[24];

    s = tw_str_trim(s);
    if (s.len == 10 && s.ptr[4] == '-' && s.ptr[7] == '-') {
        (void)snprintf(tmp, sizeof(tmp), "%.10sT00:00:00Z", s.ptr);
        s = tw_str_cstr(tmp);
    }
    if (tw_time_parse(s, TW_TIME_ALLOW_OFFSET | TW_TIME_ALLOW_LOWER, t, NULL) != TW_OK)
        return false;
    (void)tw_time_format(t, -1, out);
    return true;
}

static int set_new(json_t *obj, const char *key, json_t *v)
{
    if (v == NULL)
        return TW_ENOMEM;
    return json_object_set_new(obj, key, v) == 0 ? TW_OK : TW_ENOMEM;
}

static int set_str(json_t *obj, const char *key, struct tw_str s)
{
    return set_new(obj, key, json_stringn(s.ptr, s.len));
}

static int add_identity(struct tw__conv *c, struct tw_str source, char id_out[TW__ID_LEN])
{
    uint8_t uuid[16];
    json_t *o;
    int rc;

    if ((rc = make_id(c, "identity", TW_STR("identity"), source, uuid, id_out)) != TW_OK)
        return rc;
    if (ids_has(c, uuid))
        return TW_OK;
    o = json_object();
    if (o == NULL)
        return TW_ENOMEM;
    rc = set_new(o, "type", json_string("identity"));
    if (rc == TW_OK)
        rc = set_new(o, "spec_version", json_string("2.1"));
    if (rc == TW_OK)
        rc = set_new(o, "id", json_string(id_out));
    if (rc == TW_OK)
        rc = set_new(o, "created", json_string(c->ts));
    if (rc == TW_OK)
        rc = set_new(o, "modified", json_string(c->ts));
    if (rc == TW_OK)
        rc = set_str(o, "name", source);
    if (rc == TW_OK)
        rc = set_new(o, "identity_class", json_string("organization"));
    if (rc == TW_OK && json_array_append(c->objects, o) != 0)
        rc = TW_ENOMEM;
    json_decref(o);
    return rc == TW_OK ? ids_add(c, uuid) : rc;
}

static int add_marking(struct tw__conv *c, int tlp)
{
    const char *id = tw_tlp_marking_id(tlp_level(tlp), TW_TLP_V2);
    const char *name = tw_tlp_name(tlp_level(tlp)); /* "TLP:AMBER+STRICT" */
    char level[16];
    uint8_t uuid[16];
    json_t *o;
    json_t *ext;
    json_t *exts;
    size_t k = 0;

    if (id == NULL || !tw_uuid_parse(tw_str_cstr(id + strlen("marking-definition--")), uuid))
        return TW_EINVAL;
    for (const char *p = name + 4; *p != '\0' && k + 1 < sizeof(level); p++)
        level[k++] = tw_ascii_lower(*p); /* the tlp_2_0 value: "amber+strict" */
    level[k] = '\0';
    if (ids_has(c, uuid))
        return TW_OK;
    o = json_object();
    ext = json_object();
    exts = json_object();
    if (o == NULL || ext == NULL || exts == NULL) {
        json_decref(o);
        json_decref(ext);
        json_decref(exts);
        return TW_ENOMEM;
    }
    if (set_new(ext, "extension_type", json_string("property-extension")) != TW_OK ||
            set_new(ext, "tlp_2_0", json_string(level)) != TW_OK ||
            set_new(exts, TW_TLP2_EXTENSION_ID, json_incref(ext)) != TW_OK ||
            set_new(o, "type", json_string("marking-definition")) != TW_OK ||
            set_new(o, "spec_version", json_string("2.1")) != TW_OK ||
            set_new(o, "id", json_string(id)) != TW_OK ||
            set_new(o, "created", json_string(TLP2_CREATED)) != TW_OK ||
            set_new(o, "name", json_string(name)) != TW_OK ||
            set_new(o, "extensions", json_incref(exts)) != TW_OK ||
            json_array_append(c->objects, o) != 0) {
        json_decref(o);
        json_decref(ext);
        json_decref(exts);
        return TW_ENOMEM;
    }
    json_decref(o);
    json_decref(ext);
    json_decref(exts);
    return ids_add(c, uuid);
}

/* NULL when every text field of a row is well-formed UTF-8 without NUL bytes, else why not. */
static const char *row_text_problem(const struct tw__row *r)
{
    const struct tw_str *fields[] = { &r->name, &r->desc, &r->labels, &r->source, &r->url,
        &r->value, &r->type };

    for (size_t i = 0; i < TW_ARRAY_LEN(fields); i++) {
        if (fields[i]->len > 0 && memchr(fields[i]->ptr, 0, fields[i]->len) != NULL)
            return "row contains a NUL byte";
        if (!tw__utf8_valid(*fields[i]))
            return "row is not valid UTF-8";
    }
    return NULL;
}

static int build_labels(json_t **out, struct tw_str labels)
{
    struct tw_str rest = labels;
    struct tw_str tok;
    json_t *arr = json_array();

    if (arr == NULL)
        return TW_ENOMEM;
    while (tw_str_split(&rest, ';', &tok)) {
        tok = tw_str_trim(tok);
        if (tok.len == 0)
            continue;
        if (json_array_append_new(arr, json_stringn(tok.ptr, tok.len)) != 0) {
            json_decref(arr);
            return TW_ENOMEM;
        }
    }
    if (json_array_size(arr) == 0) {
        json_decref(arr);
        arr = NULL;
    }
    *out = arr;
    return TW_OK;
}

int tw__conv_row(struct tw__conv *c, const struct tw__row *row)
{
    struct tw_str value = tw_str_trim(row->value);
    struct tw_str type = tw_str_trim(row->type);
    struct tw_str source = tw_str_trim(row->source);
    unsigned allowed;
    enum tw_ioc_kind kind;
    const char *why;
    char q[48];
    char id[TW__ID_LEN];
    char ident[TW__ID_LEN] = "";
    char vfrom[TW_TIME_STRLEN];
    char vuntil[TW_TIME_STRLEN] = "";
    struct tw_time t_from;
    struct tw_time t_until;
    uint64_t confidence = 0;
    bool has_conf = false;
    int tlp = c->default_tlp;
    uint8_t uuid[16];
    json_t *o = NULL;
    json_t *labels = NULL;
    int rc;

    if (source.len == 0 && c->opts->source != NULL)
        source = tw_str_cstr(c->opts->source);

    /* The type decides which kinds the value may be. */
    if (type.len == 0 && c->default_kinds != 0) {
        allowed = c->default_kinds;
    } else {
        allowed = tw_convert_type_kinds(type);
        if (allowed == 0) {
            struct tw_str bare = type;
            if (ci_prefix(bare.ptr, bare.len, "intel::"))
                bare = tw_str_make(bare.ptr + 7, bare.len - 7);
            tw__conv_quote(type, q);
            if (tw_str_caseeq(bare, TW_STR("PUBKEY_HASH")))
                tw__conv_problem(c, row->line, row->col_type, false,
                        "type '%s' has no STIX equivalent (row skipped)", q);
            else
                tw__conv_problem(c, row->line, row->col_type, false, "unknown type '%s'", q);
            c->res->n_rejected++;
            return TW_OK;
        }
    }
    if ((why = row_text_problem(row)) != NULL) {
        tw__conv_problem(c, row->line, 0, false, "%s", why);
        c->res->n_rejected++;
        return TW_OK;
    }
    if (value.len > TW_CONVERT_MAX_VALUE) {
        tw__conv_problem(c, row->line, row->col_value, false, "value longer than %zu bytes",
                TW_CONVERT_MAX_VALUE);
        c->res->n_rejected++;
        return TW_OK;
    }

    /* Refang, classify, canonicalise and write the pattern. */
    tw_buf_reset(&c->scratch);
    tw_buf_reset(&c->canon);
    tw_buf_reset(&c->pattern);
    if ((rc = tw_convert_refang(value, &c->scratch)) != TW_OK)
        return rc;
    kind = tw__classify(tw_str_make(c->scratch.ptr ? c->scratch.ptr : "", c->scratch.len), allowed,
            &c->canon, &why);
    if (kind == TW_IOC_NONE) {
        tw__conv_quote(value, q);
        if (type.len > 0)
            tw__conv_problem(c, row->line, row->col_value, false, "'%s' is not a valid %.*s%s%s", q,
                    (int)TW_MIN(type.len, (size_t)32), type.ptr, why ? ": " : "", why ? why : "");
        else
            tw__conv_problem(c, row->line, row->col_value, false,
                    "'%s' is not a recognised indicator%s%s", q, why ? ": " : "", why ? why : "");
        c->res->n_rejected++;
        return TW_OK;
    }
    if ((rc = tw_convert_pattern(kind, tw_str_make(c->canon.ptr, c->canon.len), &c->pattern)) !=
            TW_OK)
        return rc;

    /* Optional fields: checked before anything is added. */
    if (row->tlp.len > 0 && (tlp = find_tlp(row->tlp)) < 0) {
        tw__conv_quote(row->tlp, q);
        tw__conv_problem(c, row->line, row->col_tlp, false, "unknown TLP level '%s'", q);
        c->res->n_rejected++;
        return TW_OK;
    }
    if (tw_str_trim(row->confidence).len > 0) {
        if (tw_parse_u64(tw_str_trim(row->confidence), 100, &confidence) != TW_OK) {
            tw__conv_problem(c, row->line, row->col_confidence, false,
                    "confidence must be an integer from 0 to 100");
            c->res->n_rejected++;
            return TW_OK;
        }
        has_conf = true;
    }
    if (tw_str_trim(row->valid_from).len > 0) {
        if (!parse_when(row->valid_from, vfrom, &t_from)) {
            tw__conv_problem(c, row->line, row->col_valid_from, false,
                    "valid_from is not an RFC 3339 time or YYYY-MM-DD date");
            c->res->n_rejected++;
            return TW_OK;
        }
    } else {
        memcpy(vfrom, c->ts, sizeof(vfrom));
        if (tw_time_parse(tw_str_cstr(c->ts), 0, &t_from, NULL) != TW_OK)
            return TW_EINVAL;
    }
    if (tw_str_trim(row->valid_until).len > 0) {
        if (!parse_when(row->valid_until, vuntil, &t_until)) {
            tw__conv_problem(c, row->line, row->col_valid_until, false,
                    "valid_until is not an RFC 3339 time or YYYY-MM-DD date");
            c->res->n_rejected++;
            return TW_OK;
        }
        if (tw_time_cmp(&t_until, &t_from) <= 0) {
            tw__conv_problem(c, row->line, row->col_valid_until, false,
                    "valid_until is not later than valid_from");
            c->res->n_rejected++;
            return TW_OK;
        }
    }

    /* The id; a repeat of an earlier row is reported and dropped. */
    rc = make_id(c, "indicator", tw_str_make(c->pattern.ptr, c->pattern.len), source, uuid, id);
    if (rc != TW_OK)
        return rc;
    if (ids_has(c, uuid)) {
        tw__conv_problem(c, row->line, row->col_value, true,
                "duplicate indicator %s (an earlier row has the same pattern and source)", id);
        c->res->n_duplicates++;
        return TW_OK;
    }
    if (c->ind_n == c->ind_cap) {
        size_t cap = c->ind_cap ? c->ind_cap * 2 : 64;
        char(*ids)[TW__ID_LEN] = tw_reallocarray(c->ind_ids, cap, TW__ID_LEN);
        if (ids == NULL)
            return TW_ENOMEM;
        c->ind_ids = ids;
        c->ind_cap = cap;
    }

    if (source.len > 0 && (rc = add_identity(c, source, ident)) != TW_OK)
        return rc;
    if (tlp >= 0 && (rc = add_marking(c, tlp)) != TW_OK)
        return rc;
    if ((rc = build_labels(&labels, row->labels)) != TW_OK)
        return rc;

    o = json_object();
    if (o == NULL) {
        json_decref(labels);
        return TW_ENOMEM;
    }
    rc = set_new(o, "type", json_string("indicator"));
    if (rc == TW_OK)
        rc = set_new(o, "spec_version", json_string("2.1"));
    if (rc == TW_OK)
        rc = set_new(o, "id", json_string(id));
    if (rc == TW_OK && ident[0] != '\0')
        rc = set_new(o, "created_by_ref", json_string(ident));
    if (rc == TW_OK)
        rc = set_new(o, "created", json_string(c->ts));
    if (rc == TW_OK)
        rc = set_new(o, "modified", json_string(c->ts));
    if (rc == TW_OK && tw_str_trim(row->name).len > 0)
        rc = set_str(o, "name", tw_str_trim(row->name));
    if (rc == TW_OK && tw_str_trim(row->desc).len > 0)
        rc = set_str(o, "description", tw_str_trim(row->desc));
    if (rc == TW_OK)
        rc = set_new(o, "pattern", json_stringn(c->pattern.ptr, c->pattern.len));
    if (rc == TW_OK)
        rc = set_new(o, "pattern_type", json_string("stix"));
    if (rc == TW_OK)
        rc = set_new(o, "valid_from", json_string(vfrom));
    if (rc == TW_OK && vuntil[0] != '\0')
        rc = set_new(o, "valid_until", json_string(vuntil));
    if (rc == TW_OK && has_conf)
        rc = set_new(o, "confidence", json_integer((json_int_t)confidence));
    if (rc == TW_OK && labels != NULL) {
        rc = set_new(o, "labels", labels);
        labels = NULL;
    }
    if (rc == TW_OK && tw_str_trim(row->url).len > 0) {
        json_t *refs = json_array();
        json_t *ref = json_object();
        struct tw_str sn = source.len > 0 ? source : TW_STR("zeek-intel");
        if (refs == NULL || ref == NULL || set_str(ref, "source_name", sn) != TW_OK ||
                set_str(ref, "url", tw_str_trim(row->url)) != TW_OK ||
                json_array_append(refs, ref) != 0) {
            rc = TW_ENOMEM;
            json_decref(refs);
        } else {
            rc = set_new(o, "external_references", refs);
        }
        json_decref(ref);
    }
    if (rc == TW_OK && tlp >= 0) {
        json_t *refs = json_array();
        if (refs == NULL || json_array_append_new(refs, json_string(tw_tlp_marking_id(
                                                                tlp_level(tlp), TW_TLP_V2))) != 0) {
            json_decref(refs);
            rc = TW_ENOMEM;
        } else {
            rc = set_new(o, "object_marking_refs", refs);
        }
    }
    json_decref(labels);
    if (rc == TW_OK && json_array_append(c->objects, o) != 0)
        rc = TW_ENOMEM;
    json_decref(o);
    if (rc != TW_OK)
        return rc;
    if ((rc = ids_add(c, uuid)) != TW_OK)
        return rc;
    memcpy(c->ind_ids[c->ind_n++], id, TW__ID_LEN);
    c->res->n_converted++;
    return TW_OK;
}

/* ==== Import lifecycle ==== */

int tw__conv_run(const char *text, size_t len, const struct tw_convert_opts *opts,
        struct tw_convert_result *res, struct tw_err *err, tw__conv_reader_fn *read)
{
    struct tw__conv c;
    int rc = tw__conv_begin(&c, opts, res, err);

    if (rc == TW_OK && len > TW_CONVERT_MAX_INPUT)
        rc = TW_E_HERE(
                err, TW_ELIMIT, TW_NOPOS, "input larger than %zu bytes", TW_CONVERT_MAX_INPUT);
    if (rc == TW_OK && text == NULL && len > 0)
        rc = TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "no input");
    if (rc == TW_OK && len > 0)
        rc = read(&c, text, len, err);
    if (rc == TW_OK)
        rc = tw__conv_finish(&c, err);
    tw__conv_end(&c);
    return rc;
}

int tw__conv_begin(struct tw__conv *c, const struct tw_convert_opts *opts,
        struct tw_convert_result *res, struct tw_err *err)
{
    struct tw_time t;

    memset(c, 0, sizeof(*c));
    c->opts = opts;
    c->res = res;
    c->default_tlp = -1;
    tw_buf_init(&c->scratch, 4 * TW_CONVERT_MAX_VALUE);
    tw_buf_init(&c->canon, 4 * TW_CONVERT_MAX_VALUE);
    tw_buf_init(&c->pattern, 8 * TW_CONVERT_MAX_VALUE);
    if (opts == NULL || res == NULL)
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "no options or result");
    if (opts->timestamp == NULL ||
            tw_time_parse(tw_str_cstr(opts->timestamp), TW_TIME_ALLOW_OFFSET | TW_TIME_ALLOW_LOWER,
                    &t, NULL) != TW_OK)
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "a valid RFC 3339 timestamp is required");
    (void)tw_time_format(&t, 3, c->ts);
    if (!tw_uuid_parse(TW_STR(TW_CONVERT_NAMESPACE), c->ns))
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "bad namespace");
    if (opts->default_type != NULL) {
        c->default_kinds = tw_convert_type_kinds(tw_str_cstr(opts->default_type));
        if (c->default_kinds == 0)
            return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "unknown type name");
    }
    if (opts->tlp != NULL && (c->default_tlp = find_tlp(tw_str_cstr(opts->tlp))) < 0)
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "unknown TLP level");
    if (res->problems.file == NULL) {
        res->problems.file = tw_strdup(opts->file ? opts->file : "<input>");
        if (res->problems.file == NULL)
            return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    }
    c->objects = json_array();
    if (c->objects == NULL)
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    return TW_OK;
}

static int cmp_ids(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

int tw__conv_finish(struct tw__conv *c, struct tw_err *err)
{
    struct tw_buf names;
    uint8_t uuid[16];
    char text[TW_UUID_STRLEN];
    char id[TW__ID_LEN];
    json_t *b;
    int rc = TW_OK;

    if (c->ind_n > 1)
        qsort(c->ind_ids, c->ind_n, TW__ID_LEN, cmp_ids);
    tw_buf_init(&names, c->ind_n * TW__ID_LEN + 16);
    rc = tw_buf_puts(&names, "bundle");
    for (size_t i = 0; i < c->ind_n && rc == TW_OK; i++) {
        rc = tw_buf_putc(&names, '\n');
        if (rc == TW_OK)
            rc = tw_buf_puts(&names, c->ind_ids[i]);
    }
    if (rc != TW_OK) {
        tw_buf_cleanup(&names);
        return TW_E_HERE(err, rc, TW_NOPOS, "out of memory");
    }
    tw_uuid_v5(c->ns, names.ptr, names.len, uuid);
    tw_buf_cleanup(&names);
    tw_uuid_format(uuid, text);
    (void)snprintf(id, sizeof(id), "bundle--%s", text);

    b = json_object();
    if (b == NULL || set_new(b, "type", json_string("bundle")) != TW_OK ||
            set_new(b, "id", json_string(id)) != TW_OK ||
            set_new(b, "objects", json_incref(c->objects)) != TW_OK) {
        json_decref(b);
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    }
    c->res->bundle = b;
    return TW_OK;
}

void tw__conv_end(struct tw__conv *c)
{
    json_decref(c->objects);
    tw_free(c->ids);
    tw_free(c->ind_ids);
    tw_buf_cleanup(&c->scratch);
    tw_buf_cleanup(&c->canon);
    tw_buf_cleanup(&c->pattern);
    memset(c, 0, sizeof(*c));
}

/* ==== Results and output ==== */

void tw_convert_result_init(struct tw_convert_result *res)
{
    memset(res, 0, sizeof(*res));
}

void tw_convert_result_cleanup(struct tw_convert_result *res)
{
    if (res == NULL)
        return;
    json_decref(res->bundle);
    tw__problems_free(&res->problems);
    memset(res, 0, sizeof(*res));
}

static int dump_cb(const char *p, size_t n, void *data)
{
    return tw_buf_append(data, p, n) == TW_OK ? 0 : -1;
}

int tw_convert_dump(const json_t *bundle, int indent, struct tw_buf *out)
{
    size_t flags = JSON_PRESERVE_ORDER;
    size_t before = out->len;

    if (bundle == NULL || indent < 0 || indent > 31)
        return TW_EINVAL;
    if (indent > 0)
        flags |= JSON_INDENT(indent);
    else
        flags |= JSON_COMPACT;
    if (json_dump_callback(bundle, dump_cb, out, flags) != 0) {
        int rc = out->len >= out->max ? TW_ELIMIT : TW_ENOMEM;
        out->len = before;
        if (out->ptr != NULL)
            out->ptr[before] = '\0';
        return rc;
    }
    return tw_buf_putc(out, '\n');
}
