/*
 * flow.c: the bounded, bidirectional flow table (flow.h).
 *
 * Layout. Every slot (struct tw_flow followed by the caller's extra area) is
 * allocated in one array at creation; a slot is found by its 32-bit index.
 * Slots are handed out from a bump index first (so untouched pages of a large
 * table are never faulted in) and then from a free list threaded through
 * bucket_next. The hash is a chained table of 32-bit slot indexes with a
 * power-of-two number of buckets at least max_flows, so chains stay short.
 * The hash is a few inline multiply-fold rounds over the key's words with its
 * two endpoints in an order of their own, so both directions land in the
 * same bucket (key_hash()); it runs for every packet.
 *
 * Timeouts. Each timeout class (TCP new/established/closed, UDP, ICMP, other)
 * has its own doubly linked list of flows, ordered by queued_ns: the table
 * clock when the flow was last put at the tail. A packet only stamps its flow
 * (touch_ns) and does not move it, which would cost two more cache misses on
 * its list neighbours; a flow moves to a new list's tail when its class
 * changes (a TCP state change). Within one list the head has the smallest
 * queued_ns, and a flow's real deadline (touch_ns + timeout) is never earlier
 * than its queued one, so expiry looks only at heads whose queued deadline
 * has passed: a head that was touched since is moved to the tail then
 * (second chance, paid for by the packets that touched it), a head that was
 * not has timed out. A lookup does this only when the clock has passed the
 * earliest queued deadline (next_check_ns), and ends at most expire_budget
 * flows, so no packet pays for a scan of the table.
 *
 * Eviction. When every slot is in use, the least recently touched flow of
 * the whole table is ended with TW_FLOW_END_EVICT (found the same lazy way
 * among the list heads). Flush ends flows in the same order; a large flush
 * works it out on dense copies of the lists instead of the slots
 * (flush_fast()).
 */
#include "tidewatch/flow.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include <sys/mman.h>

#include "tidewatch/alloc.h"
#include "tidewatch/err.h"

/* ==== Types ==== */

/* "No slot" in chains and lists. */
#define NIL UINT32_MAX

/* flow_id space: 52 bits, so ids survive a round trip through a JSON double. */
#define FLOW_ID_MASK ((UINT64_C(1) << 52) - 1)

/* IP protocol numbers the table treats specially. */
#define PROTO_ICMP    1
#define PROTO_TCP     6
#define PROTO_UDP     17
#define PROTO_ICMPV6  58
#define PROTO_SCTP    132
#define PROTO_UDPLITE 136

/* TCP flag bits (RFC 9293 section 3.1). */
#define TCP_FIN 0x01u
#define TCP_SYN 0x02u
#define TCP_RST 0x04u
#define TCP_ACK 0x10u

struct tw_flow_list {
    uint32_t head; /* least recently touched */
    uint32_t tail; /* most recently touched */
};

struct tw_flow_table {
    struct tw_flow_config cfg;
    unsigned char *slots; /* max_flows slots of `stride` bytes (inside slots_mem) */
    void *slots_mem;
    size_t stride;
    uint32_t *buckets; /* chain heads (slot indexes; inside buckets_mem) */
    void *buckets_mem;
    uint32_t bucket_mask;
    uint32_t free_head; /* free list of ended slots */
    uint32_t n_fresh;   /* slots [n_fresh, max_flows) were never used */
    uint32_t n_active;
    struct tw_flow_list lists[TW_FLOW_TO_COUNT];
    uint64_t timeout_ns[TW_FLOW_TO_COUNT];
    int64_t clock_ns; /* latest packet time seen (never goes back) */
    bool clock_set;
    int64_t next_check_ns; /* no flow times out while clock_ns <= this */
    bool wiping;           /* a flush will reset every bucket: ending flows skip their chains */
    uint64_t id_counter;
    uint64_t hash_seed[6]; /* key_hash() keys, derived from cfg.seed */
    struct tw_flow_stats st;
    size_t mem;
};

/* Default idle timeouts per class, seconds. */
static const uint32_t default_timeout_s[TW_FLOW_TO_COUNT] = {
    [TW_FLOW_TO_TCP_NEW] = 60,
    [TW_FLOW_TO_TCP_ESTABLISHED] = 3600,
    [TW_FLOW_TO_TCP_CLOSED] = 30,
    [TW_FLOW_TO_UDP] = 120,
    [TW_FLOW_TO_ICMP] = 30,
    [TW_FLOW_TO_OTHER] = 60,
};

