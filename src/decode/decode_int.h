/*
 * decode_int.h: what the decoder's files share and nobody else sees.
 *
 * The walker is a recursive descent: each protocol function checks its
 * length, pushes one struct tw_layer and calls the function for what it
 * carries. Every call that recurses pushes a layer first, so the depth is
 * bounded by TW_MAX_LAYERS (tw__push() refuses the seventeenth). `end` is the
 * first byte not belonging to the current header's payload: IPv4 total length,
 * IPv6 payload length, UDP length and GTP length shrink it, so trailing padding
 * is never decoded as a header.
 */
#ifndef TW_DECODE_INT_H
#define TW_DECODE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tidewatch/decode.h"
#include "tidewatch/packet.h"

/* Ethertypes and protocol numbers the walker dispatches on. */
#define TW_ET_IPV4      0x0800
#define TW_ET_IPV6      0x86DD
#define TW_ET_VLAN      0x8100
#define TW_ET_QINQ      0x88A8
#define TW_ET_QINQ_OLD  0x9100
#define TW_ET_MPLS_UC   0x8847
#define TW_ET_MPLS_MC   0x8848
#define TW_ET_PPPOE_SES 0x8864
#define TW_ET_TEB       0x6558 /* transparent Ethernet bridging (GRE) */
#define TW_ET_ERSPAN2   0x88BE /* ERSPAN type I and II */
#define TW_ET_ERSPAN3   0x22EB

#define TW_IPPROTO_HOPOPTS  0
#define TW_IPPROTO_ICMP     1
#define TW_IPPROTO_IPIP     4
#define TW_IPPROTO_TCP      6
#define TW_IPPROTO_UDP      17
#define TW_IPPROTO_IPV6     41
#define TW_IPPROTO_ROUTING  43
#define TW_IPPROTO_FRAGMENT 44
#define TW_IPPROTO_GRE      47
#define TW_IPPROTO_ESP      50
#define TW_IPPROTO_AH       51
#define TW_IPPROTO_ICMPV6   58
#define TW_IPPROTO_NONE     59
#define TW_IPPROTO_DSTOPTS  60
#define TW_IPPROTO_SCTP     132

/* Reassembly state (defrag.c). */
struct tw__defrag {
    struct tw__tracker **buckets; /* hash chains, allocated on the first fragment */
    size_t n_buckets;             /* power of two */
    struct tw__tracker *oldest;   /* creation order, for the timeout */
    struct tw__tracker *newest;
    size_t n_trackers;
    size_t mem; /* bytes accounted against the memcap */
};

struct tw_decoder {
    struct tw_decoder_config cfg;
    uint64_t events[TW_EV_COUNT]; /* [0] counts packets */
    struct tw__defrag defrag;
    uint8_t *rbuf; /* reassembled packet handed out with TW_DECODE_REASSEMBLED */
    size_t rbuf_cap;
};

/* One decode call's state. */
struct tw__dctx {
    struct tw_decoder *d;
    struct tw_packet *p;
    const uint8_t *pkt; /* bytes being walked (p->data, or the reassembly buffer) */
    uint32_t caplen;
    int result;       /* TW_DECODE_* so far */
    bool reassembled; /* one reassembly per call: the buffer is not reentrant */
    bool stop;        /* a header could not be decoded: push nothing more */
};

/* A fragment handed to the reassembler. */
struct tw__frag_in {
    uint8_t key[48];     /* family, proto, id, src, dst, tunnel context */
    uint32_t frag_off;   /* byte offset of data in the datagram */
    const uint8_t *data; /* fragment payload */
    uint32_t len;
    bool more; /* more fragments follow */
    bool ipv6;
    const uint8_t *hdr; /* IP header (+ IPv6 unfragmentable part), first fragment */
    uint32_t hdr_len;
    uint32_t nh_pos; /* IPv6: offset in hdr of the next-header byte to patch */
    uint8_t nh;      /* IPv6: next header after the fragment header */
};

