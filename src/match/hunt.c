/*
 * hunt.c: matching packets and flows against the indicator index (see
 * include/tidewatch/hunt.h and docs/internals/HUNT.md).
 *
 * Per packet: decode, find the flow, look every IP layer's addresses up, the
 * flow's ports once, and the metadata the parsers find (DNS on UDP, TLS, HTTP,
 * SSH and DNS on TCP through the bounded in-order stream). Exact indicators
 * alert at once; others become the flow's candidates. When the flow ends its
 * candidates, and the indicators the index cannot hold, are evaluated against
 * the flow seen as STIX observations.
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

/* Per-flow state, in the flow table's extra area (zeroed when the flow starts). */
struct fstate {
    struct tw_flow_meta *meta; /* allocated at the first metadata or tunnel */
    struct tw_stream *stream;  /* TCP only, allocated at the first payload byte */
    struct numset alerted;     /* indicators this flow has alerted on */
    struct numset cand;        /* indicators to verify at the flow's end */
    uint8_t done[2];           /* metadata finished: [0] to server, [1] to client */
    bool ports_done;
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
    uint64_t *per_ind; /* alerts per indicator */
    uint32_t hits[256];
    struct tw_buf scratch;
    struct tw_flow_meta **spare; /* freed metadata blocks kept for reuse */
    size_t n_spare;
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

static void copy_str(char *dst, size_t size, const char *src, size_t len)
{
    if (len >= size)
        len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Metadata blocks kept for reuse, so busy captures do not churn the allocator. */
#define META_SPARE 1024

static struct tw_flow_meta *meta_of(struct tw_hunt *h, struct fstate *fs)
{
    if (fs->meta == NULL && h->n_spare > 0) {
        fs->meta = h->spare[--h->n_spare];
        memset(fs->meta, 0, sizeof(*fs->meta));
        h->st.meta_bytes += sizeof(*fs->meta);
    } else if (fs->meta == NULL) {
        fs->meta = tw_calloc(1, sizeof(*fs->meta));
        if (fs->meta == NULL)
            h->oom = true;
        else
            h->st.meta_bytes += sizeof(*fs->meta);
    }
    return fs->meta;
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
    a.meta = fs->meta;
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

    if (value[0] == '\0')
        return;
    n = tw_index_lookup_str(h->idx, kind, tw_str_cstr(value), h->hits, TW_ARRAY_LEN(h->hits));
    if (n > 0)
        on_hits(h, p, f, fs, n, field, value);
}

/* ==== Metadata ==== */

static void note_meta(struct tw_hunt *h, const struct tw_packet *p, struct tw_flow *f,
        struct fstate *fs, enum tw_app app)
{
    if (h->cfg.sink.metadata != NULL)
        h->cfg.sink.metadata(h->cfg.sink.ctx, p, f, fs->meta, app);
}

static void on_dns(struct tw_hunt *h, const struct tw_packet *p, struct tw_flow *f,
        struct fstate *fs, const struct tw_dns_msg *m)
{
    struct tw_flow_meta *meta = meta_of(h, fs);

    h->st.dns++;
    if (meta != NULL) {
        meta->app = TW_APP_DNS;
        if (m->n_questions > 0 && meta->dns_query[0] == '\0') {
            copy_str(meta->dns_query, sizeof(meta->dns_query), m->q[0].name, m->q[0].name_len);
            meta->dns_qtype = m->q[0].qtype;
        }
        if (m->qr) {
            meta->dns_response = true;
            meta->dns_rcode = m->rcode;
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

static void on_tls(struct tw_hunt *h, const struct tw_packet *p, struct tw_flow *f,
        struct fstate *fs, const struct tw_tls_hello *hello)
{
    struct tw_flow_meta *meta = meta_of(h, fs);

    h->st.tls++;
    if (meta == NULL)
        return;
    meta->app = TW_APP_TLS;
    copy_str(meta->tls_sni, sizeof(meta->tls_sni), hello->sni, hello->sni_len);
    tw_tls_ja3_hash(hello, meta->ja3);
    tw_tls_ja4(hello, TW_JA4_TCP, meta->ja4);
    match_domain(h, p, f, fs, meta->tls_sni, "tls.sni");
    match_str(h, p, f, fs, TW_INDEX_JA3, meta->ja3, "tls.ja3.hash");
    match_str(h, p, f, fs, TW_INDEX_JA4, meta->ja4, "tls.ja4");
    note_meta(h, p, f, fs, TW_APP_TLS);
}

static void on_http(struct tw_hunt *h, const struct tw_packet *p, struct tw_flow *f,
        struct fstate *fs, const struct tw_http_request *r)
{
    struct tw_flow_meta *meta = meta_of(h, fs);

    h->st.http++;
    if (meta == NULL)
        return;
    meta->app = TW_APP_HTTP;
    copy_str(meta->http_method, sizeof(meta->http_method), r->method.ptr, r->method.len);
    copy_str(meta->http_host, sizeof(meta->http_host), r->host, r->host_len);
    copy_str(meta->http_uri, sizeof(meta->http_uri), r->target.ptr, r->target.len);
    copy_str(meta->http_ua, sizeof(meta->http_ua), r->user_agent.ptr, r->user_agent.len);
    match_domain(h, p, f, fs, meta->http_host, "http.hostname");
    /* The URL as the indicator would name it: scheme, host, port, target. */
    if (meta->http_host[0] != '\0' || r->absolute_uri) {
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
    struct tw_flow_meta *meta = meta_of(h, fs);

    h->st.ssh++;
    if (meta == NULL)
        return;
    meta->app = TW_APP_SSH;
    if (to_server)
        copy_str(meta->ssh_client, sizeof(meta->ssh_client), id->software_version.ptr,
                id->software_version.len);
    else
        copy_str(meta->ssh_server, sizeof(meta->ssh_server), id->software_version.ptr,
                id->software_version.len);
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
    struct tw_flow_meta *meta = meta_of(c->h, c->fs);

    tw_sha1(der, len, d1);
    tw_sha256(der, len, d2);
    tw_hex_encode(d1, sizeof(d1), h1);
    tw_hex_encode(d2, sizeof(d2), h2);
    if (index == 0 && meta != NULL)
        memcpy(meta->tls_cert_sha1, h1, sizeof(h1));
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
                on_tls(h, p, f, fs, h->tls);
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

static void free_stream(struct fstate *fs)
{
    if (fs->stream != NULL) {
        tw_stream_cleanup(fs->stream);
        tw_free(fs->stream);
        fs->stream = NULL;
    }
}

static void on_tcp_payload(struct tw_hunt *h, const struct tw_packet *p, struct tw_flow *f,
        struct fstate *fs, bool to_server)
{
    unsigned d = to_server ? 0 : 1;
    uint32_t appended = 0;

    if (fs->done[d])
        return;
    if (fs->stream == NULL) {
        fs->stream = tw_calloc(1, sizeof(*fs->stream));
        if (fs->stream == NULL ||
                tw_stream_init(fs->stream, h->cfg.stream_cap, &h->budget) != TW_OK) {
            tw_free(fs->stream);
            fs->stream = NULL;
            fs->done[0] = fs->done[1] = 1;
            return;
        }
    }
    if (tw_stream_add_packet(fs->stream, to_server, p, &appended) != TW_OK) {
        fs->done[d] = 1;
    } else if (appended > 0 || tw_stream_done(fs->stream, to_server)) {
        parse_stream(h, p, f, fs, to_server);
    }
    if (fs->done[0] && fs->done[1])
        free_stream(fs);
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

    if (fs->cand.n > 0 || n_un > 0) {
        json_t *obs = observation(f, fs->meta);
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
        h->cfg.sink.flow_end(h->cfg.sink.ctx, f, fs->meta, why, fs->alerted.n);
    free_stream(fs);
    if (fs->meta != NULL) {
        h->st.meta_bytes -= sizeof(*fs->meta);
        if (h->spare != NULL && h->n_spare < META_SPARE)
            h->spare[h->n_spare++] = fs->meta;
        else
            tw_free(fs->meta);
    }
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
    h->spare = tw_calloc(META_SPARE, sizeof(struct tw_flow_meta *));
    tw_flow_config_init(&fc);
    fc.max_flows = c->max_flows;
    fc.extra_size = sizeof(struct fstate);
    fc.on_end = on_flow_end;
    fc.on_end_arg = h;
    if (h->dec == NULL || h->dns == NULL || h->tls == NULL || h->shared == NULL ||
            h->per_ind == NULL || h->spare == NULL || tw_flow_table_new(&fc, &h->flows) != TW_OK) {
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
    if (h->spare != NULL)
        for (size_t i = 0; i < h->n_spare; i++)
            tw_free(h->spare[i]);
    tw_free(h->spare);
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
        if (p->inner_ip > 0) {
            struct tw_flow_meta *m = NULL;
            for (int i = 0; i < p->inner_ip; i++) {
                if (!is_tunnel_layer(p->layers[i].kind))
                    continue;
                if (m == NULL && (m = meta_of(h, fs)) == NULL)
                    break;
                if (m->n_tunnel < TW_META_TUNNEL)
                    m->tunnel[m->n_tunnel++] = p->layers[i];
            }
        }
    }
    /* Addresses at every IP layer of the stack. */
    for (int i = 0; i < p->n_layers; i++) {
        const struct tw_layer *l = &p->layers[i];
        bool inner = i == p->inner_ip;
        if (l->kind != TW_L_IPV4 && l->kind != TW_L_IPV6)
            continue;
        match_ip(h, p, f, fs, &l->u.ip.src, inner ? "ip.src" : "tunnel.ip.src");
        match_ip(h, p, f, fs, &l->u.ip.dst, inner ? "ip.dst" : "tunnel.ip.dst");
    }
    /* Ports, once per flow, in the flow's orientation (as patterns name them). */
    if (!fs->ports_done && f->key.kind == TW_FLOW_KIND_PORTS) {
        size_t n;
        char text[8];
        fs->ports_done = true;
        n = tw_index_lookup_port(h->idx, f->key.dport, true, h->hits, TW_ARRAY_LEN(h->hits));
        (void)snprintf(text, sizeof(text), "%u", (unsigned)f->key.dport);
        if (n > 0)
            on_hits(h, p, f, fs, n, "dest_port", text);
        n = tw_index_lookup_port(h->idx, f->key.sport, false, h->hits, TW_ARRAY_LEN(h->hits));
        (void)snprintf(text, sizeof(text), "%u", (unsigned)f->key.sport);
        if (n > 0)
            on_hits(h, p, f, fs, n, "src_port", text);
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
