/*
 * decode_tunnel.c: GRE (with ERSPAN types I, II and III), VXLAN and GTP-U.
 *
 * Each tunnel header becomes a layer carrying its identifiers (GRE key and
 * sequence, ERSPAN session and VLAN, VNI, TEID), which feed tunnel_hash, and
 * then hands its payload back to the walk: Ethernet for transparent bridging,
 * ERSPAN and VXLAN, IP for GTP-U, any ethertype for GRE.
 */
#include "decode_int.h"

/* GRE flag bits (RFC 2784 and RFC 2890; routing/strict/recursion are RFC 1701). */
#define GRE_F_CSUM    0x8000
#define GRE_F_ROUTING 0x4000
#define GRE_F_KEY     0x2000
#define GRE_F_SEQ     0x1000
#define GRE_F_STRICT  0x0800
#define GRE_F_RECUR   0x0700
#define GRE_VERSION   0x0007

/* ==== ERSPAN ==== */

/*
 * ERSPAN type II (8 bytes after a GRE header that has a sequence number):
 *   OFFSET SIZE DESCRIPTION
 *   0      4b   version (1)
 *   4b     12b  VLAN of the mirrored frame
 *   2      3b   CoS, 2b encapsulation type, 1b truncated
 *   2+6b   10b  session id
 *   4      12b  reserved, 20b port index
 * An Ethernet frame follows.
 */
static void decode_erspan2(struct tw__dctx *c, uint32_t off, uint32_t end)
{
    const uint8_t *h = c->pkt + off;
    struct tw_layer *l;

    if (end - off < 8) {
        tw__fail(c, TW_EV_ERSPAN_TRUNC);
        return;
    }
    if (h[0] >> 4 != 1) {
        tw__fail(c, TW_EV_ERSPAN_BAD_VERSION);
        return;
    }
    if ((l = tw__push(c, TW_L_ERSPAN, off, 8)) == NULL)
        return;
    l->u.erspan.version = 1;
    l->u.erspan.vlan = tw__rd16(h) & 0x0FFF;
    l->u.erspan.session = tw__rd16(h + 2) & 0x03FF;
    tw__decode_eth(c, off + 8, end);
}

/*
 * ERSPAN type III (12 bytes, then 8 more when the O bit is set):
 *   OFFSET SIZE DESCRIPTION
 *   0      4b   version (2)
 *   4b     12b  VLAN
 *   2      6b   CoS/BSO/T, 10b session id
 *   4      4    timestamp
 *   8      2    security group tag
 *   10     1b   P, 5b frame type (0 Ethernet, 2 IP), 2b hardware id (high)
 *   11     4b   hardware id (low), 1b D, 2b granularity, 1b O
 *   12     8    platform-specific subheader (when O is set)
 */
static void decode_erspan3(struct tw__dctx *c, uint32_t off, uint32_t end)
{
    const uint8_t *h = c->pkt + off;
    struct tw_layer *l;
    uint32_t hlen;
    unsigned ft;

    if (end - off < 12) {
        tw__fail(c, TW_EV_ERSPAN_TRUNC);
        return;
    }
    if (h[0] >> 4 != 2) {
        tw__fail(c, TW_EV_ERSPAN_BAD_VERSION);
        return;
    }
    hlen = (h[11] & 1) != 0 ? 20 : 12;
    if (end - off < hlen) {
        tw__fail(c, TW_EV_ERSPAN_TRUNC);
        return;
    }
    if ((l = tw__push(c, TW_L_ERSPAN, off, hlen)) == NULL)
        return;
    l->u.erspan.version = 2;
    l->u.erspan.vlan = tw__rd16(h) & 0x0FFF;
    l->u.erspan.session = tw__rd16(h + 2) & 0x03FF;
    ft = (h[10] >> 2) & 0x1F;
    if (ft == 0)
        tw__decode_eth(c, off + hlen, end);
    else if (ft == 2)
        tw__decode_ip_any(c, off + hlen, end, TW_EV_IPV4_BAD_VERSION);
}

/* ==== GRE ==== */

/*
 * GRE header (RFC 2784, keys and sequence numbers from RFC 2890):
 *   OFFSET SIZE DESCRIPTION
 *   0      2    flags: C 0x8000, K 0x2000, S 0x1000; version in the low 3 bits (0)
 *   2      2    protocol (an ethertype)
 *   4      4    checksum + reserved (when C)
 *   ..     4    key (when K)
 *   ..     4    sequence number (when S)
 * Routing (0x4000), strict source route (0x0800) and recursion (0x0700) are
 * RFC 1701 features a version-0 receiver must reject.
 */
