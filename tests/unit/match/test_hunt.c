/*
 * test_hunt.c: the matcher over hand-built Ethernet frames: one alert per flow
 * and indicator whatever the number of packets and directions, addresses at
 * every layer of a GRE tunnel, indicators that become valid in the middle of
 * a flow (--respect-validity looks every packet up), and flow metadata: the
 * bounds of each string, strings longer than a metadata block holds in
 * itself, and blocks reused by later flows.
 */
#include <stdlib.h>
#include <string.h>

#include "tidewatch/alloc.h"
#include "tidewatch/hunt.h"
#include "tw_test.h"

#define ID(n) "indicator--00000000-0000-4000-8000-0000000000" #n
#define SEC   INT64_C(1000000000)
/* 2025-01-01T00:00:00Z and 2025-06-01T00:00:00Z, in seconds. */
#define T_2025 INT64_C(1735689600)
#define T_JUNE INT64_C(1748736000)

#define IP_C  0x0a000001u /* 10.0.0.1, a client */
#define IP_S  0xc6336405u /* 198.51.100.5, an indicator */
#define IP_S2 0xc6336406u /* 198.51.100.6, an indicator valid from June */
#define IP_N  0xc6336407u /* 198.51.100.7, no indicator */
#define IP_O1 0xcb007101u /* 203.0.113.1, outer source, an indicator */
#define IP_O2 0xcb007102u /* 203.0.113.2, outer destination */

/* ==== What the sink saw ==== */

struct seen_alert {
    uint32_t indicator;
    uint64_t pcap_cnt;
    char field[32];
    char value[64];
};

struct seen_meta {
    int app;
    char dns_query[TW_META_NAME];
    char http_method[TW_META_METHOD];
    char http_host[TW_META_NAME];
    char http_uri[TW_META_URI];
    char http_ua[TW_META_NAME];
};

struct seen {
    size_t n_alerts, n_meta, n_flows;
    struct seen_alert alerts[32];
    struct seen_meta meta[8];
    unsigned flow_alerts[8];
};

static void copy(char *dst, size_t size, const char *src)
{
    assert_non_null(src);
    assert_true(strlen(src) < size);
    memcpy(dst, src, strlen(src) + 1);
}

static void on_alert(void *ctx, const struct tw_hunt_alert *a)
{
    struct seen *s = ctx;
    struct seen_alert *x;

    assert_true(s->n_alerts < TW_ARRAY_LEN(s->alerts));
    x = &s->alerts[s->n_alerts++];
    x->indicator = a->indicator;
    x->pcap_cnt = a->pcap_cnt;
    copy(x->field, sizeof(x->field), a->field);
    copy(x->value, sizeof(x->value), a->value);
}

static void on_meta(void *ctx, const struct tw_packet *p, const struct tw_flow *f,
        const struct tw_flow_meta *m, enum tw_app app)
{
    struct seen *s = ctx;
    struct seen_meta *x;

    (void)p;
    (void)f;
    assert_true(s->n_meta < TW_ARRAY_LEN(s->meta));
    x = &s->meta[s->n_meta++];
    x->app = (int)app;
    copy(x->dns_query, sizeof(x->dns_query), m->dns_query);
    copy(x->http_method, sizeof(x->http_method), m->http_method);
    copy(x->http_host, sizeof(x->http_host), m->http_host);
    copy(x->http_uri, sizeof(x->http_uri), m->http_uri);
    copy(x->http_ua, sizeof(x->http_ua), m->http_ua);
    /* Every other string is there too, empty or not. */
    assert_non_null(m->tls_sni);
    assert_non_null(m->ja3);
    assert_non_null(m->ja4);
    assert_non_null(m->tls_cert_sha1);
    assert_non_null(m->ssh_client);
    assert_non_null(m->ssh_server);
}

static void on_flow_end(void *ctx, const struct tw_flow *f, const struct tw_flow_meta *m,
        enum tw_flow_end why, unsigned alerts)
{
    struct seen *s = ctx;