static inline uint16_t tw__rd16(const uint8_t *b)
{
    return (uint16_t)((unsigned)b[0] << 8 | b[1]);
}

static inline uint32_t tw__rd24(const uint8_t *b)
{
    return (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
}

static inline uint32_t tw__rd32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Counts ev and records it as the packet's event if it is the first. */
void tw__event(struct tw__dctx *c, unsigned ev);
/* Counts ev, records it, and stops the walk. */
void tw__fail(struct tw__dctx *c, unsigned ev);
/*
 * Appends a layer of `kind` at [off, off+len). Returns it zeroed apart from
 * kind/offset/len, or NULL (with TOO_MANY_LAYERS or PKT_TOO_LARGE counted and
 * the walk stopped) when it does not fit. Inline: every header of every
 * packet goes through it.
 */
static inline struct tw_layer *tw__push(
        struct tw__dctx *c, unsigned kind, uint32_t off, uint32_t len)
{
    struct tw_packet *p = c->p;
    struct tw_layer *l;

    if (c->stop)
        return NULL;
    if (p->n_layers >= TW_MAX_LAYERS) {
        tw__fail(c, TW_EV_TOO_MANY_LAYERS);
        return NULL;
    }
    if (off > UINT16_MAX || len > UINT16_MAX) {
        tw__fail(c, TW_EV_PKT_TOO_LARGE);
        return NULL;
    }
    l = &p->layers[p->n_layers++];
    memset(l, 0, sizeof(*l));
    l->kind = (uint8_t)kind;
    l->offset = (uint16_t)off;
    l->len = (uint16_t)len;
    return l;
}
/* 64-bit hash of the tunnel context of layers [0, n). */
uint64_t tw__context_hash(const struct tw_packet *p, unsigned n, bool all_ids);

/* Link and layer 2 (decode.c). */
void tw__decode_eth(struct tw__dctx *c, uint32_t off, uint32_t end);
void tw__decode_ethertype(struct tw__dctx *c, uint16_t et, uint32_t off, uint32_t end);

/* IP (decode_ip.c). */
void tw__decode_ipv4(struct tw__dctx *c, uint32_t off, uint32_t end);
void tw__decode_ipv6(struct tw__dctx *c, uint32_t off, uint32_t end);
/* IPv4 or IPv6 by the first nibble; `bad_ev` is counted for anything else. */
void tw__decode_ip_any(struct tw__dctx *c, uint32_t off, uint32_t end, unsigned bad_ev);
void tw__decode_ipproto(struct tw__dctx *c, uint8_t proto, uint32_t off, uint32_t end);

/* Tunnels (decode_tunnel.c). */
void tw__decode_gre(struct tw__dctx *c, uint32_t off, uint32_t end);
void tw__decode_vxlan(struct tw__dctx *c, uint32_t off, uint32_t end);
void tw__decode_gtpu(struct tw__dctx *c, uint32_t off, uint32_t end);

/* Transport (decode_l4.c). */
void tw__decode_tcp(struct tw__dctx *c, uint32_t off, uint32_t end);
void tw__decode_udp(struct tw__dctx *c, uint32_t off, uint32_t end);
void tw__decode_icmp(struct tw__dctx *c, uint32_t off, uint32_t end, bool v6);
void tw__decode_sctp(struct tw__dctx *c, uint32_t off, uint32_t end);

/* Reassembly (defrag.c). */
/*
 * Stores fragment f, seen at ts_ns, for the IP layer that starts at
 * `prefix_len` in c->pkt. Returns TW_DECODE_HELD, TW_DECODE_DROPPED (event
 * counted) or TW_DECODE_REASSEMBLED, in which case c->pkt/c->caplen now hold
 * c->pkt[0..prefix_len) followed by the whole datagram.
 */
int tw__defrag_add(struct tw__dctx *c, const struct tw__frag_in *f, uint32_t prefix_len);
void tw__defrag_cleanup(struct tw_decoder *d);

#endif
