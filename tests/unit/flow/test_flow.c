/*
 * test_flow.c: the flow table: key symmetry and direction, client detection,
 * tunnel separation, IPv4 and IPv6, ICMP keying, timeouts by packet time,
 * eviction at the cap, flush, TCP port reuse, the extra area, bad settings.
 * Packets are struct tw_packet filled by hand, as the decoder would leave them.
 */
#include <stdlib.h>
#include <string.h>

#include "tidewatch/alloc.h"
#include "tidewatch/err.h"
#include "tidewatch/flow.h"
#include "tw_test.h"

#define SEC INT64_C(1000000000)

/* TCP flag bits. */
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_ACK 0x10

#define IP_A 0x0a000001u /* 10.0.0.1 */
#define IP_B 0xc0000202u /* 192.0.2.2 */

/* What the end callback saw. */
struct ended {
    size_t n;
    uint64_t ids[64];
    int reasons[64];
    uint64_t pkts[64]; /* both directions */
};

static void on_end(struct tw_flow *f, enum tw_flow_end reason, void *arg)
{
    struct ended *e = arg;

    if (e == NULL)
        return;
    if (e->n < TW_ARRAY_LEN(e->ids)) {
        e->ids[e->n] = f->flow_id;
        e->reasons[e->n] = (int)reason;
        e->pkts[e->n] = f->pkts_toserver + f->pkts_toclient;
    }
    e->n++;
}

static struct tw_flow_table *new_table(uint32_t max_flows, uint32_t extra, struct ended *e)
{
    struct tw_flow_config cfg;
    struct tw_flow_table *t;

    tw_flow_config_init(&cfg);
    cfg.max_flows = max_flows;
    cfg.extra_size = extra;
    cfg.on_end = on_end;
    cfg.on_end_arg = e;
    assert_int_equal(tw_flow_table_new(&cfg, &t), TW_OK);
    return t;
}

/* An IPv4 packet: layer 0 IPv4, layer 1 the transport kind given. */
static void pkt_v4(struct tw_packet *p, uint32_t src, uint32_t dst, uint8_t l4kind, uint16_t sp,
        uint16_t dp, uint8_t tcp_flags, int64_t ts)
{
    memset(p, 0, sizeof(*p));
    p->ts_ns = ts;
    p->wirelen = 60;
    p->n_layers = 2;
    p->inner_ip = 0;
    p->l4 = 1;
    p->layers[0].kind = TW_L_IPV4;
    tw_ip_from_v4(&p->layers[0].u.ip.src, src);
    tw_ip_from_v4(&p->layers[0].u.ip.dst, dst);
    p->layers[0].u.ip.proto = l4kind == TW_L_TCP ? 6 : l4kind == TW_L_UDP ? 17 : 1;
    p->layers[1].kind = l4kind;
    p->layers[1].offset = 20;
    p->layers[1].u.l4.sport = sp;
    p->layers[1].u.l4.dport = dp;
    p->layers[1].u.l4.tcp_flags = tcp_flags;
}

static void tcp(struct tw_packet *p, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp,
        uint8_t flags, int64_t ts)
{
    pkt_v4(p, src, dst, TW_L_TCP, sp, dp, flags, ts);
}

static void udp(
        struct tw_packet *p, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp, int64_t ts)
{
    pkt_v4(p, src, dst, TW_L_UDP, sp, dp, 0, ts);
}

static struct tw_flow_lookup look(struct tw_flow_table *t, const struct tw_packet *p)
{
    struct tw_flow_lookup r;

    assert_int_equal(tw_flow_table_lookup(t, p, &r), TW_OK);
    assert_non_null(r.flow);
    return r;
}

