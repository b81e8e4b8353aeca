/*
 * defrag.c: IPv4 and IPv6 fragment reassembly for the decoder.
 *
 * A tracker holds the fragments of one datagram, keyed by family, protocol
 * (IPv4), identification, addresses and the tunnel context around the IP
 * header (decode_ip.c builds the key). Trackers live in a hash table sized
 * for defrag_max_trackers and in a list in creation order; a tracker older
 * than defrag_timeout_s when another fragment arrives is dropped incomplete.
 *
 * Overlaps are resolved first-wins: bytes already held are never replaced,
 * and only the parts of a new fragment that fill holes are stored. Conflicting
 * bytes are counted as an overlap, identical ones as a duplicate. Every byte
 * held (pieces, the first fragment's header, the trackers themselves) counts
 * against defrag_memcap; a fragment that does not fit is dropped and counted.
 *
 * When the datagram is complete it is rebuilt in the decoder's buffer behind
 * the outer headers of the packet that completed it: the first fragment's IP
 * header (IPv4: total length, flags and checksum fixed; IPv6: payload length
 * fixed and the Fragment header removed from the chain) and then the data.
 */
#include <string.h>

#include "decode_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/hash.h"

#define KEY_LEN 46 /* bytes of tw__frag_in.key in use */

/* A stored run of datagram bytes [off, off+len). */
struct tw__piece {
    struct tw__piece *next; /* sorted by offset, never overlapping */
    uint32_t off;
    uint32_t len;
    uint8_t data[];
};

struct tw__tracker {
    struct tw__tracker *hnext; /* hash chain */
    struct tw__tracker *older; /* creation order */
    struct tw__tracker *newer;
    uint64_t hash;
    uint8_t key[KEY_LEN];
    bool ipv6;
    bool have_end;
    uint8_t nh;   /* IPv6: next header after the Fragment header */
    uint32_t end; /* datagram data length, once the last fragment is seen */
    int64_t created_ns;
    struct tw__piece *pieces;
    unsigned n_pieces;
    uint8_t *hdr; /* IP header of the fragment at offset 0 */
    uint32_t hdr_len;
    uint32_t nh_pos; /* IPv6: where in hdr the next-header byte to patch is */
    size_t mem;      /* bytes this tracker accounts for */
};

/* ==== Trackers ==== */

static void tracker_free(struct tw_decoder *d, struct tw__tracker *t)
{
    struct tw__defrag *df = &d->defrag;
    struct tw__tracker **pp = &df->buckets[t->hash & (df->n_buckets - 1)];

    while (*pp != NULL && *pp != t)
        pp = &(*pp)->hnext;
    if (*pp == t)
        *pp = t->hnext;
    if (t->older != NULL)
        t->older->newer = t->newer;
    else
        df->oldest = t->newer;
    if (t->newer != NULL)
        t->newer->older = t->older;
    else
        df->newest = t->older;
    while (t->pieces != NULL) {
        struct tw__piece *n = t->pieces->next;
        tw_free(t->pieces);
        t->pieces = n;
    }
    df->mem -= t->mem;
    df->n_trackers--;
    tw_free(t->hdr);
    tw_free(t);
}

/* Drops trackers whose first fragment arrived timeout seconds before now. */
static void expire(struct tw_decoder *d, int64_t now)
{
    int64_t timeout = (int64_t)d->cfg.defrag_timeout_s * 1000000000;

    while (d->defrag.oldest != NULL && now - d->defrag.oldest->created_ns >= timeout) {
        d->events[TW_EV_FRAG_TIMEOUT]++;
        tracker_free(d, d->defrag.oldest);
    }
}

/* Finds the tracker for key, or creates it. NULL with *ev set when it cannot. */
static struct tw__tracker *tracker_get(
        struct tw_decoder *d, const struct tw__frag_in *f, int64_t now, unsigned *ev)
{
    struct tw__defrag *df = &d->defrag;
    uint64_t h = tw_hash64(f->key, KEY_LEN, 0x66726167u);
    struct tw__tracker **bucket = &df->buckets[h & (df->n_buckets - 1)];
    struct tw__tracker *t;

    for (t = *bucket; t != NULL; t = t->hnext) {
        if (t->hash == h && memcmp(t->key, f->key, KEY_LEN) == 0)
            return t;
    }
    if (df->n_trackers >= d->cfg.defrag_max_trackers) {
        *ev = TW_EV_FRAG_MAX_TRACKERS;
        return NULL;
    }
    if (sizeof(*t) > d->cfg.defrag_memcap - df->mem) {
        *ev = TW_EV_FRAG_MEMCAP;
        return NULL;
    }
    if ((t = tw_calloc(1, sizeof(*t))) == NULL) {
        *ev = TW_EV_FRAG_NOMEM;
        return NULL;
    }
    t->hash = h;
    memcpy(t->key, f->key, KEY_LEN);
    t->ipv6 = f->ipv6;
    t->created_ns = now;
    t->mem = sizeof(*t);
    df->mem += t->mem;
    df->n_trackers++;
    t->hnext = *bucket;
    *bucket = t;
    t->older = df->newest;
    if (df->newest != NULL)
        df->newest->newer = t;
    else
        df->oldest = t;
    df->newest = t;
    return t;
}

