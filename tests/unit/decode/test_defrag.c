/*
 * test_defrag.c: IPv4 and IPv6 reassembly in the decoder: fragments in order,
 * out of order, overlapping (first wins), duplicated, past the memory cap and
 * the tracker cap, timed out, too large, inside a tunnel, and turned off.
 */
#include <string.h>

#include "test_decode_build.h"
#include "tidewatch/decode.h"
#include "tw_test.h"

#define SEC 1000000000LL

/*
 * The datagram the tests cut up: UDP 1111 -> 2222, length 40, checksum 0, then
 * 32 bytes "0123456789abcdefghijklmnopqrstuv".
 */
static const uint8_t udp_dgram[40] = { 0x04, 0x57, 0x08, 0xae, 0x00, 0x28, 0x00, 0x00, '0', '1',
    '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k',
    'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v' };

/*
 * Writes a raw IPv4 fragment into out: 45 00 len, id, MF | offset/8, TTL 64,
 * UDP, checksum 0, 10.0.0.1 -> 10.0.0.2 (src last byte `src`), then data.
 */
static size_t frag4(uint8_t *out, uint16_t id, uint32_t off, int mf, const uint8_t *data,
        size_t len, uint8_t src)
{
    static const uint8_t hdr[20] = { 0x45, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11,
        0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02 };
    uint16_t fo = (uint16_t)((off / 8) | (mf ? 0x2000 : 0));

    memcpy(out, hdr, 20);
    out[2] = (uint8_t)((20 + len) >> 8);
    out[3] = (uint8_t)(20 + len);
    out[4] = (uint8_t)(id >> 8);
    out[5] = (uint8_t)id;
    out[6] = (uint8_t)(fo >> 8);
    out[7] = (uint8_t)fo;
    out[15] = src;
    memcpy(out + 20, data, len);
    return 20 + len;
}

/* Decodes a raw IPv4 fragment of udp_dgram at time t; returns the tw_decode result. */
static int feed4(struct tw_decoder *d, struct tw_packet *p, uint8_t *buf, uint16_t id, uint32_t off,
        size_t len, int mf, int64_t t)
{
    size_t n = frag4(buf, id, off, mf, udp_dgram + off, len, 1);
    pb_packet(p, buf, n, TW_LINK_RAW);
    p->ts_ns = t;
    return tw_decode(d, p);
}

static void check_udp_dgram(const struct tw_packet *p)
{
    assert_int_equal(p->n_layers, 2);
    assert_int_equal(p->layers[0].kind, TW_L_IPV4);
    assert_true(p->layers[0].u.ip.reassembled);
    assert_false(p->layers[0].u.ip.fragment);
    assert_int_equal(p->layers[1].kind, TW_L_UDP);
    assert_int_equal(p->layers[1].u.l4.sport, 1111);
    assert_int_equal(p->layers[1].u.l4.dport, 2222);
    assert_int_equal(p->payload_len, 32);
    assert_memory_equal(p->payload, udp_dgram + 8, 32);
    assert_int_equal(p->caplen, 60);
    assert_int_equal(p->data[2] << 8 | p->data[3], 60);
    assert_int_equal(p->data[6] & 0x3f, 0);
    assert_int_equal(p->l4, 1);
}

static void defrag_ipv4_in_order(void **state)
{
    struct tw_decoder *d = tw_decoder_new(NULL);
    struct tw_packet p;
    uint8_t b[3][64];

    (void)state;
    assert_non_null(d);
    assert_int_equal(feed4(d, &p, b[0], 7, 0, 16, 1, 0), TW_DECODE_HELD);
    assert_int_equal(p.n_layers, 1);
    assert_true(p.layers[0].u.ip.fragment);
    assert_int_equal(p.l4, -1);
    assert_int_equal(feed4(d, &p, b[1], 7, 16, 16, 1, 0), TW_DECODE_HELD);
    assert_int_equal(tw_decoder_defrag_trackers(d), 1);
    assert_int_equal(feed4(d, &p, b[2], 7, 32, 8, 0, 0), TW_DECODE_REASSEMBLED);
    check_udp_dgram(&p);
    assert_int_equal(p.event, 0);
    assert_int_equal(tw_decoder_defrag_trackers(d), 0);
    assert_int_equal(tw_decoder_defrag_bytes(d), 0);
    tw_decoder_free(d);
}

