/*
 * gen_pkt.c: the packet builder of tw_pcapgen: prepending headers with their
 * checksums, encapsulation stacks, and the classic pcap writer.
 *
 * Every header function prepends one header in front of the bytes already in
 * the packet and, when the packet records layers, describes the header as a
 * JSON object. Field layouts follow the RFCs named at each function; the
 * captures are checked against tshark by tests/gen/check_with_tshark.sh.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include "gen.h"

/* ==== Builder ==== */

void gen_pkt_init(struct gen_pkt *p, struct gen_rec *rec)
{
    p->off = GEN_HEADROOM;
    p->end = GEN_HEADROOM;
    p->rec = rec;
    if (rec)
        rec->first = GEN_MAX_LAYERS;
}

void gen_pkt_put(struct gen_pkt *p, const void *data, size_t n)
{
    if (n > sizeof(p->buf) - p->end)
        n = sizeof(p->buf) - p->end;
    if (n)
        memcpy(p->buf + p->end, data, n);
    p->end += n;
}

uint8_t *gen_pkt_push(struct gen_pkt *p, size_t n)
{
    /* Headroom is sized for the deepest stack the generator builds. */
    if (n > p->off)
        n = p->off;
    p->off -= n;
    memset(p->buf + p->off, 0, n);
    return p->buf + p->off;
}

void gen_rec_layer(struct gen_pkt *p, enum gen_kind kind, const char *fmt, ...)
{
    struct gen_rec *r = p->rec;
    va_list ap;

    if (!r || r->first == 0)
        return;
    r->first--;
    r->kind[r->first] = (uint8_t)kind;
    va_start(ap, fmt);
    (void)vsnprintf(r->text[r->first], GEN_LAYER_TEXT, fmt, ap);
    va_end(ap);
}

/* ==== Checksums ==== */

uint32_t gen_csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    /* Fold early so long payloads never overflow the accumulator. */
    return (sum & 0xffff) + (sum >> 16);
}

uint16_t gen_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint32_t gen_pseudo_sum(const struct tw_ip *src, const struct tw_ip *dst, uint8_t proto, size_t len)
{
    size_t alen = src->family == 4 ? 4 : 16;
    uint32_t sum = 0;

    sum = gen_csum_add(sum, src->bytes, alen);
    sum = gen_csum_add(sum, dst->bytes, alen);
    sum += proto;
    sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
    return sum;
}

