/*
 * test_decode_build.h: a small packet builder for the decoder tests.
 *
 * Nested encapsulations are hard to write as one literal array with correct
 * length fields, so the nested tests append one header at a time; each
 * function below documents the bytes it writes. pb_done() fills in the length
 * fields (IPv4 total length and checksum, IPv6 payload length, UDP length, GTP
 * length) from the bytes that ended up after each header. Simple packets are
 * still literal arrays in the tests, commented with their meaning.
 */
#ifndef TEST_DECODE_BUILD_H
#define TEST_DECODE_BUILD_H

#include <stdint.h>
#include <string.h>

#include "tidewatch/decode.h"

enum pb_fix { PB_FIX_IPV4, PB_FIX_IPV6, PB_FIX_UDP, PB_FIX_GTP };

struct pb {
    uint8_t b[2048];
    uint32_t n;
    uint32_t fix_at[16];
    uint8_t fix_kind[16];
    unsigned n_fix;
};

static inline void pb_bytes(struct pb *pb, const void *p, size_t n)
{
    memcpy(pb->b + pb->n, p, n);
    pb->n += (uint32_t)n;
}

static inline void pb_u8(struct pb *pb, unsigned v)
{
    pb->b[pb->n++] = (uint8_t)v;
}

static inline void pb_u16(struct pb *pb, unsigned v)
{
    pb_u8(pb, v >> 8);
    pb_u8(pb, v);
}

static inline void pb_u32(struct pb *pb, uint32_t v)
{
    pb_u16(pb, v >> 16);
    pb_u16(pb, v & 0xFFFF);
}

static inline void pb_fix(struct pb *pb, enum pb_fix k)
{
    pb->fix_at[pb->n_fix] = pb->n;
    pb->fix_kind[pb->n_fix++] = (uint8_t)k;
}

/* Ethernet: dst 00:11:22:33:44:55, src 66:77:88:99:aa:bb, ethertype. */
static inline void pb_eth(struct pb *pb, unsigned et)
{
    static const uint8_t macs[12] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99,
        0xaa, 0xbb };
    pb_bytes(pb, macs, sizeof(macs));
    pb_u16(pb, et);
}

/* 802.1Q tag body: PCP 0, VLAN id, inner ethertype (the TPID is the ethertype before it). */
static inline void pb_vlan(struct pb *pb, unsigned vid, unsigned et)
{
    pb_u16(pb, vid);
    pb_u16(pb, et);
}

/* MPLS label stack entry: label, TC 0, bottom-of-stack bit, TTL 64. */
static inline void pb_mpls(struct pb *pb, uint32_t label, int bos)
{
    pb_u32(pb, label << 12 | (bos ? 0x100u : 0u) | 64u);
}

/* IPv4, 20 bytes: 45 00 len, id 0x1234, no fragment, TTL 64, proto, checksum, src, dst. */
static inline void pb_ipv4(struct pb *pb, unsigned proto, uint32_t src, uint32_t dst)
{
    pb_fix(pb, PB_FIX_IPV4);
    pb_u16(pb, 0x4500);
    pb_u16(pb, 0); /* total length: pb_done */
    pb_u16(pb, 0x1234);
    pb_u16(pb, 0);
    pb_u8(pb, 64);
    pb_u8(pb, proto);
    pb_u16(pb, 0);
    pb_u32(pb, src);
    pb_u32(pb, dst);
}

/* IPv6, 40 bytes: version 6, payload length, next header, hop limit 64, 2001:db8::s, 2001:db8::d.
 */
static inline void pb_ipv6(struct pb *pb, unsigned nh, unsigned s, unsigned d)
{
    pb_fix(pb, PB_FIX_IPV6);
    pb_u32(pb, 0x60000000);
    pb_u16(pb, 0);
    pb_u8(pb, nh);
    pb_u8(pb, 64);
    pb_u32(pb, 0x20010db8);
    pb_u32(pb, 0);
    pb_u32(pb, 0);
    pb_u32(pb, s);
    pb_u32(pb, 0x20010db8);
    pb_u32(pb, 0);
    pb_u32(pb, 0);
    pb_u32(pb, d);
}

/* UDP: ports, length (pb_done), checksum 0. */
static inline void pb_udp(struct pb *pb, unsigned sport, unsigned dport)
{
    pb_fix(pb, PB_FIX_UDP);
    pb_u16(pb, sport);
    pb_u16(pb, dport);
    pb_u16(pb, 0);
    pb_u16(pb, 0);
}

