/*
 * test_decode_pcap.c: the decoder on real captures from suricata-verify
 * (../shared/data/pcap), checked against what each folder's test.yaml expects
 * Suricata to see: inner addresses under IP-in-IP, ERSPAN, VXLAN, GRE, PPPoE,
 * SLL2, SCTP, VLAN ids and reassembled fragments. Skipped visibly when the
 * shared data folder is absent.
 */
#include <string.h>

#include <pcap/pcap.h>

#include "tidewatch/addr.h"
#include "tidewatch/decode.h"
#include "tw_test.h"

/* What one capture decoded to. */
struct summary {
    unsigned n_pkts;
    unsigned n_event; /* packets with a decode event */
    unsigned n_reassembled;
    unsigned kind[TW_L_KIND_COUNT]; /* packets that have a layer of this kind */
    unsigned n_match;               /* packets matching the test's predicate */
};

typedef int match_fn(const struct tw_packet *p, int rc);

/* Formats the innermost IP layer's addresses as "src>dst". */
static const char *inner_pair(const struct tw_packet *p, char *out, size_t cap)
{
    char s[TW_IP_STRLEN], d[TW_IP_STRLEN];

    if (p->inner_ip < 0)
        return "";
    (void)tw_ip_format(&p->layers[p->inner_ip].u.ip.src, s);
    (void)tw_ip_format(&p->layers[p->inner_ip].u.ip.dst, d);
    (void)snprintf(out, cap, "%s>%s", s, d);
    return out;
}

static int run(const char *rel, match_fn *m, struct summary *s)
{
    const char *path = tw_test_shared(rel);
    char errbuf[PCAP_ERRBUF_SIZE];
    struct tw_decoder *d;
    struct pcap_pkthdr *h;
    const u_char *data;
    pcap_t *pc;

    memset(s, 0, sizeof(*s));
    if (path == NULL)
        return -1;
    pc = pcap_open_offline(path, errbuf);
    assert_non_null(pc);
    d = tw_decoder_new(NULL);
    assert_non_null(d);
    while (pcap_next_ex(pc, &h, &data) == 1) {
        struct tw_packet p;
        int rc;
        memset(&p, 0, sizeof(p));
        p.data = data;
        p.caplen = h->caplen;
        p.wirelen = h->len;
        p.linktype = (uint32_t)pcap_datalink(pc);
        p.ts_ns = (int64_t)h->ts.tv_sec * 1000000000 + (int64_t)h->ts.tv_usec * 1000;
        p.num = ++s->n_pkts;
        rc = tw_decode(d, &p);
        assert_true(rc >= 0);
        if (p.event != 0)
            s->n_event++;
        if (rc == TW_DECODE_REASSEMBLED)
            s->n_reassembled++;
        for (unsigned k = 0; k < TW_L_KIND_COUNT; k++) {
            for (unsigned i = 0; i < p.n_layers; i++) {
                if (p.layers[i].kind == k) {
                    s->kind[k]++;
                    break;
                }
            }
        }
        if (m != NULL && m(&p, rc))
            s->n_match++;
    }
    pcap_close(pc);
    tw_decoder_free(d);
    return 0;
}

static int is_pair(const struct tw_packet *p, const char *want)
{
    char buf[2 * TW_IP_STRLEN + 2];
    return strcmp(inner_pair(p, buf, sizeof(buf)), want) == 0;
}

/* ==== Predicates ==== */

static int m_4in4(const struct tw_packet *p, int rc)
{
    (void)rc;
    return p->inner_ip >= 1 && p->l4 >= 0 && p->layers[p->l4].kind == TW_L_TCP &&
           is_pair(p, "10.1.0.3>10.1.0.4") && p->layers[p->inner_ip - 1].kind == TW_L_IPV4 &&
           p->tunnel_hash != 0;
}

static int m_6in6(const struct tw_packet *p, int rc)
{
    (void)rc;
    return p->l4 >= 0 && p->inner_ip >= 1 &&
           is_pair(p, "2001:db8:85a3::8a2e:370:8334>2001:db8:85a3::8a2e:370:8335") &&
           p->layers[p->inner_ip - 1].kind == TW_L_IPV6;
}