static void flow_key_symmetry_and_direction(void **state)
{
    struct ended e = { 0 };
    struct tw_flow_table *t = new_table(16, 0, &e);
    struct tw_packet p;
    struct tw_flow_lookup r1, r2, r3;

    (void)state;
    tcp(&p, IP_A, IP_B, 40000, 443, F_SYN, 1 * SEC);
    r1 = look(t, &p);
    assert_true(r1.created);
    assert_true(r1.to_server);
    tcp(&p, IP_B, IP_A, 443, 40000, F_SYN | F_ACK, 2 * SEC);
    r2 = look(t, &p);
    assert_ptr_equal(r2.flow, r1.flow);
    assert_false(r2.created);
    assert_false(r2.to_server);
    tcp(&p, IP_A, IP_B, 40000, 443, F_ACK, 3 * SEC);
    r3 = look(t, &p);
    assert_ptr_equal(r3.flow, r1.flow);
    assert_true(r3.to_server);

    assert_int_equal(tw_ip_v4(&r1.flow->key.src), IP_A);
    assert_int_equal(r1.flow->key.sport, 40000);
    assert_int_equal(r1.flow->key.dport, 443);
    assert_int_equal(r1.flow->pkts_toserver, 2);
    assert_int_equal(r1.flow->pkts_toclient, 1);
    assert_int_equal(r1.flow->bytes_toserver, 120);
    assert_int_equal(r1.flow->first_ts_ns, 1 * SEC);
    assert_int_equal(r1.flow->last_ts_ns, 3 * SEC);
    assert_int_equal(r1.flow->flags, TW_FLOW_F_SYN | TW_FLOW_F_SYNACK);
    assert_int_equal(r1.flow->tcp_flags_ts, F_SYN | F_ACK);
    assert_int_equal(r1.flow->tcp_flags_tc, F_SYN | F_ACK);
    assert_int_equal(r1.flow->state, TW_FLOW_STATE_ESTABLISHED);
    assert_int_not_equal(r1.flow->flow_id, 0);
    assert_int_equal(tw_flow_table_count(t), 1);
    assert_string_equal(tw_flow_state_name(r1.flow->state), "established");

    assert_int_equal(tw_flow_table_flush(t), 1);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.reasons[0], TW_FLOW_END_FLUSH);
    assert_int_equal(e.pkts[0], 3);
    tw_flow_table_free(t);
}

static void flow_synack_first_makes_destination_the_client(void **state)
{
    struct ended e = { 0 };
    struct tw_flow_table *t = new_table(16, 0, &e);
    struct tw_packet p;
    struct tw_flow_lookup r;

    (void)state;
    tcp(&p, IP_B, IP_A, 22, 51000, F_SYN | F_ACK, 1 * SEC);
    r = look(t, &p);
    assert_true(r.created);
    assert_false(r.to_server);
    assert_int_equal(tw_ip_v4(&r.flow->key.src), IP_A);
    assert_int_equal(r.flow->key.sport, 51000);
    assert_int_equal(r.flow->key.dport, 22);
    assert_int_equal(r.flow->pkts_toclient, 1);
    assert_int_equal(r.flow->flags & TW_FLOW_F_MIDSTREAM, 0);

    /* Midstream: no SYN at all, the first packet's source is the client. */
    tcp(&p, IP_B, IP_A, 80, 52000, F_ACK, 2 * SEC);
    r = look(t, &p);
    assert_true(r.to_server);
    assert_int_equal(r.flow->flags & TW_FLOW_F_MIDSTREAM, TW_FLOW_F_MIDSTREAM);
    tw_flow_table_free(t);
}

static void flow_tunnels_separate_identical_inner_tuples(void **state)
{
    struct ended e = { 0 };
    struct tw_flow_table *t = new_table(16, 0, &e);
    struct tw_packet p;
    struct tw_flow_lookup plain, tun, back;

    (void)state;
    udp(&p, IP_A, IP_B, 5353, 53, 1 * SEC);
    plain = look(t, &p);
    p.tunnel_hash = 0xdeadbeef;
    tun = look(t, &p);
    assert_true(tun.created);
    assert_ptr_not_equal(tun.flow, plain.flow);
    assert_int_not_equal(tun.flow->flow_id, plain.flow->flow_id);
    assert_int_equal(tun.flow->key.tunnel_hash, 0xdeadbeef);
    /* The reply inside the same tunnel joins the tunnelled flow. */
    udp(&p, IP_B, IP_A, 53, 5353, 2 * SEC);
    p.tunnel_hash = 0xdeadbeef;
    back = look(t, &p);
    assert_ptr_equal(back.flow, tun.flow);
    assert_false(back.to_server);
    assert_int_equal(tw_flow_table_count(t), 2);
    tw_flow_table_free(t);
}

