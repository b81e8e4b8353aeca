/*
 * gen_cases.c: the fixture captures of tw_pcapgen and their expectations.
 *
 * Each case is one row of the `cases` table: a name, a sentence, and a
 * function that sets the case's encapsulation and plays its traffic (TCP
 * handshakes with real sequence numbers, DNS, TLS, HTTP, SSH, ICMP, SCTP).
 * Playing writes the packets into <case>.pcap and, beside every packet, the
 * layers the builder recorded, so <case>.expect.json always describes exactly
 * the bytes in the capture. Flows also collect the values a hunter can match
 * (addresses, names, URL, JA3/JA4, port), and the expectation lists which
 * indicators of intel.json each flow must hit. docs/internals/PCAPGEN.md
 * describes the file format.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "gen.h"
#include "tidewatch/hash.h"
#include "tidewatch/time.h"

/* ==== Types ==== */

#define MAX_FLOWS 16
#define MAX_OBS   8
#define CASE_BUF  (4u << 20)

/* One flow of a case: its 5-tuple, metadata and matchable values. */
struct flow {
    uint8_t proto; /* 6, 17, 1, 58, 132 */
    struct tw_ip cli, srv;
    uint16_t cport, sport;
    uint32_t seq[2];     /* next sequence number per direction (TCP) */
    struct tw_buf app;   /* metadata members ("dns":{...}) */
    struct tw_buf pkts;  /* packet numbers */
    struct tw_buf encap; /* layers of the first packet outside the inner IP */
    bool seen;
    char names[MAX_OBS][128]; /* dns qname, tls sni, http host */
    int n_names;
    char url[320];
    char ja3[33], ja4[48];
};

struct case_ctx {
    const char *name;
    struct gen_encap enc;
    struct tw_buf pcap, pkts;
    uint32_t n_pkts;
    int64_t ts_us;
    struct flow flows[MAX_FLOWS];
    int n_flows;
    uint16_t ip_id;
    bool v4_opts;      /* inner IPv4 carries options */
    bool v6_ext;       /* inner IPv6 carries hop-by-hop and destination options */
    int frag_parts;    /* fragment the next UDP datagram into this many pieces */
    bool frag_reverse; /* ... and send the pieces last first */
    int index;         /* row of the case table */
};

struct case_def {
    const char *name;
    const char *desc;
    void (*play)(struct case_ctx *c);
};

/* ==== Addresses ==== */

static struct tw_ip ip_of(const char *s)
{
    struct tw_ip ip;
    int rc = tw_ip_parse(tw_str_cstr(s), &ip, NULL);

    assert(rc == 0);
    (void)rc;
    return ip;
}

static struct tw_ip case_ip(const struct case_ctx *c, int family, int host)
{
    char s[64];

    if (family == 4)
        (void)snprintf(s, sizeof(s), "%s.%d", host < 0 ? "192.0.2" : "203.0.113",
                (host < 0 ? 10 : 10 + c->index) % 250);
    else
        (void)snprintf(
                s, sizeof(s), "%s%x", host < 0 ? "2001:db8:1::" : "2001:db8:bad::", 10 + c->index);
    return ip_of(s);
}
#define CLI(c, f) case_ip((c), (f), -1)
#define SRV(c, f) case_ip((c), (f), 1)

static const char *const resolver4 = "198.51.100.53";
static const char *const resolver6 = "2001:db8:53::53";

/* ==== Encapsulation helpers ==== */

static struct gen_hdr *add(struct case_ctx *c, enum gen_kind k)
{
    struct gen_hdr *h = &c->enc.h[c->enc.n++];

    assert(c->enc.n <= GEN_MAX_ENCAP);
    memset(h, 0, sizeof(*h));
    h->kind = (uint8_t)k;
    return h;
}

static void add_eth(struct case_ctx *c)
{
    static const uint8_t a[6] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x0a };
    static const uint8_t b[6] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x0b };
    struct gen_hdr *h = add(c, GK_ETH);

    memcpy(h->mac_a, a, 6);
    memcpy(h->mac_b, b, 6);
}

static void add_vlan(struct case_ctx *c, uint16_t tpid, uint16_t vid)
{
    struct gen_hdr *h = add(c, GK_VLAN);
    h->tpid = tpid;
    h->vid = vid;
}

static void add_mpls(struct case_ctx *c, uint32_t label)
{
    add(c, GK_MPLS)->label = label;
}

static struct gen_hdr *add_ip(struct case_ctx *c, const char *src, const char *dst)
{
    struct tw_ip s = ip_of(src);
    struct gen_hdr *h = add(c, s.family == 4 ? GK_IPV4 : GK_IPV6);

    h->src = s;
    h->dst = ip_of(dst);
    return h;
}

static void add_udp(struct case_ctx *c, uint16_t sport, uint16_t dport)
{
    struct gen_hdr *h = add(c, GK_UDP);
    h->sport = sport;
    h->dport = dport;
}

static void add_gtpu(struct case_ctx *c, uint32_t teid, uint32_t teid_rev, bool ext)
{
    struct gen_hdr *h;

    add_ip(c, "198.51.100.21", "198.51.100.22");
    add_udp(c, 2152, 2152);
    h = add(c, GK_GTPU);
    h->teid = teid;
    h->teid_rev = teid_rev;
    h->gtp_ext = ext;
}

/* ==== Emitting packets ==== */

static void json_str(struct tw_buf *b, const char *s)
{
    int rc = tw_buf_putc(b, '"');
    rc |= tw_buf_json_escape(b, s, strlen(s));
    rc |= tw_buf_putc(b, '"');
    assert(rc == 0);
    (void)rc;
}

/* printf into a buffer whose cap is far above what a case writes. */
#define PUT(b, ...)                                                                                \
    do {                                                                                           \
        int put_rc_ = tw_buf_printf((b), __VA_ARGS__);                                             \
        assert(put_rc_ == 0);                                                                      \
        (void)put_rc_;                                                                             \
    } while (0)

static void record(struct case_ctx *c, struct flow *f, int dir, struct gen_pkt *p,
        struct gen_rec *rec, const char *extra)
{
    struct tw_time t = { c->ts_us / 1000000, (uint32_t)(c->ts_us % 1000000) * 1000u, 6 };
    char ts[TW_TIME_STRLEN];
    int inner = -1;
    int rc;

    c->n_pkts++;
    rc = gen_pcap_record(&c->pcap, c->ts_us, gen_pkt_data(p), gen_pkt_len(p));
    assert(rc == 0);
    (void)rc;
    (void)tw_time_format(&t, 6, ts);
    PUT(&c->pkts,
            "%s\n    {\"num\":%u,\"ts\":\"%s\",\"flow\":%d,\"dir\":\"%s\",\"caplen\":%zu%s,"
            "\"layers\":[",
            c->n_pkts == 1 ? "" : ",", c->n_pkts, ts, (int)(f - c->flows), dir ? "s2c" : "c2s",
            gen_pkt_len(p), extra ? extra : "");
    for (int i = rec->first; i < GEN_MAX_LAYERS; i++) {
        PUT(&c->pkts, "%s{%s}", i == rec->first ? "" : ",", rec->text[i]);
        if (rec->kind[i] == GK_IPV4 || rec->kind[i] == GK_IPV6)
            inner = i;
    }
    PUT(&c->pkts, "]}");
    PUT(&f->pkts, "%s%u", f->pkts.len ? "," : "", c->n_pkts);
    if (!f->seen && dir == 0) {
        f->seen = true;
        for (int i = rec->first; i < inner; i++)
            PUT(&f->encap, "%s{%s}", i == rec->first ? "" : ",", rec->text[i]);
    }
    c->ts_us += 1000;
}

