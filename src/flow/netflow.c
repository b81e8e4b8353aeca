/*
 * netflow.c: the NetFlow/IPFIX decoder's front (netflow.h): datagram
 * dispatch by version, NetFlow v5, the v9 and IPFIX message headers and their
 * walk over sets, sequence accounting, the two bounded tables (sources and
 * templates) and the counters. Templates and the records of data sets are
 * decoded in netflow_tmpl.c; netflow_int.h has the shared structures.
 *
 * Sequence accounting (docs/internals/NETFLOW.md, "Sequence numbers"). Every
 * (exporter, version, domain) has an expected next sequence number:
 *   v5     flow_sequence counts flows sent before: next = seq + count;
 *   v9     the sequence counts export packets:     next = seq + 1 (RFC 3954 5.1);
 *   IPFIX  the sequence counts data records:       next = seq + records (RFC 7011 3.1).
 * A datagram ahead of the expectation by less than 2^31 counts the difference
 * as lost (flows for v5 and IPFIX, datagrams for v9); one behind it is taken
 * for an exporter restart (seq_resets) and resynchronises. An IPFIX message
 * with data sets whose template is unknown cannot say how many records it
 * held: the gap to the next message is then counted in records_no_template,
 * not in lost.
 */
#include "tidewatch/netflow.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "netflow_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/err.h"

/* ==== The bounded tables ==== */

uint32_t tw__nf_key_hash(const struct tw__nf_key *k)
{
    uint64_t w[3];
    uint64_t h;

    memcpy(w, k, sizeof(w));
    h = w[0] * UINT64_C(0x9e3779b97f4a7c15) ^ w[1] * UINT64_C(0xc2b2ae3d27d4eb4f) ^
        w[2] * UINT64_C(0x165667b19e3779f9);
    h ^= h >> 29;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 32;
    return (uint32_t)h;
}

int tw__nf_tab_init(struct tw__nf_tab *t, size_t stride, uint32_t max, tw__nf_drop_fn drop)
{
    uint32_t nb = 16;

    memset(t, 0, sizeof(*t));
    assert(max > 0 && max <= TW__NF_MAX_TEMPLATES && stride >= sizeof(struct tw__nf_node));
    while (nb < max)
        nb <<= 1;
    t->buckets = tw_malloc((size_t)nb * sizeof(uint32_t));
    if (t->buckets == NULL)
        return TW_ENOMEM;
    memset(t->buckets, 0xff, (size_t)nb * sizeof(uint32_t));
    t->mask = nb - 1;
    t->stride = stride;
    t->max = max;
    t->free_head = TW__NF_NIL;
    t->newest = t->oldest = TW__NF_NIL;
    t->drop = drop;
    return TW_OK;
}

void tw__nf_tab_cleanup(struct tw__nf_tab *t)
{
    if (t->drop != NULL) {
        for (uint32_t i = 0; i < t->n_fresh; i++) {
            struct tw__nf_node *n = tw__nf_tab_at(t, i);

            if (n->used)
                t->drop(n);
        }
    }
    tw_free(t->slots);
    tw_free(t->buckets);
    memset(t, 0, sizeof(*t));
}

static uint32_t node_index(const struct tw__nf_tab *t, const void *entry)
{
    return (uint32_t)((size_t)((const unsigned char *)entry - t->slots) / t->stride);
}

static void lru_unlink(struct tw__nf_tab *t, struct tw__nf_node *n)
{
    if (n->newer != TW__NF_NIL)
        tw__nf_tab_at(t, n->newer)->older = n->older;
    else
        t->newest = n->older;
    if (n->older != TW__NF_NIL)
        tw__nf_tab_at(t, n->older)->newer = n->newer;
    else
        t->oldest = n->newer;
}

static void lru_push(struct tw__nf_tab *t, struct tw__nf_node *n, uint32_t i)
{
    n->newer = TW__NF_NIL;
    n->older = t->newest;
    if (t->newest != TW__NF_NIL)
        tw__nf_tab_at(t, t->newest)->newer = i;
    else
        t->oldest = i;
    t->newest = i;
}

void tw__nf_tab_touch(struct tw__nf_tab *t, void *entry)
{
    struct tw__nf_node *n = entry;
    uint32_t i = node_index(t, entry);

    if (t->newest == i)
        return;
    lru_unlink(t, n);
    lru_push(t, n, i);
}

