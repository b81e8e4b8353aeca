/*
 * packet.h: one captured packet and what decoding found in it.
 *
 * The capture reader (capture.h) fills the input part of struct tw_packet;
 * the decoder (decode.h) walks the headers from the link layer to the
 * innermost transport header, with a length check at every step, and records
 * each header it crossed as a struct tw_layer, outermost first. A packet
 * inside tunnels therefore carries its whole encapsulation stack: outer
 * addresses, VLAN ids, MPLS labels, GRE key, ERSPAN session, VXLAN VNI, GTP
 * TEID. Flow tables key on the innermost IP + transport layer and a hash of
 * the tunnel context around it.
 */
#ifndef TIDEWATCH_PACKET_H
#define TIDEWATCH_PACKET_H

#include <stdbool.h>
#include <stdint.h>

#include "tidewatch/addr.h"

/* Most headers one packet may cross (Suricata's decoder.max-layers is 16). */
#define TW_MAX_LAYERS 16

/* Link types (the pcap LINKTYPE_* values the decoder understands). */
#define TW_LINK_NULL     0 /* BSD loopback: 4-byte host-order address family */
#define TW_LINK_ETHERNET 1
#define TW_LINK_RAW      101 /* raw IPv4 or IPv6 */
#define TW_LINK_LOOP     108 /* OpenBSD loopback: network-order family */
#define TW_LINK_SLL      113 /* Linux cooked v1 */
#define TW_LINK_IPV4     228
#define TW_LINK_IPV6     229
#define TW_LINK_SLL2     276 /* Linux cooked v2 */

enum tw_layer_kind {
    TW_L_NONE = 0,
    TW_L_ETH,
    TW_L_SLL,
    TW_L_NULL, /* BSD/OpenBSD loopback header */
    TW_L_VLAN, /* 802.1Q or 802.1ad tag */
    TW_L_MPLS, /* one label stack entry */
    TW_L_PPPOE,
    TW_L_IPV4,
    TW_L_IPV6,
    TW_L_GRE,
    TW_L_ERSPAN,
    TW_L_VXLAN,
    TW_L_GTPU,
    TW_L_TCP,
    TW_L_UDP,
    TW_L_ICMP,
    TW_L_ICMPV6,
    TW_L_SCTP,
    TW_L_KIND_COUNT,
};

/* One header the decoder crossed. */
struct tw_layer {
    uint8_t kind;    /* enum tw_layer_kind */
    uint16_t offset; /* where the header starts in the packet's data */
    uint16_t len;    /* header length in bytes */
    union {
        struct {
            uint16_t ethertype; /* of what follows */
        } eth;
        struct {
            uint16_t tpid; /* 0x8100 or 0x88a8 */
            uint16_t vid;
            uint8_t pcp;
        } vlan;
        struct {
            uint32_t label;
            uint8_t tc;
            uint8_t bos; /* bottom of stack */
            uint8_t ttl;
        } mpls;
        struct {
            uint16_t session;
        } pppoe;
        struct {
            struct tw_ip src, dst;
            uint8_t proto; /* IPv4 protocol / IPv6 final next header */
            uint8_t ttl;   /* TTL / hop limit */
            bool fragment; /* this header was a fragment (before reassembly) */
            bool reassembled;
        } ip;
        struct {
            uint16_t proto; /* ethertype carried */
            bool has_key, has_seq;
            uint32_t key, seq;
        } gre;
        struct {
            uint8_t version; /* 1 (type II) or 2 (type III) */
            uint16_t session;
            uint16_t vlan;
        } erspan;
        struct {
            uint32_t vni;
        } vxlan;
        struct {
            uint32_t teid;
            uint8_t msg_type;
        } gtpu;
        struct {
            uint16_t sport, dport;
            uint8_t tcp_flags; /* TCP only */
            uint32_t seq, ack; /* TCP only */
        } l4;
        struct {
            uint8_t type, code;
        } icmp;
    } u;
};

/* A captured packet: input from the reader, results from the decoder. */
struct tw_packet {
    /* ---- set by the capture reader ---- */
    const uint8_t *data; /* captured bytes (borrowed: valid until the next read) */
    uint32_t caplen;     /* bytes in data */
    uint32_t wirelen;    /* original length on the wire */
    uint32_t linktype;   /* TW_LINK_* (pcap LINKTYPE_*) */
    int64_t ts_ns;       /* capture time, nanoseconds since the epoch */
    uint64_t num;        /* 1-based position in the whole input (Suricata's pcap_cnt) */

    /* ---- set by the decoder ---- */
    struct tw_layer layers[TW_MAX_LAYERS]; /* outermost first */
    uint8_t n_layers;
    int8_t inner_ip;        /* index of the innermost IP layer, or -1 */
    int8_t l4;              /* index of the transport layer after inner_ip, or -1 */
    const uint8_t *payload; /* bytes after the transport header (or after inner IP) */
    uint32_t payload_len;
    uint32_t tunnel_hash; /* hash of every layer's context before inner_ip; 0 = none */
    uint16_t event;       /* first decode problem (decode.h TW_EV_*), 0 = none */
};

#endif
