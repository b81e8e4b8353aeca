/*
 * flowhunt.c: retro-hunting the flow archive for the intelligence
 * (include/tidewatch/flowhunt.h, docs/internals/FLOWHUNT.md).
 *
 * Work. The files of the window are listed once; the work is then handed
 * out one block at a time, in archive order, by a dispenser under a lock.
 * The dispenser opens each file when it reaches it (its summary may skip it
 * whole) and gives that reader to the worker that asked; other workers open
 * their own reader for the same file when they get one of its blocks, since
 * a reader's arrays belong to one caller. Each task carries a sequence
 * number; its hits go into the ring slot of that number, and whichever
 * worker finds the next slot in order complete delivers it (the callback
 * runs outside the lock, and from one thread at a time). A worker does not
 * take a task more than RING_PER_THREAD * threads ahead of delivery, so
 * memory stays bounded however slowly the callback runs.
 *
 * A block. Its summary may skip it (time window, filter). Otherwise the
 * address columns are read (and the times, unless the summary shows every
 * record inside the window; and the ports, when the index holds port
 * indicators). When the index kept its source, its IPv4 values are flattened
 * once into a prefilter (a bit filter, a set of exact addresses, merged
 * network intervals) and one branch-free pass lists the records that may
 * match; those, and every record otherwise, are looked up in the index
 * (tw_index_lookup_ipv4, tw_index_lookup_ip for IPv6, tw_index_lookup_port).
 * Only when something is found are the other columns of the block read (the
 * ones the caller asked for), the found records completed, and for each
 * indicator: an exact indicator is a hit; any other is verified by
 * evaluating its pattern against the flow as a STIX observation (addresses,
 * ports, protocols, times, counters), so a pattern that also asks for a port
 * or a protocol matches only flows that have them.
 */
#include "tidewatch/flowhunt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <pthread.h>
#include <unistd.h>

#include "tidewatch/alloc.h"
#include "tidewatch/buf.h"
#include "tidewatch/flowarch.h"
#include "tidewatch/log.h"
#include "tidewatch/pattern.h"
#include "tidewatch/time.h"

/* ==== Types ==== */

#define MAX_THREADS     64u
#define RING_PER_THREAD 4u
/* Indicator numbers one lookup writes before falling back to a larger buffer. */
#define LOOKUP_FAST 64u
/*
 * Files are listed by partition (the time a record was received), records
 * are tested by their own times: a flow's partition can lie after its last
 * packet (export delay, long flows cut by the active timeout) or, with a
 * skewed exporter clock, before it. Partitions this far outside the window
 * are listed too, and their summaries decide.
 */
#define LIST_SLACK_MS (INT64_C(3600) * 1000)

/* One hit of a task: record rec of the task's records. */
struct hit_ent {
    uint32_t rec;
    uint32_t indicator;
    uint8_t side; /* TW_FLOWHUNT_SRC | TW_FLOWHUNT_DST */
};

/* A task's results, in its ring slot. */
struct result {
    size_t file;
    struct tw_flowrec *recs;
    size_t n_recs, cap_recs;
    struct hit_ent *hits;
    size_t n_hits, cap_hits;
    bool ready;
};

/* A candidate found by the address (or port) pass: record i, indicator, side. */
struct cand {
    uint32_t i;
    uint32_t indicator;
    uint8_t side;
};

struct counters {
    uint64_t files_skipped, files_bad, blocks, blocks_skipped, blocks_bad, records;
};

/* An IPv4 network as an interval of host-order addresses (inclusive). */
struct iv4 {
    uint32_t lo, hi;
};

/*
 * The index's IPv4 values, flattened (see build_prefilter): a set of its
 * exact addresses and its networks as merged intervals. A record address
 * that is in neither cannot match; one that is goes to the index for the
 * indicators. In front of the set, a bit filter small enough for the first
 * level cache (16 bits per address, one hash) turns most addresses away
 * with one load.
 */
struct prefilter {
    bool active;
    uint32_t *tab;    /* open addressing, 0 = empty slot */
    unsigned bits;    /* log2 of the slots */
    uint64_t *filter; /* one bit per hash of the exact addresses, 16 bits per address */
    unsigned fbits;   /* log2 of the filter's bits */
    bool zero;        /* 0.0.0.0 is listed */
    struct iv4 *iv;
    size_t n_iv;
};

struct hunt {
    const struct tw_flowhunt_config *cfg;
    const struct tw_index *idx;
    struct tw_farch_file *files;
    size_t n_files;
    struct prefilter pf;
    unsigned want_cols;     /* columns the hits' records carry */
    bool use_ports;         /* the index holds port indicators */
    uint64_t *port_bits[2]; /* ports any indicator names: [0] source, [1] destination */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* The dispenser (under lock). */
    size_t cur_file;    /* the file blocks are handed out from */
    size_t cur_block;   /* its next block */
    size_t cur_nblocks; /* its blocks; 0 when not opened yet */
    bool cur_open;      /* cur_file was opened and is being handed out */
    uint64_t next_seq;  /* of the next task */
    /* Delivery (under lock). */
    struct result *ring;
    size_t ring_len;
    uint64_t next_deliver;
    bool delivering;
    tw_flowhunt_hit_fn fn;
    void *arg;
    bool stop;
    int stop_rc; /* what the callback returned */
    int fatal;   /* a failure of the whole hunt (TW_ENOMEM) */
    struct tw_err *err;
    uint64_t hits;
    struct counters total;
};

