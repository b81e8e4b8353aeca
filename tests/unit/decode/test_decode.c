/*
 * test_decode.c: the packet decoder on hand-made packets: every link type,
 * every encapsulation alone and nested, the summary fields (inner_ip, l4,
 * payload, tunnel_hash) and every malformed variant, including a sweep over
 * each truncation point of each packet.
 */
#include <string.h>

#include "test_decode_build.h"
#include "tidewatch/decode.h"
#include "tidewatch/err.h"
#include "tw_test.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* Ethernet + IPv4 10.0.0.1 -> 10.0.0.2 + TCP 1234 -> 80 SYN + 4 bytes "GET ". */
static const uint8_t eth_ipv4_tcp[] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, /* MACs */
    0x08, 0x00,                                                             /* IPv4 */
    0x45, 0x00, 0x00, 0x2c, 0x00, 0x01, 0x40, 0x00, /* v4 ihl 5, len 44, id 1, DF */
    0x40, 0x06, 0x00, 0x00,                         /* TTL 64, TCP, checksum */
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, /* 10.0.0.1 -> 10.0.0.2 */
    0x04, 0xd2, 0x00, 0x50,                         /* 1234 -> 80 */
    0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, /* seq 100, ack 0 */
    0x50, 0x02, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, /* doff 5, SYN, window */
    'G', 'E', 'T', ' ', 0x00, 0x00 /* Ethernet padding past the IPv4 total length */
};

/* Linux cooked v1 + IPv4 192.0.2.1 -> 192.0.2.2 + UDP 53 -> 53, 0 bytes of payload. */
static const uint8_t sll_ipv4_udp[] = {
    0x00, 0x00, 0x00, 0x01, 0x00, 0x06,             /* to us, ARPHRD_ETHER, addr len 6 */
    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x00, 0x00, /* address */
    0x08, 0x00,                                     /* IPv4 */
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x02, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, /* len 28, UDP */
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,                         /* addresses */
    0x00, 0x35, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00                          /* 53 -> 53, len 8 */
};

/* Linux cooked v2 + IPv6 2001:db8::1 -> 2001:db8::2 + ICMPv6 echo request. */
static const uint8_t sll2_ipv6_icmp6[] = {
    0x86, 0xdd, 0x00, 0x00,                         /* IPv6, reserved */
    0x00, 0x00, 0x00, 0x02,                         /* ifindex 2 */
    0x00, 0x01, 0x00, 0x06,                         /* ARPHRD_ETHER, host, addr len 6 */
    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x00, 0x00, /* address */
    0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x3a, 0x40, /* v6, plen 8, ICMPv6, hop 64 */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, /* src */
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, /* dst */
    0x80, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01                 /* echo request id 1 seq 1 */
};

/* Raw IPv4 10.0.0.1 -> 10.0.0.2 + ICMP echo request (type 8 code 0), 8 bytes. */
static const uint8_t raw_ipv4_icmp[] = {
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x03, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00, /* len 28, ICMP */
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,                         /* addresses */
    0x08, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01                          /* echo */
};

/* Raw IPv4 + SCTP 7 -> 7, verification tag 0, checksum 0, no chunks. */
static const uint8_t raw_ipv4_sctp[] = {
    0x45, 0x00, 0x00, 0x20, 0x00, 0x04, 0x00, 0x00, 0x40, 0x84, 0x00, 0x00, /* len 32, SCTP */
    0xc0, 0xa8, 0xaa, 0x38, 0xc0, 0xa8, 0xaa, 0x08, /* 192.168.170.56 -> .8 */
    0x00, 0x07, 0x00, 0x07, 0, 0, 0, 0, 0, 0, 0, 0  /* ports 7 -> 7 */
};

static struct tw_decoder *new_decoder(void)
{
    struct tw_decoder *d = tw_decoder_new(NULL);
    assert_non_null(d);
    return d;
}

static int decode(struct tw_decoder *d, struct tw_packet *p, const uint8_t *b, size_t n,
        uint32_t lt, const char *kinds)
{
    char buf[256];
    int rc;

    pb_packet(p, b, n, lt);
    rc = tw_decode(d, p);
    assert_string_equal(pb_kinds(p, buf, sizeof(buf)), kinds);
    return rc;
}

/*
 * Every proper prefix of a well-formed packet whose last byte belongs to an IP
 * datagram must raise an event, and the layers decoded from it must be a
 * prefix of the full packet's layers.
 */
static void sweep_truncations(const uint8_t *b, size_t n, uint32_t lt)
{
    struct tw_decoder *d = new_decoder();
    struct tw_packet full, p;
    size_t end = n;

    pb_packet(&full, b, n, lt);
    assert_int_equal(tw_decode(d, &full), TW_DECODE_OK);
    assert_int_equal(full.event, TW_EV_NONE);
    while (end > 0 && b == eth_ipv4_tcp && end > sizeof(eth_ipv4_tcp) - 2)
        end--; /* the padding is not part of the datagram */
    for (size_t len = 0; len < end; len++) {
        uint8_t *copy = test_malloc(len ? len : 1);
        memcpy(copy, b, len);
        pb_packet(&p, copy, len, lt);
        assert_int_equal(tw_decode(d, &p), TW_DECODE_OK);
        assert_int_not_equal(p.event, TW_EV_NONE);
        assert_true(p.n_layers <= full.n_layers);
        for (unsigned i = 0; i < p.n_layers; i++)
            assert_int_equal(p.layers[i].kind, full.layers[i].kind);
        test_free(copy);
    }
    tw_decoder_free(d);
}

/* ==== Link layers ==== */

