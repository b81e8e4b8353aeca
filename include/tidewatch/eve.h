/*
 * eve.h: pieces of Suricata's EVE JSON format (one JSON object per line).
 *
 * Suricata writes, for every event: timestamp ("2025-10-13T22:04:11.123456+0000"),
 * flow_id, pcap_cnt, event_type, src_ip, src_port, dest_ip, dest_port, proto
 * ("TCP", "UDP", "ICMP", "IPv6-ICMP", "SCTP", or the number), then a section
 * per event type (alert, flow, dns, tls, http, ssh). tidewatch writes the same
 * keys so any consumer of Suricata's eve.json reads ours, and puts its own
 * fields under "tidewatch".
 */
#ifndef TIDEWATCH_EVE_H
#define TIDEWATCH_EVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "tidewatch/packet.h"

#define TW_EVE_TS_LEN 40

/* Writes Suricata's timestamp form (microseconds, "+0000") into out. */
void tw_eve_timestamp(int64_t ts_ns, char out[TW_EVE_TS_LEN]);

/* Suricata's protocol name for an IP protocol number, or its decimal text in buf. */
const char *tw_eve_proto(uint8_t ipproto, char buf[8]);

/*
 * The encapsulation stack as a JSON array, outermost first: one object per
 * layer before the innermost IP header, e.g. {"layer":"vlan","vlan_id":100},
 * {"layer":"ipv4","src":"…","dst":"…"}, {"layer":"gtpu","teid":305419896}.
 * Returns a new array (empty when there is no tunnel), or NULL on ENOMEM.
 */
json_t *tw_eve_encapsulation(const struct tw_layer *layers, size_t n);

/* Writes one event as a compact JSON line. Returns TW_OK or TW_EIO/TW_ENOMEM. */
int tw_eve_write(FILE *out, const json_t *event);

#endif