struct worker {
    struct hunt *h;
    struct tw_farch_reader *rd; /* the reader this worker holds */
    size_t rd_file;
    struct cand *cands;
    size_t n_cands, cap_cands;
    uint32_t *big; /* lookup buffer when LOOKUP_FAST is not enough */
    size_t cap_big;
    uint32_t *list; /* records the filter pass let through */
    size_t cap_list;
    struct counters c;
};

/* ==== Helpers ==== */

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    size_t ncap;
    void *p;

    if (need <= *cap)
        return TW_OK;
    ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    p = tw_reallocarray(*arr, ncap, elem);
    if (p == NULL)
        return TW_ENOMEM;
    *arr = p;
    *cap = ncap;
    return TW_OK;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

/* Could some record summarised by s lie in the window? */
static bool in_window(const struct tw_flowhunt_config *cfg, const struct tw_farch_summary *s)
{
    return s->records > 0 && s->last_ms >= cfg->from_ms && s->first_ms < cfg->to_ms;
}

/* Does every record summarised by s lie in the window? */
static bool all_in_window(const struct tw_flowhunt_config *cfg, const struct tw_farch_summary *s)
{
    return s->first_ms >= cfg->from_ms && s->last_ms < cfg->to_ms;
}

static void set_fatal(struct hunt *h, int rc, const char *what)
{
    (void)pthread_mutex_lock(&h->lock);
    if (h->fatal == TW_OK) {
        h->fatal = rc;
        (void)tw_err_set(h->err, rc, TW_NOPOS, "flow hunt: %s", what);
    }
    h->stop = true;
    (void)pthread_cond_broadcast(&h->cond);
    (void)pthread_mutex_unlock(&h->lock);
}

/* ==== The IPv4 prefilter ==== */

static inline size_t pf_slot(uint32_t a, unsigned bits)
{
    return (size_t)((uint32_t)(a * UINT32_C(2654435761)) >> (32 - bits));
}

/* True when a is inside one of the intervals (sorted, disjoint). */
static bool pf_in_iv(const struct prefilter *pf, uint32_t a)
{
    size_t lo = 0, hi = pf->n_iv;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pf->iv[mid].lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && a <= pf->iv[lo - 1].hi;
}

/* True when some interval meets [lo, hi]. */
static bool pf_iv_overlaps(const struct prefilter *pf, uint32_t lo, uint32_t hi)
{
    size_t a = 0, b = pf->n_iv;

    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (pf->iv[mid].hi < lo)
            a = mid + 1;
        else
            b = mid;
    }
    return a < pf->n_iv && pf->iv[a].lo <= hi;
}

/* The filter's bit for a (another hash than the table's). */
static inline bool pf_maybe(const struct prefilter *pf, uint32_t a)
{
    uint32_t f = (uint32_t)(((uint64_t)a * UINT64_C(0xd6e8feb86659fd93)) >> (64 - pf->fbits));

    return (pf->filter[f >> 6] >> (f & 63)) & 1;
}

static inline bool pf_exact(const struct prefilter *pf, uint32_t a)
{
    size_t mask = ((size_t)1 << pf->bits) - 1, at = pf_slot(a, pf->bits);

    if (TW_UNLIKELY(a == 0))
        return pf->zero;
    if (!pf_maybe(pf, a))
        return false;
    for (uint32_t k; (k = pf->tab[at]) != 0; at = (at + 1) & mask)
        if (k == a)
            return true;
    return false;
}

