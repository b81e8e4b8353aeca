/*
 * index.c: the indicator index (see include/tidewatch/index.h and
 * docs/internals/INDEX.md).
 *
 * Adding an indicator parses its pattern, asks the pattern module for its
 * atoms, classifies each atom into a kind and normalises its value. Only when
 * every atom is usable is anything committed, so a bad indicator leaves no
 * trace. Addresses go straight into the CIDR set and domains into the domain
 * set (both keep several values per key); the other kinds are collected as
 * (kind, key, indicator) triples and frozen by tw_index_build into one sorted
 * postings array addressed by an open-addressing hash table.
 */
#include "tidewatch/index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/buf.h"
#include "tidewatch/domain.h"
#include "tidewatch/hash.h"
#include "tidewatch/ipset.h"
#include "tidewatch/time.h"
#include "tidewatch/url.h"

/* One atom of the indicator being added, normalised and classified. */
struct staged {
    enum tw_index_kind kind;
    struct tw_ip net; /* TW_INDEX_ADDR */
    unsigned plen;
    uint32_t key_off; /* other kinds: offset in the staging buffer */
    uint32_t key_len;
    bool suffix; /* TW_INDEX_DOMAIN: this domain and every subdomain */
};

/* State shared with the atom callback while one indicator is added. */
struct add_ctx {
    struct tw_index *idx;
    struct staged *atoms;
    size_t n, cap;
    struct tw_buf scratch; /* normalised keys of this indicator */
    bool exact;
    bool unusable; /* an atom the index cannot hold */
    struct tw_err *err;
    int rc;
};

#define TW_INDEX_MAX_ATOMS_PER_INDICATOR 65536u

static const char *const kind_names[TW_INDEX_KIND_COUNT] = {
    "address",
    "domain",
    "url",
    "email",
    "file-hash",
    "cert-hash",
    "ja3",
    "ja4",
    "port",
};

/* Declarative map from (SCO type, path) to index kind (style: tables, not code). */
struct atom_rule {
    const char *type;
    const char *path; /* exact path, or a prefix ending in '.' for hashes */
    enum tw_index_kind kind;
    bool keeps_exact; /* false when the path adds a condition the index ignores */
};

static const struct atom_rule atom_rules[] = {
    { "ipv4-addr", "value", TW_INDEX_ADDR, true },
    { "ipv6-addr", "value", TW_INDEX_ADDR, true },
    { "network-traffic", "src_ref.value", TW_INDEX_ADDR, false },
    { "network-traffic", "dst_ref.value", TW_INDEX_ADDR, false },
    { "domain-name", "value", TW_INDEX_DOMAIN, true },
    { "url", "value", TW_INDEX_URL, true },
    { "email-addr", "value", TW_INDEX_EMAIL, true },
    { "file", "hashes.", TW_INDEX_FILE_HASH, true },
    { "artifact", "hashes.", TW_INDEX_FILE_HASH, true },
    { "x509-certificate", "hashes.", TW_INDEX_CERT_HASH, true },
    { "network-traffic", "x_ja3", TW_INDEX_JA3, true },
    { "network-traffic", "x_ja4", TW_INDEX_JA4, true },
    { "network-traffic", "src_port", TW_INDEX_PORT, true },
    { "network-traffic", "dst_port", TW_INDEX_PORT, true },
};

/* ==== Helpers ==== */

int tw__index_grow(void **arr, size_t *cap, size_t need, size_t elem, size_t max)
{
    size_t ncap;
    void *p;

    if (need <= *cap)
        return TW_OK;
    if (need > max)
        return TW_ELIMIT;
    ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    if (ncap > max)
        ncap = max;
    p = tw_reallocarray(*arr, ncap, elem);
    if (p == NULL)
        return TW_ENOMEM;
    *arr = p;
    *cap = ncap;
    return TW_OK;
}

/* Gives back the unused tail of a grown array (growth doubles). Best effort. */
static void shrink_to_fit(void **arr, size_t *cap, size_t n, size_t elem)
{
    void *p;

    if (*arr == NULL || n == 0 || n == *cap)
        return;
    p = tw_reallocarray(*arr, n, elem);
    if (p != NULL) {
        *arr = p;
        *cap = n;
    }
}

