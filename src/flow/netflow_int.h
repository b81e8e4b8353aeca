/*
 * netflow_int.h: what netflow.c (datagram dispatch, NetFlow v5, the tables,
 * sequence accounting) and netflow_tmpl.c (NetFlow v9 and IPFIX templates and
 * sets) share. Private to src/flow.
 *
 * Two tables hang off a decoder, both keyed by struct tw__nf_key and both
 * bounded with least-recently-used eviction (struct tw__nf_tab):
 *   - sources: one entry per (exporter address, version, domain) holding the
 *     sequence number expected next, the sampling intervals learnt from
 *     options records and the exporter's systemInitTimeMilliseconds;
 *   - templates: one entry per (exporter address, version, domain, template
 *     id) holding the template compiled into a list of ops.
 *
 * A compiled template is a list of struct tw__nf_op, one per field that
 * feeds a record field: where the field sits in the data record, its length
 * on the wire, and where its value goes in struct tw__nf_scratch. Decoding a
 * record runs the list once (a tight loop) and then a short fix-up
 * (finish_record() in netflow_tmpl.c) for what depends on several fields: the address
 * family, the times, ICMP type and code, the sampling interval. Variable-length
 * fields split a record into segments: the ops of segment k are relative to
 * the end of the k-th variable-length field, whose position is worked out per
 * record (docs/internals/NETFLOW.md, "Compiled templates").
 */
#ifndef TW_NETFLOW_INT_H
#define TW_NETFLOW_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/err.h"
#include "tidewatch/flowrec.h"
#include "tidewatch/netflow.h"

/* ==== Limits ==== */

#define TW__NF_NIL           UINT32_MAX
#define TW__NF_MAX_FIELDS    512u       /* fields in one template; more is malformed */
#define TW__NF_MAX_TEMPLATES (1u << 20) /* upper bound of tw_nf_config.max_templates */
#define TW__NF_MAX_SOURCES   16384u     /* (exporter, version, domain) entries kept */
#define TW__NF_MAX_SAMPLERS  16u        /* sampler ids remembered per source */
#define TW__NF_MAX_OPS       48u        /* ops per template (one per target at most) */
#define TW__NF_V5_MAX_COUNT  30u        /* records in one NetFlow v5 datagram */

/* Wire sizes. */
#define TW__NF_V5_HDR    24u
#define TW__NF_V5_REC    48u
#define TW__NF_V9_HDR    20u
#define TW__NF_IPFIX_HDR 16u
#define TW__NF_SET_HDR   4u
#define TW__NF_VARLEN    65535u /* IPFIX field length meaning "variable" (RFC 7011 7) */
#define TW__NF_EBIT      0x8000u

/* Set / FlowSet ids (RFC 3954 5.2-5.3, RFC 7011 3.3.2). */
#define TW__NF_V9_TEMPLATE_SET    0u
#define TW__NF_V9_OPTIONS_SET     1u
#define TW__NF_IPFIX_TEMPLATE_SET 2u
#define TW__NF_IPFIX_OPTIONS_SET  3u
#define TW__NF_MIN_DATA_SET       256u

/* Seconds between 1900 (NTP era 0) and 1970. */
#define TW__NF_NTP_UNIX_OFFSET 2208988800u

/* ==== Keys and the bounded tables ==== */

/* 24 bytes without padding, compared with memcmp. */
struct tw__nf_key {
    uint8_t addr[16]; /* exporter address (struct tw_ip bytes) */
    uint8_t family;   /* exporter family, 0 when unknown */
    uint8_t version;  /* 5, 9 or 10 */
    uint16_t tid;     /* template id; 0 in the source table */
    uint32_t domain;  /* v9 source id, IPFIX observation domain, v5 engine type<<8|id */
};

/* Head of every table entry. */
struct tw__nf_node {
    uint32_t hnext; /* next entry in the bucket chain, or TW__NF_NIL */
    uint32_t newer; /* LRU neighbour used more recently, or TW__NF_NIL */
    uint32_t older; /* LRU neighbour used less recently, or TW__NF_NIL */
    uint32_t hash;  /* low 32 bits of the key's hash */
    bool used;      /* false on the free list */
    struct tw__nf_key key;
};

/* Called on an entry about to be evicted or removed (frees what it owns). */
typedef void (*tw__nf_drop_fn)(void *entry);

/*
 * A chained hash table of fixed-size entries (each starting with a struct
 * tw__nf_node) with a cap and least-recently-used eviction. Entries are
 * addressed by index, so the slot array may grow by realloc.
 */
struct tw__nf_tab {
    unsigned char *slots; /* n_alloc entries of `stride` bytes */
    size_t stride;
    uint32_t n_alloc; /* entries allocated */
    uint32_t n_fresh; /* entries [n_fresh, n_alloc) were never used */
    uint32_t count;   /* entries in use */
    uint32_t max;     /* cap on count */
    uint32_t free_head;
    uint32_t *buckets;
    uint32_t mask;
    uint32_t newest, oldest;
    tw__nf_drop_fn drop;
};

