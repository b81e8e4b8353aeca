/*
 * decode.h: the packet decoder.
 *
 * tw_decode() walks one captured packet (struct tw_packet, packet.h) from its
 * link-layer header down to the innermost transport header, through every
 * encapsulation a telecom network uses: VLAN/QinQ, MPLS (with pseudowires),
 * PPPoE, IPv4/IPv6 with options and extension headers, GRE, ERSPAN I/II/III,
 * VXLAN, GTP-U and IP-in-IP. Every step checks its length first. Each header it
 * crosses becomes a struct tw_layer, outermost first; the decoder also fills
 * inner_ip, l4, payload and tunnel_hash, which the flow table keys on.
 *
 * Hostile input is data: a malformed header never stops the caller. The
 * decoder records the first problem in p->event (a TW_EV_* value), increments
 * that event's counter, keeps the layers it decoded before the problem and
 * trusts nothing after it.
 *
 * IPv4 and IPv6 fragments are reassembled inside the decoder, within a memory
 * cap, a tracker cap and a timeout (docs/internals/DECODE.md has the policy).
 *
 * A decoder is not thread-safe: use one per worker thread.
 */
#ifndef TIDEWATCH_DECODE_H
#define TIDEWATCH_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/common.h"
#include "tidewatch/packet.h"

/* Defaults of struct tw_decoder_config. */
#define TW_DECODE_VXLAN_PORT          4789
#define TW_DECODE_GTPU_PORT           2152
#define TW_DECODE_DEFRAG_MEMCAP       ((size_t)16 << 20) /* 16 MiB */
#define TW_DECODE_DEFRAG_TIMEOUT_S    60
#define TW_DECODE_DEFRAG_MAX_TRACKERS ((size_t)65536)
/* Hard limits whatever the configuration says. */
#define TW_DECODE_MAX_TRACKERS  ((size_t)1 << 22)
#define TW_DEFRAG_MAX_FRAGMENTS 256 /* stored pieces per datagram */
#define TW_DECODE_MAX_IPV6_EXT  16  /* IPv6 extension headers walked per IP header */
#define TW_DECODE_MAX_GTPU_EXT  16  /* GTP-U extension headers walked */

struct tw_decoder_config {
    uint16_t vxlan_port;        /* UDP destination port carrying VXLAN; 0 = off (4789) */
    uint16_t gtpu_port;         /* UDP destination port carrying GTP-U; 0 = off (2152) */
    size_t defrag_memcap;       /* bytes held for reassembly; 0 turns reassembly off */
    uint32_t defrag_timeout_s;  /* a datagram not complete this long after its first
                                   fragment is dropped (60) */
    size_t defrag_max_trackers; /* datagrams under reassembly at once (65536) */
    bool erspan_type1;          /* decode GRE 0x88BE without a sequence number as
                                   ERSPAN type I (true) */
    bool hash_directional_ids;  /* put MPLS labels and GTP-U TEIDs into tunnel_hash
                                   (false: they differ between the two directions) */
};

/*
 * What tw_decode() returns (all values are >= 0; a negative value is a TW_E*
 * code and only happens for a NULL argument).
 */
enum tw_decode_result {
    /* Decoded. p->event may name a problem; the layers before it are valid. */
    TW_DECODE_OK = 0,
    /* A fragment was stored for reassembly: the layers up to its IP header are
     * filled (the IP layer has u.ip.fragment set), but there is no transport
     * layer to match yet. */
    TW_DECODE_HELD = 1,
    /* The packet completed a datagram. p->data and p->caplen now point at the
     * reassembled bytes (this packet's outer headers followed by the whole IP
     * datagram), which the decoder owns until the next tw_decode() or
     * tw_decoder_free(). The layers describe those bytes; the reassembled IP
     * layer has u.ip.reassembled set. */
    TW_DECODE_REASSEMBLED = 2,
    /* A fragment could not be stored (memory cap, tracker cap, too large, too
     * many pieces, bad length): p->event says why. Layers up to its IP header
     * are filled; nothing is held. */
    TW_DECODE_DROPPED = 3,
};

