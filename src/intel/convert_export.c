/*
 * convert_export.c: STIX indicators to Zeek intel files and Suricata datasets.
 *
 * Each indicator's pattern is compiled with tw_pattern_parse and its atoms
 * read with tw_pattern_atoms. Only indicators whose atoms are exact (the
 * pattern is a plain disjunction of equality or ISSUBSET tests) can become
 * list entries; the rest need the pattern evaluator and are skipped. Each
 * atom's value is checked and canonicalised with the importer's classifier
 * for the kind its object path implies, so what the exporters write is what
 * the importers would accept.
 *
 * Mapping from object path to kind:
 *   ipv4-addr:value, ipv6-addr:value (= or ISSUBSET)  address or network
 *   domain-name:value  url:value  email-addr:value
 *   file:hashes.MD5 / 'SHA-1' / 'SHA-256' / 'SHA-512'
 *   x509-certificate:hashes.'SHA-1' / 'SHA-256'
 *   network-traffic:x_ja3, network-traffic:x_ja4 (our convention)
 *   file:name  user-account:user_id  software:name
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "convert_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/buf.h"
#include "tidewatch/convert.h"
#include "tidewatch/pattern.h"

/* Atoms kept per indicator; an indicator with more is skipped as a bad pattern. */
#define MAX_ATOMS 4096

#define K(kind) (1u << (kind))

static const char *const skip_names[TW_SKIP__COUNT] = {
    [TW_SKIP_NOT_STIX] = "not-stix",
    [TW_SKIP_REVOKED] = "revoked",
    [TW_SKIP_BAD_PATTERN] = "bad-pattern",
    [TW_SKIP_NOT_EXACT] = "not-exact",
    [TW_SKIP_UNSUPPORTED] = "unsupported",
    [TW_SKIP_BAD_VALUE] = "bad-value",
};

/* ==== Shared walk ==== */

struct atom_list {
    struct tw_pattern_atom *items;
    size_t n;
    size_t cap;
};

static int collect_atom(const struct tw_pattern_atom *atom, void *ctx)
{
    struct atom_list *l = ctx;

    if (l->n >= MAX_ATOMS)
        return TW_ELIMIT;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct tw_pattern_atom *items = tw_reallocarray(l->items, cap, sizeof(*items));
        if (items == NULL)
            return TW_ENOMEM;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = *atom;
    return TW_OK;
}

/* The hash algorithm in "hashes.X" or "hashes.'X'", or an empty slice. */
static struct tw_str hash_algo(struct tw_str path)
{
    struct tw_str a;

    if (!tw_str_starts_with(path, TW_STR("hashes.")))
        return tw_str_make("", 0);
    a = tw_str_make(path.ptr + 7, path.len - 7);
    if (a.len >= 2 && a.ptr[0] == '\'' && a.ptr[a.len - 1] == '\'')
        a = tw_str_make(a.ptr + 1, a.len - 2);
    return a;
}