void tw__decode_gre(struct tw__dctx *c, uint32_t off, uint32_t end)
{
    const uint8_t *h = c->pkt + off;
    uint32_t avail = off <= end ? end - off : 0;
    uint32_t hlen = 4, pos;
    uint16_t flags, proto;
    struct tw_layer *l;

    if (avail < 4) {
        tw__fail(c, TW_EV_GRE_TRUNC);
        return;
    }
    flags = tw__rd16(h);
    proto = tw__rd16(h + 2);
    if ((flags & GRE_VERSION) != 0) {
        tw__fail(c, TW_EV_GRE_BAD_VERSION);
        return;
    }
    if ((flags & (GRE_F_ROUTING | GRE_F_STRICT | GRE_F_RECUR)) != 0) {
        tw__fail(c, TW_EV_GRE_BAD_FLAGS);
        return;
    }
    hlen += (flags & GRE_F_CSUM) != 0 ? 4 : 0;
    hlen += (flags & GRE_F_KEY) != 0 ? 4 : 0;
    hlen += (flags & GRE_F_SEQ) != 0 ? 4 : 0;
    if (hlen > avail) {
        tw__fail(c, TW_EV_GRE_TRUNC);
        return;
    }
    if ((l = tw__push(c, TW_L_GRE, off, hlen)) == NULL)
        return;
    l->u.gre.proto = proto;
    pos = (flags & GRE_F_CSUM) != 0 ? 8 : 4;
    if ((flags & GRE_F_KEY) != 0) {
        l->u.gre.has_key = true;
        l->u.gre.key = tw__rd32(h + pos);
        pos += 4;
    }
    if ((flags & GRE_F_SEQ) != 0) {
        l->u.gre.has_seq = true;
        l->u.gre.seq = tw__rd32(h + pos);
    }
    c->p->payload = h + hlen;
    c->p->payload_len = avail - hlen;

    off += hlen;
    switch (proto) {
        case TW_ET_TEB:
            tw__decode_eth(c, off, end);
            break;
        case TW_ET_ERSPAN2:
            if ((flags & GRE_F_SEQ) != 0) {
                decode_erspan2(c, off, end);
            } else if (c->d->cfg.erspan_type1) {
                /* Type I: no ERSPAN header at all, the mirrored frame follows. */
                if (tw__push(c, TW_L_ERSPAN, off, 0) != NULL)
                    tw__decode_eth(c, off, end);
            } else {
                tw__fail(c, TW_EV_ERSPAN_TYPE1_OFF);
            }
            break;
        case TW_ET_ERSPAN3:
            decode_erspan3(c, off, end);
            break;
        default:
            tw__decode_ethertype(c, proto, off, end);
            break;
    }
}

/* ==== VXLAN ==== */

/*
 * VXLAN header (RFC 7348), after UDP to the VXLAN port:
 *   OFFSET SIZE DESCRIPTION
 *   0      1    flags: I (0x08) says the VNI is valid
 *   1      3    reserved
 *   4      3    VXLAN network identifier
 *   7      1    reserved
 * An Ethernet frame follows.
 */
void tw__decode_vxlan(struct tw__dctx *c, uint32_t off, uint32_t end)
{
    const uint8_t *h = c->pkt + off;
    struct tw_layer *l;

    if (end - off < 8) {
        tw__fail(c, TW_EV_VXLAN_TRUNC);
        return;
    }
    if ((h[0] & 0x08) == 0) {
        tw__fail(c, TW_EV_VXLAN_BAD_FLAGS);
        return;
    }
    if ((l = tw__push(c, TW_L_VXLAN, off, 8)) == NULL)
        return;
    l->u.vxlan.vni = tw__rd24(h + 4);
    tw__decode_eth(c, off + 8, end);
}

/* ==== GTP-U ==== */

/*
 * GTPv1-U header (3GPP TS 29.281), after UDP to the GTP-U port:
 *   OFFSET SIZE DESCRIPTION
 *   0      1    version (3 bits, 1) | PT (1) | reserved | E | S | PN
 *   1      1    message type (0xFF G-PDU carries a user packet)
 *   2      2    length of everything after these 8 bytes
 *   4      4    TEID
 *   8      2    sequence number      } present when any of E, S, PN is set
 *   10     1    N-PDU number         }
 *   11     1    next extension type  }
 * Extension headers: length in 4-byte units (counting itself), content,
 * next extension type in the last byte; type 0 ends the chain.
 */
void tw__decode_gtpu(struct tw__dctx *c, uint32_t off, uint32_t end)
{
    const uint8_t *h = c->pkt + off;
    struct tw_layer *l;
    uint32_t glen, gend, pos;
    uint8_t next;

    if (end - off < 8) {
        tw__fail(c, TW_EV_GTPU_TRUNC);
        return;
    }
    if ((h[0] >> 5) != 1 || (h[0] & 0x10) == 0) {
        tw__fail(c, TW_EV_GTPU_BAD_VERSION);
        return;
    }
    glen = tw__rd16(h + 2);
    if (glen > end - off - 8 || ((h[0] & 0x07) != 0 && glen < 4)) {
        tw__fail(c, TW_EV_GTPU_BAD_LEN);
        return;
    }
    gend = off + 8 + glen;
    if ((l = tw__push(c, TW_L_GTPU, off, 8)) == NULL)
        return;
    l->u.gtpu.teid = tw__rd32(h + 4);
    l->u.gtpu.msg_type = h[1];
    pos = off + 8;
    if ((h[0] & 0x07) != 0) {
        unsigned n = 0;

        next = h[11];
        pos = off + 12;
        while (next != 0) {
            uint32_t elen;

            if (n++ == TW_DECODE_MAX_GTPU_EXT) {
                tw__fail(c, TW_EV_GTPU_EXT_TOO_MANY);
                return;
            }
            if (pos >= gend) {
                tw__fail(c, TW_EV_GTPU_EXT_TRUNC);
                return;
            }
            elen = (uint32_t)c->pkt[pos] * 4;
            if (elen == 0) {
                tw__fail(c, TW_EV_GTPU_EXT_BAD_LEN);
                return;
            }
            if (elen > gend - pos) {
                tw__fail(c, TW_EV_GTPU_EXT_TRUNC);
                return;
            }
            next = c->pkt[pos + elen - 1];
            pos += elen;
        }
        l->len = (uint16_t)(pos - off);
    }
    c->p->payload = c->pkt + pos;
    c->p->payload_len = gend - pos;
    if (h[1] != 0xFF || pos == gend)
        return; /* echo, error indication, end marker: no user packet */
    tw__decode_ip_any(c, pos, gend, TW_EV_GTPU_BAD_INNER);
}
