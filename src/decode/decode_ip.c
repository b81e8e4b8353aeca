/*
 * decode_ip.c: IPv4 and IPv6 headers, IPv6 extension headers, the hand-off of
 * fragments to the reassembler, and the dispatch on the IP protocol number
 * (transport, GRE, IP-in-IP in all four combinations).
 *
 * An IP header bounds what follows it: the walk below an IPv4 header ends at
 * its total length and below an IPv6 header at its payload length, so link
 * padding is never decoded. A total length beyond the captured bytes is an
 * event (the packet was cut by the snap length or lies about itself) and the
 * walk stops at the IP layer.
 */
#include <string.h>

#include "decode_int.h"

/* ==== Fragments ==== */

/*
 * Builds the reassembly key: family, protocol (IPv4 only: RFC 8200 keys IPv6
 * fragments on addresses and id alone), id, addresses and a hash of the
 * tunnel context before this IP layer, so identical inner datagrams in two
 * tunnels never mix.
 */
static void frag_key(struct tw__dctx *c, struct tw__frag_in *f, unsigned ip_idx, uint8_t family,
        uint8_t proto, uint32_t id)
{
    const struct tw_layer *l = &c->p->layers[ip_idx];
    uint64_t ctx = tw__context_hash(c->p, ip_idx, true);

    memset(f->key, 0, sizeof(f->key));
    f->key[0] = family;
    f->key[1] = proto;
    f->key[2] = (uint8_t)(id >> 24);
    f->key[3] = (uint8_t)(id >> 16);
    f->key[4] = (uint8_t)(id >> 8);
    f->key[5] = (uint8_t)id;
    memcpy(f->key + 6, l->u.ip.src.bytes, 16);
    memcpy(f->key + 22, l->u.ip.dst.bytes, 16);
    for (unsigned i = 0; i < 8; i++)
        f->key[38 + i] = (uint8_t)(ctx >> (8 * i));
}

/*
 * Gives a fragment whose IP layer is layers[ip_idx] (starting at `off`) to
 * the reassembler. When it completes a datagram, the layers from ip_idx on
 * are dropped and the reassembled datagram is decoded in their place.
 */
static void frag_submit(struct tw__dctx *c, struct tw__frag_in *f, unsigned ip_idx, uint32_t off)
{
    int r;

    if (c->d->cfg.defrag_memcap == 0 || c->reassembled)
        return; /* reassembly off, or a fragment inside a reassembled datagram */
    r = tw__defrag_add(c, f, off);
    if (r != TW_DECODE_REASSEMBLED) {
        if (c->result == TW_DECODE_OK)
            c->result = r;
        return;
    }
    c->reassembled = true;
    c->result = TW_DECODE_REASSEMBLED;
    c->p->n_layers = (uint8_t)ip_idx;
    c->p->payload = NULL;
    c->p->payload_len = 0;
    if (f->ipv6)
        tw__decode_ipv6(c, off, c->caplen);
    else
        tw__decode_ipv4(c, off, c->caplen);
    if (c->p->n_layers > ip_idx)
        c->p->layers[ip_idx].u.ip.reassembled = true;
}

/* ==== IPv4 ==== */

/*
 * Walks the options of an IPv4 header (RFC 791): type 0 ends the list, type 1
 * is one byte, every other option has a length byte counting itself and the
 * type. A bad length is counted; the header length still bounds the header,
 * so the walk goes on.
 */
static void ipv4_options(struct tw__dctx *c, const uint8_t *h, uint32_t hlen)
{
    uint32_t i = 20;

    while (i < hlen) {
        uint8_t t = h[i];
        if (t == 0)
            return;
        if (t == 1) {
            i++;
            continue;
        }
        if (hlen - i < 2 || h[i + 1] < 2 || h[i + 1] > hlen - i) {
            tw__event(c, TW_EV_IPV4_OPT_BAD_LEN);
            return;
        }
        i += h[i + 1];
    }
}

/*
 * IPv4 header (RFC 791):
 *   OFFSET SIZE DESCRIPTION
 *   0      1    version (4) << 4 | header length in 32-bit words (>= 5)
 *   2      2    total length (header + data)
 *   4      2    identification
 *   6      2    flags (DF 0x4000, MF 0x2000) | fragment offset in 8-byte units
 *   8      1    TTL
 *   9      1    protocol
 *   12     4    source address
 *   16     4    destination address
 *   20     ...  options, up to the header length
 */