/* TCP, 20 bytes: ports, seq 1000, ack 2000, data offset 5, flags, window 0xffff. */
static inline void pb_tcp(struct pb *pb, unsigned sport, unsigned dport, unsigned flags)
{
    pb_u16(pb, sport);
    pb_u16(pb, dport);
    pb_u32(pb, 1000);
    pb_u32(pb, 2000);
    pb_u8(pb, 0x50);
    pb_u8(pb, flags);
    pb_u16(pb, 0xffff);
    pb_u32(pb, 0);
}

/* GRE: flags/version word, protocol, then checksum, key, sequence as the flags say. */
static inline void pb_gre(struct pb *pb, unsigned flags, unsigned proto, uint32_t key, uint32_t seq)
{
    pb_u16(pb, flags);
    pb_u16(pb, proto);
    if (flags & 0x8000)
        pb_u32(pb, 0);
    if (flags & 0x2000)
        pb_u32(pb, key);
    if (flags & 0x1000)
        pb_u32(pb, seq);
}

/* ERSPAN type II: version 1 | VLAN, CoS/En/T 0 | session, reserved | index 0. */
static inline void pb_erspan2(struct pb *pb, unsigned session, unsigned vlan)
{
    pb_u16(pb, 0x1000 | vlan);
    pb_u16(pb, session);
    pb_u32(pb, 0);
}

/* VXLAN: flags 0x08 (I), reserved, VNI, reserved. */
static inline void pb_vxlan(struct pb *pb, uint32_t vni)
{
    pb_u32(pb, 0x08000000);
    pb_u32(pb, vni << 8);
}

/*
 * GTPv1-U G-PDU: flags 0x30 (version 1, PT 1) or 0x34 (E set) with a PDU
 * session container extension (type 0x85, length 1 = 4 bytes: 01 00 09 00
 * meaning length, QFI 9, next type 0), length (pb_done), TEID.
 */
static inline void pb_gtpu(struct pb *pb, uint32_t teid, int ext)
{
    pb_fix(pb, PB_FIX_GTP);
    pb_u8(pb, ext ? 0x34 : 0x30);
    pb_u8(pb, 0xff);
    pb_u16(pb, 0);
    pb_u32(pb, teid);
    if (ext) {
        pb_u16(pb, 0);          /* sequence */
        pb_u8(pb, 0);           /* N-PDU */
        pb_u8(pb, 0x85);        /* next extension: PDU session container */
        pb_u32(pb, 0x01000900); /* length 1, QFI 9, next 0 */
    }
}

/* n bytes of 'A' as application payload. */
static inline void pb_payload(struct pb *pb, size_t n)
{
    memset(pb->b + pb->n, 'A', n);
    pb->n += (uint32_t)n;
}

/* Fills the length fields, innermost first, and the IPv4 header checksums. */
static inline void pb_done(struct pb *pb)
{
    for (unsigned i = pb->n_fix; i-- > 0;) {
        uint32_t at = pb->fix_at[i], len = pb->n - at;
        uint8_t *h = pb->b + at;
        switch (pb->fix_kind[i]) {
            case PB_FIX_IPV4: {
                uint32_t sum = 0;
                h[2] = (uint8_t)(len >> 8);
                h[3] = (uint8_t)len;
                for (unsigned j = 0; j < 20; j += 2)
                    sum += (uint32_t)h[j] << 8 | h[j + 1];
                while (sum >> 16)
                    sum = (sum & 0xffff) + (sum >> 16);
                h[10] = (uint8_t)(~sum >> 8);
                h[11] = (uint8_t)~sum;
                break;
            }
            case PB_FIX_IPV6:
                h[4] = (uint8_t)((len - 40) >> 8);
                h[5] = (uint8_t)(len - 40);
                break;
            case PB_FIX_UDP:
                h[4] = (uint8_t)(len >> 8);
                h[5] = (uint8_t)len;
                break;
            default:
                h[2] = (uint8_t)((len - 8) >> 8);
                h[3] = (uint8_t)(len - 8);
                break;
        }
    }
}

/* Fills p for decoding bytes b[0..n) of link type lt. */
static inline void pb_packet(struct tw_packet *p, const uint8_t *b, size_t n, uint32_t lt)
{
    memset(p, 0, sizeof(*p));
    p->data = b;
    p->caplen = (uint32_t)n;
    p->wirelen = (uint32_t)n;
    p->linktype = lt;
}

/* Writes the layer kinds of p as "eth,vlan,ipv4,..." into out. */
static inline const char *pb_kinds(const struct tw_packet *p, char *out, size_t cap)
{
    size_t pos = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < p->n_layers; i++) {
        const char *k = tw_layer_kind_name(p->layers[i].kind);
        size_t kl = strlen(k);
        if (pos + kl + 2 > cap)
            break;
        if (i > 0)
            out[pos++] = ',';
        memcpy(out + pos, k, kl);
        pos += kl;
        out[pos] = '\0';
    }
    return out;
}

#endif