    (void)f;
    (void)m;
    (void)why;
    assert_true(s->n_flows < TW_ARRAY_LEN(s->flow_alerts));
    s->flow_alerts[s->n_flows++] = alerts;
}

/* ==== Index and hunt ==== */

static void add(struct tw_index *idx, const char *id, const char *pattern, const char *valid_from)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "indicator",
            "spec_version", "2.1", "id", id, "created", "2025-01-01T00:00:00.000Z", "modified",
            "2025-01-01T00:00:00.000Z", "pattern", pattern, "pattern_type", "stix", "valid_from",
            valid_from);
    struct tw_err err;

    assert_non_null(o);
    tw_err_clear(&err);
    if (tw_index_add(idx, o, 0, &err) != TW_OK)
        fail_msg("adding %s: %s", pattern, err.msg);
    json_decref(o);
}

/* Indicator numbers follow the order of the adds. */
static struct tw_index *fixture(void)
{
    struct tw_index *idx = tw_index_new(100);

    assert_non_null(idx);
    add(idx, ID(00), "[ipv4-addr:value = '198.51.100.5']", "2025-01-01T00:00:00Z");   /* 0 */
    add(idx, ID(01), "[ipv4-addr:value = '203.0.113.1']", "2025-01-01T00:00:00Z");    /* 1 */
    add(idx, ID(02), "[ipv4-addr:value = '198.51.100.6']", "2025-06-01T00:00:00Z");   /* 2 */
    add(idx, ID(03), "[domain-name:value = 'evil.example']", "2025-01-01T00:00:00Z"); /* 3 */
    assert_int_equal(tw_index_build(idx), TW_OK);
    return idx;
}

static struct tw_hunt *new_hunt(const struct tw_index *idx, struct seen *s, bool validity)
{
    struct tw_hunt_config cfg;
    struct tw_hunt *h = NULL;

    tw_hunt_config_init(&cfg);
    cfg.index = idx;
    cfg.max_flows = 64;
    cfg.respect_validity = validity;
    cfg.sink.alert = on_alert;
    cfg.sink.metadata = on_meta;
    cfg.sink.flow_end = on_flow_end;
    cfg.sink.ctx = s;
    assert_int_equal(tw_hunt_new(&cfg, &h), TW_OK);
    return h;
}

/* ==== Frames ==== */

struct frame {
    uint8_t b[4096];
    size_t len;
};

static void put8(struct frame *f, unsigned v)
{
    assert_true(f->len < sizeof(f->b));
    f->b[f->len++] = (uint8_t)v;
}

static void put16(struct frame *f, unsigned v)
{
    put8(f, v >> 8);
    put8(f, v & 0xff);
}

static void put32(struct frame *f, uint32_t v)
{
    put16(f, v >> 16);
    put16(f, v & 0xffff);
}

static void put_bytes(struct frame *f, const void *p, size_t n)
{
    assert_true(f->len + n <= sizeof(f->b));
    if (n > 0)
        memcpy(f->b + f->len, p, n);
    f->len += n;
}

/* Ethernet II with the given ethertype. */
static void eth(struct frame *f, unsigned ethertype)
{
    static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };

    f->len = 0;
    put_bytes(f, macs, sizeof(macs));
    put16(f, ethertype);
}

/* An IPv4 header without options for `payload` bytes after it (checksum left 0). */
static void ipv4(struct frame *f, uint32_t src, uint32_t dst, unsigned proto, size_t payload)
{
    put8(f, 0x45);
    put8(f, 0);
    put16(f, (unsigned)(20 + payload));
    put32(f, 0x12340000u); /* id, no fragment bits */
    put8(f, 64);
    put8(f, proto);
    put16(f, 0);
    put32(f, src);
    put32(f, dst);
}

static void udp(struct frame *f, unsigned sport, unsigned dport, const void *data, size_t n)
{
    put16(f, sport);
    put16(f, dport);
    put16(f, (unsigned)(8 + n));
    put16(f, 0);
    put_bytes(f, data, n);
}