int tw__nf_tab_init(struct tw__nf_tab *t, size_t stride, uint32_t max, tw__nf_drop_fn drop);
void tw__nf_tab_cleanup(struct tw__nf_tab *t);
uint32_t tw__nf_key_hash(const struct tw__nf_key *k);
/* The entry for k (made the most recently used), or NULL. */
void *tw__nf_tab_find(struct tw__nf_tab *t, const struct tw__nf_key *k, uint32_t h);
/*
 * A new zeroed entry for k (which must not be present), evicting the least
 * recently used entry when the table is full. NULL when memory runs out.
 */
void *tw__nf_tab_add(struct tw__nf_tab *t, const struct tw__nf_key *k, uint32_t h);
/* Removes an entry (after calling the drop hook) and puts its slot on the free list. */
void tw__nf_tab_remove(struct tw__nf_tab *t, void *entry);
/* Makes an entry the most recently used. */
void tw__nf_tab_touch(struct tw__nf_tab *t, void *entry);
/* Entry i of the slot array (check ->used), for scans such as withdrawing all templates. */
static inline struct tw__nf_node *tw__nf_tab_at(const struct tw__nf_tab *t, uint32_t i)
{
    return (struct tw__nf_node *)(void *)(t->slots + (size_t)i * t->stride);
}

/* ==== Sources ==== */

struct tw__nf_sampler {
    uint32_t id;
    uint32_t interval;
};

/* What a source's next_seq means (struct tw__nf_source.seq_state). */
enum tw__nf_seq {
    TW__NF_SEQ_NONE = 0,   /* nothing expected: the next datagram only synchronises */
    TW__NF_SEQ_EXACT,      /* next_seq is the number the next datagram should carry */
    TW__NF_SEQ_NOTEMPLATE, /* IPFIX: the gap to the next datagram is records of sets without a
                              template */
};

struct tw__nf_source {
    struct tw__nf_node node;
    uint8_t seq_state; /* enum tw__nf_seq */
    uint32_t next_seq;
    int64_t sys_init_ms; /* systemInitTimeMilliseconds from options, 0 when unknown */
    uint32_t sampling;   /* interval from options records without a sampler id, 0 none */
    uint32_t n_samplers;
    uint32_t next_sampler; /* slot replaced next when the list is full */
    struct tw__nf_sampler samplers[TW__NF_MAX_SAMPLERS];
};

/* ==== Compiled templates ==== */

/* How an op stores its field (struct tw__nf_op.kind). */
enum tw__nf_op_kind {
    TW__NF_OP_U8 = 0, /* big-endian integer of 1..8 bytes, stored in a uint8_t */
    TW__NF_OP_U16,
    TW__NF_OP_U32,
    TW__NF_OP_U64,
    TW__NF_OP_ADDR4,  /* 4 bytes copied */
    TW__NF_OP_ADDR16, /* 16 bytes copied */
    /* The same stores specialised for the common wire lengths (set by compile()). */
    TW__NF_OP_U8_1,
    TW__NF_OP_U16_2,
    TW__NF_OP_U32_4,
    TW__NF_OP_U32_2,
    TW__NF_OP_U64_8,
    TW__NF_OP_U64_4,
};

struct tw__nf_op {
    uint16_t off; /* offset of the field in its segment */
    uint16_t seg; /* segment: number of variable-length fields before it */
    uint16_t dst; /* offset of the target in struct tw__nf_scratch */
    uint8_t len;  /* field length on the wire */
    uint8_t kind; /* enum tw__nf_op_kind */
};

/* Time encodings of a template's start and end (RFC 7011 6.1.7-6.1.10, RFC 3954 8). */
enum tw__nf_time {
    TW__NF_T_NONE = 0,
    TW__NF_T_MS,     /* dateTimeMilliseconds (152/153) */
    TW__NF_T_S,      /* dateTimeSeconds (150/151) */
    TW__NF_T_NTP,    /* dateTimeMicroseconds/Nanoseconds, NTP format (154-157) */
    TW__NF_T_UPTIME, /* milliseconds of system uptime (22/21) */
};