static void defrag_ipv4_out_of_order(void **state)
{
    struct tw_decoder *d = tw_decoder_new(NULL);
    struct tw_packet p;
    uint8_t b[3][64];

    (void)state;
    assert_non_null(d);
    assert_int_equal(feed4(d, &p, b[0], 8, 32, 8, 0, 0), TW_DECODE_HELD);
    assert_int_equal(feed4(d, &p, b[1], 8, 0, 16, 1, 0), TW_DECODE_HELD);
    assert_int_equal(feed4(d, &p, b[2], 8, 16, 16, 1, 0), TW_DECODE_REASSEMBLED);
    check_udp_dgram(&p);
    tw_decoder_free(d);
}

static void defrag_overlap_first_wins(void **state)
{
    struct tw_decoder *d = tw_decoder_new(NULL);
    struct tw_packet p;
    uint8_t b[4][64];
    uint8_t evil[16];
    size_t n;

    (void)state;
    assert_non_null(d);
    assert_int_equal(feed4(d, &p, b[0], 9, 0, 16, 1, 0), TW_DECODE_HELD);
    assert_int_equal(feed4(d, &p, b[1], 9, 16, 8, 1, 0), TW_DECODE_HELD);
    /* Offset 8, 16 bytes of 'X' over [8,24): all of it already held, and different. */
    memset(evil, 'X', sizeof(evil));
    n = frag4(b[2], 9, 8, 1, evil, sizeof(evil), 1);
    pb_packet(&p, b[2], n, TW_LINK_RAW);
    assert_int_equal(tw_decode(d, &p), TW_DECODE_HELD);
    assert_int_equal(p.event, TW_EV_FRAG_OVERLAP);
    /* Offset 16, 24 bytes: [16,24) held (same bytes), [24,40) new, last fragment. */
    assert_int_equal(feed4(d, &p, b[3], 9, 16, 24, 0, 0), TW_DECODE_REASSEMBLED);
    assert_int_equal(p.event, TW_EV_FRAG_DUPLICATE);
    check_udp_dgram(&p); /* no 'X' made it in */
    assert_int_equal(tw_decoder_events(d)[TW_EV_FRAG_OVERLAP], 1);
    tw_decoder_free(d);
}

static void defrag_duplicate_and_bad_fragments(void **state)
{
    struct tw_decoder *d = tw_decoder_new(NULL);
    struct tw_packet p;
    uint8_t b[64], big[64];
    size_t n;

    (void)state;
    assert_non_null(d);
    assert_int_equal(feed4(d, &p, b, 10, 0, 16, 1, 0), TW_DECODE_HELD);
    assert_int_equal(feed4(d, &p, b, 10, 0, 16, 1, 0), TW_DECODE_HELD);
    assert_int_equal(p.event, TW_EV_FRAG_DUPLICATE);
    /* A non-last fragment of 12 bytes (not a multiple of 8). */
    assert_int_equal(feed4(d, &p, b, 10, 16, 12, 1, 0), TW_DECODE_DROPPED);
    assert_int_equal(p.event, TW_EV_FRAG_BAD_LEN);
    /* Last fragment ending at 40, then another "last" ending at 32. */
    assert_int_equal(feed4(d, &p, b, 10, 32, 8, 0, 0), TW_DECODE_HELD);
    assert_int_equal(feed4(d, &p, b, 10, 24, 8, 0, 0), TW_DECODE_DROPPED);
    assert_int_equal(p.event, TW_EV_FRAG_BAD_END);
    /* A fragment at offset 65528 with 16 bytes: beyond 65535. */
    memset(big, 'B', sizeof(big));
    n = frag4(b, 11, 65528, 1, big, 16, 1);
    pb_packet(&p, b, n, TW_LINK_RAW);
    assert_int_equal(tw_decode(d, &p), TW_DECODE_DROPPED);
    assert_int_equal(p.event, TW_EV_FRAG_TOO_LARGE);
    tw_decoder_free(d);
}