/* Mask of kinds an atom's object path and operator allow; 0 when unsupported. */
static unsigned atom_kinds(const struct tw_pattern_atom *a)
{
    bool value = tw_str_eq_cstr(a->path, "value");
    struct tw_str algo;

    if (a->op == TW_ATOM_SUBSET) {
        if (value && tw_str_eq_cstr(a->type, "ipv4-addr"))
            return K(TW_IOC_IPV4) | K(TW_IOC_IPV4_CIDR);
        if (value && tw_str_eq_cstr(a->type, "ipv6-addr"))
            return K(TW_IOC_IPV6) | K(TW_IOC_IPV6_CIDR);
        return 0;
    }
    if (value && tw_str_eq_cstr(a->type, "ipv4-addr"))
        return K(TW_IOC_IPV4) | K(TW_IOC_IPV4_CIDR);
    if (value && tw_str_eq_cstr(a->type, "ipv6-addr"))
        return K(TW_IOC_IPV6) | K(TW_IOC_IPV6_CIDR);
    if (value && tw_str_eq_cstr(a->type, "domain-name"))
        return K(TW_IOC_DOMAIN);
    if (value && tw_str_eq_cstr(a->type, "url"))
        return K(TW_IOC_URL);
    if (value && tw_str_eq_cstr(a->type, "email-addr"))
        return K(TW_IOC_EMAIL);
    if (tw_str_eq_cstr(a->type, "network-traffic") && tw_str_eq_cstr(a->path, "x_ja3"))
        return K(TW_IOC_JA3);
    if (tw_str_eq_cstr(a->type, "network-traffic") && tw_str_eq_cstr(a->path, "x_ja4"))
        return K(TW_IOC_JA4);
    if (tw_str_eq_cstr(a->type, "file") && tw_str_eq_cstr(a->path, "name"))
        return K(TW_IOC_FILE_NAME);
    if (tw_str_eq_cstr(a->type, "user-account") && tw_str_eq_cstr(a->path, "user_id"))
        return K(TW_IOC_USER_NAME);
    if (tw_str_eq_cstr(a->type, "software") && tw_str_eq_cstr(a->path, "name"))
        return K(TW_IOC_SOFTWARE);
    algo = hash_algo(a->path);
    if (algo.len > 0 && tw_str_eq_cstr(a->type, "file")) {
        if (tw_str_caseeq(algo, TW_STR("MD5")))
            return K(TW_IOC_MD5);
        if (tw_str_caseeq(algo, TW_STR("SHA-1")))
            return K(TW_IOC_SHA1);
        if (tw_str_caseeq(algo, TW_STR("SHA-256")))
            return K(TW_IOC_SHA256);
        if (tw_str_caseeq(algo, TW_STR("SHA-512")))
            return K(TW_IOC_SHA512);
    }
    if (algo.len > 0 && tw_str_eq_cstr(a->type, "x509-certificate")) {
        if (tw_str_caseeq(algo, TW_STR("SHA-1")))
            return K(TW_IOC_X509_SHA1);
        if (tw_str_caseeq(algo, TW_STR("SHA-256")))
            return K(TW_IOC_X509_SHA256);
    }
    return 0;
}

static void add_problem(struct tw_convert_problems *p, size_t pos, const char *fmt, ...)
        TW_PRINTF(3, 4);

static void add_problem(struct tw_convert_problems *p, size_t pos, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tw__problem_add(p, pos, 0, false, fmt, ap);
    va_end(ap);
}

static void skip(struct tw_export_result *res, enum tw_export_skip why, size_t pos, const char *id,
        const char *detail)
{
    res->n_skipped[why]++;
    add_problem(&res->problems, pos, "%s skipped (%s): %s", id, skip_names[why], detail);
}

/* What an emitter did with one atom. */
enum outcome { WROTE, UNSUPPORTED };

/* Writes one canonical atom of `kind` for indicator `ind`; sets *out. */
typedef int emit_fn(void *ctx, enum tw_ioc_kind kind, struct tw_str canon, const json_t *ind,
        const char *id, enum outcome *out);

static const json_t *object_list(const json_t *objects)
{
    if (json_is_array(objects))
        return objects;
    if (json_is_object(objects) && json_is_array(json_object_get(objects, "objects")))
        return json_object_get(objects, "objects");
    return NULL;
}

static int export_one(const json_t *ind, size_t pos, emit_fn *emit, void *ctx,
        struct tw_export_result *res, struct atom_list *atoms, struct tw_buf *canon)
{
    const char *id = json_string_value(json_object_get(ind, "id"));
    const char *ptype = json_string_value(json_object_get(ind, "pattern_type"));
    const json_t *jpat = json_object_get(ind, "pattern");
    struct tw_pattern *pat = NULL;
    struct tw_err perr;
    bool exact = false;
    size_t wrote = 0;
    int rc;