static void tcp(struct frame *f, unsigned sport, unsigned dport, unsigned flags, uint32_t seq,
        const void *data, size_t n)
{
    put16(f, sport);
    put16(f, dport);
    put32(f, seq);
    put32(f, 0);
    put8(f, 5 << 4);
    put8(f, flags);
    put16(f, 65535);
    put32(f, 0);
    put_bytes(f, data, n);
}

/* A UDP datagram between two addresses, plain or inside GRE between outer addresses. */
static void udp_frame(struct frame *f, bool gre, uint32_t src, uint32_t dst, unsigned sport,
        unsigned dport, const void *data, size_t n)
{
    eth(f, 0x0800);
    if (gre) {
        bool forward = src == IP_C;
        ipv4(f, forward ? IP_O1 : IP_O2, forward ? IP_O2 : IP_O1, 47, 4 + 20 + 8 + n);
        put16(f, 0);      /* GRE flags and version 0 */
        put16(f, 0x0800); /* carrying IPv4 */
    }
    ipv4(f, src, dst, 17, 8 + n);
    udp(f, sport, dport, data, n);
}

static void tcp_frame(struct frame *f, uint32_t src, uint32_t dst, unsigned sport, unsigned dport,
        unsigned flags, uint32_t seq, const char *data)
{
    size_t n = data != NULL ? strlen(data) : 0;

    eth(f, 0x0800);
    ipv4(f, src, dst, 6, 20 + n);
    tcp(f, sport, dport, flags, seq, data, n);
}

/* Hands frame f, captured at second `sec` of 2025, to the hunt as packet number `num`. */
static void feed(struct tw_hunt *h, const struct frame *f, int64_t sec, uint64_t num)
{
    struct tw_packet p;

    memset(&p, 0, sizeof(p));
    p.data = f->b;
    p.caplen = (uint32_t)f->len;
    p.wirelen = (uint32_t)f->len;
    p.linktype = TW_LINK_ETHERNET;
    p.ts_ns = (T_2025 + sec) * SEC;
    p.num = num;
    assert_int_equal(tw_hunt_packet(h, &p), TW_OK);
}

