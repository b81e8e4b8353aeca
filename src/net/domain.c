/*
 * domain.c: domain-name normalisation and a domain set with exact and
 * label-boundary suffix matching.
 *
 * The set stores names once in a byte pool, one 12-byte entry per add, and an
 * open-addressing table of {hash tag, entry index} slots probed linearly.
 * Names are hashed from their last byte towards their first, so one pass over
 * a looked-up name yields the hash of every parent domain at its label
 * boundaries; a lookup of a name with k labels costs k table probes and
 * touches the pool only when a 32-bit hash tag matches. Duplicate names are
 * separate entries further along the same probe run. See
 * docs/internals/DOMAIN.md.
 */
#include "tidewatch/domain.h"

#include <stdbool.h>
#include <string.h>

#include "tidewatch/alloc.h"

/* ==== Types ==== */

/* The table is grown to keep at most 7 slots in 10 in use. */
#define LOAD_NUM 7u
#define LOAD_DEN 10u
#define MIN_BITS 4u
/* A name has at most 127 labels (253 bytes). */
#define MAX_LABELS 128

struct dentry {
    uint32_t off;   /* name in the pool */
    uint32_t value; /* caller's value */
    uint8_t len;    /* name length, 1..253 */
    uint8_t how;    /* enum tw_domain_match */
};

struct dslot {
    uint32_t tag; /* high 32 bits of the name's hash */
    uint32_t idx; /* entry index + 1; 0 = empty */
};

struct tw_domainset {
    size_t max_entries;
    struct dentry *ent; /* entries in add order */
    size_t n_ent, cap_ent;
    char *pool; /* names, back to back, no NULs */
    size_t pool_len, pool_cap;
    struct dslot *table; /* 1 << bits slots, or NULL while empty */
    unsigned bits;
    size_t n_suffix; /* SUFFIX entries; parents are probed only when > 0 */
};

/* ==== Static helpers ==== */

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull

static inline uint64_t hash_step(uint64_t h, char c)
{
    return (h ^ (uint8_t)c) * FNV_PRIME;
}

/* Final mix so that the high bits, which pick the slot, depend on every byte. */
static inline uint32_t hash_tag(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (uint32_t)(h >> 32);
}

/* Hash of p[0..len), read from the last byte to the first. */
static uint32_t hash_name(const char *p, size_t len)
{
    uint64_t h = FNV_OFFSET;

    while (len > 0)
        h = hash_step(h, p[--len]);
    return hash_tag(h);
}

static bool label_char(char c)
{
    return tw_ascii_isalpha(c) || tw_ascii_isdigit(c) || c == '-' || c == '_';
}

/* Places entry idx (0-based) with hash tag `tag` in table t of 1 << bits slots. */
static void table_put(struct dslot *t, unsigned bits, uint32_t tag, uint32_t idx)
{
    size_t mask = ((size_t)1 << bits) - 1;
    size_t at = (size_t)(tag >> (32 - bits));

    while (t[at].idx != 0)
        at = (at + 1) & mask;
    t[at].tag = tag;
    t[at].idx = idx + 1;
}

/* Doubles the table (or creates it), reinserting entries in add order. */
static int table_grow(struct tw_domainset *s, unsigned bits)
{
    struct dslot *t = tw_calloc((size_t)1 << bits, sizeof(struct dslot));

    if (t == NULL)
        return TW_ENOMEM;
    for (size_t i = 0; i < s->n_ent; i++) {
        const struct dentry *e = &s->ent[i];
        table_put(t, bits, hash_name(s->pool + e->off, e->len), (uint32_t)i);
    }
    tw_free(s->table);
    s->table = t;
    s->bits = bits;
    return TW_OK;
}

/*
 * Collects the entries on name p[0..len) with hash tag `tag` whose match kind
 * is in `kinds` (a bit set of tw_domain_match), writing from out[n] on.
 * Returns the new count.
 */
static size_t probe(const struct tw_domainset *s, const char *p, size_t len, uint32_t tag,
        unsigned kinds, uint32_t *out, size_t n, size_t max)
{
    size_t mask = ((size_t)1 << s->bits) - 1;
    size_t at = (size_t)(tag >> (32 - s->bits));
    const struct dslot *t = s->table;

    while (t[at].idx != 0) {
        if (t[at].tag == tag) {
            const struct dentry *e = &s->ent[t[at].idx - 1];
            if (e->len == len && (e->how & kinds) != 0 && memcmp(s->pool + e->off, p, len) == 0) {
                if (n < max)
                    out[n] = e->value;
                n++;
            }
        }
        at = (at + 1) & mask;
    }
    return n;
}