/* ==== Static helpers ==== */

static inline struct tw_flow *slot_at(const struct tw_flow_table *t, uint32_t i)
{
    return (struct tw_flow *)(void *)(t->slots + (size_t)i * t->stride);
}

static inline uint32_t slot_index(const struct tw_flow_table *t, const struct tw_flow *f)
{
    return (uint32_t)((size_t)((const unsigned char *)f - t->slots) / t->stride);
}

/* a + b, clamped to INT64_MAX (packet times come from files and may be anything). */
static inline int64_t sat_add(int64_t a, uint64_t b)
{
    if (a >= 0 && b > (uint64_t)(INT64_MAX - a))
        return INT64_MAX;
    return (int64_t)((uint64_t)a + b);
}

/* When f could time out at the earliest, judging by its place in its list. */
static inline int64_t queued_deadline(const struct tw_flow_table *t, const struct tw_flow *f)
{
    return sat_add(f->queued_ns, t->timeout_ns[f->to_class]);
}

/* True when f has been idle longer than its class allows at the current clock. */
static inline bool is_expired(const struct tw_flow_table *t, const struct tw_flow *f)
{
    /* clock_ns >= touch_ns always, so the unsigned difference is exact. */
    return (uint64_t)t->clock_ns - (uint64_t)f->touch_ns > t->timeout_ns[f->to_class];
}

/*
 * A bijection of the 52-bit space (odd multipliers and right xorshifts are
 * invertible modulo 2^52): distinct counters give distinct ids that do not
 * look sequential, like Suricata's flow_id.
 */
static uint64_t id_permute(uint64_t x, uint64_t seed)
{
    x = (x ^ seed) & FLOW_ID_MASK;
    x = (x * UINT64_C(0x9e3779b97f4a7c15)) & FLOW_ID_MASK;
    x ^= x >> 23;
    x = (x * UINT64_C(0xbf58476d1ce4e5b9)) & FLOW_ID_MASK;
    x ^= x >> 29;
    return x;
}