void *tw__nf_tab_find(struct tw__nf_tab *t, const struct tw__nf_key *k, uint32_t h)
{
    for (uint32_t i = t->buckets[h & t->mask]; i != TW__NF_NIL;) {
        struct tw__nf_node *n = tw__nf_tab_at(t, i);

        if (n->hash == h && memcmp(&n->key, k, sizeof(*k)) == 0) {
            tw__nf_tab_touch(t, n);
            return n;
        }
        i = n->hnext;
    }
    return NULL;
}

void tw__nf_tab_remove(struct tw__nf_tab *t, void *entry)
{
    struct tw__nf_node *n = entry;
    uint32_t i = node_index(t, entry);
    uint32_t *link = &t->buckets[n->hash & t->mask];

    assert(n->used);
    while (*link != i) {
        assert(*link != TW__NF_NIL);
        link = &tw__nf_tab_at(t, *link)->hnext;
    }
    *link = n->hnext;
    lru_unlink(t, n);
    if (t->drop != NULL)
        t->drop(n);
    n->used = false;
    n->hnext = t->free_head;
    t->free_head = i;
    t->count--;
}

void *tw__nf_tab_add(struct tw__nf_tab *t, const struct tw__nf_key *k, uint32_t h)
{
    struct tw__nf_node *n;
    uint32_t i;

    if (t->count >= t->max)
        tw__nf_tab_remove(t, tw__nf_tab_at(t, t->oldest));
    if (t->free_head != TW__NF_NIL) {
        i = t->free_head;
        t->free_head = tw__nf_tab_at(t, i)->hnext;
    } else {
        if (t->n_fresh == t->n_alloc) {
            uint32_t want = t->n_alloc < 16 ? 16 : t->n_alloc * 2;
            unsigned char *s;

            if (want > t->max)
                want = t->max;
            s = tw_reallocarray(t->slots, want, t->stride);
            if (s == NULL)
                return NULL;
            t->slots = s;
            t->n_alloc = want;
        }
        i = t->n_fresh++;
    }
    n = tw__nf_tab_at(t, i);
    memset(n, 0, t->stride);
    n->key = *k;
    n->hash = h;
    n->used = true;
    n->hnext = t->buckets[h & t->mask];
    t->buckets[h & t->mask] = i;
    lru_push(t, n, i);
    t->count++;
    return n;
}

/* ==== Sources and sequence numbers ==== */

static void make_key(
        struct tw__nf_key *k, const struct tw_ip *exporter, int version, uint32_t domain)
{
    memset(k, 0, sizeof(*k));
    if (exporter != NULL && (exporter->family == 4 || exporter->family == 6)) {
        memcpy(k->addr, exporter->bytes, sizeof(k->addr));
        k->family = exporter->family;
    }
    k->version = (uint8_t)version;
    k->domain = domain;
}

/* The source entry for k, created when new; NULL only when memory runs out. */
static struct tw__nf_source *source_get(struct tw_nf_decoder *d, const struct tw__nf_key *k)
{
    uint32_t h = tw__nf_key_hash(k);
    struct tw__nf_source *s = tw__nf_tab_find(&d->sources, k, h);

    if (s == NULL)
        s = tw__nf_tab_add(&d->sources, k, h);
    return s;
}

/* Compares a datagram's sequence number with what its source expected. */
static void seq_check(struct tw_nf_decoder *d, const struct tw__nf_source *s, uint32_t seq)
{
    uint32_t gap;

    if (s == NULL || s->seq_state == TW__NF_SEQ_NONE)
        return;
    gap = seq - s->next_seq;
    if (gap == 0)
        return;
    if (gap >= UINT32_C(0x80000000))
        d->st.seq_resets++;
    else if (s->seq_state == TW__NF_SEQ_NOTEMPLATE)
        d->st.records_no_template += gap;
    else
        d->st.lost += gap;
}

static void seq_set(struct tw__nf_source *s, uint8_t state, uint32_t next)
{
    if (s == NULL)
        return;
    s->seq_state = state;
    s->next_seq = next;
}

/* ==== NetFlow v5 ==== */