void tw__decode_ipv4(struct tw__dctx *c, uint32_t off, uint32_t end)
{
    const uint8_t *h = c->pkt + off;
    uint32_t avail = off <= end ? end - off : 0;
    uint32_t hlen, tot, foff;
    uint16_t fo;
    struct tw_layer *l;
    unsigned idx;

    if (avail < 20) {
        tw__fail(c, TW_EV_IPV4_TRUNC_HEADER);
        return;
    }
    if (h[0] >> 4 != 4) {
        tw__fail(c, TW_EV_IPV4_BAD_VERSION);
        return;
    }
    hlen = (uint32_t)(h[0] & 0x0F) * 4;
    if (hlen < 20) {
        tw__fail(c, TW_EV_IPV4_BAD_HLEN);
        return;
    }
    if (hlen > avail) {
        tw__fail(c, TW_EV_IPV4_TRUNC_HEADER);
        return;
    }
    tot = tw__rd16(h + 2);
    if (tot < hlen) {
        tw__fail(c, TW_EV_IPV4_BAD_TOTAL_LEN);
        return;
    }
    if (tot > avail) {
        tw__fail(c, TW_EV_IPV4_TRUNC_PKT);
        return;
    }
    idx = c->p->n_layers;
    if ((l = tw__push(c, TW_L_IPV4, off, hlen)) == NULL)
        return;
    l->u.ip.src.family = 4;
    memcpy(l->u.ip.src.bytes, h + 12, 4);
    l->u.ip.dst.family = 4;
    memcpy(l->u.ip.dst.bytes, h + 16, 4);
    l->u.ip.proto = h[9];
    l->u.ip.ttl = h[8];
    if (hlen > 20)
        ipv4_options(c, h, hlen);
    c->p->payload = h + hlen;
    c->p->payload_len = tot - hlen;

    fo = tw__rd16(h + 6);
    foff = (uint32_t)(fo & 0x1FFF) * 8;
    if ((fo & 0x2000) != 0 || foff != 0) {
        struct tw__frag_in f;

        l->u.ip.fragment = true;
        memset(&f, 0, sizeof(f));
        frag_key(c, &f, idx, 4, h[9], tw__rd16(h + 4));
        f.frag_off = foff;
        f.data = h + hlen;
        f.len = tot - hlen;
        f.more = (fo & 0x2000) != 0;
        f.hdr = h;
        f.hdr_len = hlen;
        frag_submit(c, &f, idx, off);
        return;
    }
    tw__decode_ipproto(c, h[9], off + hlen, off + tot);
}

/* ==== IPv6 ==== */

/*
 * IPv6 header (RFC 8200), then extension headers:
 *   OFFSET SIZE DESCRIPTION
 *   0      4    version (6) << 28 | traffic class | flow label
 *   4      2    payload length (after these 40 bytes)
 *   6      1    next header
 *   7      1    hop limit
 *   8      16   source address
 *   24     16   destination address
 * Hop-by-hop (0), routing (43) and destination options (60): next header,
 * length in 8-byte units not counting the first 8. AH (51): length in 4-byte
 * units minus 2. Fragment (44): 8 bytes: next header, reserved, offset (13
 * bits, 8-byte units) | M flag, identification (32). ESP (50) and "no next
 * header" (59) end the walk: what follows is opaque.
 */
