/*
 * flowfilter.c: the flow filter language (include/tidewatch/flowfilter.h),
 * nfdump's filter syntax in spirit: a recursive-descent parser that reports
 * the byte offset of every error, an evaluator over struct tw_flowrec, a
 * sound "may match" test over the min/max summaries of archive files and
 * blocks, and the set of archive columns a filter reads.
 *
 * The tree is a flat array of nodes; "and" and "or" chains are n-ary nodes
 * whose children sit in one shared index array, so a chain of ten thousand
 * "or"s is one node and evaluation recurses only as deep as the parentheses
 * and "not"s, which the parser caps (MAX_DEPTH).
 *
 * Address primitives ("ip", "host", "net", "ip in [...]", "exporter") all
 * compile into one kind of address set, built for lists of many thousands
 * of entries:
 *   - exact IPv4 addresses: an open-addressing hash table of 32-bit words
 *     (load at most one half, Fibonacci hashing, 0 marks an empty slot and
 *     0.0.0.0 has a flag of its own), behind a bit filter of 16 bits per
 *     address for sets of FILTER_MIN or more (most addresses of a flow are
 *     turned away by one load from a table that stays in the first-level
 *     cache), plus the same words sorted, for the range test of may_match;
 *   - IPv4 networks: their address ranges merged into sorted disjoint
 *     intervals, searched by bisection;
 *   - IPv6 addresses and networks: sorted 128-bit words and merged
 *     intervals, both bisected (IPv6 is the rare case in flow data).
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) count as the IPv4 address they
 * carry, in the filter and in records, as the indicator index does.
 */
#include "tidewatch/flowfilter.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tidewatch/addr.h"
#include "tidewatch/alloc.h"
#include "tidewatch/str.h"

/* ==== Types ==== */

/* Longest expression accepted (a list of a million IPv6 networks fits). */
#define MAX_LEN ((size_t)64 * 1024 * 1024)
/* Deepest nesting of parentheses and "not". */
#define MAX_DEPTH 64

enum node_kind {
    K_AND = 0,
    K_OR,
    K_NOT,
    K_ANY,
    K_ADDR,     /* set: the source and/or destination address is in it */
    K_PORT,     /* cmp num against sport and/or dport */
    K_PORTSET,  /* bits: sport and/or dport in the list */
    K_PROTO,    /* num */
    K_EXPORTER, /* set: the exporter's address */
    K_IF,       /* cmp num against in_if and/or out_if (dir: in = src, out = dst) */
    K_VLAN,     /* num */
    K_AS,       /* num against src_as and/or dst_as */
    K_BYTES,    /* cmp num */
    K_PACKETS,  /* cmp num */
    K_FLAGS,    /* num: every flag bit set (TCP only) */
    K_INET,
    K_INET6,
};

enum dir {
    D_EITHER = 0,
    D_SRC = 1,
    D_DST = 2,
};

enum cmp {
    C_EQ = 0,
    C_LT,
    C_GT,
    C_LE,
    C_GE,
};

struct iv4 {
    uint32_t lo, hi; /* inclusive */
};

struct u128 {
    uint64_t hi, lo;
};

struct iv6 {
    struct u128 lo, hi; /* inclusive */
};

struct addrset {
    uint32_t *tab;     /* exact IPv4 hash table, 0 = empty */
    unsigned tab_bits; /* log2 of its size */
    uint64_t *filter;  /* large sets: one bit per hash of each exact IPv4 address */
    unsigned fbits;    /* log2 of the filter's bits */
    bool has_zero;     /* 0.0.0.0 is listed */
    uint32_t *v4;      /* exact IPv4, sorted, distinct */
    size_t n_v4;
    struct iv4 *iv4; /* IPv4 networks as sorted disjoint intervals */
    size_t n_iv4;
    struct u128 *v6; /* exact IPv6, sorted, distinct */
    size_t n_v6;
    struct iv6 *iv6; /* IPv6 networks as sorted disjoint intervals */
    size_t n_iv6;
};

struct node {
    uint8_t kind;      /* enum node_kind */
    uint8_t dir;       /* enum dir */
    uint8_t cmp;       /* enum cmp */
    uint32_t first, n; /* K_AND/K_OR: kids[first .. first + n); K_NOT: kids[first] */
    uint64_t num;
    struct addrset *set; /* K_ADDR, K_EXPORTER */
    uint64_t *bits;      /* K_PORTSET: 65536 bits */
};

struct tw_flowfilter {
    struct node *nodes;
    size_t n_nodes, cap_nodes;
    uint32_t *kids;
    size_t n_kids, cap_kids;
    uint32_t root;
    unsigned cols;
    bool uses_proto; /* some node tests the protocol (may_match splits by it) */
};

enum tok {
    T_END = 0,
    T_WORD,
    T_LBRACK,
    T_RBRACK,
    T_LPAREN,
    T_RPAREN,
    T_COMMA,
    T_CMP,
};

struct parser {
    const char *s;
    size_t len;
    size_t pos; /* where the next token starts looking */
    enum tok tk;
    size_t off, tlen; /* the current token */
    enum cmp cmp;     /* T_CMP: which */
    unsigned depth;
    struct tw_flowfilter *f;
    struct tw_err *err;
};

/* ==== Small helpers ==== */

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    size_t ncap;
    void *p;

    if (need <= *cap)
        return TW_OK;
    ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    p = tw_reallocarray(*arr, ncap, elem);
    if (p == NULL)
        return TW_ENOMEM;
    *arr = p;
    *cap = ncap;
    return TW_OK;
}

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static struct u128 load_u128(const uint8_t *p)
{
    struct u128 v = { 0, 0 };

    for (int i = 0; i < 8; i++) {
        v.hi = v.hi << 8 | p[i];
        v.lo = v.lo << 8 | p[8 + i];
    }
    return v;
}