/*
 * Header (24 bytes) and record (48 bytes), Cisco's NetFlow v5 format:
 *   OFFSET SIZE  HEADER                 OFFSET SIZE  RECORD
 *   0      2     version (5)            0      4     srcaddr
 *   2      2     count (1..30)          4      4     dstaddr
 *   4      4     sysUptime, ms          8      4     nexthop
 *   8      4     unix_secs              12     2     input ifIndex
 *   12     4     unix_nsecs             14     2     output ifIndex
 *   16     4     flow_sequence          16     4     dPkts
 *   20     1     engine_type            20     4     dOctets
 *   21     1     engine_id              24     4     first (sysUptime ms)
 *   22     2     sampling: mode(2 bits) 28     4     last (sysUptime ms)
 *                | interval (14 bits)   32     2     srcport
 *                                       34     2     dstport
 *                                       36     1     pad
 *                                       37     1     tcp_flags
 *                                       38     1     prot
 *                                       39     1     tos
 *                                       40     2     src_as
 *                                       42     2     dst_as
 *                                       44     1     src_mask
 *                                       45     1     dst_mask
 *                                       46     2     pad
 */
static int decode_v5(struct tw_nf_decoder *d, const struct tw_ip *exporter, const uint8_t *data,
        size_t len, tw_nf_emit_fn emit, void *arg, struct tw_err *err)
{
    struct tw__nf_key key;
    struct tw__nf_source *src;
    struct tw_flowrec base, r;
    uint32_t count, uptime, seq, n_fit, n;
    int64_t export_ms;

    d->st.datagrams_v5++;
    if (len < TW__NF_V5_HDR)
        return TW_E_HERE(
                err, TW_ETRUNC, len, "NetFlow v5 header needs 24 bytes, datagram has %zu", len);
    count = tw__nf_rd16(data + 2);
    if (count > TW__NF_V5_MAX_COUNT)
        return TW_E_HERE(err, TW_ESYNTAX, 2, "NetFlow v5 count %u is above 30", (unsigned)count);
    uptime = tw__nf_rd32(data + 4);
    export_ms = (int64_t)tw__nf_rd32(data + 8) * 1000 + tw__nf_rd32(data + 12) / 1000000;
    seq = tw__nf_rd32(data + 16);
    make_key(&key, exporter, 5, (uint32_t)data[20] << 8 | data[21]);
    src = source_get(d, &key);
    if (src == NULL)
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "out of memory for a new exporter");
    seq_check(d, src, seq);
    seq_set(src, TW__NF_SEQ_EXACT, seq + count);

    memset(&base, 0, sizeof(base));
    if (key.family != 0)
        base.exporter = *exporter;
    base.source = TW_FLOWREC_NFV5;
    base.domain = key.domain;
    base.sampling = tw__nf_rd16(data + 22) & 0x3fffu;
    base.src.family = base.dst.family = 4;

    n_fit = (uint32_t)((len - TW__NF_V5_HDR) / TW__NF_V5_REC);
    n = count < n_fit ? count : n_fit;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *p = data + TW__NF_V5_HDR + (size_t)i * TW__NF_V5_REC;
        uint32_t first = tw__nf_rd32(p + 24), last = tw__nf_rd32(p + 28);

        r = base;
        memcpy(r.src.bytes, p, 4);
        memcpy(r.dst.bytes, p + 4, 4);
        if (tw__nf_rd32(p + 8) != 0) {
            r.nexthop.family = 4;
            memcpy(r.nexthop.bytes, p + 8, 4);
        }
        r.in_if = tw__nf_rd16(p + 12);
        r.out_if = tw__nf_rd16(p + 14);
        r.packets = tw__nf_rd32(p + 16);
        r.bytes = tw__nf_rd32(p + 20);
        r.first_ms = export_ms - (int32_t)(uptime - first);
        r.last_ms = export_ms - (int32_t)(uptime - last);
        if (r.last_ms < r.first_ms)
            r.last_ms = r.first_ms;
        r.sport = tw__nf_rd16(p + 32);
        r.dport = tw__nf_rd16(p + 34);
        r.tcp_flags = p[37];
        r.proto = p[38];
        r.tos = p[39];
        r.src_as = tw__nf_rd16(p + 40);
        r.dst_as = tw__nf_rd16(p + 42);
        r.src_mask = p[44];
        r.dst_mask = p[45];
        d->st.records++;
        if (emit != NULL && emit(&r, arg) != 0)
            return TW_OK;
    }
    if (n < count)
        return TW_E_HERE(err, TW_ETRUNC, TW__NF_V5_HDR + (size_t)n * TW__NF_V5_REC,
                "NetFlow v5 record %u of %u runs past the datagram end (%zu bytes)",
                (unsigned)n + 1, (unsigned)count, len);
    return TW_OK;
}