static uint32_t clamp_time(int64_t sec)
{
    if (sec < 0)
        return 0;
    if (sec >= (int64_t)UINT32_MAX)
        return UINT32_MAX - 1;
    return (uint32_t)sec;
}

/*
 * Alert severity from the indicator's types (STIX indicator-type-ov), on
 * Suricata's scale: 1 for compromise and malicious activity, 2 for
 * anomalous or attribution, 3 otherwise (benign, unknown, none given).
 */
static uint8_t severity_of(const json_t *types)
{
    uint8_t sev = 3;
    size_t i;
    const json_t *t;

    json_array_foreach(types, i, t)
    {
        const char *s = json_string_value(t);
        if (s == NULL)
            continue;
        if (strcmp(s, "malicious-activity") == 0 || strcmp(s, "compromised") == 0)
            sev = 1;
        else if (sev > 2 && (strcmp(s, "anomalous-activity") == 0 || strcmp(s, "attribution") == 0))
            sev = 2;
    }
    return sev;
}

/* Removes repeated numbers from out[0..n) in place (order kept); returns the new count. */
static size_t dedupe(uint32_t *out, size_t n)
{
    size_t w = 0;

    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < w && !seen; j++)
            seen = out[j] == out[i];
        if (!seen)
            out[w++] = out[i];
    }
    return w;
}

int tw_index_kind_of_atom(const struct tw_pattern_atom *atom, bool *keeps_exact)
{
    for (size_t i = 0; i < TW_ARRAY_LEN(atom_rules); i++) {
        const struct atom_rule *r = &atom_rules[i];
        struct tw_str rp = tw_str_cstr(r->path);
        bool path_ok;

        if (!tw_str_eq_cstr(atom->type, r->type))
            continue;
        if (rp.len > 0 && rp.ptr[rp.len - 1] == '.')
            path_ok = tw_str_starts_with(atom->path, rp) && atom->path.len > rp.len;
        else
            path_ok = tw_str_eq(atom->path, rp);
        if (!path_ok)
            continue;
        if ((atom->op == TW_ATOM_SUBSET && r->kind != TW_INDEX_ADDR) ||
                (atom->op == TW_ATOM_SUFFIX && r->kind != TW_INDEX_DOMAIN))
            return -1;
        *keeps_exact = r->keeps_exact;
        return (int)r->kind;
    }
    return -1;
}

/* Appends the lower-cased value to the staging buffer. */
static int stage_lower(struct add_ctx *c, struct tw_str v)
{
    int rc = tw_buf_reserve(&c->scratch, v.len);

    if (rc != TW_OK)
        return rc;
    for (size_t i = 0; i < v.len; i++)
        c->scratch.ptr[c->scratch.len + i] = tw_ascii_lower(v.ptr[i]);
    c->scratch.len += v.len;
    c->scratch.ptr[c->scratch.len] = '\0';
    return TW_OK;
}

/* Normalises one atom's value into c->atoms[c->n]; returns TW_OK or an error code. */
static int stage_atom(
        struct add_ctx *c, const struct tw_pattern_atom *atom, enum tw_index_kind kind)
{
    struct staged *s;
    size_t start = c->scratch.len;
    int rc;