static int u128_cmp(struct u128 a, struct u128 b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

static bool is_v4mapped(const uint8_t *b)
{
    static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

    return memcmp(b, prefix, sizeof(prefix)) == 0;
}

/* ==== Address sets ==== */

/* Staging lists of one address set while its primitive is parsed. */
struct setbuild {
    uint32_t *v4;
    size_t n_v4, cap_v4;
    struct iv4 *iv4;
    size_t n_iv4, cap_iv4;
    struct u128 *v6;
    size_t n_v6, cap_v6;
    struct iv6 *iv6;
    size_t n_iv6, cap_iv6;
    bool has_zero;
};

static void setbuild_cleanup(struct setbuild *b)
{
    tw_free(b->v4);
    tw_free(b->iv4);
    tw_free(b->v6);
    tw_free(b->iv6);
    memset(b, 0, sizeof(*b));
}

static void set_free(struct addrset *s)
{
    if (s == NULL)
        return;
    tw_free(s->tab);
    tw_free(s->filter);
    tw_free(s->v4);
    tw_free(s->iv4);
    tw_free(s->v6);
    tw_free(s->iv6);
    tw_free(s);
}

/* Adds net/plen (host bits already cleared). Mapped IPv6 becomes IPv4. */
static int setbuild_add(struct setbuild *b, const struct tw_ip *net, unsigned plen)
{
    if (net->family == 6 && plen >= 96 && is_v4mapped(net->bytes)) {
        uint32_t a = load_be32(net->bytes + 12);
        struct tw_ip v4;
        tw_ip_from_v4(&v4, a);
        return setbuild_add(b, &v4, plen - 96);
    }
    if (net->family == 4) {
        uint32_t a = load_be32(net->bytes);
        if (plen >= 32) {
            if (a == 0) {
                b->has_zero = true;
                return TW_OK;
            }
            if (grow((void **)&b->v4, &b->cap_v4, b->n_v4 + 1, sizeof(*b->v4)) != TW_OK)
                return TW_ENOMEM;
            b->v4[b->n_v4++] = a;
            return TW_OK;
        }
        if (grow((void **)&b->iv4, &b->cap_iv4, b->n_iv4 + 1, sizeof(*b->iv4)) != TW_OK)
            return TW_ENOMEM;
        b->iv4[b->n_iv4].lo = a;
        b->iv4[b->n_iv4].hi = a | (plen == 0 ? UINT32_MAX : (UINT32_MAX >> plen));
        b->n_iv4++;
        return TW_OK;
    }
    if (plen >= 128) {
        if (grow((void **)&b->v6, &b->cap_v6, b->n_v6 + 1, sizeof(*b->v6)) != TW_OK)
            return TW_ENOMEM;
        b->v6[b->n_v6++] = load_u128(net->bytes);
        return TW_OK;
    }
    if (grow((void **)&b->iv6, &b->cap_iv6, b->n_iv6 + 1, sizeof(*b->iv6)) != TW_OK)
        return TW_ENOMEM;
    {
        struct iv6 *v = &b->iv6[b->n_iv6++];
        v->lo = load_u128(net->bytes);
        v->hi = v->lo;
        if (plen < 64) {
            v->hi.hi |= plen == 0 ? UINT64_MAX : (UINT64_MAX >> plen);
            v->hi.lo = UINT64_MAX;
        } else {
            v->hi.lo |= plen == 64 ? UINT64_MAX : (UINT64_MAX >> (plen - 64));
        }
    }
    return TW_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

static int cmp_iv4(const void *a, const void *b)
{
    const struct iv4 *x = a, *y = b;

    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return (x->hi > y->hi) - (x->hi < y->hi);
}

static int cmp_u128(const void *a, const void *b)
{
    return u128_cmp(*(const struct u128 *)a, *(const struct u128 *)b);
}

static int cmp_iv6(const void *a, const void *b)
{
    const struct iv6 *x = a, *y = b;
    int c = u128_cmp(x->lo, y->lo);

    return c != 0 ? c : u128_cmp(x->hi, y->hi);
}

/* Sorts and merges intervals that overlap or touch; returns the new count. */
static size_t merge_iv4(struct iv4 *v, size_t n)
{
    size_t w = 0;

    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_iv4);
    for (size_t i = 1; i < n; i++) {
        if ((uint64_t)v[i].lo <= (uint64_t)v[w].hi + 1) {
            if (v[i].hi > v[w].hi)
                v[w].hi = v[i].hi;
        } else {
            v[++w] = v[i];
        }
    }
    return w + 1;
}

static struct u128 u128_inc(struct u128 a)
{
    a.lo++;
    if (a.lo == 0)
        a.hi++;
    return a;
}

static size_t merge_iv6(struct iv6 *v, size_t n)
{
    size_t w = 0;

    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_iv6);
    for (size_t i = 1; i < n; i++) {
        bool max = v[w].hi.hi == UINT64_MAX && v[w].hi.lo == UINT64_MAX;
        if (max || u128_cmp(v[i].lo, u128_inc(v[w].hi)) <= 0) {
            if (u128_cmp(v[i].hi, v[w].hi) > 0)
                v[w].hi = v[i].hi;
        } else {
            v[++w] = v[i];
        }
    }
    return w + 1;
}

static size_t dedupe_u32(uint32_t *v, size_t n)
{
    size_t w = 0;

    for (size_t i = 0; i < n; i++)
        if (w == 0 || v[w - 1] != v[i])
            v[w++] = v[i];
    return w;
}

static size_t dedupe_u128(struct u128 *v, size_t n)
{
    size_t w = 0;

    for (size_t i = 0; i < n; i++)
        if (w == 0 || u128_cmp(v[w - 1], v[i]) != 0)
            v[w++] = v[i];
    return w;
}

static inline size_t hash_slot(uint32_t a, unsigned bits)
{
    return (size_t)((uint32_t)(a * UINT32_C(2654435761)) >> (32 - bits));
}

/* The filter's bit for a: another hash than the table's. */
static inline uint32_t filter_bit(uint32_t a, unsigned fbits)
{
    return (uint32_t)(((uint64_t)a * UINT64_C(0xd6e8feb86659fd93)) >> (64 - fbits));
}

/* Sets at least this large get a bit filter (16 bits per address) before the table. */
#define FILTER_MIN 256

