/*
 * decode.c: the decoder's entry point, the link layers and layer 2.
 *
 * tw_decode() resets the packet's decoder fields, picks the link-layer
 * function by p->linktype and lets the walk run (decode_int.h explains its
 * shape). When it returns, the summary fields are derived from the layer list:
 * inner_ip is the last IP layer, l4 the transport layer after it, and
 * tunnel_hash the hash of the context of every layer before inner_ip.
 *
 * Layer 2 here: Ethernet (Ethernet II and 802.3 lengths), Linux cooked v1/v2,
 * BSD loopback, 802.1Q/802.1ad tags, MPLS label stacks with the payload after
 * the bottom of the stack recognised, and PPPoE sessions.
 */
#include <string.h>

#include "decode_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/err.h"
#include "tidewatch/hash.h"

/* ==== Names ==== */

static const char *const event_names[TW_EV_COUNT] = {
    [TW_EV_NONE] = "decoder.pkts",
    [TW_EV_LINK_UNKNOWN] = "decoder.unknown_linktype",
    [TW_EV_PKT_TOO_LARGE] = "decoder.pkt_too_large",
    [TW_EV_TOO_MANY_LAYERS] = "decoder.too_many_layers",
    [TW_EV_ETH_TRUNC] = "ethernet.pkt_too_small",
    [TW_EV_SLL_TRUNC] = "sll.pkt_too_small",
    [TW_EV_SLL2_TRUNC] = "sll2.pkt_too_small",
    [TW_EV_NULL_TRUNC] = "null.pkt_too_small",
    [TW_EV_NULL_UNKNOWN_FAMILY] = "null.unsupported_type",
    [TW_EV_RAW_BAD_VERSION] = "raw.invalid_ip_version",
    [TW_EV_VLAN_TRUNC] = "vlan.header_too_small",
    [TW_EV_MPLS_TRUNC] = "mpls.header_too_small",
    [TW_EV_MPLS_BAD_CW] = "mpls.bad_control_word",
    [TW_EV_PPPOE_TRUNC] = "pppoe.pkt_too_small",
    [TW_EV_PPPOE_BAD_VERSION] = "pppoe.wrong_version",
    [TW_EV_PPPOE_BAD_LEN] = "pppoe.malformed_len",
    [TW_EV_IPV4_TRUNC_HEADER] = "ipv4.trunc_header",
    [TW_EV_IPV4_BAD_VERSION] = "ipv4.wrong_ip_version",
    [TW_EV_IPV4_BAD_HLEN] = "ipv4.hlen_too_small",
    [TW_EV_IPV4_BAD_TOTAL_LEN] = "ipv4.iplen_smaller_than_hlen",
    [TW_EV_IPV4_TRUNC_PKT] = "ipv4.trunc_pkt",
    [TW_EV_IPV4_OPT_BAD_LEN] = "ipv4.opt_invalid_len",
    [TW_EV_IPV6_TRUNC_HEADER] = "ipv6.trunc_header",
    [TW_EV_IPV6_BAD_VERSION] = "ipv6.wrong_ip_version",
    [TW_EV_IPV6_TRUNC_PKT] = "ipv6.trunc_pkt",
    [TW_EV_IPV6_EXT_TRUNC] = "ipv6.trunc_exthdr",
    [TW_EV_IPV6_EXT_TOO_MANY] = "ipv6.exthdr_too_many",
    [TW_EV_GRE_TRUNC] = "gre.pkt_too_small",
    [TW_EV_GRE_BAD_VERSION] = "gre.wrong_version",
    [TW_EV_GRE_BAD_FLAGS] = "gre.version0_flags",
    [TW_EV_ERSPAN_TRUNC] = "erspan.header_too_small",
    [TW_EV_ERSPAN_BAD_VERSION] = "erspan.unsupported_version",
    [TW_EV_ERSPAN_TYPE1_OFF] = "erspan.type1_disabled",
    [TW_EV_VXLAN_TRUNC] = "vxlan.header_too_small",
    [TW_EV_VXLAN_BAD_FLAGS] = "vxlan.bad_flags",
    [TW_EV_GTPU_TRUNC] = "gtpu.header_too_small",
    [TW_EV_GTPU_BAD_VERSION] = "gtpu.wrong_version",
    [TW_EV_GTPU_BAD_LEN] = "gtpu.bad_length",
    [TW_EV_GTPU_EXT_TRUNC] = "gtpu.trunc_exthdr",
    [TW_EV_GTPU_EXT_BAD_LEN] = "gtpu.exthdr_zero_len",
    [TW_EV_GTPU_EXT_TOO_MANY] = "gtpu.exthdr_too_many",
    [TW_EV_GTPU_BAD_INNER] = "gtpu.unknown_payload",
    [TW_EV_TCP_TRUNC] = "tcp.pkt_too_small",
    [TW_EV_TCP_BAD_HLEN] = "tcp.hlen_too_small",
    [TW_EV_UDP_TRUNC] = "udp.pkt_too_small",
    [TW_EV_UDP_BAD_LEN] = "udp.len_invalid",
    [TW_EV_ICMP_TRUNC] = "icmpv4.pkt_too_small",
    [TW_EV_ICMPV6_TRUNC] = "icmpv6.pkt_too_small",
    [TW_EV_SCTP_TRUNC] = "sctp.pkt_too_small",
    [TW_EV_FRAG_OVERLAP] = "defrag.overlap",
    [TW_EV_FRAG_DUPLICATE] = "defrag.duplicate",
    [TW_EV_FRAG_TOO_LARGE] = "defrag.too_large",
    [TW_EV_FRAG_BAD_LEN] = "defrag.bad_fragment_len",
    [TW_EV_FRAG_BAD_END] = "defrag.inconsistent_end",
    [TW_EV_FRAG_TOO_MANY] = "defrag.too_many_fragments",
    [TW_EV_FRAG_MEMCAP] = "defrag.memcap",
    [TW_EV_FRAG_MAX_TRACKERS] = "defrag.max_trackers",
    [TW_EV_FRAG_TIMEOUT] = "defrag.timeout",
    [TW_EV_FRAG_NOMEM] = "defrag.nomem",
};

