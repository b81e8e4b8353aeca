/*
 * ipset.c: IPv4/IPv6 prefix sets with "every containing prefix" lookup.
 *
 * Adds go to three staging arrays (IPv4 /32, shorter IPv4 prefixes, IPv6).
 * tw_ipset_build turns them into read-only lookup structures:
 *
 *   IPv4 /32      open-addressing table of {address, value} slots, linear
 *                 probing, one slot per add (duplicates sit further along the
 *                 same probe run, in add order), screened by a one-hash bit
 *                 filter when the table is too big for the caches. Address
 *                 0.0.0.0 is the empty-slot key, so its values live apart.
 *   IPv4 < /32    the distinct prefixes form a tree (two prefixes are nested
 *                 or disjoint). The address space is cut into disjoint
 *                 intervals, each naming its most specific prefix; a 2^16
 *                 directory on the top 16 bits narrows the binary search to a
 *                 few intervals. Each prefix links to its parent, so all
 *                 containing prefixes are a short chain walk.
 *   IPv6          one hash table over {masked address, length}, probed for
 *                 each length present from the longest down; the first hit's
 *                 parent chain gives the rest.
 *
 * Values of one prefix are a contiguous posting list. Details, sizes and
 * measurements: docs/internals/IPSET.md.
 */
#include "tidewatch/ipset.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>

#include "tidewatch/alloc.h"
#include "tidewatch/err.h"

/* ==== Types ==== */

#define NONE        UINT32_MAX
#define DIR_BUCKETS 65536u
/* Interval arrays up to this long are searched whole, without the directory. */
#define DIR_MIN_INTERVALS 64u
/* Exact tables are sized so that at most 7 slots in 10 are used. */
#define LOAD_NUM 7u
#define LOAD_DEN 10u
/* Below this many /32 entries the table fits in cache and no filter is built. */
#define FILTER_MIN_ENTRIES 32768u
/* Filter bits per /32 entry (rounded up to a power of two): ~1/16 false positives. */
#define FILTER_BITS_PER_ENTRY 16u

struct stage_exact { /* one IPv4 /32 add */
    uint32_t addr;
    uint32_t value;
};

struct stage_p4 { /* one IPv4 add shorter than /32 */
    uint32_t net;
    uint32_t value;
    uint32_t seq; /* add order, to keep a prefix's values in that order */
    uint8_t len;
};

struct stage_p6 { /* one IPv6 add */
    uint8_t net[16];
    uint32_t value;
    uint32_t seq;
    uint8_t len;
};

struct slot4 { /* exact-table slot; key 0 means empty */
    uint32_t key;
    uint32_t value;
};

struct pfx {          /* one distinct prefix in built form */
    uint32_t parent;  /* enclosing prefix, or NONE */
    uint32_t val_off; /* first value in the posting array; the value itself when val_n == 1 */
    uint32_t val_n;   /* values of this prefix */
    uint32_t chain_n; /* values of this prefix and all its ancestors */
};

struct interval { /* addresses from `start` up to the next interval's start */
    uint32_t start;
    uint32_t pfx; /* most specific prefix holding them, or NONE */
};

struct pfx6 { /* the key of one distinct IPv6 prefix; its links are in a parallel struct pfx */
    uint8_t net[16];
    uint32_t len;
};

/* A growable staging array with its element size. */
struct stage {
    void *ptr;
    size_t n;
    size_t cap;
};

struct tw_ipset {
    size_t max_entries; /* cap on adds */
    size_t n_entries;   /* adds so far */
    uint32_t seq;       /* next add's sequence number */
    bool built;

    struct stage st_exact; /* struct stage_exact */
    struct stage st_p4;    /* struct stage_p4 */
    struct stage st_p6;    /* struct stage_p6 */

    /* IPv4 /32 */
    struct slot4 *exact; /* 1 << exact_bits slots, or NULL */
    unsigned exact_bits;
    size_t n_exact;
    uint64_t *filter; /* 1 << filter_bits bits, or NULL */
    unsigned filter_bits;
    uint32_t *zero_vals; /* values of 0.0.0.0/32 */
    size_t n_zero;