static void flow_ipv6_and_ipv4_are_distinct(void **state)
{
    struct ended e = { 0 };
    struct tw_flow_table *t = new_table(16, 0, &e);
    struct tw_packet p, q;
    struct tw_flow_lookup r1, r2, r4;
    struct tw_ip a6, b6;

    (void)state;
    assert_int_equal(tw_ip_parse(TW_STR("2001:db8::1"), &a6, NULL), TW_OK);
    assert_int_equal(tw_ip_parse(TW_STR("2001:db8::2"), &b6, NULL), TW_OK);
    udp(&p, 0, 0, 1000, 2000, 1 * SEC);
    p.layers[0].kind = TW_L_IPV6;
    p.layers[0].u.ip.src = a6;
    p.layers[0].u.ip.dst = b6;
    r1 = look(t, &p);
    assert_true(r1.created);
    q = p;
    q.layers[0].u.ip.src = b6;
    q.layers[0].u.ip.dst = a6;
    q.layers[1].u.l4.sport = 2000;
    q.layers[1].u.l4.dport = 1000;
    r2 = look(t, &q);
    assert_ptr_equal(r2.flow, r1.flow);
    assert_false(r2.to_server);
    assert_int_equal(r1.flow->key.src.family, 6);

    udp(&p, IP_A, IP_B, 1000, 2000, 2 * SEC);
    r4 = look(t, &p);
    assert_true(r4.created);
    assert_int_equal(tw_flow_table_count(t), 2);
    tw_flow_table_free(t);
}

static void flow_icmp_echo_pairs_by_identifier(void **state)
{
    /* Bytes from the ICMP header on: type, code, checksum, identifier, sequence. */
    static const uint8_t req[28] = { [20] = 8, [24] = 0x12, [25] = 0x34, [27] = 1 };
    static const uint8_t rep[28] = { [20] = 0, [24] = 0x12, [25] = 0x34, [27] = 1 };
    static const uint8_t other[28] = { [20] = 8, [24] = 0x56, [25] = 0x78, [27] = 1 };
    struct ended e = { 0 };
    struct tw_flow_table *t = new_table(16, 0, &e);
    struct tw_packet p;
    struct tw_flow_lookup r1, r2, r3;

    (void)state;
    pkt_v4(&p, IP_A, IP_B, TW_L_ICMP, 0, 0, 0, 1 * SEC);
    p.layers[1].u.icmp.type = 8;
    p.layers[1].len = 8;
    p.data = req;
    p.caplen = sizeof(req);
    r1 = look(t, &p);
    assert_int_equal(r1.flow->key.kind, TW_FLOW_KIND_ICMP_ECHO);
    assert_int_equal(r1.flow->key.sport, 0x1234);

    pkt_v4(&p, IP_B, IP_A, TW_L_ICMP, 0, 0, 0, 2 * SEC);
    p.layers[1].u.icmp.type = 0;
    p.layers[1].len = 8;
    p.data = rep;
    p.caplen = sizeof(rep);
    r2 = look(t, &p);
    assert_ptr_equal(r2.flow, r1.flow);
    assert_false(r2.to_server);

    pkt_v4(&p, IP_A, IP_B, TW_L_ICMP, 0, 0, 0, 3 * SEC);
    p.layers[1].u.icmp.type = 8;
    p.layers[1].len = 8;
    p.data = other;
    p.caplen = sizeof(other);
    r3 = look(t, &p);
    assert_true(r3.created);

    /* Destination unreachable: keyed by type and code. */
    pkt_v4(&p, IP_B, IP_A, TW_L_ICMP, 0, 0, 0, 4 * SEC);
    p.layers[1].u.icmp.type = 3;
    p.layers[1].u.icmp.code = 1;
    r3 = look(t, &p);
    assert_int_equal(r3.flow->key.kind, TW_FLOW_KIND_ICMP);
    assert_int_equal(r3.flow->key.sport, 0x0301);
    assert_int_equal(tw_flow_table_count(t), 3);
    tw_flow_table_free(t);
}