/* ==== NetFlow v9 and IPFIX messages ==== */

/*
 * NetFlow v9 header (RFC 3954 5.1)     IPFIX message header (RFC 7011 3.1)
 *   OFFSET SIZE                          OFFSET SIZE
 *   0      2     version (9)             0      2     version (10)
 *   2      2     count (records)         2      2     length (whole message)
 *   4      4     sysUptime, ms           4      4     export time, s
 *   8      4     unix secs               8      4     sequence (data records)
 *   12     4     sequence (packets)      12     4     observation domain id
 *   16     4     source id
 * then sets: id (2), length (2, header included), contents.
 */
static int decode_v9x(struct tw_nf_decoder *d, const struct tw_ip *exporter, const uint8_t *data,
        size_t len, int version, tw_nf_emit_fn emit, void *arg, struct tw_err *err)
{
    bool ipfix = version == 10;
    size_t hdr = ipfix ? TW__NF_IPFIX_HDR : TW__NF_V9_HDR, end = len, off;
    struct tw__nf_ctx c;
    uint32_t seq, domain, msg_len = 0;
    int rc = TW_OK;

    if (ipfix)
        d->st.datagrams_ipfix++;
    else
        d->st.datagrams_v9++;
    if (len < hdr)
        return TW_E_HERE(err, TW_ETRUNC, len, "%s header needs %zu bytes, datagram has %zu",
                ipfix ? "IPFIX" : "NetFlow v9", hdr, len);
    if (ipfix) {
        msg_len = tw__nf_rd16(data + 2);
        if (msg_len < TW__NF_IPFIX_HDR)
            return TW_E_HERE(err, TW_ESYNTAX, 2, "IPFIX message length %u is below the header's 16",
                    (unsigned)msg_len);
        if (msg_len < len)
            end = msg_len; /* bytes after the message are not part of it */
    }

    memset(&c, 0, sizeof(c));
    c.d = d;
    c.data = data;
    c.version = version;
    c.emit = emit;
    c.arg = arg;
    if (ipfix) {
        c.export_s = tw__nf_rd32(data + 4);
        seq = tw__nf_rd32(data + 8);
        domain = tw__nf_rd32(data + 12);
    } else {
        c.sys_uptime = tw__nf_rd32(data + 4);
        c.export_s = tw__nf_rd32(data + 8);
        seq = tw__nf_rd32(data + 12);
        domain = tw__nf_rd32(data + 16);
    }
    c.export_ms = c.export_s * 1000;
    make_key(&c.key, exporter, version, domain);
    c.src = source_get(d, &c.key);
    if (c.src == NULL)
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "out of memory for a new exporter");
    seq_check(d, c.src, seq);
    if (c.key.family != 0)
        c.base.exporter = *exporter;
    c.base.source = (uint8_t)(ipfix ? TW_FLOWREC_IPFIX : TW_FLOWREC_NFV9);
    c.base.domain = domain;

    for (off = hdr; end - off >= TW__NF_SET_HDR && !c.stopped;) {
        uint16_t id = tw__nf_rd16(data + off), slen = tw__nf_rd16(data + off + 2);

        if (slen < TW__NF_SET_HDR) {
            rc = TW_E_HERE(err, TW_ESYNTAX, off + 2,
                    "set %u has length %u, below its 4-byte header", (unsigned)id, (unsigned)slen);
            break;
        }
        if (slen > end - off) {
            rc = TW_E_HERE(err, TW_ETRUNC, off + 2,
                    "set %u of %u bytes at offset %zu runs past the end of the %s (%zu bytes)",
                    (unsigned)id, (unsigned)slen, off, ipfix ? "message" : "datagram", end);
            break;
        }
        if (id == (ipfix ? TW__NF_IPFIX_TEMPLATE_SET : TW__NF_V9_TEMPLATE_SET) ||
                id == (ipfix ? TW__NF_IPFIX_OPTIONS_SET : TW__NF_V9_OPTIONS_SET))
            rc = tw__nf_template_set(&c, off, slen, id, err);
        else if (id >= TW__NF_MIN_DATA_SET)
            rc = tw__nf_data_set(&c, off, slen, id, err);
        /* other ids are reserved (RFC 3954 5.3, RFC 7011 3.3.2): skipped by length */
        if (rc != TW_OK)
            break;
        off += slen;
    }
    if (rc == TW_OK && ipfix && msg_len > len)
        rc = TW_E_HERE(err, TW_ETRUNC, len,
                "IPFIX message length %u runs past the end of the datagram (%zu bytes)",
                (unsigned)msg_len, len);

    if (!ipfix) {
        /* RFC 3954 5.1: count is every record of the packet, templates included. */
        uint32_t count = tw__nf_rd16(data + 2);

        if (c.n_unknown_sets > 0 && count > c.n_data + c.n_template_recs)
            d->st.records_no_template += count - c.n_data - c.n_template_recs;
        seq_set(c.src, TW__NF_SEQ_EXACT, seq + 1);
    } else if (rc != TW_OK || c.stopped) {
        seq_set(c.src, TW__NF_SEQ_NONE, 0); /* records left unread: resynchronise */
    } else {
        seq_set(c.src, c.n_unknown_sets > 0 ? TW__NF_SEQ_NOTEMPLATE : TW__NF_SEQ_EXACT,
                seq + (uint32_t)c.n_data);
    }
    return rc;
}