static int cmp_iv4(const void *pa, const void *pb)
{
    const struct iv4 *a = pa, *b = pb;

    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return (a->hi > b->hi) - (a->hi < b->hi);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Flattens the index's IPv4 values into the prefilter. The index has no
 * call that lists its values; its compiled form (tw_index_save, the format
 * of docs/internals/INDEX.md, "Compiled files") does, for an index that kept
 * its source (tw_index_keep_source). Atom record: kind u8, flags u8, prefix
 * length u8, family u8, indicator u32, key length u32, key (16 address bytes
 * for addresses). Without it, or on anything unexpected, the prefilter stays
 * off and every address goes to the index. Returns TW_OK or TW_ENOMEM.
 */
static int build_prefilter(struct prefilter *pf, const struct tw_index *idx)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    struct tw_buf b;
    const uint8_t *p, *end;
    uint32_t *exact = NULL;
    size_t n_exact = 0, cap_exact = 0, cap_iv = 0, at;
    uint64_t n_ind, n_atoms, names, atoms;
    int rc = TW_OK;

    memset(pf, 0, sizeof(*pf));
    tw_buf_init(&b, (size_t)1 << 34);
    if (tw_index_save(idx, &b) != TW_OK || b.len < 64 ||
            memcmp(b.ptr, TW_INDEX_FILE_MAGIC, TW_INDEX_FILE_MAGIC_LEN) != 0 ||
            le32((const uint8_t *)b.ptr + 8) != 1)
        goto out; /* no source kept: the prefilter stays off */
    p = (const uint8_t *)b.ptr;
    n_ind = le32(p + 12);
    n_atoms = le32(p + 16);
    names = le32(p + 24) | (uint64_t)le32(p + 28) << 32;
    atoms = le32(p + 32) | (uint64_t)le32(p + 36) << 32;
    if (n_ind * 32 > b.len || names > b.len || atoms > b.len ||
            64 + n_ind * 32 + names + atoms > b.len)
        goto out;
    p += 64 + n_ind * 32 + names;
    end = p + atoms;
    for (uint64_t k = 0; k < n_atoms; k++) {
        uint32_t key_len, a;
        unsigned plen;
        if ((size_t)(end - p) < 12 || (size_t)(end - p) - 12 < (key_len = le32(p + 8)))
            goto out;
        plen = p[2];
        if (p[0] == TW_INDEX_ADDR && key_len == 16) {
            const uint8_t *ab = p + 12;
            bool v4 = p[3] == 4;
            if (p[3] == 6 && plen >= 96 && memcmp(ab, mapped, sizeof(mapped)) == 0) {
                ab += 12;
                plen -= 96;
                v4 = true;
            }
            if (v4 && plen <= 32) {
                a = (uint32_t)ab[0] << 24 | (uint32_t)ab[1] << 16 | (uint32_t)ab[2] << 8 | ab[3];
                if (plen == 32 && a == 0) {
                    pf->zero = true;
                } else if (plen == 32) {
                    if (grow((void **)&exact, &cap_exact, n_exact + 1, sizeof(*exact)) != TW_OK)
                        goto nomem;
                    exact[n_exact++] = a;
                } else {
                    if (grow((void **)&pf->iv, &cap_iv, pf->n_iv + 1, sizeof(*pf->iv)) != TW_OK)
                        goto nomem;
                    a &= plen == 0 ? 0 : UINT32_MAX << (32 - plen);
                    pf->iv[pf->n_iv].lo = a;
                    pf->iv[pf->n_iv].hi = a | (plen == 0 ? UINT32_MAX : UINT32_MAX >> plen);
                    pf->n_iv++;
                }
            }
        }
        p += 12 + key_len;
    }
    /* Networks merged into disjoint intervals. */
    if (pf->n_iv > 0) {
        size_t w = 0;
        qsort(pf->iv, pf->n_iv, sizeof(*pf->iv), cmp_iv4);
        for (size_t i = 1; i < pf->n_iv; i++) {
            if ((uint64_t)pf->iv[i].lo <= (uint64_t)pf->iv[w].hi + 1) {
                if (pf->iv[i].hi > pf->iv[w].hi)
                    pf->iv[w].hi = pf->iv[i].hi;
            } else {
                pf->iv[++w] = pf->iv[i];
            }
        }
        pf->n_iv = w + 1;
    }
    /* The exact set at most a quarter full. */
    pf->bits = 4;
    while (((size_t)1 << pf->bits) < 4 * n_exact)
        pf->bits++;
    pf->tab = tw_calloc((size_t)1 << pf->bits, sizeof(*pf->tab));
    if (pf->tab == NULL)
        goto nomem;
    pf->fbits = 9;
    while (((size_t)1 << pf->fbits) < 16 * n_exact)
        pf->fbits++;
    pf->filter = tw_calloc(((size_t)1 << pf->fbits) / 64, sizeof(*pf->filter));
    if (pf->filter == NULL)
        goto nomem;
    for (size_t i = 0; i < n_exact; i++) {
        uint32_t f =
                (uint32_t)(((uint64_t)exact[i] * UINT64_C(0xd6e8feb86659fd93)) >> (64 - pf->fbits));
        pf->filter[f >> 6] |= UINT64_C(1) << (f & 63);
        for (at = pf_slot(exact[i], pf->bits); pf->tab[at] != 0 && pf->tab[at] != exact[i];)
            at = (at + 1) & (((size_t)1 << pf->bits) - 1);
        pf->tab[at] = exact[i];
    }
    pf->active = true;
    goto out;
nomem:
    rc = TW_ENOMEM;
out:
    if (!pf->active) {
        tw_free(pf->tab);
        tw_free(pf->filter);
        tw_free(pf->iv);
        memset(pf, 0, sizeof(*pf));
    }
    tw_free(exact);
    tw_buf_cleanup(&b);
    return rc;
}

/* ==== Observations and verification ==== */

static const char *l4_name(uint8_t proto)
{
    switch (proto) {
        case 1:
            return "icmp";
        case 6:
            return "tcp";
        case 17:
            return "udp";
        case 47:
            return "gre";
        case 50:
            return "esp";
        case 58:
            return "ipv6-icmp";
        case 132:
            return "sctp";
        default:
            return NULL;
    }
}

static bool has_ports(uint8_t proto)
{
    return proto == 6 || proto == 17 || proto == 132 || proto == 33 || proto == 136;
}

static void stix_ms(int64_t ms, char out[TW_TIME_STRLEN])
{
    struct tw_time t;

    t.sec = ms / 1000;
    t.nsec = (uint32_t)((ms % 1000 + 1000) % 1000) * 1000000u;
    if (ms < 0 && ms % 1000 != 0)
        t.sec--;
    t.frac_digits = 3;
    (void)tw_time_format(&t, 3, out);
}

static json_t *addr_object(const struct tw_ip *ip)
{
    char text[TW_IP_STRLEN];

    (void)tw_ip_format(ip, text);
    return json_pack(
            "{s:s,s:s}", "type", ip->family == 4 ? "ipv4-addr" : "ipv6-addr", "value", text);
}

/*
 * The flow as an array of one STIX observation: its two addresses and a
 * network-traffic object with ports (TCP, UDP, SCTP, DCCP, UDP-Lite), ICMP
 * type and code, protocols, times and counters. NULL on ENOMEM.
 */