    tw_err_clear(&perr);
    if (id == NULL)
        id = "(indicator without id)";
    if (json_is_true(json_object_get(ind, "revoked"))) {
        skip(res, TW_SKIP_REVOKED, pos, id, "revoked");
        return TW_OK;
    }
    if (ptype == NULL || strcmp(ptype, "stix") != 0 || !json_is_string(jpat)) {
        skip(res, TW_SKIP_NOT_STIX, pos, id, "no STIX pattern");
        return TW_OK;
    }
    rc = tw_pattern_parse(
            tw_str_make(json_string_value(jpat), json_string_length(jpat)), &pat, &perr);
    if (rc == TW_ENOMEM)
        return rc;
    if (rc != TW_OK) {
        skip(res, TW_SKIP_BAD_PATTERN, pos, id, perr.msg[0] ? perr.msg : tw_strerror(rc));
        return TW_OK;
    }
    atoms->n = 0;
    rc = tw_pattern_atoms(pat, collect_atom, atoms, &exact);
    if (rc == TW_ENOMEM) {
        tw_pattern_free(pat);
        return rc;
    }
    if (rc == TW_ELIMIT) {
        skip(res, TW_SKIP_BAD_PATTERN, pos, id, "too many comparisons");
        tw_pattern_free(pat);
        return TW_OK;
    }
    if (rc != TW_OK || !exact) {
        skip(res, TW_SKIP_NOT_EXACT, pos, id, "pattern needs the evaluator, not a list entry");
        tw_pattern_free(pat);
        return TW_OK;
    }
    for (size_t i = 0; i < atoms->n; i++) {
        const struct tw_pattern_atom *a = &atoms->items[i];
        unsigned kinds = atom_kinds(a);
        enum tw_ioc_kind kind;
        enum outcome out = UNSUPPORTED;
        const char *why = NULL;
        char detail[120];

        if (kinds == 0) {
            (void)snprintf(detail, sizeof(detail), "no list form for %.*s:%.*s",
                    (int)TW_MIN(a->type.len, (size_t)40), a->type.ptr,
                    (int)TW_MIN(a->path.len, (size_t)40), a->path.ptr);
            skip(res, TW_SKIP_UNSUPPORTED, pos, id, detail);
            continue;
        }
        tw_buf_reset(canon);
        kind = tw__classify(a->value, kinds, canon, &why);
        if (kind == TW_IOC_NONE) {
            (void)snprintf(detail, sizeof(detail), "value is not a valid %.*s%s%s",
                    (int)TW_MIN(a->type.len, (size_t)40), a->type.ptr, why ? ": " : "",
                    why ? why : "");
            skip(res, TW_SKIP_BAD_VALUE, pos, id, detail);
            continue;
        }
        rc = emit(ctx, kind, tw_str_make(canon->ptr, canon->len), ind, id, &out);
        if (rc != TW_OK) {
            tw_pattern_free(pat);
            return rc;
        }
        if (out == WROTE) {
            wrote++;
            res->n_lines++;
        } else {
            (void)snprintf(detail, sizeof(detail), "the format has no type for %s values",
                    tw_convert_kind_name(kind));
            skip(res, TW_SKIP_UNSUPPORTED, pos, id, detail);
        }
    }
    if (wrote > 0)
        res->n_exported++;
    tw_pattern_free(pat);
    return TW_OK;
}

static int walk(const json_t *objects, emit_fn *emit, void *ctx, struct tw_export_result *res,
        struct tw_err *err)
{
    const json_t *list = object_list(objects);
    struct atom_list atoms = { NULL, 0, 0 };
    struct tw_buf canon;
    int rc = TW_OK;

    if (list == NULL)
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "expected a JSON array or a STIX bundle");
    tw_buf_init(&canon, 4 * TW_CONVERT_MAX_VALUE);
    for (size_t i = 0; i < json_array_size(list) && rc == TW_OK; i++) {
        const json_t *o = json_array_get(list, i);
        const char *type = json_string_value(json_object_get(o, "type"));

        res->n_objects++;
        if (type == NULL || strcmp(type, "indicator") != 0)
            continue;
        res->n_indicators++;
        rc = export_one(o, i + 1, emit, ctx, res, &atoms, &canon);
        if (rc != TW_OK)
            rc = TW_E_HERE(err, rc, TW_NOPOS, "%s writing object %zu", tw_strerror(rc), i + 1);
    }
    tw_free(atoms.items);
    tw_buf_cleanup(&canon);
    return rc;
}

