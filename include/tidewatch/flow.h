/*
 * flow.h: the bounded, bidirectional flow table.
 *
 * Every decoded packet with an inner IP layer belongs to one flow: the
 * innermost five-tuple (addresses, ports or ICMP identity, IP protocol) plus
 * the packet's tunnel_hash, so that the same inner tuple seen inside two
 * different tunnels makes two flows. Both directions of a conversation map to
 * one struct tw_flow; the lookup says whether the packet travels to the server
 * or to the client.
 *
 * The table is bounded: max_flows slots are allocated once at creation and
 * never grow, and a lookup never allocates. Flows end in three ways, each
 * reported exactly once through the caller's end callback so it can write a
 * flow record and release what it keeps in the flow: an idle timeout (driven
 * by packet time, not the wall clock, so offline captures time out as they
 * did on the wire), eviction when the table is full and a new flow arrives,
 * and tw_flow_table_flush() at the end of the input.
 *
 * The matcher keeps its per-flow state in the flow itself: `user` and an
 * extra area of a size chosen at creation (tw_flow_extra()), zeroed when the
 * flow starts, so no second lookup is ever needed. docs/internals/FLOW.md
 * describes keying, client detection, timeouts and eviction in detail.
 *
 * A table is not thread-safe; use one per packet-processing thread.
 */
#ifndef TIDEWATCH_FLOW_H
#define TIDEWATCH_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/addr.h"
#include "tidewatch/common.h"
#include "tidewatch/packet.h"

/* Default and hard upper bound of max_flows. */
#define TW_FLOW_DEFAULT_MAX_FLOWS 65536u
#define TW_FLOW_MAX_FLOWS         (1u << 24)
/* Largest per-flow extra area a table accepts, in bytes. */
#define TW_FLOW_MAX_EXTRA 65536u
/* Alignment of the extra area (enough for any scalar type). */
#define TW_FLOW_EXTRA_ALIGN 16u
/* Default number of flows one lookup may time out before it returns. */
#define TW_FLOW_DEFAULT_EXPIRE_BUDGET 8u

/* Kinds of key; stored in tw_flow_key.kind. */
#define TW_FLOW_KIND_PORTS     0 /* TCP, UDP, SCTP: sport/dport are ports */
#define TW_FLOW_KIND_ICMP_ECHO 1 /* ICMP query/reply: sport = dport = identifier */
#define TW_FLOW_KIND_ICMP      2 /* other ICMP: sport = dport = type << 8 | code */
#define TW_FLOW_KIND_NONE      3 /* no transport header (other protocol, fragment) */

/*
 * The flow key. In struct tw_flow it is stored client to server (src is the
 * client). It has no implicit padding, so it can be hashed and compared as
 * bytes; tw_flow_key_from_packet() zeroes it before filling it.
 */
struct tw_flow_key {
    struct tw_ip src;     /* 17 bytes: family + address */
    struct tw_ip dst;     /* 17 bytes */
    uint8_t proto;        /* IP protocol of the inner IP layer */
    uint8_t kind;         /* TW_FLOW_KIND_* */
    uint16_t sport;       /* source port, or ICMP identity (see kind) */
    uint16_t dport;       /* destination port, or ICMP identity */
    uint32_t tunnel_hash; /* the packet's tunnel_hash; 0 = not tunnelled */
};

/* TCP state of a flow, enough to choose its timeout. */
enum tw_flow_state {
    TW_FLOW_STATE_NEW = 0,     /* one direction seen so far, no payload */
    TW_FLOW_STATE_ESTABLISHED, /* both directions seen, or payload seen */
    TW_FLOW_STATE_CLOSED,      /* RST seen, or FIN seen in both directions */
};

/* Timeout classes; a flow's class follows its protocol and TCP state. */
enum tw_flow_timeout {
    TW_FLOW_TO_TCP_NEW = 0,     /* default 60 s */
    TW_FLOW_TO_TCP_ESTABLISHED, /* default 3600 s */
    TW_FLOW_TO_TCP_CLOSED,      /* default 30 s */
    TW_FLOW_TO_UDP,             /* default 120 s (SCTP too) */
    TW_FLOW_TO_ICMP,            /* default 30 s (ICMP and ICMPv6) */
    TW_FLOW_TO_OTHER,           /* default 60 s */
    TW_FLOW_TO_COUNT,
};

