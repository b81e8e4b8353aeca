/*
 * decode_l4.c: transport headers: TCP, UDP (and the tunnels found by UDP
 * port), ICMP, ICMPv6 and the SCTP common header.
 *
 * The transport layer after the innermost IP layer is what the flow table
 * keys on: ports, and for TCP the flags, sequence and acknowledgement numbers.
 * The payload is what follows the transport header, bounded by the IP (or
 * UDP) length.
 */
#include "decode_int.h"

/*
 * TCP header (RFC 9293): ports (2+2), sequence (4), acknowledgement (4), data
 * offset in 32-bit words (high nibble of byte 12, >= 5), flags (byte 13),
 * window, checksum, urgent pointer, then options up to the data offset.
 * Options are skipped, not parsed.
 */
void tw__decode_tcp(struct tw__dctx *c, uint32_t off, uint32_t end)
{
    const uint8_t *h = c->pkt + off;
    uint32_t avail = off <= end ? end - off : 0;
    uint32_t hlen;
    struct tw_layer *l;

    if (avail < 20) {
        tw__fail(c, TW_EV_TCP_TRUNC);
        return;
    }
    hlen = (uint32_t)(h[12] >> 4) * 4;
    if (hlen < 20) {
        tw__fail(c, TW_EV_TCP_BAD_HLEN);
        return;
    }
    if (hlen > avail) {
        tw__fail(c, TW_EV_TCP_TRUNC);
        return;
    }
    if ((l = tw__push(c, TW_L_TCP, off, hlen)) == NULL)
        return;
    l->u.l4.sport = tw__rd16(h);
    l->u.l4.dport = tw__rd16(h + 2);
    l->u.l4.seq = tw__rd32(h + 4);
    l->u.l4.ack = tw__rd32(h + 8);
    l->u.l4.tcp_flags = h[13];
    c->p->payload = h + hlen;
    c->p->payload_len = avail - hlen;
}

/*
 * UDP header (RFC 768): ports (2+2), length (2, header included, >= 8),
 * checksum (2). A destination port equal to the configured VXLAN or GTP-U
 * port sends the payload to that tunnel's decoder.
 */
void tw__decode_udp(struct tw__dctx *c, uint32_t off, uint32_t end)
{
    const uint8_t *h = c->pkt + off;
    uint32_t avail = off <= end ? end - off : 0;
    uint32_t ulen;
    uint16_t dport;
    struct tw_layer *l;

    if (avail < 8) {
        tw__fail(c, TW_EV_UDP_TRUNC);
        return;
    }
    ulen = tw__rd16(h + 4);
    if (ulen < 8 || ulen > avail) {
        tw__fail(c, TW_EV_UDP_BAD_LEN);
        return;
    }
    if ((l = tw__push(c, TW_L_UDP, off, 8)) == NULL)
        return;
    dport = tw__rd16(h + 2);
    l->u.l4.sport = tw__rd16(h);
    l->u.l4.dport = dport;
    c->p->payload = h + 8;
    c->p->payload_len = ulen - 8;
    end = off + ulen;
    if (dport != 0 && dport == c->d->cfg.vxlan_port)
        tw__decode_vxlan(c, off + 8, end);
    else if (dport != 0 && dport == c->d->cfg.gtpu_port)
        tw__decode_gtpu(c, off + 8, end);
}

/*
 * ICMP and ICMPv6: type (1), code (1), checksum (2) and a 4-byte field whose
 * meaning depends on the type; 8 bytes in all. Error messages quote the
 * offending IP header in their payload; it is not decoded as a layer.
 */
void tw__decode_icmp(struct tw__dctx *c, uint32_t off, uint32_t end, bool v6)
{
    const uint8_t *h = c->pkt + off;
    uint32_t avail = off <= end ? end - off : 0;
    struct tw_layer *l;

    if (avail < 8) {
        tw__fail(c, v6 ? TW_EV_ICMPV6_TRUNC : TW_EV_ICMP_TRUNC);
        return;
    }
    if ((l = tw__push(c, v6 ? TW_L_ICMPV6 : TW_L_ICMP, off, 8)) == NULL)
        return;
    l->u.icmp.type = h[0];
    l->u.icmp.code = h[1];
    c->p->payload = h + 8;
    c->p->payload_len = avail - 8;
}

/*
 * SCTP common header (RFC 9260): source port (2), destination port (2),
 * verification tag (4), checksum (4). Chunks follow as the payload.
 */
void tw__decode_sctp(struct tw__dctx *c, uint32_t off, uint32_t end)
{
    const uint8_t *h = c->pkt + off;
    uint32_t avail = off <= end ? end - off : 0;
    struct tw_layer *l;

    if (avail < 12) {
        tw__fail(c, TW_EV_SCTP_TRUNC);
        return;
    }
    if ((l = tw__push(c, TW_L_SCTP, off, 12)) == NULL)
        return;
    l->u.l4.sport = tw__rd16(h);
    l->u.l4.dport = tw__rd16(h + 2);
    c->p->payload = h + 12;
    c->p->payload_len = avail - 12;
}