void tw_export_result_init(struct tw_export_result *res)
{
    memset(res, 0, sizeof(*res));
}

void tw_export_result_cleanup(struct tw_export_result *res)
{
    if (res == NULL)
        return;
    tw__problems_free(&res->problems);
    memset(res, 0, sizeof(*res));
}

const char *tw_export_skip_name(enum tw_export_skip reason)
{
    if ((unsigned)reason >= TW_SKIP__COUNT)
        return "unknown";
    return skip_names[reason];
}

/* ==== Zeek ==== */

static const char *const zeek_types[TW_IOC__COUNT] = {
    [TW_IOC_IPV4] = "Intel::ADDR",
    [TW_IOC_IPV6] = "Intel::ADDR",
    [TW_IOC_IPV4_CIDR] = "Intel::SUBNET",
    [TW_IOC_IPV6_CIDR] = "Intel::SUBNET",
    [TW_IOC_DOMAIN] = "Intel::DOMAIN",
    [TW_IOC_URL] = "Intel::URL",
    [TW_IOC_EMAIL] = "Intel::EMAIL",
    [TW_IOC_MD5] = "Intel::FILE_HASH",
    [TW_IOC_SHA1] = "Intel::FILE_HASH",
    [TW_IOC_SHA256] = "Intel::FILE_HASH",
    [TW_IOC_SHA512] = "Intel::FILE_HASH",
    [TW_IOC_X509_SHA1] = "Intel::CERT_HASH",
    [TW_IOC_FILE_NAME] = "Intel::FILE_NAME",
    [TW_IOC_USER_NAME] = "Intel::USER_NAME",
    [TW_IOC_SOFTWARE] = "Intel::SOFTWARE",
};

#define ZEEK_HEADER "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n"

/* A meta field: control characters become spaces, the empty string "-". */
static int zeek_meta(struct tw_buf *out, const char *s, size_t n)
{
    int rc;

    while (n > 0 && tw_ascii_isspace(s[n - 1]))
        n--;
    while (n > 0 && tw_ascii_isspace(s[0])) {
        s++;
        n--;
    }
    if (n == 0)
        return tw_buf_putc(out, '-');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char ch = (char)c;
        if (c < 0x20 || c == 0x7f)
            ch = ' ';
        if ((rc = tw_buf_putc(out, ch)) != TW_OK)
            return rc;
    }
    return TW_OK;
}

static const json_t *first_ref_url(const json_t *ind)
{
    const json_t *refs = json_object_get(ind, "external_references");

    for (size_t i = 0; i < json_array_size(refs); i++) {
        const json_t *u = json_object_get(json_array_get(refs, i), "url");
        if (json_is_string(u))
            return u;
    }
    return NULL;
}

static int zeek_emit(void *ctx, enum tw_ioc_kind kind, struct tw_str canon, const json_t *ind,
        const char *id, enum outcome *out)
{
    struct tw_buf *b = ctx;
    const json_t *name = json_object_get(ind, "name");
    const json_t *desc = json_object_get(ind, "description");
    const json_t *url = first_ref_url(ind);
    size_t before = b->len;
    int rc;

    *out = UNSUPPORTED;
    if (zeek_types[kind] == NULL)
        return TW_OK;
    if (kind == TW_IOC_URL) {
        /* Zeek matches URLs as host and path, without the scheme. */
        const char *p = memchr(canon.ptr, ':', canon.len);
        if (p != NULL && (size_t)(canon.ptr + canon.len - p) > 3 && p[1] == '/' && p[2] == '/')
            canon = tw_str_make(p + 3, canon.len - (size_t)(p + 3 - canon.ptr));
    }
    rc = tw_buf_append(b, canon.ptr, canon.len);
    if (rc == TW_OK)
        rc = tw_buf_printf(b, "\t%s\t", zeek_types[kind]);
    if (rc == TW_OK && json_is_string(name) && json_string_length(name) > 0)
        rc = zeek_meta(b, json_string_value(name), json_string_length(name));
    else if (rc == TW_OK)
        rc = zeek_meta(b, id, strlen(id));
    if (rc == TW_OK)
        rc = tw_buf_putc(b, '\t');
    if (rc == TW_OK)
        rc = json_is_string(desc) ? zeek_meta(b, json_string_value(desc), json_string_length(desc))
                                  : tw_buf_putc(b, '-');
    if (rc == TW_OK)
        rc = tw_buf_putc(b, '\t');
    if (rc == TW_OK)
        rc = url != NULL ? zeek_meta(b, json_string_value(url), json_string_length(url))
                         : tw_buf_putc(b, '-');
    if (rc == TW_OK)
        rc = tw_buf_putc(b, '\n');
    if (rc != TW_OK) {
        b->len = before;
        if (b->ptr != NULL)
            b->ptr[before] = '\0';
        return rc;
    }
    *out = WROTE;
    return TW_OK;
}

