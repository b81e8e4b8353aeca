/*
 * gen_bench.c: the benchmark capture and bundle of tw_pcapgen.
 *
 * `bench` writes a capture of a requested size made of interleaved sessions
 * (256 open at a time, one packet from a random open session per step): TLS
 * with a handshake, a ClientHello carrying SNI and bulk server data; HTTP
 * requests with responses; DNS over UDP. A share of the sessions runs inside
 * VLAN, MPLS, GRE, VXLAN or GTP-U. Packet sizes mix ACKs (54-100 bytes),
 * requests and small responses (about 200-600 bytes) and full 1514-byte
 * segments, for an average near 700 bytes.
 *
 * Sessions go to "sites": site i has address 172.16.0.0 + perm(i) (a
 * bijection on 20 bits keyed by the seed) and name s<i>.bench.example. Sites
 * 0 .. bad_sites-1 are the ones `bench-intel` lists, so both commands agree
 * on what matches without sharing a file: every TLS or HTTP flow to a bad
 * site matches on its address, and a DNS flow matches when it asks for the
 * name of a bad site i with i % 10 == 0 (those also get a domain indicator).
 * Other indicators use addresses from perm(j) for j >= GEN_SITES (never sent),
 * 198.18.0.0/15 prefixes and names under miss.example.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fcntl.h>
#include <unistd.h>

#include "gen.h"
#include "tidewatch/hash.h"

/* ==== Parameters ==== */

#define GEN_SITES    400000u /* distinct server addresses */
#define GEN_OPEN     256     /* sessions open at once */
#define GEN_ACTIONS  48      /* packets one session may send */
#define GEN_WBUF     (8u << 20)
#define GEN_BAD_RATE 0.004 /* share of sessions that go to a bad site */

/* ==== Random numbers (splitmix64: small, fast, reproducible) ==== */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t rnd_below(uint32_t n)
{
    return (uint32_t)(((rnd() >> 32) * (uint64_t)n) >> 32);
}

/* The address of site i: 172.16.0.0/12 permuted by an odd multiplier. */
static uint32_t site_addr(uint32_t i, uint64_t seed)
{
    uint32_t x = (i * 0x9e3779b1u + (uint32_t)(seed * 7919u)) & 0xfffffu;
    return 0xac100000u | x;
}

static void site_name(uint32_t i, char *out, size_t cap)
{
    (void)snprintf(out, cap, "s%u.bench.example", i);
}

/* ==== Sessions ==== */

enum act_payload { AP_NONE, AP_HELLO, AP_GET, AP_RESP, AP_DATA, AP_DNSQ, AP_DNSR };

struct action {
    uint8_t dir, flags, payload;
    uint16_t len;
};

struct session {
    bool live;
    uint8_t type; /* 0 TLS, 1 HTTP, 2 DNS */
    uint8_t proto;
    uint32_t site;
    struct tw_ip cli, srv;
    uint16_t cport, sport;
    uint32_t seq[2];
    struct gen_encap enc;
    struct action act[GEN_ACTIONS];
    int n_act, next;
};

struct bench {
    uint64_t seed;
    unsigned bad_sites;
    int fd;
    uint8_t *wbuf;
    size_t wlen;
    uint64_t bytes, packets, flows, flows_by_type[3], match_flows, tunneled;
    int64_t ts_us;
    uint8_t noise[1 << 16];
    struct session open[GEN_OPEN];
    uint32_t vxlan_port;
};

static int flush(struct bench *b)
{
    size_t o = 0;

    while (o < b->wlen) {
        ssize_t w = write(b->fd, b->wbuf + o, b->wlen - o);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            (void)fprintf(stderr, "tw_pcapgen: write: %s\n", strerror(errno));
            return -1;
        }
        o += (size_t)w;
    }
    b->wlen = 0;
    return 0;
}

static void push_act(struct session *s, int dir, uint8_t flags, enum act_payload p, size_t len)
{
    if (s->n_act < GEN_ACTIONS)
        s->act[s->n_act++] = (struct action){ (uint8_t)dir, flags, (uint8_t)p, (uint16_t)len };
}

static void ip4(struct tw_ip *ip, uint32_t a)
{
    tw_ip_from_v4(ip, a);
}