    rc = tw__index_grow((void **)&c->atoms, &c->cap, c->n + 1, sizeof(*c->atoms),
            TW_INDEX_MAX_ATOMS_PER_INDICATOR);
    if (rc != TW_OK)
        return tw_err_set(c->err, rc, TW_NOPOS, "indicator has too many values to index");
    s = &c->atoms[c->n];
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->suffix = atom->op == TW_ATOM_SUFFIX;
    switch (kind) {
        case TW_INDEX_ADDR:
            /* An '=' with a CIDR value is read as the range it names. */
            rc = tw_cidr_parse(atom->value, &s->net, &s->plen, c->err);
            if (rc != TW_OK)
                return rc;
            if ((tw_str_eq_cstr(atom->type, "ipv4-addr") && s->net.family != 4) ||
                    (tw_str_eq_cstr(atom->type, "ipv6-addr") && s->net.family != 6))
                return tw_err_set(c->err, TW_EINVAL, TW_NOPOS,
                        "address '%.*s' does not belong to %.*s", (int)TW_MIN(atom->value.len, 64),
                        atom->value.ptr, (int)atom->type.len, atom->type.ptr);
            c->n++;
            return TW_OK;
        case TW_INDEX_DOMAIN: {
            char name[256];
            size_t nlen;

            rc = tw_domain_normalize(atom->value, name, sizeof(name), &nlen, c->err);
            if (rc == TW_OK)
                rc = tw_buf_append(&c->scratch, name, nlen);
            break;
        }
        case TW_INDEX_URL:
            rc = tw_url_normalize(atom->value, &c->scratch, c->err);
            break;
        case TW_INDEX_PORT: {
            uint64_t port;

            if (tw_parse_u64(atom->value, 65535, &port) != TW_OK)
                return tw_err_set(c->err, TW_EINVAL, TW_NOPOS, "port '%.*s' is not 0..65535",
                        (int)TW_MIN(atom->value.len, 32), atom->value.ptr);
            rc = tw_buf_printf(&c->scratch, "%c%u",
                    tw_str_starts_with(atom->path, TW_STR("dst")) ? 'd' : 's', (unsigned)port);
            break;
        }
        default:
            if (atom->value.len == 0)
                return tw_err_set(c->err, TW_EINVAL, TW_NOPOS, "empty %s value", kind_names[kind]);
            rc = stage_lower(c, atom->value);
            break;
    }
    if (rc != TW_OK)
        return rc;
    if (c->scratch.len - start > TW__INDEX_MAX_KEY)
        return tw_err_set(c->err, TW_ELIMIT, TW_NOPOS, "%s value too long", kind_names[kind]);
    s->key_off = (uint32_t)start;
    s->key_len = (uint32_t)(c->scratch.len - start);
    c->n++;
    return TW_OK;
}

/* The index can hold an atom when its (type, path) has a row in atom_rules. */
static bool accept_atom(const struct tw_pattern_atom *atom, void *arg)
{
    bool keeps_exact;

    (void)arg;
    return tw_index_kind_of_atom(atom, &keeps_exact) >= 0;
}

static int on_atom(const struct tw_pattern_atom *atom, void *arg)
{
    struct add_ctx *c = arg;
    bool keeps_exact = true;
    int kind = tw_index_kind_of_atom(atom, &keeps_exact);

    if (kind < 0) {
        /* Cannot happen with accept_atom; treated as "verify everywhere". */
        c->unusable = true;
        return TW_OK;
    }
    if (!keeps_exact)
        c->exact = false;
    c->rc = stage_atom(c, atom, (enum tw_index_kind)kind);
    return c->rc;
}

static int read_time(const json_t *obj, const char *key, int64_t *out)
{
    const json_t *v = json_object_get(obj, key);
    struct tw_time t;

    if (v == NULL)
        return TW_ENOTFOUND;
    if (!json_is_string(v) ||
            tw_time_parse(tw_str_make(json_string_value(v), json_string_length(v)), 0, &t, NULL) !=
                    TW_OK)
        return TW_EINVAL;
    *out = t.sec;
    return TW_OK;
}

int tw__index_commit_atom(struct tw_index *idx, enum tw_index_kind kind, const struct tw_ip *net,
        unsigned plen, bool suffix, struct tw_str key, uint32_t n)
{
    int rc;

    switch (kind) {
        case TW_INDEX_ADDR:
            rc = tw_ipset_add(idx->ips, net, plen, n);
            break;
        case TW_INDEX_DOMAIN:
            rc = tw_domainset_add(
                    idx->domains, key, suffix ? TW_DOMAIN_SUFFIX : TW_DOMAIN_EXACT, n);
            break;
        default: {
            size_t off = idx->keys.len;

            rc = tw__index_grow((void **)&idx->pend, &idx->cap_pend, idx->n_pend + 1,
                    sizeof(*idx->pend), TW_INDEX_MAX_ATOMS);
            if (rc == TW_OK)
                rc = tw_buf_append(&idx->keys, key.ptr, key.len);
            if (rc == TW_OK) {
                struct pending *p = &idx->pend[idx->n_pend++];
                p->key_off = (uint32_t)off;
                p->key_len = (uint32_t)key.len;
                p->ind = n;
                p->kind = (uint8_t)kind;
            }
            break;
        }
    }
    if (rc != TW_OK)
        return rc;
    idx->kind_counts[kind]++;
    idx->n_atoms++;
    return idx->keep_source ? tw__index_note_atom(idx, kind, net, plen, suffix, key, n) : TW_OK;
}