int tw_export_zeek(
        const json_t *objects, struct tw_buf *out, struct tw_export_result *res, struct tw_err *err)
{
    int rc = tw_buf_puts(out, ZEEK_HEADER);

    if (rc != TW_OK)
        return TW_E_HERE(err, rc, TW_NOPOS, "%s", tw_strerror(rc));
    return walk(objects, zeek_emit, out, res, err);
}

/* ==== Suricata ==== */

static const struct suri_set {
    const char *set_name;
    const char *file_name;
    const char *type;
    const char *rule;
} suri_sets[TW_SURI__COUNT] = {
    [TW_SURI_IP] = { "tw-ip", "tw-ip.lst", "ip",
            "ip.dst; dataset:isset,tw-ip,type ip,load tw-ip.lst;" },
    [TW_SURI_DOMAIN] = { "tw-domains", "tw-domains.lst", "string",
            "dns.query; dataset:isset,tw-domains,type string,load tw-domains.lst;" },
    [TW_SURI_JA3] = { "tw-ja3", "tw-ja3.lst", "string",
            "ja3.hash; dataset:isset,tw-ja3,type string,load tw-ja3.lst;" },
    [TW_SURI_JA4] = { "tw-ja4", "tw-ja4.lst", "string",
            "ja4.hash; dataset:isset,tw-ja4,type string,load tw-ja4.lst;" },
    [TW_SURI_CERT_SHA1] = { "tw-tls-cert-sha1", "tw-tls-cert-sha1.lst", "string",
            "tls.cert_fingerprint; dataset:isset,tw-tls-cert-sha1,type string,load "
            "tw-tls-cert-sha1.lst;" },
    [TW_SURI_MD5] = { "tw-md5", "tw-md5.lst", "md5", "filemd5:tw-md5.lst;" },
    [TW_SURI_SHA256] = { "tw-sha256", "tw-sha256.lst", "sha256", "filesha256:tw-sha256.lst;" },
    [TW_SURI_IPREP] = { "tidewatch", "tw-iprep.list", "iprep", "iprep:any,tidewatch,>,0;" },
};

static const int suri_of_kind[TW_IOC__COUNT] = {
    [TW_IOC_NONE] = -1,
    [TW_IOC_IPV4] = TW_SURI_IP,
    [TW_IOC_IPV6] = TW_SURI_IP,
    [TW_IOC_IPV4_CIDR] = TW_SURI_IPREP,
    [TW_IOC_IPV6_CIDR] = TW_SURI_IPREP,
    [TW_IOC_DOMAIN] = TW_SURI_DOMAIN,
    [TW_IOC_URL] = -1,
    [TW_IOC_EMAIL] = -1,
    [TW_IOC_MD5] = TW_SURI_MD5,
    [TW_IOC_SHA1] = -1,
    [TW_IOC_SHA256] = TW_SURI_SHA256,
    [TW_IOC_SHA512] = -1,
    [TW_IOC_JA3] = TW_SURI_JA3,
    [TW_IOC_JA4] = TW_SURI_JA4,
    [TW_IOC_X509_SHA1] = TW_SURI_CERT_SHA1,
    [TW_IOC_X509_SHA256] = -1,
    [TW_IOC_FILE_NAME] = -1,
    [TW_IOC_USER_NAME] = -1,
    [TW_IOC_SOFTWARE] = -1,
};