uint32_t gen_crc32c(const uint8_t *p, size_t n)
{
    static uint32_t table[256];
    static bool ready;
    uint32_t crc = 0xffffffffu;
    size_t i;

    if (!ready) {
        for (uint32_t b = 0; b < 256; b++) {
            uint32_t c = b;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
            table[b] = c;
        }
        ready = true;
    }
    for (i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ==== Addresses in layer records ==== */

struct ipstr {
    char s[TW_IP_STRLEN];
};

static struct ipstr ip_text(const struct tw_ip *ip)
{
    struct ipstr r;

    (void)tw_ip_format(ip, r.s);
    return r;
}

static void fmt_mac(const uint8_t m[6], char out[18])
{
    (void)snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* ==== Transport and IP headers ==== */

/*
 * TCP (RFC 9293): 20-byte header without options, except that SYNs carry an
 * MSS option (4 bytes) so the handshake looks like a real one.
 */
void gen_tcp(struct gen_pkt *p, const struct tw_ip *src, const struct tw_ip *dst, uint16_t sport,
        uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags)
{
    size_t hlen = (flags & GEN_SYN) ? 24 : 20;
    uint8_t *h = gen_pkt_push(p, hlen);
    size_t len = gen_pkt_len(p);
    char fl[8];
    size_t nf = 0;

    gen_be16(h, sport);
    gen_be16(h + 2, dport);
    gen_be32(h + 4, seq);
    gen_be32(h + 8, (flags & GEN_ACK) ? ack : 0);
    h[12] = (uint8_t)((hlen / 4) << 4);
    h[13] = flags;
    gen_be16(h + 14, 64240);
    if (flags & GEN_SYN) {
        h[20] = 2; /* MSS */
        h[21] = 4;
        gen_be16(h + 22, 1460);
    }
    gen_be16(h + 16, gen_csum_fold(gen_csum_add(gen_pseudo_sum(src, dst, 6, len), h, len)));

    if (flags & GEN_SYN)
        fl[nf++] = 'S';
    if (flags & GEN_ACK)
        fl[nf++] = 'A';
    if (flags & GEN_PSH)
        fl[nf++] = 'P';
    if (flags & GEN_FIN)
        fl[nf++] = 'F';
    if (flags & GEN_RST)
        fl[nf++] = 'R';
    fl[nf] = 0;
    gen_rec_layer(p, GK_TCP,
            "\"kind\":\"tcp\",\"sport\":%u,\"dport\":%u,\"flags\":\"%s\",\"seq\":%u,\"ack\":%u,"
            "\"payload_len\":%zu",
            sport, dport, fl, seq, (flags & GEN_ACK) ? ack : 0, len - hlen);
}

/* UDP (RFC 768) with its checksum; a computed 0 is sent as 0xffff. */
void gen_udp(struct gen_pkt *p, const struct tw_ip *src, const struct tw_ip *dst, uint16_t sport,
        uint16_t dport)
{
    uint8_t *h = gen_pkt_push(p, 8);
    size_t len = gen_pkt_len(p);
    uint16_t c;

    gen_be16(h, sport);
    gen_be16(h + 2, dport);
    gen_be16(h + 4, (uint32_t)len);
    c = gen_csum_fold(gen_csum_add(gen_pseudo_sum(src, dst, 17, len), h, len));
    gen_be16(h + 6, c ? c : 0xffff);
    gen_rec_layer(p, GK_UDP, "\"kind\":\"udp\",\"sport\":%u,\"dport\":%u,\"payload_len\":%zu",
            sport, dport, len - 8);
}

static const char *ip_proto_name(uint8_t proto)
{
    switch (proto) {
        case 1:
            return "icmp";
        case 4:
            return "ipv4";
        case 6:
            return "tcp";
        case 17:
            return "udp";
        case 41:
            return "ipv6";
        case 47:
            return "gre";
        case 58:
            return "icmpv6";
        case 132:
            return "sctp";
        default:
            return "other";
    }
}

/*
 * IPv4 (RFC 791):
 *   OFFSET SIZE DESCRIPTION
 *      0     1  version 4, header length in 32-bit words
 *      1     1  DSCP/ECN
 *      2     2  total length
 *      4     2  identification
 *      6     2  flags (DF 0x4000, MF 0x2000) and fragment offset in 8-byte units
 *      8     1  TTL
 *      9     1  protocol
 *     10     2  header checksum
 *     12     8  source, destination
 *     20     -  options
 */
void gen_ipv4(struct gen_pkt *p, const struct tw_ip *src, const struct tw_ip *dst, uint8_t proto,
        uint16_t id, const uint8_t *opts, size_t opts_len, unsigned frag_off, bool mf)
{
    size_t hlen = 20 + opts_len;
    uint8_t *h = gen_pkt_push(p, hlen);
    size_t len = gen_pkt_len(p);
    uint32_t ff = (frag_off / 8) | (mf ? 0x2000u : 0);
    bool frag = frag_off || mf;

    h[0] = (uint8_t)(0x40 | (hlen / 4));
    gen_be16(h + 2, (uint32_t)len);
    gen_be16(h + 4, id);
    if (!frag && proto == 6)
        ff |= 0x4000; /* TCP traffic sets DF, as stacks doing PMTU discovery do */
    gen_be16(h + 6, ff);
    h[8] = 64;
    h[9] = proto;
    memcpy(h + 12, src->bytes, 4);
    memcpy(h + 16, dst->bytes, 4);
    if (opts_len)
        memcpy(h + 20, opts, opts_len);
    gen_be16(h + 10, gen_csum_fold(gen_csum_add(0, h, hlen)));
    if (!p->rec)
        return;
    if (frag)
        gen_rec_layer(p, GK_IPV4,
                "\"kind\":\"ipv4\",\"src\":\"%s\",\"dst\":\"%s\",\"proto\":\"%s\",\"id\":%u,"
                "\"options_len\":%zu,\"fragment\":{\"offset\":%u,\"more\":%s}",
                ip_text(src).s, ip_text(dst).s, ip_proto_name(proto), id, opts_len, frag_off,
                mf ? "true" : "false");
    else
        gen_rec_layer(p, GK_IPV4,
                "\"kind\":\"ipv4\",\"src\":\"%s\",\"dst\":\"%s\",\"proto\":\"%s\",\"id\":%u,"
                "\"options_len\":%zu",
                ip_text(src).s, ip_text(dst).s, ip_proto_name(proto), id, opts_len);
}

void gen_ipv6_frag(struct gen_pkt *p, uint8_t nh, unsigned frag_off, bool mf, uint32_t ident)
{
    uint8_t *h = gen_pkt_push(p, 8);

    /* Fragment header (RFC 8200 4.5): nh, reserved, offset<<3 | M, identification. */
    h[0] = nh;
    gen_be16(h + 2, (uint32_t)(frag_off & ~7u) | (mf ? 1u : 0));
    gen_be32(h + 4, ident);
    gen_rec_layer(p, GK_NONE, "\"kind\":\"ipv6_frag\",\"offset\":%u,\"more\":%s,\"ident\":%u",
            frag_off, mf ? "true" : "false", ident);
}

/*
 * IPv6 (RFC 8200): 40-byte fixed header. With ext, a hop-by-hop header
 * (router alert + PadN, 8 bytes) and a destination options header (PadN,
 * 8 bytes) sit between it and nh.
 */
void gen_ipv6(
        struct gen_pkt *p, const struct tw_ip *src, const struct tw_ip *dst, uint8_t nh, bool ext)
{
    uint8_t first = nh;
    uint8_t *h;
    size_t len;

    if (ext) {
        uint8_t *d = gen_pkt_push(p, 8);
        d[0] = nh; /* destination options: next header, length 0 (8 bytes) */
        d[2] = 1;  /* PadN of 4 */
        d[3] = 4;
        h = gen_pkt_push(p, 8);
        h[0] = 60; /* hop-by-hop: next is destination options */
        h[2] = 5;  /* router alert, value 0 (MLD) */
        h[3] = 2;
        h[6] = 1; /* PadN of 0 */
        first = 0;
    }
    len = gen_pkt_len(p);
    h = gen_pkt_push(p, 40);
    h[0] = 0x60;
    gen_be16(h + 4, (uint32_t)len);
    h[6] = first;
    h[7] = 64;
    memcpy(h + 8, src->bytes, 16);
    memcpy(h + 24, dst->bytes, 16);
    if (!p->rec)
        return;
    gen_rec_layer(p, GK_IPV6,
            "\"kind\":\"ipv6\",\"src\":\"%s\",\"dst\":\"%s\",\"next\":\"%s\",\"ext\":%s",
            ip_text(src).s, ip_text(dst).s, nh == 44 ? "fragment" : ip_proto_name(nh),
            ext ? "[\"hop-by-hop\",\"destination-options\"]" : "[]");
}

void gen_eth(struct gen_pkt *p, const uint8_t dst[6], const uint8_t src[6], uint16_t ethertype)
{
    uint8_t *h = gen_pkt_push(p, 14);
    char a[18], b[18];

    memcpy(h, dst, 6);
    memcpy(h + 6, src, 6);
    gen_be16(h + 12, ethertype);
    if (!p->rec)
        return;
    fmt_mac(src, a);
    fmt_mac(dst, b);
    gen_rec_layer(p, GK_ETH,
            "\"kind\":\"eth\",\"src\":\"%s\",\"dst\":\"%s\",\"ethertype\":\"0x%04x\"", a, b,
            ethertype);
}

/* ==== Encapsulations ==== */

static uint16_t ethertype_of(int next_kind, const struct gen_hdr *next)
{
    switch (next_kind) {
        case GK_VLAN:
            return next->tpid;
        case GK_MPLS:
            return 0x8847;
        case GK_PPPOE:
            return 0x8864;
        case GK_IPV6:
            return 0x86dd;
        case GK_ETH:
            return 0x6558;
        case GK_ERSPAN2:
            return 0x88be;
        case GK_ERSPAN3:
            return 0x22eb;
        default:
            return 0x0800;
    }
}

static uint8_t ipproto_of(int next_kind)
{
    switch (next_kind) {
        case GK_GRE:
            return 47;
        case GK_UDP:
            return 17;
        case GK_IPV6:
            return 41;
        default:
            return 4;
    }
}

static void wrap_ip(struct gen_pkt *p, const struct gen_hdr *h, int dir, int next_kind, uint32_t n)
{
    bool swap = dir && !h->noswap;
    const struct tw_ip *s = swap ? &h->dst : &h->src;
    const struct tw_ip *d = swap ? &h->src : &h->dst;

    if (h->kind == GK_IPV4)
        gen_ipv4(p, s, d, ipproto_of(next_kind), (uint16_t)(0x4000 + n), NULL, 0, 0, false);
    else
        gen_ipv6(p, s, d, ipproto_of(next_kind), false);
}

static void wrap_gre(struct gen_pkt *p, const struct gen_hdr *h, int next_kind,
        const struct gen_hdr *next, uint32_t seq_no)
{
    bool seq = h->has_seq || next_kind == GK_ERSPAN2 || next_kind == GK_ERSPAN3;
    size_t len = 4 + (h->has_key ? 4 : 0) + (seq ? 4 : 0);
    uint8_t *g = gen_pkt_push(p, len);
    uint16_t proto = ethertype_of(next_kind, next);
    uint32_t flags = (h->has_key ? 0x2000u : 0) | (seq ? 0x1000u : 0);
    size_t o = 4;
    char extra[64] = "";

    /* GRE (RFC 2784/2890): C R K S flags and version, protocol, [key], [sequence]. */
    gen_be16(g, flags);
    gen_be16(g + 2, proto);
    if (h->has_key) {
        gen_be32(g + o, h->key);
        o += 4;
    }
    if (seq)
        gen_be32(g + o, h->seq + seq_no);
    if (h->has_key)
        (void)snprintf(extra, sizeof(extra), ",\"key\":%u", h->key);
    if (seq)
        (void)snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), ",\"seq\":%u",
                h->seq + seq_no);
    gen_rec_layer(p, GK_GRE, "\"kind\":\"gre\",\"proto\":\"0x%04x\"%s", proto, extra);
}

/*
 * ERSPAN type II (8 bytes) and type III (12 bytes), after a GRE header with
 * protocol 0x88be / 0x22eb:
 *   OFFSET SIZE DESCRIPTION
 *      0     2  version (4 bits: 1 = II, 2 = III), VLAN (12 bits)
 *      2     2  COS (3), EN/BSO (2), T (1), session id (10)
 *      4     4  II: reserved (12), index (20); III: timestamp
 *      8     4  III only: SGT (16), P, FT (5), HW id (6), D, Gra (2), O
 */
static void wrap_erspan(struct gen_pkt *p, const struct gen_hdr *h, uint32_t n)
{
    bool v3 = h->kind == GK_ERSPAN3;
    uint8_t *e = gen_pkt_push(p, v3 ? 12 : 8);

    gen_be16(e, (uint32_t)((v3 ? 2u : 1u) << 12) | (h->vid & 0xfffu));
    gen_be16(e + 2, h->session & 0x3ffu);
    if (v3) {
        gen_be32(e + 4, 1000000u + n * 1000u);
        gen_be16(e + 8, 0);
        e[10] = 0;
        e[11] = 0x06; /* granularity 3 (IEEE 1588), no platform sub-header */
    } else {
        gen_be32(e + 4, 7); /* port index */
    }
    gen_rec_layer(p, (enum gen_kind)h->kind,
            "\"kind\":\"erspan\",\"type\":\"%s\",\"session\":%u,\"vlan\":%u", v3 ? "III" : "II",
            h->session, h->vid);
}

static void wrap_gtpu(struct gen_pkt *p, const struct gen_hdr *h, int dir)
{
    uint32_t teid = dir ? h->teid_rev : h->teid;
    size_t payload = gen_pkt_len(p);
    uint8_t *g;

    /*
     * GTP-U (3GPP TS 29.281): flags (version 1, PT 1, E/S/PN), message type
     * 0xff (G-PDU), length of what follows the first 8 bytes, TEID. With E
     * set: sequence (2), N-PDU (1), next extension type (1) = 0x85 (PDU
     * session container, TS 38.415): length 1 (x4 bytes), PDU type
     * (0 downlink, 1 uplink) << 4, QFI 9, next type 0.
     */
    if (h->gtp_ext) {
        g = gen_pkt_push(p, 16);
        g[0] = 0x34;
        g[11] = 0x85;
        g[12] = 1;
        g[13] = (uint8_t)(dir ? 0x00 : 0x10);
        g[14] = 9;
        g[15] = 0;
    } else {
        g = gen_pkt_push(p, 8);
        g[0] = 0x30;
    }
    g[1] = 0xff;
    gen_be16(g + 2, (uint32_t)(gen_pkt_len(p) - 8));
    gen_be32(g + 4, teid);
    (void)payload;
    gen_rec_layer(p, GK_GTPU, "\"kind\":\"gtpu\",\"teid\":%u,\"msg_type\":255,\"ext\":%s", teid,
            h->gtp_ext ? "[\"pdu_session_container\"]" : "[]");
}

static void wrap_one(
        struct gen_pkt *p, const struct gen_encap *e, int i, int dir, int next_kind, uint32_t n)
{
    const struct gen_hdr *h = &e->h[i];
    const struct gen_hdr *next = i + 1 < e->n ? &e->h[i + 1] : NULL;
    uint8_t *b;

    switch (h->kind) {
        case GK_ETH: {
            bool swap = dir && !h->noswap;
            gen_eth(p, swap ? h->mac_a : h->mac_b, swap ? h->mac_b : h->mac_a,
                    ethertype_of(next_kind, next));
            break;
        }
        case GK_VLAN: {
            uint16_t inner = ethertype_of(next_kind, next);
            /* 802.1Q tag without its TPID: PCP/DEI/VID, then the inner ethertype.
             * The TPID belongs to the header in front (ethertype_of). */
            b = gen_pkt_push(p, 4);
            gen_be16(b, h->vid & 0xfffu);
            gen_be16(b + 2, inner);
            gen_rec_layer(p, GK_VLAN, "\"kind\":\"vlan\",\"tpid\":\"0x%04x\",\"vid\":%u", h->tpid,
                    h->vid);
            break;
        }
        case GK_MPLS: {
            bool bos = next_kind != GK_MPLS;
            b = gen_pkt_push(p, 4);
            gen_be32(b, (h->label << 12) | (bos ? 0x100u : 0) | 64u);
            gen_rec_layer(p, GK_MPLS, "\"kind\":\"mpls\",\"label\":%u,\"bos\":%s", h->label,
                    bos ? "true" : "false");
            break;
        }
        case GK_PWCW:
            b = gen_pkt_push(p, 4);
            gen_be32(b, n & 0xffffu); /* flags 0, sequence number */
            gen_rec_layer(p, GK_PWCW, "\"kind\":\"pw_control_word\"");
            break;
        case GK_PPPOE: {
            size_t len = gen_pkt_len(p);
            /* PPPoE session (RFC 2516): ver/type 0x11, code 0, session, length; PPP protocol. */
            b = gen_pkt_push(p, 8);
            b[0] = 0x11;
            gen_be16(b + 2, h->session);
            gen_be16(b + 4, (uint32_t)(len + 2));
            gen_be16(b + 6, next_kind == GK_IPV6 ? 0x0057 : 0x0021);
            gen_rec_layer(p, GK_PPPOE, "\"kind\":\"pppoe\",\"session\":%u", h->session);
            break;
        }
        case GK_IPV4:
        case GK_IPV6:
            wrap_ip(p, h, dir, next_kind, n);
            break;
        case GK_GRE:
            wrap_gre(p, h, next_kind, next, n);
            break;
        case GK_ERSPAN2:
        case GK_ERSPAN3:
            wrap_erspan(p, h, n);
            break;
        case GK_UDP: {
            const struct gen_hdr *ip = &e->h[i - 1];
            bool swap = dir && !ip->noswap;
            uint16_t sp = dir && !h->noswap ? h->dport : h->sport;
            uint16_t dp = dir && !h->noswap ? h->sport : h->dport;
            gen_udp(p, swap ? &ip->dst : &ip->src, swap ? &ip->src : &ip->dst, sp, dp);
            break;
        }
        case GK_VXLAN:
            /* VXLAN (RFC 7348): flags 0x08 (I), 3 reserved, VNI (24 bits), reserved. */
            b = gen_pkt_push(p, 8);
            b[0] = 0x08;
            gen_be32(b + 4, h->vni << 8);
            gen_rec_layer(p, GK_VXLAN, "\"kind\":\"vxlan\",\"vni\":%u", h->vni);
            break;
        case GK_GTPU:
            wrap_gtpu(p, h, dir);
            break;
        case GK_SLL:
            /* Linux cooked v1: packet type, ARPHRD, address length, address (8), protocol. */
            b = gen_pkt_push(p, 16);
            gen_be16(b, dir ? 0 : 4);
            gen_be16(b + 2, 1);
            gen_be16(b + 4, 6);
            memcpy(b + 6, dir ? h->mac_b : h->mac_a, 6);
            gen_be16(b + 14, ethertype_of(next_kind, next));
            gen_rec_layer(p, GK_SLL, "\"kind\":\"sll\",\"protocol\":\"0x%04x\"",
                    ethertype_of(next_kind, next));
            break;
        case GK_SLL2:
            /* Linux cooked v2: protocol, reserved, ifindex, ARPHRD, type, addr len, addr (8). */
            b = gen_pkt_push(p, 20);
            gen_be16(b, ethertype_of(next_kind, next));
            gen_be32(b + 4, 2);
            gen_be16(b + 8, 1);
            b[10] = (uint8_t)(dir ? 0 : 4);
            b[11] = 6;
            memcpy(b + 12, dir ? h->mac_b : h->mac_a, 6);
            gen_rec_layer(p, GK_SLL2, "\"kind\":\"sll2\",\"protocol\":\"0x%04x\",\"ifindex\":2",
                    ethertype_of(next_kind, next));
            break;
        case GK_NULL: {
            /* BSD loopback: the address family in the capturing host's byte order
             * (little-endian here): AF_INET 2, AF_INET6 24 (NetBSD/OpenBSD/FreeBSD). */
            uint32_t af = next_kind == GK_IPV6 ? 24 : 2;
            b = gen_pkt_push(p, 4);
            b[0] = (uint8_t)af;
            gen_rec_layer(p, GK_NULL, "\"kind\":\"null\",\"family\":%u", af);
            break;
        }
        default:
            break;
    }
}

void gen_wrap(
        struct gen_pkt *p, const struct gen_encap *e, int dir, int inner_family, uint32_t seq_no)
{
    int next_kind = inner_family == 6 ? GK_IPV6 : GK_IPV4;

    for (int i = e->n - 1; i >= 0; i--) {
        wrap_one(p, e, i, dir, next_kind, seq_no);
        next_kind = e->h[i].kind;
    }
}

/* ==== pcap writer ==== */

/*
 * Classic pcap (little-endian, microseconds):
 *   OFFSET SIZE DESCRIPTION
 *      0     4  magic 0xa1b2c3d4
 *      4     4  version 2.4
 *      8     8  this zone, sigfigs (0)
 *     16     4  snap length
 *     20     4  link type
 * Each record: seconds, microseconds, captured length, original length, data.
 */
static void le32(uint8_t *d, uint32_t v)
{
    d[0] = (uint8_t)v;
    d[1] = (uint8_t)(v >> 8);
    d[2] = (uint8_t)(v >> 16);
    d[3] = (uint8_t)(v >> 24);
}

int gen_pcap_header(struct tw_buf *b, uint32_t linktype)
{
    uint8_t h[24] = { 0 };

    le32(h, 0xa1b2c3d4u);
    h[4] = 2;
    h[6] = 4;
    le32(h + 16, 262144);
    le32(h + 20, linktype);
    return tw_buf_append(b, h, sizeof(h));
}

int gen_pcap_record(struct tw_buf *b, int64_t ts_us, const uint8_t *data, size_t len)
{
    uint8_t h[16];
    int rc;

    le32(h, (uint32_t)(ts_us / 1000000));
    le32(h + 4, (uint32_t)(ts_us % 1000000));
    le32(h + 8, (uint32_t)len);
    le32(h + 12, (uint32_t)len);
    if ((rc = tw_buf_append(b, h, sizeof(h))) != 0)
        return rc;
    return tw_buf_append(b, data, len);
}

int gen_write_file(const char *path, const void *data, size_t n)
{
    const uint8_t *p = data;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    if (fd < 0) {
        (void)fprintf(stderr, "tw_pcapgen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            (void)fprintf(stderr, "tw_pcapgen: %s: %s\n", path, strerror(errno));
            (void)close(fd);
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    if (close(fd) != 0) {
        (void)fprintf(stderr, "tw_pcapgen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}