static void decode_eth_ipv4_tcp(void **state)
{
    struct tw_decoder *d = new_decoder();
    struct tw_packet p;
    const struct tw_layer *t;

    (void)state;
    assert_int_equal(
            decode(d, &p, eth_ipv4_tcp, sizeof(eth_ipv4_tcp), TW_LINK_ETHERNET, "eth,ipv4,tcp"),
            TW_DECODE_OK);
    assert_int_equal(p.event, TW_EV_NONE);
    assert_int_equal(p.inner_ip, 1);
    assert_int_equal(p.l4, 2);
    assert_int_equal(p.tunnel_hash, 0);
    assert_int_equal(p.layers[1].u.ip.src.family, 4);
    assert_memory_equal(p.layers[1].u.ip.dst.bytes, "\x0a\x00\x00\x02", 4);
    assert_int_equal(p.layers[1].u.ip.proto, 6);
    t = &p.layers[2];
    assert_int_equal(t->u.l4.sport, 1234);
    assert_int_equal(t->u.l4.dport, 80);
    assert_int_equal(t->u.l4.tcp_flags, 0x02);
    assert_int_equal(t->u.l4.seq, 100);
    assert_int_equal(t->offset, 34);
    assert_int_equal(p.payload_len, 4); /* padding excluded */
    assert_memory_equal(p.payload, "GET ", 4);
    assert_int_equal(tw_decoder_events(d)[TW_EV_NONE], 1);
    tw_decoder_free(d);
}

static void decode_eth_8023_length_stops(void **state)
{
    /* 802.3: length 3, then LLC DSAP/SSAP 0x42 (STP), control 0x03. */
    static const uint8_t stp[] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x00, 0x66, 0x77, 0x88, 0x99, 0xaa,
        0xbb, 0x00, 0x03, 0x42, 0x42, 0x03, 0x00, 0x00 };
    struct tw_decoder *d = new_decoder();
    struct tw_packet p;

    (void)state;
    assert_int_equal(decode(d, &p, stp, sizeof(stp), TW_LINK_ETHERNET, "eth"), TW_DECODE_OK);
    assert_int_equal(p.event, TW_EV_NONE);
    assert_int_equal(p.payload_len, 3);
    assert_int_equal(p.inner_ip, -1);
    tw_decoder_free(d);
}

static void decode_sll_sll2_raw(void **state)
{
    struct tw_decoder *d = new_decoder();
    struct tw_packet p;

    (void)state;
    decode(d, &p, sll_ipv4_udp, sizeof(sll_ipv4_udp), TW_LINK_SLL, "sll,ipv4,udp");
    assert_int_equal(p.layers[2].u.l4.dport, 53);
    assert_int_equal(p.payload_len, 0);
    decode(d, &p, sll2_ipv6_icmp6, sizeof(sll2_ipv6_icmp6), TW_LINK_SLL2, "sll,ipv6,icmpv6");
    assert_int_equal(p.layers[2].u.icmp.type, 128);
    assert_int_equal(p.layers[1].u.ip.proto, 58);
    decode(d, &p, raw_ipv4_icmp, sizeof(raw_ipv4_icmp), TW_LINK_RAW, "ipv4,icmp");
    decode(d, &p, raw_ipv4_icmp, sizeof(raw_ipv4_icmp), TW_LINK_IPV4, "ipv4,icmp");
    decode(d, &p, sll2_ipv6_icmp6 + 20, sizeof(sll2_ipv6_icmp6) - 20, TW_LINK_RAW, "ipv6,icmpv6");
    decode(d, &p, sll2_ipv6_icmp6 + 20, sizeof(sll2_ipv6_icmp6) - 20, TW_LINK_IPV6, "ipv6,icmpv6");
    /* IPv6 bytes on the IPv4 link type. */
    decode(d, &p, sll2_ipv6_icmp6 + 20, sizeof(sll2_ipv6_icmp6) - 20, TW_LINK_IPV4, "");
    assert_int_equal(p.event, TW_EV_IPV4_BAD_VERSION);
    decode(d, &p, raw_ipv4_sctp, sizeof(raw_ipv4_sctp), TW_LINK_RAW, "ipv4,sctp");
    assert_int_equal(p.layers[1].u.l4.sport, 7);
    assert_int_equal(p.layers[1].u.l4.dport, 7);
    /* Raw link whose first nibble is 5. */
    decode(d, &p, (const uint8_t *)"\x50\x00", 2, TW_LINK_RAW, "");
    assert_int_equal(p.event, TW_EV_RAW_BAD_VERSION);
    tw_decoder_free(d);
}

static void decode_null_and_loop(void **state)
{
    struct tw_decoder *d = new_decoder();
    struct tw_packet p;
    uint8_t b[4 + sizeof(sll2_ipv6_icmp6) - 20];
    static const uint8_t fams[][4] = {
        { 24, 0, 0, 0 }, /* AF_INET6 NetBSD, little-endian host */
        { 28, 0, 0, 0 }, /* FreeBSD */
        { 0, 0, 0, 30 }, /* macOS, big-endian host */
    };

    (void)state;
    memcpy(b + 4, sll2_ipv6_icmp6 + 20, sizeof(b) - 4);
    for (size_t i = 0; i < TW_ARRAY_LEN(fams); i++) {
        memcpy(b, fams[i], 4);
        decode(d, &p, b, sizeof(b), TW_LINK_NULL, "null,ipv6,icmpv6");
    }
    memcpy(b, "\x00\x00\x00\x18", 4); /* DLT_LOOP: network order 24 */
    decode(d, &p, b, sizeof(b), TW_LINK_LOOP, "null,ipv6,icmpv6");
    memcpy(b, "\x18\x00\x00\x00", 4); /* little-endian 24 is not valid for DLT_LOOP */
    decode(d, &p, b, sizeof(b), TW_LINK_LOOP, "null");
    assert_int_equal(p.event, TW_EV_NULL_UNKNOWN_FAMILY);
    {
        uint8_t v4[4 + sizeof(raw_ipv4_icmp)] = { 2, 0, 0, 0 }; /* AF_INET, little-endian */
        memcpy(v4 + 4, raw_ipv4_icmp, sizeof(raw_ipv4_icmp));
        decode(d, &p, v4, sizeof(v4), TW_LINK_NULL, "null,ipv4,icmp");
    }
    decode(d, &p, b, 3, TW_LINK_NULL, "");
    assert_int_equal(p.event, TW_EV_NULL_TRUNC);
    tw_decoder_free(d);
}

