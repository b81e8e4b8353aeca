/*
 * hunt.c: matching packets and flows against the indicator index (see
 * include/tidewatch/hunt.h and docs/internals/HUNT.md).
 *
 * Per packet: decode, find the flow, look every IP layer's addresses up (all
 * of them at the flow's first packet, later only outer addresses it did not
 * carry, unless validity is respected), the flow's ports once, and the
 * metadata the parsers find (DNS on UDP, TLS, HTTP, SSH and DNS on TCP
 * through the bounded in-order stream). Exact indicators alert at once;
 * others become the flow's candidates. When the flow ends its candidates, and
 * the indicators the index cannot hold, are evaluated against the flow seen
 * as STIX observations. Per-flow metadata and TCP streams are recycled
 * (slabs and spare lists), so busy captures do not churn the allocator.
 */
#include "tidewatch/hunt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <pthread.h>

#include "tidewatch/alloc.h"
#include "tidewatch/dns.h"
#include "tidewatch/hash.h"
#include "tidewatch/http.h"
#include "tidewatch/pattern.h"
#include "tidewatch/proto.h"
#include "tidewatch/ssh.h"
#include "tidewatch/stream.h"
#include "tidewatch/time.h"
#include "tidewatch/tls.h"
#include "tidewatch/url.h"

/* ==== Types ==== */

/* A small growable set of indicator numbers. */
struct numset {
    uint32_t *v;
    uint16_t n, cap;
};

/* Storage beyond a metadata block's own, for flows with long strings or deep tunnels. */
struct meta_chunk {
    struct meta_chunk *next;
    size_t used, cap;
    _Alignas(8) unsigned char data[];
};

/*
 * A flow's metadata and the bytes of its strings and tunnel layers, which are
 * carved from `store` (enough for most flows) and then from chunks. Nothing
 * is freed before the flow ends, and a string is set once per flow in all
 * but hostile traffic (a repeated one takes new bytes), so the total stays
 * near the sum of the TW_META_* bounds.
 */
#define META_STORE 320
struct meta_block {
    struct tw_flow_meta m;   /* first: the part the sink sees */
    struct meta_chunk *more; /* newest first */
    uint32_t used;           /* bytes of store handed out */
    /*
     * The client's first bytes holding its ClientHello, kept while JA3 and JA4
     * are not computed yet (fingerprints()): NULL once they are, or when the
     * flow has none.
     */
    const uint8_t *hello;
    uint32_t hello_len;
    _Alignas(8) unsigned char store[META_STORE];
};

/* Metadata blocks are carved from slabs of this many, and never go back to the allocator. */
#define META_SLAB 128
struct meta_slab {
    struct meta_slab *next;
    struct meta_block blocks[META_SLAB];
};

/* Per-flow state, in the flow table's extra area (zeroed when the flow starts). */
struct fstate {
    struct meta_block *meta;  /* allocated at the first metadata or tunnel */
    struct tw_stream *stream; /* TCP only, allocated at the first payload byte */
    struct numset alerted;    /* indicators this flow has alerted on */
    struct numset cand;       /* indicators to verify at the flow's end */
    uint8_t done[2];          /* metadata finished: [0] to server, [1] to client */
    bool ports_done;
    bool meta_more; /* the metadata has chunks (so releasing it need not read the block) */
};

/* Recent observations of flows that were candidates for one indicator. */
#define HIST_LEN 8
struct history {
    json_t *obs[HIST_LEN];
    unsigned n, next;
};

struct tw_hunt_shared {
    pthread_mutex_t lock;
    struct history **hist; /* per indicator, allocated on first use */
    size_t n;
};

struct tw_hunt {
    struct tw_hunt_config cfg;
    const struct tw_index *idx;
    struct tw_decoder *dec;
    struct tw_flow_table *flows;
    struct tw_stream_budget budget;
    struct tw_dns_msg *dns;        /* scratch: large */
    struct tw_tls_hello *tls;      /* scratch */
    struct tw_hunt_shared *shared; /* verification history (own or borrowed) */
    bool own_shared;
    uint64_t *per_ind;             /* alerts per indicator */
    bool has[TW_INDEX_KIND_COUNT]; /* the index holds values of this kind: worth looking up */
    uint32_t hits[256];
    struct tw_buf scratch;
    struct meta_slab *slabs;       /* every metadata block lives in one of these */
    struct meta_block **free_meta; /* blocks not in use: a stack with room for all of them */
    size_t n_free_meta, n_meta;
    struct tw_stream **spare_streams; /* freed stream structs kept for reuse */
    size_t n_spare_streams;
    struct tw_hunt_stats st;
    bool oom;
};

/* ==== Small helpers ==== */

static bool numset_has(const struct numset *s, uint32_t x)
{
    for (uint16_t i = 0; i < s->n; i++)
        if (s->v[i] == x)
            return true;
    return false;
}