/* Decode events: one per kind of problem, each with a counter. */
enum tw_decode_event {
    TW_EV_NONE = 0,
    TW_EV_LINK_UNKNOWN,        /* link type the decoder does not know */
    TW_EV_PKT_TOO_LARGE,       /* a header starts beyond what a layer offset holds */
    TW_EV_TOO_MANY_LAYERS,     /* more than TW_MAX_LAYERS headers */
    TW_EV_ETH_TRUNC,           /* Ethernet header cut short */
    TW_EV_SLL_TRUNC,           /* Linux cooked v1 header cut short */
    TW_EV_SLL2_TRUNC,          /* Linux cooked v2 header cut short */
    TW_EV_NULL_TRUNC,          /* BSD loopback header cut short */
    TW_EV_NULL_UNKNOWN_FAMILY, /* loopback family neither IPv4 nor IPv6 */
    TW_EV_RAW_BAD_VERSION,     /* raw link: first nibble neither 4 nor 6 */
    TW_EV_VLAN_TRUNC,          /* 802.1Q/802.1ad tag cut short */
    TW_EV_MPLS_TRUNC,          /* MPLS label stack entry cut short */
    TW_EV_MPLS_BAD_CW,         /* pseudowire control word cut short */
    TW_EV_PPPOE_TRUNC,         /* PPPoE session header or PPP protocol cut short */
    TW_EV_PPPOE_BAD_VERSION,   /* PPPoE version/type not 1/1 or code not 0 */
    TW_EV_PPPOE_BAD_LEN,       /* PPPoE length beyond the captured data */
    TW_EV_IPV4_TRUNC_HEADER,   /* fewer than 20 bytes or than the header length */
    TW_EV_IPV4_BAD_VERSION,    /* version field is not 4 */
    TW_EV_IPV4_BAD_HLEN,       /* IHL below 5 */
    TW_EV_IPV4_BAD_TOTAL_LEN,  /* total length below the header length */
    TW_EV_IPV4_TRUNC_PKT,      /* total length beyond the captured data */
    TW_EV_IPV4_OPT_BAD_LEN,    /* an option's length runs out of the header (kept going) */
    TW_EV_IPV6_TRUNC_HEADER,   /* fewer than 40 bytes */
    TW_EV_IPV6_BAD_VERSION,    /* version field is not 6 */
    TW_EV_IPV6_TRUNC_PKT,      /* payload length beyond the captured data */
    TW_EV_IPV6_EXT_TRUNC,      /* an extension header cut short */
    TW_EV_IPV6_EXT_TOO_MANY,   /* more than TW_DECODE_MAX_IPV6_EXT extension headers */
    TW_EV_GRE_TRUNC,           /* GRE header or its optional fields cut short */
    TW_EV_GRE_BAD_VERSION,     /* GRE version other than 0 */
    TW_EV_GRE_BAD_FLAGS,       /* routing, strict-route or recursion bits set */
    TW_EV_ERSPAN_TRUNC,        /* ERSPAN header cut short */
    TW_EV_ERSPAN_BAD_VERSION,  /* version field does not match the GRE protocol */
    TW_EV_ERSPAN_TYPE1_OFF,    /* ERSPAN type I seen while it is turned off */
    TW_EV_VXLAN_TRUNC,         /* VXLAN header cut short */
    TW_EV_VXLAN_BAD_FLAGS,     /* VXLAN I flag not set */
    TW_EV_GTPU_TRUNC,          /* GTP-U header cut short */
    TW_EV_GTPU_BAD_VERSION,    /* not GTP version 1 with PT = 1 */
    TW_EV_GTPU_BAD_LEN,        /* GTP length beyond the data or too short for the header */
    TW_EV_GTPU_EXT_TRUNC,      /* extension header chain runs past the GTP length */
    TW_EV_GTPU_EXT_BAD_LEN,    /* extension header with length 0 */
    TW_EV_GTPU_EXT_TOO_MANY,   /* more than TW_DECODE_MAX_GTPU_EXT extension headers */
    TW_EV_GTPU_BAD_INNER,      /* G-PDU whose payload is neither IPv4 nor IPv6 */
    TW_EV_TCP_TRUNC,           /* fewer than 20 bytes or than the data offset */
    TW_EV_TCP_BAD_HLEN,        /* data offset below 5 */
    TW_EV_UDP_TRUNC,           /* fewer than 8 bytes */
    TW_EV_UDP_BAD_LEN,         /* UDP length below 8 or beyond the data */
    TW_EV_ICMP_TRUNC,          /* ICMP header cut short */
    TW_EV_ICMPV6_TRUNC,        /* ICMPv6 header cut short */
    TW_EV_SCTP_TRUNC,          /* SCTP common header cut short */
    TW_EV_FRAG_OVERLAP,        /* fragment overlaps held data with different bytes */
    TW_EV_FRAG_DUPLICATE,      /* fragment repeats held bytes exactly */
    TW_EV_FRAG_TOO_LARGE,      /* reassembled datagram would exceed 65535 bytes */
    TW_EV_FRAG_BAD_LEN,        /* non-last fragment not a multiple of 8 bytes, or empty */
    TW_EV_FRAG_BAD_END,        /* fragment contradicts the datagram end already known */
    TW_EV_FRAG_TOO_MANY,       /* more than TW_DEFRAG_MAX_FRAGMENTS pieces */
    TW_EV_FRAG_MEMCAP,         /* reassembly memory cap reached: fragment dropped */
    TW_EV_FRAG_MAX_TRACKERS,   /* tracker cap reached: fragment dropped */
    TW_EV_FRAG_TIMEOUT,        /* a datagram expired incomplete (counter only) */
    TW_EV_FRAG_NOMEM,          /* allocation failed: fragment dropped */
    TW_EV_COUNT,
};