static void decode_unknown_link_and_bad_args(void **state)
{
    struct tw_decoder *d = new_decoder();
    struct tw_packet p;

    (void)state;
    decode(d, &p, eth_ipv4_tcp, sizeof(eth_ipv4_tcp), 147, "");
    assert_int_equal(p.event, TW_EV_LINK_UNKNOWN);
    assert_int_equal(tw_decoder_events(d)[TW_EV_LINK_UNKNOWN], 1);
    assert_int_equal(tw_decode(NULL, &p), TW_EINVAL);
    assert_int_equal(tw_decode(d, NULL), TW_EINVAL);
    pb_packet(&p, NULL, 10, TW_LINK_ETHERNET);
    assert_int_equal(tw_decode(d, &p), TW_EINVAL);
    pb_packet(&p, NULL, 0, TW_LINK_ETHERNET);
    assert_int_equal(tw_decode(d, &p), TW_DECODE_OK);
    assert_int_equal(p.event, TW_EV_ETH_TRUNC);
    tw_decoder_free(NULL);
    tw_decoder_free(d);
}

static void decode_event_and_kind_names(void **state)
{
    (void)state;
    assert_string_equal(tw_decode_event_name(TW_EV_IPV4_TRUNC_HEADER), "ipv4.trunc_header");
    assert_string_equal(tw_decode_event_name(TW_EV_GRE_BAD_VERSION), "gre.wrong_version");
    assert_string_equal(tw_decode_event_name(TW_EV_COUNT), "unknown");
    for (unsigned i = 0; i < TW_EV_COUNT; i++)
        assert_string_not_equal(tw_decode_event_name(i), "unknown");
    for (unsigned i = 0; i < TW_L_KIND_COUNT; i++)
        assert_string_not_equal(tw_layer_kind_name(i), "unknown");
    assert_string_equal(tw_layer_kind_name(TW_L_KIND_COUNT), "unknown");
}

/* ==== Layer 2 ==== */

static void decode_vlan_qinq(void **state)
{
    struct tw_decoder *d = new_decoder();
    struct tw_packet p;
    struct pb pb = { 0 };
    static const unsigned tpids[] = { 0x88a8, 0x9100 };

    (void)state;
    /* 802.1Q VLAN 100 + IPv4 + UDP 1000 -> 53. */
    pb_eth(&pb, 0x8100);
    pb_vlan(&pb, 0x2000 | 100, 0x0800); /* PCP 1 */
    pb_ipv4(&pb, 17, IP(10, 0, 0, 1), IP(10, 0, 0, 2));
    pb_udp(&pb, 1000, 53);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,vlan,ipv4,udp");
    assert_int_equal(p.layers[1].u.vlan.vid, 100);
    assert_int_equal(p.layers[1].u.vlan.pcp, 1);
    assert_int_equal(p.layers[1].u.vlan.tpid, 0x8100);
    assert_int_not_equal(p.tunnel_hash, 0); /* VLAN ids key flows apart */
    for (size_t i = 0; i < TW_ARRAY_LEN(tpids); i++) {
        /* QinQ: outer tag 200 with the service TPID, inner 802.1Q tag 300. */
        memset(&pb, 0, sizeof(pb));
        pb_eth(&pb, tpids[i]);
        pb_vlan(&pb, 200, 0x8100);
        pb_vlan(&pb, 300, 0x0800);
        pb_ipv4(&pb, 17, IP(10, 0, 0, 1), IP(10, 0, 0, 2));
        pb_udp(&pb, 1000, 53);
        pb_done(&pb);
        decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,vlan,vlan,ipv4,udp");
        assert_int_equal(p.layers[1].u.vlan.tpid, tpids[i]);
        assert_int_equal(p.layers[1].u.vlan.vid, 200);
        assert_int_equal(p.layers[2].u.vlan.vid, 300);
        assert_int_equal(p.inner_ip, 3);
        assert_int_equal(p.l4, 4);
        sweep_truncations(pb.b, pb.n, TW_LINK_ETHERNET);
    }
    tw_decoder_free(d);
}

static void decode_mpls_payloads(void **state)
{
    struct tw_decoder *d = new_decoder();
    struct tw_packet p;
    struct pb pb = { 0 };

    (void)state;
    /* Two labels (1000, 2000 bottom) + IPv4 + TCP. */
    pb_eth(&pb, 0x8847);
    pb_mpls(&pb, 1000, 0);
    pb_mpls(&pb, 2000, 1);
    pb_ipv4(&pb, 6, IP(10, 0, 0, 1), IP(10, 0, 0, 2));
    pb_tcp(&pb, 1, 2, 0x10);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,mpls,mpls,ipv4,tcp");
    assert_int_equal(p.layers[1].u.mpls.label, 1000);
    assert_int_equal(p.layers[1].u.mpls.bos, 0);
    assert_int_equal(p.layers[2].u.mpls.label, 2000);
    assert_int_equal(p.layers[2].u.mpls.bos, 1);
    assert_int_equal(p.layers[2].u.mpls.ttl, 64);
    sweep_truncations(pb.b, pb.n, TW_LINK_ETHERNET);

    /* Pseudowire with a zero control word: label 16 + CW 00000000 + Ethernet + IPv6. */
    memset(&pb, 0, sizeof(pb));
    pb_eth(&pb, 0x8847);
    pb_mpls(&pb, 16, 1);
    pb_u32(&pb, 0);
    pb_eth(&pb, 0x86dd);
    pb_ipv6(&pb, 17, 1, 2);
    pb_udp(&pb, 5, 6);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,mpls,eth,ipv6,udp");
    assert_int_equal(p.layers[2].offset, 22);

    /* Pseudowire without control word: the inner destination MAC starts with 0x52. */
    memset(&pb, 0, sizeof(pb));
    pb_eth(&pb, 0x8848);
    pb_mpls(&pb, 17, 1);
    pb_u16(&pb, 0x5211); /* inner dst MAC 52:11:22:33:44:55 */
    pb_u32(&pb, 0x22334455);
    pb_u32(&pb, 0x66778899);
    pb_u16(&pb, 0xaabb);
    pb_u16(&pb, 0x0800);
    pb_ipv4(&pb, 17, IP(10, 0, 0, 1), IP(10, 0, 0, 2));
    pb_udp(&pb, 5, 6);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,mpls,eth,ipv4,udp");
    assert_int_equal(p.layers[2].offset, 18);
    /* Same with dst MAC 00:11:..: first nibble 0 like a control word, but only the
     * no-control-word reading finds a known ethertype (0x0800). */
    pb.b[18] = 0x00;
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,mpls,eth,ipv4,udp");
    assert_int_equal(p.layers[2].offset, 18);

    /* IPv6 explicit null label (2) + IPv6. */
    memset(&pb, 0, sizeof(pb));
    pb_eth(&pb, 0x8847);
    pb_mpls(&pb, 2, 1);
    pb_ipv6(&pb, 59, 1, 2);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,mpls,ipv6");

    /* Bottom of stack with nothing after it, and a control word cut short. */
    decode(d, &p, pb.b, 18, TW_LINK_ETHERNET, "eth,mpls");
    assert_int_equal(p.event, TW_EV_IPV6_TRUNC_HEADER);
    memset(&pb, 0, sizeof(pb));
    pb_eth(&pb, 0x8847);
    pb_mpls(&pb, 16, 1);
    pb_u16(&pb, 0);
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,mpls");
    assert_int_equal(p.event, TW_EV_MPLS_BAD_CW);
    decode(d, &p, pb.b, 18, TW_LINK_ETHERNET, "eth,mpls");
    assert_int_equal(p.event, TW_EV_MPLS_TRUNC);
    decode(d, &p, pb.b, 16, TW_LINK_ETHERNET, "eth");
    assert_int_equal(p.event, TW_EV_MPLS_TRUNC);
    tw_decoder_free(d);
}