/* Turns the staging lists into a set; the lists are consumed either way. */
static int setbuild_finish(struct setbuild *b, struct addrset **out)
{
    struct addrset *s = tw_calloc(1, sizeof(*s));

    *out = NULL;
    if (s == NULL) {
        setbuild_cleanup(b);
        return TW_ENOMEM;
    }
    s->has_zero = b->has_zero;
    if (b->n_v4 > 0) {
        size_t size;
        qsort(b->v4, b->n_v4, sizeof(*b->v4), cmp_u32);
        b->n_v4 = dedupe_u32(b->v4, b->n_v4);
        s->tab_bits = 3;
        while (((size_t)1 << s->tab_bits) < 2 * b->n_v4)
            s->tab_bits++;
        size = (size_t)1 << s->tab_bits;
        s->tab = tw_calloc(size, sizeof(*s->tab));
        if (s->tab == NULL)
            goto nomem;
        for (size_t i = 0; i < b->n_v4; i++) {
            size_t at = hash_slot(b->v4[i], s->tab_bits);
            while (s->tab[at] != 0)
                at = (at + 1) & (size - 1);
            s->tab[at] = b->v4[i];
        }
        if (b->n_v4 >= FILTER_MIN) {
            s->fbits = 6;
            while (((size_t)1 << s->fbits) < 16 * b->n_v4)
                s->fbits++;
            s->filter = tw_calloc(((size_t)1 << s->fbits) / 64, sizeof(uint64_t));
            if (s->filter == NULL)
                goto nomem;
            for (size_t i = 0; i < b->n_v4; i++) {
                uint32_t f = filter_bit(b->v4[i], s->fbits);
                s->filter[f >> 6] |= UINT64_C(1) << (f & 63);
            }
        }
    }
    s->v4 = b->v4;
    s->n_v4 = b->n_v4;
    b->v4 = NULL;
    s->n_iv4 = merge_iv4(b->iv4, b->n_iv4);
    s->iv4 = b->iv4;
    b->iv4 = NULL;
    if (b->n_v6 > 0) {
        qsort(b->v6, b->n_v6, sizeof(*b->v6), cmp_u128);
        b->n_v6 = dedupe_u128(b->v6, b->n_v6);
    }
    s->v6 = b->v6;
    s->n_v6 = b->n_v6;
    b->v6 = NULL;
    s->n_iv6 = merge_iv6(b->iv6, b->n_iv6);
    s->iv6 = b->iv6;
    b->iv6 = NULL;
    setbuild_cleanup(b);
    *out = s;
    return TW_OK;
nomem:
    setbuild_cleanup(b);
    set_free(s);
    return TW_ENOMEM;
}

/* False when a is certainly not an exact address of the set. */
static inline bool filter_maybe(const struct addrset *s, uint32_t a)
{
    uint32_t f;

    if (s->filter == NULL)
        return true;
    f = filter_bit(a, s->fbits);
    return (s->filter[f >> 6] >> (f & 63)) & 1;
}

static bool set_has_v4(const struct addrset *s, uint32_t a)
{
    if (a == 0) {
        if (s->has_zero)
            return true;
    } else if (s->tab != NULL && filter_maybe(s, a)) {
        size_t mask = ((size_t)1 << s->tab_bits) - 1, at = hash_slot(a, s->tab_bits);
        for (uint32_t k; (k = s->tab[at]) != 0; at = (at + 1) & mask)
            if (k == a)
                return true;
    }
    if (s->n_iv4 > 0) {
        /* The last interval starting at or before a. */
        size_t lo = 0, hi = s->n_iv4;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (s->iv4[mid].lo <= a)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo > 0 && a <= s->iv4[lo - 1].hi;
    }
    return false;
}

static bool set_has_v6(const struct addrset *s, struct u128 a)
{
    size_t lo = 0, hi = s->n_v6;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = u128_cmp(s->v6[mid], a);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    lo = 0;
    hi = s->n_iv6;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u128_cmp(s->iv6[mid].lo, a) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && u128_cmp(a, s->iv6[lo - 1].hi) <= 0;
}

static bool set_has_ip(const struct addrset *s, const struct tw_ip *ip)
{
    if (ip->family == 4)
        return set_has_v4(s, load_be32(ip->bytes));
    if (ip->family == 6) {
        if (is_v4mapped(ip->bytes))
            return set_has_v4(s, load_be32(ip->bytes + 12));
        return set_has_v6(s, load_u128(ip->bytes));
    }
    return false;
}

/* True when some IPv4 address of [lo, hi] is in the set. */
static bool set_overlaps_v4(const struct addrset *s, uint32_t lo, uint32_t hi)
{
    size_t a = 0, b = s->n_v4;

    if (lo > hi)
        return false;
    if (s->has_zero && lo == 0)
        return true;
    /* First exact address >= lo. */
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (s->v4[mid] < lo)
            a = mid + 1;
        else
            b = mid;
    }
    if (a < s->n_v4 && s->v4[a] <= hi)
        return true;
    /* First interval ending at or after lo (the intervals are disjoint and sorted). */
    a = 0;
    b = s->n_iv4;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (s->iv4[mid].hi < lo)
            a = mid + 1;
        else
            b = mid;
    }
    return a < s->n_iv4 && s->iv4[a].lo <= hi;
}

static bool set_empty(const struct addrset *s)
{
    return !s->has_zero && s->n_v4 == 0 && s->n_iv4 == 0 && s->n_v6 == 0 && s->n_iv6 == 0;
}

/* ==== Tokens ==== */

static bool is_special(char c)
{
    return c == '[' || c == ']' || c == '(' || c == ')' || c == ',' || c == '=' || c == '<' ||
           c == '>';
}

/* Copies up to 40 bytes of the current token, printable ASCII only, for messages. */
static void tok_text(const struct parser *p, char out[48])
{
    size_t n = TW_MIN(p->tlen, (size_t)40), k = 0;

    for (size_t i = 0; i < n; i++) {
        char c = p->s[p->off + i];
        if (c < 0x20 || c >= 0x7f)
            c = '?';
        out[k++] = c;
    }
    if (p->tlen > n) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
}

static int fail(struct parser *p, int code, size_t off, const char *what)
{
    return tw_err_set(p->err, code, off, "%s at %zu", what, off);
}

/* Error at the current token, naming it. */
static int fail_tok(struct parser *p, const char *what)
{
    char t[48];

    if (p->tk == T_END)
        return tw_err_set(
                p->err, TW_ESYNTAX, p->off, "%s, found the end of the filter at %zu", what, p->off);
    tok_text(p, t);
    return tw_err_set(p->err, TW_ESYNTAX, p->off, "%s, found '%s' at %zu", what, t, p->off);
}