static void flow_timeouts_follow_packet_time(void **state)
{
    struct ended e = { 0 };
    struct tw_flow_table *t = new_table(16, 0, &e);
    struct tw_packet p;
    struct tw_flow_lookup u, k, r;
    uint64_t old_id;

    (void)state;
    udp(&p, IP_A, IP_B, 1111, 53, 1000 * SEC);
    u = look(t, &p);
    old_id = u.flow->flow_id;
    tcp(&p, IP_A, IP_B, 2222, 443, F_SYN, 1000 * SEC);
    look(t, &p);
    tcp(&p, IP_B, IP_A, 443, 2222, F_SYN | F_ACK, 1000 * SEC);
    k = look(t, &p);
    assert_int_equal(k.flow->state, TW_FLOW_STATE_ESTABLISHED);

    /* 120 s idle is not yet beyond the UDP timeout. */
    udp(&p, IP_A, IP_B, 9999, 53, 1120 * SEC);
    look(t, &p);
    assert_int_equal(e.n, 0);
    /* A packet of another flow at 1121 s + 1 ns times the first UDP flow out. */
    udp(&p, IP_A, IP_B, 9998, 53, 1120 * SEC + 1);
    look(t, &p);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.ids[0], old_id);
    assert_int_equal(e.reasons[0], TW_FLOW_END_TIMEOUT);

    /* The established TCP flow survives 2000 s of silence. */
    tcp(&p, IP_A, IP_B, 2222, 443, F_ACK, 3000 * SEC);
    r = look(t, &p);
    assert_false(r.created);
    assert_int_equal(r.flow->pkts_toserver, 2);
    /* Meanwhile the two other UDP flows timed out too. */
    assert_int_equal(e.n, 3);

    /* After RST the closed timeout (30 s) applies. */
    tcp(&p, IP_B, IP_A, 443, 2222, F_RST, 3001 * SEC);
    r = look(t, &p);
    assert_int_equal(r.flow->state, TW_FLOW_STATE_CLOSED);
    assert_int_equal(tw_flow_table_expire(t, 3031 * SEC, 100), 0);
    assert_int_equal(tw_flow_table_expire(t, 3031 * SEC + 1, 100), 1);
    assert_int_equal(e.n, 4);
    assert_int_equal(tw_flow_table_count(t), 0);
    /* The clock never goes back: an old packet is counted at the current clock. */
    udp(&p, IP_A, IP_B, 1, 2, 5 * SEC);
    r = look(t, &p);
    assert_int_equal(r.flow->first_ts_ns, 5 * SEC);
    assert_int_equal(tw_flow_table_expire(t, 3031 * SEC + 120 * SEC, 100), 0);
    tw_flow_table_free(t);
}

static void flow_idle_flow_restarts_on_next_packet(void **state)
{
    struct ended e = { 0 };
    struct tw_flow_config cfg;
    struct tw_flow_table *t;
    struct tw_packet p;
    struct tw_flow_lookup r1, r2;
    uint64_t id1;

    (void)state;
    tw_flow_config_init(&cfg);
    cfg.expire_budget = 0; /* nothing expires in the background */
    cfg.timeout_s[TW_FLOW_TO_UDP] = 10;
    cfg.on_end = on_end;
    cfg.on_end_arg = &e;
    assert_int_equal(tw_flow_table_new(&cfg, &t), TW_OK);
    udp(&p, IP_A, IP_B, 1, 2, 0);
    r1 = look(t, &p);
    id1 = r1.flow->flow_id;
    udp(&p, IP_B, IP_A, 2, 1, 11 * SEC);
    r2 = look(t, &p);
    assert_true(r2.created);
    assert_true(r2.to_server); /* a new flow: its first packet's source is the client */
    assert_int_not_equal(r2.flow->flow_id, id1);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.ids[0], id1);
    assert_int_equal(e.reasons[0], TW_FLOW_END_TIMEOUT);
    tw_flow_table_free(t);
}