static void decode_pppoe_session(void **state)
{
    struct tw_decoder *d = new_decoder();
    struct tw_packet p;
    struct pb pb = { 0 };

    (void)state;
    /* PPPoE session 0x0011: ver/type 0x11, code 0, session, length, PPP 0x0021 + IPv4 + UDP. */
    pb_eth(&pb, 0x8864);
    pb_u16(&pb, 0x1100);
    pb_u16(&pb, 0x0011);
    pb_u16(&pb, 2 + 20 + 8);
    pb_u16(&pb, 0x0021);
    pb_ipv4(&pb, 17, IP(10, 0, 0, 1), IP(10, 0, 0, 2));
    pb_udp(&pb, 5, 6);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,pppoe,ipv4,udp");
    assert_int_equal(p.layers[1].u.pppoe.session, 0x11);
    sweep_truncations(pb.b, pb.n, TW_LINK_ETHERNET);

    pb.b[20] = 0x00; /* PPP 0x0057: IPv6 protocol, but IPv4 bytes */
    pb.b[21] = 0x57;
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,pppoe");
    assert_int_equal(p.event, TW_EV_IPV6_TRUNC_HEADER);
    pb.b[21] = 0x21;
    pb.b[20] = 0xc0; /* 0xc021 LCP: no IP, no event */
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,pppoe");
    assert_int_equal(p.event, TW_EV_NONE);
    pb.b[20] = 0x00;
    pb.b[14] = 0x12; /* version 1 type 2 */
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth");
    assert_int_equal(p.event, TW_EV_PPPOE_BAD_VERSION);
    pb.b[14] = 0x11;
    pb.b[19] = 0xff; /* length beyond the frame */
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth");
    assert_int_equal(p.event, TW_EV_PPPOE_BAD_LEN);
    tw_decoder_free(d);
}

/* ==== IP ==== */

static void decode_ipv4_options_and_malformed(void **state)
{
    struct tw_decoder *d = new_decoder();
    struct tw_packet p;
    /* Raw IPv4, IHL 7: options NOP, NOP, router alert (94 04 00 00), EOL pad; UDP 1 -> 2. */
    uint8_t b[] = {
        0x47, 0x00, 0x00, 0x24, 0x00, 0x05, 0x00, 0x00, 0x01, 0x11, 0x00, 0x00, /* len 36 */
        0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x01, 0x01, 0x94, 0x04, 0x00, 0x00, 0x00,
        0x00,                                          /* options */
        0x00, 0x01, 0x00, 0x02, 0x00, 0x08, 0x00, 0x00 /* UDP, len 8 */
    };

    (void)state;
    decode(d, &p, b, sizeof(b), TW_LINK_RAW, "ipv4,udp");
    assert_int_equal(p.event, TW_EV_NONE);
    assert_int_equal(p.layers[0].len, 28);
    sweep_truncations(b, sizeof(b), TW_LINK_RAW);
    b[23] = 0x09; /* router alert claims 9 bytes: runs out of the header, decoding goes on */
    decode(d, &p, b, sizeof(b), TW_LINK_RAW, "ipv4,udp");
    assert_int_equal(p.event, TW_EV_IPV4_OPT_BAD_LEN);
    b[23] = 0x01; /* length below 2 */
    decode(d, &p, b, sizeof(b), TW_LINK_RAW, "ipv4,udp");
    assert_int_equal(p.event, TW_EV_IPV4_OPT_BAD_LEN);
    b[23] = 0x04;
    b[0] = 0x44; /* IHL 4 */
    decode(d, &p, b, sizeof(b), TW_LINK_IPV4, "");
    assert_int_equal(p.event, TW_EV_IPV4_BAD_HLEN);
    b[0] = 0x4f; /* IHL 15 = 60 bytes > 36 captured */
    decode(d, &p, b, sizeof(b), TW_LINK_IPV4, "");
    assert_int_equal(p.event, TW_EV_IPV4_TRUNC_HEADER);
    b[0] = 0x47;
    b[3] = 0x10; /* total length 16 < IHL */
    decode(d, &p, b, sizeof(b), TW_LINK_IPV4, "");
    assert_int_equal(p.event, TW_EV_IPV4_BAD_TOTAL_LEN);
    b[3] = 0x40; /* total length 64 > 36 captured */
    decode(d, &p, b, sizeof(b), TW_LINK_IPV4, "");
    assert_int_equal(p.event, TW_EV_IPV4_TRUNC_PKT);
    b[3] = 0x24;
    b[0] = 0x67; /* version 6 on the IPv4 link */
    decode(d, &p, b, sizeof(b), TW_LINK_IPV4, "");
    assert_int_equal(p.event, TW_EV_IPV4_BAD_VERSION);
    b[0] = 0x47;
    b[33] = 0x07; /* UDP length 7 */
    decode(d, &p, b, sizeof(b), TW_LINK_IPV4, "ipv4");
    assert_int_equal(p.event, TW_EV_UDP_BAD_LEN);
    b[33] = 0x09; /* UDP length 9 > 8 available */
    decode(d, &p, b, sizeof(b), TW_LINK_IPV4, "ipv4");
    assert_int_equal(p.event, TW_EV_UDP_BAD_LEN);
    assert_int_equal(tw_decoder_events(d)[TW_EV_UDP_BAD_LEN], 2);
    tw_decoder_free(d);
}