static const char *const kind_names[TW_L_KIND_COUNT] = {
    [TW_L_NONE] = "none",
    [TW_L_ETH] = "eth",
    [TW_L_SLL] = "sll",
    [TW_L_NULL] = "null",
    [TW_L_VLAN] = "vlan",
    [TW_L_MPLS] = "mpls",
    [TW_L_PPPOE] = "pppoe",
    [TW_L_IPV4] = "ipv4",
    [TW_L_IPV6] = "ipv6",
    [TW_L_GRE] = "gre",
    [TW_L_ERSPAN] = "erspan",
    [TW_L_VXLAN] = "vxlan",
    [TW_L_GTPU] = "gtpu",
    [TW_L_TCP] = "tcp",
    [TW_L_UDP] = "udp",
    [TW_L_ICMP] = "icmp",
    [TW_L_ICMPV6] = "icmpv6",
    [TW_L_SCTP] = "sctp",
};

/* ==== Shared helpers ==== */

void tw__event(struct tw__dctx *c, unsigned ev)
{
    if (ev == TW_EV_NONE || ev >= TW_EV_COUNT)
        return;
    c->d->events[ev]++;
    if (c->p->event == TW_EV_NONE)
        c->p->event = (uint16_t)ev;
}

void tw__fail(struct tw__dctx *c, unsigned ev)
{
    tw__event(c, ev);
    c->stop = true;
}

/* Appends n bytes to the context buffer (bounded by its size). */
static void ctx_put(uint8_t *buf, size_t *pos, size_t cap, const void *src, size_t n)
{
    if (*pos + n <= cap) {
        memcpy(buf + *pos, src, n);
        *pos += n;
    }
}