/* ==== Public API ==== */

struct tw_index *tw_index_new(size_t max_indicators)
{
    struct tw_index *idx = tw_calloc(1, sizeof(*idx));

    if (idx == NULL)
        return NULL;
    idx->max_indicators = TW_MIN(max_indicators, (size_t)TW_INDEX_MAX_INDICATORS);
    tw_buf_init(&idx->names, (size_t)1 << 31);
    tw_buf_init(&idx->keys, (size_t)UINT32_MAX - 1);
    tw_buf_init(&idx->src_atoms, (size_t)UINT32_MAX - 1);
    tw_buf_init(&idx->src_patterns, (size_t)UINT32_MAX - 1);
    idx->ips = tw_ipset_new(TW_INDEX_MAX_ATOMS);
    idx->domains = tw_domainset_new(TW_INDEX_MAX_ATOMS);
    if (idx->ips == NULL || idx->domains == NULL || tw_buf_putc(&idx->names, '\0') != TW_OK) {
        tw_index_free(idx);
        return NULL;
    }
    return idx;
}

void tw_index_free(struct tw_index *idx)
{
    if (idx == NULL)
        return;
    for (size_t i = 0; i < idx->n_patterns; i++)
        tw_pattern_free(idx->patterns[i].pattern);
    tw_free(idx->patterns);
    tw_free(idx->inds);
    tw_free(idx->unindexed);
    tw_buf_cleanup(&idx->names);
    tw_buf_cleanup(&idx->keys);
    tw_buf_cleanup(&idx->src_atoms);
    tw_buf_cleanup(&idx->src_patterns);
    tw_free(idx->pend);
    tw_free(idx->skeys);
    tw_free(idx->slots);
    tw_free(idx->postings);
    tw_ipset_free(idx->ips);
    tw_domainset_free(idx->domains);
    tw_free(idx);
}