static void decode_ipv6_extension_headers(void **state)
{
    struct tw_decoder *d = new_decoder();
    struct tw_packet p;
    struct pb pb = { 0 };

    (void)state;
    /* IPv6 + hop-by-hop (8) + routing (8) + AH (16) + destination options (8) + TCP. */
    pb_ipv6(&pb, 0, 1, 2);
    pb_u32(&pb, 0x2b000104); /* next routing, len 0, PadN 4 */
    pb_u32(&pb, 0);
    pb_u32(&pb, 0x33000000); /* routing: next AH (51), len 0, type 0, segments left 0 */
    pb_u32(&pb, 0);
    pb_u32(&pb, 0x3c020000); /* AH: next dstopts, len 2 (16 bytes), reserved */
    pb_u32(&pb, 0x00001000); /* SPI */
    pb_u32(&pb, 1);          /* sequence */
    pb_u32(&pb, 0);          /* ICV */
    pb_u32(&pb, 0x06000104); /* dstopts: next TCP, len 0, PadN */
    pb_u32(&pb, 0);
    pb_tcp(&pb, 443, 5555, 0x18);
    pb_payload(&pb, 3);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_RAW, "ipv6,tcp");
    assert_int_equal(p.event, TW_EV_NONE);
    assert_int_equal(p.layers[0].len, 40 + 8 + 8 + 16 + 8);
    assert_int_equal(p.layers[0].u.ip.proto, 6);
    assert_int_equal(p.layers[1].u.l4.sport, 443);
    assert_int_equal(p.payload_len, 3);
    sweep_truncations(pb.b, pb.n, TW_LINK_RAW);

    /* ESP stops the walk: the rest is opaque. */
    memset(&pb, 0, sizeof(pb));
    pb_ipv6(&pb, 50, 1, 2);
    pb_u32(&pb, 0x1000);
    pb_u32(&pb, 1);
    pb_payload(&pb, 16);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_IPV6, "ipv6");
    assert_int_equal(p.event, TW_EV_NONE);
    assert_int_equal(p.layers[0].u.ip.proto, 50);
    assert_int_equal(p.payload_len, 24);

    /* Seventeen destination options headers: the walk is bounded. */
    memset(&pb, 0, sizeof(pb));
    pb_ipv6(&pb, 60, 1, 2);
    for (int i = 0; i < 17; i++) {
        pb_u32(&pb, 0x3c000104);
        pb_u32(&pb, 0);
    }
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_IPV6, "ipv6");
    assert_int_equal(p.event, TW_EV_IPV6_EXT_TOO_MANY);

    /* Hop-by-hop header claiming 16 bytes with 8 present. */
    memset(&pb, 0, sizeof(pb));
    pb_ipv6(&pb, 0, 1, 2);
    pb_u32(&pb, 0x3b010104);
    pb_u32(&pb, 0);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_IPV6, "ipv6");
    assert_int_equal(p.event, TW_EV_IPV6_EXT_TRUNC);

    /* Payload length beyond the capture, and a wrong version. */
    pb.b[5] = 0x40;
    decode(d, &p, pb.b, pb.n, TW_LINK_IPV6, "");
    assert_int_equal(p.event, TW_EV_IPV6_TRUNC_PKT);
    pb.b[0] = 0x40;
    decode(d, &p, pb.b, pb.n, TW_LINK_IPV6, "");
    assert_int_equal(p.event, TW_EV_IPV6_BAD_VERSION);
    tw_decoder_free(d);
}

static void decode_ip_in_ip_four_ways(void **state)
{
    struct tw_decoder *d = new_decoder();
    struct tw_packet p;
    static const unsigned outer[] = { 4, 4, 6, 6 };
    static const unsigned inner[] = { 4, 6, 4, 6 };
    static const char *const kinds[] = { "ipv4,ipv4,tcp", "ipv4,ipv6,tcp", "ipv6,ipv4,tcp",
        "ipv6,ipv6,tcp" };

    (void)state;
    for (int i = 0; i < 4; i++) {
        struct pb pb = { 0 };
        unsigned proto = inner[i] == 4 ? 4 : 41;
        if (outer[i] == 4)
            pb_ipv4(&pb, proto, IP(10, 1, 0, 1), IP(10, 1, 0, 2));
        else
            pb_ipv6(&pb, proto, 0x7334, 0x7335);
        if (inner[i] == 4)
            pb_ipv4(&pb, 6, IP(10, 1, 0, 3), IP(10, 1, 0, 4));
        else
            pb_ipv6(&pb, 6, 0x8334, 0x8335);
        pb_tcp(&pb, 1, 2, 0x02);
        pb_done(&pb);
        decode(d, &p, pb.b, pb.n, TW_LINK_RAW, kinds[i]);
        assert_int_equal(p.inner_ip, 1);
        assert_int_equal(p.l4, 2);
        assert_int_not_equal(p.tunnel_hash, 0);
        sweep_truncations(pb.b, pb.n, TW_LINK_RAW);
    }
    tw_decoder_free(d);
}

/* ==== Tunnels ==== */