/* Picks an encapsulation for a new session (about 40% tunnelled or tagged). */
static void pick_encap(struct bench *b, struct session *s)
{
    static const uint8_t ma[6] = { 0x02, 0, 0, 0, 0, 1 }, mb[6] = { 0x02, 0, 0, 0, 0, 2 };
    struct gen_encap *e = &s->enc;
    uint32_t r = rnd_below(100);
    struct gen_hdr *h;

    memset(e, 0, sizeof(*e));
    e->linktype = GEN_LINK_ETH;
    h = &e->h[e->n++];
    h->kind = GK_ETH;
    memcpy(h->mac_a, ma, 6);
    memcpy(h->mac_b, mb, 6);
    if (r < 60)
        return;
    b->tunneled++;
    if (r < 75) {
        h = &e->h[e->n++];
        h->kind = GK_VLAN;
        h->tpid = 0x8100;
        h->vid = (uint16_t)(100 + rnd_below(64));
    } else if (r < 80) {
        h = &e->h[e->n++];
        h->kind = GK_MPLS;
        h->label = 16000 + rnd_below(4000);
        h = &e->h[e->n++];
        h->kind = GK_MPLS;
        h->label = 24000 + rnd_below(1000);
    } else if (r < 85) {
        h = &e->h[e->n++];
        h->kind = GK_IPV4;
        ip4(&h->src, 0xc0a80001u);
        ip4(&h->dst, 0xc0a80002u + rnd_below(16));
        h = &e->h[e->n++];
        h->kind = GK_GRE;
        h->has_key = true;
        h->key = rnd_below(1000);
    } else if (r < 90) {
        h = &e->h[e->n++];
        h->kind = GK_IPV4;
        ip4(&h->src, 0xc0a80101u);
        ip4(&h->dst, 0xc0a80102u + rnd_below(16));
        h = &e->h[e->n++];
        h->kind = GK_UDP;
        h->noswap = true;
        h->sport = (uint16_t)(49152 + rnd_below(16000));
        h->dport = 4789;
        h = &e->h[e->n++];
        h->kind = GK_VXLAN;
        h->vni = 5000 + rnd_below(100);
        h = &e->h[e->n++];
        h->kind = GK_ETH;
        memcpy(h->mac_a, ma, 6);
        memcpy(h->mac_b, mb, 6);
    } else {
        uint32_t sub = 0x64400000u | rnd_below(1u << 22); /* 100.64.0.0/10 */
        h = &e->h[e->n++];
        h->kind = GK_IPV4;
        ip4(&h->src, 0xc0a80201u + rnd_below(64)); /* base station */
        ip4(&h->dst, 0xc0a802feu);                 /* user plane function */
        h = &e->h[e->n++];
        h->kind = GK_UDP;
        h->sport = h->dport = 2152;
        h = &e->h[e->n++];
        h->kind = GK_GTPU;
        h->teid = (uint32_t)rnd();
        h->teid_rev = (uint32_t)rnd();
        h->gtp_ext = rnd_below(2) == 0;
        ip4(&s->cli, sub);
    }
}

static void session_new(struct bench *b, struct session *s)
{
    uint32_t r = rnd_below(100);
    bool bad = rnd_below(1000000) < (uint32_t)(GEN_BAD_RATE * 1e6) && b->bad_sites;

    memset(s, 0, sizeof(*s));
    s->live = true;
    s->site = bad ? rnd_below(b->bad_sites) : b->bad_sites + rnd_below(GEN_SITES - b->bad_sites);
    ip4(&s->cli, 0x0a000000u | rnd_below(1u << 24));
    pick_encap(b, s);
    s->cport = (uint16_t)(1024 + rnd_below(64000));
    s->seq[0] = (uint32_t)rnd();
    s->seq[1] = (uint32_t)rnd();
    b->flows++;
    if (r < 30) {
        /* DNS: the resolver is never an indicator; the name may be. */
        s->type = 2;
        s->proto = 17;
        ip4(&s->srv, 0x0aff0035u);
        s->sport = 53;
        push_act(s, 0, 0, AP_DNSQ, 0);
        push_act(s, 1, 0, AP_DNSR, 0);
        if (s->site < b->bad_sites && s->site % 10 == 0)
            b->match_flows++;
    } else {
        int segs;
        s->type = r < 80 ? 0 : 1;
        s->proto = 6;
        ip4(&s->srv, site_addr(s->site, b->seed));
        s->sport = s->type == 0 ? 443 : 80;
        push_act(s, 0, GEN_SYN, AP_NONE, 0);
        push_act(s, 1, GEN_SYN | GEN_ACK, AP_NONE, 0);
        push_act(s, 0, GEN_ACK, AP_NONE, 0);
        push_act(s, 0, GEN_PSH | GEN_ACK, s->type == 0 ? AP_HELLO : AP_GET, 0);
        if (s->type == 1 && rnd_below(2)) {
            push_act(s, 1, GEN_PSH | GEN_ACK, AP_RESP, 300 + rnd_below(400));
        } else {
            segs = 2 + (int)rnd_below(s->type == 0 ? 16 : 8);
            for (int i = 0; i < segs; i++) {
                push_act(s, 1, GEN_ACK, AP_DATA, i + 1 < segs ? 1448 : 200 + rnd_below(1248));
                if (i & 1)
                    push_act(s, 0, GEN_ACK, AP_NONE, 0);
            }
            if (s->type == 0)
                push_act(s, 0, GEN_PSH | GEN_ACK, AP_DATA, 40 + rnd_below(500));
        }
        push_act(s, 0, GEN_FIN | GEN_ACK, AP_NONE, 0);
        push_act(s, 1, GEN_FIN | GEN_ACK, AP_NONE, 0);
        push_act(s, 0, GEN_ACK, AP_NONE, 0);
        if (s->site < b->bad_sites)
            b->match_flows++;
    }
    b->flows_by_type[s->type]++;
}