static void inner_ip(struct case_ctx *c, struct gen_pkt *p, const struct tw_ip *s,
        const struct tw_ip *d, uint8_t proto)
{
    /* Record route with two slots, padded with a NOP, then a router alert. */
    static const uint8_t opts[16] = { 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1, 148, 4, 0, 0 };

    if (s->family == 4)
        gen_ipv4(p, s, d, proto, c->ip_id++, c->v4_opts ? opts : NULL, c->v4_opts ? 16 : 0, 0,
                false);
    else
        gen_ipv6(p, s, d, proto, c->v6_ext);
}

/* Sends the UDP datagram already in p (header included) as fragments. */
static void emit_fragments(
        struct case_ctx *c, struct flow *f, int dir, const uint8_t *l4, size_t len)
{
    const struct tw_ip *s = dir ? &f->srv : &f->cli, *d = dir ? &f->cli : &f->srv;
    int parts = c->frag_parts;
    size_t step = ((len + (size_t)parts - 1) / (size_t)parts + 7) & ~(size_t)7;
    uint16_t id = c->ip_id++;

    for (int k = 0; k < parts; k++) {
        int i = c->frag_reverse ? (k == 0 ? parts - 1 : k - 1) : k;
        size_t off = (size_t)i * step, n = TW_MIN(step, len - off);
        bool mf = off + n < len;
        struct gen_rec rec;
        struct gen_pkt pk;
        char extra[64];

        gen_pkt_init(&pk, &rec);
        gen_pkt_put(&pk, l4 + off, n);
        if (s->family == 4) {
            gen_ipv4(&pk, s, d, 17, id, NULL, 0, (unsigned)off, mf);
        } else {
            gen_ipv6_frag(&pk, 17, (unsigned)off, mf, 0x1000u + id);
            gen_ipv6(&pk, s, d, 44, false);
        }
        gen_wrap(&pk, &c->enc, dir, s->family, c->n_pkts);
        (void)snprintf(extra, sizeof(extra), ",\"fragment\":{\"index\":%d,\"count\":%d}", i, parts);
        record(c, f, dir, &pk, &rec, extra);
    }
    c->frag_parts = 0;
}

/* Sends one TCP segment or UDP datagram of flow f in direction dir. */
static void emit(
        struct case_ctx *c, struct flow *f, int dir, uint8_t flags, const void *data, size_t len)
{
    static struct gen_pkt p;
    static struct gen_rec rec;
    const struct tw_ip *s = dir ? &f->srv : &f->cli, *d = dir ? &f->cli : &f->srv;
    uint16_t sp = dir ? f->sport : f->cport, dp = dir ? f->cport : f->sport;

    gen_pkt_init(&p, &rec);
    gen_pkt_put(&p, data, len);
    if (f->proto == 6) {
        gen_tcp(&p, s, d, sp, dp, f->seq[dir], f->seq[!dir], flags);
        f->seq[dir] += (uint32_t)len + ((flags & (GEN_SYN | GEN_FIN)) ? 1u : 0u);
    } else {
        gen_udp(&p, s, d, sp, dp);
        if (c->frag_parts) {
            emit_fragments(c, f, dir, gen_pkt_data(&p), gen_pkt_len(&p));
            return;
        }
    }
    inner_ip(c, &p, s, d, f->proto);
    gen_wrap(&p, &c->enc, dir, s->family, c->n_pkts);
    record(c, f, dir, &p, &rec, NULL);
}

static struct flow *flow_new(struct case_ctx *c, uint8_t proto, struct tw_ip cli, uint16_t cport,
        struct tw_ip srv, uint16_t sport)
{
    struct flow *f = &c->flows[c->n_flows++];

    assert(c->n_flows <= MAX_FLOWS);
    memset(f, 0, sizeof(*f));
    f->proto = proto;
    f->cli = cli;
    f->srv = srv;
    f->cport = cport;
    f->sport = sport;
    f->seq[0] = 0x1000000u * (uint32_t)(c->index + 1) + 1000u * (uint32_t)c->n_flows;
    f->seq[1] = 0x80000000u + 0x10000u * (uint32_t)(c->index + 1);
    tw_buf_init(&f->app, 1u << 20);
    tw_buf_init(&f->pkts, 1u << 20);
    tw_buf_init(&f->encap, 1u << 20);
    return f;
}

static void add_name(struct flow *f, const char *name)
{
    if (f->n_names < MAX_OBS)
        (void)snprintf(f->names[f->n_names++], sizeof(f->names[0]), "%s", name);
}

/* ==== Traffic ==== */

static void tcp_open(struct case_ctx *c, struct flow *f)
{
    emit(c, f, 0, GEN_SYN, NULL, 0);
    emit(c, f, 1, GEN_SYN | GEN_ACK, NULL, 0);
    emit(c, f, 0, GEN_ACK, NULL, 0);
}

static void tcp_close(struct case_ctx *c, struct flow *f)
{
    emit(c, f, 0, GEN_FIN | GEN_ACK, NULL, 0);
    emit(c, f, 1, GEN_FIN | GEN_ACK, NULL, 0);
    emit(c, f, 0, GEN_ACK, NULL, 0);
}

static const char *const ua_text = "Mozilla/5.0 (X11; Linux x86_64) tidewatch-fixture/1.0";

static void play_http(
        struct case_ctx *c, struct tw_ip cli, struct tw_ip srv, const char *host, const char *uri)
{
    struct flow *f = flow_new(c, 6, cli, (uint16_t)(49152 + c->index), srv, 80);
    char req[512], url[300];
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                               "Content-Length: 2\r\n\r\nok";
    int n = snprintf(req, sizeof(req),
            "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n\r\n", uri, host,
            ua_text);

    tcp_open(c, f);
    emit(c, f, 0, GEN_PSH | GEN_ACK, req, (size_t)n);
    emit(c, f, 1, GEN_PSH | GEN_ACK, resp, sizeof(resp) - 1);
    tcp_close(c, f);
    (void)snprintf(url, sizeof(url), "http://%s%s", host, uri);
    PUT(&f->app, ",\"http\":{\"method\":\"GET\",\"host\":");
    json_str(&f->app, host);
    PUT(&f->app, ",\"uri\":");
    json_str(&f->app, uri);
    PUT(&f->app, ",\"url\":");
    json_str(&f->app, url);
    PUT(&f->app, ",\"user_agent\":");
    json_str(&f->app, ua_text);
    PUT(&f->app, ",\"status\":200}");
    add_name(f, host);
    (void)snprintf(f->url, sizeof(f->url), "%s", url);
}

static void http_bad(struct case_ctx *c, int family)
{
    play_http(c, CLI(c, family), SRV(c, family), "update.badcdn.example", "/gate.php?id=7");
}