/* Reads the next token into p->tk/off/tlen. */
static int advance(struct parser *p)
{
    size_t i = p->pos;
    char c;

    while (i < p->len && tw_ascii_isspace(p->s[i]))
        i++;
    p->off = i;
    if (i >= p->len) {
        p->tk = T_END;
        p->tlen = 0;
        p->pos = i;
        return TW_OK;
    }
    c = p->s[i];
    p->tlen = 1;
    switch (c) {
        case '[':
            p->tk = T_LBRACK;
            break;
        case ']':
            p->tk = T_RBRACK;
            break;
        case '(':
            p->tk = T_LPAREN;
            break;
        case ')':
            p->tk = T_RPAREN;
            break;
        case ',':
            p->tk = T_COMMA;
            break;
        case '=':
        case '<':
        case '>': {
            size_t j = i;
            while (j < p->len && (p->s[j] == '=' || p->s[j] == '<' || p->s[j] == '>'))
                j++;
            p->tlen = j - i;
            p->tk = T_CMP;
            if (p->tlen == 1)
                p->cmp = c == '=' ? C_EQ : c == '<' ? C_LT : C_GT;
            else if (p->tlen == 2 && p->s[i + 1] == '=')
                p->cmp = c == '=' ? C_EQ : c == '<' ? C_LE : C_GE;
            else
                return fail(p, TW_ESYNTAX, i, "bad comparison (use =, ==, <, >, <= or >=)");
            break;
        }
        default: {
            size_t j = i;
            while (j < p->len && !tw_ascii_isspace(p->s[j]) && !is_special(p->s[j]))
                j++;
            p->tk = T_WORD;
            p->tlen = j - i;
            break;
        }
    }
    p->pos = i + p->tlen;
    return TW_OK;
}

static struct tw_str tok_str(const struct parser *p)
{
    return tw_str_make(p->s + p->off, p->tlen);
}

static bool is_word(const struct parser *p, const char *kw)
{
    return p->tk == T_WORD && tw_str_caseeq(tok_str(p), tw_str_cstr(kw));
}

/* ==== Tree building ==== */

static int add_node(struct parser *p, const struct node *n, uint32_t *idx)
{
    struct tw_flowfilter *f = p->f;

    if (f->n_nodes >= UINT32_MAX)
        return fail(p, TW_ELIMIT, p->off, "filter too large");
    if (grow((void **)&f->nodes, &f->cap_nodes, f->n_nodes + 1, sizeof(*f->nodes)) != TW_OK)
        return fail(p, TW_ENOMEM, p->off, "out of memory");
    f->nodes[f->n_nodes] = *n;
    *idx = (uint32_t)f->n_nodes++;
    return TW_OK;
}

/* A node over children (K_AND, K_OR, K_NOT); the child list is borrowed. */
static int add_parent(
        struct parser *p, enum node_kind kind, const uint32_t *kids, size_t n, uint32_t *idx)
{
    struct tw_flowfilter *f = p->f;
    struct node nd;

    if (f->n_kids + n >= UINT32_MAX)
        return fail(p, TW_ELIMIT, p->off, "filter too large");
    if (grow((void **)&f->kids, &f->cap_kids, f->n_kids + n, sizeof(*f->kids)) != TW_OK)
        return fail(p, TW_ENOMEM, p->off, "out of memory");
    memset(&nd, 0, sizeof(nd));
    nd.kind = (uint8_t)kind;
    nd.first = (uint32_t)f->n_kids;
    nd.n = (uint32_t)n;
    memcpy(f->kids + f->n_kids, kids, n * sizeof(*kids));
    f->n_kids += n;
    return add_node(p, &nd, idx);
}

/* ==== Parser ==== */

static int parse_expr(struct parser *p, uint32_t *out);

/* A decimal number of the current word, at most max; consumes it. */
static int parse_num(struct parser *p, uint64_t max, const char *what, uint64_t *out)
{
    int rc;

    if (p->tk != T_WORD)
        return fail_tok(p, what);
    rc = tw_parse_u64(tok_str(p), max, out);
    if (rc == TW_ERANGE) {
        char msg[96];
        (void)snprintf(
                msg, sizeof(msg), "number out of range (at most %llu)", (unsigned long long)max);
        return fail(p, TW_ERANGE, p->off, msg);
    }
    if (rc != TW_OK)
        return fail_tok(p, what);
    return advance(p);
}

/* A count with an optional scale suffix k, m or g (powers of 1000, as nfdump). */
static int parse_scaled(struct parser *p, uint64_t *out)
{
    struct tw_str w = tok_str(p);
    uint64_t mult = 1, v;

    if (p->tk != T_WORD)
        return fail_tok(p, "expected a number");
    if (w.len > 1) {
        char c = tw_ascii_lower(w.ptr[w.len - 1]);
        mult = c == 'k' ? 1000 : c == 'm' ? 1000000 : c == 'g' ? 1000000000 : 1;
        if (mult != 1)
            w.len--;
    }
    if (tw_parse_u64(w, UINT64_MAX, &v) != TW_OK)
        return fail_tok(p, "expected a number (with an optional k, m or g)");
    if (v > UINT64_MAX / mult)
        return fail(p, TW_ERANGE, p->off, "number out of range");
    *out = v * mult;
    return advance(p);
}

/* An optional comparison: a symbol or eq, lt, gt, le, ge. */
static int parse_cmp(struct parser *p, enum cmp *out)
{
    static const struct {
        const char *word;
        enum cmp cmp;
    } words[] = { { "eq", C_EQ }, { "lt", C_LT }, { "gt", C_GT }, { "le", C_LE }, { "ge", C_GE } };

    *out = C_EQ;
    if (p->tk == T_CMP) {
        *out = p->cmp;
        return advance(p);
    }
    for (size_t i = 0; i < TW_ARRAY_LEN(words); i++) {
        if (is_word(p, words[i].word)) {
            *out = words[i].cmp;
            return advance(p);
        }
    }
    return TW_OK;
}

/* What an address primitive accepts. */
enum addr_mode {
    A_ADDR = 0, /* an address ("ip", "host") */
    A_NET,      /* a network; a bare address is the whole address ("net") */
    A_EITHER,   /* either, told apart by a '/' (lists, "exporter") */
};