int tw_index_add(struct tw_index *idx, const json_t *indicator, uint8_t tlp, struct tw_err *err)
{
    const json_t *jid = json_object_get(indicator, "id");
    const json_t *jpat = json_object_get(indicator, "pattern");
    const json_t *jtype = json_object_get(indicator, "pattern_type");
    const json_t *jname = json_object_get(indicator, "name");
    struct tw_indicator ind;
    struct tw_pattern *pat = NULL;
    struct add_ctx c;
    int64_t t;
    uint32_t n;
    bool pattern_exact = false;
    int rc;

    if (idx->built || idx->broken)
        return tw_err_set(err, TW_EINVAL, TW_NOPOS,
                idx->broken ? "index unusable after an earlier failure" : "index already built");
    if (!json_is_object(indicator) ||
            !tw_str_eq_cstr(tw_str_cstr(json_string_value(json_object_get(indicator, "type"))),
                    "indicator"))
        return tw_err_set(err, TW_EINVAL, TW_NOPOS, "not an indicator object");
    memset(&ind, 0, sizeof(ind));
    if (!json_is_string(jid) || json_string_length(jid) != 11 + 36 ||
            strncmp(json_string_value(jid), "indicator--", 11) != 0 ||
            !tw_uuid_parse(tw_str_make(json_string_value(jid) + 11, 36), ind.uuid))
        return tw_err_set(err, TW_EINVAL, TW_NOPOS, "indicator has no valid id");
    if (jtype != NULL && !tw_str_eq_cstr(tw_str_cstr(json_string_value(jtype)), "stix"))
        return tw_err_set(err, TW_EINVAL, TW_NOPOS, "pattern_type '%s' is not indexed",
                json_is_string(jtype) ? json_string_value(jtype) : "?");
    if (!json_is_string(jpat))
        return tw_err_set(err, TW_EINVAL, TW_NOPOS, "indicator has no pattern");
    if (idx->n_inds >= idx->max_indicators)
        return tw_err_set(
                err, TW_ELIMIT, TW_NOPOS, "index full (%zu indicators)", idx->max_indicators);

    rc = tw_pattern_parse(
            tw_str_make(json_string_value(jpat), json_string_length(jpat)), &pat, err);
    if (rc != TW_OK)
        return rc;

    /* 1. Stage every atom; nothing is committed until all are good. */
    memset(&c, 0, sizeof(c));
    c.idx = idx;
    c.err = err;
    c.exact = true;
    tw_buf_init(&c.scratch, (size_t)TW_INDEX_MAX_ATOMS_PER_INDICATOR * 64);
    rc = tw_pattern_atoms_filtered(pat, accept_atom, NULL, on_atom, &c, &pattern_exact);
    if (rc == TW_ENOTFOUND || (rc == TW_OK && c.unusable)) {
        c.n = 0;
        c.unusable = true;
        rc = TW_OK;
    }
    if (rc != TW_OK)
        goto out;
    if (idx->n_atoms + c.n > TW_INDEX_MAX_ATOMS) {
        rc = tw_err_set(err, TW_ELIMIT, TW_NOPOS, "index full (%zu values)", TW_INDEX_MAX_ATOMS);
        goto out;
    }

    /* 2. The indicator's row. */
    n = (uint32_t)idx->n_inds;
    ind.valid_from = read_time(indicator, "valid_from", &t) == TW_OK ? clamp_time(t) : 0;
    ind.valid_until = read_time(indicator, "valid_until", &t) == TW_OK ? clamp_time(t) : UINT32_MAX;
    ind.tlp = tlp;
    ind.severity = severity_of(json_object_get(indicator, "indicator_types"));
    if (json_is_true(json_object_get(indicator, "revoked")))
        ind.flags |= TW_IND_REVOKED;
    if (c.unusable)
        ind.flags |= TW_IND_UNINDEXED;
    else if (pattern_exact && c.exact)
        ind.flags |= TW_IND_EXACT;
    if ((rc = tw__index_grow((void **)&idx->inds, &idx->cap_inds, n + 1, sizeof(*idx->inds),
                 idx->max_indicators)) != TW_OK)
        goto out;
    if (!(ind.flags & TW_IND_EXACT)) {
        if ((rc = tw__index_grow((void **)&idx->patterns, &idx->cap_patterns, idx->n_patterns + 1,
                     sizeof(*idx->patterns), idx->max_indicators)) != TW_OK)
            goto out;
    }
    if (c.unusable &&
            (rc = tw__index_grow((void **)&idx->unindexed, &idx->cap_unindexed,
                     idx->n_unindexed + 1, sizeof(*idx->unindexed), idx->max_indicators)) != TW_OK)
        goto out;
    if (json_is_string(jname) && json_string_length(jname) > 0) {
        size_t off = idx->names.len;
        if ((rc = tw_buf_append(&idx->names, json_string_value(jname),
                     strnlen(json_string_value(jname), 1024))) != TW_OK ||
                (rc = tw_buf_putc(&idx->names, '\0')) != TW_OK)
            goto out;
        ind.name_off = (uint32_t)off;
    }

    /* 3. The atoms. Their values were checked in step 1, so only running out
     *    of memory can fail here; that leaves entries for an indicator number
     *    that is never committed, so the index refuses all further use. */
    for (size_t i = 0; i < c.n && rc == TW_OK; i++) {
        const struct staged *a = &c.atoms[i];

        /* An address atom has no key text, and the scratch buffer may be empty. */
        const char *key = c.scratch.ptr != NULL ? c.scratch.ptr + a->key_off : "";

        rc = tw__index_commit_atom(
                idx, a->kind, &a->net, a->plen, a->suffix, tw_str_make(key, a->key_len), n);
    }
    if (rc == TW_OK && !(ind.flags & TW_IND_EXACT))
        rc = tw__index_note_pattern(
                idx, n, tw_str_make(json_string_value(jpat), json_string_length(jpat)));
    if (rc != TW_OK) {
        idx->broken = true;
        (void)tw_err_set(err, rc, TW_NOPOS, "cannot index value: %s", tw_strerror(rc));
        goto out;
    }
    if (!(ind.flags & TW_IND_EXACT)) {
        idx->patterns[idx->n_patterns].ind = n;
        idx->patterns[idx->n_patterns++].pattern = pat;
        pat = NULL; /* the index owns it now */
    }
    if (c.unusable)
        idx->unindexed[idx->n_unindexed++] = n;
    idx->inds[idx->n_inds++] = ind;
    rc = TW_OK;
out:
    tw_free(c.atoms);
    tw_buf_cleanup(&c.scratch);
    tw_pattern_free(pat);
    return rc;
}

/* qsort has no context argument in C11; per thread, as indexes may be built
 * on several threads at once. */