/* ==== Normalisation ==== */

int tw_domain_normalize(
        struct tw_str in, char *out, size_t out_size, size_t *out_len, struct tw_err *err)
{
    size_t len = in.len;
    size_t label_start = 0;

    if (out_size > 0)
        out[0] = '\0';
    if (len > 0 && in.ptr[len - 1] == '.')
        len--;
    if (len == 0)
        return tw_err_set(err, TW_EINVAL, 0, "domain: empty name");
    for (size_t i = 0; i < len; i++) {
        char c = in.ptr[i];

        if ((unsigned char)c >= 0x80)
            return tw_err_set(err, TW_EINVAL, i, "domain: non-ASCII byte (use the xn-- form)");
        if (c == '.') {
            if (i == label_start)
                return tw_err_set(err, TW_EINVAL, i, "domain: empty label");
            label_start = i + 1;
            continue;
        }
        if (!label_char(c))
            return tw_err_set(err, TW_EINVAL, i, "domain: character not allowed in a label");
        if (i - label_start >= TW_DOMAIN_MAX_LABEL)
            return tw_err_set(err, TW_EINVAL, i, "domain: label longer than 63 bytes");
        if (i >= TW_DOMAIN_MAX_LEN)
            return tw_err_set(err, TW_EINVAL, i, "domain: name longer than 253 bytes");
    }
    if (label_start == len)
        return tw_err_set(err, TW_EINVAL, len, "domain: empty label");
    if (out_size < len + 1)
        return tw_err_set(err, TW_ETRUNC, TW_NOPOS, "domain: output buffer too small");
    for (size_t i = 0; i < len; i++)
        out[i] = tw_ascii_lower(in.ptr[i]);
    out[len] = '\0';
    if (out_len != NULL)
        *out_len = len;
    return TW_OK;
}

unsigned tw_domain_warnings(struct tw_str normalized)
{
    struct tw_str n = normalized;
    unsigned w = 0;
    size_t label_start = 0;
    bool digits_only = true;

    if (n.len == 0)
        return 0;
    if (memchr(n.ptr, '.', n.len) == NULL)
        w |= TW_DOMAIN_WARN_SINGLE_LABEL;
    for (size_t i = 0; i <= n.len; i++) {
        if (i == n.len || n.ptr[i] == '.') {
            if (i > label_start && (n.ptr[label_start] == '-' || n.ptr[i - 1] == '-'))
                w |= TW_DOMAIN_WARN_HYPHEN;
            if (i == n.len && i > label_start && digits_only)
                w |= TW_DOMAIN_WARN_NUMERIC_TLD;
            label_start = i + 1;
            digits_only = true;
            continue;
        }
        if (n.ptr[i] == '_')
            w |= TW_DOMAIN_WARN_UNDERSCORE;
        if (!tw_ascii_isdigit(n.ptr[i]))
            digits_only = false;
    }
    return w;
}

/* ==== Domain set ==== */

struct tw_domainset *tw_domainset_new(size_t max_entries)
{
    struct tw_domainset *s = tw_calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->max_entries =
            max_entries > TW_DOMAINSET_MAX_ENTRIES ? TW_DOMAINSET_MAX_ENTRIES : max_entries;
    return s;
}

void tw_domainset_free(struct tw_domainset *s)
{
    if (s == NULL)
        return;
    tw_free(s->ent);
    tw_free(s->pool);
    tw_free(s->table);
    tw_free(s);
}

int tw_domainset_add(struct tw_domainset *s, struct tw_str normalized_domain,
        enum tw_domain_match how, uint32_t value)
{
    struct tw_str name = normalized_domain;
    char norm[TW_DOMAIN_MAX_LEN + 1];
    size_t norm_len = 0;
    struct dentry *e;