/* One address or network of the current word into b; consumes it. */
static int parse_addr_into(struct parser *p, struct setbuild *b, enum addr_mode mode)
{
    struct tw_err e;
    struct tw_ip net;
    unsigned plen = 0;
    struct tw_str w = tok_str(p);
    bool has_slash = tw_str_find(w, '/') >= 0;
    int rc;

    if (p->tk != T_WORD)
        return fail_tok(
                p, mode == A_ADDR ? "expected an address" : "expected an address or network");
    tw_err_clear(&e);
    if (has_slash && mode == A_ADDR)
        return fail(p, TW_EINVAL, p->off, "a network needs 'net' or a list");
    if (has_slash || mode == A_NET)
        rc = tw_cidr_parse(w, &net, &plen, &e);
    else
        rc = tw_ip_parse(w, &net, &e);
    if (rc != TW_OK) {
        size_t at = p->off + (e.offset != TW_NOPOS && e.offset <= w.len ? e.offset : 0);
        return fail(p, TW_EINVAL, at, has_slash || mode == A_NET ? "bad network" : "bad address");
    }
    if (!has_slash && mode != A_NET)
        plen = net.family == 4 ? 32 : 128;
    if (setbuild_add(b, &net, plen) != TW_OK)
        return fail(p, TW_ENOMEM, p->off, "out of memory");
    return advance(p);
}

/* "[" elem ... "]" with elements separated by spaces or commas; the "[" is current. */
static int parse_list_open(struct parser *p, size_t *open_off)
{
    if (p->tk != T_LBRACK)
        return fail_tok(p, "expected '['");
    *open_off = p->off;
    return advance(p);
}

static int list_next(struct parser *p, size_t open_off, bool *done)
{
    int rc;

    while (p->tk == T_COMMA)
        if ((rc = advance(p)) != TW_OK)
            return rc;
    if (p->tk == T_RBRACK) {
        *done = true;
        return advance(p);
    }
    if (p->tk == T_END) {
        char msg[64];
        (void)snprintf(msg, sizeof(msg), "missing ']' (the list opened at %zu)", open_off);
        return fail(p, TW_ESYNTAX, p->off, msg);
    }
    *done = false;
    return TW_OK;
}

static int finish_set(struct parser *p, struct setbuild *b, enum node_kind kind, enum dir dir,
        size_t at, uint32_t *out)
{
    struct node nd;
    uint32_t idx = 0;
    int rc;

    memset(&nd, 0, sizeof(nd));
    nd.kind = (uint8_t)kind;
    nd.dir = (uint8_t)dir;
    if (setbuild_finish(b, &nd.set) != TW_OK)
        return fail(p, TW_ENOMEM, at, "out of memory");
    if ((rc = add_node(p, &nd, &idx)) != TW_OK) {
        set_free(nd.set);
        return rc;
    }
    *out = idx;
    return TW_OK;
}

/* "ip ADDR", "host ADDR", "net CIDR", "ip in [...]", "exporter ADDR|CIDR". */
static int parse_addr_prim(
        struct parser *p, enum node_kind kind, enum dir dir, bool net, uint32_t *out)
{
    struct setbuild b;
    size_t at = p->off, open_off = 0;
    int rc;

    memset(&b, 0, sizeof(b));
    if (!net && kind == K_ADDR && is_word(p, "in")) {
        bool done = false;
        if ((rc = advance(p)) != TW_OK || (rc = parse_list_open(p, &open_off)) != TW_OK)
            return rc;
        for (size_t n = 0;; n++) {
            if ((rc = list_next(p, open_off, &done)) != TW_OK)
                goto fail;
            if (done) {
                if (n == 0) {
                    rc = fail(p, TW_ESYNTAX, open_off, "empty list");
                    goto fail;
                }
                break;
            }
            if ((rc = parse_addr_into(p, &b, A_EITHER)) != TW_OK)
                goto fail;
        }
    } else if ((rc = parse_addr_into(p, &b,
                        net                  ? A_NET
                        : kind == K_EXPORTER ? A_EITHER
                                             : A_ADDR)) != TW_OK) {
        goto fail;
    }
    return finish_set(p, &b, kind, dir, at, out);
fail:
    setbuild_cleanup(&b);
    return rc;
}

/* "in [N ...]" after "port"; the word "in" is current. */
static int parse_port_list(struct parser *p, struct node *nd)
{
    size_t open_off = 0, n = 0;
    bool done = false;
    uint64_t v = 0;
    int rc;

    if ((rc = advance(p)) != TW_OK || (rc = parse_list_open(p, &open_off)) != TW_OK)
        return rc;
    nd->kind = K_PORTSET;
    nd->bits = tw_calloc(65536 / 64, sizeof(uint64_t));
    if (nd->bits == NULL)
        return fail(p, TW_ENOMEM, p->off, "out of memory");
    for (;; n++) {
        if ((rc = list_next(p, open_off, &done)) != TW_OK)
            return rc;
        if (done)
            break;
        if ((rc = parse_num(p, 65535, "expected a port number", &v)) != TW_OK)
            return rc;
        nd->bits[v >> 6] |= UINT64_C(1) << (v & 63);
    }
    if (n == 0)
        return fail(p, TW_ESYNTAX, open_off, "empty list");
    return TW_OK;
}

/* "port [cmp] N" or "port in [N ...]"; the word after "port" is current. */
static int parse_port(struct parser *p, enum dir dir, uint32_t *out)
{
    struct node nd;
    enum cmp cmp = C_EQ;
    uint64_t v = 0;
    int rc;

    memset(&nd, 0, sizeof(nd));
    nd.dir = (uint8_t)dir;
    if (is_word(p, "in")) {
        if ((rc = parse_port_list(p, &nd)) != TW_OK || (rc = add_node(p, &nd, out)) != TW_OK)
            tw_free(nd.bits);
        return rc;
    }
    if ((rc = parse_cmp(p, &cmp)) != TW_OK)
        return rc;
    if ((rc = parse_num(p, 65535, "expected a port number", &v)) != TW_OK)
        return rc;
    nd.kind = K_PORT;
    nd.cmp = (uint8_t)cmp;
    nd.num = v;
    return add_node(p, &nd, out);
}