static _Thread_local const struct tw_index *sort_ctx;

static int cmp_pending(const void *a, const void *b)
{
    const struct pending *x = a, *y = b;
    size_t n = TW_MIN(x->key_len, y->key_len);
    int c;

    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    c = memcmp(sort_ctx->keys.ptr + x->key_off, sort_ctx->keys.ptr + y->key_off, n);
    if (c != 0)
        return c;
    if (x->key_len != y->key_len)
        return x->key_len < y->key_len ? -1 : 1;
    return x->ind < y->ind ? -1 : x->ind > y->ind;
}

static uint64_t key_hash(enum tw_index_kind kind, const char *p, size_t n)
{
    return tw_hash64(p, n, 0x7469646577617463ull + (uint64_t)kind);
}

int tw_index_build(struct tw_index *idx)
{
    size_t nk = 0;

    if (idx->broken)
        return TW_EINVAL;
    if (idx->built)
        return TW_OK;
    if (tw_ipset_build(idx->ips) != TW_OK)
        return TW_ENOMEM;
    if (idx->n_pend > 0) {
        sort_ctx = idx;
        qsort(idx->pend, idx->n_pend, sizeof(*idx->pend), cmp_pending);
        sort_ctx = NULL;
        idx->postings = tw_calloc(idx->n_pend, sizeof(*idx->postings));
        idx->skeys = tw_calloc(idx->n_pend, sizeof(*idx->skeys));
        if (idx->postings == NULL || idx->skeys == NULL)
            return TW_ENOMEM;
        for (size_t i = 0; i < idx->n_pend; i++) {
            const struct pending *p = &idx->pend[i];
            struct skey *k = nk ? &idx->skeys[nk - 1] : NULL;
            bool same =
                    k != NULL && k->kind == p->kind && k->key_len == p->key_len &&
                    memcmp(idx->keys.ptr + k->key_off, idx->keys.ptr + p->key_off, p->key_len) == 0;
            if (!same) {
                k = &idx->skeys[nk++];
                k->kind = p->kind;
                k->key_off = p->key_off;
                k->key_len = p->key_len;
                k->post_start = (uint32_t)idx->n_postings;
                k->post_count = 0;
            } else if (idx->postings[idx->n_postings - 1] == p->ind) {
                continue; /* the same indicator named the value twice */
            }
            idx->postings[idx->n_postings++] = p->ind;
            k->post_count++;
        }
        idx->n_skeys = nk;
        if (nk < idx->n_pend) {
            struct skey *shrunk = tw_reallocarray(idx->skeys, nk ? nk : 1, sizeof(*shrunk));
            if (shrunk != NULL)
                idx->skeys = shrunk;
        }
        idx->n_slots = 16;
        while (idx->n_slots < nk * 2)
            idx->n_slots *= 2;
        idx->slots = tw_calloc(idx->n_slots, sizeof(*idx->slots));
        if (idx->slots == NULL)
            return TW_ENOMEM;
        for (size_t i = 0; i < nk; i++) {
            const struct skey *k = &idx->skeys[i];
            size_t h = (size_t)key_hash(k->kind, idx->keys.ptr + k->key_off, k->key_len) &
                       (idx->n_slots - 1);
            while (idx->slots[h] != 0)
                h = (h + 1) & (idx->n_slots - 1);
            idx->slots[h] = (uint32_t)i + 1;
        }
        tw_free(idx->pend);
        idx->pend = NULL;
        idx->n_pend = idx->cap_pend = 0;
    }
    shrink_to_fit((void **)&idx->inds, &idx->cap_inds, idx->n_inds, sizeof(*idx->inds));
    shrink_to_fit(
            (void **)&idx->patterns, &idx->cap_patterns, idx->n_patterns, sizeof(*idx->patterns));
    shrink_to_fit((void **)&idx->unindexed, &idx->cap_unindexed, idx->n_unindexed,
            sizeof(*idx->unindexed));
    idx->built = true;
    return TW_OK;
}

/* Drops numbers of indicators that were never committed (see tw_index_add). */
static size_t keep_committed(const struct tw_index *idx, uint32_t *out, size_t n)
{
    size_t w = 0;

    for (size_t i = 0; i < n; i++)
        if (out[i] < idx->n_inds)
            out[w++] = out[i];
    return w;
}