static json_t *observation(const struct tw_flowrec *r)
{
    char first[TW_TIME_STRLEN], last[TW_TIME_STRLEN];
    json_t *arr, *o, *objs, *nt, *protos;
    const char *l4 = l4_name(r->proto);

    stix_ms(r->first_ms, first);
    stix_ms(r->last_ms, last);
    protos = json_pack("[s]", r->src.family == 6 ? "ipv6" : "ipv4");
    if (protos != NULL && l4 != NULL)
        (void)json_array_append_new(protos, json_string(l4));
    nt = json_pack("{s:s,s:s,s:s,s:o,s:s,s:s,s:I,s:I}", "type", "network-traffic", "src_ref", "0",
            "dst_ref", "1", "protocols", protos, "start", first, "end", last, "src_packets",
            (json_int_t)TW_MIN(r->packets, (uint64_t)INT64_MAX), "src_byte_count",
            (json_int_t)TW_MIN(r->bytes, (uint64_t)INT64_MAX));
    if (nt != NULL && has_ports(r->proto)) {
        (void)json_object_set_new(nt, "src_port", json_integer(r->sport));
        (void)json_object_set_new(nt, "dst_port", json_integer(r->dport));
    } else if (nt != NULL && (r->proto == 1 || r->proto == 58)) {
        char type[8], code[8];
        (void)snprintf(type, sizeof(type), "%02x", (unsigned)(r->dport >> 8));
        (void)snprintf(code, sizeof(code), "%02x", (unsigned)(r->dport & 0xff));
        (void)json_object_set_new(nt, "extensions",
                json_pack(
                        "{s:{s:s,s:s}}", "icmp-ext", "icmp_type_hex", type, "icmp_code_hex", code));
    }
    objs = json_pack(
            "{s:o,s:o,s:o}", "0", addr_object(&r->src), "1", addr_object(&r->dst), "2", nt);
    o = json_pack("{s:s,s:s,s:i,s:o}", "first_observed", first, "last_observed", last,
            "number_observed", 1, "objects", objs);
    arr = json_pack("[o]", o);
    return arr;
}

/* ==== The dispenser ==== */

struct task {
    size_t file, block;
    uint64_t seq;
};

/* Opens file k for w (closing what it held). Returns the reader or NULL. */
static struct tw_farch_reader *worker_reader(struct worker *w, size_t k, bool report)
{
    struct tw_err err;

    if (w->rd != NULL && w->rd_file == k)
        return w->rd;
    tw_farch_reader_close(w->rd);
    w->rd = NULL;
    tw_err_clear(&err);
    if (tw_farch_reader_open(w->h->files[k].path, &w->rd, &err) != TW_OK) {
        w->rd = NULL;
        if (report)
            tw_log(TW_LOG_WARN, "flows", "%s (file skipped)", err.msg);
        return NULL;
    }
    w->rd_file = k;
    return w->rd;
}

/*
 * The next task, under h->lock: the next block of the current file, or the
 * first block of the next file that its summary does not rule out. Opening
 * a file happens here, so files are opened (and counted) once, in order.
 */
static bool dispense(struct worker *w, struct task *t)
{
    struct hunt *h = w->h;

    while (h->cur_file < h->n_files) {
        if (!h->cur_open) {
            struct tw_farch_reader *rd = worker_reader(w, h->cur_file, true);
            const struct tw_farch_summary *s;
            if (rd == NULL) {
                w->c.files_bad++;
                h->cur_file++;
                continue;
            }
            s = tw_farch_reader_summary(rd);
            if (!in_window(h->cfg, s) ||
                    (h->cfg->filter != NULL && !tw_flowfilter_may_match(h->cfg->filter, s))) {
                w->c.files_skipped++;
                h->cur_file++;
                continue;
            }
            h->cur_open = true;
            h->cur_block = 0;
            h->cur_nblocks = tw_farch_reader_nblocks(rd);
        }
        if (h->cur_block < h->cur_nblocks) {
            t->file = h->cur_file;
            t->block = h->cur_block++;
            t->seq = h->next_seq++;
            return true;
        }
        h->cur_open = false;
        h->cur_file++;
    }
    return false;
}

/* ==== One block ==== */

static int add_cand(struct worker *w, uint32_t i, uint32_t ind, uint8_t side)
{
    /* The same indicator on both sides of one record is one hit. */
    for (size_t k = w->n_cands; k > 0 && w->cands[k - 1].i == i; k--) {
        if (w->cands[k - 1].indicator == ind) {
            w->cands[k - 1].side |= side;
            return TW_OK;
        }
    }
    if (grow((void **)&w->cands, &w->cap_cands, w->n_cands + 1, sizeof(*w->cands)) != TW_OK)
        return TW_ENOMEM;
    w->cands[w->n_cands].i = i;
    w->cands[w->n_cands].indicator = ind;
    w->cands[w->n_cands].side = side;
    w->n_cands++;
    return TW_OK;
}

/* Adds the usable indicators of one lookup's result (revoked ones are left out). */
static int add_found(struct worker *w, uint32_t i, const uint32_t *found, size_t n, uint8_t side)
{
    for (size_t k = 0; k < n; k++) {
        const struct tw_indicator *ind = tw_index_get(w->h->idx, found[k]);
        if (ind == NULL || (ind->flags & TW_IND_REVOKED))
            continue;
        if (add_cand(w, i, found[k], side) != TW_OK)
            return TW_ENOMEM;
    }
    return TW_OK;
}

/*
 * A lookup that returned `total` matches with only LOOKUP_FAST written:
 * repeats it with a buffer large enough. kind: 0 IPv4, 1 IP, 2 port.
 */
static const uint32_t *lookup_all(struct worker *w, int kind, uint32_t v4, const struct tw_ip *ip,
        uint16_t port, bool dst, size_t total)
{
    if (grow((void **)&w->big, &w->cap_big, total, sizeof(*w->big)) != TW_OK)
        return NULL;
    if (kind == 0)
        (void)tw_index_lookup_ipv4(w->h->idx, v4, w->big, total);
    else if (kind == 1)
        (void)tw_index_lookup_ip(w->h->idx, ip, w->big, total);
    else
        (void)tw_index_lookup_port(w->h->idx, port, dst, w->big, total);
    return w->big;
}

