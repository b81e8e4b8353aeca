/*
 * hunt.h: matching decoded traffic against the indicator index.
 *
 * A hunt takes packets (capture.h), decodes them (decode.h), keeps flows
 * (flow.h) with just enough in-order TCP (stream.h) for the metadata parsers
 * (dns.h, tls.h, http.h, ssh.h), and matches:
 *   - addresses at every IP layer of the encapsulation stack,
 *   - domains in DNS questions and answers, TLS SNI and HTTP Host,
 *   - URLs (HTTP requests), JA3 and JA4 fingerprints, ports,
 * against the index. A hit on an exact indicator is an alert at once; a hit
 * on any other indicator makes it a candidate, verified when the flow ends by
 * evaluating its pattern (pattern.h) against the flow seen as STIX
 * observations: one network-traffic object per IP layer, chained with
 * encapsulated_by_ref, plus the address, domain and URL objects. Indicators
 * the index cannot hold are evaluated on every flow. One alert per flow and
 * indicator. Results go to a sink the caller provides (EVE writer, sightings).
 */
#ifndef TIDEWATCH_HUNT_H
#define TIDEWATCH_HUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/common.h"
#include "tidewatch/decode.h"
#include "tidewatch/flow.h"
#include "tidewatch/index.h"
#include "tidewatch/packet.h"

/*
 * Longest metadata strings kept, NUL included (longer ones are cut to one
 * byte less): names (DNS query, SNI, HTTP Host and User-Agent), the HTTP
 * target, the HTTP method, and SSH software versions.
 */
#define TW_META_NAME   256
#define TW_META_URI    512
#define TW_META_METHOD 16
#define TW_META_SW     128
/* Tunnel layers remembered per flow for its alerts. */
#define TW_META_TUNNEL 8

enum tw_app {
    TW_APP_NONE = 0,
    TW_APP_DNS,
    TW_APP_TLS,
    TW_APP_HTTP,
    TW_APP_SSH,
};

/*
 * What the metadata parsers found in a flow. Every string is NUL-terminated
 * and never NULL: "" when absent. The strings and the tunnel layers live in
 * storage the hunt keeps with the flow (only as large as what was found), so
 * they are borrowed: valid during the callback that hands the struct over.
 */
struct tw_flow_meta {
    const char *dns_query;     /* first question of the first message */
    const char *tls_sni;       /* server_name of the ClientHello */
    const char *ja3;           /* JA3 hash, 32 hex digits */
    const char *ja4;           /* JA4, 36 characters */
    const char *tls_cert_sha1; /* the server's leaf certificate, TLS 1.2 and earlier */
    const char *http_method;   /* request line and headers of the first request */
    const char *http_host;     /* normalised (http.h) */
    const char *http_uri;      /* the request target as sent */
    const char *http_ua;       /* User-Agent */
    const char *ssh_client;    /* software versions of the identification lines */
    const char *ssh_server;    /* ... */
    const struct tw_layer
            *tunnel; /* n_tunnel layers: the first packet's layers before the inner IP */
    uint16_t dns_qtype;
    uint16_t dns_rcode;
    uint8_t app; /* enum tw_app */
    uint8_t n_tunnel;
    bool dns_response;
};

/* One alert: an indicator matched a flow. Everything is borrowed for the call. */
struct tw_hunt_alert {
    int64_t ts_ns;                   /* the packet's time, or the flow's last time */
    uint64_t pcap_cnt;               /* the packet's number, or 0 when matched at flow end */
    const struct tw_flow *flow;      /* key oriented client -> server */
    uint32_t indicator;              /* number in the index */
    const char *field;               /* where: "ip.dst", "tunnel.ip.src", "dns.query", ... */
    const char *value;               /* what matched, as text */
    const struct tw_flow_meta *meta; /* may be NULL when the flow has none */
};