static void flow_eviction_at_cap_calls_back_once_per_flow(void **state)
{
    struct ended e = { 0 };
    struct tw_flow_table *t = new_table(4, 0, &e);
    struct tw_packet p;
    struct tw_flow_stats st;
    uint64_t ids[10];

    (void)state;
    for (int i = 0; i < 10; i++) {
        struct tw_flow_lookup r;

        udp(&p, IP_A, IP_B, (uint16_t)(1000 + i), 53, (int64_t)i * SEC);
        r = look(t, &p);
        assert_true(r.created);
        ids[i] = r.flow->flow_id;
    }
    assert_int_equal(tw_flow_table_count(t), 4);
    assert_int_equal(e.n, 6);
    /* Oldest idle first: flows 0..5 went, in order. */
    for (int i = 0; i < 6; i++) {
        assert_int_equal(e.ids[i], ids[i]);
        assert_int_equal(e.reasons[i], TW_FLOW_END_EVICT);
    }
    /* Touching flow 6 makes flow 7 the oldest. */
    udp(&p, IP_B, IP_A, 53, 1006, 20 * SEC);
    look(t, &p);
    udp(&p, IP_A, IP_B, 2000, 53, 21 * SEC);
    look(t, &p);
    assert_int_equal(e.ids[6], ids[7]);
    assert_int_equal(tw_flow_table_flush(t), 4);
    assert_int_equal(e.n, 11);
    /* Every flow ended exactly once. */
    for (int i = 0; i < 10; i++) {
        int seen = 0;
        for (size_t j = 0; j < e.n; j++)
            seen += e.ids[j] == ids[i];
        assert_int_equal(seen, 1);
    }
    tw_flow_table_stats(t, &st);
    assert_int_equal(st.created, 11);
    assert_int_equal(st.evicted, 7);
    assert_int_equal(st.flushed, 4);
    assert_int_equal(st.active, 0);
    assert_int_equal(tw_flow_table_flush(t), 0);
    tw_flow_table_free(t);
}

static void flow_eviction_is_lru_across_classes(void **state)
{
    struct ended e = { 0 };
    struct tw_flow_table *t = new_table(2, 0, &e);
    struct tw_packet p;
    struct tw_flow_lookup est, u;

    (void)state;
    /* An established TCP flow started at 1 s ... */
    tcp(&p, IP_A, IP_B, 1, 80, F_SYN, 1 * SEC);
    est = look(t, &p);
    tcp(&p, IP_B, IP_A, 80, 1, F_SYN | F_ACK, 1 * SEC);
    look(t, &p);
    /* ... a UDP flow at 2 s, and the TCP flow touched again at 3 s. */
    udp(&p, IP_A, IP_B, 3, 53, 2 * SEC);
    u = look(t, &p);
    tcp(&p, IP_A, IP_B, 1, 80, F_ACK, 3 * SEC);
    look(t, &p);
    /* A third flow evicts the least recently touched one: the UDP flow. */
    udp(&p, IP_A, IP_B, 4, 53, 4 * SEC);
    look(t, &p);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.reasons[0], TW_FLOW_END_EVICT);
    assert_int_equal(e.pkts[0], 1);
    assert_int_equal(est.flow->key.sport, 1); /* still there */
    assert_int_equal(est.flow->pkts_toserver, 2);
    (void)u;
    tw_flow_table_free(t);
}

static void flow_syn_on_closed_flow_starts_a_new_one(void **state)
{
    struct ended e = { 0 };
    struct tw_flow_table *t = new_table(8, 0, &e);
    struct tw_packet p;
    struct tw_flow_lookup r1, r2;
    uint64_t id1;

    (void)state;
    tcp(&p, IP_A, IP_B, 3000, 80, F_SYN, 1 * SEC);
    r1 = look(t, &p);
    id1 = r1.flow->flow_id;
    tcp(&p, IP_A, IP_B, 3000, 80, F_FIN | F_ACK, 2 * SEC);
    look(t, &p);
    tcp(&p, IP_B, IP_A, 80, 3000, F_FIN | F_ACK, 2 * SEC);
    r1 = look(t, &p);
    assert_int_equal(r1.flow->state, TW_FLOW_STATE_CLOSED);
    tcp(&p, IP_A, IP_B, 3000, 80, F_SYN, 3 * SEC);
    r2 = look(t, &p);
    assert_true(r2.created);
    assert_int_not_equal(r2.flow->flow_id, id1);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.reasons[0], TW_FLOW_END_REUSE);
    assert_string_equal(tw_flow_end_name(TW_FLOW_END_REUSE), "reuse");
    tw_flow_table_free(t);
}