static void defrag_memcap_and_tracker_cap(void **state)
{
    struct tw_decoder_config cfg;
    struct tw_decoder *d;
    struct tw_packet p;
    uint8_t b[64];

    (void)state;
    tw_decoder_config_default(&cfg);
    cfg.defrag_memcap = 300; /* one tracker and a little data */
    d = tw_decoder_new(&cfg);
    assert_non_null(d);
    assert_int_equal(feed4(d, &p, b, 12, 0, 16, 1, 0), TW_DECODE_HELD);
    assert_true(tw_decoder_defrag_bytes(d) <= 300);
    assert_int_equal(feed4(d, &p, b, 13, 0, 16, 1, 0), TW_DECODE_DROPPED);
    assert_int_equal(p.event, TW_EV_FRAG_MEMCAP);
    assert_int_equal(tw_decoder_events(d)[TW_EV_FRAG_MEMCAP], 1);
    assert_true(tw_decoder_defrag_bytes(d) <= 300);
    tw_decoder_free(d);

    tw_decoder_config_default(&cfg);
    cfg.defrag_max_trackers = 1;
    d = tw_decoder_new(&cfg);
    assert_non_null(d);
    assert_int_equal(feed4(d, &p, b, 14, 0, 16, 1, 0), TW_DECODE_HELD);
    assert_int_equal(feed4(d, &p, b, 15, 0, 16, 1, 0), TW_DECODE_DROPPED);
    assert_int_equal(p.event, TW_EV_FRAG_MAX_TRACKERS);
    /* The first datagram still completes. */
    assert_int_equal(feed4(d, &p, b, 14, 16, 16, 1, 0), TW_DECODE_HELD);
    assert_int_equal(feed4(d, &p, b, 14, 32, 8, 0, 0), TW_DECODE_REASSEMBLED);
    check_udp_dgram(&p);
    tw_decoder_free(d);
}

static void defrag_timeout(void **state)
{
    struct tw_decoder *d = tw_decoder_new(NULL); /* 60 s */
    struct tw_packet p;
    uint8_t b[64];

    (void)state;
    assert_non_null(d);
    assert_int_equal(feed4(d, &p, b, 16, 0, 16, 1, 100 * SEC), TW_DECODE_HELD);
    assert_int_equal(feed4(d, &p, b, 16, 16, 16, 1, 159 * SEC), TW_DECODE_HELD);
    /* 60 s after the first fragment: the tracker expires, this one starts anew. */
    assert_int_equal(feed4(d, &p, b, 16, 32, 8, 0, 160 * SEC), TW_DECODE_HELD);
    assert_int_equal(tw_decoder_events(d)[TW_EV_FRAG_TIMEOUT], 1);
    assert_int_equal(tw_decoder_defrag_trackers(d), 1);
    tw_decoder_free(d); /* frees the held fragment */
}

static void defrag_off_decodes_fragments_plainly(void **state)
{
    struct tw_decoder_config cfg;
    struct tw_decoder *d;
    struct tw_packet p;
    uint8_t b[64];

    (void)state;
    tw_decoder_config_default(&cfg);
    cfg.defrag_memcap = 0;
    d = tw_decoder_new(&cfg);
    assert_non_null(d);
    assert_int_equal(feed4(d, &p, b, 17, 0, 16, 1, 0), TW_DECODE_OK);
    assert_int_equal(p.n_layers, 1);
    assert_true(p.layers[0].u.ip.fragment);
    assert_int_equal(p.payload_len, 16);
    tw_decoder_free(d);
}

/*
 * IPv6 fragment: 40-byte header (plen, next header 60), destination options
 * (8 bytes, next 44: the unfragmentable part), Fragment header (next UDP,
 * offset, M, id 0x11223344), then data.
 */
static size_t frag6(uint8_t *out, uint32_t off, int mf, const uint8_t *data, size_t len)
{
    struct pb pb = { 0 };

    pb_ipv6(&pb, 60, 1, 2);
    pb_u32(&pb, 0x2c000104); /* dstopts: next fragment, len 0, PadN 4 */
    pb_u32(&pb, 0);
    pb_u8(&pb, 17);
    pb_u8(&pb, 0);
    pb_u16(&pb, off | (mf ? 1u : 0u));
    pb_u32(&pb, 0x11223344);
    pb_bytes(&pb, data, len);
    pb_done(&pb);
    memcpy(out, pb.b, pb.n);
    return pb.n;
}