/* SplitMix64's output function: spreads a seed over 64 bits. */
static uint64_t splitmix64(uint64_t x)
{
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static uint64_t next_flow_id(struct tw_flow_table *t)
{
    uint64_t id;

    do
        id = id_permute(++t->id_counter, t->cfg.seed);
    while (id == 0);
    return id;
}

/* 8 bytes at p, any alignment, in host order. */
static inline uint64_t ld64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

/* Equal addresses (family and all 16 bytes; unused bytes are zero), without a call to memcmp. */
static inline bool ip_eq(const struct tw_ip *a, const struct tw_ip *b)
{
    return a->family == b->family && ld64(a->bytes) == ld64(b->bytes) &&
           ld64(a->bytes + 8) == ld64(b->bytes + 8);
}

/*
 * Compares a stored flow key with a packet's key. Returns 1 when the packet
 * goes the stored way (to the server), 2 when it goes the other way, 0 when it
 * is another flow.
 */
static inline int key_dir(const struct tw_flow_key *fk, const struct tw_flow_key *pk)
{
    if (fk->proto != pk->proto || fk->kind != pk->kind || fk->tunnel_hash != pk->tunnel_hash)
        return 0;
    if (fk->sport == pk->sport && fk->dport == pk->dport && ip_eq(&fk->src, &pk->src) &&
            ip_eq(&fk->dst, &pk->dst))
        return 1;
    if (fk->sport == pk->dport && fk->dport == pk->sport && ip_eq(&fk->src, &pk->dst) &&
            ip_eq(&fk->dst, &pk->src))
        return 2;
    return 0;
}

static void key_reverse(struct tw_flow_key *k)
{
    struct tw_ip ip = k->src;
    uint16_t port = k->sport;

    k->src = k->dst;
    k->dst = ip;
    k->sport = k->dport;
    k->dport = port;
}

/* 64 x 64 -> 128-bit multiply folded to 64 bits (the wyhash mixing step). */
static inline uint64_t mum(uint64_t a, uint64_t b)
{
    __extension__ typedef unsigned __int128 u128;
    u128 r = (u128)a * b;

    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/*
 * Direction-independent 32-bit hash. The endpoints (address words, family,
 * port) are put in an order of their own first, so both directions give the
 * same words; then three multiply-fold rounds over the words, keyed by the
 * table's seeds. This runs for every packet, so it is inline rather than a
 * general-purpose hash over the 44 key bytes.
 */
static inline uint32_t key_hash(const struct tw_flow_key *k, const uint64_t s[6])
{
    uint64_t a0 = ld64(k->src.bytes), a1 = ld64(k->src.bytes + 8);
    uint64_t b0 = ld64(k->dst.bytes), b1 = ld64(k->dst.bytes + 8);
    uint64_t af = (uint64_t)k->src.family << 16 | k->sport;
    uint64_t bf = (uint64_t)k->dst.family << 16 | k->dport;
    uint64_t h;

    if (a0 > b0 || (a0 == b0 && (a1 > b1 || (a1 == b1 && af > bf)))) {
        uint64_t t = a0;
        a0 = b0;
        b0 = t;
        t = a1;
        a1 = b1;
        b1 = t;
        t = af;
        af = bf;
        bf = t;
    }
    h = mum(a0 ^ s[0], a1 ^ s[1]) ^ mum(b0 ^ s[2], b1 ^ s[3]);
    h ^= mum((af << 24 | bf) ^ s[4],
            ((uint64_t)k->tunnel_hash << 16 | (uint64_t)k->proto << 8 | k->kind) ^ s[5]);
    h = mum(h, UINT64_C(0x9e3779b97f4a7c15));
    return (uint32_t)(h ^ (h >> 32));
}

/* Query/reply ICMP types whose identifier (bytes 4-5 of the header) names the exchange. */
static bool icmp_is_query(uint8_t type, bool v6)
{
    if (v6)
        return type == 128 || type == 129; /* echo request / reply */
    switch (type) {
        case 0:  /* echo reply */
        case 8:  /* echo request */
        case 13: /* timestamp */
        case 14: /* timestamp reply */
        case 15: /* information request */
        case 16: /* information reply */
        case 17: /* address mask request */
        case 18: /* address mask reply */
            return true;
        default:
            return false;
    }
}

static void icmp_key(
        const struct tw_packet *p, const struct tw_layer *l, bool v6, struct tw_flow_key *k)
{
    uint8_t type = l->u.icmp.type;

    if (icmp_is_query(type, v6)) {
        size_t at = (size_t)l->offset + 4;
        uint16_t id = 0;

        /* The layer records type and code only; read the identifier from the bytes. */
        if (p->data != NULL && at + 2 <= p->caplen)
            id = (uint16_t)(p->data[at] << 8 | p->data[at + 1]);
        k->kind = TW_FLOW_KIND_ICMP_ECHO;
        k->sport = id;
        k->dport = id;
    } else {
        k->kind = TW_FLOW_KIND_ICMP;
        k->sport = (uint16_t)(type << 8 | l->u.icmp.code);
        k->dport = k->sport;
    }
}

static uint8_t class_of(const struct tw_flow *f)
{
    switch (f->key.proto) {
        case PROTO_TCP:
            if (f->state == TW_FLOW_STATE_CLOSED)
                return TW_FLOW_TO_TCP_CLOSED;
            if (f->state == TW_FLOW_STATE_ESTABLISHED)
                return TW_FLOW_TO_TCP_ESTABLISHED;
            return TW_FLOW_TO_TCP_NEW;
        case PROTO_UDP:
        case PROTO_UDPLITE:
        case PROTO_SCTP:
            return TW_FLOW_TO_UDP;
        case PROTO_ICMP:
        case PROTO_ICMPV6:
            return TW_FLOW_TO_ICMP;
        default:
            return TW_FLOW_TO_OTHER;
    }
}

static void list_unlink(struct tw_flow_table *t, struct tw_flow *f)
{
    struct tw_flow_list *l = &t->lists[f->to_class];

    if (f->lru_prev != NIL)
        slot_at(t, f->lru_prev)->lru_next = f->lru_next;
    else
        l->head = f->lru_next;
    if (f->lru_next != NIL)
        slot_at(t, f->lru_next)->lru_prev = f->lru_prev;
    else
        l->tail = f->lru_prev;
    f->lru_prev = NIL;
    f->lru_next = NIL;
}

/* Puts f at the tail of its class list, stamped with its last touch. */
static void list_append(struct tw_flow_table *t, struct tw_flow *f, uint32_t idx)
{
    struct tw_flow_list *l = &t->lists[f->to_class];
    int64_t dl;

    f->queued_ns = f->touch_ns;
    f->lru_prev = l->tail;
    f->lru_next = NIL;
    if (l->tail != NIL)
        slot_at(t, l->tail)->lru_next = idx;
    else
        l->head = idx;
    l->tail = idx;
    /* A new tail can hold the earliest deadline only when its class timeout is shorter. */
    dl = queued_deadline(t, f);
    if (dl < t->next_check_ns)
        t->next_check_ns = dl;
}

/* Moves f (touched since it was queued) to the tail of its list. */
static void list_requeue(struct tw_flow_table *t, struct tw_flow *f)
{
    list_unlink(t, f);
    list_append(t, f, slot_index(t, f));
}

static void chain_unlink(struct tw_flow_table *t, struct tw_flow *f, uint32_t idx)
{
    uint32_t *link = &t->buckets[f->hash & t->bucket_mask];

    while (*link != NIL && *link != idx)
        link = &slot_at(t, *link)->bucket_next;
    assert(*link == idx);
    *link = f->bucket_next;
}

/* Hands f to the callback, then returns its slot to the free list. */
static void end_flow(struct tw_flow_table *t, struct tw_flow *f, enum tw_flow_end reason)
{
    uint32_t idx = slot_index(t, f);

    if (t->cfg.on_end != NULL)
        t->cfg.on_end(f, reason, t->cfg.on_end_arg);
    switch (reason) {
        case TW_FLOW_END_TIMEOUT:
            t->st.timed_out++;
            break;
        case TW_FLOW_END_EVICT:
            t->st.evicted++;
            break;
        case TW_FLOW_END_REUSE:
            t->st.reused++;
            break;
        case TW_FLOW_END_FLUSH:
            t->st.flushed++;
            break;
    }
    if (!t->wiping)
        chain_unlink(t, f, idx);
    list_unlink(t, f);
    f->user = NULL;
    f->bucket_next = t->free_head;
    t->free_head = idx;
    t->n_active--;
}

/*
 * The least recently touched flow, or NULL when the table is empty. The list
 * heads hold the smallest queued_ns; a head touched since it was queued goes
 * to its tail first (each such move is paid for by one earlier packet), so the
 * head returned has touch_ns == queued_ns <= every other flow's touch_ns.
 */
static struct tw_flow *least_recent(struct tw_flow_table *t)
{
    for (;;) {
        struct tw_flow *best = NULL;

        for (int c = 0; c < TW_FLOW_TO_COUNT; c++) {
            struct tw_flow *f;

            if (t->lists[c].head == NIL)
                continue;
            f = slot_at(t, t->lists[c].head);
            if (best == NULL || f->queued_ns < best->queued_ns)
                best = f;
        }
        if (best == NULL || best->touch_ns == best->queued_ns)
            return best;
        list_requeue(t, best);
    }
}

/*
 * Ends up to max flows whose idle time has passed and recomputes
 * next_check_ns. Heads whose queued deadline passed but which were touched
 * since are moved to the tail (at most 4 * max of them per call, so one packet
 * never pays for many; the rest wait for the next call).
 */
static size_t expire_some(struct tw_flow_table *t, size_t max)
{
    size_t n = 0, moves = 0, max_moves = 4 * max;
    int64_t next = INT64_MAX;

    for (int c = 0; c < TW_FLOW_TO_COUNT; c++) {
        struct tw_flow_list *l = &t->lists[c];

        while (l->head != NIL && n < max && moves < max_moves) {
            struct tw_flow *f = slot_at(t, l->head);

            if (t->clock_ns <= queued_deadline(t, f))
                break;
            if (is_expired(t, f)) {
                end_flow(t, f, TW_FLOW_END_TIMEOUT);
                n++;
            } else {
                list_requeue(t, f);
                moves++;
            }
        }
        if (l->head != NIL) {
            int64_t dl = queued_deadline(t, slot_at(t, l->head));
            if (dl < next)
                next = dl;
        }
    }
    t->next_check_ns = next;
    return n;
}

static void advance_clock(struct tw_flow_table *t, int64_t ts)
{
    if (!t->clock_set || ts > t->clock_ns) {
        t->clock_ns = ts;
        t->clock_set = true;
    }
}

/* A free slot, evicting the flow nearest its deadline when the table is full. */
static struct tw_flow *take_slot(struct tw_flow_table *t, uint32_t *idx)
{
    if (t->free_head == NIL) {
        if (t->n_fresh < t->cfg.max_flows) {
            *idx = t->n_fresh++;
            return slot_at(t, *idx);
        }
        end_flow(t, least_recent(t), TW_FLOW_END_EVICT);
    }
    *idx = t->free_head;
    t->free_head = slot_at(t, *idx)->bucket_next;
    return slot_at(t, *idx);
}

static struct tw_flow *start_flow(struct tw_flow_table *t, const struct tw_flow_key *pk, uint32_t h,
        uint8_t tcp_flags, int64_t ts, bool *to_server)
{
    uint32_t idx;
    struct tw_flow *f = take_slot(t, &idx);
    uint32_t *bucket = &t->buckets[h & t->bucket_mask];

    memset(f, 0, TW_FLOW_EXTRA_OFFSET + t->cfg.extra_size);
    f->key = *pk;
    *to_server = true;
    if (pk->proto == PROTO_TCP && pk->kind == TW_FLOW_KIND_PORTS) {
        if ((tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
            /* The first packet is the server's SYN+ACK: its destination is the client. */
            key_reverse(&f->key);
            *to_server = false;
        } else if (!(tcp_flags & TCP_SYN)) {
            f->flags |= TW_FLOW_F_MIDSTREAM;
        }
    }
    f->hash = h;
    f->flow_id = next_flow_id(t);
    f->first_ts_ns = ts;
    f->last_ts_ns = ts;
    f->lru_prev = NIL;
    f->lru_next = NIL;
    f->bucket_next = *bucket;
    *bucket = idx;
    f->to_class = class_of(f);
    f->touch_ns = t->clock_ns;
    list_append(t, f, idx);
    t->n_active++;
    t->st.created++;
    return f;
}

/*
 * Counts the packet in f and stamps it with the clock. The flow stays where
 * it is in its list (it is moved lazily, see least_recent()) unless its class
 * changed, in which case it goes to the tail of the new class list.
 */
static void count_packet(struct tw_flow_table *t, struct tw_flow *f, const struct tw_packet *p,
        uint8_t tcp_flags, bool to_server)
{
    uint64_t bytes = p->wirelen != 0 ? p->wirelen : p->caplen;
    uint8_t class;

    if (to_server) {
        f->pkts_toserver++;
        f->bytes_toserver += bytes;
        f->tcp_flags_ts |= tcp_flags;
    } else {
        f->pkts_toclient++;
        f->bytes_toclient += bytes;
        f->tcp_flags_tc |= tcp_flags;
    }
    if (p->ts_ns > f->last_ts_ns)
        f->last_ts_ns = p->ts_ns;

    if (f->key.proto == PROTO_TCP) {
        if ((tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
            f->flags |= TW_FLOW_F_SYN;
        else if ((tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
            f->flags |= TW_FLOW_F_SYNACK;
        if (tcp_flags & TCP_FIN)
            f->flags |= to_server ? TW_FLOW_F_FIN_TS : TW_FLOW_F_FIN_TC;
        if (tcp_flags & TCP_RST)
            f->flags |= TW_FLOW_F_RST;
        if ((f->flags & TW_FLOW_F_RST) || (f->flags & (TW_FLOW_F_FIN_TS | TW_FLOW_F_FIN_TC)) ==
                                                  (TW_FLOW_F_FIN_TS | TW_FLOW_F_FIN_TC))
            f->state = TW_FLOW_STATE_CLOSED;
        else if ((f->pkts_toserver > 0 && f->pkts_toclient > 0) || p->payload_len > 0)
            f->state = TW_FLOW_STATE_ESTABLISHED;
    } else if (f->pkts_toserver > 0 && f->pkts_toclient > 0) {
        f->state = TW_FLOW_STATE_ESTABLISHED;
    }

    f->touch_ns = t->clock_ns;
    class = class_of(f);
    if (class != f->to_class) {
        list_unlink(t, f);
        f->to_class = class;
        list_append(t, f, slot_index(t, f));
    }
}

/* A flush of at least this many flows takes flush_fast(). */
#define FLUSH_FAST_MIN 1024u
/* How many flows ahead flush_fast() prefetches the slots of the flows it ends. */
#define FLUSH_PREFETCH 8u

/*
 * Ends every flow in exactly the order repeated least_recent() calls would,
 * without chasing list links through cold slots: one sequential pass copies
 * every used slot's list link and times into dense arrays, least_recent()'s
 * procedure runs on those (the head with the smallest queued time, ties to
 * the lower class; a head touched since it was queued goes to its tail
 * first), and the flows then end in that order with their slots prefetched a
 * few ahead. A flow is ended only once its queued time equals its touch time,
 * as least_recent() leaves it. Lists and buckets are reset wholesale (the
 * caller wipes the buckets). Returns false, having done nothing, when the
 * scratch arrays cannot be had.
 */
static bool flush_fast(struct tw_flow_table *t, size_t *n_ended)
{
    size_t n_slots = t->n_fresh, n = t->n_active, m = 0, at = 0;
    uint32_t *next = tw_reallocarray(NULL, n_slots, sizeof(uint32_t));
    int64_t *q = tw_reallocarray(NULL, n_slots, sizeof(int64_t));
    int64_t *touch = tw_reallocarray(NULL, n_slots, sizeof(int64_t));
    uint32_t *queue = tw_reallocarray(NULL, 2 * n, sizeof(uint32_t));
    uint32_t *order = tw_reallocarray(NULL, n, sizeof(uint32_t));
    size_t head[TW_FLOW_TO_COUNT], tail[TW_FLOW_TO_COUNT];
    bool ok = next != NULL && q != NULL && touch != NULL && queue != NULL && order != NULL;

    for (uint32_t i = 0; ok && i < n_slots; i++) {
        const struct tw_flow *f = slot_at(t, i);
        next[i] = f->lru_next;
        q[i] = f->queued_ns;
        touch[i] = f->touch_ns;
    }
    /* Each class's list in order, with room behind it for as many requeued flows. */
    for (int c = 0; ok && c < TW_FLOW_TO_COUNT; c++) {
        size_t len = 0;
        head[c] = tail[c] = at;
        for (uint32_t i = t->lists[c].head; i != NIL && tail[c] < 2 * n; i = next[i])
            queue[tail[c]++] = i;
        len = tail[c] - head[c];
        at += 2 * len;
        ok = at <= 2 * n;
    }
    while (ok) {
        int best = -1;
        uint32_t i;

        for (int c = 0; c < TW_FLOW_TO_COUNT; c++)
            if (head[c] < tail[c] && (best < 0 || q[queue[head[c]]] < q[queue[head[best]]]))
                best = c;
        if (best < 0)
            break;
        i = queue[head[best]++];
        if (touch[i] == q[i]) {
            ok = m < n;
            if (ok)
                order[m++] = i;
        } else {
            q[i] = touch[i];
            queue[tail[best]++] = i;
        }
    }
    ok = ok && m == n;
    if (ok) {
        for (size_t k = 0; k < m; k++) {
            struct tw_flow *f;

            if (k + FLUSH_PREFETCH < m) {
                const unsigned char *pf = t->slots + (size_t)order[k + FLUSH_PREFETCH] * t->stride;
                for (size_t off = 0; off < t->stride; off += 64)
                    __builtin_prefetch(pf + off, 1);
            }
            f = slot_at(t, order[k]);
            f->queued_ns = f->touch_ns;
            if (t->cfg.on_end != NULL)
                t->cfg.on_end(f, TW_FLOW_END_FLUSH, t->cfg.on_end_arg);
            t->st.flushed++;
            f->user = NULL;
            f->lru_prev = NIL;
            f->lru_next = NIL;
            f->bucket_next = t->free_head;
            t->free_head = order[k];
        }
        for (int c = 0; c < TW_FLOW_TO_COUNT; c++)
            t->lists[c].head = t->lists[c].tail = NIL;
        t->n_active = 0;
        *n_ended = m;
    }
    tw_free(next);
    tw_free(q);
    tw_free(touch);
    tw_free(queue);
    tw_free(order);
    return ok;
}

/*
 * Allocates n bytes for a large table array (returned; *mem is what to free).
 * Arrays of 4 MiB and more are aligned to 2 MiB and marked for transparent
 * huge pages: a lookup's two random accesses (bucket, slot) then rarely miss
 * the TLB as well as the cache. The bytes are not zeroed, and pages never
 * touched are never faulted in.
 */
static void *big_alloc(size_t n, void **mem)
{
    const size_t huge = (size_t)2 << 20;
    uintptr_t p;

    if (n < 2 * huge) {
        *mem = tw_malloc(n);
        return *mem;
    }
    *mem = tw_malloc(n + huge);
    if (*mem == NULL)
        return NULL;
    p = ((uintptr_t)*mem + huge - 1) & ~(uintptr_t)(huge - 1);
#ifdef MADV_HUGEPAGE
    (void)madvise((void *)p, n & ~(huge - 1), MADV_HUGEPAGE); /* only a hint */
#endif
    return (void *)p;
}

/* ==== Public API ==== */

void tw_flow_config_init(struct tw_flow_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_flows = TW_FLOW_DEFAULT_MAX_FLOWS;
    memcpy(cfg->timeout_s, default_timeout_s, sizeof(cfg->timeout_s));
    cfg->expire_budget = TW_FLOW_DEFAULT_EXPIRE_BUDGET;
    cfg->seed = UINT64_C(0x7469646577617463); /* "tidewatc" */
}

int tw_flow_table_new(const struct tw_flow_config *cfg, struct tw_flow_table **out)
{
    struct tw_flow_table *t;
    uint32_t n_buckets = 1;

    *out = NULL;
    if (cfg->max_flows == 0 || cfg->max_flows > TW_FLOW_MAX_FLOWS ||
            cfg->extra_size > TW_FLOW_MAX_EXTRA)
        return TW_EINVAL;
    for (int c = 0; c < TW_FLOW_TO_COUNT; c++)
        if (cfg->timeout_s[c] == 0)
            return TW_EINVAL;
    while (n_buckets < cfg->max_flows)
        n_buckets <<= 1;

    t = tw_calloc(1, sizeof(*t));
    if (t == NULL)
        return TW_ENOMEM;
    t->cfg = *cfg;
    t->stride = TW_FLOW_EXTRA_OFFSET + ((size_t)cfg->extra_size + TW_FLOW_EXTRA_ALIGN - 1) /
                                               TW_FLOW_EXTRA_ALIGN * TW_FLOW_EXTRA_ALIGN;
    /* calloc: pages of slots never used stay untouched. */
    t->slots = big_alloc((size_t)cfg->max_flows * t->stride, &t->slots_mem);
    t->buckets = big_alloc((size_t)n_buckets * sizeof(uint32_t), &t->buckets_mem);
    if (t->slots == NULL || t->buckets == NULL) {
        tw_flow_table_free(t);
        return TW_ENOMEM;
    }
    memset(t->buckets, 0xff, (size_t)n_buckets * sizeof(uint32_t)); /* every head NIL */
    t->bucket_mask = n_buckets - 1;
    t->free_head = NIL;
    for (int c = 0; c < TW_FLOW_TO_COUNT; c++) {
        t->lists[c].head = NIL;
        t->lists[c].tail = NIL;
        t->timeout_ns[c] = (uint64_t)cfg->timeout_s[c] * UINT64_C(1000000000);
    }
    t->next_check_ns = INT64_MAX;
    for (int i = 0; i < 6; i++)
        t->hash_seed[i] = splitmix64(cfg->seed + (uint64_t)i * UINT64_C(0x9e3779b97f4a7c15));
    t->mem = sizeof(*t) + (size_t)cfg->max_flows * t->stride + (size_t)n_buckets * sizeof(uint32_t);
    *out = t;
    return TW_OK;
}

void tw_flow_table_free(struct tw_flow_table *t)
{
    if (t == NULL)
        return;
    tw_free(t->slots_mem);
    tw_free(t->buckets_mem);
    tw_free(t);
}

int tw_flow_key_from_packet(const struct tw_packet *p, struct tw_flow_key *out)
{
    const struct tw_layer *ip, *l;

    memset(out, 0, sizeof(*out));
    if (p->inner_ip < 0 || p->inner_ip >= p->n_layers || p->inner_ip >= TW_MAX_LAYERS)
        return TW_EINVAL;
    ip = &p->layers[p->inner_ip];
    if (ip->kind != TW_L_IPV4 && ip->kind != TW_L_IPV6)
        return TW_EINVAL;
    out->src = ip->u.ip.src;
    out->dst = ip->u.ip.dst;
    out->proto = ip->u.ip.proto;
    out->tunnel_hash = p->tunnel_hash;
    out->kind = TW_FLOW_KIND_NONE;
    if (p->l4 < 0 || p->l4 >= p->n_layers || p->l4 >= TW_MAX_LAYERS)
        return TW_OK;
    l = &p->layers[p->l4];
    switch (l->kind) {
        case TW_L_TCP:
        case TW_L_UDP:
        case TW_L_SCTP:
            out->kind = TW_FLOW_KIND_PORTS;
            out->sport = l->u.l4.sport;
            out->dport = l->u.l4.dport;
            break;
        case TW_L_ICMP:
            icmp_key(p, l, false, out);
            break;
        case TW_L_ICMPV6:
            icmp_key(p, l, true, out);
            break;
        default:
            break;
    }
    return TW_OK;
}

int tw_flow_table_lookup(
        struct tw_flow_table *t, const struct tw_packet *p, struct tw_flow_lookup *res)
{
    struct tw_flow_key k;
    struct tw_flow *f;
    uint32_t h, idx;
    uint8_t tcp_flags = 0;
    bool to_server = true;

    res->flow = NULL;
    res->to_server = false;
    res->created = false;
    if (tw_flow_key_from_packet(p, &k) != TW_OK)
        return TW_EINVAL;
    advance_clock(t, p->ts_ns);
    t->st.lookups++;
    if (t->cfg.expire_budget > 0 && t->clock_ns > t->next_check_ns)
        (void)expire_some(t, t->cfg.expire_budget);

    if (k.proto == PROTO_TCP && k.kind == TW_FLOW_KIND_PORTS && p->layers[p->l4].kind == TW_L_TCP)
        tcp_flags = p->layers[p->l4].u.l4.tcp_flags;

    h = key_hash(&k, t->hash_seed);
    f = NULL;
    for (idx = t->buckets[h & t->bucket_mask]; idx != NIL; idx = f->bucket_next) {
        int dir;

        f = slot_at(t, idx);
        if (f->hash != h)
            continue;
        dir = key_dir(&f->key, &k);
        if (dir != 0) {
            to_server = dir == 1;
            break;
        }
    }
    if (idx == NIL)
        f = NULL;

    if (f != NULL && is_expired(t, f)) {
        end_flow(t, f, TW_FLOW_END_TIMEOUT);
        f = NULL;
    } else if (f != NULL && f->state == TW_FLOW_STATE_CLOSED &&
               (tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
        end_flow(t, f, TW_FLOW_END_REUSE);
        f = NULL;
    }
    if (f == NULL) {
        f = start_flow(t, &k, h, tcp_flags, p->ts_ns, &to_server);
        res->created = true;
    }
    count_packet(t, f, p, tcp_flags, to_server);
    res->flow = f;
    res->to_server = to_server;
    return TW_OK;
}

size_t tw_flow_table_expire(struct tw_flow_table *t, int64_t now_ns, size_t max)
{
    advance_clock(t, now_ns);
    if (t->clock_ns <= t->next_check_ns)
        return 0;
    return expire_some(t, max);
}

size_t tw_flow_table_flush(struct tw_flow_table *t)
{
    size_t n = 0, n_buckets = (size_t)t->bucket_mask + 1;
    struct tw_flow *f;

    if (t->n_active >= FLUSH_FAST_MIN && flush_fast(t, &n)) {
        memset(t->buckets, 0xff, n_buckets * sizeof(uint32_t)); /* every head NIL */
        t->next_check_ns = INT64_MAX;
        return n;
    }
    /*
     * When many flows end, resetting every bucket at the end costs less than
     * unlinking each flow from its chain (a cache miss apiece); the callback
     * may not look flows up meanwhile.
     */
    t->wiping = t->n_active >= n_buckets / 16;
    while ((f = least_recent(t)) != NULL) {
        end_flow(t, f, TW_FLOW_END_FLUSH);
        n++;
    }
    if (t->wiping)
        memset(t->buckets, 0xff, n_buckets * sizeof(uint32_t)); /* every head NIL */
    t->wiping = false;
    t->next_check_ns = INT64_MAX;
    return n;
}

size_t tw_flow_table_count(const struct tw_flow_table *t)
{
    return t->n_active;
}

size_t tw_flow_table_memory(const struct tw_flow_table *t)
{
    return t->mem;
}

void tw_flow_table_stats(const struct tw_flow_table *t, struct tw_flow_stats *out)
{
    *out = t->st;
    out->active = t->n_active;
}

const char *tw_flow_end_name(enum tw_flow_end reason)
{
    switch (reason) {
        case TW_FLOW_END_TIMEOUT:
            return "timeout";
        case TW_FLOW_END_EVICT:
            return "evict";
        case TW_FLOW_END_REUSE:
            return "reuse";
        case TW_FLOW_END_FLUSH:
            return "flush";
    }
    return "unknown";
}

const char *tw_flow_state_name(enum tw_flow_state state)
{
    switch (state) {
        case TW_FLOW_STATE_NEW:
            return "new";
        case TW_FLOW_STATE_ESTABLISHED:
            return "established";
        case TW_FLOW_STATE_CLOSED:
            return "closed";
    }
    return "unknown";
}