static void ctx_put32(uint8_t *buf, size_t *pos, size_t cap, uint8_t kind, uint32_t v)
{
    uint8_t b[5] = { kind, (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    ctx_put(buf, pos, cap, b, sizeof(b));
}

uint64_t tw__context_hash(const struct tw_packet *p, unsigned n, bool all_ids)
{
    /* At most TW_MAX_LAYERS entries of at most 36 bytes each. */
    uint8_t buf[TW_MAX_LAYERS * 40];
    size_t pos = 0;

    for (unsigned i = 0; i < n && i < p->n_layers; i++) {
        const struct tw_layer *l = &p->layers[i];
        switch (l->kind) {
            case TW_L_VLAN:
                ctx_put32(buf, &pos, sizeof(buf), l->kind, l->u.vlan.vid);
                break;
            case TW_L_MPLS:
                if (all_ids)
                    ctx_put32(buf, &pos, sizeof(buf), l->kind, l->u.mpls.label);
                break;
            case TW_L_IPV4:
            case TW_L_IPV6: {
                /* Order-independent: both directions of a tunnel hash alike. */
                const struct tw_ip *a = &l->u.ip.src, *b = &l->u.ip.dst;
                if (memcmp(a->bytes, b->bytes, sizeof(a->bytes)) > 0) {
                    const struct tw_ip *t = a;
                    a = b;
                    b = t;
                }
                ctx_put(buf, &pos, sizeof(buf), &l->kind, 1);
                ctx_put(buf, &pos, sizeof(buf), a->bytes, sizeof(a->bytes));
                ctx_put(buf, &pos, sizeof(buf), b->bytes, sizeof(b->bytes));
                ctx_put(buf, &pos, sizeof(buf), &l->u.ip.proto, 1);
                break;
            }
            case TW_L_GRE:
                ctx_put32(buf, &pos, sizeof(buf), l->kind,
                        l->u.gre.has_key ? l->u.gre.key : 0xFFFFFFFFu);
                break;
            case TW_L_ERSPAN:
                ctx_put32(buf, &pos, sizeof(buf), l->kind,
                        (uint32_t)l->u.erspan.session << 16 | l->u.erspan.vlan);
                break;
            case TW_L_VXLAN:
                ctx_put32(buf, &pos, sizeof(buf), l->kind, l->u.vxlan.vni);
                break;
            case TW_L_GTPU:
                ctx_put32(buf, &pos, sizeof(buf), l->kind, all_ids ? l->u.gtpu.teid : 0);
                break;
            default:
                break;
        }
    }
    if (pos == 0)
        return 0;
    return tw_hash64(buf, pos, 0x7477u);
}

/* ==== Layer 2 ==== */

void tw__decode_eth(struct tw__dctx *c, uint32_t off, uint32_t end)
{
    struct tw_layer *l;
    uint16_t et;

    if (end - off < 14) {
        tw__fail(c, TW_EV_ETH_TRUNC);
        return;
    }
    et = tw__rd16(c->pkt + off + 12);
    if ((l = tw__push(c, TW_L_ETH, off, 14)) == NULL)
        return;
    l->u.eth.ethertype = et;
    if (et < 0x0600) {
        /* 802.3 length: an LLC frame follows, which carries nothing we decode.
         * The length bounds the frame, so trailing padding is not payload. */
        uint32_t avail = end - off - 14;
        c->p->payload = c->pkt + off + 14;
        c->p->payload_len = et < avail ? et : avail;
        return;
    }
    tw__decode_ethertype(c, et, off + 14, end);
}

static void decode_vlan(struct tw__dctx *c, uint16_t tpid, uint32_t off, uint32_t end)
{
    struct tw_layer *l;
    uint16_t tci;

    if (end - off < 4) {
        tw__fail(c, TW_EV_VLAN_TRUNC);
        return;
    }
    if ((l = tw__push(c, TW_L_VLAN, off, 4)) == NULL)
        return;
    tci = tw__rd16(c->pkt + off);
    l->u.vlan.tpid = tpid;
    l->u.vlan.vid = tci & 0x0FFF;
    l->u.vlan.pcp = (uint8_t)(tci >> 13);
    tw__decode_ethertype(c, tw__rd16(c->pkt + off + 2), off + 4, end);
}

/* Ethertypes common enough after a pseudowire to tell the two layouts apart. */
static bool known_ethertype(uint16_t et)
{
    return et == TW_ET_IPV4 || et == TW_ET_IPV6 || et == TW_ET_VLAN || et == TW_ET_QINQ ||
           et == 0x0806 || et == TW_ET_MPLS_UC || et == TW_ET_PPPOE_SES;
}

/*
 * MPLS label stack entry (RFC 3032), one layer per entry:
 *   OFFSET SIZE DESCRIPTION
 *   0      20b  label
 *   20b    3b   traffic class
 *   23b    1b   bottom of stack
 *   3      1    TTL
 * After the bottom of the stack: explicit-null labels 0/2 say IPv4/IPv6;
 * otherwise a first nibble of 4 or 6 is IP, 0 is a pseudowire control word
 * (4 bytes) before Ethernet, anything else is Ethernet without a control word.
 * An Ethernet destination MAC may start with a 0 nibble too (most OUIs do), so
 * a 0 nibble is read without the control word when only that reading puts a
 * known ethertype at the ethertype position.
 */
static void decode_mpls(struct tw__dctx *c, uint32_t off, uint32_t end)
{
    for (;;) {
        struct tw_layer *l;
        uint32_t e;

        if (end - off < 4) {
            tw__fail(c, TW_EV_MPLS_TRUNC);
            return;
        }
        if ((l = tw__push(c, TW_L_MPLS, off, 4)) == NULL)
            return;
        e = tw__rd32(c->pkt + off);
        l->u.mpls.label = e >> 12;
        l->u.mpls.tc = (uint8_t)((e >> 9) & 7);
        l->u.mpls.bos = (uint8_t)((e >> 8) & 1);
        l->u.mpls.ttl = (uint8_t)e;
        off += 4;
        if (!l->u.mpls.bos)
            continue;
        if (l->u.mpls.label == 0) {
            tw__decode_ipv4(c, off, end);
            return;
        }
        if (l->u.mpls.label == 2) {
            tw__decode_ipv6(c, off, end);
            return;
        }
        if (end - off < 1) {
            tw__fail(c, TW_EV_MPLS_TRUNC);
            return;
        }
        switch (c->pkt[off] >> 4) {
            case 4:
                tw__decode_ipv4(c, off, end);
                return;
            case 6:
                tw__decode_ipv6(c, off, end);
                return;
            case 0:
                if (end - off < 4) {
                    tw__fail(c, TW_EV_MPLS_BAD_CW);
                    return;
                }
                if (end - off >= 14 && known_ethertype(tw__rd16(c->pkt + off + 12)) &&
                        (end - off < 18 || !known_ethertype(tw__rd16(c->pkt + off + 16)))) {
                    tw__decode_eth(c, off, end);
                    return;
                }
                tw__decode_eth(c, off + 4, end);
                return;
            default:
                tw__decode_eth(c, off, end);
                return;
        }
    }
}

/*
 * PPPoE session header (RFC 2516) and the PPP protocol field:
 *   OFFSET SIZE DESCRIPTION
 *   0      1    version (high nibble, 1) and type (low nibble, 1)
 *   1      1    code (0 for session data)
 *   2      2    session id
 *   4      2    length of the PPP frame
 *   6      2    PPP protocol: 0x0021 IPv4, 0x0057 IPv6
 */
static void decode_pppoe(struct tw__dctx *c, uint32_t off, uint32_t end)
{
    struct tw_layer *l;
    const uint8_t *h = c->pkt + off;
    uint32_t plen;
    uint16_t proto;

    if (end - off < 8) {
        tw__fail(c, TW_EV_PPPOE_TRUNC);
        return;
    }
    if (h[0] != 0x11 || h[1] != 0) {
        tw__fail(c, TW_EV_PPPOE_BAD_VERSION);
        return;
    }
    plen = tw__rd16(h + 4);
    if (plen < 2 || plen > end - off - 6) {
        tw__fail(c, TW_EV_PPPOE_BAD_LEN);
        return;
    }
    if ((l = tw__push(c, TW_L_PPPOE, off, 8)) == NULL)
        return;
    l->u.pppoe.session = tw__rd16(h + 2);
    proto = tw__rd16(h + 6);
    end = off + 6 + plen;
    if (proto == 0x0021)
        tw__decode_ipv4(c, off + 8, end);
    else if (proto == 0x0057)
        tw__decode_ipv6(c, off + 8, end);
    /* LCP, IPCP, PAP, ... carry no IP: the walk ends at the PPPoE layer. */
}

void tw__decode_ethertype(struct tw__dctx *c, uint16_t et, uint32_t off, uint32_t end)
{
    switch (et) {
        case TW_ET_IPV4:
            tw__decode_ipv4(c, off, end);
            break;
        case TW_ET_IPV6:
            tw__decode_ipv6(c, off, end);
            break;
        case TW_ET_VLAN:
        case TW_ET_QINQ:
        case TW_ET_QINQ_OLD:
            decode_vlan(c, et, off, end);
            break;
        case TW_ET_MPLS_UC:
        case TW_ET_MPLS_MC:
            decode_mpls(c, off, end);
            break;
        case TW_ET_PPPOE_SES:
            decode_pppoe(c, off, end);
            break;
        default:
            /* ARP, LLDP, PPPoE discovery, ...: nothing further to decode. */
            break;
    }
}

/* ==== Link layers ==== */

/*
 * Linux cooked capture v1 (16 bytes): packet type (2), ARPHRD type (2), address
 * length (2), address (8), protocol (2, an ethertype).
 */
static void decode_sll(struct tw__dctx *c)
{
    struct tw_layer *l;
    uint16_t et;

    if (c->caplen < 16) {
        tw__fail(c, TW_EV_SLL_TRUNC);
        return;
    }
    if ((l = tw__push(c, TW_L_SLL, 0, 16)) == NULL)
        return;
    et = tw__rd16(c->pkt + 14);
    l->u.eth.ethertype = et;
    tw__decode_ethertype(c, et, 16, c->caplen);
}

/*
 * Linux cooked capture v2 (20 bytes): protocol (2, an ethertype), reserved (2),
 * interface index (4), ARPHRD type (2), packet type (1), address length (1),
 * address (8).
 */
static void decode_sll2(struct tw__dctx *c)
{
    struct tw_layer *l;
    uint16_t et;

    if (c->caplen < 20) {
        tw__fail(c, TW_EV_SLL2_TRUNC);
        return;
    }
    if ((l = tw__push(c, TW_L_SLL, 0, 20)) == NULL)
        return;
    et = tw__rd16(c->pkt);
    l->u.eth.ethertype = et;
    tw__decode_ethertype(c, et, 20, c->caplen);
}

/*
 * BSD loopback: a 4-byte address family, in the capturing host's byte order
 * for DLT_NULL (either order is accepted: the family values are small) and in
 * network order for DLT_LOOP. AF_INET is 2 everywhere; AF_INET6 is 24
 * (NetBSD/OpenBSD), 28 (FreeBSD) or 30 (macOS).
 */
static void decode_null(struct tw__dctx *c, bool network_order)
{
    struct tw_layer *l;
    const uint8_t *h = c->pkt;
    uint32_t fam;

    if (c->caplen < 4) {
        tw__fail(c, TW_EV_NULL_TRUNC);
        return;
    }
    if (network_order || (h[0] == 0 && h[1] == 0))
        fam = tw__rd32(h);
    else
        fam = (uint32_t)h[3] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[1] << 8 | h[0];
    if ((l = tw__push(c, TW_L_NULL, 0, 4)) == NULL)
        return;
    if (fam == 2) {
        l->u.eth.ethertype = TW_ET_IPV4;
        tw__decode_ipv4(c, 4, c->caplen);
    } else if (fam == 24 || fam == 28 || fam == 30) {
        l->u.eth.ethertype = TW_ET_IPV6;
        tw__decode_ipv6(c, 4, c->caplen);
    } else {
        tw__fail(c, TW_EV_NULL_UNKNOWN_FAMILY);
    }
}

/* ==== Summary ==== */

/* Derives inner_ip, l4 and tunnel_hash from the layer list. */
static void summarise(struct tw__dctx *c)
{
    struct tw_packet *p = c->p;
    int ip = -1;
    uint64_t h;

    for (int i = (int)p->n_layers - 1; i >= 0; i--) {
        if (p->layers[i].kind == TW_L_IPV4 || p->layers[i].kind == TW_L_IPV6) {
            ip = i;
            break;
        }
    }
    p->inner_ip = (int8_t)ip;
    p->l4 = -1;
    for (unsigned i = (unsigned)(ip + 1); ip >= 0 && i < p->n_layers; i++) {
        unsigned k = p->layers[i].kind;
        if (k == TW_L_TCP || k == TW_L_UDP || k == TW_L_ICMP || k == TW_L_ICMPV6 ||
                k == TW_L_SCTP) {
            p->l4 = (int8_t)i;
            break;
        }
    }
    h = tw__context_hash(p, ip >= 0 ? (unsigned)ip : p->n_layers, c->d->cfg.hash_directional_ids);
    p->tunnel_hash = (uint32_t)(h ^ (h >> 32));
    if (h != 0 && p->tunnel_hash == 0)
        p->tunnel_hash = 1; /* a tunnel whose hash folded to 0 */
}

/* ==== Public API ==== */

void tw_decoder_config_default(struct tw_decoder_config *c)
{
    memset(c, 0, sizeof(*c));
    c->vxlan_port = TW_DECODE_VXLAN_PORT;
    c->gtpu_port = TW_DECODE_GTPU_PORT;
    c->defrag_memcap = TW_DECODE_DEFRAG_MEMCAP;
    c->defrag_timeout_s = TW_DECODE_DEFRAG_TIMEOUT_S;
    c->defrag_max_trackers = TW_DECODE_DEFRAG_MAX_TRACKERS;
    c->erspan_type1 = true;
    c->hash_directional_ids = false;
}

struct tw_decoder *tw_decoder_new(const struct tw_decoder_config *c)
{
    struct tw_decoder *d = tw_calloc(1, sizeof(*d));

    if (d == NULL)
        return NULL;
    if (c != NULL)
        d->cfg = *c;
    else
        tw_decoder_config_default(&d->cfg);
    if (d->cfg.defrag_max_trackers > TW_DECODE_MAX_TRACKERS)
        d->cfg.defrag_max_trackers = TW_DECODE_MAX_TRACKERS;
    return d;
}

void tw_decoder_free(struct tw_decoder *d)
{
    if (d == NULL)
        return;
    tw__defrag_cleanup(d);
    tw_free(d->rbuf);
    tw_free(d);
}

int tw_decode(struct tw_decoder *d, struct tw_packet *p)
{
    static const uint8_t empty[1];
    struct tw__dctx c;

    if (d == NULL || p == NULL || (p->data == NULL && p->caplen != 0))
        return TW_EINVAL;
    p->n_layers = 0;
    p->inner_ip = -1;
    p->l4 = -1;
    p->payload = NULL;
    p->payload_len = 0;
    p->tunnel_hash = 0;
    p->event = TW_EV_NONE;
    d->events[TW_EV_NONE]++;

    memset(&c, 0, sizeof(c));
    c.d = d;
    c.p = p;
    c.pkt = p->data != NULL ? p->data : empty;
    c.caplen = p->caplen;
    c.result = TW_DECODE_OK;

    switch (p->linktype) {
        case TW_LINK_ETHERNET:
            tw__decode_eth(&c, 0, c.caplen);
            break;
        case TW_LINK_SLL:
            decode_sll(&c);
            break;
        case TW_LINK_SLL2:
            decode_sll2(&c);
            break;
        case TW_LINK_RAW:
            tw__decode_ip_any(&c, 0, c.caplen, TW_EV_RAW_BAD_VERSION);
            break;
        case TW_LINK_IPV4:
            tw__decode_ipv4(&c, 0, c.caplen);
            break;
        case TW_LINK_IPV6:
            tw__decode_ipv6(&c, 0, c.caplen);
            break;
        case TW_LINK_NULL:
            decode_null(&c, false);
            break;
        case TW_LINK_LOOP:
            decode_null(&c, true);
            break;
        default:
            tw__fail(&c, TW_EV_LINK_UNKNOWN);
            break;
    }
    if (c.reassembled && c.pkt != p->data) {
        /* Reassembled: the packet now describes the decoder's buffer. */
        p->data = c.pkt;
        p->caplen = c.caplen;
    }
    summarise(&c);
    return c.result;
}

const uint64_t *tw_decoder_events(const struct tw_decoder *d)
{
    return d->events;
}

size_t tw_decoder_defrag_bytes(const struct tw_decoder *d)
{
    return d->defrag.mem;
}

size_t tw_decoder_defrag_trackers(const struct tw_decoder *d)
{
    return d->defrag.n_trackers;
}

const char *tw_decode_event_name(unsigned ev)
{
    if (ev >= TW_EV_COUNT || event_names[ev] == NULL)
        return "unknown";
    return event_names[ev];
}

const char *tw_layer_kind_name(unsigned kind)
{
    if (kind >= TW_L_KIND_COUNT || kind_names[kind] == NULL)
        return "unknown";
    return kind_names[kind];
}