static int look_v4(struct worker *w, uint32_t i, uint32_t a, uint8_t side)
{
    uint32_t fast[LOOKUP_FAST];
    size_t n = tw_index_lookup_ipv4(w->h->idx, a, fast, LOOKUP_FAST);
    const uint32_t *found = fast;

    if (TW_LIKELY(n == 0))
        return TW_OK;
    if (n > LOOKUP_FAST && (found = lookup_all(w, 0, a, NULL, 0, false, n)) == NULL)
        return TW_ENOMEM;
    return add_found(w, i, found, n, side);
}

static int look_v6(struct worker *w, uint32_t i, const uint8_t bytes[16], uint8_t side)
{
    uint32_t fast[LOOKUP_FAST];
    struct tw_ip ip;
    size_t n;
    const uint32_t *found = fast;

    ip.family = 6;
    memcpy(ip.bytes, bytes, 16);
    n = tw_index_lookup_ip(w->h->idx, &ip, fast, LOOKUP_FAST);
    if (n == 0)
        return TW_OK;
    if (n > LOOKUP_FAST && (found = lookup_all(w, 1, 0, &ip, 0, false, n)) == NULL)
        return TW_ENOMEM;
    return add_found(w, i, found, n, side);
}

static int look_port(struct worker *w, uint32_t i, uint16_t port, bool dst)
{
    uint32_t fast[LOOKUP_FAST];
    const uint64_t *bits = w->h->port_bits[dst ? 1 : 0];
    size_t n;
    const uint32_t *found = fast;

    if (((bits[port >> 6] >> (port & 63)) & 1) == 0)
        return TW_OK;
    n = tw_index_lookup_port(w->h->idx, port, dst, fast, LOOKUP_FAST);
    if (n == 0)
        return TW_OK;
    if (n > LOOKUP_FAST && (found = lookup_all(w, 2, 0, NULL, port, dst, n)) == NULL)
        return TW_ENOMEM;
    return add_found(w, i, found, n, dst ? TW_FLOWHUNT_DST : TW_FLOWHUNT_SRC);
}

/* Looks record i of the block up in full: addresses (and ports). */
static int look_record(
        struct worker *w, const struct tw_farch_block *b, size_t i, bool src_iv, bool dst_iv)
{
    const struct prefilter *pf = &w->h->pf;
    uint32_t k = (uint32_t)i;
    int rc = TW_OK;

    if (TW_LIKELY(!b->is_v6[i])) {
        uint32_t sa = b->src4[i], da = b->dst4[i];
        if (!pf->active || pf_exact(pf, sa) || (src_iv && pf_in_iv(pf, sa)))
            rc = look_v4(w, k, sa, TW_FLOWHUNT_SRC);
        if (rc == TW_OK && (!pf->active || pf_exact(pf, da) || (dst_iv && pf_in_iv(pf, da))))
            rc = look_v4(w, k, da, TW_FLOWHUNT_DST);
    } else {
        rc = look_v6(w, k, b->src6[i], TW_FLOWHUNT_SRC);
        if (rc == TW_OK)
            rc = look_v6(w, k, b->dst6[i], TW_FLOWHUNT_DST);
    }
    if (w->h->use_ports && rc == TW_OK) {
        rc = look_port(w, k, b->sport[i], false);
        if (rc == TW_OK)
            rc = look_port(w, k, b->dport[i], true);
    }
    return rc;
}

static inline unsigned port_bit(const uint64_t *bits, uint16_t p)
{
    return (unsigned)(bits[p >> 6] >> (p & 63)) & 1u;
}

/*
 * The address (and port) pass over a block read with at least the address
 * columns. With the prefilter and no network near the block's addresses, a
 * first loop without data-dependent branches (so the processor overlaps its
 * loads) lists the records whose addresses pass the bit filter, are IPv6 or
 * whose ports an indicator names; only those are looked at further.
 */
static int scan_block(struct worker *w, const struct tw_farch_block *b,
        const struct tw_farch_summary *s, bool check_time)
{
    const struct tw_flowhunt_config *cfg = w->h->cfg;
    const struct prefilter *pf = &w->h->pf;
    /* Networks matter to a side only when its address range meets one. */
    bool src_iv = pf->n_iv > 0 && pf_iv_overlaps(pf, s->src4_min, s->src4_max);
    bool dst_iv = pf->n_iv > 0 && pf_iv_overlaps(pf, s->dst4_min, s->dst4_max);
    size_t n_list = 0;
    int rc = TW_OK;

    w->n_cands = 0;
    if (!pf->active || src_iv || dst_iv) {
        for (size_t i = 0; i < b->n && rc == TW_OK; i++) {
            if (check_time && (b->last_ms[i] < cfg->from_ms || b->first_ms[i] >= cfg->to_ms))
                continue;
            rc = look_record(w, b, i, src_iv, dst_iv);
        }
        return rc;
    }
    if (grow((void **)&w->list, &w->cap_list, b->n, sizeof(*w->list)) != TW_OK)
        return TW_ENOMEM;
    {
        const uint32_t *src4 = b->src4, *dst4 = b->dst4;
        const uint8_t *is_v6 = b->is_v6;
        const uint64_t *filter = pf->filter;
        const uint64_t *ps = w->h->use_ports ? w->h->port_bits[0] : NULL;
        const uint64_t *pd = w->h->port_bits[1];
        const unsigned shift = 64 - pf->fbits, zero = pf->zero;
        uint32_t *list = w->list;

        for (size_t i = 0; i < b->n; i++) {
            uint32_t sa = src4[i], da = dst4[i];
            uint32_t fs = (uint32_t)(((uint64_t)sa * UINT64_C(0xd6e8feb86659fd93)) >> shift);
            uint32_t fd = (uint32_t)(((uint64_t)da * UINT64_C(0xd6e8feb86659fd93)) >> shift);
            unsigned f =
                    (unsigned)((filter[fs >> 6] >> (fs & 63)) | (filter[fd >> 6] >> (fd & 63))) &
                    1u;
            f |= is_v6[i] | (zero & (unsigned)((sa == 0) | (da == 0)));
            if (ps != NULL)
                f |= port_bit(ps, b->sport[i]) | port_bit(pd, b->dport[i]);
            list[n_list] = (uint32_t)i;
            n_list += f;
        }
    }
    for (size_t k = 0; k < n_list && rc == TW_OK; k++) {
        size_t i = w->list[k];
        if (check_time && (b->last_ms[i] < cfg->from_ms || b->first_ms[i] >= cfg->to_ms))
            continue;
        rc = look_record(w, b, i, false, false);
    }
    return rc;
}