/* Builds and buffers the next packet of s; marks s finished after its last one. */
static int session_step(struct bench *b, struct session *s)
{
    static struct gen_pkt p;
    const struct action *a = &s->act[s->next++];
    const struct tw_ip *src = a->dir ? &s->srv : &s->cli, *dst = a->dir ? &s->cli : &s->srv;
    char name[64];
    uint8_t tmp[2048];
    size_t n = 0;
    uint8_t hdr[16];

    gen_pkt_init(&p, NULL);
    site_name(s->site, name, sizeof(name));
    switch (a->payload) {
        case AP_HELLO:
            n = gen_tls_client_hello(
                    tmp, sizeof(tmp), GEN_HELLO_BROWSER, name, (uint32_t)rnd(), NULL, NULL, NULL);
            gen_pkt_put(&p, tmp, n);
            break;
        case AP_GET:
            n = (size_t)snprintf((char *)tmp, sizeof(tmp),
                    "GET /p/%u/index.html HTTP/1.1\r\nHost: %s\r\nUser-Agent: Mozilla/5.0 "
                    "(X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0\r\n"
                    "Accept: */*\r\n\r\n",
                    (unsigned)rnd_below(100000), name);
            gen_pkt_put(&p, tmp, n);
            break;
        case AP_RESP:
            n = (size_t)snprintf((char *)tmp, sizeof(tmp),
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %u\r\n\r\n",
                    (unsigned)a->len);
            gen_pkt_put(&p, tmp, n);
            gen_pkt_put(&p, b->noise + rnd_below((uint32_t)(sizeof(b->noise) - 1500)), a->len);
            break;
        case AP_DATA: {
            uint32_t off = rnd_below((uint32_t)(sizeof(b->noise) - 1500));
            gen_pkt_put(&p, b->noise + off, a->len);
            break;
        }
        case AP_DNSQ:
        case AP_DNSR: {
            static const struct gen_dns_rr rr_tmpl = { NULL, 1, NULL };
            struct gen_dns_rr rr = rr_tmpl;
            char addr[TW_IP_STRLEN];
            struct tw_ip ip;
            ip4(&ip, site_addr(s->site, b->seed));
            (void)tw_ip_format(&ip, addr);
            rr.name = name;
            rr.data = addr;
            n = gen_dns_msg(tmp, sizeof(tmp), (uint16_t)s->cport, name, 1,
                    a->payload == AP_DNSR ? &rr : NULL, a->payload == AP_DNSR ? 1 : 0);
            gen_pkt_put(&p, tmp, n);
            break;
        }
        default:
            break;
    }
    n = gen_pkt_len(&p);
    if (s->proto == 6) {
        gen_tcp(&p, src, dst, a->dir ? s->sport : s->cport, a->dir ? s->cport : s->sport,
                s->seq[a->dir], s->seq[!a->dir], a->flags);
        s->seq[a->dir] += (uint32_t)n + ((a->flags & (GEN_SYN | GEN_FIN)) ? 1u : 0u);
    } else {
        gen_udp(&p, src, dst, a->dir ? s->sport : s->cport, a->dir ? s->cport : s->sport);
    }
    gen_ipv4(&p, src, dst, s->proto, (uint16_t)rnd(), NULL, 0, 0, false);
    gen_wrap(&p, &s->enc, a->dir, 4, (uint32_t)b->packets);
    if (s->next >= s->n_act)
        s->live = false;

    n = gen_pkt_len(&p);
    if (b->wlen + n + 16 > GEN_WBUF && flush(b) != 0)
        return -1;
    for (int i = 0; i < 4; i++) {
        uint32_t v = i == 0   ? (uint32_t)(b->ts_us / 1000000)
                     : i == 1 ? (uint32_t)(b->ts_us % 1000000)
                              : (uint32_t)n;
        hdr[4 * i] = (uint8_t)v;
        hdr[4 * i + 1] = (uint8_t)(v >> 8);
        hdr[4 * i + 2] = (uint8_t)(v >> 16);
        hdr[4 * i + 3] = (uint8_t)(v >> 24);
    }
    memcpy(b->wbuf + b->wlen, hdr, 16);
    memcpy(b->wbuf + b->wlen + 16, gen_pkt_data(&p), n);
    b->wlen += n + 16;
    b->bytes += n + 16;
    b->packets++;
    b->ts_us += 20 + rnd_below(20);
    return 0;
}