    /* IPv4 prefixes */
    uint32_t *dir;       /* DIR_BUCKETS + 1 interval indexes, or NULL when n_iv is small */
    struct interval *iv; /* ascending by start; iv[0].start == 0 */
    size_t n_iv;
    struct pfx *p4;
    size_t n_p4;
    uint32_t *vals4;
    size_t n_vals4;

    /* IPv6 */
    struct pfx6 *p6;    /* keys */
    struct pfx *p6info; /* links and postings, parallel to p6 */
    size_t n_p6;
    uint32_t *table6; /* entry index + 1, 0 = empty; 1 << bits6 slots */
    unsigned bits6;
    uint64_t *filter6;  /* 1 << (bits6 + 3) bits over {prefix, length} hashes */
    uint8_t lens6[129]; /* lengths present, longest first */
    unsigned n_lens6;
    uint32_t *vals6;
    size_t n_vals6;
};

/* ==== Static helpers ==== */

/*
 * Asks the kernel to back the 2 MiB-aligned interior of a large, not yet
 * touched allocation with huge pages: random probes into a table of many
 * megabytes otherwise miss the TLB on nearly every lookup. Only a hint.
 */
static void advise_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t e = ((uintptr_t)p + n) & ~(huge - 1);

    if (e > a)
        (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

/* The exact table's hash of an IPv4 address: two multiplies and a shift. */
static inline uint64_t hash_v4(uint32_t a)
{
    uint64_t x = ((uint64_t)a ^ 0x5bd1e995u) * 0x9e3779b97f4a7c15ull;
    x ^= x >> 29;
    return x * 0xbf58476d1ce4e5b9ull;
}

static uint64_t hash_v6(const uint8_t net[16], unsigned len)
{
    uint64_t hi, lo;

    memcpy(&hi, net, 8);
    memcpy(&lo, net + 8, 8);
    return mix64(hi ^ mix64(lo ^ ((uint64_t)len << 56)));
}

/* Smallest power-of-two exponent whose table holds n entries at the load factor. */
static unsigned table_bits(size_t n, unsigned min_bits)
{
    unsigned bits = min_bits;

    while (((size_t)1 << bits) * LOAD_NUM / LOAD_DEN < n)
        bits++;
    return bits;
}

/* Appends one element to a staging array, doubling it as needed. */
static int stage_push(struct stage *st, const void *elem, size_t size, size_t limit)
{
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 16;
        void *p;

        if (cap > limit)
            cap = limit;
        if (cap <= st->n)
            return TW_ELIMIT;
        p = tw_reallocarray(st->ptr, cap, size);
        if (p == NULL)
            return TW_ENOMEM;
        st->ptr = p;
        st->cap = cap;
    }
    memcpy((char *)st->ptr + st->n * size, elem, size);
    st->n++;
    return TW_OK;
}