static int parse_proto(struct parser *p, uint32_t *out)
{
    static const struct {
        const char *name;
        uint8_t num;
    } names[] = { { "icmp", 1 }, { "igmp", 2 }, { "ipip", 4 }, { "tcp", 6 }, { "udp", 17 },
        { "ipv6", 41 }, { "rsvp", 46 }, { "gre", 47 }, { "esp", 50 }, { "ah", 51 }, { "icmp6", 58 },
        { "icmpv6", 58 }, { "ipv6-icmp", 58 }, { "ospf", 89 }, { "pim", 103 }, { "vrrp", 112 },
        { "l2tp", 115 }, { "sctp", 132 }, { "udplite", 136 } };
    struct node nd;
    uint64_t v = 0;
    int rc;

    memset(&nd, 0, sizeof(nd));
    nd.kind = K_PROTO;
    for (size_t i = 0; i < TW_ARRAY_LEN(names); i++) {
        if (is_word(p, names[i].name)) {
            nd.num = names[i].num;
            if ((rc = advance(p)) != TW_OK)
                return rc;
            return add_node(p, &nd, out);
        }
    }
    if ((rc = parse_num(p, 255, "expected a protocol name or number", &v)) != TW_OK)
        return rc;
    nd.num = v;
    return add_node(p, &nd, out);
}

static int parse_flags(struct parser *p, uint32_t *out)
{
    struct tw_str w = tok_str(p);
    struct node nd;

    if (p->tk != T_WORD)
        return fail_tok(p, "expected TCP flag letters (A, C, E, F, P, R, S, U, X)");
    memset(&nd, 0, sizeof(nd));
    nd.kind = K_FLAGS;
    for (size_t i = 0; i < w.len; i++) {
        switch (tw_ascii_lower(w.ptr[i])) {
            case 'f':
                nd.num |= 0x01;
                break;
            case 's':
                nd.num |= 0x02;
                break;
            case 'r':
                nd.num |= 0x04;
                break;
            case 'p':
                nd.num |= 0x08;
                break;
            case 'a':
                nd.num |= 0x10;
                break;
            case 'u':
                nd.num |= 0x20;
                break;
            case 'e':
                nd.num |= 0x40;
                break;
            case 'c':
                nd.num |= 0x80;
                break;
            case 'x':
                nd.num |= 0x3f;
                break;
            default:
                return fail(p, TW_ESYNTAX, p->off + i,
                        "bad TCP flag letter (A, C, E, F, P, R, S, U, X)");
        }
    }
    {
        int rc = advance(p);
        if (rc != TW_OK)
            return rc;
    }
    return add_node(p, &nd, out);
}

/* "in if N", "out if N", "if N" (either); the word "if" is current. */
static int parse_if(struct parser *p, enum dir dir, uint32_t *out)
{
    struct node nd;
    enum cmp cmp = C_EQ;
    uint64_t v = 0;
    int rc;

    if (!is_word(p, "if"))
        return fail_tok(p, "expected 'if'");
    if ((rc = advance(p)) != TW_OK || (rc = parse_cmp(p, &cmp)) != TW_OK)
        return rc;
    if ((rc = parse_num(p, UINT32_MAX, "expected an interface index", &v)) != TW_OK)
        return rc;
    memset(&nd, 0, sizeof(nd));
    nd.kind = K_IF;
    nd.dir = (uint8_t)dir;
    nd.cmp = (uint8_t)cmp;
    nd.num = v;
    return add_node(p, &nd, out);
}

/* A primitive; the current token is its first word. */
static int parse_prim(struct parser *p, uint32_t *out)
{
    enum dir dir = D_EITHER;
    struct node nd;
    uint64_t v = 0;
    enum cmp cmp = C_EQ;
    int rc;

    memset(&nd, 0, sizeof(nd));
    if (p->tk != T_WORD)
        return fail_tok(p, "expected a filter primitive");
    if (is_word(p, "src") || is_word(p, "dst")) {
        dir = is_word(p, "src") ? D_SRC : D_DST;
        if ((rc = advance(p)) != TW_OK)
            return rc;
        if (!(is_word(p, "ip") || is_word(p, "host") || is_word(p, "net") || is_word(p, "port") ||
                    is_word(p, "as")))
            return fail_tok(p, "expected ip, host, net, port or as after src/dst");
    }
    if (is_word(p, "ip") || is_word(p, "host")) {
        if ((rc = advance(p)) != TW_OK)
            return rc;
        return parse_addr_prim(p, K_ADDR, dir, false, out);
    }
    if (is_word(p, "net")) {
        if ((rc = advance(p)) != TW_OK)
            return rc;
        return parse_addr_prim(p, K_ADDR, dir, true, out);
    }
    if (is_word(p, "port")) {
        if ((rc = advance(p)) != TW_OK)
            return rc;
        return parse_port(p, dir, out);
    }
    if (is_word(p, "as")) {
        if ((rc = advance(p)) != TW_OK ||
                (rc = parse_num(p, UINT32_MAX, "expected an AS number", &v)) != TW_OK)
            return rc;
        nd.kind = K_AS;
        nd.dir = (uint8_t)dir;
        nd.num = v;
        return add_node(p, &nd, out);
    }
    if (is_word(p, "proto")) {
        if ((rc = advance(p)) != TW_OK)
            return rc;
        return parse_proto(p, out);
    }
    if (is_word(p, "exporter")) {
        if ((rc = advance(p)) != TW_OK)
            return rc;
        return parse_addr_prim(p, K_EXPORTER, D_EITHER, false, out);
    }
    if (is_word(p, "in") || is_word(p, "out")) {
        dir = is_word(p, "in") ? D_SRC : D_DST;
        if ((rc = advance(p)) != TW_OK)
            return rc;
        return parse_if(p, dir, out);
    }
    if (is_word(p, "if"))
        return parse_if(p, D_EITHER, out);
    if (is_word(p, "vlan")) {
        if ((rc = advance(p)) != TW_OK ||
                (rc = parse_num(p, 4095, "expected a VLAN id", &v)) != TW_OK)
            return rc;
        nd.kind = K_VLAN;
        nd.num = v;
        return add_node(p, &nd, out);
    }
    if (is_word(p, "bytes") || is_word(p, "packets")) {
        nd.kind = is_word(p, "bytes") ? K_BYTES : K_PACKETS;
        if ((rc = advance(p)) != TW_OK || (rc = parse_cmp(p, &cmp)) != TW_OK ||
                (rc = parse_scaled(p, &v)) != TW_OK)
            return rc;
        nd.cmp = (uint8_t)cmp;
        nd.num = v;
        return add_node(p, &nd, out);
    }
    if (is_word(p, "flags")) {
        if ((rc = advance(p)) != TW_OK)
            return rc;
        return parse_flags(p, out);
    }
    if (is_word(p, "inet") || is_word(p, "ipv4") || is_word(p, "inet6") || is_word(p, "ipv6") ||
            is_word(p, "any")) {
        nd.kind = is_word(p, "any")                            ? K_ANY
                  : (is_word(p, "inet") || is_word(p, "ipv4")) ? K_INET
                                                               : K_INET6;
        if ((rc = advance(p)) != TW_OK)
            return rc;
        return add_node(p, &nd, out);
    }
    return fail_tok(p, "unknown filter primitive");
}