/* ==== Public API ==== */

void tw_nf_config_init(struct tw_nf_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_templates = TW_NF_DEFAULT_MAX_TEMPLATES;
}

int tw_nf_decoder_new(const struct tw_nf_config *cfg, struct tw_nf_decoder **out)
{
    struct tw_nf_decoder *d;
    int rc;

    *out = NULL;
    d = tw_calloc(1, sizeof(*d));
    if (d == NULL)
        return TW_ENOMEM;
    if (cfg != NULL)
        d->cfg = *cfg;
    else
        tw_nf_config_init(&d->cfg);
    if (d->cfg.max_templates == 0)
        d->cfg.max_templates = TW_NF_DEFAULT_MAX_TEMPLATES;
    if (d->cfg.max_templates > TW__NF_MAX_TEMPLATES)
        d->cfg.max_templates = TW__NF_MAX_TEMPLATES;
    d->last_tmpl = TW__NF_NIL;
    rc = tw__nf_tab_init(&d->sources, sizeof(struct tw__nf_source), TW__NF_MAX_SOURCES, NULL);
    if (rc == TW_OK)
        rc = tw__nf_tab_init(
                &d->tmpls, sizeof(struct tw__nf_tmpl), d->cfg.max_templates, tw__nf_tmpl_drop);
    if (rc != TW_OK) {
        tw_nf_decoder_free(d);
        return rc;
    }
    *out = d;
    return TW_OK;
}

void tw_nf_decoder_free(struct tw_nf_decoder *d)
{
    if (d == NULL)
        return;
    tw__nf_tab_cleanup(&d->sources);
    tw__nf_tab_cleanup(&d->tmpls);
    tw_free(d);
}

int tw_nf_decode(struct tw_nf_decoder *d, const struct tw_ip *exporter, const uint8_t *data,
        size_t len, tw_nf_emit_fn emit, void *arg, struct tw_err *err)
{
    unsigned version;
    int rc;

    d->st.datagrams++;
    if (len > TW_NF_MAX_DATAGRAM) {
        d->st.malformed++;
        return TW_E_HERE(err, TW_ELIMIT, TW_NF_MAX_DATAGRAM,
                "datagram of %zu bytes is longer than 65535", len);
    }
    if (len < 2) {
        d->st.malformed++;
        return TW_E_HERE(err, TW_ETRUNC, len, "datagram of %zu bytes has no version", len);
    }
    version = tw__nf_rd16(data);
    switch (version) {
        case 5:
            rc = decode_v5(d, exporter, data, len, emit, arg, err);
            break;
        case 9:
        case 10:
            rc = decode_v9x(d, exporter, data, len, (int)version, emit, arg, err);
            break;
        default:
            d->st.unsupported++;
            return TW_E_HERE(err, TW_ESYNTAX, 0, "unsupported NetFlow/IPFIX version %u", version);
    }
    if (rc != TW_OK && rc != TW_ENOMEM)
        d->st.malformed++;
    return rc;
}

void tw_nf_decoder_stats(const struct tw_nf_decoder *d, struct tw_nf_stats *out)
{
    *out = d->st;
}