int gen_cmd_bench(const char *path, uint64_t size, uint64_t seed, unsigned bad_sites)
{
    static struct bench b;
    struct tw_buf hdr;
    struct timespec t0, t1;
    double secs;
    int rc = 0;

    memset(&b, 0, sizeof(b));
    b.seed = seed;
    b.bad_sites = bad_sites > GEN_SITES / 2 ? GEN_SITES / 2 : bad_sites;
    rng_state = seed * 0x2545f4914f6cdd1dull + 1;
    for (size_t i = 0; i < sizeof(b.noise); i++)
        b.noise[i] = (uint8_t)(rnd() >> 56);
    b.ts_us = 1714608000LL * 1000000LL; /* 2024-05-02T00:00:00Z */
    b.wbuf = malloc(GEN_WBUF);
    b.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!b.wbuf || b.fd < 0) {
        (void)fprintf(stderr, "tw_pcapgen: %s: %s\n", path, strerror(errno));
        free(b.wbuf);
        return 1;
    }
    (void)clock_gettime(CLOCK_MONOTONIC, &t0);
    tw_buf_init(&hdr, 64);
    if (gen_pcap_header(&hdr, GEN_LINK_ETH) != 0)
        rc = -1;
    memcpy(b.wbuf, hdr.ptr, hdr.len);
    b.wlen = b.bytes = hdr.len;
    tw_buf_cleanup(&hdr);
    for (int i = 0; i < GEN_OPEN; i++)
        session_new(&b, &b.open[i]);
    while (rc == 0 && b.bytes < size) {
        struct session *s = &b.open[rnd_below(GEN_OPEN)];
        rc = session_step(&b, s);
        if (!s->live)
            session_new(&b, s);
    }
    /* Finish the sessions still open so every flow is complete. */
    for (int i = 0; rc == 0 && i < GEN_OPEN; i++)
        while (rc == 0 && b.open[i].live)
            rc = session_step(&b, &b.open[i]);
    if (rc == 0)
        rc = flush(&b);
    if (close(b.fd) != 0)
        rc = -1;
    free(b.wbuf);
    if (rc != 0)
        return 1;
    (void)clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    (void)printf("tw_pcapgen bench: %s: %llu bytes, %llu packets (average %.0f bytes on the "
                 "wire), %.2f s (%.0f MB/s)\n",
            path, (unsigned long long)b.bytes, (unsigned long long)b.packets,
            (double)(b.bytes - 24) / (double)b.packets - 16.0, secs, (double)b.bytes / secs / 1e6);
    (void)printf("tw_pcapgen bench: %llu flows (%llu TLS, %llu HTTP, %llu DNS), %llu in tunnels "
                 "or tags\n",
            (unsigned long long)b.flows, (unsigned long long)b.flows_by_type[0],
            (unsigned long long)b.flows_by_type[1], (unsigned long long)b.flows_by_type[2],
            (unsigned long long)b.tunneled);
    (void)printf("tw_pcapgen bench: expected matching flows: %llu (seed %llu, bad sites %u)\n",
            (unsigned long long)b.match_flows, (unsigned long long)seed, b.bad_sites);
    return 0;
}