static void play_tls(struct case_ctx *c, struct tw_ip cli, struct tw_ip srv, const char *sni,
        enum gen_hello kind, int segments)
{
    struct flow *f = flow_new(c, 6, cli, (uint16_t)(50000 + c->index), srv, 443);
    uint8_t hello[2048], sh[256];
    char ja3[512], md5[33], ja4[48];
    size_t n = gen_tls_client_hello(
            hello, sizeof(hello), kind, sni, (uint32_t)c->index, ja3, md5, ja4);
    size_t m = gen_tls_server_hello(sh, sizeof(sh), (uint32_t)c->index);
    size_t off = 0;

    tcp_open(c, f);
    for (int i = 0; i < segments; i++) {
        size_t k = i == segments - 1 ? n - off : n / (size_t)segments;
        emit(c, f, 0, (uint8_t)(GEN_ACK | (i == segments - 1 ? GEN_PSH : 0)), hello + off, k);
        off += k;
    }
    emit(c, f, 1, GEN_PSH | GEN_ACK, sh, m);
    emit(c, f, 0, GEN_ACK, NULL, 0);
    PUT(&f->app, ",\"tls\":{\"sni\":");
    json_str(&f->app, sni);
    PUT(&f->app, ",\"ja3\":\"%s\",\"ja3_md5\":\"%s\",\"ja4\":\"%s\",\"client_hello_segments\":%d}",
            ja3, md5, ja4, segments);
    add_name(f, sni);
    memcpy(f->ja3, md5, sizeof(f->ja3));
    (void)snprintf(f->ja4, sizeof(f->ja4), "%s", ja4);
}

static void tls_bad(struct case_ctx *c, int family)
{
    play_tls(c, CLI(c, family), SRV(c, family), "login.phish.example", GEN_HELLO_IMPLANT, 1);
}

static void dns_meta(struct flow *f, const char *qname, uint16_t qtype, const struct gen_dns_rr *rr,
        size_t n_rr, const char *transport)
{
    static const char *const types[] = { [1] = "A", [5] = "CNAME", [28] = "AAAA" };

    PUT(&f->app, ",\"dns\":{\"transport\":\"%s\",\"qname\":", transport);
    json_str(&f->app, qname);
    PUT(&f->app, ",\"qtype\":\"%s\",\"answers\":[", types[qtype]);
    for (size_t i = 0; i < n_rr; i++) {
        PUT(&f->app, "%s{\"name\":", i ? "," : "");
        json_str(&f->app, rr[i].name);
        PUT(&f->app, ",\"type\":\"%s\",\"data\":", types[rr[i].type]);
        json_str(&f->app, rr[i].data);
        PUT(&f->app, "}");
    }
    PUT(&f->app, "]}");
    add_name(f, qname);
}

static const struct gen_dns_rr beacon_a[] = {
    { "beacon.c2.example", 5, "edge.cdn.example" },
    { "edge.cdn.example", 1, "192.0.2.200" },
};
static const struct gen_dns_rr beacon_aaaa[] = {
    { "beacon.c2.example", 5, "edge.cdn.example" },
    { "edge.cdn.example", 28, "2001:db8:cdn::200" },
};

static void play_dns(struct case_ctx *c, int family, const char *qname, uint16_t qtype,
        const struct gen_dns_rr *rr, size_t n_rr, int frag_parts, bool frag_reverse)
{
    struct flow *f = flow_new(c, 17, CLI(c, family), (uint16_t)(53000 + c->index + c->n_flows),
            ip_of(family == 4 ? resolver4 : resolver6), 53);
    uint8_t msg[4096];
    uint16_t id = (uint16_t)(0x1200 + c->index * 16 + c->n_flows);
    size_t n = gen_dns_msg(msg, sizeof(msg), id, qname, qtype, NULL, 0);

    emit(c, f, 0, 0, msg, n);
    n = gen_dns_msg(msg, sizeof(msg), id, qname, qtype, rr, n_rr);
    c->frag_parts = frag_parts;
    c->frag_reverse = frag_reverse;
    emit(c, f, 1, 0, msg, n);
    dns_meta(f, qname, qtype, rr, n_rr, "udp");
}

static void dns_bad(struct case_ctx *c, int family)
{
    play_dns(c, family, "beacon.c2.example", 1, beacon_a, 2, 0, false);
}

/* A response with 64 A records (about 1.1 KB), for the fragment cases. */
static void dns_bulk(struct case_ctx *c, int family, int parts, bool reverse)
{
    static char data[64][24];
    static struct gen_dns_rr rr[64];

    for (int i = 0; i < 64; i++) {
        (void)snprintf(data[i], sizeof(data[i]), "192.0.2.%d", 128 + i);
        rr[i].name = "bulk.c2.example";
        rr[i].type = 1;
        rr[i].data = data[i];
    }
    play_dns(c, family, "bulk.c2.example", 1, rr, 64, parts, reverse);
}