static void flow_extra_area_is_aligned_and_zeroed(void **state)
{
    struct ended e = { 0 };
    struct tw_flow_table *t = new_table(1, 40, &e);
    struct tw_packet p;
    struct tw_flow_lookup r;
    unsigned char *x;
    static const unsigned char zero[40];

    (void)state;
    udp(&p, IP_A, IP_B, 1, 2, 1 * SEC);
    r = look(t, &p);
    x = tw_flow_extra(r.flow);
    assert_int_equal((uintptr_t)x % TW_FLOW_EXTRA_ALIGN, 0);
    assert_memory_equal(x, zero, sizeof(zero));
    memset(x, 0xab, 40);
    r.flow->user = x;
    /* The next flow evicts this one and reuses the slot: area and user start clean. */
    udp(&p, IP_A, IP_B, 3, 4, 2 * SEC);
    r = look(t, &p);
    assert_true(r.created);
    assert_null(r.flow->user);
    assert_memory_equal(tw_flow_extra(r.flow), zero, sizeof(zero));
    assert_true(tw_flow_table_memory(t) >= TW_FLOW_EXTRA_OFFSET + 40);
    tw_flow_table_free(t);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

static void flow_ids_are_unique_and_json_safe(void **state)
{
    enum { N = 20000 };
    struct tw_flow_table *t = new_table(N, 0, NULL);
    uint64_t *ids = tw_calloc(N, sizeof(uint64_t));
    struct tw_packet p;

    (void)state;
    assert_non_null(ids);
    for (uint32_t i = 0; i < N; i++) {
        udp(&p, IP_A + i, IP_B, 1, 2, 1 * SEC);
        ids[i] = look(t, &p).flow->flow_id;
        assert_true(ids[i] > 0 && ids[i] < (UINT64_C(1) << 52));
    }
    qsort(ids, N, sizeof(uint64_t), cmp_u64);
    for (size_t i = 1; i < N; i++)
        assert_true(ids[i] != ids[i - 1]);
    tw_free(ids);
    tw_flow_table_free(t);
}

/* Records the flow_id and reason of every ended flow, any number of them. */
struct order {
    size_t n, cap;
    uint64_t *ids;
    int *reasons;
};

static void on_end_order(struct tw_flow *f, enum tw_flow_end reason, void *arg)
{
    struct order *o = arg;

    assert_true(o->n < o->cap);
    o->ids[o->n] = f->flow_id;
    o->reasons[o->n] = (int)reason;
    o->n++;
}

/* 3000 flow slots, expiry only on demand, and the order of ends recorded into o. */
static struct tw_flow_table *order_table(struct order *o)
{
    struct tw_flow_config cfg;
    struct tw_flow_table *t;

    tw_flow_config_init(&cfg);
    cfg.max_flows = 3000;
    cfg.expire_budget = 0;
    cfg.on_end = on_end_order;
    cfg.on_end_arg = o;
    assert_int_equal(tw_flow_table_new(&cfg, &t), TW_OK);
    return t;
}

/* A GRE packet (no transport layer: a flow of the "other" timeout class). */
static void gre(struct tw_packet *p, uint32_t src, uint32_t dst, int64_t ts)
{
    pkt_v4(p, src, dst, TW_L_NONE, 0, 0, 0, ts);
    p->layers[0].u.ip.proto = 47;
    p->n_layers = 1;
    p->l4 = -1;
}

/*
 * A mixed history, the same every time: new TCP, UDP and ICMP flows
 * (more than the table holds, so some are evicted), packets on earlier flows
 * (which stamp them without moving them in their lists), TCP handshakes,
 * payload, FINs and RSTs (which move flows between classes), and expiry on
 * demand every 200 steps (which times some out and requeues others).
 * Returns the clock at the end.
 */
static int64_t mixed_history(struct tw_flow_table *t)
{
    uint32_t rnd = 12345, n_flows = 0;
    int64_t now = 0;
    struct tw_packet p;

    for (int step = 0; step < 20000; step++) {
        uint32_t r, which, kind;
        uint16_t port;

        rnd = rnd * 1103515245u + 12345u;
        r = rnd >> 8;
        now += (int64_t)(r % 50) * (SEC / 100);
        which = n_flows > 0 && r % 3 != 0 ? (r >> 4) % n_flows : n_flows++;
        kind = which % 4;
        port = (uint16_t)(1024 + which % 60000);
        if (kind == 0 || kind == 1) {
            static const uint8_t flags[] = { F_SYN, F_SYN | F_ACK, F_ACK, F_ACK | F_FIN, F_RST };
            tcp(&p, IP_A + which / 60000, IP_B, port, 443, flags[(r >> 12) % 5], now);
            p.payload_len = (r >> 16) % 2 ? 100 : 0;
        } else if (kind == 2) {
            udp(&p, IP_A + which / 60000, IP_B, port, 53, now);
        } else {
            pkt_v4(&p, IP_A + which / 60000, IP_B, TW_L_ICMP, 0, 0, 0, now);
            p.layers[1].u.icmp.type = 3;
            p.layers[1].u.icmp.code = (uint8_t)(which % 16);
        }
        look(t, &p);
        if (step % 200 == 199)
            (void)tw_flow_table_expire(t, now, 16);
    }
    return now;
}

/*
 * A flush of many flows (which runs on dense copies of the lists rather than
 * the slots) ends them in exactly the order the table evicts them: the same
 * history in two tables, one flushed, the other made to evict every flow by
 * as many new flows just after it.
 */
static void flow_large_flush_in_eviction_order(void **state)
{
    struct order a = { 0, 40000, NULL, NULL }, b = { 0, 40000, NULL, NULL };
    struct tw_flow_table *ta, *tb;
    struct tw_packet p;
    size_t before_a, before_b, active;
    int64_t now;

    (void)state;
    a.ids = calloc(a.cap, sizeof(*a.ids));
    a.reasons = calloc(a.cap, sizeof(*a.reasons));
    b.ids = calloc(b.cap, sizeof(*b.ids));
    b.reasons = calloc(b.cap, sizeof(*b.reasons));
    assert_true(a.ids != NULL && a.reasons != NULL && b.ids != NULL && b.reasons != NULL);
    ta = order_table(&a);
    tb = order_table(&b);
    now = mixed_history(ta);
    assert_int_equal(mixed_history(tb), now);
    active = tw_flow_table_count(ta);
    assert_true(active >= 1024 && active < 3000);
    assert_int_equal(tw_flow_table_count(tb), active);
    before_a = a.n;
    before_b = b.n;
    assert_int_equal(before_a, before_b);
    assert_memory_equal(a.ids, b.ids, before_a * sizeof(*a.ids));

    assert_int_equal(tw_flow_table_flush(ta), active);
    assert_int_equal(tw_flow_table_count(ta), 0);
    /*
     * Free slots first (expiry left some), then one eviction per new flow.
     * The new flows are GRE, a class of their own, so that old flows requeued
     * during eviction never queue behind them.
     */
    for (size_t i = 0; i < 3000; i++) {
        gre(&p, 0xac100000u + (uint32_t)i, IP_B, now + 1 + (int64_t)i);
        assert_true(look(tb, &p).created);
    }
    assert_int_equal(b.n, before_b + active);
    assert_memory_equal(a.ids + before_a, b.ids + before_b, active * sizeof(*a.ids));
    assert_int_equal(a.reasons[before_a], TW_FLOW_END_FLUSH);
    assert_int_equal(b.reasons[before_b], TW_FLOW_END_EVICT);
    /* The flushed table works as new: flows start, are found again, and flush. */
    udp(&p, IP_A, IP_B, 1, 2, now + SEC);
    assert_true(look(ta, &p).created);
    udp(&p, IP_B, IP_A, 2, 1, now + 2 * SEC);
    assert_false(look(ta, &p).created);
    assert_int_equal(tw_flow_table_count(ta), 1);
    assert_int_equal(tw_flow_table_flush(ta), 1);
    tw_flow_table_free(ta);
    tw_flow_table_free(tb);
    free(a.ids);
    free(a.reasons);
    free(b.ids);
    free(b.reasons);
}

static void flow_rejects_bad_settings_and_packets(void **state)
{
    struct tw_flow_config cfg;
    struct tw_flow_table *t;
    struct tw_packet p;
    struct tw_flow_lookup r;

    (void)state;
    tw_flow_config_init(&cfg);
    cfg.max_flows = 0;
    assert_int_equal(tw_flow_table_new(&cfg, &t), TW_EINVAL);
    assert_null(t);
    cfg.max_flows = TW_FLOW_MAX_FLOWS + 1;
    assert_int_equal(tw_flow_table_new(&cfg, &t), TW_EINVAL);
    tw_flow_config_init(&cfg);
    cfg.extra_size = TW_FLOW_MAX_EXTRA + 1;
    assert_int_equal(tw_flow_table_new(&cfg, &t), TW_EINVAL);
    tw_flow_config_init(&cfg);
    cfg.timeout_s[TW_FLOW_TO_ICMP] = 0;
    assert_int_equal(tw_flow_table_new(&cfg, &t), TW_EINVAL);

    tw_flow_config_init(&cfg);
    tw_alloc_fail_after(1);
    assert_int_equal(tw_flow_table_new(&cfg, &t), TW_ENOMEM);
    tw_alloc_fail_reset();

    assert_int_equal(tw_flow_table_new(&cfg, &t), TW_OK);
    memset(&p, 0, sizeof(p));
    p.inner_ip = -1;
    p.l4 = -1;
    assert_int_equal(tw_flow_table_lookup(t, &p, &r), TW_EINVAL);
    assert_null(r.flow);
    /* inner_ip past n_layers, or pointing at a non-IP layer. */
    p.inner_ip = 3;
    assert_int_equal(tw_flow_table_lookup(t, &p, &r), TW_EINVAL);
    p.n_layers = 1;
    p.inner_ip = 0;
    p.layers[0].kind = TW_L_ETH;
    assert_int_equal(tw_flow_table_lookup(t, &p, &r), TW_EINVAL);
    /* An IP packet without transport (a fragment) still has a flow. */
    p.layers[0].kind = TW_L_IPV4;
    p.layers[0].u.ip.src.family = 4;
    p.layers[0].u.ip.dst.family = 4;
    p.layers[0].u.ip.proto = 50;
    assert_int_equal(tw_flow_table_lookup(t, &p, &r), TW_OK);
    assert_int_equal(r.flow->key.kind, TW_FLOW_KIND_NONE);
    assert_int_equal(tw_flow_table_count(t), 1);
    tw_flow_table_free(t);
    tw_flow_table_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flow_key_symmetry_and_direction),
        cmocka_unit_test(flow_synack_first_makes_destination_the_client),
        cmocka_unit_test(flow_tunnels_separate_identical_inner_tuples),
        cmocka_unit_test(flow_ipv6_and_ipv4_are_distinct),
        cmocka_unit_test(flow_icmp_echo_pairs_by_identifier),
        cmocka_unit_test(flow_timeouts_follow_packet_time),
        cmocka_unit_test(flow_idle_flow_restarts_on_next_packet),
        cmocka_unit_test(flow_eviction_at_cap_calls_back_once_per_flow),
        cmocka_unit_test(flow_eviction_is_lru_across_classes),
        cmocka_unit_test(flow_syn_on_closed_flow_starts_a_new_one),
        cmocka_unit_test(flow_extra_area_is_aligned_and_zeroed),
        cmocka_unit_test(flow_ids_are_unique_and_json_safe),
        cmocka_unit_test(flow_rejects_bad_settings_and_packets),
        cmocka_unit_test(flow_large_flush_in_eviction_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