static void defrag_ipv6(void **state)
{
    struct tw_decoder *d = tw_decoder_new(NULL);
    struct tw_packet p;
    uint8_t b[2][128];
    size_t n;

    (void)state;
    assert_non_null(d);
    n = frag6(b[0], 24, 0, udp_dgram + 24, 16);
    pb_packet(&p, b[0], n, TW_LINK_IPV6);
    assert_int_equal(tw_decode(d, &p), TW_DECODE_HELD);
    assert_int_equal(p.n_layers, 1);
    assert_int_equal(p.layers[0].len, 48);
    assert_int_equal(p.layers[0].u.ip.proto, 17);
    assert_true(p.layers[0].u.ip.fragment);
    n = frag6(b[1], 0, 1, udp_dgram, 24);
    pb_packet(&p, b[1], n, TW_LINK_IPV6);
    assert_int_equal(tw_decode(d, &p), TW_DECODE_REASSEMBLED);
    assert_int_equal(p.event, 0);
    assert_int_equal(p.n_layers, 2);
    assert_true(p.layers[0].u.ip.reassembled);
    assert_int_equal(p.layers[0].len, 48);
    assert_int_equal(p.layers[0].u.ip.proto, 17);
    assert_int_equal(p.layers[1].u.l4.dport, 2222);
    assert_int_equal(p.caplen, 48 + 40);
    assert_int_equal(p.data[4] << 8 | p.data[5], 48); /* payload length */
    assert_int_equal(p.data[40], 17);                 /* dstopts now says UDP */
    assert_memory_equal(p.payload, udp_dgram + 8, 32);
    tw_decoder_free(d);
}

/*
 * Inner IPv4 fragments inside GTP-U: Ethernet + IPv4 10.10.0.1 -> 10.10.0.2 +
 * UDP 2152 + GTP-U TEID teid + the fragment. The outer layers are kept in the
 * reassembled packet; the same inner id in another tunnel is another datagram.
 */
static size_t gtp_frag(uint8_t *out, uint32_t teid, uint32_t off, size_t len, int mf)
{
    struct pb pb = { 0 };
    uint8_t f[64];
    size_t n = frag4(f, 99, off, mf, udp_dgram + off, len, 9);

    pb_eth(&pb, 0x0800);
    pb_ipv4(&pb, 17, 0x0a0a0001, 0x0a0a0002);
    pb_udp(&pb, 2152, 2152);
    pb_gtpu(&pb, teid, 0);
    pb_bytes(&pb, f, n);
    pb_done(&pb);
    memcpy(out, pb.b, pb.n);
    return pb.n;
}

static void defrag_inside_tunnel(void **state)
{
    struct tw_decoder *d = tw_decoder_new(NULL);
    struct tw_packet p;
    uint8_t b[3][160];
    size_t n;

    (void)state;
    assert_non_null(d);
    n = gtp_frag(b[0], 1, 0, 24, 1);
    pb_packet(&p, b[0], n, TW_LINK_ETHERNET);
    assert_int_equal(tw_decode(d, &p), TW_DECODE_HELD);
    assert_int_equal(p.n_layers, 5);
    /* Same id, same inner addresses, other TEID: not part of the first datagram. */
    n = gtp_frag(b[1], 2, 24, 16, 0);
    pb_packet(&p, b[1], n, TW_LINK_ETHERNET);
    assert_int_equal(tw_decode(d, &p), TW_DECODE_HELD);
    assert_int_equal(tw_decoder_defrag_trackers(d), 2);
    n = gtp_frag(b[2], 1, 24, 16, 0);
    pb_packet(&p, b[2], n, TW_LINK_ETHERNET);
    assert_int_equal(tw_decode(d, &p), TW_DECODE_REASSEMBLED);
    assert_int_equal(p.n_layers, 6);
    assert_int_equal(p.layers[3].kind, TW_L_GTPU);
    assert_int_equal(p.layers[3].u.gtpu.teid, 1);
    assert_int_equal(p.inner_ip, 4);
    assert_true(p.layers[4].u.ip.reassembled);
    assert_int_equal(p.layers[5].u.l4.dport, 2222);
    assert_memory_equal(p.payload, udp_dgram + 8, 32);
    assert_memory_equal(p.data, b[2], 14 + 20 + 8 + 8); /* outer headers kept */
    tw_decoder_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defrag_ipv4_in_order),
        cmocka_unit_test(defrag_ipv4_out_of_order),
        cmocka_unit_test(defrag_overlap_first_wins),
        cmocka_unit_test(defrag_duplicate_and_bad_fragments),
        cmocka_unit_test(defrag_memcap_and_tracker_cap),
        cmocka_unit_test(defrag_timeout),
        cmocka_unit_test(defrag_off_decodes_fragments_plainly),
        cmocka_unit_test(defrag_ipv6),
        cmocka_unit_test(defrag_inside_tunnel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