/* Appends record r (once) and its hit on indicator ind to the result. */
static int push_hit(
        struct result *res, const struct tw_flowrec *r, bool new_rec, uint32_t ind, uint8_t side)
{
    if (new_rec) {
        if (grow((void **)&res->recs, &res->cap_recs, res->n_recs + 1, sizeof(*res->recs)) != TW_OK)
            return TW_ENOMEM;
        res->recs[res->n_recs++] = *r;
    }
    if (grow((void **)&res->hits, &res->cap_hits, res->n_hits + 1, sizeof(*res->hits)) != TW_OK)
        return TW_ENOMEM;
    res->hits[res->n_hits].rec = (uint32_t)(res->n_recs - 1);
    res->hits[res->n_hits].indicator = ind;
    res->hits[res->n_hits].side = side;
    res->n_hits++;
    return TW_OK;
}

/* Verifies indicator ind's pattern on r; *obs is built on first use. */
static bool verify(
        struct worker *w, uint32_t ind, const struct tw_flowrec *r, json_t **obs, int *rc)
{
    const struct tw_pattern *pat = tw_index_pattern(w->h->idx, ind);
    bool matched = false;

    if (pat == NULL)
        return true; /* exact: the lookup decided */
    if (*obs == NULL && (*obs = observation(r)) == NULL) {
        *rc = TW_ENOMEM;
        return false;
    }
    if (tw_pattern_match(pat, *obs, &matched, NULL) != TW_OK)
        return false;
    return matched;
}

/*
 * Completes the candidates' records from a second read of the block (the
 * columns not read yet) and keeps those that pass the filter and their
 * indicators' patterns.
 */
static int finish_block(struct worker *w, struct tw_farch_reader *rd, size_t bi,
        const struct tw_farch_block *first, unsigned first_cols, struct result *res,
        struct tw_err *err)
{
    const struct tw_flowhunt_config *cfg = w->h->cfg;
    struct tw_flowrec *saved;
    struct tw_farch_block b2;
    size_t n_recs = 0;
    unsigned cols2 = w->h->want_cols;
    int rc = TW_OK;

    /* The first read's arrays end with the next read: keep what the hits need. */
    for (size_t k = 0; k < w->n_cands; k++)
        n_recs += k == 0 || w->cands[k].i != w->cands[k - 1].i;
    saved = tw_calloc(n_recs, sizeof(*saved));
    if (saved == NULL)
        return TW_ENOMEM;
    /* Verifying a pattern looks at the flow's times, ports, protocol and counters. */
    for (size_t k = 0; k < w->n_cands; k++)
        if (tw_index_pattern(w->h->idx, w->cands[k].indicator) != NULL)
            cols2 |= TW_FARCH_COL_TIME | TW_FARCH_COL_PORTS | TW_FARCH_COL_PROTO |
                     TW_FARCH_COL_COUNTERS;
    cols2 &= ~first_cols;
    n_recs = 0;
    for (size_t k = 0; k < w->n_cands; k++) {
        if (k > 0 && w->cands[k].i == w->cands[k - 1].i)
            continue;
        tw_farch_block_record(first, w->cands[k].i, &saved[n_recs++]);
    }
    rc = tw_farch_read_block(rd, bi, cols2, &b2, err);
    if (rc != TW_OK) {
        tw_free(saved);
        return rc == TW_ENOMEM ? TW_ENOMEM : TW_EINVAL;
    }
    n_recs = 0;
    for (size_t k = 0; k < w->n_cands && rc == TW_OK;) {
        uint32_t i = w->cands[k].i;
        struct tw_flowrec r;
        json_t *obs = NULL;
        bool pushed = false;
        const struct tw_flowrec *s = &saved[n_recs++];

        tw_farch_block_record(&b2, i, &r);
        r.src = s->src;
        r.dst = s->dst;
        if (first_cols & TW_FARCH_COL_TIME) {
            r.first_ms = s->first_ms;
            r.last_ms = s->last_ms;
        }
        if (first_cols & TW_FARCH_COL_PORTS) {
            r.sport = s->sport;
            r.dport = s->dport;
        }
        if (cfg->filter != NULL && !tw_flowfilter_match(cfg->filter, &r)) {
            while (k < w->n_cands && w->cands[k].i == i)
                k++;
            continue;
        }
        for (; k < w->n_cands && w->cands[k].i == i && rc == TW_OK; k++) {
            if (!verify(w, w->cands[k].indicator, &r, &obs, &rc))
                continue;
            rc = push_hit(res, &r, !pushed, w->cands[k].indicator, w->cands[k].side);
            pushed = true;
        }
        json_decref(obs);
    }
    tw_free(saved);
    return rc;
}