static void decode_gre_variants(void **state)
{
    struct tw_decoder *d = new_decoder();
    struct tw_packet p;
    struct pb pb = { 0 };

    (void)state;
    /* GRE with checksum, key 0x1234 and sequence 7, carrying IPv4 + ICMP. */
    pb_ipv4(&pb, 47, IP(192, 0, 2, 1), IP(192, 0, 2, 2));
    pb_gre(&pb, 0xb000, 0x0800, 0x1234, 7);
    pb_ipv4(&pb, 1, IP(10, 0, 0, 1), IP(10, 0, 0, 2));
    pb_u32(&pb, 0x08000000);
    pb_u32(&pb, 0x00010001);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_RAW, "ipv4,gre,ipv4,icmp");
    assert_int_equal(p.layers[1].len, 16);
    assert_true(p.layers[1].u.gre.has_key);
    assert_int_equal(p.layers[1].u.gre.key, 0x1234);
    assert_true(p.layers[1].u.gre.has_seq);
    assert_int_equal(p.layers[1].u.gre.seq, 7);
    assert_int_equal(p.layers[1].u.gre.proto, 0x0800);
    sweep_truncations(pb.b, pb.n, TW_LINK_RAW);

    pb.b[21] = 0x01; /* version 1 */
    decode(d, &p, pb.b, pb.n, TW_LINK_RAW, "ipv4");
    assert_int_equal(p.event, TW_EV_GRE_BAD_VERSION);
    pb.b[21] = 0x00;
    pb.b[20] = 0xf0; /* routing bit */
    decode(d, &p, pb.b, pb.n, TW_LINK_RAW, "ipv4");
    assert_int_equal(p.event, TW_EV_GRE_BAD_FLAGS);
    pb.b[20] = 0x00; /* no optional fields: the key bytes become the inner header */
    decode(d, &p, pb.b, pb.n, TW_LINK_RAW, "ipv4,gre");
    assert_int_equal(p.event, TW_EV_IPV4_BAD_VERSION);

    /* GRE transparent Ethernet bridging and GRE carrying MPLS. */
    memset(&pb, 0, sizeof(pb));
    pb_ipv4(&pb, 47, IP(192, 0, 2, 1), IP(192, 0, 2, 2));
    pb_gre(&pb, 0x2000, 0x6558, 42, 0);
    pb_eth(&pb, 0x0800);
    pb_ipv4(&pb, 17, IP(10, 0, 0, 1), IP(10, 0, 0, 2));
    pb_udp(&pb, 1, 2);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_RAW, "ipv4,gre,eth,ipv4,udp");
    memset(&pb, 0, sizeof(pb));
    pb_ipv4(&pb, 47, IP(192, 0, 2, 1), IP(192, 0, 2, 2));
    pb_gre(&pb, 0, 0x8847, 0, 0);
    pb_mpls(&pb, 100, 1);
    pb_ipv6(&pb, 17, 1, 2);
    pb_udp(&pb, 1, 2);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_RAW, "ipv4,gre,mpls,ipv6,udp");
    tw_decoder_free(d);
}

static void decode_erspan_types(void **state)
{
    struct tw_decoder *d = new_decoder();
    struct tw_decoder_config cfg;
    struct tw_packet p;
    struct pb pb = { 0 };

    (void)state;
    /* VLAN 10 + MPLS 500 + IPv4 + GRE(S) + ERSPAN II session 77 VLAN 23 + Eth + IPv4 + TCP. */
    pb_eth(&pb, 0x8100);
    pb_vlan(&pb, 10, 0x8847);
    pb_mpls(&pb, 500, 1);
    pb_ipv4(&pb, 47, IP(172, 16, 0, 1), IP(172, 16, 0, 2));
    pb_gre(&pb, 0x1000, 0x88be, 0, 99);
    pb_erspan2(&pb, 77, 23);
    pb_eth(&pb, 0x0800);
    pb_ipv4(&pb, 6, IP(23, 0, 0, 2), IP(23, 0, 0, 3));
    pb_tcp(&pb, 1000, 22, 0x12);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,vlan,mpls,ipv4,gre,erspan,eth,ipv4,tcp");
    assert_int_equal(p.layers[5].u.erspan.version, 1);
    assert_int_equal(p.layers[5].u.erspan.session, 77);
    assert_int_equal(p.layers[5].u.erspan.vlan, 23);
    assert_int_equal(p.inner_ip, 7);
    assert_int_equal(p.l4, 8);
    assert_int_equal(p.layers[8].u.l4.dport, 22);
    sweep_truncations(pb.b, pb.n, TW_LINK_ETHERNET);
    pb.b[50] = 0x20; /* ERSPAN version 2 under 0x88BE */
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,vlan,mpls,ipv4,gre");
    assert_int_equal(p.event, TW_EV_ERSPAN_BAD_VERSION);

    /* ERSPAN III with the platform subheader (O bit), frame type Ethernet. */
    memset(&pb, 0, sizeof(pb));
    pb_ipv4(&pb, 47, IP(172, 16, 0, 1), IP(172, 16, 0, 2));
    pb_gre(&pb, 0x1000, 0x22eb, 0, 1);
    pb_u16(&pb, 0x2000 | 5); /* version 2, VLAN 5 */
    pb_u16(&pb, 300);        /* session 300 */
    pb_u32(&pb, 0xdeadbeef); /* timestamp */
    pb_u16(&pb, 0);          /* SGT */
    pb_u16(&pb, 0x0001);     /* FT 0, O set */
    pb_u32(&pb, 0);          /* platform subheader */
    pb_u32(&pb, 0);
    pb_eth(&pb, 0x86dd);
    pb_ipv6(&pb, 58, 1, 2);
    pb_u32(&pb, 0x80000000);
    pb_u32(&pb, 0);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_RAW, "ipv4,gre,erspan,eth,ipv6,icmpv6");
    assert_int_equal(p.layers[2].len, 20);
    assert_int_equal(p.layers[2].u.erspan.version, 2);
    assert_int_equal(p.layers[2].u.erspan.session, 300);
    sweep_truncations(pb.b, pb.n, TW_LINK_RAW);

    /* ERSPAN type I: GRE 0x88BE without sequence, Ethernet straight after. */
    memset(&pb, 0, sizeof(pb));
    pb_ipv4(&pb, 47, IP(172, 16, 0, 1), IP(172, 16, 0, 2));
    pb_gre(&pb, 0, 0x88be, 0, 0);
    pb_eth(&pb, 0x0800);
    pb_ipv4(&pb, 1, IP(100, 95, 2, 201), IP(100, 95, 2, 1));
    pb_u32(&pb, 0x08000000);
    pb_u32(&pb, 0);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_RAW, "ipv4,gre,erspan,eth,ipv4,icmp");
    assert_int_equal(p.layers[2].u.erspan.version, 0);
    tw_decoder_free(d);
    tw_decoder_config_default(&cfg);
    cfg.erspan_type1 = false;
    d = tw_decoder_new(&cfg);
    assert_non_null(d);
    decode(d, &p, pb.b, pb.n, TW_LINK_RAW, "ipv4,gre");
    assert_int_equal(p.event, TW_EV_ERSPAN_TYPE1_OFF);
    tw_decoder_free(d);
}