/* Finishes a lookup that wrote min(total, max) numbers: dedupe what was written. */
static size_t finish(const struct tw_index *idx, uint32_t *out, size_t total, size_t max)
{
    size_t written = TW_MIN(total, max), kept;

    if (written == 0)
        return total;
    kept = dedupe(out, keep_committed(idx, out, written));
    return total - written + kept;
}

size_t tw_index_lookup_ipv4(const struct tw_index *idx, uint32_t addr, uint32_t *out, size_t max)
{
    size_t n = tw_ipset_lookup_v4(idx->ips, addr, out, max);

    if (TW_LIKELY(n == 0))
        return 0;
    return finish(idx, out, n, max);
}

size_t tw_index_lookup_ip(
        const struct tw_index *idx, const struct tw_ip *ip, uint32_t *out, size_t max)
{
    size_t n = tw_ipset_lookup(idx->ips, ip, out, max);

    return n ? finish(idx, out, n, max) : 0;
}

size_t tw_index_lookup_domain(
        const struct tw_index *idx, struct tw_str name, uint32_t *out, size_t max)
{
    size_t n = tw_domainset_lookup(idx->domains, name, out, max);

    return n ? finish(idx, out, n, max) : 0;
}

size_t tw_index_lookup_str(const struct tw_index *idx, enum tw_index_kind kind, struct tw_str key,
        uint32_t *out, size_t max)
{
    size_t h;

    if (idx->n_slots == 0)
        return 0;
    h = (size_t)key_hash(kind, key.ptr, key.len) & (idx->n_slots - 1);
    for (uint32_t s; (s = idx->slots[h]) != 0; h = (h + 1) & (idx->n_slots - 1)) {
        const struct skey *k = &idx->skeys[s - 1];
        if (k->kind == kind && k->key_len == key.len &&
                memcmp(idx->keys.ptr + k->key_off, key.ptr, key.len) == 0) {
            size_t cnt = k->post_count;
            memcpy(out, idx->postings + k->post_start, TW_MIN(cnt, max) * sizeof(*out));
            return finish(idx, out, cnt, max);
        }
    }
    return 0;
}

size_t tw_index_lookup_port(
        const struct tw_index *idx, uint16_t port, bool dst, uint32_t *out, size_t max)
{
    char key[8];
    int n = snprintf(key, sizeof(key), "%c%u", dst ? 'd' : 's', (unsigned)port);

    return tw_index_lookup_str(idx, TW_INDEX_PORT, tw_str_make(key, (size_t)n), out, max);
}

static bool all_hex(struct tw_str s)
{
    for (size_t i = 0; i < s.len; i++)
        if (!tw_ascii_isxdigit(s.ptr[i]))
            return false;
    return s.len > 0;
}

long tw_index_lookup_text(const struct tw_index *idx, struct tw_str text, enum tw_index_kind *kind,
        uint32_t *out, size_t max)
{
    struct tw_ip ip;
    struct tw_buf b;
    char lower[256];
    size_t n = 0;

    text = tw_str_trim(text);
    if (tw_ip_parse(text, &ip, NULL) == TW_OK) {
        *kind = TW_INDEX_ADDR;
        return (long)tw_index_lookup_ip(idx, &ip, out, max);
    }
    if (tw_str_find(text, '/') >= 0 || tw_str_find(text, ':') >= 0) {
        long r = -1;
        tw_buf_init(&b, (size_t)TW_URL_MAX_LEN * 2);
        if (tw_url_normalize(text, &b, NULL) == TW_OK) {
            *kind = TW_INDEX_URL;
            r = (long)tw_index_lookup_str(idx, TW_INDEX_URL, tw_str_make(b.ptr, b.len), out, max);
        }
        tw_buf_cleanup(&b);
        return r < 0 ? TW_EINVAL : r;
    }
    if (text.len == 0 || text.len >= sizeof(lower))
        return TW_EINVAL;
    for (size_t i = 0; i < text.len; i++)
        lower[i] = tw_ascii_lower(text.ptr[i]);
    if (tw_str_find(text, '@') >= 0) {
        *kind = TW_INDEX_EMAIL;
        return (long)tw_index_lookup_str(
                idx, TW_INDEX_EMAIL, tw_str_make(lower, text.len), out, max);
    }
    if (all_hex(text) && (text.len == 32 || text.len == 40 || text.len == 64 || text.len == 128)) {
        static const enum tw_index_kind hash_kinds[] = { TW_INDEX_FILE_HASH, TW_INDEX_CERT_HASH,
            TW_INDEX_JA3 };
        *kind = TW_INDEX_FILE_HASH;
        for (size_t k = 0; k < TW_ARRAY_LEN(hash_kinds); k++) {
            size_t got = tw_index_lookup_str(idx, hash_kinds[k], tw_str_make(lower, text.len),
                    out + TW_MIN(n, max), max - TW_MIN(n, max));
            if (got > 0 && n == 0)
                *kind = hash_kinds[k];
            n += got;
        }
        return (long)finish(idx, out, n, max);
    }
    if (tw_str_find(text, '_') >= 0 &&
            tw_index_lookup_str(idx, TW_INDEX_JA4, tw_str_make(lower, text.len), out, max) > 0) {
        *kind = TW_INDEX_JA4;
        return (long)tw_index_lookup_str(idx, TW_INDEX_JA4, tw_str_make(lower, text.len), out, max);
    }
    {
        char name[256];
        size_t nlen;
        if (tw_domain_normalize(text, name, sizeof(name), &nlen, NULL) != TW_OK)
            return TW_EINVAL;
        *kind = TW_INDEX_DOMAIN;
        return (long)tw_index_lookup_domain(idx, tw_str_make(name, nlen), out, max);
    }
}