/* Why a flow ended; passed to the end callback. */
enum tw_flow_end {
    TW_FLOW_END_TIMEOUT = 0, /* idle longer than its class's timeout */
    TW_FLOW_END_EVICT,       /* the table was full and a new flow needed the slot */
    TW_FLOW_END_REUSE,       /* a new SYN arrived on a closed TCP flow */
    TW_FLOW_END_FLUSH,       /* tw_flow_table_flush() (end of input) */
};

/* Bits of tw_flow.flags. */
#define TW_FLOW_F_SYN       0x01u /* SYN without ACK seen (from the client) */
#define TW_FLOW_F_SYNACK    0x02u /* SYN+ACK seen (from the server) */
#define TW_FLOW_F_FIN_TS    0x04u /* FIN seen to the server */
#define TW_FLOW_F_FIN_TC    0x08u /* FIN seen to the client */
#define TW_FLOW_F_RST       0x10u /* RST seen in either direction */
#define TW_FLOW_F_MIDSTREAM 0x20u /* TCP flow whose first packet was not a SYN or SYN+ACK */

/*
 * One flow. Callers read the table-maintained fields and must not write them;
 * `user` and the extra area (tw_flow_extra()) belong to the caller. Fields
 * marked "table" are the table's bookkeeping; hash and bucket_next sit next to
 * the key so that walking a hash chain reads one cache line per flow.
 */
struct tw_flow {
    struct tw_flow_key key;  /* client to server orientation (44 bytes) */
    uint32_t hash;           /* table: direction-independent hash of the key */
    uint32_t bucket_next;    /* table: next flow in the chain, or free-list link */
    uint8_t tcp_flags_ts;    /* OR of the TCP flags sent to the server */
    uint8_t tcp_flags_tc;    /* OR of the TCP flags sent to the client */
    uint8_t state;           /* enum tw_flow_state (both directions seen = ESTABLISHED) */
    uint8_t flags;           /* TW_FLOW_F_* */
    uint64_t flow_id;        /* nonzero, unique in the table's lifetime, < 2^52 */
    int64_t first_ts_ns;     /* time of the first packet */
    int64_t last_ts_ns;      /* latest packet time seen */
    uint64_t pkts_toserver;  /* packets client -> server */
    uint64_t pkts_toclient;  /* packets server -> client */
    uint64_t bytes_toserver; /* wire bytes (wirelen, or caplen when 0) client -> server */
    uint64_t bytes_toclient; /* wire bytes server -> client */
    void *user;              /* caller's pointer; NULL when the flow starts */
    int64_t touch_ns;        /* table: table clock at the last packet */
    int64_t queued_ns;       /* table: touch_ns when last put at the tail of its list */
    uint32_t lru_prev;       /* table: neighbours in the timeout class list */
    uint32_t lru_next;
    uint8_t to_class; /* table: enum tw_flow_timeout of the list the flow is in */
};

/*
 * Called once for every flow that ends, before its slot is reused. The
 * callback may read and write the flow and must release whatever it keeps in
 * `user` or the extra area; it must not call back into the table.
 */
typedef void (*tw_flow_end_fn)(struct tw_flow *f, enum tw_flow_end reason, void *arg);

/* Table settings. Fill with tw_flow_config_init() and change what you need. */
struct tw_flow_config {
    uint32_t max_flows;                   /* slots, 1..TW_FLOW_MAX_FLOWS */
    uint32_t extra_size;                  /* caller bytes per flow, 0..TW_FLOW_MAX_EXTRA */
    uint32_t timeout_s[TW_FLOW_TO_COUNT]; /* idle timeout per class, seconds (>= 1) */
    uint32_t expire_budget;               /* flows one lookup may time out; 0 = only on demand */
    uint64_t seed;                        /* hash and flow_id seed; vary it to vary flow_ids */
    tw_flow_end_fn on_end;                /* may be NULL */
    void *on_end_arg;
};

/* Result of a lookup. */
struct tw_flow_lookup {
    struct tw_flow *flow; /* the packet's flow; valid until the next table call */
    bool to_server;       /* the packet travels client -> server */
    bool created;         /* the flow started with this packet */
};