void tw__decode_ipv6(struct tw__dctx *c, uint32_t off, uint32_t end)
{
    const uint8_t *h = c->pkt + off;
    uint32_t avail = off <= end ? end - off : 0;
    uint32_t plen, pos, nh_pos;
    uint8_t nh;
    struct tw_layer *l;
    unsigned idx, n;

    if (avail < 40) {
        tw__fail(c, TW_EV_IPV6_TRUNC_HEADER);
        return;
    }
    if (h[0] >> 4 != 6) {
        tw__fail(c, TW_EV_IPV6_BAD_VERSION);
        return;
    }
    plen = tw__rd16(h + 4);
    if (plen == 0 && h[6] == TW_IPPROTO_HOPOPTS)
        plen = avail - 40; /* jumbogram: the length is in a hop-by-hop option */
    if (plen > avail - 40) {
        tw__fail(c, TW_EV_IPV6_TRUNC_PKT);
        return;
    }
    end = off + 40 + plen;
    idx = c->p->n_layers;
    if ((l = tw__push(c, TW_L_IPV6, off, 40)) == NULL)
        return;
    l->u.ip.src.family = 6;
    memcpy(l->u.ip.src.bytes, h + 8, 16);
    l->u.ip.dst.family = 6;
    memcpy(l->u.ip.dst.bytes, h + 24, 16);
    l->u.ip.ttl = h[7];

    nh = h[6];
    nh_pos = off + 6;
    pos = off + 40;
    for (n = 0; n < TW_DECODE_MAX_IPV6_EXT; n++) {
        const uint8_t *e = c->pkt + pos;
        uint32_t elen;

        if (nh == TW_IPPROTO_HOPOPTS || nh == TW_IPPROTO_ROUTING || nh == TW_IPPROTO_DSTOPTS ||
                nh == TW_IPPROTO_AH) {
            if (end - pos < 2) {
                l->len = (uint16_t)(pos - off);
                tw__fail(c, TW_EV_IPV6_EXT_TRUNC);
                return;
            }
            elen = nh == TW_IPPROTO_AH ? ((uint32_t)e[1] + 2) * 4 : ((uint32_t)e[1] + 1) * 8;
            if (elen > end - pos) {
                l->len = (uint16_t)(pos - off);
                tw__fail(c, TW_EV_IPV6_EXT_TRUNC);
                return;
            }
            nh_pos = pos;
            nh = e[0];
            pos += elen;
            continue;
        }
        if (nh == TW_IPPROTO_FRAGMENT) {
            uint16_t fo;
            struct tw__frag_in f;

            if (end - pos < 8) {
                l->len = (uint16_t)(pos - off);
                tw__fail(c, TW_EV_IPV6_EXT_TRUNC);
                return;
            }
            fo = tw__rd16(e + 2);
            if ((fo & 0xFFF8) == 0 && (fo & 1) == 0) {
                /* Atomic fragment (RFC 6946): a whole datagram, skip the header. */
                nh_pos = pos;
                nh = e[0];
                pos += 8;
                continue;
            }
            l->len = (uint16_t)(pos - off);
            l->u.ip.proto = e[0];
            l->u.ip.fragment = true;
            c->p->payload = e + 8;
            c->p->payload_len = end - pos - 8;
            memset(&f, 0, sizeof(f));
            frag_key(c, &f, idx, 6, 0, tw__rd32(e + 4));
            f.frag_off = fo & 0xFFF8;
            f.data = e + 8;
            f.len = end - pos - 8;
            f.more = (fo & 1) != 0;
            f.ipv6 = true;
            f.hdr = h;
            f.hdr_len = pos - off;
            f.nh_pos = nh_pos - off;
            f.nh = e[0];
            frag_submit(c, &f, idx, off);
            return;
        }
        break;
    }
    l->len = (uint16_t)(pos - off);
    l->u.ip.proto = nh;
    if (n == TW_DECODE_MAX_IPV6_EXT) {
        tw__fail(c, TW_EV_IPV6_EXT_TOO_MANY);
        return;
    }
    c->p->payload = c->pkt + pos;
    c->p->payload_len = end - pos;
    tw__decode_ipproto(c, nh, pos, end);
}

/* ==== Dispatch ==== */

void tw__decode_ip_any(struct tw__dctx *c, uint32_t off, uint32_t end, unsigned bad_ev)
{
    if (off >= end) {
        tw__fail(c, TW_EV_IPV4_TRUNC_HEADER);
        return;
    }
    switch (c->pkt[off] >> 4) {
        case 4:
            tw__decode_ipv4(c, off, end);
            break;
        case 6:
            tw__decode_ipv6(c, off, end);
            break;
        default:
            tw__fail(c, bad_ev);
            break;
    }
}

void tw__decode_ipproto(struct tw__dctx *c, uint8_t proto, uint32_t off, uint32_t end)
{
    switch (proto) {
        case TW_IPPROTO_TCP:
            tw__decode_tcp(c, off, end);
            break;
        case TW_IPPROTO_UDP:
            tw__decode_udp(c, off, end);
            break;
        case TW_IPPROTO_ICMP:
            tw__decode_icmp(c, off, end, false);
            break;
        case TW_IPPROTO_ICMPV6:
            tw__decode_icmp(c, off, end, true);
            break;
        case TW_IPPROTO_SCTP:
            tw__decode_sctp(c, off, end);
            break;
        case TW_IPPROTO_GRE:
            tw__decode_gre(c, off, end);
            break;
        case TW_IPPROTO_IPIP:
            tw__decode_ipv4(c, off, end);
            break;
        case TW_IPPROTO_IPV6:
            tw__decode_ipv6(c, off, end);
            break;
        default:
            /* ESP, OSPF, ...: the payload stays opaque. */
            break;
    }
}