/* Hunts block bi of the worker's reader into res. Only ENOMEM is returned as failure. */
static int hunt_block(struct worker *w, struct tw_farch_reader *rd, size_t bi, struct result *res)
{
    const struct tw_flowhunt_config *cfg = w->h->cfg;
    const struct tw_farch_summary *s = tw_farch_block_summary(rd, bi);
    struct tw_farch_block b;
    struct tw_err err;
    bool check_time;
    unsigned cols = TW_FARCH_COL_ADDR;
    int rc;

    if (s == NULL || !in_window(cfg, s) ||
            (cfg->filter != NULL && !tw_flowfilter_may_match(cfg->filter, s))) {
        w->c.blocks_skipped++;
        return TW_OK;
    }
    check_time = !all_in_window(cfg, s);
    if (check_time)
        cols |= TW_FARCH_COL_TIME;
    if (w->h->use_ports)
        cols |= TW_FARCH_COL_PORTS;
    tw_err_clear(&err);
    rc = tw_farch_read_block(rd, bi, cols, &b, &err);
    if (rc == TW_ENOMEM)
        return rc;
    if (rc == TW_OK) {
        w->c.blocks++;
        w->c.records += b.n;
        rc = scan_block(w, &b, s, check_time);
        if (rc == TW_OK && w->n_cands > 0)
            rc = finish_block(w, rd, bi, &b, cols, res, &err);
    }
    if (rc == TW_ENOMEM)
        return rc;
    if (rc != TW_OK) {
        w->c.blocks_bad++;
        /* The block's partial results are dropped with it. */
        res->n_recs = res->n_hits = 0;
        tw_log(TW_LOG_WARN, "flows", "%s (block skipped)", err.msg);
    }
    return TW_OK;
}

/* ==== Delivery ==== */

/* Delivers ready slots in order; called and returns with h->lock held. */
static void deliver(struct hunt *h)
{
    if (h->delivering)
        return;
    h->delivering = true;
    for (;;) {
        struct result *res = &h->ring[h->next_deliver % h->ring_len];
        bool stopped = h->stop;
        if (!res->ready || h->next_deliver >= h->next_seq)
            break;
        (void)pthread_mutex_unlock(&h->lock);
        for (size_t k = 0; k < res->n_hits && !stopped; k++) {
            struct tw_flowhunt_hit hit;
            int rc;
            hit.rec = &res->recs[res->hits[k].rec];
            hit.file = h->files[res->file].path;
            hit.side = (enum tw_flowhunt_side)res->hits[k].side;
            hit.indicator = res->hits[k].indicator;
            h->hits++;
            rc = h->fn != NULL ? h->fn(&hit, h->arg) : 0;
            if (rc != 0) {
                stopped = true;
                (void)pthread_mutex_lock(&h->lock);
                h->stop = true;
                h->stop_rc = rc;
                (void)pthread_mutex_unlock(&h->lock);
            }
        }
        (void)pthread_mutex_lock(&h->lock);
        res->ready = false;
        res->n_recs = res->n_hits = 0;
        h->next_deliver++;
        (void)pthread_cond_broadcast(&h->cond);
    }
    h->delivering = false;
}

/* ==== Workers ==== */

static void merge_counters(struct counters *into, const struct counters *c)
{
    into->files_skipped += c->files_skipped;
    into->files_bad += c->files_bad;
    into->blocks += c->blocks;
    into->blocks_skipped += c->blocks_skipped;
    into->blocks_bad += c->blocks_bad;
    into->records += c->records;
}

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct hunt *h = w->h;

    for (;;) {
        struct task t;
        struct result *res;
        struct tw_farch_reader *rd;
        int rc = TW_OK;
        bool got;

        (void)pthread_mutex_lock(&h->lock);
        while (!h->stop && h->next_seq >= h->next_deliver + h->ring_len)
            (void)pthread_cond_wait(&h->cond, &h->lock);
        got = !h->stop && dispense(w, &t);
        (void)pthread_mutex_unlock(&h->lock);
        if (!got)
            break;
        res = &h->ring[t.seq % h->ring_len];
        res->file = t.file;
        res->n_recs = res->n_hits = 0;
        rd = worker_reader(w, t.file, true);
        if (rd == NULL)
            w->c.blocks_bad++;
        else
            rc = hunt_block(w, rd, t.block, res);
        if (rc != TW_OK) {
            set_fatal(h, rc, "out of memory");
            res->n_recs = res->n_hits = 0;
        }
        (void)pthread_mutex_lock(&h->lock);
        res->ready = true;
        deliver(h);
        (void)pthread_mutex_unlock(&h->lock);
    }
    (void)pthread_mutex_lock(&h->lock);
    merge_counters(&h->total, &w->c);
    deliver(h);
    (void)pthread_cond_broadcast(&h->cond);
    (void)pthread_mutex_unlock(&h->lock);
    tw_farch_reader_close(w->rd);
    w->rd = NULL;
    return NULL;
}