/* Adds x; returns false only when memory ran out (or the set is full). */
static bool numset_add(struct numset *s, uint32_t x)
{
    if (s->n == s->cap) {
        uint16_t cap = s->cap ? (uint16_t)(s->cap * 2) : 4;
        uint32_t *v;
        if (s->cap >= 4096)
            return false;
        v = tw_reallocarray(s->v, cap, sizeof(*v));
        if (v == NULL)
            return false;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = x;
    return true;
}

/* Smallest chunk a metadata block grows by. */
#define META_CHUNK 1024

/* A layer list with nothing in it, for flows without tunnels. */
static const struct tw_layer no_layers[1];

/* Adds a slab of blocks to the free stack. Returns false on ENOMEM. */
static bool meta_grow(struct tw_hunt *h)
{
    struct meta_slab *s;
    struct meta_block **stack;

    stack = tw_reallocarray(h->free_meta, h->n_meta + META_SLAB, sizeof(struct meta_block *));
    if (stack == NULL)
        return false;
    h->free_meta = stack;
    s = tw_malloc(sizeof(*s));
    if (s == NULL)
        return false;
    s->next = h->slabs;
    h->slabs = s;
    h->n_meta += META_SLAB;
    /* Pushed last first, so blocks are handed out in address order. */
    for (size_t i = META_SLAB; i > 0; i--)
        h->free_meta[h->n_free_meta++] = &s->blocks[i - 1];
    return true;
}

static struct meta_block *meta_of(struct tw_hunt *h, struct fstate *fs)
{
    struct meta_block *b = fs->meta;

    if (b != NULL)
        return b;
    if (h->n_free_meta == 0 && !meta_grow(h)) {
        h->oom = true;
        return NULL;
    }
    b = h->free_meta[--h->n_free_meta];
    memset(&b->m, 0, sizeof(b->m));
    b->m.dns_query = b->m.tls_sni = b->m.ja3 = b->m.ja4 = b->m.tls_cert_sha1 = "";
    b->m.http_method = b->m.http_host = b->m.http_uri = b->m.http_ua = "";
    b->m.ssh_client = b->m.ssh_server = "";
    b->m.tunnel = no_layers;
    b->more = NULL;
    b->used = 0;
    b->hello = NULL;
    b->hello_len = 0;
    h->st.meta_bytes += sizeof(*b);
    fs->meta = b;
    return b;
}

/*
 * Releases a flow's metadata: its chunks to the allocator, the block to the
 * free stack, which has room for every block. Without chunks the block is
 * not read, which matters when a flush ends every flow at once.
 */
static void meta_release(struct tw_hunt *h, struct fstate *fs)
{
    struct meta_block *b = fs->meta;

    if (b == NULL)
        return;
    while (fs->meta_more && b->more != NULL) {
        struct meta_chunk *c = b->more;
        b->more = c->next;
        h->st.meta_bytes -= sizeof(*c) + c->cap;
        tw_free(c);
    }
    h->st.meta_bytes -= sizeof(*b);
    h->free_meta[h->n_free_meta++] = b;
    fs->meta = NULL;
    fs->meta_more = false;
}

/* n bytes aligned to `align` (a power of two up to 8) from the flow's metadata; NULL on ENOMEM. */
static void *meta_alloc(struct tw_hunt *h, struct fstate *fs, size_t n, size_t align)
{
    struct meta_block *b = fs->meta;
    size_t at = (b->used + align - 1) & ~(align - 1);
    struct meta_chunk *c = fs->meta_more ? b->more : NULL;

    if (at + n <= sizeof(b->store)) {
        b->used = (uint32_t)(at + n);
        return b->store + at;
    }
    if (c != NULL) {
        at = (c->used + align - 1) & ~(align - 1);
        if (at + n <= c->cap) {
            c->used = at + n;
            return c->data + at;
        }
    }
    c = tw_malloc(sizeof(*c) + TW_MAX(n, (size_t)META_CHUNK));
    if (c == NULL) {
        h->oom = true;
        return NULL;
    }
    c->cap = TW_MAX(n, (size_t)META_CHUNK);
    c->used = n;
    c->next = b->more;
    b->more = c;
    fs->meta_more = true;
    h->st.meta_bytes += sizeof(*c) + c->cap;
    return c->data;
}

/*
 * A copy of src[0, len) in b's storage, cut to size - 1 bytes as a char[size]
 * field would keep it; "" for an empty string or on ENOMEM.
 */
static const char *meta_str(
        struct tw_hunt *h, struct fstate *fs, const char *src, size_t len, size_t size)
{
    char *d;

    if (len >= size)
        len = size - 1;
    if (len == 0 || (d = meta_alloc(h, fs, len + 1, 1)) == NULL)
        return "";
    memcpy(d, src, len);
    d[len] = '\0';
    return d;
}

/* What the sink sees of a flow's metadata (NULL when it has none). */
static const struct tw_flow_meta *meta_view(const struct fstate *fs)
{
    return fs->meta != NULL ? &fs->meta->m : NULL;
}

/*
 * Computes the JA3 and JA4 of a ClientHello kept by on_tls. Hashing the
 * lists is most of the cost of a ClientHello, and a fingerprint is needed
 * only where something reads it: an index holding JA3 or JA4 indicators
 * (on_tls computes them at once), and whatever hands the flow's metadata out
 * (alerts, metadata and flow events, pattern verification), which calls this
 * first. Output is the same either way.
 */
static void fingerprints(struct tw_hunt *h, struct fstate *fs)
{
    struct meta_block *b = fs->meta;
    char ja3[TW_TLS_JA3_HEXLEN], ja4[TW_TLS_JA4_STRLEN];

    if (b == NULL || b->hello == NULL)
        return;
    if (tw_tls_parse_client_hello(b->hello, b->hello_len, h->tls, NULL) == TW_OK) {
        tw_tls_ja3_hash(h->tls, ja3);
        tw_tls_ja4(h->tls, TW_JA4_TCP, ja4);
        b->m.ja3 = meta_str(h, fs, ja3, strlen(ja3), sizeof(ja3));
        b->m.ja4 = meta_str(h, fs, ja4, strlen(ja4), sizeof(ja4));
    }
    b->hello = NULL;
    b->hello_len = 0;
}

static bool is_tunnel_layer(uint8_t kind)
{
    return kind != TW_L_ETH && kind != TW_L_SLL && kind != TW_L_NULL && kind != TW_L_NONE;
}

const char *tw_app_name(enum tw_app app)
{
    static const char *const names[] = { "", "dns", "tls", "http", "ssh" };

    return app <= TW_APP_SSH ? names[app] : "";
}

/* Keeps the tunnel layers of a flow's first packet (the first TW_META_TUNNEL) in its metadata. */
static void keep_tunnel(struct tw_hunt *h, const struct tw_packet *p, struct fstate *fs)
{
    struct tw_layer *t;
    struct meta_block *b;
    uint8_t n = 0;

    for (int i = 0; i < p->inner_ip; i++)
        if (is_tunnel_layer(p->layers[i].kind))
            n++;
    if (n == 0 || (b = meta_of(h, fs)) == NULL)
        return;
    n = TW_MIN(n, (uint8_t)TW_META_TUNNEL);
    t = meta_alloc(h, fs, n * sizeof(*t), _Alignof(struct tw_layer));
    if (t == NULL)
        return;
    b->m.tunnel = t;
    for (int i = 0; i < p->inner_ip && b->m.n_tunnel < n; i++)
        if (is_tunnel_layer(p->layers[i].kind))
            t[b->m.n_tunnel++] = p->layers[i];
}

/* ==== Alerts and candidates ==== */

static void emit(struct tw_hunt *h, const struct tw_flow *f, struct fstate *fs, uint32_t ind,
        int64_t ts, uint64_t cnt, const char *field, const char *value)
{
    struct tw_hunt_alert a;

    if (numset_has(&fs->alerted, ind))
        return;
    if (!numset_add(&fs->alerted, ind))
        h->oom = true;
    h->st.alerts++;
    h->per_ind[ind]++;
    if (h->cfg.sink.alert == NULL)
        return;
    a.ts_ns = ts;
    a.pcap_cnt = cnt;
    a.flow = f;
    a.indicator = ind;
    a.field = field;
    a.value = value;
    fingerprints(h, fs);
    a.meta = meta_view(fs);
    h->cfg.sink.alert(h->cfg.sink.ctx, &a);
}

/* Whether indicator n may match traffic at ts (validity, revocation). */
static bool usable(const struct tw_hunt *h, uint32_t n, int64_t ts)
{
    enum tw_ind_state s = tw_index_state(h->idx, n, ts / 1000000000);

    if (s == TW_IND_STATE_REVOKED)
        return h->cfg.include_revoked;
    if (h->cfg.respect_validity && s != TW_IND_ACTIVE)
        return false;
    return true;
}

/* Handles count lookup results in h->hits for a packet of flow f. */
static void on_hits(struct tw_hunt *h, const struct tw_packet *p, struct tw_flow *f,
        struct fstate *fs, size_t count, const char *field, const char *value)
{
    size_t n = count < TW_ARRAY_LEN(h->hits) ? count : TW_ARRAY_LEN(h->hits);

    for (size_t i = 0; i < n; i++) {
        uint32_t ind = h->hits[i];
        if (!usable(h, ind, p->ts_ns))
            continue;
        if (tw_index_get(h->idx, ind)->flags & TW_IND_EXACT) {
            emit(h, f, fs, ind, p->ts_ns, p->num, field, value);
        } else if (!numset_has(&fs->cand, ind) && !numset_add(&fs->cand, ind)) {
            h->oom = true;
        }
    }
}

static void match_ip(struct tw_hunt *h, const struct tw_packet *p, struct tw_flow *f,
        struct fstate *fs, const struct tw_ip *ip, const char *field)
{
    size_t n = ip->family == 4
                       ? tw_index_lookup_ipv4(h->idx, tw_ip_v4(ip), h->hits, TW_ARRAY_LEN(h->hits))
                       : tw_index_lookup_ip(h->idx, ip, h->hits, TW_ARRAY_LEN(h->hits));
    char text[TW_IP_STRLEN];

    if (TW_LIKELY(n == 0))
        return;
    tw_ip_format(ip, text);
    on_hits(h, p, f, fs, n, field, text);
}

static void match_domain(struct tw_hunt *h, const struct tw_packet *p, struct tw_flow *f,
        struct fstate *fs, const char *name, const char *field)
{
    size_t n;

    if (name[0] == '\0')
        return;
    n = tw_index_lookup_domain(h->idx, tw_str_cstr(name), h->hits, TW_ARRAY_LEN(h->hits));
    if (n > 0)
        on_hits(h, p, f, fs, n, field, name);
}

static void match_str(struct tw_hunt *h, const struct tw_packet *p, struct tw_flow *f,
        struct fstate *fs, enum tw_index_kind kind, const char *value, const char *field)
{
    size_t n;

    if (value[0] == '\0' || !h->has[kind])
        return;
    n = tw_index_lookup_str(h->idx, kind, tw_str_cstr(value), h->hits, TW_ARRAY_LEN(h->hits));
    if (n > 0)
        on_hits(h, p, f, fs, n, field, value);
}

/* True when a and b are the same address (struct tw_ip has no padding; unused bytes are zero). */
static inline bool ip_same(const struct tw_ip *a, const struct tw_ip *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

/* Whether the flow's first packet carried address a in an outer IP layer kept in m. */
static bool seen_outer(const struct tw_flow_meta *m, const struct tw_ip *a)
{
    for (uint8_t k = 0; k < m->n_tunnel; k++) {
        const struct tw_layer *t = &m->tunnel[k];
        if ((t->kind == TW_L_IPV4 || t->kind == TW_L_IPV6) &&
                (ip_same(&t->u.ip.src, a) || ip_same(&t->u.ip.dst, a)))
            return true;
    }
    return false;
}

/*
 * The address lookups of a packet after the first of its flow. The first
 * packet looked up every address of its stack, and what an address matches
 * does not depend on the packet unless validity is respected (the caller
 * checks): its exact hits have alerted and the rest are candidates, once per
 * flow either way. The inner addresses are the flow's own, so only outer
 * addresses the first packet did not carry (beyond the layers kept in the
 * metadata, or a tunnel context with the same hash) are looked up.
 */
static void match_outer_again(
        struct tw_hunt *h, const struct tw_packet *p, struct tw_flow *f, struct fstate *fs)
{
    for (int i = 0; i < p->inner_ip; i++) {
        const struct tw_layer *l = &p->layers[i];
        if (l->kind != TW_L_IPV4 && l->kind != TW_L_IPV6)
            continue;
        if (fs->meta == NULL || !seen_outer(&fs->meta->m, &l->u.ip.src))
            match_ip(h, p, f, fs, &l->u.ip.src, "tunnel.ip.src");
        if (fs->meta == NULL || !seen_outer(&fs->meta->m, &l->u.ip.dst))
            match_ip(h, p, f, fs, &l->u.ip.dst, "tunnel.ip.dst");
    }
}

/* ==== Metadata ==== */

static void note_meta(struct tw_hunt *h, const struct tw_packet *p, struct tw_flow *f,
        struct fstate *fs, enum tw_app app)
{
    if (h->cfg.sink.metadata != NULL) {
        fingerprints(h, fs);
        h->cfg.sink.metadata(h->cfg.sink.ctx, p, f, meta_view(fs), app);
    }
}

static void on_dns(struct tw_hunt *h, const struct tw_packet *p, struct tw_flow *f,
        struct fstate *fs, const struct tw_dns_msg *m)
{
    struct meta_block *b = meta_of(h, fs);

    h->st.dns++;
    if (b != NULL) {
        b->m.app = TW_APP_DNS;
        if (m->n_questions > 0 && b->m.dns_query[0] == '\0') {
            b->m.dns_query = meta_str(h, fs, m->q[0].name, m->q[0].name_len, TW_META_NAME);
            b->m.dns_qtype = m->q[0].qtype;
        }
        if (m->qr) {
            b->m.dns_response = true;
            b->m.dns_rcode = m->rcode;
        }
    }
    for (uint16_t i = 0; i < m->n_questions; i++)
        match_domain(h, p, f, fs, m->q[i].name, "dns.query");
    for (uint16_t i = 0; i < m->n_rrs; i++) {
        const struct tw_dns_rr *rr = &m->rr[i];
        if (rr->section != TW_DNS_SEC_ANSWER)
            continue;
        match_domain(h, p, f, fs, rr->name, "dns.answer.rrname");
        if (rr->kind == TW_DNS_RDATA_ADDR)
            match_ip(h, p, f, fs, &rr->addr, "dns.answer.rdata");
        else if (rr->kind == TW_DNS_RDATA_NAME)
            match_domain(h, p, f, fs, rr->data, "dns.answer.rdata");
    }
    note_meta(h, p, f, fs, TW_APP_DNS);
}

/* data[0, len): the client bytes hello was parsed from. */
static void on_tls(struct tw_hunt *h, const struct tw_packet *p, struct tw_flow *f,
        struct fstate *fs, const struct tw_tls_hello *hello, const uint8_t *data, uint32_t len)
{
    struct meta_block *b = meta_of(h, fs);
    uint8_t *keep;

    h->st.tls++;
    if (b == NULL)
        return;
    b->m.app = TW_APP_TLS;
    b->m.tls_sni = meta_str(h, fs, hello->sni, hello->sni_len, TW_META_NAME);
    if (h->has[TW_INDEX_JA3] || h->has[TW_INDEX_JA4]) {
        char ja3[TW_TLS_JA3_HEXLEN], ja4[TW_TLS_JA4_STRLEN];

        tw_tls_ja3_hash(hello, ja3);
        tw_tls_ja4(hello, TW_JA4_TCP, ja4);
        b->m.ja3 = meta_str(h, fs, ja3, strlen(ja3), sizeof(ja3));
        b->m.ja4 = meta_str(h, fs, ja4, strlen(ja4), sizeof(ja4));
    } else if ((keep = meta_alloc(h, fs, len, 1)) != NULL) {
        /* Fingerprints later, if anything reads them (fingerprints()). */
        memcpy(keep, data, len);
        b->hello = keep;
        b->hello_len = len;
    }
    match_domain(h, p, f, fs, b->m.tls_sni, "tls.sni");
    match_str(h, p, f, fs, TW_INDEX_JA3, b->m.ja3, "tls.ja3.hash");
    match_str(h, p, f, fs, TW_INDEX_JA4, b->m.ja4, "tls.ja4");
    note_meta(h, p, f, fs, TW_APP_TLS);
}

static void on_http(struct tw_hunt *h, const struct tw_packet *p, struct tw_flow *f,
        struct fstate *fs, const struct tw_http_request *r)
{
    struct meta_block *b = meta_of(h, fs);
    const struct tw_flow_meta *meta;

    h->st.http++;
    if (b == NULL)
        return;
    b->m.app = TW_APP_HTTP;
    b->m.http_method = meta_str(h, fs, r->method.ptr, r->method.len, TW_META_METHOD);
    b->m.http_host = meta_str(h, fs, r->host, r->host_len, TW_META_NAME);
    b->m.http_uri = meta_str(h, fs, r->target.ptr, r->target.len, TW_META_URI);
    b->m.http_ua = meta_str(h, fs, r->user_agent.ptr, r->user_agent.len, TW_META_NAME);
    meta = &b->m;
    match_domain(h, p, f, fs, meta->http_host, "http.hostname");
    /* The URL as the indicator would name it: scheme, host, port, target. */
    if ((meta->http_host[0] != '\0' || r->absolute_uri) && h->has[TW_INDEX_URL]) {
        char raw[TW_META_NAME + TW_META_URI + 16];
        int n;

        if (r->absolute_uri)
            n = snprintf(raw, sizeof(raw), "%.*s", (int)r->target.len, r->target.ptr);
        else if (r->has_port)
            n = snprintf(raw, sizeof(raw), "http://%s:%u%.*s", meta->http_host, (unsigned)r->port,
                    (int)r->target.len, r->target.ptr);
        else
            n = snprintf(raw, sizeof(raw), "http://%s%.*s", meta->http_host, (int)r->target.len,
                    r->target.ptr);
        tw_buf_reset(&h->scratch);
        if (n > 0 && (size_t)n < sizeof(raw) &&
                tw_url_normalize(tw_str_make(raw, (size_t)n), &h->scratch, NULL) == TW_OK)
            match_str(h, p, f, fs, TW_INDEX_URL, h->scratch.ptr, "http.url");
    }
    note_meta(h, p, f, fs, TW_APP_HTTP);
}

static void on_ssh(struct tw_hunt *h, const struct tw_packet *p, struct tw_flow *f,
        struct fstate *fs, const struct tw_ssh_ident *id, bool to_server)
{
    struct meta_block *b = meta_of(h, fs);

    h->st.ssh++;
    if (b == NULL)
        return;
    b->m.app = TW_APP_SSH;
    if (to_server)
        b->m.ssh_client =
                meta_str(h, fs, id->software_version.ptr, id->software_version.len, TW_META_SW);
    else
        b->m.ssh_server =
                meta_str(h, fs, id->software_version.ptr, id->software_version.len, TW_META_SW);
    note_meta(h, p, f, fs, TW_APP_SSH);
}

/* Context of on_cert: the packet and flow the server's certificates came in. */
struct cert_ctx {
    struct tw_hunt *h;
    const struct tw_packet *p;
    struct tw_flow *f;
    struct fstate *fs;
};

/* Looks each server certificate up by its SHA-1 and SHA-256 fingerprints. */
static int on_cert(const uint8_t *der, size_t len, unsigned index, void *arg)
{
    struct cert_ctx *c = arg;
    uint8_t d1[TW_SHA1_LEN], d2[TW_SHA256_LEN];
    char h1[2 * TW_SHA1_LEN + 1], h2[2 * TW_SHA256_LEN + 1];
    struct meta_block *b = meta_of(c->h, c->fs);
    bool lookup = c->h->has[TW_INDEX_CERT_HASH];

    if (index > 0 && !lookup)
        return 0; /* only the leaf's SHA-1 is kept, and nothing can match */
    tw_sha1(der, len, d1);
    tw_hex_encode(d1, sizeof(d1), h1);
    if (index == 0 && b != NULL)
        b->m.tls_cert_sha1 = meta_str(c->h, c->fs, h1, strlen(h1), sizeof(h1));
    if (!lookup)
        return 0;
    tw_sha256(der, len, d2);
    tw_hex_encode(d2, sizeof(d2), h2);
    match_str(c->h, c->p, c->f, c->fs, TW_INDEX_CERT_HASH, h1, "tls.cert.sha1");
    match_str(c->h, c->p, c->f, c->fs, TW_INDEX_CERT_HASH, h2, "tls.cert.sha256");
    return 0;
}

/* Tries the parsers on one direction's in-order bytes; sets fs->done[d] when finished. */
static void parse_stream(struct tw_hunt *h, const struct tw_packet *p, struct tw_flow *f,
        struct fstate *fs, bool to_server)
{
    unsigned d = to_server ? 0 : 1;
    uint32_t len;
    const uint8_t *data = tw_stream_data(fs->stream, to_server, &len);
    enum tw_proto guess;
    int rc = TW_EINVAL;

    if (len == 0)
        return;
    guess = tw_proto_guess(data, len);
    switch (guess) {
        case TW_PROTO_TLS:
            if (!to_server) {
                struct cert_ctx cc = { h, p, f, fs };
                /* Certificates are in the clear up to TLS 1.2. */
                rc = tw_tls_server_certificates(data, len, on_cert, &cc, NULL);
                if (rc != TW_ETRUNC)
                    rc = TW_OK;
                break;
            }
            rc = tw_tls_parse_client_hello(data, len, h->tls, NULL);
            if (rc == TW_OK)
                on_tls(h, p, f, fs, h->tls, data, len);
            break;
        case TW_PROTO_HTTP: {
            struct tw_http_request r;
            if (!to_server) {
                rc = TW_OK;
                break;
            }
            rc = tw_http_parse_request(data, len, &r, NULL);
            if (rc == TW_OK)
                on_http(h, p, f, fs, &r);
            break;
        }
        case TW_PROTO_SSH: {
            struct tw_ssh_ident id;
            rc = tw_ssh_parse_ident(data, len, &id, NULL);
            if (rc == TW_OK)
                on_ssh(h, p, f, fs, &id, to_server);
            break;
        }
        case TW_PROTO_DNS_TCP:
            rc = tw_dns_parse_tcp(data, len, h->dns, NULL);
            if (rc == TW_OK)
                on_dns(h, p, f, fs, h->dns);
            break;
        default:
            rc = len < 8 && !tw_stream_done(fs->stream, to_server) ? TW_ETRUNC : TW_EINVAL;
            break;
    }
    if (rc != TW_ETRUNC || tw_stream_done(fs->stream, to_server))
        fs->done[d] = 1;
}

/* Streams kept for reuse, like metadata blocks (their buffers go back to the budget's pool). */
#define STREAM_SPARE 1024

static void free_stream(struct tw_hunt *h, struct fstate *fs)
{
    if (fs->stream == NULL)
        return;
    tw_stream_cleanup(fs->stream);
    if (h->spare_streams != NULL && h->n_spare_streams < STREAM_SPARE)
        h->spare_streams[h->n_spare_streams++] = fs->stream;
    else
        tw_free(fs->stream);
    fs->stream = NULL;
}

/* A stream for a flow's first payload byte: a spare one or a new one. NULL on ENOMEM. */
static struct tw_stream *new_stream(struct tw_hunt *h)
{
    struct tw_stream *s =
            h->n_spare_streams > 0 ? h->spare_streams[--h->n_spare_streams] : tw_malloc(sizeof(*s));

    if (s != NULL && tw_stream_init(s, h->cfg.stream_cap, &h->budget) != TW_OK) {
        tw_free(s);
        s = NULL;
    }
    return s;
}

static void on_tcp_payload(struct tw_hunt *h, const struct tw_packet *p, struct tw_flow *f,
        struct fstate *fs, bool to_server)
{
    unsigned d = to_server ? 0 : 1;
    uint32_t appended = 0;

    if (fs->done[d])
        return;
    if (fs->stream == NULL && (fs->stream = new_stream(h)) == NULL) {
        fs->done[0] = fs->done[1] = 1;
        return;
    }
    if (tw_stream_add_packet(fs->stream, to_server, p, &appended) != TW_OK) {
        fs->done[d] = 1;
    } else if (appended > 0 || tw_stream_done(fs->stream, to_server)) {
        parse_stream(h, p, f, fs, to_server);
    }
    if (fs->done[0] && fs->done[1])
        free_stream(h, fs);
}

/* ==== Observations and verification ==== */

static const char *ip_type(const struct tw_ip *ip)
{
    return ip->family == 4 ? "ipv4-addr" : "ipv6-addr";
}

/* Adds an address object to objs (reusing an equal one); returns its key. */
static const char *add_addr(json_t *objs, const struct tw_ip *ip, char keys[][8], size_t *n)
{
    char text[TW_IP_STRLEN];
    const char *k;
    json_t *v;

    tw_ip_format(ip, text);
    json_object_foreach(objs, k, v)
    {
        const char *type = json_string_value(json_object_get(v, "type"));
        const char *value = json_string_value(json_object_get(v, "value"));
        if (type != NULL && value != NULL && strcmp(type, ip_type(ip)) == 0 &&
                strcmp(value, text) == 0)
            return k;
    }
    (void)snprintf(keys[*n], 8, "%zu", *n);
    if (json_object_set_new(
                objs, keys[*n], json_pack("{s:s,s:s}", "type", ip_type(ip), "value", text)) != 0)
        return NULL;
    return keys[(*n)++];
}

static void stix_ts(int64_t ns, char out[TW_TIME_STRLEN])
{
    struct tw_time t;

    t.sec = ns / 1000000000;
    t.nsec = (uint32_t)(ns % 1000000000);
    t.frac_digits = 3;
    tw_time_format(&t, 3, out);
}

static const char *l4_name(uint8_t proto)
{
    switch (proto) {
        case 6:
            return "tcp";
        case 17:
            return "udp";
        case 1:
            return "icmp";
        case 58:
            return "ipv6-icmp";
        case 132:
            return "sctp";
        case 47:
            return "gre";
        default:
            return NULL;
    }
}

/*
 * The flow as one STIX observation (observed-data shape with embedded
 * objects): addresses, one network-traffic per IP layer (outer ones
 * encapsulating the inner), domain names and the URL. Returns a new object
 * or NULL on ENOMEM.
 */
static json_t *observation(const struct tw_flow *f, const struct tw_flow_meta *m)
{
    json_t *o = json_object(), *objs = json_object(), *nt, *protos;
    char keys[64][8], first[TW_TIME_STRLEN], last[TW_TIME_STRLEN], ntkey[8];
    const char *outer_key = NULL, *src, *dst;
    size_t n = 0;

    if (o == NULL || objs == NULL)
        goto fail;
    /* Outer IP layers, outermost first, each a network-traffic of its own. */
    if (m != NULL) {
        for (uint8_t i = 0; i < m->n_tunnel && n < 48; i++) {
            const struct tw_layer *l = &m->tunnel[i];
            const char *next = NULL;
            if (l->kind != TW_L_IPV4 && l->kind != TW_L_IPV6)
                continue;
            if (i + 1 < m->n_tunnel)
                next = m->tunnel[i + 1].kind == TW_L_GRE    ? "gre"
                       : m->tunnel[i + 1].kind == TW_L_UDP  ? "udp"
                       : m->tunnel[i + 1].kind == TW_L_IPV4 ? "ipv4"
                       : m->tunnel[i + 1].kind == TW_L_IPV6 ? "ipv6"
                                                            : l4_name(l->u.ip.proto);
            else
                next = f->key.src.family == 4 ? "ipv4" : "ipv6";
            src = add_addr(objs, &l->u.ip.src, keys, &n);
            dst = add_addr(objs, &l->u.ip.dst, keys, &n);
            protos = json_pack("[s]", l->kind == TW_L_IPV4 ? "ipv4" : "ipv6");
            if (src == NULL || dst == NULL || protos == NULL)
                goto fail;
            if (next != NULL)
                json_array_append_new(protos, json_string(next));
            nt = json_pack("{s:s,s:s,s:s,s:o}", "type", "network-traffic", "src_ref", src,
                    "dst_ref", dst, "protocols", protos);
            if (nt == NULL)
                goto fail;
            if (outer_key != NULL)
                json_object_set_new(nt, "encapsulated_by_ref", json_string(outer_key));
            (void)snprintf(keys[n], 8, "%zu", n);
            if (json_object_set_new(objs, keys[n], nt) != 0)
                goto fail;
            outer_key = keys[n++];
        }
    }
    /* The flow itself. */
    src = add_addr(objs, &f->key.src, keys, &n);
    dst = add_addr(objs, &f->key.dst, keys, &n);
    protos = json_pack("[s]", f->key.src.family == 4 ? "ipv4" : "ipv6");
    if (src == NULL || dst == NULL || protos == NULL)
        goto fail;
    if (l4_name(f->key.proto) != NULL)
        json_array_append_new(protos, json_string(l4_name(f->key.proto)));
    if (m != NULL && m->app != TW_APP_NONE)
        json_array_append_new(protos, json_string(tw_app_name((enum tw_app)m->app)));
    stix_ts(f->first_ts_ns, first);
    stix_ts(f->last_ts_ns, last);
    nt = json_pack("{s:s,s:s,s:s,s:o,s:s,s:s,s:I,s:I,s:I,s:I}", "type", "network-traffic",
            "src_ref", src, "dst_ref", dst, "protocols", protos, "start", first, "end", last,
            "src_packets", (json_int_t)f->pkts_toserver, "dst_packets",
            (json_int_t)f->pkts_toclient, "src_byte_count", (json_int_t)f->bytes_toserver,
            "dst_byte_count", (json_int_t)f->bytes_toclient);
    if (nt == NULL)
        goto fail;
    if (f->key.kind == TW_FLOW_KIND_PORTS) {
        json_object_set_new(nt, "src_port", json_integer(f->key.sport));
        json_object_set_new(nt, "dst_port", json_integer(f->key.dport));
    }
    if (outer_key != NULL)
        json_object_set_new(nt, "encapsulated_by_ref", json_string(outer_key));
    if (m != NULL) {
        if (m->ja3[0] != '\0')
            json_object_set_new(nt, "x_ja3", json_string(m->ja3));
        if (m->ja4[0] != '\0')
            json_object_set_new(nt, "x_ja4", json_string(m->ja4));
        if (m->http_method[0] != '\0') {
            json_t *ext = json_pack("{s:{s:s,s:s,s:{s:s,s:s}}}", "http-request-ext",
                    "request_method", m->http_method, "request_value", m->http_uri,
                    "request_header", "Host", m->http_host, "User-Agent", m->http_ua);
            if (ext != NULL)
                json_object_set_new(nt, "extensions", ext);
        }
    }
    (void)snprintf(ntkey, sizeof(ntkey), "%zu", n);
    if (json_object_set_new(objs, ntkey, nt) != 0)
        goto fail;
    n++;
    if (m != NULL) {
        const char *names[3] = { m->tls_sni, m->dns_query, m->http_host };
        for (int i = 0; i < 3; i++) {
            if (names[i][0] == '\0')
                continue;
            (void)snprintf(keys[n], 8, "%zu", n);
            json_object_set_new(objs, keys[n],
                    json_pack("{s:s,s:s}", "type", "domain-name", "value", names[i]));
            n++;
        }
        if (m->tls_cert_sha1[0] != '\0') {
            (void)snprintf(keys[n], 8, "%zu", n);
            json_object_set_new(objs, keys[n],
                    json_pack("{s:s,s:{s:s}}", "type", "x509-certificate", "hashes", "SHA-1",
                            m->tls_cert_sha1));
            n++;
        }
        if (m->http_host[0] != '\0') {
            char url[TW_META_NAME + TW_META_URI + 16];
            (void)snprintf(url, sizeof(url), "http://%s%s", m->http_host, m->http_uri);
            (void)snprintf(keys[n], 8, "%zu", n);
            json_object_set_new(objs, keys[n], json_pack("{s:s,s:s}", "type", "url", "value", url));
            n++;
        }
    }
    if (json_object_set_new(o, "first_observed", json_string(first)) != 0 ||
            json_object_set_new(o, "last_observed", json_string(last)) != 0 ||
            json_object_set_new(o, "number_observed", json_integer(1)) != 0 ||
            json_object_set_new(o, "objects", objs) != 0) {
        objs = NULL;
        goto fail;
    }
    return o;
fail:
    json_decref(objs);
    json_decref(o);
    return NULL;
}

/* Evaluates indicator ind on this flow (and, for candidates, its recent history). */
static void verify(struct tw_hunt *h, const struct tw_flow *f, struct fstate *fs, uint32_t ind,
        json_t *obs, bool with_history)
{
    const struct tw_pattern *pat = tw_index_pattern(h->idx, ind);
    json_t *arr = json_array();
    bool matched = false;
    int rc;

    if (pat == NULL || arr == NULL) {
        json_decref(arr);
        return;
    }
    if (with_history) {
        struct tw_hunt_shared *sh = h->shared;
        struct history *hi;
        (void)pthread_mutex_lock(&sh->lock);
        hi = sh->hist[ind];
        if (hi == NULL && (hi = sh->hist[ind] = tw_calloc(1, sizeof(*hi))) == NULL) {
            h->oom = true;
        } else if (hi != NULL) {
            json_decref(hi->obs[hi->next]);
            hi->obs[hi->next] = json_incref(obs);
            hi->next = (hi->next + 1) % HIST_LEN;
            if (hi->n < HIST_LEN)
                hi->n++;
            /* Oldest first, so FOLLOWEDBY sees the order flows started in. Deep
             * copies: the observations stay in the history after the lock. */
            for (unsigned k = 0; k < hi->n; k++)
                json_array_append_new(
                        arr, json_deep_copy(hi->obs[(hi->next + HIST_LEN - hi->n + k) % HIST_LEN]));
        }
        (void)pthread_mutex_unlock(&sh->lock);
    }
    if (json_array_size(arr) == 0)
        json_array_append(arr, obs);
    rc = tw_pattern_match(pat, arr, &matched, NULL);
    json_decref(arr);
    if (rc != TW_OK) {
        h->st.verify_errors++;
        return;
    }
    if (!matched) {
        h->st.verify_failed++;
        return;
    }
    h->st.verified++;
    emit(h, f, fs, ind, f->last_ts_ns, 0, "pattern", tw_index_name(h->idx, ind));
}

static void on_flow_end(struct tw_flow *f, enum tw_flow_end why, void *arg)
{
    struct tw_hunt *h = arg;
    struct fstate *fs = tw_flow_extra(f);
    size_t n_un = 0;
    const uint32_t *un = tw_index_unindexed(h->idx, &n_un);

    if (fs->cand.n > 0 || n_un > 0 || h->cfg.sink.flow_end != NULL)
        fingerprints(h, fs);
    if (fs->cand.n > 0 || n_un > 0) {
        json_t *obs = observation(f, meta_view(fs));
        if (obs == NULL) {
            h->oom = true;
        } else {
            for (uint16_t i = 0; i < fs->cand.n; i++)
                if (!numset_has(&fs->alerted, fs->cand.v[i]))
                    verify(h, f, fs, fs->cand.v[i], obs, true);
            for (size_t i = 0; i < n_un; i++)
                if (usable(h, un[i], f->last_ts_ns) && !numset_has(&fs->alerted, un[i]))
                    verify(h, f, fs, un[i], obs, false);
            json_decref(obs);
        }
    }
    if (h->cfg.sink.flow_end != NULL)
        h->cfg.sink.flow_end(h->cfg.sink.ctx, f, meta_view(fs), why, fs->alerted.n);
    free_stream(h, fs);
    meta_release(h, fs);
    tw_free(fs->alerted.v);
    tw_free(fs->cand.v);
    memset(fs, 0, sizeof(*fs));
}

/* ==== Shards ==== */

/* The same value for both directions of a flow (its key with the ends sorted). */
static uint64_t shard_hash(const struct tw_packet *p)
{
    struct tw_flow_key k;
    uint8_t a[20], b[20], rest[8];

    if (tw_flow_key_from_packet(p, &k) != TW_OK)
        return 0;
    memcpy(a, &k.src, sizeof(k.src));
    memcpy(a + 17, &k.sport, 2);
    a[19] = 0;
    memcpy(b, &k.dst, sizeof(k.dst));
    memcpy(b + 17, &k.dport, 2);
    b[19] = 0;
    rest[0] = k.proto;
    rest[1] = k.kind;
    rest[2] = rest[3] = 0;
    memcpy(rest + 4, &k.tunnel_hash, 4);
    return tw_hash64(a, sizeof(a), 1) ^ tw_hash64(b, sizeof(b), 1) ^
           tw_hash64(rest, sizeof(rest), 2);
}

/* ==== Shared verification history ==== */

struct tw_hunt_shared *tw_hunt_shared_new(const struct tw_index *idx)
{
    struct tw_hunt_shared *s = tw_calloc(1, sizeof(*s));
    size_t n = tw_index_count(idx);

    if (s == NULL)
        return NULL;
    s->n = n;
    s->hist = tw_calloc(n ? n : 1, sizeof(struct history *));
    if (s->hist == NULL || pthread_mutex_init(&s->lock, NULL) != 0) {
        tw_free(s->hist);
        tw_free(s);
        return NULL;
    }
    return s;
}

void tw_hunt_shared_free(struct tw_hunt_shared *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++) {
        if (s->hist[i] == NULL)
            continue;
        for (unsigned k = 0; k < HIST_LEN; k++)
            json_decref(s->hist[i]->obs[k]);
        tw_free(s->hist[i]);
    }
    tw_free(s->hist);
    (void)pthread_mutex_destroy(&s->lock);
    tw_free(s);
}

/* ==== Public API ==== */

void tw_hunt_config_init(struct tw_hunt_config *c)
{
    memset(c, 0, sizeof(*c));
    tw_decoder_config_default(&c->decoder);
    c->max_flows = 1u << 20;
    c->stream_cap = 8192;
    c->stream_memcap = (uint64_t)256 << 20;
}

int tw_hunt_new(const struct tw_hunt_config *c, struct tw_hunt **out)
{
    struct tw_hunt *h;
    struct tw_flow_config fc;
    size_t n_ind;

    *out = NULL;
    if (c->index == NULL)
        return TW_EINVAL;
    h = tw_calloc(1, sizeof(*h));
    if (h == NULL)
        return TW_ENOMEM;
    h->cfg = *c;
    h->idx = c->index;
    h->budget.max_bytes = c->stream_memcap;
    n_ind = tw_index_count(c->index);
    h->dec = tw_decoder_new(&c->decoder);
    h->dns = tw_calloc(1, sizeof(*h->dns));
    h->tls = tw_calloc(1, sizeof(*h->tls));
    h->shared = c->shared;
    if (h->shared == NULL) {
        h->shared = tw_hunt_shared_new(c->index);
        h->own_shared = true;
    }
    h->per_ind = tw_calloc(n_ind ? n_ind : 1, sizeof(*h->per_ind));
    for (int k = 0; k < TW_INDEX_KIND_COUNT; k++)
        h->has[k] = tw_index_kind_count(c->index, (enum tw_index_kind)k) > 0;
    h->spare_streams = tw_calloc(STREAM_SPARE, sizeof(struct tw_stream *));
    h->budget.max_spare = STREAM_SPARE;
    tw_flow_config_init(&fc);
    fc.max_flows = c->max_flows;
    fc.extra_size = sizeof(struct fstate);
    fc.on_end = on_flow_end;
    fc.on_end_arg = h;
    if (h->dec == NULL || h->dns == NULL || h->tls == NULL || h->shared == NULL ||
            h->per_ind == NULL || h->spare_streams == NULL ||
            tw_flow_table_new(&fc, &h->flows) != TW_OK) {
        tw_hunt_free(h);
        return TW_ENOMEM;
    }
    tw_buf_init(&h->scratch, 1 << 20);
    *out = h;
    return TW_OK;
}

void tw_hunt_finish(struct tw_hunt *h)
{
    if (h != NULL && h->flows != NULL)
        (void)tw_flow_table_flush(h->flows);
}

void tw_hunt_free(struct tw_hunt *h)
{
    if (h == NULL)
        return;
    tw_hunt_finish(h);
    tw_flow_table_free(h->flows);
    tw_decoder_free(h->dec);
    if (h->own_shared)
        tw_hunt_shared_free(h->shared);
    tw_free(h->per_ind);
    while (h->slabs != NULL) {
        struct meta_slab *s = h->slabs;
        h->slabs = s->next;
        tw_free(s);
    }
    tw_free(h->free_meta);
    for (size_t i = 0; i < h->n_spare_streams; i++)
        tw_free(h->spare_streams[i]);
    tw_free(h->spare_streams);
    tw_stream_budget_cleanup(&h->budget);
    tw_free(h->dns);
    tw_free(h->tls);
    tw_buf_cleanup(&h->scratch);
    tw_free(h);
}

int tw_hunt_packet(struct tw_hunt *h, struct tw_packet *p)
{
    struct tw_flow_lookup fl;
    struct tw_flow *f;
    struct fstate *fs;
    int rc;

    h->st.packets++;
    h->st.bytes += p->caplen;
    rc = tw_decode(h->dec, p);
    if (rc == TW_DECODE_HELD) {
        h->st.held++;
        return TW_OK;
    }
    if (rc == TW_DECODE_DROPPED) {
        h->st.dropped++;
        return TW_OK;
    }
    h->st.decoded++;
    if (p->inner_ip < 0) {
        h->st.no_ip++;
        return TW_OK;
    }
    if (h->cfg.n_shards > 1 && shard_hash(p) % h->cfg.n_shards != h->cfg.shard) {
        h->st.other_shard++;
        return TW_OK;
    }
    if (tw_flow_table_lookup(h->flows, p, &fl) != TW_OK) {
        h->st.no_ip++;
        return TW_OK;
    }
    f = fl.flow;
    fs = tw_flow_extra(f);
    if (fl.created) {
        h->st.flows++;
        if (p->inner_ip > 0)
            keep_tunnel(h, p, fs);
    }
    /* Addresses at every IP layer of the stack. */
    if (fl.created || h->cfg.respect_validity) {
        for (int i = 0; i < p->n_layers; i++) {
            const struct tw_layer *l = &p->layers[i];
            bool inner = i == p->inner_ip;
            if (l->kind != TW_L_IPV4 && l->kind != TW_L_IPV6)
                continue;
            match_ip(h, p, f, fs, &l->u.ip.src, inner ? "ip.src" : "tunnel.ip.src");
            match_ip(h, p, f, fs, &l->u.ip.dst, inner ? "ip.dst" : "tunnel.ip.dst");
        }
    } else {
        match_outer_again(h, p, f, fs);
    }
    /* Ports, once per flow, in the flow's orientation (as patterns name them). */
    if (!fs->ports_done && f->key.kind == TW_FLOW_KIND_PORTS && h->has[TW_INDEX_PORT]) {
        size_t n;
        char text[8];
        fs->ports_done = true;
        n = tw_index_lookup_port(h->idx, f->key.dport, true, h->hits, TW_ARRAY_LEN(h->hits));
        if (n > 0) {
            (void)snprintf(text, sizeof(text), "%u", (unsigned)f->key.dport);
            on_hits(h, p, f, fs, n, "dest_port", text);
        }
        n = tw_index_lookup_port(h->idx, f->key.sport, false, h->hits, TW_ARRAY_LEN(h->hits));
        if (n > 0) {
            (void)snprintf(text, sizeof(text), "%u", (unsigned)f->key.sport);
            on_hits(h, p, f, fs, n, "src_port", text);
        }
    }
    /* Application metadata. */
    if (p->payload_len > 0 && p->l4 >= 0) {
        const struct tw_layer *l4 = &p->layers[p->l4];
        if (l4->kind == TW_L_UDP &&
                (l4->u.l4.dport == 53 || l4->u.l4.sport == 53 || l4->u.l4.dport == 5353 ||
                        l4->u.l4.sport == 5353) &&
                tw_dns_parse(p->payload, p->payload_len, h->dns, NULL) == TW_OK) {
            on_dns(h, p, f, fs, h->dns);
        } else if (l4->kind == TW_L_TCP) {
            on_tcp_payload(h, p, f, fs, fl.to_server);
        }
    }
    return h->oom ? TW_ENOMEM : TW_OK;
}

void tw_hunt_stats(const struct tw_hunt *h, struct tw_hunt_stats *out)
{
    *out = h->st;
}

const uint64_t *tw_hunt_decode_events(const struct tw_hunt *h)
{
    return tw_decoder_events(h->dec);
}

const uint64_t *tw_hunt_alerts_per_indicator(const struct tw_hunt *h)
{
    return h->per_ind;
}