/* Table counters since creation. */
struct tw_flow_stats {
    uint64_t lookups;   /* packets counted */
    uint64_t created;   /* flows started */
    uint64_t timed_out; /* flows ended by TW_FLOW_END_TIMEOUT */
    uint64_t evicted;   /* flows ended by TW_FLOW_END_EVICT */
    uint64_t reused;    /* flows ended by TW_FLOW_END_REUSE */
    uint64_t flushed;   /* flows ended by TW_FLOW_END_FLUSH */
    uint64_t active;    /* flows in the table now */
};

struct tw_flow_table;

/* Fills cfg with the defaults (65536 flows, no extra area, the timeouts above). */
void tw_flow_config_init(struct tw_flow_config *cfg);

/*
 * Creates a table with every slot allocated up front. Returns TW_OK and sets
 * *out, TW_EINVAL for a setting out of range (max_flows 0 or above
 * TW_FLOW_MAX_FLOWS, extra_size above TW_FLOW_MAX_EXTRA, a zero timeout), or
 * TW_ENOMEM. The caller owns the table and frees it with tw_flow_table_free().
 */
int tw_flow_table_new(const struct tw_flow_config *cfg, struct tw_flow_table **out) TW_MUST_CHECK;

/*
 * Frees the table and every flow in it without calling the end callback (call
 * tw_flow_table_flush() first when flows hold resources). NULL is a no-op.
 */
void tw_flow_table_free(struct tw_flow_table *t);

/*
 * Builds the key of a decoded packet in the packet's own direction (src is the
 * packet's source). Returns TW_OK, or TW_EINVAL when the packet has no inner
 * IP layer.
 */
int tw_flow_key_from_packet(const struct tw_packet *p, struct tw_flow_key *out) TW_MUST_CHECK;

/*
 * Finds or starts the flow of a decoded packet and counts the packet in it
 * (packets, bytes, times, TCP flags and state). The packet time advances the
 * table's clock (which never goes back) and up to expire_budget idle flows are
 * timed out first. A flow found idle beyond its timeout ends (TIMEOUT) and a
 * new one starts; a SYN on a closed TCP flow ends it (REUSE) likewise. When
 * the table is full, the flow nearest to its timeout deadline is evicted
 * (EVICT). Every ended flow goes through the end callback before this
 * returns. Returns TW_OK and fills *res, or TW_EINVAL when the packet has no
 * inner IP layer (nothing is counted then).
 */
int tw_flow_table_lookup(struct tw_flow_table *t, const struct tw_packet *p,
        struct tw_flow_lookup *res) TW_MUST_CHECK;

/*
 * Advances the clock to now_ns (when later) and times out at most `max` flows
 * whose idle time has passed. Returns how many ended. For callers that want to
 * expire flows while no packets arrive.
 */
size_t tw_flow_table_expire(struct tw_flow_table *t, int64_t now_ns, size_t max);

/* Ends every flow (reason FLUSH), oldest first, and returns how many ended. */
size_t tw_flow_table_flush(struct tw_flow_table *t);

/* Number of flows in the table. */
size_t tw_flow_table_count(const struct tw_flow_table *t);

/* Bytes the table allocated (slots, extra areas, hash buckets). */
size_t tw_flow_table_memory(const struct tw_flow_table *t);

/* Copies the counters into *out. */
void tw_flow_table_stats(const struct tw_flow_table *t, struct tw_flow_stats *out);

/* "timeout", "evict", "reuse", "flush"; "unknown" otherwise. */
const char *tw_flow_end_name(enum tw_flow_end reason);

/* "new", "established", "closed" (the EVE flow "state" words); "unknown" otherwise. */
const char *tw_flow_state_name(enum tw_flow_state state);

/* Size of struct tw_flow rounded up to TW_FLOW_EXTRA_ALIGN: where the extra area starts. */
#define TW_FLOW_EXTRA_OFFSET                                                                       \
    ((sizeof(struct tw_flow) + TW_FLOW_EXTRA_ALIGN - 1) / TW_FLOW_EXTRA_ALIGN * TW_FLOW_EXTRA_ALIGN)

/*
 * The flow's caller area of extra_size bytes (zeroed when the flow started),
 * aligned to TW_FLOW_EXTRA_ALIGN. Meaningless when extra_size is 0.
 */
static inline void *tw_flow_extra(struct tw_flow *f)
{
    return (unsigned char *)f + TW_FLOW_EXTRA_OFFSET;
}

#endif