static void decode_vxlan(void **state)
{
    struct tw_decoder *d = new_decoder();
    struct tw_decoder_config cfg;
    struct tw_packet p;
    struct pb pb = { 0 };

    (void)state;
    /* VXLAN inside IPv6: IPv6 + UDP -> 4789 + VNI 4096 + Eth + IPv4 + ICMP. */
    pb_ipv6(&pb, 17, 1, 2);
    pb_udp(&pb, 50000, 4789);
    pb_vxlan(&pb, 4096);
    pb_eth(&pb, 0x0800);
    pb_ipv4(&pb, 1, IP(10, 0, 0, 1), IP(10, 0, 0, 2));
    pb_u32(&pb, 0x08000000);
    pb_u32(&pb, 0);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_RAW, "ipv6,udp,vxlan,eth,ipv4,icmp");
    assert_int_equal(p.layers[2].u.vxlan.vni, 4096);
    assert_int_equal(p.inner_ip, 4);
    assert_int_equal(p.l4, 5);
    sweep_truncations(pb.b, pb.n, TW_LINK_RAW);
    pb.b[48] = 0x00; /* I flag clear: the UDP layer stays, no tunnel */
    decode(d, &p, pb.b, pb.n, TW_LINK_RAW, "ipv6,udp");
    assert_int_equal(p.event, TW_EV_VXLAN_BAD_FLAGS);
    assert_int_equal(p.inner_ip, 0);
    assert_int_equal(p.l4, 1);
    assert_int_equal(p.payload_len, pb.n - 48);
    pb.b[48] = 0x08;

    /* A configured port instead of 4789. */
    tw_decoder_config_default(&cfg);
    cfg.vxlan_port = 8472;
    tw_decoder_free(d);
    d = tw_decoder_new(&cfg);
    assert_non_null(d);
    decode(d, &p, pb.b, pb.n, TW_LINK_RAW, "ipv6,udp");
    pb.b[42] = 8472 >> 8;
    pb.b[43] = 8472 & 0xff;
    decode(d, &p, pb.b, pb.n, TW_LINK_RAW, "ipv6,udp,vxlan,eth,ipv4,icmp");
    tw_decoder_free(d);
}

static void decode_gtpu(void **state)
{
    struct tw_decoder *d = new_decoder();
    struct tw_packet p;
    struct pb pb = { 0 };
    uint32_t gtp;

    (void)state;
    /* VLAN 7 + IPv4 + UDP -> 2152 + GTP-U (E, PDU session container) TEID 0x1000 + IPv4 + UDP. */
    pb_eth(&pb, 0x8100);
    pb_vlan(&pb, 7, 0x0800);
    pb_ipv4(&pb, 17, IP(10, 10, 0, 1), IP(10, 10, 0, 2));
    pb_udp(&pb, 2152, 2152);
    gtp = pb.n;
    pb_gtpu(&pb, 0x1000, 1);
    pb_ipv4(&pb, 17, IP(100, 64, 0, 1), IP(8, 8, 8, 8));
    pb_udp(&pb, 40000, 53);
    pb_payload(&pb, 5);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,vlan,ipv4,udp,gtpu,ipv4,udp");
    assert_int_equal(p.layers[4].u.gtpu.teid, 0x1000);
    assert_int_equal(p.layers[4].u.gtpu.msg_type, 0xff);
    assert_int_equal(p.layers[4].len, 16);
    assert_int_equal(p.layers[6].u.l4.dport, 53);
    assert_int_equal(p.payload_len, 5);
    sweep_truncations(pb.b, pb.n, TW_LINK_ETHERNET);

    pb.b[gtp] = 0x50; /* version 2 */
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,vlan,ipv4,udp");
    assert_int_equal(p.event, TW_EV_GTPU_BAD_VERSION);
    pb.b[gtp] = 0x24; /* PT 0: GTP' */
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,vlan,ipv4,udp");
    assert_int_equal(p.event, TW_EV_GTPU_BAD_VERSION);
    pb.b[gtp] = 0x34;
    pb.b[gtp + 12] = 0; /* extension length 0 */
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,vlan,ipv4,udp,gtpu");
    assert_int_equal(p.event, TW_EV_GTPU_EXT_BAD_LEN);
    pb.b[gtp + 12] = 0x40; /* extension length 256 bytes: past the GTP length */
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,vlan,ipv4,udp,gtpu");
    assert_int_equal(p.event, TW_EV_GTPU_EXT_TRUNC);
    pb.b[gtp + 12] = 0x01;
    pb.b[gtp + 16] = 0x55; /* inner first nibble 5 */
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,vlan,ipv4,udp,gtpu");
    assert_int_equal(p.event, TW_EV_GTPU_BAD_INNER);
    pb.b[gtp + 16] = 0x45;
    pb.b[gtp + 2] = 0x7f; /* GTP length beyond the UDP payload */
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,vlan,ipv4,udp");
    assert_int_equal(p.event, TW_EV_GTPU_BAD_LEN);
    pb.b[gtp + 2] = 0x00;
    pb.b[gtp + 1] = 0x01; /* echo request: GTP layer, no user packet */
    decode(d, &p, pb.b, pb.n, TW_LINK_ETHERNET, "eth,vlan,ipv4,udp,gtpu");
    assert_int_equal(p.event, TW_EV_NONE);
    tw_decoder_free(d);
}