/* Template flags (struct tw__nf_tmpl.flags). */
#define TW__NF_TF_OPTIONS  0x0001u /* an options template */
#define TW__NF_TF_DUAL     0x0002u /* IPv4 and IPv6 addresses both present */
#define TW__NF_TF_NH4      0x0004u /* an IPv4 next hop */
#define TW__NF_TF_NH6      0x0008u /* an IPv6 next hop */
#define TW__NF_TF_ICMP     0x0010u /* icmpTypeCode (32/139) */
#define TW__NF_TF_ICMP_TC  0x0020u /* icmpType/icmpCode separately (176-179) */
#define TW__NF_TF_SAMPLER  0x0040u /* a sampler or selector id */
#define TW__NF_TF_SYSINIT  0x0080u /* systemInitTimeMilliseconds in the record */
#define TW__NF_TF_INTERVAL 0x0100u /* options: samplingInterval / samplerRandomInterval */
#define TW__NF_TF_PKT_INT  0x0200u /* options: samplingPacketInterval */
#define TW__NF_TF_PKT_SP   0x0400u /* options: samplingPacketSpace */
#define TW__NF_TF_SIZE     0x0800u /* options: samplingSize */
#define TW__NF_TF_POP      0x1000u /* options: samplingPopulation */

struct tw__nf_tmpl {
    struct tw__nf_node node;
    int64_t refreshed_s; /* export time of the datagram that last defined it */
    uint32_t flags;      /* TW__NF_TF_* */
    uint16_t n_ops;
    uint16_t n_var;    /* variable-length fields */
    uint32_t min_len;  /* shortest record: fixed bytes + one length byte per varlen field */
    uint32_t tail_len; /* fixed bytes after the last variable-length field (all when n_var 0) */
    uint8_t family;    /* 4, 6, or 0 when the template carries no address */
    uint8_t t_start;   /* enum tw__nf_time */
    uint8_t t_end;
    uint16_t *var_off; /* n_var offsets: varlen field k at var_off[k] in segment k */
    struct tw__nf_op ops[TW__NF_MAX_OPS];
};

/* Where the ops of one record put their values. */
struct tw__nf_scratch {
    struct tw_flowrec rec;
    uint8_t src6[16]; /* IPv6 addresses of a template that also has IPv4 ones */
    uint8_t dst6[16];
    uint8_t nh6[16]; /* IPv6 next hop of a template that also has an IPv4 one */
    uint64_t t_start, t_end;
    uint64_t sys_init;
    uint64_t o_interval, o_pkt_int, o_pkt_space, o_size, o_pop;
    uint32_t sampler;
    uint16_t icmp;
    uint8_t icmp_type, icmp_code;
};

/* ==== The decoder ==== */

struct tw_nf_decoder {
    struct tw_nf_config cfg;
    struct tw__nf_tab sources;
    struct tw__nf_tab tmpls;
    struct tw_nf_stats st;
    uint32_t last_tmpl; /* index of the template found last (checked against the key), or NIL */
};

/* What decoding one v9/IPFIX datagram carries between sets. */
struct tw__nf_ctx {
    struct tw_nf_decoder *d;
    struct tw__nf_source *src;
    struct tw__nf_key key; /* tid 0 */
    const uint8_t *data;   /* the datagram */
    int version;           /* 9 or 10 */
    int64_t export_ms;
    int64_t export_s;
    uint32_t sys_uptime;      /* v9 header */
    uint64_t n_data;          /* data records read (options ones included) */
    uint64_t n_template_recs; /* template records (v9 count accounting) */
    uint32_t n_unknown_sets;  /* data sets without a template */
    bool stopped;             /* the emit callback asked to stop */
    tw_nf_emit_fn emit;
    void *arg;
    struct tw_flowrec base; /* exporter, domain, source set; the rest zero */
};

/* A template or options template set (RFC 3954 5.2/6.1, RFC 7011 3.4). */
int tw__nf_template_set(struct tw__nf_ctx *c, size_t off, size_t len, uint16_t set_id,
        struct tw_err *err) TW_MUST_CHECK;
/* A data set whose id is a template id (RFC 3954 5.3, RFC 7011 3.3.1). */
int tw__nf_data_set(struct tw__nf_ctx *c, size_t off, size_t len, uint16_t tid,
        struct tw_err *err) TW_MUST_CHECK;
void tw__nf_tmpl_drop(void *entry);

/* ==== Byte access ==== */

static inline uint16_t tw__nf_rd16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t tw__nf_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t tw__nf_rd64(const uint8_t *p)
{
    return (uint64_t)tw__nf_rd32(p) << 32 | tw__nf_rd32(p + 4);
}

/* Big-endian unsigned integer of 1..8 bytes (reduced-size encoding, RFC 7011 6.2). */
static inline uint64_t tw__nf_rdn(const uint8_t *p, unsigned len)
{
    uint64_t v = 0;

    switch (len) {
        case 1:
            return p[0];
        case 2:
            return tw__nf_rd16(p);
        case 4:
            return tw__nf_rd32(p);
        case 8:
            return tw__nf_rd64(p);
        default:
            for (unsigned i = 0; i < len; i++)
                v = v << 8 | p[i];
            return v;
    }
}

static inline void tw__nf_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void tw__nf_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void tw__nf_wr64(uint8_t *p, uint64_t v)
{
    tw__nf_wr32(p, (uint32_t)(v >> 32));
    tw__nf_wr32(p + 4, (uint32_t)v);
}

#endif