/* A DNS query for `name` (dotted, no trailing dot) into f's payload area; returns its length. */
static size_t dns_query(uint8_t *out, size_t cap, const char *name)
{
    size_t n = 0;
    const char *label = name;

    assert_true(cap >= 12 + strlen(name) + 2 + 4);
    memcpy(out, "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
    n = 12;
    while (*label != '\0') {
        const char *dot = strchr(label, '.');
        size_t len = dot != NULL ? (size_t)(dot - label) : strlen(label);
        out[n++] = (uint8_t)len;
        memcpy(out + n, label, len);
        n += len;
        label += len + (dot != NULL ? 1 : 0);
    }
    out[n++] = 0;
    memcpy(out + n, "\x00\x01\x00\x01", 4); /* type A, class IN */
    return n + 4;
}

/* ==== Tests ==== */

/* Many packets, both directions, one alert: on the first packet, as the field it came in. */
static void hunt_one_alert_per_flow_and_indicator(void **state)
{
    struct tw_index *idx = fixture();
    struct seen s = { 0 };
    struct tw_hunt *h = new_hunt(idx, &s, false);
    struct frame f;
    static const char data[] = "x";

    (void)state;
    for (unsigned i = 0; i < 6; i++) {
        bool fwd = i % 2 == 0;
        udp_frame(&f, false, fwd ? IP_C : IP_S, fwd ? IP_S : IP_C, fwd ? 40000 : 9999,
                fwd ? 9999 : 40000, data, 1);
        feed(h, &f, 10 + i, 1 + i);
    }
    assert_int_equal(s.n_alerts, 1);
    assert_int_equal(s.alerts[0].indicator, 0);
    assert_int_equal(s.alerts[0].pcap_cnt, 1);
    assert_string_equal(s.alerts[0].field, "ip.dst");
    assert_string_equal(s.alerts[0].value, "198.51.100.5");
    /* Another flow to the same server alerts again, as ip.src if the server speaks first. */
    udp_frame(&f, false, IP_S, IP_C, 9999, 40001, data, 1);
    feed(h, &f, 20, 7);
    udp_frame(&f, false, IP_C, IP_S, 40001, 9999, data, 1);
    feed(h, &f, 21, 8);
    assert_int_equal(s.n_alerts, 2);
    assert_int_equal(s.alerts[1].pcap_cnt, 7);
    assert_string_equal(s.alerts[1].field, "ip.src");
    tw_hunt_free(h);
    assert_int_equal(s.n_flows, 2);
    assert_int_equal(s.flow_alerts[0] + s.flow_alerts[1], 2);
    tw_index_free(idx);
}

/* Inside GRE the outer addresses match too, once per flow, as tunnel.ip.*. */
static void hunt_tunnel_addresses_match_once_per_flow(void **state)
{
    struct tw_index *idx = fixture();
    struct seen s = { 0 };
    struct tw_hunt *h = new_hunt(idx, &s, false);
    struct frame f;
    static const char data[] = "abc";

    (void)state;
    for (unsigned i = 0; i < 4; i++) {
        bool fwd = i % 2 == 0;
        udp_frame(&f, true, fwd ? IP_C : IP_N, fwd ? IP_N : IP_C, fwd ? 40000 : 9999,
                fwd ? 9999 : 40000, data, 3);
        feed(h, &f, 10 + i, 1 + i);
    }
    assert_int_equal(s.n_alerts, 1);
    assert_int_equal(s.alerts[0].indicator, 1);
    assert_int_equal(s.alerts[0].pcap_cnt, 1);
    assert_string_equal(s.alerts[0].field, "tunnel.ip.src");
    assert_string_equal(s.alerts[0].value, "203.0.113.1");
    /* The same inner flow outside the tunnel is another flow: no tunnel alert there. */
    udp_frame(&f, false, IP_C, IP_N, 40000, 9999, data, 3);
    feed(h, &f, 20, 5);
    assert_int_equal(s.n_alerts, 1);
    tw_hunt_free(h);
    tw_index_free(idx);
}

/*
 * With validity respected, an indicator that becomes valid while its flow
 * goes on alerts on the first packet after that moment; without, on the
 * first packet of all.
 */
static void hunt_validity_is_checked_on_every_packet(void **state)
{
    struct tw_index *idx = fixture();
    struct seen s = { 0 }, s2 = { 0 };
    struct tw_hunt *h = new_hunt(idx, &s, true);
    struct tw_hunt *h2 = new_hunt(idx, &s2, false);
    struct frame f;
    static const char data[] = "x";
    const int64_t june = T_JUNE - T_2025;

    (void)state;
    udp_frame(&f, false, IP_C, IP_S2, 40000, 9999, data, 1);
    feed(h, &f, june - 10, 1);
    feed(h2, &f, june - 10, 1);
    udp_frame(&f, false, IP_S2, IP_C, 9999, 40000, data, 1);
    feed(h, &f, june - 5, 2);
    feed(h2, &f, june - 5, 2);
    assert_int_equal(s.n_alerts, 0);
    feed(h, &f, june + 5, 3);
    feed(h2, &f, june + 5, 3);
    assert_int_equal(s.n_alerts, 1);
    assert_int_equal(s.alerts[0].indicator, 2);
    assert_int_equal(s.alerts[0].pcap_cnt, 3);
    assert_string_equal(s.alerts[0].field, "ip.src");
    assert_int_equal(s2.n_alerts, 1);
    assert_int_equal(s2.alerts[0].pcap_cnt, 1);
    assert_string_equal(s2.alerts[0].field, "ip.dst");
    tw_hunt_free(h);
    tw_hunt_free(h2);
    tw_index_free(idx);
}

/* Appends c n times to b (NUL-terminated, bounded by cap). */
static void repeat(char *b, size_t cap, char c, size_t n)
{
    size_t at = strlen(b);

    assert_true(at + n < cap);
    memset(b + at, c, n);
    b[at + n] = '\0';
}

/*
 * HTTP metadata beyond what a metadata block holds in itself goes on in
 * further storage, each string cut at its bound (Host and User-Agent 255
 * bytes, target 511); a later flow reusing the block starts empty.
 */
static void hunt_metadata_strings_keep_their_bounds(void **state)
{
    struct tw_index *idx = fixture();
    struct seen s = { 0 };
    struct tw_hunt *h = new_hunt(idx, &s, false);
    struct frame f;
    static char req[3000];
    uint8_t q[300];
    size_t qn;

    (void)state;
    /* A request with a 700-byte target, a 300-byte User-Agent, and a 250-byte Host. */
    snprintf(req, sizeof(req), "GET /");
    repeat(req, sizeof(req), 'a', 699);
    repeat(req, sizeof(req), ' ', 1);
    snprintf(req + strlen(req), sizeof(req) - strlen(req), "HTTP/1.1\r\nHost: ");
    repeat(req, sizeof(req), 'h', 240);
    snprintf(req + strlen(req), sizeof(req) - strlen(req), ".example\r\nUser-Agent: ");
    repeat(req, sizeof(req), 'u', 300);
    snprintf(req + strlen(req), sizeof(req) - strlen(req), "\r\n\r\n");
    tcp_frame(&f, IP_C, IP_N, 40000, 80, 0x02, 1000, NULL);
    feed(h, &f, 10, 1);
    tcp_frame(&f, IP_N, IP_C, 80, 40000, 0x12, 5000, NULL);
    feed(h, &f, 10, 2);
    tcp_frame(&f, IP_C, IP_N, 40000, 80, 0x18, 1001, req);
    feed(h, &f, 10, 3);
    assert_int_equal(s.n_meta, 1);
    assert_int_equal(s.meta[0].app, TW_APP_HTTP);
    assert_string_equal(s.meta[0].http_method, "GET");
    assert_int_equal(strlen(s.meta[0].http_uri), TW_META_URI - 1);
    assert_int_equal(s.meta[0].http_uri[0], '/');
    assert_int_equal(s.meta[0].http_uri[TW_META_URI - 2], 'a');
    assert_int_equal(strlen(s.meta[0].http_host), 248);
    assert_int_equal(strlen(s.meta[0].http_ua), TW_META_NAME - 1);
    assert_string_equal(s.meta[0].dns_query, "");
    /* Every flow ends after its timeout; a DNS flow then gets a fresh block. */
    qn = dns_query(q, sizeof(q), "evil.example");
    udp_frame(&f, false, IP_C, IP_N, 40001, 53, q, qn);
    feed(h, &f, 100000, 4);
    assert_int_equal(s.n_flows, 1);
    assert_int_equal(s.n_meta, 2);
    assert_int_equal(s.meta[1].app, TW_APP_DNS);
    assert_string_equal(s.meta[1].dns_query, "evil.example");
    assert_string_equal(s.meta[1].http_method, "");
    assert_string_equal(s.meta[1].http_uri, "");
    assert_string_equal(s.meta[1].http_ua, "");
    assert_int_equal(s.n_alerts, 1);
    assert_int_equal(s.alerts[0].indicator, 3);
    assert_string_equal(s.alerts[0].field, "dns.query");
    tw_hunt_free(h);
    tw_index_free(idx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hunt_one_alert_per_flow_and_indicator),
        cmocka_unit_test(hunt_tunnel_addresses_match_once_per_flow),
        cmocka_unit_test(hunt_validity_is_checked_on_every_packet),
        cmocka_unit_test(hunt_metadata_strings_keep_their_bounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