static void decode_icmp_sctp_truncated(void **state)
{
    struct tw_decoder *d = new_decoder();
    struct tw_packet p;
    uint8_t b[sizeof(raw_ipv4_icmp)];

    (void)state;
    sweep_truncations(raw_ipv4_icmp, sizeof(raw_ipv4_icmp), TW_LINK_RAW);
    sweep_truncations(raw_ipv4_sctp, sizeof(raw_ipv4_sctp), TW_LINK_RAW);
    sweep_truncations(sll_ipv4_udp, sizeof(sll_ipv4_udp), TW_LINK_SLL);
    sweep_truncations(sll2_ipv6_icmp6, sizeof(sll2_ipv6_icmp6), TW_LINK_SLL2);
    sweep_truncations(eth_ipv4_tcp, sizeof(eth_ipv4_tcp), TW_LINK_ETHERNET);
    /* The IP total length says 24: the ICMP header is cut inside the datagram. */
    memcpy(b, raw_ipv4_icmp, sizeof(b));
    b[3] = 24;
    decode(d, &p, b, sizeof(b), TW_LINK_RAW, "ipv4");
    assert_int_equal(p.event, TW_EV_ICMP_TRUNC);
    {
        uint8_t t[sizeof(eth_ipv4_tcp)];
        memcpy(t, eth_ipv4_tcp, sizeof(t));
        t[46] = 0x40; /* data offset 4 */
        decode(d, &p, t, sizeof(t), TW_LINK_ETHERNET, "eth,ipv4");
        assert_int_equal(p.event, TW_EV_TCP_BAD_HLEN);
        t[46] = 0x60; /* data offset 6: 24 bytes, 24 available (20 + 4 payload) */
        decode(d, &p, t, sizeof(t), TW_LINK_ETHERNET, "eth,ipv4,tcp");
        assert_int_equal(p.payload_len, 0);
        t[46] = 0x70; /* 28 bytes > 24 */
        decode(d, &p, t, sizeof(t), TW_LINK_ETHERNET, "eth,ipv4");
        assert_int_equal(p.event, TW_EV_TCP_TRUNC);
    }
    tw_decoder_free(d);
}

/* ==== Limits and the tunnel hash ==== */

static void decode_too_many_layers(void **state)
{
    struct tw_decoder *d = new_decoder();
    struct tw_packet p;
    struct pb pb = { 0 };

    (void)state;
    /* Eth + 20 VLAN tags + IPv4: the seventeenth layer is refused. */
    pb_eth(&pb, 0x8100);
    for (int i = 0; i < 20; i++)
        pb_vlan(&pb, (unsigned)i + 1, i == 19 ? 0x0800 : 0x8100);
    pb_ipv4(&pb, 17, IP(10, 0, 0, 1), IP(10, 0, 0, 2));
    pb_udp(&pb, 1, 2);
    pb_done(&pb);
    pb_packet(&p, pb.b, pb.n, TW_LINK_ETHERNET);
    assert_int_equal(tw_decode(d, &p), TW_DECODE_OK);
    assert_int_equal(p.n_layers, TW_MAX_LAYERS);
    assert_int_equal(p.event, TW_EV_TOO_MANY_LAYERS);
    assert_int_equal(p.inner_ip, -1);
    assert_int_equal(tw_decoder_events(d)[TW_EV_TOO_MANY_LAYERS], 1);
    tw_decoder_free(d);
}

/* VXLAN VNI vni between 192.0.2.a and 192.0.2.b, inner UDP 10.0.0.1:1000 -> 10.0.0.2:53. */
static uint32_t vxlan_hash(struct tw_decoder *d, uint32_t vni, unsigned a, unsigned b)
{
    struct pb pb = { 0 };
    struct tw_packet p;

    pb_ipv4(&pb, 17, IP(192, 0, 2, a), IP(192, 0, 2, b));
    pb_udp(&pb, 1000 + a, 4789);
    pb_vxlan(&pb, vni);
    pb_eth(&pb, 0x0800);
    pb_ipv4(&pb, 17, IP(10, 0, 0, 1), IP(10, 0, 0, 2));
    pb_udp(&pb, 1000, 53);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_RAW, "ipv4,udp,vxlan,eth,ipv4,udp");
    return p.tunnel_hash;
}

static uint32_t gtp_hash(struct tw_decoder *d, uint32_t teid)
{
    struct pb pb = { 0 };
    struct tw_packet p;

    pb_ipv4(&pb, 17, IP(10, 10, 0, 1), IP(10, 10, 0, 2));
    pb_udp(&pb, 2152, 2152);
    pb_gtpu(&pb, teid, 0);
    pb_ipv4(&pb, 17, IP(100, 64, 0, 1), IP(8, 8, 8, 8));
    pb_udp(&pb, 40000, 53);
    pb_done(&pb);
    decode(d, &p, pb.b, pb.n, TW_LINK_RAW, "ipv4,udp,gtpu,ipv4,udp");
    return p.tunnel_hash;
}

static void decode_tunnel_hash_keys_tunnels_apart(void **state)
{
    struct tw_decoder *d = new_decoder();
    struct tw_decoder_config cfg;
    uint32_t h1 = vxlan_hash(d, 100, 1, 2);

    (void)state;
    assert_int_not_equal(h1, 0);
    assert_int_equal(vxlan_hash(d, 100, 1, 2), h1);
    assert_int_equal(vxlan_hash(d, 100, 2, 1), h1); /* reverse direction, same tunnel */
    assert_int_not_equal(vxlan_hash(d, 101, 1, 2), h1);
    assert_int_not_equal(vxlan_hash(d, 100, 1, 3), h1);
    /* TEIDs differ per direction, so by default they are not in the hash. */
    assert_int_equal(gtp_hash(d, 1), gtp_hash(d, 2));
    tw_decoder_free(d);
    tw_decoder_config_default(&cfg);
    cfg.hash_directional_ids = true;
    d = tw_decoder_new(&cfg);
    assert_non_null(d);
    assert_int_not_equal(gtp_hash(d, 1), gtp_hash(d, 2));
    tw_decoder_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_eth_ipv4_tcp),
        cmocka_unit_test(decode_eth_8023_length_stops),
        cmocka_unit_test(decode_sll_sll2_raw),
        cmocka_unit_test(decode_null_and_loop),
        cmocka_unit_test(decode_unknown_link_and_bad_args),
        cmocka_unit_test(decode_event_and_kind_names),
        cmocka_unit_test(decode_vlan_qinq),
        cmocka_unit_test(decode_mpls_payloads),
        cmocka_unit_test(decode_pppoe_session),
        cmocka_unit_test(decode_ipv4_options_and_malformed),
        cmocka_unit_test(decode_ipv6_extension_headers),
        cmocka_unit_test(decode_ip_in_ip_four_ways),
        cmocka_unit_test(decode_gre_variants),
        cmocka_unit_test(decode_erspan_types),
        cmocka_unit_test(decode_vxlan),
        cmocka_unit_test(decode_gtpu),
        cmocka_unit_test(decode_icmp_sctp_truncated),
        cmocka_unit_test(decode_too_many_layers),
        cmocka_unit_test(decode_tunnel_hash_keys_tunnels_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