/* Where results go. Any callback may be NULL. */
struct tw_hunt_sink {
    void (*alert)(void *ctx, const struct tw_hunt_alert *a);
    /* A flow ended (timeout, eviction, end of input); alerts is how many it raised. */
    void (*flow_end)(void *ctx, const struct tw_flow *f, const struct tw_flow_meta *meta,
            enum tw_flow_end why, unsigned alerts);
    /* A metadata parser produced a record (app says which) from packet p of flow f. */
    void (*metadata)(void *ctx, const struct tw_packet *p, const struct tw_flow *f,
            const struct tw_flow_meta *meta, enum tw_app app);
    void *ctx;
};

/*
 * The verification history of the hunts of one run: the recent observations
 * of flows that were candidates for each indicator, so that patterns over two
 * observations (FOLLOWEDBY, WITHIN) match across flows even when the flows
 * are hunted on different threads. Guarded by its own lock.
 */
struct tw_hunt_shared;

/* A history for the indicators of idx (borrowed). NULL on ENOMEM. */
struct tw_hunt_shared *tw_hunt_shared_new(const struct tw_index *idx);
void tw_hunt_shared_free(struct tw_hunt_shared *s);

struct tw_hunt_config {
    const struct tw_index *index;     /* borrowed; built */
    struct tw_decoder_config decoder; /* tw_decoder_config_default() */
    uint32_t max_flows;               /* flow table bound */
    uint32_t stream_cap;              /* TCP bytes kept per direction for metadata */
    uint64_t stream_memcap;           /* all TCP stream buffers together */
    bool respect_validity;            /* ignore indicators not valid at the packet's time */
    bool include_revoked;             /* match revoked indicators too */
    uint32_t n_shards;                /* flows split over this many hunts (0 or 1: all) */
    uint32_t shard;                   /* the share this hunt keeps, 0 .. n_shards - 1 */
    struct tw_hunt_shared *shared;    /* borrowed history shared with other hunts, or NULL */
    struct tw_hunt_sink sink;
};

/* Counters of a hunt. */
struct tw_hunt_stats {
    uint64_t packets, bytes;          /* packets and captured bytes offered */
    uint64_t other_shard;             /* packets of flows another shard keeps */
    uint64_t decoded, held, dropped;  /* decode outcomes */
    uint64_t no_ip;                   /* packets with no IP layer to match */
    uint64_t flows;                   /* flows started */
    uint64_t alerts;                  /* alerts emitted */
    uint64_t verified, verify_failed; /* pattern evaluations that matched / did not */
    uint64_t verify_errors;           /* evaluations that failed (limits) */
    uint64_t dns, tls, http, ssh;     /* metadata records */
    uint64_t meta_bytes;              /* memory held by flow metadata now */
};

struct tw_hunt;

/* Sets the defaults (decoder defaults, 1M flows, 8 KiB streams, 256 MiB stream memcap). */
void tw_hunt_config_init(struct tw_hunt_config *c);
/* Creates a hunt. Returns TW_OK, TW_EINVAL (no index) or TW_ENOMEM. */
int tw_hunt_new(const struct tw_hunt_config *c, struct tw_hunt **out) TW_MUST_CHECK;
/* Ends every flow (their candidates are verified and flow_end called) and frees. */
void tw_hunt_free(struct tw_hunt *h);
/*
 * Matches one packet (its reader fields set). With n_shards > 1 every hunt
 * decodes every packet (fragments meet in each) but keeps only the flows
 * whose direction-independent key hash falls in its shard, so hunts on
 * separate threads reading the same input split the work and together raise
 * exactly the alerts of one hunt. Returns TW_OK or TW_ENOMEM.
 */
int tw_hunt_packet(struct tw_hunt *h, struct tw_packet *p) TW_MUST_CHECK;
/* Ends every flow now (end of input): candidates verified, flow_end called. */
void tw_hunt_finish(struct tw_hunt *h);
void tw_hunt_stats(const struct tw_hunt *h, struct tw_hunt_stats *out);
/* The decoder's event counters (TW_EV_COUNT entries). */
const uint64_t *tw_hunt_decode_events(const struct tw_hunt *h);
/* Alerts per indicator so far (tw_index_count entries). */
const uint64_t *tw_hunt_alerts_per_indicator(const struct tw_hunt *h);
const char *tw_app_name(enum tw_app app);

#endif