static int m_6in4(const struct tw_packet *p, int rc)
{
    (void)rc;
    return p->l4 >= 0 && p->inner_ip >= 1 &&
           is_pair(p, "2001:db8:85a3::8a2e:370:7334>2001:db8:85a3::8a2e:370:7335") &&
           p->layers[p->inner_ip - 1].kind == TW_L_IPV4;
}

static int m_4in6(const struct tw_packet *p, int rc)
{
    (void)rc;
    return p->l4 >= 0 && p->inner_ip >= 1 && is_pair(p, "10.1.0.1>10.1.0.2") &&
           p->layers[p->inner_ip - 1].kind == TW_L_IPV6;
}

static int m_erspan2(const struct tw_packet *p, int rc)
{
    (void)rc;
    for (unsigned i = 0; i < p->n_layers; i++) {
        if (p->layers[i].kind == TW_L_ERSPAN)
            return p->l4 >= 0 && p->layers[p->l4].kind == TW_L_ICMP &&
                   p->layers[i].u.erspan.version == 1 &&
                   (is_pair(p, "23.0.0.2>23.0.0.3") || is_pair(p, "23.0.0.3>23.0.0.2"));
    }
    return 0;
}

static int m_erspan1(const struct tw_packet *p, int rc)
{
    (void)rc;
    /* eth, ipv4, gre, erspan (type I: no header), eth, vlan 1011 or 999, ipv4, icmp */
    return p->n_layers == 8 && p->layers[3].kind == TW_L_ERSPAN &&
           p->layers[3].u.erspan.version == 0 && p->layers[5].kind == TW_L_VLAN &&
           (p->layers[5].u.vlan.vid == 1011 || p->layers[5].u.vlan.vid == 999) && p->l4 == 7 &&
           p->layers[7].kind == TW_L_ICMP;
}

static int m_sctp(const struct tw_packet *p, int rc)
{
    (void)rc;
    return p->l4 >= 0 && p->layers[p->l4].kind == TW_L_SCTP && p->layers[p->l4].u.l4.dport == 7 &&
           is_pair(p, "192.168.170.56>192.168.170.8");
}

static int m_sll2(const struct tw_packet *p, int rc)
{
    (void)rc;
    return p->n_layers == 3 && p->layers[0].kind == TW_L_SLL && p->l4 == 2 &&
           p->layers[2].kind == TW_L_TCP;
}

static int m_vlan(const struct tw_packet *p, int rc)
{
    (void)rc;
    /* vlan[0] 200, vlan[1] 300, vlan[2] 400 in the test's triple-tagged packets. */
    for (unsigned i = 0; i + 2 < p->n_layers; i++) {
        if (p->layers[i].kind == TW_L_VLAN && p->layers[i].u.vlan.vid == 200 &&
                p->layers[i + 1].u.vlan.vid == 300 && p->layers[i + 2].u.vlan.vid == 400)
            return 1;
    }
    return 0;
}

static int m_vxlan(const struct tw_packet *p, int rc)
{
    (void)rc;
    return p->l4 >= 0 && p->layers[p->l4].kind == TW_L_ICMP && p->inner_ip > 2 &&
           p->layers[p->inner_ip - 2].kind == TW_L_VXLAN;
}

static int m_gre_ssh(const struct tw_packet *p, int rc)
{
    (void)rc;
    for (unsigned i = 0; i < p->n_layers; i++) {
        if (p->layers[i].kind == TW_L_GRE)
            return p->l4 >= 0 && p->layers[p->l4].kind == TW_L_TCP &&
                   (p->layers[p->l4].u.l4.dport == 22 || p->layers[p->l4].u.l4.sport == 22);
    }
    return 0;
}

static int m_reasm_syn(const struct tw_packet *p, int rc)
{
    /* Suricata's alert carries the 44-byte reassembled SYN 1.1.1.1:12345 -> 2.2.2.2:8080. */
    return rc == TW_DECODE_REASSEMBLED && p->caplen == 44 && p->l4 == 1 &&
           p->layers[1].u.l4.tcp_flags == 0x02 && p->layers[1].u.l4.sport == 12345 &&
           p->layers[1].u.l4.dport == 8080 && is_pair(p, "1.1.1.1>2.2.2.2");
}