struct tw_decoder;

/* Fills *c with the defaults shown in the field comments above. */
void tw_decoder_config_default(struct tw_decoder_config *c);

/*
 * Creates a decoder. c may be NULL for the defaults; the configuration is
 * copied. defrag_max_trackers is clamped to TW_DECODE_MAX_TRACKERS. Returns
 * NULL when memory runs out. Free with tw_decoder_free().
 */
struct tw_decoder *tw_decoder_new(const struct tw_decoder_config *c);

/* Frees the decoder, every fragment it holds and its reassembly buffer. NULL is a no-op. */
void tw_decoder_free(struct tw_decoder *d);

/*
 * Decodes p->data[0..p->caplen) according to p->linktype and fills the
 * decoder's part of *p (layers, n_layers, inner_ip, l4, payload, payload_len,
 * tunnel_hash, event); everything the decoder sets is reset first. p->ts_ns
 * drives the reassembly timeout. Returns a TW_DECODE_* value (see the enum),
 * or TW_EINVAL when d or p is NULL, or when p->data is NULL with a non-zero
 * caplen. Never allocates except to store a fragment or to grow the
 * reassembly buffer.
 */
int tw_decode(struct tw_decoder *d, struct tw_packet *p) TW_MUST_CHECK;

/*
 * Counters indexed by TW_EV_* (TW_EV_COUNT entries; entry 0 counts packets
 * decoded). The array belongs to the decoder and stays valid until it is freed.
 */
const uint64_t *tw_decoder_events(const struct tw_decoder *d);

/* Bytes currently held for reassembly and datagrams being reassembled. */
size_t tw_decoder_defrag_bytes(const struct tw_decoder *d);
size_t tw_decoder_defrag_trackers(const struct tw_decoder *d);

/*
 * Suricata-like name of an event ("ipv4.trunc_header", "gre.bad_version",
 * "decoder.pkts" for TW_EV_NONE), or "unknown" for a value out of range. The
 * string is static.
 */
const char *tw_decode_event_name(unsigned ev);

/* Short name of a layer kind ("eth", "vlan", "ipv4", ...) or "unknown". Static string. */
const char *tw_layer_kind_name(unsigned kind);

#endif