/* The ports any port indicator names, per direction (a bit per port). */
static int build_port_bits(struct hunt *h)
{
    for (int d = 0; d < 2; d++) {
        h->port_bits[d] = tw_calloc(65536 / 64, sizeof(uint64_t));
        if (h->port_bits[d] == NULL)
            return TW_ENOMEM;
        for (uint32_t p = 0; p < 65536; p++) {
            uint32_t one;
            if (tw_index_lookup_port(h->idx, (uint16_t)p, d == 1, &one, 1) > 0)
                h->port_bits[d][p >> 6] |= UINT64_C(1) << (p & 63);
        }
    }
    return TW_OK;
}

/* ==== Public API ==== */

void tw_flowhunt_config_init(struct tw_flowhunt_config *cfg, const struct tw_index *index)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->index = index;
    cfg->from_ms = INT64_MIN;
    cfg->to_ms = INT64_MAX;
}

static unsigned thread_count(unsigned asked)
{
    long n = asked;

    if (n == 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    return (unsigned)TW_MIN(n, (long)MAX_THREADS);
}

int tw_flowhunt_run(const struct tw_flowhunt_config *cfg, const char *dir, tw_flowhunt_hit_fn fn,
        void *arg, struct tw_flowhunt_stats *stats, struct tw_err *err)
{
    struct hunt h;
    struct worker *ws = NULL;
    pthread_t *tids = NULL;
    bool *started = NULL;
    unsigned n_threads;
    int rc;

    if (stats != NULL)
        memset(stats, 0, sizeof(*stats));
    if (cfg == NULL || cfg->index == NULL || dir == NULL)
        return tw_err_set(err, TW_EINVAL, TW_NOPOS, "flow hunt: no index or archive");
    if (cfg->from_ms >= cfg->to_ms)
        return tw_err_set(err, TW_EINVAL, TW_NOPOS, "flow hunt: the window is empty");
    memset(&h, 0, sizeof(h));
    h.cfg = cfg;
    h.idx = cfg->index;
    h.fn = fn;
    h.arg = arg;
    h.err = err;
    rc = tw_farch_list(dir,
            cfg->from_ms == INT64_MIN ? INT64_MIN : sat_add(cfg->from_ms, -LIST_SLACK_MS),
            cfg->to_ms == INT64_MAX ? INT64_MAX : sat_add(cfg->to_ms, LIST_SLACK_MS), &h.files,
            &h.n_files, err);
    if (rc != TW_OK)
        return rc;
    h.use_ports = tw_index_kind_count(h.idx, TW_INDEX_PORT) > 0;
    h.want_cols =
            (cfg->cols != 0 ? cfg->cols : TW_FARCH_COL_ALL) | tw_flowfilter_columns(cfg->filter);
    n_threads = thread_count(cfg->threads);
    h.ring_len = (size_t)RING_PER_THREAD * n_threads;
    h.ring = tw_calloc(h.ring_len, sizeof(*h.ring));
    ws = tw_calloc(n_threads, sizeof(*ws));
    tids = tw_calloc(n_threads, sizeof(*tids));
    started = tw_calloc(n_threads, sizeof(*started));
    if (h.ring == NULL || ws == NULL || tids == NULL || started == NULL ||
            (h.use_ports && build_port_bits(&h) != TW_OK) ||
            build_prefilter(&h.pf, h.idx) != TW_OK) {
        rc = tw_err_set(err, TW_ENOMEM, TW_NOPOS, "flow hunt: out of memory");
        goto out;
    }
    if (pthread_mutex_init(&h.lock, NULL) != 0) {
        rc = tw_err_set(err, TW_ENOMEM, TW_NOPOS, "flow hunt: cannot create a lock");
        goto out;
    }
    if (pthread_cond_init(&h.cond, NULL) != 0) {
        (void)pthread_mutex_destroy(&h.lock);
        rc = tw_err_set(err, TW_ENOMEM, TW_NOPOS, "flow hunt: cannot create a condition");
        goto out;
    }
    for (unsigned i = 0; i < n_threads; i++)
        ws[i].h = &h;
    for (unsigned i = 1; i < n_threads; i++)
        started[i] = pthread_create(&tids[i], NULL, worker_run, &ws[i]) == 0;
    (void)worker_run(&ws[0]);
    for (unsigned i = 1; i < n_threads; i++)
        if (started[i])
            (void)pthread_join(tids[i], NULL);
    (void)pthread_cond_destroy(&h.cond);
    (void)pthread_mutex_destroy(&h.lock);
    if (stats != NULL) {
        stats->files = h.n_files;
        stats->files_skipped = h.total.files_skipped;
        stats->files_bad = h.total.files_bad;
        stats->blocks = h.total.blocks;
        stats->blocks_skipped = h.total.blocks_skipped;
        stats->blocks_bad = h.total.blocks_bad;
        stats->records = h.total.records;
        stats->hits = h.hits;
    }
    rc = h.fatal != TW_OK ? h.fatal : h.stop_rc;
out:
    for (unsigned i = 0; ws != NULL && i < n_threads; i++) {
        tw_free(ws[i].cands);
        tw_free(ws[i].big);
        tw_free(ws[i].list);
    }
    for (size_t i = 0; h.ring != NULL && i < h.ring_len; i++) {
        tw_free(h.ring[i].recs);
        tw_free(h.ring[i].hits);
    }
    tw_free(h.ring);
    tw_free(ws);
    tw_free(tids);
    tw_free(started);
    tw_free(h.port_bits[0]);
    tw_free(h.port_bits[1]);
    tw_free(h.pf.tab);
    tw_free(h.pf.filter);
    tw_free(h.pf.iv);
    tw_farch_files_free(h.files, h.n_files);
    return rc;
}