    if (s == NULL || (how != TW_DOMAIN_EXACT && how != TW_DOMAIN_SUFFIX))
        return TW_EINVAL;
    if (name.len > TW_DOMAIN_MAX_LEN ||
            tw_domain_normalize(name, norm, sizeof(norm), &norm_len, NULL) != TW_OK ||
            norm_len != name.len || memcmp(norm, name.ptr, name.len) != 0)
        return TW_EINVAL;
    if (s->n_ent >= s->max_entries)
        return TW_ELIMIT;

    /* Reserve everything first so that a failure leaves the set unchanged. */
    if (s->n_ent == s->cap_ent) {
        size_t cap = s->cap_ent ? s->cap_ent * 2 : 16;
        struct dentry *p;
        if (cap > s->max_entries)
            cap = s->max_entries;
        p = tw_reallocarray(s->ent, cap, sizeof(*p));
        if (p == NULL)
            return TW_ENOMEM;
        s->ent = p;
        s->cap_ent = cap;
    }
    if (s->pool_len + name.len > s->pool_cap) {
        size_t cap = s->pool_cap ? s->pool_cap * 2 : 256;
        char *p;
        while (cap < s->pool_len + name.len)
            cap *= 2;
        if (cap > UINT32_MAX)
            cap = UINT32_MAX;
        if (cap < s->pool_len + name.len)
            return TW_ELIMIT;
        p = tw_realloc(s->pool, cap);
        if (p == NULL)
            return TW_ENOMEM;
        s->pool = p;
        s->pool_cap = cap;
    }
    if (s->table == NULL || ((size_t)1 << s->bits) * LOAD_NUM / LOAD_DEN < s->n_ent + 1) {
        unsigned bits = s->table == NULL ? MIN_BITS : s->bits + 1;
        int rc = table_grow(s, bits);
        if (rc != TW_OK)
            return rc;
    }

    e = &s->ent[s->n_ent];
    e->off = (uint32_t)s->pool_len;
    e->value = value;
    e->len = (uint8_t)name.len;
    e->how = (uint8_t)how;
    memcpy(s->pool + s->pool_len, name.ptr, name.len);
    s->pool_len += name.len;
    table_put(s->table, s->bits, hash_name(name.ptr, name.len), (uint32_t)s->n_ent);
    s->n_ent++;
    if (how == TW_DOMAIN_SUFFIX)
        s->n_suffix++;
    return TW_OK;
}

size_t tw_domainset_lookup(const struct tw_domainset *s, struct tw_str normalized_name,
        uint32_t *values, size_t max_values)
{
    struct tw_str name = normalized_name;
    size_t starts[MAX_LABELS];
    uint32_t tags[MAX_LABELS];
    size_t n_lab = 0, n = 0;
    uint64_t h = FNV_OFFSET;

    if (s == NULL || s->table == NULL || name.len == 0 || name.len > TW_DOMAIN_MAX_LEN)
        return 0;
    if (s->n_suffix == 0) {
        return probe(s, name.ptr, name.len, hash_name(name.ptr, name.len), TW_DOMAIN_EXACT, values,
                0, max_values);
    }
    /* One pass from the end: the hash of each parent domain at its label start. */
    for (size_t i = name.len; i > 0; i--) {
        h = hash_step(h, name.ptr[i - 1]);
        if (i == 1 || name.ptr[i - 2] == '.') {
            if (n_lab == MAX_LABELS)
                return 0; /* not a normalised name */
            starts[n_lab] = i - 1;
            tags[n_lab] = hash_tag(h);
            n_lab++;
        }
    }
    /* The full name (found last) matches both kinds; parents only SUFFIX. */
    while (n_lab > 0) {
        size_t at;
        unsigned kinds;

        n_lab--;
        at = starts[n_lab];
        kinds = at == 0 ? (TW_DOMAIN_EXACT | TW_DOMAIN_SUFFIX) : TW_DOMAIN_SUFFIX;
        n = probe(s, name.ptr + at, name.len - at, tags[n_lab], kinds, values, n, max_values);
    }
    return n;
}

size_t tw_domainset_count(const struct tw_domainset *s)
{
    return s ? s->n_ent : 0;
}

size_t tw_domainset_memory(const struct tw_domainset *s)
{
    size_t m;

    if (s == NULL)
        return 0;
    m = sizeof(*s) + s->cap_ent * sizeof(struct dentry) + s->pool_cap;
    if (s->table != NULL)
        m += ((size_t)1 << s->bits) * sizeof(struct dslot);
    return m;
}
