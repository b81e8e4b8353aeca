/*
 * flowrec.h: one unidirectional flow record, as NetFlow v5/v9 and IPFIX
 * exporters report it and as the flow archive stores it.
 *
 * Every source of flows (the NetFlow/IPFIX decoder, captures turned into
 * flows, nfdump files) produces these, and every consumer (the archive
 * writer, `flows hunt`, `flows query`) reads them. A field the source did not
 * carry is zero (an address with family 0).
 */
#ifndef TIDEWATCH_FLOWREC_H
#define TIDEWATCH_FLOWREC_H

#include <stdint.h>

#include "tidewatch/addr.h"

/* Which kind of source made a record (tw_flowrec.source). */
enum tw_flowrec_source {
    TW_FLOWREC_UNKNOWN = 0,
    TW_FLOWREC_NFV5 = 5,    /* NetFlow v5 */
    TW_FLOWREC_NFV9 = 9,    /* NetFlow v9 */
    TW_FLOWREC_IPFIX = 10,  /* IPFIX */
    TW_FLOWREC_CAPTURE = 1, /* `flows import` of a pcap/pcapng capture */
    TW_FLOWREC_NFDUMP = 2,  /* read from an nfdump (nfcapd) file */
};

struct tw_flowrec {
    int64_t first_ms;      /* first packet, ms since the Unix epoch (UTC) */
    int64_t last_ms;       /* last packet, ms since the epoch; >= first_ms */
    struct tw_ip src;      /* source address (family 4 or 6) */
    struct tw_ip dst;      /* destination address, same family as src */
    struct tw_ip nexthop;  /* next hop, family 0 when not exported */
    struct tw_ip exporter; /* the exporter (datagram source, or the capture: 0) */
    uint64_t packets;      /* packets in this direction */
    uint64_t bytes;        /* layer-3 bytes in this direction */
    uint32_t in_if;        /* SNMP ifIndex in, 0 when not exported */
    uint32_t out_if;       /* SNMP ifIndex out */
    uint32_t src_as;       /* source AS, 0 when not exported */
    uint32_t dst_as;       /* destination AS */
    uint32_t domain;       /* v9 source id / IPFIX observation domain / v5 engine type<<8|id */
    uint16_t sport;        /* source port; ICMP: 0 */
    uint16_t dport;        /* destination port; ICMP: type << 8 | code */
    uint16_t vlan;         /* 802.1Q VLAN id, 0 when not exported */
    uint8_t proto;         /* IP protocol */
    uint8_t tcp_flags;     /* OR of the TCP flags (the low 8 bits) */
    uint8_t tos;           /* IP ToS / traffic class */
    uint8_t src_mask;      /* source prefix length, 0 when not exported */
    uint8_t dst_mask;      /* destination prefix length */
    uint8_t source;        /* enum tw_flowrec_source */
    uint32_t sampling;     /* sampling interval (1 in N), 0 or 1 when unsampled */
};

#endif