static void play_ssh(struct case_ctx *c, struct tw_ip cli, struct tw_ip srv)
{
    static const char cl[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u2\r\n";
    static const char sv[] = "SSH-2.0-dropbear_2022.83\r\n";
    struct flow *f = flow_new(c, 6, cli, (uint16_t)(51000 + c->index), srv, 22);

    tcp_open(c, f);
    emit(c, f, 1, GEN_PSH | GEN_ACK, sv, sizeof(sv) - 1);
    emit(c, f, 0, GEN_PSH | GEN_ACK, cl, sizeof(cl) - 1);
    emit(c, f, 1, GEN_ACK, NULL, 0);
    PUT(&f->app, ",\"ssh\":{\"client\":\"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u2\","
                 "\"client_software\":\"OpenSSH_9.2p1\",\"server\":\"SSH-2.0-dropbear_2022.83\","
                 "\"server_software\":\"dropbear_2022.83\"}");
}

static void play_tcp_port(struct case_ctx *c, uint16_t port)
{
    static const char hello[] = "HELO tidewatch\n";
    struct flow *f = flow_new(c, 6, CLI(c, 4), (uint16_t)(52000 + c->index), SRV(c, 4), port);

    tcp_open(c, f);
    emit(c, f, 0, GEN_PSH | GEN_ACK, hello, sizeof(hello) - 1);
    emit(c, f, 1, GEN_ACK, NULL, 0);
    tcp_close(c, f);
}

/* ICMP echo (RFC 792) or ICMPv6 echo (RFC 4443) request and reply. */
static void play_icmp(struct case_ctx *c, int family)
{
    struct flow *f = flow_new(c, family == 4 ? 1 : 58, CLI(c, family), 0, SRV(c, family), 0);

    for (int dir = 0; dir < 2; dir++) {
        static struct gen_pkt p;
        static struct gen_rec rec;
        const struct tw_ip *s = dir ? &f->srv : &f->cli, *d = dir ? &f->cli : &f->srv;
        uint8_t type = family == 4 ? (dir ? 0 : 8) : (dir ? 129 : 128);
        uint8_t *h;
        uint32_t sum;

        gen_pkt_init(&p, &rec);
        gen_pkt_put(&p, "tidewatch-echo-payload-0123456789", 32);
        h = gen_pkt_push(&p, 8);
        h[0] = type;
        gen_be16(h + 4, 0x7477);
        gen_be16(h + 6, 1);
        sum = family == 4 ? 0 : gen_pseudo_sum(s, d, 58, gen_pkt_len(&p));
        gen_be16(h + 2, gen_csum_fold(gen_csum_add(sum, h, gen_pkt_len(&p))));
        gen_rec_layer(&p, family == 4 ? GK_ICMP : GK_ICMPV6,
                "\"kind\":\"%s\",\"type\":%u,\"code\":0,\"id\":29815,\"seq\":1",
                family == 4 ? "icmp" : "icmpv6", type);
        inner_ip(c, &p, s, d, f->proto);
        gen_wrap(&p, &c->enc, dir, family, c->n_pkts);
        record(c, f, dir, &p, &rec, NULL);
    }
}

/* SCTP (RFC 9260) INIT and INIT ACK with a CRC-32C checksum. */
static void play_sctp(struct case_ctx *c)
{
    struct flow *f = flow_new(c, 132, CLI(c, 4), 36412, SRV(c, 4), 36412);

    for (int dir = 0; dir < 2; dir++) {
        static struct gen_pkt p;
        static struct gen_rec rec;
        const struct tw_ip *s = dir ? &f->srv : &f->cli, *d = dir ? &f->cli : &f->srv;
        uint8_t *h, *ch;
        uint32_t crc;

        gen_pkt_init(&p, &rec);
        /* INIT / INIT ACK chunk: type, flags, length, initiate tag, a_rwnd, streams, TSN. */
        ch = gen_pkt_push(&p, dir ? 32 : 20);
        ch[0] = (uint8_t)(dir ? 2 : 1);
        gen_be16(ch + 2, dir ? 32 : 20);
        gen_be32(ch + 4, dir ? 0x5e5e0002u : 0x5e5e0001u);
        gen_be32(ch + 8, 106496);
        gen_be16(ch + 12, 10);
        gen_be16(ch + 14, 10);
        gen_be32(ch + 16, dir ? 2000u : 1000u);
        if (dir) {
            gen_be16(ch + 20, 7); /* state cookie parameter, 8 bytes of cookie */
            gen_be16(ch + 22, 12);
            memcpy(ch + 24, "cookie01", 8);
        }
        /* Common header: ports, verification tag (0 in INIT), checksum. */
        h = gen_pkt_push(&p, 12);
        gen_be16(h, 36412);
        gen_be16(h + 2, 36412);
        gen_be32(h + 4, dir ? 0x5e5e0001u : 0);
        crc = gen_crc32c(h, gen_pkt_len(&p));
        h[8] = (uint8_t)crc;
        h[9] = (uint8_t)(crc >> 8);
        h[10] = (uint8_t)(crc >> 16);
        h[11] = (uint8_t)(crc >> 24);
        gen_rec_layer(&p, GK_SCTP,
                "\"kind\":\"sctp\",\"sport\":36412,\"dport\":36412,\"chunk\":\"%s\"",
                dir ? "INIT_ACK" : "INIT");
        inner_ip(c, &p, s, d, 132);
        gen_wrap(&p, &c->enc, dir, 4, c->n_pkts);
        record(c, f, dir, &p, &rec, NULL);
    }
}

/* ==== Cases ==== */

static void c_eth_http(struct case_ctx *c)
{
    add_eth(c);
    http_bad(c, 4);
}
static void c_vlan_dns(struct case_ctx *c)
{
    add_eth(c);
    add_vlan(c, 0x8100, 100);
    dns_bad(c, 4);
}
static void c_qinq_tls(struct case_ctx *c)
{
    add_eth(c);
    add_vlan(c, 0x88a8, 200);
    add_vlan(c, 0x8100, 300);
    tls_bad(c, 4);
}
static void c_mpls1_http(struct case_ctx *c)
{
    add_eth(c);
    add_mpls(c, 16001);
    http_bad(c, 4);
}
static void c_mpls3_dns(struct case_ctx *c)
{
    add_eth(c);
    add_mpls(c, 16002);
    add_mpls(c, 24010);
    add_mpls(c, 30000);
    dns_bad(c, 4);
}
static void c_mpls3_ipv6_tls(struct case_ctx *c)
{
    add_eth(c);
    add_mpls(c, 16003);
    add_mpls(c, 24011);
    add_mpls(c, 30001);
    play_tls(c, CLI(c, 6), SRV(c, 6), "www.benign.example", GEN_HELLO_BROWSER, 1);
}
static void c_eompls_http(struct case_ctx *c)
{
    add_eth(c);
    add_mpls(c, 16004);
    add_mpls(c, 800);
    add(c, GK_PWCW);
    add_eth(c);
    http_bad(c, 4);
}
static void c_pppoe_http(struct case_ctx *c)
{
    add_eth(c);
    add(c, GK_PPPOE)->session = 0x1a2b;
    http_bad(c, 4);
}
static void c_ipv4_options(struct case_ctx *c)
{
    add_eth(c);
    c->v4_opts = true;
    play_tcp_port(c, 57722);
}
static void c_ipv4_frag2(struct case_ctx *c)
{
    add_eth(c);
    dns_bulk(c, 4, 2, false);
}
static void c_ipv4_frag3_ooo(struct case_ctx *c)
{
    add_eth(c);
    dns_bulk(c, 4, 3, true);
}
static void c_ipv6_ext(struct case_ctx *c)
{
    add_eth(c);
    c->v6_ext = true;
    http_bad(c, 6);
}
static void c_ipv6_frag(struct case_ctx *c)
{
    add_eth(c);
    dns_bulk(c, 6, 2, false);
}
static void c_gre_plain(struct case_ctx *c)
{
    add_eth(c);
    add_ip(c, "198.51.100.1", "198.51.100.2");
    add(c, GK_GRE);
    http_bad(c, 4);
}
static void c_gre_key_seq(struct case_ctx *c)
{
    struct gen_hdr *g;

    add_eth(c);
    add_ip(c, "198.51.100.1", "198.51.100.2");
    g = add(c, GK_GRE);
    g->has_key = g->has_seq = true;
    g->key = 0x1234abcd;
    g->seq = 100;
    tls_bad(c, 4);
}
static void c_gre_teb(struct case_ctx *c)
{
    add_eth(c);
    add_ip(c, "198.51.100.1", "198.51.100.2");
    add(c, GK_GRE);
    add_eth(c);
    dns_bad(c, 4);
}
static void erspan_outer(struct case_ctx *c, enum gen_kind k, uint16_t session, uint16_t vlan)
{
    struct gen_hdr *h;

    add_eth(c);
    add_ip(c, "198.51.100.31", "198.51.100.32")->noswap = true;
    add(c, GK_GRE)->seq = 1;
    h = add(c, k);
    h->session = session;
    h->vid = vlan;
    add_eth(c);
}
static void c_erspan2(struct case_ctx *c)
{
    erspan_outer(c, GK_ERSPAN2, 42, 10);
    tls_bad(c, 4);
}
static void c_erspan3(struct case_ctx *c)
{
    erspan_outer(c, GK_ERSPAN3, 77, 20);
    play_ssh(c, CLI(c, 4), SRV(c, 4));
}
static void c_vxlan(struct case_ctx *c)
{
    add_eth(c);
    add_ip(c, "198.51.100.11", "198.51.100.12");
    add_udp(c, 49999, 4789);
    c->enc.h[c->enc.n - 1].noswap = true; /* both VTEPs send to 4789 */
    add(c, GK_VXLAN)->vni = 5001;
    add_eth(c);
    http_bad(c, 4);
}
static void c_gtpu_ipv4(struct case_ctx *c)
{
    add_eth(c);
    add_gtpu(c, 0x00a1b2c3, 0x00d4e5f6, false);
    dns_bad(c, 4);
}
static void c_gtpu_ipv6(struct case_ctx *c)
{
    add_eth(c);
    add_gtpu(c, 0x00a1b2c4, 0x00d4e5f7, false);
    tls_bad(c, 6);
}
static void c_gtpu_ext_ipv4(struct case_ctx *c)
{
    add_eth(c);
    add_gtpu(c, 0x00a1b2c5, 0x00d4e5f8, true);
    http_bad(c, 4);
}
static void c_gtpu_ext_ipv6(struct case_ctx *c)
{
    add_eth(c);
    add_gtpu(c, 0x00a1b2c6, 0x00d4e5f9, true);
    dns_bad(c, 6);
}
static void c_ipip_4in4(struct case_ctx *c)
{
    add_eth(c);
    add_ip(c, "198.51.100.41", "198.51.100.42");
    http_bad(c, 4);
}
static void c_ipip_6in4(struct case_ctx *c)
{
    add_eth(c);
    add_ip(c, "198.51.100.41", "198.51.100.42");
    play_dns(c, 6, "beacon.c2.example", 28, beacon_aaaa, 2, 0, false);
}
static void c_ipip_4in6(struct case_ctx *c)
{
    add_eth(c);
    add_ip(c, "2001:db8:ffff::41", "2001:db8:ffff::42");
    tls_bad(c, 4);
}
static void c_ipip_6in6(struct case_ctx *c)
{
    add_eth(c);
    add_ip(c, "2001:db8:ffff::41", "2001:db8:ffff::42");
    play_http(c, CLI(c, 6), ip_of("2001:db8:bad:c1d::7"), "www.benign.example", "/index.html");
}
static void c_icmp(struct case_ctx *c)
{
    add_eth(c);
    play_icmp(c, 4);
}
static void c_icmpv6(struct case_ctx *c)
{
    add_eth(c);
    play_icmp(c, 6);
}
static void c_sctp(struct case_ctx *c)
{
    add_eth(c);
    play_sctp(c);
}
static void c_sll_dns(struct case_ctx *c)
{
    c->enc.linktype = GEN_LINK_SLL;
    add_eth(c);
    c->enc.h[0].kind = GK_SLL;
    dns_bad(c, 4);
}
static void c_sll2_http(struct case_ctx *c)
{
    c->enc.linktype = GEN_LINK_SLL2;
    add_eth(c);
    c->enc.h[0].kind = GK_SLL2;
    http_bad(c, 4);
}
static void c_raw_tls(struct case_ctx *c)
{
    c->enc.linktype = GEN_LINK_RAW;
    tls_bad(c, 4);
}
static void c_ipv4link_http(struct case_ctx *c)
{
    c->enc.linktype = GEN_LINK_IPV4;
    http_bad(c, 4);
}
static void c_null_http(struct case_ctx *c)
{
    c->enc.linktype = GEN_LINK_NULL;
    add(c, GK_NULL);
    http_bad(c, 4);
}
static void c_dns_udp(struct case_ctx *c)
{
    add_eth(c);
    play_dns(c, 4, "beacon.c2.example", 1, beacon_a, 2, 0, false);
    play_dns(c, 4, "beacon.c2.example", 28, beacon_aaaa, 2, 0, false);
}
static void c_dns_tcp(struct case_ctx *c)
{
    struct flow *f;
    uint8_t msg[1024];
    size_t n;

    add_eth(c);
    f = flow_new(c, 6, CLI(c, 4), (uint16_t)(53500 + c->index), ip_of(resolver4), 53);
    tcp_open(c, f);
    n = gen_dns_msg(msg + 2, sizeof(msg) - 2, 0x4444, "beacon.c2.example", 1, NULL, 0);
    gen_be16(msg, (uint32_t)n);
    emit(c, f, 0, GEN_PSH | GEN_ACK, msg, n + 2);
    n = gen_dns_msg(msg + 2, sizeof(msg) - 2, 0x4444, "beacon.c2.example", 1, beacon_a, 2);
    gen_be16(msg, (uint32_t)n);
    emit(c, f, 1, GEN_PSH | GEN_ACK, msg, n + 2);
    tcp_close(c, f);
    dns_meta(f, "beacon.c2.example", 1, beacon_a, 2, "tcp");
}
static void c_tls_sni(struct case_ctx *c)
{
    add_eth(c);
    tls_bad(c, 4);
}
static void c_tls_sni_split(struct case_ctx *c)
{
    add_eth(c);
    play_tls(c, CLI(c, 4), ip_of("198.51.100.80"), "login.phish.example", GEN_HELLO_BROWSER, 3);
}
static void c_http_get(struct case_ctx *c)
{
    add_eth(c);
    play_http(c, CLI(c, 4), ip_of("198.51.100.81"), "cdn.c2.example", "/static/app.js?v=3");
}
static void c_ssh(struct case_ctx *c)
{
    add_eth(c);
    play_ssh(c, CLI(c, 4), ip_of("198.51.100.70"));
}
static void c_nested(struct case_ctx *c)
{
    add_eth(c);
    add_vlan(c, 0x8100, 110);
    add_mpls(c, 17017);
    erspan_outer(c, GK_ERSPAN2, 99, 30);
    /* erspan_outer started with its own Ethernet header: drop it (index 3). */
    memmove(&c->enc.h[3], &c->enc.h[4], sizeof(c->enc.h[0]) * (size_t)(c->enc.n - 4));
    c->enc.n--;
    tls_bad(c, 4);
}
static void c_gtpu_vlan_dns(struct case_ctx *c)
{
    add_eth(c);
    add_vlan(c, 0x8100, 120);
    add_gtpu(c, 0x00a1b2c7, 0x00d4e5fa, false);
    dns_bad(c, 4);
}

static const struct case_def cases[] = {
    { "eth_http", "Ethernet, IPv4, TCP/80 HTTP GET", c_eth_http },
    { "vlan_dns", "802.1Q VLAN 100, DNS A query and response over UDP", c_vlan_dns },
    { "qinq_tls", "802.1ad 200 + 802.1Q 300 (QinQ), TLS ClientHello with SNI", c_qinq_tls },
    { "mpls1_http", "one MPLS label, IPv4, HTTP", c_mpls1_http },
    { "mpls3_dns", "three MPLS labels, IPv4, DNS", c_mpls3_dns },
    { "mpls3_ipv6_tls", "three MPLS labels, IPv6, TLS", c_mpls3_ipv6_tls },
    { "eompls_cw_http", "Ethernet over MPLS pseudowire with control word, HTTP", c_eompls_http },
    { "pppoe_http", "PPPoE session, PPP, IPv4, HTTP", c_pppoe_http },
    { "ipv4_options", "IPv4 with record-route and router-alert options, TCP to port 57722",
            c_ipv4_options },
    { "ipv4_frag2", "DNS response in two IPv4 fragments, in order", c_ipv4_frag2 },
    { "ipv4_frag3_ooo", "DNS response in three IPv4 fragments, last first", c_ipv4_frag3_ooo },
    { "ipv6_ext", "IPv6 with hop-by-hop and destination options, HTTP", c_ipv6_ext },
    { "ipv6_frag", "DNS response in two IPv6 fragments", c_ipv6_frag },
    { "gre_plain", "GRE (no options) carrying IPv4, HTTP", c_gre_plain },
    { "gre_key_seq", "GRE with key and sequence number, TLS", c_gre_key_seq },
    { "gre_teb", "GRE transparent Ethernet bridging (0x6558), DNS", c_gre_teb },
    { "erspan2", "ERSPAN type II in GRE, mirrored Ethernet, TLS", c_erspan2 },
    { "erspan3", "ERSPAN type III in GRE, mirrored Ethernet, SSH banners", c_erspan3 },
    { "vxlan", "VXLAN VNI 5001 on UDP 4789, inner Ethernet, HTTP", c_vxlan },
    { "gtpu_ipv4", "GTP-U G-PDU, subscriber IPv4, DNS", c_gtpu_ipv4 },
    { "gtpu_ipv6", "GTP-U G-PDU, subscriber IPv6, TLS", c_gtpu_ipv6 },
    { "gtpu_ext_ipv4", "GTP-U with PDU session container extension, IPv4, HTTP", c_gtpu_ext_ipv4 },
    { "gtpu_ext_ipv6", "GTP-U with PDU session container extension, IPv6, DNS", c_gtpu_ext_ipv6 },
    { "ipip_4in4", "IPv4 in IPv4, HTTP", c_ipip_4in4 },
    { "ipip_6in4", "IPv6 in IPv4, DNS AAAA", c_ipip_6in4 },
    { "ipip_4in6", "IPv4 in IPv6, TLS", c_ipip_4in6 },
    { "ipip_6in6", "IPv6 in IPv6, HTTP to an address inside an IPv6 CIDR indicator", c_ipip_6in6 },
    { "icmp", "ICMP echo request and reply", c_icmp },
    { "icmpv6", "ICMPv6 echo request and reply", c_icmpv6 },
    { "sctp", "SCTP INIT and INIT ACK (S1AP port)", c_sctp },
    { "sll_dns", "Linux cooked capture v1, DNS", c_sll_dns },
    { "sll2_http", "Linux cooked capture v2, HTTP", c_sll2_http },
    { "raw_tls", "raw IP link type (101), TLS", c_raw_tls },
    { "ipv4link_http", "IPv4 link type (228), HTTP", c_ipv4link_http },
    { "null_http", "BSD loopback link type (0), HTTP", c_null_http },
    { "dns_udp", "DNS over UDP: A and AAAA queries answered through a CNAME", c_dns_udp },
    { "dns_tcp", "DNS over TCP with length prefixes", c_dns_tcp },
    { "tls_sni", "TLS ClientHello with SNI in one segment", c_tls_sni },
    { "tls_sni_split", "TLS ClientHello split across three TCP segments", c_tls_sni_split },
    { "http_get", "HTTP/1.1 GET with Host and User-Agent", c_http_get },
    { "ssh_banners", "SSH banners both ways, server inside an IPv4 CIDR indicator", c_ssh },
    { "nested_erspan", "VLAN + MPLS + IPv4 + GRE + ERSPAN II + Ethernet + IPv4 + TCP/443 TLS",
            c_nested },
    { "gtpu_vlan_dns", "GTP-U inside VLAN 120 carrying a DNS query", c_gtpu_vlan_dns },
};

/* ==== Indicators ==== */

enum ioc_kind { IOC_IP, IOC_CIDR, IOC_DOMAIN, IOC_SUFFIX, IOC_URL, IOC_JA3, IOC_JA4, IOC_PORT };

struct ioc {
    enum ioc_kind kind;
    char value[128];
    char pattern[256];
    char id[64];
    char name[160];
};

#define MAX_IOCS 128

static struct ioc iocs[MAX_IOCS];
static int n_iocs;

/* Fixed namespace of the generator's indicator ids. */
static const uint8_t gen_ns[16] = { 0x5d, 0x1e, 0x7a, 0x3c, 0x94, 0x20, 0x4f, 0x61, 0x8b, 0x2e,
    0x07, 0xc4, 0x39, 0xa6, 0x51, 0xf0 };

static void make_id(const char *type, const char *name, char *out, size_t cap)
{
    uint8_t u[16];
    char s[TW_UUID_STRLEN];

    tw_uuid_v5(gen_ns, name, strlen(name), u);
    tw_uuid_format(u, s);
    (void)snprintf(out, cap, "%s--%s", type, s);
}

static void ioc_add(enum ioc_kind kind, const char *value, const char *name)
{
    struct ioc *i;
    struct tw_ip ip;
    unsigned plen;

    for (int k = 0; k < n_iocs; k++)
        if (iocs[k].kind == kind && strcmp(iocs[k].value, value) == 0)
            return;
    if (n_iocs == MAX_IOCS)
        return;
    i = &iocs[n_iocs++];
    i->kind = kind;
    (void)snprintf(i->value, sizeof(i->value), "%s", value);
    (void)snprintf(i->name, sizeof(i->name), "%s", name);
    switch (kind) {
        case IOC_IP:
        case IOC_CIDR:
            if (tw_cidr_parse(tw_str_cstr(value), &ip, &plen, NULL) != 0)
                ip.family = 4;
            (void)snprintf(i->pattern, sizeof(i->pattern), "[%s:value = '%s']",
                    ip.family == 4 ? "ipv4-addr" : "ipv6-addr", value);
            break;
        case IOC_DOMAIN:
            (void)snprintf(i->pattern, sizeof(i->pattern), "[domain-name:value = '%s']", value);
            break;
        case IOC_SUFFIX:
            (void)snprintf(
                    i->pattern, sizeof(i->pattern), "[domain-name:value LIKE '%%.%s']", value);
            break;
        case IOC_URL:
            (void)snprintf(i->pattern, sizeof(i->pattern), "[url:value = '%s']", value);
            break;
        case IOC_JA3:
            (void)snprintf(i->pattern, sizeof(i->pattern), "[network-traffic:x_ja3 = '%s']", value);
            break;
        case IOC_JA4:
            (void)snprintf(i->pattern, sizeof(i->pattern), "[network-traffic:x_ja4 = '%s']", value);
            break;
        case IOC_PORT:
            (void)snprintf(i->pattern, sizeof(i->pattern),
                    "[network-traffic:dst_port = %s AND network-traffic:protocols[*] = 'tcp']",
                    value);
            break;
    }
    make_id("indicator", i->pattern, i->id, sizeof(i->id));
}

/* The indicators of intel.json: one per planted value, plus decoys absent from every case. */
static void iocs_build(void)
{
    char ja3[512], md5[33], ja4[48], ip[TW_IP_STRLEN];
    uint8_t tmp[2048];
    struct case_ctx c;

    if (n_iocs)
        return;
    memset(&c, 0, sizeof(c));
    for (size_t k = 0; k < TW_ARRAY_LEN(cases); k++) {
        struct tw_ip a;
        c.index = (int)k;
        a = SRV(&c, 4);
        (void)tw_ip_format(&a, ip);
        ioc_add(IOC_IP, ip, "case server address");
        a = SRV(&c, 6);
        (void)tw_ip_format(&a, ip);
        ioc_add(IOC_IP, ip, "case server address (IPv6)");
    }
    ioc_add(IOC_CIDR, "198.51.100.64/28", "hosting range");
    ioc_add(IOC_CIDR, "2001:db8:bad:c1d::/64", "IPv6 hosting range");
    ioc_add(IOC_DOMAIN, "update.badcdn.example", "payload host");
    ioc_add(IOC_DOMAIN, "login.phish.example", "phishing site (seen as TLS SNI)");
    ioc_add(IOC_SUFFIX, "c2.example", "every name under c2.example");
    ioc_add(IOC_URL, "http://update.badcdn.example/gate.php?id=7", "implant check-in URL");
    (void)gen_tls_client_hello(tmp, sizeof(tmp), GEN_HELLO_IMPLANT, "x", 0, ja3, md5, ja4);
    ioc_add(IOC_JA3, md5, "implant TLS client (JA3)");
    ioc_add(IOC_JA4, ja4, "implant TLS client (JA4)");
    ioc_add(IOC_PORT, "57722", "implant listener port");
    /* Decoys: present in the bundle, absent from every capture. */
    ioc_add(IOC_IP, "203.0.113.251", "decoy address");
    ioc_add(IOC_DOMAIN, "absent.example", "decoy domain");
    ioc_add(IOC_JA3, "0123456789abcdef0123456789abcdef", "decoy JA3");
}

static bool name_match(const struct flow *f, const struct ioc *i, const char **on)
{
    size_t vl = strlen(i->value);

    for (int k = 0; k < f->n_names; k++) {
        const char *n = f->names[k];
        size_t nl = strlen(n);
        bool hit = i->kind == IOC_DOMAIN ? strcmp(n, i->value) == 0
                                         : nl > vl + 1 && n[nl - vl - 1] == '.' &&
                                                   strcmp(n + nl - vl, i->value) == 0;
        if (hit) {
            *on = n;
            return true;
        }
    }
    return false;
}

/* Writes the "matches" list of f: every indicator the flow must hit and the value it hit on. */
static void flow_matches(struct tw_buf *b, const struct flow *f)
{
    bool first = true;

    PUT(b, ",\"matches\":[");
    for (int k = 0; k < n_iocs; k++) {
        const struct ioc *i = &iocs[k];
        const char *on = NULL;
        char a[TW_IP_STRLEN], d[TW_IP_STRLEN], port[8];
        struct tw_ip net;
        unsigned plen;

        (void)tw_ip_format(&f->cli, a);
        (void)tw_ip_format(&f->srv, d);
        switch (i->kind) {
            case IOC_IP:
            case IOC_CIDR:
                if (tw_cidr_parse(tw_str_cstr(i->value), &net, &plen, NULL) != 0)
                    break;
                if (tw_ip_in_cidr(&f->srv, &net, plen))
                    on = d;
                else if (tw_ip_in_cidr(&f->cli, &net, plen))
                    on = a;
                break;
            case IOC_DOMAIN:
            case IOC_SUFFIX:
                (void)name_match(f, i, &on);
                break;
            case IOC_URL:
                if (f->url[0] && strcmp(f->url, i->value) == 0)
                    on = f->url;
                break;
            case IOC_JA3:
                if (f->ja3[0] && strcmp(f->ja3, i->value) == 0)
                    on = f->ja3;
                break;
            case IOC_JA4:
                if (f->ja4[0] && strcmp(f->ja4, i->value) == 0)
                    on = f->ja4;
                break;
            case IOC_PORT:
                (void)snprintf(port, sizeof(port), "%u", f->sport);
                if (f->proto == 6 && strcmp(port, i->value) == 0)
                    on = i->value;
                break;
        }
        if (!on)
            continue;
        PUT(b, "%s\n        {\"indicator\":\"%s\",\"pattern\":", first ? "" : ",", i->id);
        json_str(b, i->pattern);
        PUT(b, ",\"value\":");
        json_str(b, on);
        PUT(b, "}");
        first = false;
    }
    PUT(b, "]");
}

/* ==== Writing a case ==== */

static const char *proto_name(uint8_t p)
{
    switch (p) {
        case 6:
            return "tcp";
        case 17:
            return "udp";
        case 1:
            return "icmp";
        case 58:
            return "icmpv6";
        default:
            return "sctp";
    }
}

/* ==== The demonstration capture ==== */

static void demo_encap(struct case_ctx *c)
{
    c->enc.n = 0;
    add_eth(c);
}

static void demo_tcp(struct case_ctx *c, const char *cli, uint16_t cport, const char *srv,
        uint16_t sport, const char *data)
{
    struct flow *f = flow_new(c, 6, ip_of(cli), cport, ip_of(srv), sport);

    tcp_open(c, f);
    if (data != NULL)
        emit(c, f, 0, GEN_PSH | GEN_ACK, data, strlen(data));
    emit(c, f, 1, GEN_ACK, NULL, 0);
    tcp_close(c, f);
}

/*
 * The story of samples/intel/salt-typhoon-demo.json, as an operator's sensors
 * would capture it: a subscriber's phone resolving the C2 domain inside GTP-U,
 * the implant's TLS to the relay, a payload fetched through the data centre
 * overlay, a session into the staging network over the MPLS core, a GRE tunnel
 * from a PE router to the relay followed five minutes later by SSH to it, the
 * IOS XR backdoor port, a Smart Install probe, IPv6 exfiltration in IPv4, and
 * ordinary traffic that must raise nothing.
 */
static void c_demo(struct case_ctx *c)
{
    static const struct gen_dns_rr c2_a[] = { { "telemetry-update.example", 1, "198.51.100.23" } };

    demo_encap(c);
    add_vlan(c, 0x8100, 120);
    add_gtpu(c, 0x00a1b2c3, 0x00c3b2a1, true);
    play_dns(c, 4, "telemetry-update.example", 1, c2_a, 1, 0, false);
    c->ts_us += 2000000;
    demo_encap(c);
    play_tls(c, ip_of("10.20.30.40"), ip_of("203.0.113.17"), "mx1.cdn-edge-sync.example",
            GEN_HELLO_IMPLANT, 1);
    demo_encap(c);
    add_ip(c, "192.0.2.61", "192.0.2.62");
    add_udp(c, 49999, 4789);
    c->enc.h[c->enc.n - 1].noswap = true;
    add(c, GK_VXLAN)->vni = 7001;
    add_eth(c);
    play_http(c, ip_of("10.1.5.20"), ip_of("198.51.100.23"), "telemetry-update.example",
            "/fw/update.bin");
    demo_encap(c);
    add_mpls(c, 16001);
    demo_tcp(c, "10.1.7.7", 40001, "192.0.2.200", 443, NULL);
    demo_encap(c);
    add_ip(c, "198.51.100.77", "203.0.113.17");
    add(c, GK_GRE);
    demo_tcp(c, "10.66.0.1", 40179, "10.66.0.2", 179, NULL);
    c->ts_us += 300000000; /* five minutes later */
    demo_encap(c);
    play_ssh(c, ip_of("198.51.100.77"), ip_of("203.0.113.17"));
    demo_encap(c);
    demo_tcp(c, "203.0.113.5", 40022, "198.51.100.1", 57722, "SSH-2.0-OpenSSH_8.0\r\n");
    demo_encap(c);
    demo_tcp(c, "203.0.113.6", 40786, "198.51.100.2", 4786, NULL);
    demo_encap(c);
    add_ip(c, "192.0.2.90", "192.0.2.91");
    play_http(c, ip_of("2001:db8:77::5"), ip_of("2001:db8:5a17::41"), "files.example", "/upload");
    demo_encap(c);
    play_tls(c, ip_of("10.20.30.41"), ip_of("198.51.100.80"), "www.benign.example",
            GEN_HELLO_BROWSER, 1);
}

int gen_cmd_demo(const char *path)
{
    static struct case_ctx c;
    struct tw_buf out;
    int rc = 0;

    memset(&c, 0, sizeof(c));
    c.name = "demo";
    c.index = 40;
    c.enc.linktype = GEN_LINK_ETH;
    c.ts_us = 1760393051000000LL; /* 2025-10-13T22:04:11Z */
    tw_buf_init(&c.pcap, CASE_BUF);
    tw_buf_init(&c.pkts, CASE_BUF);
    c_demo(&c);
    tw_buf_init(&out, CASE_BUF);
    rc |= gen_pcap_header(&out, GEN_LINK_ETH);
    rc |= tw_buf_append(&out, c.pcap.ptr, c.pcap.len);
    if (rc == 0)
        rc = gen_write_file(path, out.ptr, out.len);
    for (int i = 0; i < c.n_flows; i++) {
        tw_buf_cleanup(&c.flows[i].app);
        tw_buf_cleanup(&c.flows[i].pkts);
        tw_buf_cleanup(&c.flows[i].encap);
    }
    tw_buf_cleanup(&out);
    tw_buf_cleanup(&c.pcap);
    tw_buf_cleanup(&c.pkts);
    return rc == 0 ? 0 : 1;
}

static int write_case(const char *outdir, size_t k, uint64_t *bytes)
{
    static struct case_ctx c;
    struct tw_buf ex;
    char path[4096], a[TW_IP_STRLEN], d[TW_IP_STRLEN];
    int rc = 0;

    memset(&c, 0, sizeof(c));
    c.name = cases[k].name;
    c.index = (int)k;
    c.enc.linktype = GEN_LINK_ETH;
    c.ts_us = (1714564800LL + (int64_t)k * 60) * 1000000LL;
    tw_buf_init(&c.pcap, CASE_BUF);
    tw_buf_init(&c.pkts, CASE_BUF);
    tw_buf_init(&ex, CASE_BUF);
    cases[k].play(&c);

    /* The header goes in front once the link type is known. */
    {
        struct tw_buf hdr;
        tw_buf_init(&hdr, CASE_BUF);
        rc |= gen_pcap_header(&hdr, c.enc.linktype);
        rc |= tw_buf_append(&hdr, c.pcap.ptr, c.pcap.len);
        tw_buf_cleanup(&c.pcap);
        c.pcap = hdr;
    }

    PUT(&ex, "{\n  \"case\": \"%s\",\n  \"description\": ", c.name);
    json_str(&ex, cases[k].desc);
    PUT(&ex,
            ",\n  \"pcap\": \"%s.pcap\",\n  \"linktype\": %u,\n  \"intel\": \"intel.json\","
            "\n  \"packets\": [",
            c.name, c.enc.linktype);
    PUT(&ex, "%s\n  ],\n  \"flows\": [", c.pkts.ptr ? c.pkts.ptr : "");
    for (int i = 0; i < c.n_flows; i++) {
        struct flow *f = &c.flows[i];
        (void)tw_ip_format(&f->cli, a);
        (void)tw_ip_format(&f->srv, d);
        PUT(&ex,
                "%s\n    {\"id\":%d,\"proto\":\"%s\",\"client\":\"%s\",\"client_port\":%u,"
                "\"server\":\"%s\",\"server_port\":%u,\"packets\":[%s],\n     \"encap\":[%s]",
                i ? "," : "", i, proto_name(f->proto), a, f->cport, d, f->sport,
                f->pkts.ptr ? f->pkts.ptr : "", f->encap.ptr ? f->encap.ptr : "");
        if (f->app.len)
            PUT(&ex, ",\n     %s", f->app.ptr + 1);
        PUT(&ex, ",\n     ");
        /* flow_matches writes a leading comma; drop it. */
        {
            struct tw_buf m;
            tw_buf_init(&m, CASE_BUF);
            flow_matches(&m, f);
            PUT(&ex, "%s}", m.ptr + 1);
            tw_buf_cleanup(&m);
        }
        tw_buf_cleanup(&f->app);
        tw_buf_cleanup(&f->pkts);
        tw_buf_cleanup(&f->encap);
    }
    PUT(&ex, "\n  ]\n}\n");

    (void)snprintf(path, sizeof(path), "%s/%s.pcap", outdir, c.name);
    rc |= gen_write_file(path, c.pcap.ptr, c.pcap.len);
    *bytes += c.pcap.len;
    (void)snprintf(path, sizeof(path), "%s/%s.expect.json", outdir, c.name);
    rc |= gen_write_file(path, ex.ptr, ex.len);
    tw_buf_cleanup(&c.pcap);
    tw_buf_cleanup(&c.pkts);
    tw_buf_cleanup(&ex);
    return rc ? -1 : 0;
}

int gen_cmd_cases(const char *outdir)
{
    char path[4096];
    uint64_t bytes = 0;

    iocs_build();
    for (size_t k = 0; k < TW_ARRAY_LEN(cases); k++)
        if (write_case(outdir, k, &bytes) != 0)
            return 1;
    (void)snprintf(path, sizeof(path), "%s/intel.json", outdir);
    if (gen_cmd_intel(path) != 0)
        return 1;
    (void)printf("tw_pcapgen: %zu cases, %llu capture bytes, %d indicators in %s\n",
            TW_ARRAY_LEN(cases), (unsigned long long)bytes, n_iocs, outdir);
    return 0;
}

/* ==== The STIX bundle ==== */

int gen_cmd_intel(const char *path)
{
    struct tw_time t = { 1714521600, 0, 3 }; /* 2024-05-01T00:00:00.000Z */
    char ts[TW_TIME_STRLEN], bundle[64], ident[64];
    struct tw_buf b;
    int rc;

    iocs_build();
    (void)tw_time_format(&t, 3, ts);
    make_id("bundle", "tidewatch pcapgen cases", bundle, sizeof(bundle));
    make_id("identity", "tidewatch pcapgen", ident, sizeof(ident));
    tw_buf_init(&b, CASE_BUF);
    PUT(&b, "{\n  \"type\": \"bundle\",\n  \"id\": \"%s\",\n  \"objects\": [\n", bundle);
    PUT(&b,
            "    {\"type\": \"identity\", \"spec_version\": \"2.1\", \"id\": \"%s\", "
            "\"created\": \"%s\", \"modified\": \"%s\", \"name\": \"tidewatch pcapgen\", "
            "\"identity_class\": \"system\"}",
            ident, ts, ts);
    for (int k = 0; k < n_iocs; k++) {
        const struct ioc *i = &iocs[k];
        PUT(&b,
                ",\n    {\"type\": \"indicator\", \"spec_version\": \"2.1\", \"id\": \"%s\", "
                "\"created\": \"%s\", \"modified\": \"%s\", \"created_by_ref\": \"%s\", "
                "\"name\": ",
                i->id, ts, ts, ident);
        json_str(&b, i->name);
        PUT(&b, ", \"indicator_types\": [\"malicious-activity\"], \"pattern\": ");
        json_str(&b, i->pattern);
        PUT(&b, ", \"pattern_type\": \"stix\", \"valid_from\": \"%s\"}", ts);
    }
    PUT(&b, "\n  ]\n}\n");
    rc = gen_write_file(path, b.ptr, b.len);
    tw_buf_cleanup(&b);
    return rc ? 1 : 0;
}