size_t tw_index_count(const struct tw_index *idx)
{
    return idx->n_inds;
}

size_t tw_index_n_values(const struct tw_index *idx)
{
    return idx->n_atoms;
}

const struct tw_indicator *tw_index_get(const struct tw_index *idx, uint32_t n)
{
    return n < idx->n_inds ? &idx->inds[n] : NULL;
}

void tw_index_id(const struct tw_index *idx, uint32_t n, char *out)
{
    char uuid[TW_UUID_STRLEN];

    tw_uuid_format(idx->inds[n].uuid, uuid);
    (void)snprintf(out, 48, "indicator--%s", uuid);
}

const char *tw_index_name(const struct tw_index *idx, uint32_t n)
{
    return idx->names.ptr + idx->inds[n].name_off;
}

const struct tw_pattern *tw_index_pattern(const struct tw_index *idx, uint32_t n)
{
    size_t lo = 0, hi = idx->n_patterns;

    if (n >= idx->n_inds || (idx->inds[n].flags & TW_IND_EXACT))
        return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (idx->patterns[mid].ind < n)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < idx->n_patterns && idx->patterns[lo].ind == n ? idx->patterns[lo].pattern : NULL;
}

const uint32_t *tw_index_unindexed(const struct tw_index *idx, size_t *n)
{
    *n = idx->n_unindexed;
    return idx->unindexed;
}

enum tw_ind_state tw_index_state(const struct tw_index *idx, uint32_t n, int64_t now)
{
    const struct tw_indicator *ind = &idx->inds[n];

    if (ind->flags & TW_IND_REVOKED)
        return TW_IND_STATE_REVOKED;
    if (now < (int64_t)ind->valid_from)
        return TW_IND_NOT_YET_VALID;
    if (ind->valid_until != UINT32_MAX && now >= (int64_t)ind->valid_until)
        return TW_IND_EXPIRED;
    return TW_IND_ACTIVE;
}

size_t tw_index_kind_count(const struct tw_index *idx, enum tw_index_kind kind)
{
    return kind < TW_INDEX_KIND_COUNT ? idx->kind_counts[kind] : 0;
}

const char *tw_index_kind_name(enum tw_index_kind kind)
{
    return kind < TW_INDEX_KIND_COUNT ? kind_names[kind] : "unknown";
}

size_t tw_index_memory(const struct tw_index *idx)
{
    return sizeof(*idx) + idx->cap_inds * sizeof(*idx->inds) + idx->names.cap +
           idx->cap_patterns * sizeof(*idx->patterns) +
           idx->cap_unindexed * sizeof(*idx->unindexed) + tw_ipset_memory(idx->ips) +
           tw_domainset_memory(idx->domains) + idx->keys.cap + idx->cap_pend * sizeof(*idx->pend) +
           idx->n_skeys * sizeof(*idx->skeys) + idx->n_postings * sizeof(*idx->postings) +
           idx->n_slots * sizeof(*idx->slots);
}