/* ==== Pieces ==== */

static struct tw__piece *piece_new(const uint8_t *src, uint32_t off, uint32_t len)
{
    struct tw__piece *pc = tw_malloc(sizeof(*pc) + len);

    if (pc == NULL)
        return NULL;
    pc->next = NULL;
    pc->off = off;
    pc->len = len;
    memcpy(pc->data, src, len);
    return pc;
}

/*
 * Stores the parts of f not held yet (first-wins). Returns 0, or the event
 * that made the fragment be dropped (nothing of it is stored then, except
 * after an allocation failure midway, which leaves a consistent list).
 */
static unsigned insert(
        struct tw_decoder *d, struct tw__tracker *t, const struct tw__frag_in *f, unsigned *note)
{
    uint32_t start = f->frag_off, fe = f->frag_off + f->len, cur = start;
    size_t new_bytes = 0, new_pieces = 0;
    struct tw__piece **pp;
    bool conflict = false, same = false;

    /* Pass 1: measure the holes this fragment fills and compare the overlaps. */
    for (const struct tw__piece *e = t->pieces; e != NULL && cur < fe; e = e->next) {
        uint32_t es = e->off, ee = e->off + e->len, os, oe;
        if (ee <= cur)
            continue;
        if (es >= fe)
            break;
        if (cur < es) {
            new_pieces++;
            new_bytes += es - cur;
        }
        os = TW_MAX(cur, es);
        oe = TW_MIN(fe, ee);
        if (memcmp(e->data + (os - es), f->data + (os - start), oe - os) != 0)
            conflict = true;
        else
            same = true;
        cur = ee;
    }
    if (cur < fe) {
        new_pieces++;
        new_bytes += fe - cur;
    }
    *note = conflict ? TW_EV_FRAG_OVERLAP : same ? TW_EV_FRAG_DUPLICATE : TW_EV_NONE;
    if (t->n_pieces + new_pieces > TW_DEFRAG_MAX_FRAGMENTS)
        return TW_EV_FRAG_TOO_MANY;
    if (new_pieces * sizeof(struct tw__piece) + new_bytes > d->cfg.defrag_memcap - d->defrag.mem)
        return TW_EV_FRAG_MEMCAP;

    /* Pass 2: link a piece into each hole. */
    cur = start;
    pp = &t->pieces;
    while (cur < fe) {
        struct tw__piece *e = *pp, *pc;
        uint32_t stop;

        if (e != NULL && e->off + e->len <= cur) {
            pp = &e->next;
            continue;
        }
        stop = (e == NULL || e->off >= fe) ? fe : e->off;
        if (cur < stop) {
            if ((pc = piece_new(f->data + (cur - start), cur, stop - cur)) == NULL)
                return TW_EV_FRAG_NOMEM;
            pc->next = e;
            *pp = pc;
            t->n_pieces++;
            t->mem += sizeof(*pc) + pc->len;
            d->defrag.mem += sizeof(*pc) + pc->len;
        }
        if (e == NULL || e->off >= fe)
            break;
        cur = e->off + e->len;
        pp = &e->next;
    }
    return TW_EV_NONE;
}

/* True when the pieces cover [0, end) and the first fragment's header is known. */
static bool complete(const struct tw__tracker *t)
{
    uint32_t expect = 0;

    if (!t->have_end || t->hdr == NULL)
        return false;
    for (const struct tw__piece *e = t->pieces; e != NULL; e = e->next) {
        if (e->off > expect)
            return false;
        expect = e->off + e->len;
    }
    return expect >= t->end;
}

/* ==== Reassembly ==== */