static int parse_factor(struct parser *p, uint32_t *out)
{
    uint32_t child = 0;
    int rc;

    if (is_word(p, "not")) {
        if (++p->depth > MAX_DEPTH)
            return fail(p, TW_ELIMIT, p->off, "filter nested too deeply");
        if ((rc = advance(p)) != TW_OK || (rc = parse_factor(p, &child)) != TW_OK)
            return rc;
        p->depth--;
        return add_parent(p, K_NOT, &child, 1, out);
    }
    if (p->tk == T_LPAREN) {
        size_t open = p->off;
        if (++p->depth > MAX_DEPTH)
            return fail(p, TW_ELIMIT, p->off, "filter nested too deeply");
        if ((rc = advance(p)) != TW_OK || (rc = parse_expr(p, out)) != TW_OK)
            return rc;
        if (p->tk != T_RPAREN) {
            char msg[64];
            (void)snprintf(msg, sizeof(msg), "expected ')' for the '(' at %zu", open);
            return fail_tok(p, msg);
        }
        p->depth--;
        return advance(p);
    }
    return parse_prim(p, out);
}

/* Can the current token start a factor (for "and" left out)? */
static bool starts_factor(const struct parser *p)
{
    if (p->tk == T_LPAREN)
        return true;
    return p->tk == T_WORD && !is_word(p, "or") && !is_word(p, "and");
}

/* Collects children joined by `joiner` (or juxtaposed, for "and"). */
static int parse_chain(struct parser *p, enum node_kind kind, uint32_t *out)
{
    uint32_t *kids = NULL, child = 0;
    size_t n = 0, cap = 0;
    int rc;

    for (;;) {
        rc = kind == K_OR ? parse_chain(p, K_AND, &child) : parse_factor(p, &child);
        if (rc != TW_OK)
            goto out;
        if (grow((void **)&kids, &cap, n + 1, sizeof(*kids)) != TW_OK) {
            rc = fail(p, TW_ENOMEM, p->off, "out of memory");
            goto out;
        }
        kids[n++] = child;
        if (kind == K_OR) {
            if (!is_word(p, "or"))
                break;
            if ((rc = advance(p)) != TW_OK)
                goto out;
        } else if (is_word(p, "and")) {
            if ((rc = advance(p)) != TW_OK)
                goto out;
        } else if (!starts_factor(p)) {
            break;
        }
    }
    if (n == 1)
        *out = kids[0];
    else
        rc = add_parent(p, kind, kids, n, out);
out:
    tw_free(kids);
    return rc;
}

static int parse_expr(struct parser *p, uint32_t *out)
{
    return parse_chain(p, K_OR, out);
}

static unsigned node_cols(const struct node *n)
{
    switch (n->kind) {
        case K_ADDR:
        case K_INET:
        case K_INET6:
            return TW_FARCH_COL_ADDR;
        case K_PORT:
        case K_PORTSET:
            return TW_FARCH_COL_PORTS;
        case K_PROTO:
        case K_FLAGS:
            return TW_FARCH_COL_PROTO;
        case K_EXPORTER:
            return TW_FARCH_COL_EXPORTER;
        case K_IF:
        case K_VLAN:
            return TW_FARCH_COL_IFACE;
        case K_AS:
            return TW_FARCH_COL_ROUTING;
        case K_BYTES:
        case K_PACKETS:
            return TW_FARCH_COL_COUNTERS;
        default:
            return 0;
    }
}

/* ==== Public: parse and free ==== */

void tw_flowfilter_free(struct tw_flowfilter *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n_nodes; i++) {
        set_free(f->nodes[i].set);
        tw_free(f->nodes[i].bits);
    }
    tw_free(f->nodes);
    tw_free(f->kids);
    tw_free(f);
}