/* ==== The benchmark bundle ==== */

int gen_cmd_bench_intel(const char *path, unsigned n_indicators, double hit_rate, uint64_t seed)
{
    static const uint8_t ns[16] = { 0x5d, 0x1e, 0x7a, 0x3c, 0x94, 0x20, 0x4f, 0x61, 0x8b, 0x2e,
        0x07, 0xc4, 0x39, 0xa6, 0x51, 0xf1 };
    unsigned hits = (unsigned)(n_indicators * hit_rate + 0.5);
    unsigned n = 0, n_ip = 0, n_cidr = 0, n_dom = 0;
    struct tw_buf b;
    char pat[128], ip[TW_IP_STRLEN], idtxt[TW_UUID_STRLEN];
    uint8_t u[16];
    int rc = 0;
    const char *ts = "2024-05-01T00:00:00.000Z";

    if (hits > GEN_SITES / 2)
        hits = GEN_SITES / 2;
    tw_buf_init(&b, (size_t)1 << 31);
    rc |= tw_buf_printf(&b, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[",
            "5d1e7a3c-9420-4f61-8b2e-07c439a651f2");
    for (uint32_t j = 0; rc == 0 && n < n_indicators; j++) {
        struct tw_ip a;
        if (j < hits) {
            ip4(&a, site_addr(j, seed));
            (void)tw_ip_format(&a, ip);
            (void)snprintf(pat, sizeof(pat), "[ipv4-addr:value = '%s']", ip);
            n_ip++;
            if (j % 10 == 0 && n + 1 < n_indicators) {
                /* The bad site's name as well: its DNS flows match on it. */
                char nm[64], p2[128];
                site_name(j, nm, sizeof(nm));
                (void)snprintf(p2, sizeof(p2), "[domain-name:value = '%s']", nm);
                tw_uuid_v5(ns, p2, strlen(p2), u);
                tw_uuid_format(u, idtxt);
                rc |= tw_buf_printf(&b,
                        "%s\n{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
                        "\"indicator--%s\",\"created\":\"%s\",\"modified\":\"%s\",\"pattern\":"
                        "\"%s\",\"pattern_type\":\"stix\",\"valid_from\":\"%s\"}",
                        n ? "," : "", idtxt, ts, ts, p2, ts);
                n++;
                n_dom++;
            }
        } else {
            uint32_t r = (j * 2654435761u) % 100;
            uint32_t k = GEN_SITES + (j - hits) % ((1u << 20) - GEN_SITES);
            if (r < 88 || j - hits >= (1u << 20) - GEN_SITES) {
                ip4(&a, site_addr(k, seed));
                (void)tw_ip_format(&a, ip);
                (void)snprintf(pat, sizeof(pat), "[ipv4-addr:value = '%s']", ip);
                n_ip++;
            } else if (r < 95) {
                ip4(&a, 0xc6120000u | (((j * 8u) & 0x1ffffu) & ~7u)); /* 198.18.0.0/15 */
                (void)tw_ip_format(&a, ip);
                (void)snprintf(pat, sizeof(pat), "[ipv4-addr:value = '%s/29']", ip);
                n_cidr++;
            } else {
                (void)snprintf(pat, sizeof(pat), "[domain-name:value = 'm%u.miss.example']", j);
                n_dom++;
            }
        }
        tw_uuid_v5(ns, pat, strlen(pat), u);
        tw_uuid_format(u, idtxt);
        rc |= tw_buf_printf(&b,
                "%s\n{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%s\","
                "\"created\":\"%s\",\"modified\":\"%s\",\"pattern\":\"%s\",\"pattern_type\":"
                "\"stix\",\"valid_from\":\"%s\"}",
                n ? "," : "", idtxt, ts, ts, pat, ts);
        n++;
    }
    rc |= tw_buf_puts(&b, "\n]}\n");
    if (rc == 0)
        rc = gen_write_file(path, b.ptr, b.len);
    tw_buf_cleanup(&b);
    if (rc != 0)
        return 1;
    (void)printf("tw_pcapgen bench-intel: %s: %u indicators (%u addresses, %u CIDRs, %u domains); "
                 "bad sites 0..%u of seed %llu appear in a capture made with --bad-sites %u\n",
            path, n, n_ip, n_cidr, n_dom, hits ? hits - 1 : 0, (unsigned long long)seed, hits);
    return 0;
}