static uint16_t ipv4_checksum(const uint8_t *h, uint32_t len)
{
    uint32_t sum = 0;

    for (uint32_t i = 0; i + 1 < len; i += 2)
        sum += tw__rd16(h + i);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Rebuilds the datagram behind c->pkt[0..prefix_len) in the decoder's buffer. */
static unsigned assemble(struct tw__dctx *c, struct tw__tracker *t, uint32_t prefix_len)
{
    struct tw_decoder *d = c->d;
    size_t need = (size_t)prefix_len + t->hdr_len + t->end;
    uint8_t *b, *ip;

    if (need > d->rbuf_cap) {
        size_t cap = need < 4096 ? 4096 : need;
        uint8_t *nb = tw_realloc(d->rbuf, cap);
        if (nb == NULL)
            return TW_EV_FRAG_NOMEM;
        d->rbuf = nb;
        d->rbuf_cap = cap;
    }
    b = d->rbuf;
    memcpy(b, c->pkt, prefix_len);
    ip = b + prefix_len;
    memcpy(ip, t->hdr, t->hdr_len);
    for (const struct tw__piece *e = t->pieces; e != NULL; e = e->next)
        memcpy(ip + t->hdr_len + e->off, e->data, e->len);
    if (t->ipv6) {
        uint32_t plen = t->hdr_len - 40 + t->end;
        ip[4] = (uint8_t)(plen >> 8);
        ip[5] = (uint8_t)plen;
        ip[t->nh_pos] = t->nh;
    } else {
        uint32_t tot = t->hdr_len + t->end;
        uint16_t sum;
        ip[2] = (uint8_t)(tot >> 8);
        ip[3] = (uint8_t)tot;
        ip[6] &= 0x40; /* keep DF; clear MF and the offset */
        ip[7] = 0;
        ip[10] = 0;
        ip[11] = 0;
        sum = ipv4_checksum(ip, t->hdr_len);
        ip[10] = (uint8_t)(sum >> 8);
        ip[11] = (uint8_t)sum;
    }
    c->pkt = b;
    c->caplen = (uint32_t)need;
    return TW_EV_NONE;
}

static int dropped(struct tw__dctx *c, unsigned ev)
{
    tw__event(c, ev);
    return TW_DECODE_DROPPED;
}

int tw__defrag_add(struct tw__dctx *c, const struct tw__frag_in *f, uint32_t prefix_len)
{
    struct tw_decoder *d = c->d;
    struct tw__defrag *df = &d->defrag;
    uint32_t fend = f->frag_off + f->len;
    uint32_t max_data = f->ipv6 ? 65535 : 65535 - 20;
    struct tw__tracker *t;
    unsigned ev = TW_EV_NONE, note = TW_EV_NONE;

    if (df->buckets == NULL) {
        size_t n = 16;
        while (n < d->cfg.defrag_max_trackers && n < TW_DECODE_MAX_TRACKERS)
            n <<= 1;
        /* An array of chain heads (pointers). */
        df->buckets =
                tw_calloc(n, sizeof(struct tw__tracker *)); /* NOLINT(bugprone-sizeof-expression) */
        if (df->buckets == NULL)
            return dropped(c, TW_EV_FRAG_NOMEM);
        df->n_buckets = n;
    }
    expire(d, c->p->ts_ns);

    if (f->more && (f->len == 0 || (f->len & 7) != 0))
        return dropped(c, TW_EV_FRAG_BAD_LEN);
    if (fend > max_data)
        return dropped(c, TW_EV_FRAG_TOO_LARGE);
    if ((t = tracker_get(d, f, c->p->ts_ns, &ev)) == NULL)
        return dropped(c, ev);

    /* The datagram's end: the first last-fragment fixes it. */
    if (!f->more) {
        const struct tw__piece *e = t->pieces;
        while (e != NULL && e->next != NULL)
            e = e->next;
        if ((t->have_end && t->end != fend) || (e != NULL && e->off + e->len > fend))
            return dropped(c, TW_EV_FRAG_BAD_END);
    } else if (t->have_end && fend > t->end) {
        return dropped(c, TW_EV_FRAG_BAD_END);
    }

    /* The header of the offset-0 fragment becomes the datagram's header. */
    if (f->frag_off == 0 && t->hdr == NULL) {
        if (f->hdr_len > d->cfg.defrag_memcap - df->mem)
            return dropped(c, TW_EV_FRAG_MEMCAP);
        if ((t->hdr = tw_malloc(f->hdr_len)) == NULL)
            return dropped(c, TW_EV_FRAG_NOMEM);
        memcpy(t->hdr, f->hdr, f->hdr_len);
        t->hdr_len = f->hdr_len;
        t->nh_pos = f->nh_pos;
        t->nh = f->nh;
        t->mem += f->hdr_len;
        df->mem += f->hdr_len;
    }

    ev = insert(d, t, f, &note);
    tw__event(c, note);
    if (ev != TW_EV_NONE)
        return dropped(c, ev);
    if (!f->more) {
        t->have_end = true;
        t->end = fend;
    }
    if (!complete(t))
        return TW_DECODE_HELD;

    if ((size_t)t->hdr_len + t->end > 65535 + (t->ipv6 ? 40u : 0u)) {
        tracker_free(d, t);
        return dropped(c, TW_EV_FRAG_TOO_LARGE);
    }
    ev = assemble(c, t, prefix_len);
    tracker_free(d, t);
    if (ev != TW_EV_NONE)
        return dropped(c, ev);
    return TW_DECODE_REASSEMBLED;
}

void tw__defrag_cleanup(struct tw_decoder *d)
{
    while (d->defrag.oldest != NULL)
        tracker_free(d, d->defrag.oldest);
    tw_free(d->defrag.buckets);
    memset(&d->defrag, 0, sizeof(d->defrag));
}