int tw_flowfilter_parse(const char *expr, struct tw_flowfilter **out, struct tw_err *err)
{
    struct parser p;
    struct tw_flowfilter *f;
    int rc;

    *out = NULL;
    if (expr == NULL)
        return tw_err_set(err, TW_EINVAL, 0, "no filter");
    memset(&p, 0, sizeof(p));
    p.s = expr;
    p.len = strnlen(expr, MAX_LEN + 1);
    p.err = err;
    if (p.len > MAX_LEN)
        return tw_err_set(err, TW_ELIMIT, MAX_LEN, "filter longer than %zu bytes", MAX_LEN);
    f = tw_calloc(1, sizeof(*f));
    if (f == NULL)
        return tw_err_set(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    p.f = f;
    if ((rc = advance(&p)) != TW_OK)
        goto fail;
    if (p.tk == T_END) {
        rc = fail(&p, TW_ESYNTAX, 0, "empty filter");
        goto fail;
    }
    if ((rc = parse_expr(&p, &f->root)) != TW_OK)
        goto fail;
    if (p.tk != T_END) {
        rc = fail_tok(&p, p.tk == T_RPAREN ? "unmatched ')'" : "expected 'and', 'or' or the end");
        goto fail;
    }
    for (size_t i = 0; i < f->n_nodes; i++) {
        f->cols |= node_cols(&f->nodes[i]);
        f->uses_proto |= f->nodes[i].kind == K_PROTO || f->nodes[i].kind == K_FLAGS;
    }
    *out = f;
    return TW_OK;
fail:
    tw_flowfilter_free(f);
    return rc;
}

/* ==== Evaluation ==== */

static bool cmp_u64(enum cmp c, uint64_t have, uint64_t want)
{
    switch (c) {
        case C_LT:
            return have < want;
        case C_GT:
            return have > want;
        case C_LE:
            return have <= want;
        case C_GE:
            return have >= want;
        default:
            return have == want;
    }
}

static bool eval(const struct tw_flowfilter *f, uint32_t i, const struct tw_flowrec *r)
{
    const struct node *n = &f->nodes[i];

    switch (n->kind) {
        case K_AND:
            for (uint32_t k = 0; k < n->n; k++)
                if (!eval(f, f->kids[n->first + k], r))
                    return false;
            return true;
        case K_OR:
            for (uint32_t k = 0; k < n->n; k++)
                if (eval(f, f->kids[n->first + k], r))
                    return true;
            return false;
        case K_NOT:
            return !eval(f, f->kids[n->first], r);
        case K_ANY:
            return true;
        case K_ADDR:
            return (n->dir != D_DST && set_has_ip(n->set, &r->src)) ||
                   (n->dir != D_SRC && set_has_ip(n->set, &r->dst));
        case K_PORT:
            return (n->dir != D_DST && cmp_u64((enum cmp)n->cmp, r->sport, n->num)) ||
                   (n->dir != D_SRC && cmp_u64((enum cmp)n->cmp, r->dport, n->num));
        case K_PORTSET:
            return (n->dir != D_DST && ((n->bits[r->sport >> 6] >> (r->sport & 63)) & 1)) ||
                   (n->dir != D_SRC && ((n->bits[r->dport >> 6] >> (r->dport & 63)) & 1));
        case K_PROTO:
            return r->proto == n->num;
        case K_EXPORTER:
            return set_has_ip(n->set, &r->exporter);
        case K_IF:
            return (n->dir != D_DST && cmp_u64((enum cmp)n->cmp, r->in_if, n->num)) ||
                   (n->dir != D_SRC && cmp_u64((enum cmp)n->cmp, r->out_if, n->num));
        case K_VLAN:
            return r->vlan == n->num;
        case K_AS:
            return (n->dir != D_DST && r->src_as == n->num) ||
                   (n->dir != D_SRC && r->dst_as == n->num);
        case K_BYTES:
            return cmp_u64((enum cmp)n->cmp, r->bytes, n->num);
        case K_PACKETS:
            return cmp_u64((enum cmp)n->cmp, r->packets, n->num);
        case K_FLAGS:
            return r->proto == 6 && (r->tcp_flags & n->num) == n->num;
        case K_INET:
            return r->src.family == 4;
        case K_INET6:
            return r->src.family == 6;
        default:
            return false;
    }
}

bool tw_flowfilter_match(const struct tw_flowfilter *f, const struct tw_flowrec *r)
{
    if (f == NULL)
        return true;
    return eval(f, f->root, r);
}

/* What a summary allows of a node: some record may make it true / false. */
struct maybe {
    bool t, f;
};

static bool proto_present(const struct tw_farch_summary *s, unsigned proto)
{
    return (s->protos[proto >> 3] >> (proto & 7)) & 1;
}

static bool side_possible(
        const struct addrset *set, const struct tw_farch_summary *s, uint32_t lo, uint32_t hi)
{
    /* IPv6 records (mapped ones included) are not summarised: any may match. */
    if (s->has_v6 && !set_empty(set))
        return true;
    return s->has_v4 && set_overlaps_v4(set, lo, hi);
}

/*
 * proto is the protocol every record in question has, or -1 when unknown:
 * tw_flowfilter_may_match asks once per protocol present in the summary, so
 * protocol conditions are decided exactly.
 */
static struct maybe may(
        const struct tw_flowfilter *f, uint32_t i, const struct tw_farch_summary *s, int proto)
{
    const struct node *n = &f->nodes[i];
    struct maybe m = { true, true }, c;

    switch (n->kind) {
        case K_AND:
            m.f = false;
            for (uint32_t k = 0; k < n->n; k++) {
                c = may(f, f->kids[n->first + k], s, proto);
                m.t = m.t && c.t;
                m.f = m.f || c.f;
            }
            return m;
        case K_OR:
            m.t = false;
            for (uint32_t k = 0; k < n->n; k++) {
                c = may(f, f->kids[n->first + k], s, proto);
                m.t = m.t || c.t;
                m.f = m.f && c.f;
            }
            return m;
        case K_NOT:
            c = may(f, f->kids[n->first], s, proto);
            m.t = c.f;
            m.f = c.t;
            return m;
        case K_ANY:
            m.f = false;
            return m;
        case K_ADDR:
            m.t = (n->dir != D_DST && side_possible(n->set, s, s->src4_min, s->src4_max)) ||
                  (n->dir != D_SRC && side_possible(n->set, s, s->dst4_min, s->dst4_max));
            return m;
        case K_PROTO:
            if (proto >= 0) {
                m.t = (uint64_t)proto == n->num;
                m.f = !m.t;
            }
            return m;
        case K_FLAGS:
            m.t = proto < 0 || proto == 6;
            return m;
        case K_INET:
            m.t = s->has_v4;
            return m;
        case K_INET6:
            m.t = s->has_v6;
            return m;
        default:
            return m;
    }
}

bool tw_flowfilter_may_match(const struct tw_flowfilter *f, const struct tw_farch_summary *s)
{
    bool any_proto = false;

    if (s->records == 0)
        return false;
    if (f == NULL)
        return true;
    if (!f->uses_proto)
        return may(f, f->root, s, -1).t;
    for (int p = 0; p < 256; p++) {
        if (!proto_present(s, (unsigned)p))
            continue;
        any_proto = true;
        if (may(f, f->root, s, p).t)
            return true;
    }
    /* A summary with no protocol bits says nothing about them. */
    return !any_proto && may(f, f->root, s, -1).t;
}

unsigned tw_flowfilter_columns(const struct tw_flowfilter *f)
{
    return f == NULL ? 0 : f->cols;
}