static int put_base64(struct tw_buf *b, const uint8_t *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[4];
    int rc;

    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        size_t left = n - i;
        if (left > 1)
            v |= (uint32_t)p[i + 1] << 8;
        if (left > 2)
            v |= p[i + 2];
        q[0] = tab[(v >> 18) & 63];
        q[1] = tab[(v >> 12) & 63];
        q[2] = '=';
        q[3] = '=';
        if (left > 1)
            q[2] = tab[(v >> 6) & 63];
        if (left > 2)
            q[3] = tab[v & 63];
        if ((rc = tw_buf_append(b, q, 4)) != TW_OK)
            return rc;
    }
    return TW_OK;
}

static int suri_emit(void *ctx, enum tw_ioc_kind kind, struct tw_str canon, const json_t *ind,
        const char *id, enum outcome *out)
{
    struct tw_suricata_out *so = ctx;
    struct tw_suricata_file *f;
    size_t before;
    int set = suri_of_kind[kind];
    int rc;

    (void)ind;
    (void)id;
    *out = UNSUPPORTED;
    if (set < 0)
        return TW_OK;
    f = &so->files[set];
    before = f->content.len;
    switch (set) {
        case TW_SURI_IP:
        case TW_SURI_MD5:
        case TW_SURI_SHA256:
            rc = tw_buf_append(&f->content, canon.ptr, canon.len);
            break;
        case TW_SURI_IPREP:
            rc = tw_buf_append(&f->content, canon.ptr, canon.len);
            if (rc == TW_OK)
                rc = tw_buf_puts(&f->content, ",1,127");
            break;
        case TW_SURI_CERT_SHA1: {
            /* Suricata prints certificate fingerprints as aa:bb:...; 40 hex digits. */
            char fp[60];
            size_t k = 0;
            for (size_t i = 0; i + 1 < canon.len && k + 3 <= sizeof(fp); i += 2) {
                if (k > 0)
                    fp[k++] = ':';
                fp[k++] = canon.ptr[i];
                fp[k++] = canon.ptr[i + 1];
            }
            rc = put_base64(&f->content, (const uint8_t *)fp, k);
            break;
        }
        default:
            rc = put_base64(&f->content, (const uint8_t *)canon.ptr, canon.len);
            break;
    }
    if (rc == TW_OK)
        rc = tw_buf_putc(&f->content, '\n');
    if (rc != TW_OK) {
        f->content.len = before;
        if (f->content.ptr != NULL)
            f->content.ptr[before] = '\0';
        return rc;
    }
    f->n_lines++;
    *out = WROTE;
    return TW_OK;
}

void tw_suricata_out_init(struct tw_suricata_out *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < TW_SURI__COUNT; i++) {
        out->files[i].set_name = suri_sets[i].set_name;
        out->files[i].file_name = suri_sets[i].file_name;
        out->files[i].type = suri_sets[i].type;
        out->files[i].rule = suri_sets[i].rule;
        tw_buf_init(&out->files[i].content, TW_CONVERT_MAX_OUTPUT);
    }
    tw_buf_init(&out->iprep_categories, 256);
}

void tw_suricata_out_cleanup(struct tw_suricata_out *out)
{
    if (out == NULL)
        return;
    for (size_t i = 0; i < TW_SURI__COUNT; i++)
        tw_buf_cleanup(&out->files[i].content);
    tw_buf_cleanup(&out->iprep_categories);
}

int tw_export_suricata(const json_t *objects, struct tw_suricata_out *out,
        struct tw_export_result *res, struct tw_err *err)
{
    int rc;

    if (out->iprep_categories.len == 0) {
        rc = tw_buf_puts(&out->iprep_categories, "1,tidewatch,tidewatch indicators\n");
        if (rc != TW_OK)
            return TW_E_HERE(err, rc, TW_NOPOS, "%s", tw_strerror(rc));
    }
    return walk(objects, suri_emit, out, res, err);
}