static int m_reasm6(const struct tw_packet *p, int rc)
{
    /* The alert's packet: IPv6 payload length 0x3fc, ::1 -> ::1, TCP 12345 -> 8080. */
    return rc == TW_DECODE_REASSEMBLED && p->caplen == 40 + 0x3fc && p->l4 == 1 &&
           p->layers[1].u.l4.sport == 12345 && p->layers[1].u.l4.dport == 8080 &&
           p->payload_len == 0x3fc - 20;
}

/* ==== Tests ==== */

#define SKIP_IF_ABSENT(rc)                                                                         \
    do {                                                                                           \
        if ((rc) != 0)                                                                             \
            skip();                                                                                \
    } while (0)

static void pcap_ip_in_ip(void **state)
{
    struct summary s;

    (void)state;
    SKIP_IF_ABSENT(run("pcap/bug-4571-01/ipv4_over_ipv4.pcap", m_4in4, &s));
    assert_true(s.n_match >= 1);
    assert_int_equal(s.n_event, 0);
    assert_int_equal(run("pcap/bug-4571-03/ipv6_over_ipv6.pcap", m_6in6, &s), 0);
    assert_true(s.n_match >= 1);
    assert_int_equal(s.n_event, 0);
    assert_int_equal(run("pcap/bug-4571-04/ipv6_over_ipv4.pcap", m_6in4, &s), 0);
    assert_true(s.n_match >= 1);
    assert_int_equal(run("pcap/bug-4571-06/ipv4_over_ipv6.pcap", m_4in6, &s), 0);
    assert_true(s.n_match >= 1);
}

static void pcap_erspan(void **state)
{
    struct summary s;

    (void)state;
    SKIP_IF_ABSENT(run("pcap/decode-erspan-typeII-01/input.pcap", m_erspan2, &s));
    assert_int_equal(s.n_match, 4); /* two echo requests, two replies */
    assert_int_equal(run("pcap/decode-erspan-typeI-02/input.pcap", m_erspan1, &s), 0);
    assert_int_equal(s.kind[TW_L_GRE], 42); /* decoder.gre: 42 */
    assert_int_equal(s.kind[TW_L_ERSPAN], 42);
    assert_int_equal(s.n_match, 42);
}

static void pcap_link_types_and_l2(void **state)
{
    struct summary s;

    (void)state;
    SKIP_IF_ABSENT(run("pcap/decode-sll2-01/input.pcap", m_sll2, &s));
    assert_int_equal(s.n_match, 5); /* decoder.sll2/ipv4/tcp: 5 */
    assert_int_equal(run("pcap/decode-sctp-01/input.pcap", m_sctp, &s), 0);
    assert_true(s.n_match >= 1);
    assert_int_equal(run("pcap/detect-vlan-id/input.pcap", m_vlan, &s), 0);
    assert_true(s.n_match >= 1);
    assert_int_equal(run("pcap/pppoe/input.pcap", NULL, &s), 0);
    assert_true(s.kind[TW_L_PPPOE] >= 1);
    assert_int_equal(s.n_event, 0);
}

static void pcap_vxlan_gre(void **state)
{
    struct summary s;

    (void)state;
    SKIP_IF_ABSENT(run("pcap/vxlan-decoder-02/vxlan.pcap", m_vxlan, &s));
    assert_int_equal(s.n_match, 8); /* 4 packets each way in the inner ICMP flow */
    assert_int_equal(run("pcap/vxlan-decoder-03/vxlan.pcap", NULL, &s), 0);
    assert_true(s.kind[TW_L_VXLAN] >= 1);
    assert_int_equal(run("pcap/bug-5633-gre-02/gre-sample.pcap", m_gre_ssh, &s), 0);
    assert_true(s.n_match >= 1);
}

static void pcap_defrag(void **state)
{
    struct summary s;

    (void)state;
    SKIP_IF_ABSENT(
            run("pcap/defrag_bug-6887-defrag-ipv4-tcp-syn/frag-ip-tcp-syn.pcap", m_reasm_syn, &s));
    assert_int_equal(s.n_match, 1);
    assert_int_equal(run("pcap/defrag_bug-6887-defrag-ipv6-tcp/frag-ip-tcp.pcap", m_reasm6, &s), 0);
    assert_int_equal(s.n_match, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pcap_ip_in_ip),
        cmocka_unit_test(pcap_erspan),
        cmocka_unit_test(pcap_link_types_and_l2),
        cmocka_unit_test(pcap_vxlan_gre),
        cmocka_unit_test(pcap_defrag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