static int cmp_p4(const void *a, const void *b)
{
    const struct stage_p4 *x = a, *y = b;

    if (x->net != y->net)
        return x->net < y->net ? -1 : 1;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static int cmp_p6(const void *a, const void *b)
{
    const struct stage_p6 *x = a, *y = b;
    int c = memcmp(x->net, y->net, 16);

    if (c != 0)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* Clears the bits of a 16-byte address after the first len bits. */
static void mask6(uint8_t b[16], unsigned len)
{
    if (len >= 128)
        return;
    if (len % 8 != 0)
        b[len / 8] &= (uint8_t)(0xffu << (8 - len % 8));
    for (unsigned i = (len + 7) / 8; i < 16; i++)
        b[i] = 0;
}

/* True when net/len contains addr (both 16-byte IPv6). */
static bool contains6(const uint8_t net[16], unsigned len, const uint8_t addr[16])
{
    uint8_t m[16];

    memcpy(m, addr, 16);
    mask6(m, len);
    return memcmp(m, net, 16) == 0;
}

/*
 * Writes the values of prefix `id` and its ancestors, from out[n] on, without
 * passing max, and returns n plus the number of values in the whole chain.
 */
static size_t emit_chain(
        const struct pfx *p, const uint32_t *vals, uint32_t id, uint32_t *out, size_t n, size_t max)
{
    const struct pfx *e = &p[id];
    size_t total = n + e->chain_n;

    while (n < max) {
        size_t k = e->val_n;

        if (k > max - n)
            k = max - n;
        if (e->val_n == 1)
            out[n] = e->val_off;
        else if (k > 0)
            memcpy(out + n, vals + e->val_off, k * sizeof(uint32_t));
        n += k;
        if (e->parent == NONE)
            break;
        e = &p[e->parent];
    }
    return total;
}

/* The built-form arrays of an IPv4 prefix build, allocated before commit. */
struct build4 {
    uint32_t *dir, *vals;
    struct interval *iv;
    struct pfx *p;
    size_t n_iv, n_p;
};

static void build4_free(struct build4 *b)
{
    tw_free(b->dir);
    tw_free(b->iv);
    tw_free(b->vals);
    tw_free(b->p);
}

static void iv_emit(struct build4 *b, uint64_t start, uint32_t id)
{
    if (b->n_iv > 0 && b->iv[b->n_iv - 1].pfx == id)
        return;
    b->iv[b->n_iv].start = (uint32_t)start;
    b->iv[b->n_iv].pfx = id;
    b->n_iv++;
}

/* Builds the IPv4 prefix structures from the sorted staging array st[0..n). */
static int build_p4(struct build4 *b, const struct stage_p4 *st, size_t n)
{
    uint32_t stack[33];
    uint64_t ends[33];
    unsigned sp = 0;
    uint64_t cur = 0;
    size_t n_uniq = 0, j;

    memset(b, 0, sizeof(*b));
    for (size_t i = 0; i < n; i++)
        if (i == 0 || st[i].net != st[i - 1].net || st[i].len != st[i - 1].len)
            n_uniq++;
    if (2 * n_uniq + 1 > DIR_MIN_INTERVALS)
        b->dir = tw_calloc(DIR_BUCKETS + 1, sizeof(uint32_t));
    b->iv = tw_calloc(2 * n_uniq + 1, sizeof(struct interval));
    b->vals = tw_calloc(n, sizeof(uint32_t));
    b->p = tw_calloc(n_uniq, sizeof(struct pfx));
    if ((!b->dir && 2 * n_uniq + 1 > DIR_MIN_INTERVALS) || !b->iv || !b->vals || !b->p) {
        build4_free(b);
        memset(b, 0, sizeof(*b));
        return TW_ENOMEM;
    }

    for (size_t i = 0; i < n; i = j) {
        uint32_t k = (uint32_t)b->n_p++;
        uint64_t start = st[i].net;
        uint64_t end = start + ((uint64_t)1 << (32 - st[i].len)) - 1;
        struct pfx *e = &b->p[k];

        e->val_off = (uint32_t)i;
        for (j = i; j < n && st[j].net == st[i].net && st[j].len == st[i].len; j++)
            b->vals[j] = st[j].value;
        e->val_n = (uint32_t)(j - i);
        if (e->val_n == 1)
            e->val_off = st[i].value;

        while (sp > 0 && ends[sp - 1] < start) {
            sp--;
            if (cur <= ends[sp]) {
                iv_emit(b, cur, stack[sp]);
                cur = ends[sp] + 1;
            }
        }
        if (cur < start) {
            iv_emit(b, cur, sp ? stack[sp - 1] : NONE);
            cur = start;
        }
        e->parent = sp ? stack[sp - 1] : NONE;
        e->chain_n = e->val_n + (sp ? b->p[stack[sp - 1]].chain_n : 0);
        stack[sp] = k;
        ends[sp] = end;
        sp++;
    }
    while (sp > 0) {
        sp--;
        if (cur <= ends[sp]) {
            iv_emit(b, cur, stack[sp]);
            cur = ends[sp] + 1;
        }
    }
    if (cur <= UINT32_MAX)
        iv_emit(b, cur, NONE);

    /* dir[k]: the interval holding address k << 16. */
    if (b->dir == NULL)
        return TW_OK;
    j = 0;
    for (uint32_t k = 0; k < DIR_BUCKETS; k++) {
        uint32_t at = k << 16;
        while (j + 1 < b->n_iv && b->iv[j + 1].start <= at)
            j++;
        b->dir[k] = (uint32_t)j;
    }
    b->dir[DIR_BUCKETS] = (uint32_t)(b->n_iv - 1);
    return TW_OK;
}

/* The built-form arrays of an IPv6 build. */
struct build6 {
    struct pfx6 *p;
    struct pfx *info;
    uint32_t *table, *vals;
    uint64_t *filter;
    unsigned bits;
    size_t n_p;
    uint8_t lens[129];
    unsigned n_lens;
};

static void build6_free(struct build6 *b)
{
    tw_free(b->p);
    tw_free(b->info);
    tw_free(b->table);
    tw_free(b->vals);
    tw_free(b->filter);
}

static int build_p6(struct build6 *b, const struct stage_p6 *st, size_t n)
{
    uint32_t stack[129];
    unsigned sp = 0;
    bool present[129] = { false };
    size_t n_uniq = 0, j;

    memset(b, 0, sizeof(*b));
    for (size_t i = 0; i < n; i++)
        if (i == 0 || st[i].len != st[i - 1].len || memcmp(st[i].net, st[i - 1].net, 16) != 0)
            n_uniq++;
    b->bits = table_bits(n_uniq, 4);
    b->p = tw_calloc(n_uniq, sizeof(struct pfx6));
    b->info = tw_calloc(n_uniq, sizeof(struct pfx));
    b->vals = tw_calloc(n, sizeof(uint32_t));
    b->table = tw_calloc((size_t)1 << b->bits, sizeof(uint32_t));
    b->filter = tw_calloc((size_t)1 << (b->bits + 3 - 6), sizeof(uint64_t));
    if (!b->p || !b->info || !b->vals || !b->table || !b->filter) {
        build6_free(b);
        memset(b, 0, sizeof(*b));
        return TW_ENOMEM;
    }
    for (size_t i = 0; i < n; i = j) {
        uint32_t k = (uint32_t)b->n_p++;
        struct pfx6 *e = &b->p[k];
        struct pfx *inf = &b->info[k];
        size_t mask = ((size_t)1 << b->bits) - 1;
        size_t h;
        uint64_t hv;
        uint32_t fb;

        memcpy(e->net, st[i].net, 16);
        e->len = st[i].len;
        inf->val_off = (uint32_t)i;
        for (j = i; j < n && st[j].len == st[i].len && memcmp(st[j].net, st[i].net, 16) == 0; j++)
            b->vals[j] = st[j].value;
        inf->val_n = (uint32_t)(j - i);
        if (inf->val_n == 1)
            inf->val_off = st[i].value;
        while (sp > 0 && !contains6(b->p[stack[sp - 1]].net, b->p[stack[sp - 1]].len, e->net))
            sp--;
        inf->parent = sp ? stack[sp - 1] : NONE;
        inf->chain_n = inf->val_n + (sp ? b->info[stack[sp - 1]].chain_n : 0);
        stack[sp++] = k;
        present[e->len] = true;
        hv = hash_v6(e->net, e->len);
        fb = (uint32_t)hv & (((uint32_t)1 << (b->bits + 3)) - 1);
        b->filter[fb >> 6] |= (uint64_t)1 << (fb & 63);
        h = (size_t)(hv >> (64 - b->bits));
        while (b->table[h] != 0)
            h = (h + 1) & mask;
        b->table[h] = k + 1;
    }
    for (int len = 128; len >= 0; len--)
        if (present[len])
            b->lens[b->n_lens++] = (uint8_t)len;
    return TW_OK;
}

static void free_built(struct tw_ipset *s)
{
    tw_free(s->exact);
    tw_free(s->filter);
    tw_free(s->zero_vals);
    tw_free(s->dir);
    tw_free(s->iv);
    tw_free(s->p4);
    tw_free(s->vals4);
    tw_free(s->p6);
    tw_free(s->p6info);
    tw_free(s->table6);
    tw_free(s->filter6);
    tw_free(s->vals6);
}

/* ==== Public API ==== */

struct tw_ipset *tw_ipset_new(size_t max_entries)
{
    struct tw_ipset *s = tw_calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->max_entries = max_entries > TW_IPSET_MAX_ENTRIES ? TW_IPSET_MAX_ENTRIES : max_entries;
    return s;
}

void tw_ipset_free(struct tw_ipset *s)
{
    if (s == NULL)
        return;
    tw_free(s->st_exact.ptr);
    tw_free(s->st_p4.ptr);
    tw_free(s->st_p6.ptr);
    free_built(s);
    tw_free(s);
}

int tw_ipset_add(struct tw_ipset *s, const struct tw_ip *net, unsigned prefix_len, uint32_t value)
{
    struct tw_ip ip;
    int rc;

    if (s == NULL || net == NULL || s->built)
        return TW_EINVAL;
    if ((net->family != 4 && net->family != 6) || prefix_len > tw_ip_max_prefix(net))
        return TW_EINVAL;
    if (s->n_entries >= s->max_entries)
        return TW_ELIMIT;
    ip = *net;
    if (tw_ip_is_v4mapped(&ip) && prefix_len >= 96) {
        (void)tw_ip_unmap(&ip);
        prefix_len -= 96;
    }
    tw_ip_mask(&ip, prefix_len);
    if (ip.family == 4 && prefix_len == 32) {
        struct stage_exact e = { tw_ip_v4(&ip), value };
        rc = stage_push(&s->st_exact, &e, sizeof(e), s->max_entries);
    } else if (ip.family == 4) {
        struct stage_p4 e;
        memset(&e, 0, sizeof(e));
        e.net = tw_ip_v4(&ip);
        e.value = value;
        e.seq = s->seq;
        e.len = (uint8_t)prefix_len;
        rc = stage_push(&s->st_p4, &e, sizeof(e), s->max_entries);
    } else {
        struct stage_p6 e;
        memset(&e, 0, sizeof(e));
        memcpy(e.net, ip.bytes, 16);
        e.value = value;
        e.seq = s->seq;
        e.len = (uint8_t)prefix_len;
        rc = stage_push(&s->st_p6, &e, sizeof(e), s->max_entries);
    }
    if (rc != TW_OK)
        return rc;
    s->seq++;
    s->n_entries++;
    return TW_OK;
}

int tw_ipset_build(struct tw_ipset *s)
{
    const struct stage_exact *ex = s ? s->st_exact.ptr : NULL;
    struct slot4 *exact = NULL;
    uint64_t *filter = NULL;
    uint32_t *zero_vals = NULL;
    size_t n_exact = 0, n_zero = 0;
    unsigned exact_bits = 0, filter_bits = 0;
    struct build4 b4;
    struct build6 b6;

    if (s == NULL || s->built)
        return TW_EINVAL;
    memset(&b4, 0, sizeof(b4));
    memset(&b6, 0, sizeof(b6));

    /* IPv4 /32: table plus filter, 0.0.0.0 set apart. */
    for (size_t i = 0; i < s->st_exact.n; i++)
        n_zero += ex[i].addr == 0;
    n_exact = s->st_exact.n - n_zero;
    if (n_zero > 0 && (zero_vals = tw_calloc(n_zero, sizeof(uint32_t))) == NULL)
        goto nomem;
    if (n_exact > 0) {
        exact_bits = table_bits(n_exact, 4);
        exact = tw_calloc((size_t)1 << exact_bits, sizeof(struct slot4));
        if (exact == NULL)
            goto nomem;
        advise_huge(exact, ((size_t)1 << exact_bits) * sizeof(struct slot4));
        if (n_exact >= FILTER_MIN_ENTRIES) {
            filter_bits = 6;
            while (((size_t)1 << filter_bits) < n_exact * FILTER_BITS_PER_ENTRY)
                filter_bits++;
            filter = tw_calloc((size_t)1 << (filter_bits - 6), sizeof(uint64_t));
            if (filter == NULL)
                goto nomem;
            advise_huge(filter, ((size_t)1 << filter_bits) / 8);
        }
    }
    if (s->st_p4.n > 0) {
        qsort(s->st_p4.ptr, s->st_p4.n, sizeof(struct stage_p4), cmp_p4);
        if (build_p4(&b4, s->st_p4.ptr, s->st_p4.n) != TW_OK)
            goto nomem;
    }
    if (s->st_p6.n > 0) {
        qsort(s->st_p6.ptr, s->st_p6.n, sizeof(struct stage_p6), cmp_p6);
        if (build_p6(&b6, s->st_p6.ptr, s->st_p6.n) != TW_OK)
            goto nomem;
    }

    /* Nothing can fail from here on: fill the exact table and commit. */
    n_zero = 0;
    for (size_t i = 0; i < s->st_exact.n; i++) {
        uint64_t h;
        size_t at, mask = ((size_t)1 << exact_bits) - 1;

        if (ex[i].addr == 0) {
            zero_vals[n_zero++] = ex[i].value;
            continue;
        }
        h = hash_v4(ex[i].addr);
        at = (size_t)(h >> (64 - exact_bits));
        while (exact[at].key != 0)
            at = (at + 1) & mask;
        exact[at].key = ex[i].addr;
        exact[at].value = ex[i].value;
        if (filter != NULL) {
            uint32_t f = (uint32_t)(h >> 8) & (uint32_t)(((uint64_t)1 << filter_bits) - 1);
            filter[f >> 6] |= (uint64_t)1 << (f & 63);
        }
    }
    s->exact = exact;
    s->exact_bits = exact_bits;
    s->n_exact = n_exact;
    s->filter = filter;
    s->filter_bits = filter_bits;
    s->zero_vals = zero_vals;
    s->n_zero = n_zero;
    s->dir = b4.dir;
    s->iv = b4.iv;
    s->n_iv = b4.n_iv;
    s->p4 = b4.p;
    s->n_p4 = b4.n_p;
    s->vals4 = b4.vals;
    s->n_vals4 = s->st_p4.n;
    s->p6 = b6.p;
    s->p6info = b6.info;
    s->n_p6 = b6.n_p;
    s->table6 = b6.table;
    s->bits6 = b6.bits;
    s->filter6 = b6.filter;
    memcpy(s->lens6, b6.lens, sizeof(s->lens6));
    s->n_lens6 = b6.n_lens;
    s->vals6 = b6.vals;
    s->n_vals6 = s->st_p6.n;
    /* Shrink the interval arrays to what was used. */
    if (s->n_iv > 0) {
        struct interval *p = tw_reallocarray(s->iv, s->n_iv, sizeof(struct interval));
        if (p != NULL)
            s->iv = p;
    }
    tw_free(s->st_exact.ptr);
    tw_free(s->st_p4.ptr);
    tw_free(s->st_p6.ptr);
    memset(&s->st_exact, 0, sizeof(s->st_exact));
    memset(&s->st_p4, 0, sizeof(s->st_p4));
    memset(&s->st_p6, 0, sizeof(s->st_p6));
    s->built = true;
    return TW_OK;

nomem:
    tw_free(exact);
    tw_free(filter);
    tw_free(zero_vals);
    build4_free(&b4);
    build6_free(&b6);
    return TW_ENOMEM;
}

size_t tw_ipset_lookup_v4(
        const struct tw_ipset *s, uint32_t addr_host_order, uint32_t *values, size_t max_values)
{
    const uint32_t a = addr_host_order;
    size_t n = 0;

    if (TW_UNLIKELY(s == NULL || !s->built))
        return 0;
    if (s->exact != NULL && a != 0) {
        uint64_t h = hash_v4(a);
        const uint64_t *filter = s->filter;
        bool maybe = true;

        if (filter != NULL) {
            uint32_t f = (uint32_t)(h >> 8) & (uint32_t)(((uint64_t)1 << s->filter_bits) - 1);
            maybe = (filter[f >> 6] >> (f & 63)) & 1;
        }
        if (maybe) {
            size_t mask = ((size_t)1 << s->exact_bits) - 1;
            size_t at = (size_t)(h >> (64 - s->exact_bits));
            const struct slot4 *t = s->exact;

            while (t[at].key != 0) {
                if (t[at].key == a) {
                    if (n < max_values)
                        values[n] = t[at].value;
                    n++;
                }
                at = (at + 1) & mask;
            }
        }
    } else if (a == 0) {
        for (size_t i = 0; i < s->n_zero; i++) {
            if (n < max_values)
                values[n] = s->zero_vals[i];
            n++;
        }
    }
    if (s->iv != NULL) {
        uint32_t lo = 0, hi = (uint32_t)(s->n_iv - 1);
        uint32_t id;

        if (s->dir != NULL) {
            lo = s->dir[a >> 16];
            hi = s->dir[(a >> 16) + 1];
        }

        while (lo < hi) {
            uint32_t mid = (lo + hi + 1) >> 1;
            if (s->iv[mid].start <= a)
                lo = mid;
            else
                hi = mid - 1;
        }
        id = s->iv[lo].pfx;
        if (id != NONE)
            n = emit_chain(s->p4, s->vals4, id, values, n, max_values);
    }
    return n;
}

size_t tw_ipset_lookup(
        const struct tw_ipset *s, const struct tw_ip *ip, uint32_t *values, size_t max_values)
{
    struct tw_ip a;

    if (s == NULL || ip == NULL || !s->built)
        return 0;
    a = *ip;
    (void)tw_ip_unmap(&a);
    if (a.family == 4)
        return tw_ipset_lookup_v4(s, tw_ip_v4(&a), values, max_values);
    if (a.family != 6 || s->n_p6 == 0)
        return 0;
    for (unsigned i = 0; i < s->n_lens6; i++) {
        unsigned len = s->lens6[i];
        size_t mask = ((size_t)1 << s->bits6) - 1;
        uint8_t m[16];
        size_t at;

        uint64_t hv;
        uint32_t fb;

        memcpy(m, a.bytes, 16);
        mask6(m, len);
        hv = hash_v6(m, len);
        fb = (uint32_t)hv & (((uint32_t)1 << (s->bits6 + 3)) - 1);
        if (((s->filter6[fb >> 6] >> (fb & 63)) & 1) == 0)
            continue;
        at = (size_t)(hv >> (64 - s->bits6));
        while (s->table6[at] != 0) {
            const struct pfx6 *e = &s->p6[s->table6[at] - 1];
            if (e->len == len && memcmp(e->net, m, 16) == 0)
                return emit_chain(s->p6info, s->vals6, s->table6[at] - 1, values, 0, max_values);
            at = (at + 1) & mask;
        }
    }
    return 0;
}

size_t tw_ipset_count(const struct tw_ipset *s)
{
    return s ? s->n_entries : 0;
}

size_t tw_ipset_memory(const struct tw_ipset *s)
{
    size_t m;

    if (s == NULL)
        return 0;
    m = sizeof(*s);
    m += s->st_exact.cap * sizeof(struct stage_exact);
    m += s->st_p4.cap * sizeof(struct stage_p4);
    m += s->st_p6.cap * sizeof(struct stage_p6);
    if (s->exact != NULL)
        m += ((size_t)1 << s->exact_bits) * sizeof(struct slot4);
    if (s->filter != NULL)
        m += ((size_t)1 << s->filter_bits) / 8;
    m += s->n_zero * sizeof(uint32_t);
    if (s->dir != NULL)
        m += (DIR_BUCKETS + 1) * sizeof(uint32_t);
    m += s->n_iv * sizeof(struct interval);
    m += s->n_p4 * sizeof(struct pfx) + s->n_vals4 * sizeof(uint32_t);
    m += s->n_p6 * (sizeof(struct pfx6) + sizeof(struct pfx)) + s->n_vals6 * sizeof(uint32_t);
    if (s->table6 != NULL)
        m += ((size_t)1 << s->bits6) * sizeof(uint32_t) + ((size_t)1 << (s->bits6 + 3)) / 8;
    return m;
}
