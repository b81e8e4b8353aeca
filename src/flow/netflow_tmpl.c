/*
 * netflow_tmpl.c: NetFlow v9 and IPFIX templates and sets (netflow_int.h).
 *
 * A template record is compiled once into a list of ops (struct tw__nf_op):
 * for every field that feeds the flow record, where it sits, how long it is
 * on the wire and where its value goes. The information elements understood
 * and their precedence are the tables data_map[] and options_map[] below.
 * When several fields of a template feed the same target, the one of lower
 * rank wins (octetDeltaCount before postOctetDeltaCount before
 * octetTotalCount, flowStartMilliseconds before flowStartSeconds ...); among
 * fields of equal rank the last one in the template wins, as pmacct does, so
 * a template that repeats the 5-tuple (outer then inner header, as Huawei's
 * tunnel templates do) reports the inner one. A template that carries both
 * IPv4 and IPv6 addresses (Cisco's unified templates, or the same tunnel
 * templates) gives an IPv4 record when either IPv4 address is non-zero and
 * an IPv6 record otherwise.
 *
 * Integer fields may be shorter than their natural size (reduced-size
 * encoding, RFC 7011 6.2): any length from 1 to 8 is read as a big-endian
 * number. Address fields must have their exact size; a field of another
 * length is skipped by its length like any field not understood.
 * Enterprise-specific fields (IPFIX, E bit) and variable-length fields are
 * always skipped.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "netflow_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/err.h"

/* ==== Information elements ==== */

/* What a field feeds; at most one op per target. */
enum target {
    T_NONE = 0,
    T_BYTES,
    T_PKTS,
    T_PROTO,
    T_TOS,
    T_FLAGS,
    T_SPORT,
    T_DPORT,
    T_SRC4,
    T_DST4,
    T_SRC6,
    T_DST6,
    T_SMASK,
    T_DMASK,
    T_IN,
    T_OUT,
    T_NH4,
    T_NH6,
    T_SAS,
    T_DAS,
    T_VLAN,
    T_ICMP,
    T_ICMP_TYPE,
    T_ICMP_CODE,
    T_START,
    T_END,
    T_SYSINIT,
    T_SAMPLER,
    T_O_INTERVAL,
    T_O_PKT_INT,
    T_O_PKT_SP,
    T_O_SIZE,
    T_O_POP,
    T_COUNT,
};

struct ie_map {
    uint8_t target; /* enum target; T_NONE = not understood */
    uint8_t kind;   /* enum tw__nf_op_kind */
    uint8_t rank;   /* lower wins among fields of one target */
    uint8_t time;   /* enum tw__nf_time for T_START/T_END */
};

#define IE(t, k, r, tm)                                                                            \
    {                                                                                              \
        (t), TW__NF_OP_##k, (r), (tm)                                                              \
    }
#define MAP_LEN 311u

/*
 * Flow data records. Numbers are IANA IPFIX information elements (RFC 7012,
 * RFC 5102), which NetFlow v9 field types below 128 share (RFC 3954 8).
 */
static const struct ie_map data_map[MAP_LEN] = {
    [1] = IE(T_BYTES, U64, 0, 0),                /* octetDeltaCount / IN_BYTES */
    [2] = IE(T_PKTS, U64, 0, 0),                 /* packetDeltaCount / IN_PKTS */
    [4] = IE(T_PROTO, U8, 0, 0),                 /* protocolIdentifier */
    [5] = IE(T_TOS, U8, 0, 0),                   /* ipClassOfService */
    [6] = IE(T_FLAGS, U8, 0, 0),                 /* tcpControlBits (the low 8 bits) */
    [7] = IE(T_SPORT, U16, 0, 0),                /* sourceTransportPort */
    [8] = IE(T_SRC4, ADDR4, 0, 0),               /* sourceIPv4Address */
    [9] = IE(T_SMASK, U8, 0, 0),                 /* sourceIPv4PrefixLength */
    [10] = IE(T_IN, U32, 0, 0),                  /* ingressInterface */
    [11] = IE(T_DPORT, U16, 0, 0),               /* destinationTransportPort */
    [12] = IE(T_DST4, ADDR4, 0, 0),              /* destinationIPv4Address */
    [13] = IE(T_DMASK, U8, 0, 0),                /* destinationIPv4PrefixLength */
    [14] = IE(T_OUT, U32, 0, 0),                 /* egressInterface */
    [15] = IE(T_NH4, ADDR4, 0, 0),               /* ipNextHopIPv4Address */
    [16] = IE(T_SAS, U32, 0, 0),                 /* bgpSourceAsNumber */
    [17] = IE(T_DAS, U32, 0, 0),                 /* bgpDestinationAsNumber */
    [18] = IE(T_NH4, ADDR4, 1, 0),               /* bgpNextHopIPv4Address */
    [21] = IE(T_END, U64, 4, TW__NF_T_UPTIME),   /* flowEndSysUpTime / LAST_SWITCHED */
    [22] = IE(T_START, U64, 4, TW__NF_T_UPTIME), /* flowStartSysUpTime / FIRST_SWITCHED */
    [23] = IE(T_BYTES, U64, 1, 0),               /* postOctetDeltaCount */
    [24] = IE(T_PKTS, U64, 1, 0),                /* postPacketDeltaCount */
    [27] = IE(T_SRC6, ADDR16, 0, 0),             /* sourceIPv6Address */
    [28] = IE(T_DST6, ADDR16, 0, 0),             /* destinationIPv6Address */
    [29] = IE(T_SMASK, U8, 0, 0),                /* sourceIPv6PrefixLength */
    [30] = IE(T_DMASK, U8, 0, 0),                /* destinationIPv6PrefixLength */
    [32] = IE(T_ICMP, U16, 0, 0),                /* icmpTypeCodeIPv4 */
    [48] = IE(T_SAMPLER, U32, 0, 0),             /* samplerId / FLOW_SAMPLER_ID */
    [58] = IE(T_VLAN, U16, 0, 0),                /* vlanId */
    [59] = IE(T_VLAN, U16, 2, 0),                /* postVlanId */
    [62] = IE(T_NH6, ADDR16, 0, 0),              /* ipNextHopIPv6Address */
    [63] = IE(T_NH6, ADDR16, 1, 0),              /* bgpNextHopIPv6Address */
    [85] = IE(T_BYTES, U64, 2, 0),               /* octetTotalCount */
    [86] = IE(T_PKTS, U64, 2, 0),                /* packetTotalCount */
    [139] = IE(T_ICMP, U16, 0, 0),               /* icmpTypeCodeIPv6 */
    [150] = IE(T_START, U64, 1, TW__NF_T_S),     /* flowStartSeconds */
    [151] = IE(T_END, U64, 1, TW__NF_T_S),       /* flowEndSeconds */
    [152] = IE(T_START, U64, 0, TW__NF_T_MS),    /* flowStartMilliseconds */
    [153] = IE(T_END, U64, 0, TW__NF_T_MS),      /* flowEndMilliseconds */
    [154] = IE(T_START, U64, 2, TW__NF_T_NTP),   /* flowStartMicroseconds */
    [155] = IE(T_END, U64, 2, TW__NF_T_NTP),     /* flowEndMicroseconds */
    [156] = IE(T_START, U64, 3, TW__NF_T_NTP),   /* flowStartNanoseconds */
    [157] = IE(T_END, U64, 3, TW__NF_T_NTP),     /* flowEndNanoseconds */
    [160] = IE(T_SYSINIT, U64, 0, 0),            /* systemInitTimeMilliseconds */
    [176] = IE(T_ICMP_TYPE, U8, 0, 0),           /* icmpTypeIPv4 */
    [177] = IE(T_ICMP_CODE, U8, 0, 0),           /* icmpCodeIPv4 */
    [178] = IE(T_ICMP_TYPE, U8, 0, 0),           /* icmpTypeIPv6 */
    [179] = IE(T_ICMP_CODE, U8, 0, 0),           /* icmpCodeIPv6 */
    [180] = IE(T_SPORT, U16, 1, 0),              /* udpSourcePort */
    [181] = IE(T_DPORT, U16, 1, 0),              /* udpDestinationPort */
    [182] = IE(T_SPORT, U16, 1, 0),              /* tcpSourcePort */
    [183] = IE(T_DPORT, U16, 1, 0),              /* tcpDestinationPort */
    [243] = IE(T_VLAN, U16, 1, 0),               /* dot1qVlanId */
    [252] = IE(T_IN, U32, 1, 0),                 /* ingressPhysicalInterface */
    [253] = IE(T_OUT, U32, 1, 0),                /* egressPhysicalInterface */
    [302] = IE(T_SAMPLER, U32, 0, 0),            /* selectorId */
};

/* Options data records: sampling (RFC 3954 8, RFC 5477 8.2) and the exporter's boot time. */
static const struct ie_map options_map[MAP_LEN] = {
    [34] = IE(T_O_INTERVAL, U64, 0, 0), /* samplingInterval / SAMPLING_INTERVAL */
    [48] = IE(T_SAMPLER, U32, 0, 0),    /* samplerId / FLOW_SAMPLER_ID */
    [50] = IE(T_O_INTERVAL, U64, 0, 0), /* samplerRandomInterval */
    [160] = IE(T_SYSINIT, U64, 0, 0),   /* systemInitTimeMilliseconds */
    [302] = IE(T_SAMPLER, U32, 0, 0),   /* selectorId */
    [305] = IE(T_O_PKT_INT, U64, 0, 0), /* samplingPacketInterval */
    [306] = IE(T_O_PKT_SP, U64, 0, 0),  /* samplingPacketSpace */
    [309] = IE(T_O_SIZE, U64, 0, 0),    /* samplingSize */
    [310] = IE(T_O_POP, U64, 0, 0),     /* samplingPopulation */
};

#define SCR(f) ((uint16_t)offsetof(struct tw__nf_scratch, f))

_Static_assert(T_COUNT <= TW__NF_MAX_OPS, "one op per target must fit in a template");
_Static_assert(sizeof(struct tw__nf_scratch) <= UINT16_MAX, "op destinations are 16-bit");

/* Where each target goes; the IPv6 and next-hop ones depend on the template (compile()). */
static uint16_t target_dst(unsigned target, uint32_t flags)
{
    switch (target) {
        case T_BYTES:
            return SCR(rec.bytes);
        case T_PKTS:
            return SCR(rec.packets);
        case T_PROTO:
            return SCR(rec.proto);
        case T_TOS:
            return SCR(rec.tos);
        case T_FLAGS:
            return SCR(rec.tcp_flags);
        case T_SPORT:
            return SCR(rec.sport);
        case T_DPORT:
            return SCR(rec.dport);
        case T_SRC4:
            return SCR(rec.src.bytes);
        case T_DST4:
            return SCR(rec.dst.bytes);
        case T_SRC6:
            return (flags & TW__NF_TF_DUAL) ? SCR(src6) : SCR(rec.src.bytes);
        case T_DST6:
            return (flags & TW__NF_TF_DUAL) ? SCR(dst6) : SCR(rec.dst.bytes);
        case T_SMASK:
            return SCR(rec.src_mask);
        case T_DMASK:
            return SCR(rec.dst_mask);
        case T_IN:
            return SCR(rec.in_if);
        case T_OUT:
            return SCR(rec.out_if);
        case T_NH4:
            return SCR(rec.nexthop.bytes);
        case T_NH6:
            return (flags & TW__NF_TF_NH4) ? SCR(nh6) : SCR(rec.nexthop.bytes);
        case T_SAS:
            return SCR(rec.src_as);
        case T_DAS:
            return SCR(rec.dst_as);
        case T_VLAN:
            return SCR(rec.vlan);
        case T_ICMP:
            return SCR(icmp);
        case T_ICMP_TYPE:
            return SCR(icmp_type);
        case T_ICMP_CODE:
            return SCR(icmp_code);
        case T_START:
            return SCR(t_start);
        case T_END:
            return SCR(t_end);
        case T_SYSINIT:
            return SCR(sys_init);
        case T_SAMPLER:
            return SCR(sampler);
        case T_O_INTERVAL:
            return SCR(o_interval);
        case T_O_PKT_INT:
            return SCR(o_pkt_int);
        case T_O_PKT_SP:
            return SCR(o_pkt_space);
        case T_O_SIZE:
            return SCR(o_size);
        default:
            return SCR(o_pop);
    }
}

/* The template flag a target sets. */
static uint32_t target_flag(unsigned target)
{
    switch (target) {
        case T_NH4:
            return TW__NF_TF_NH4;
        case T_NH6:
            return TW__NF_TF_NH6;
        case T_ICMP:
            return TW__NF_TF_ICMP;
        case T_ICMP_TYPE:
        case T_ICMP_CODE:
            return TW__NF_TF_ICMP_TC;
        case T_SAMPLER:
            return TW__NF_TF_SAMPLER;
        case T_SYSINIT:
            return TW__NF_TF_SYSINIT;
        case T_O_INTERVAL:
            return TW__NF_TF_INTERVAL;
        case T_O_PKT_INT:
            return TW__NF_TF_PKT_INT;
        case T_O_PKT_SP:
            return TW__NF_TF_PKT_SP;
        case T_O_SIZE:
            return TW__NF_TF_SIZE;
        case T_O_POP:
            return TW__NF_TF_POP;
        default:
            return 0;
    }
}

static bool length_fits(unsigned kind, unsigned len)
{
    if (kind == TW__NF_OP_ADDR4)
        return len == 4;
    if (kind == TW__NF_OP_ADDR16)
        return len == 16;
    return len >= 1 && len <= 8;
}

/* The specialised kind of an integer store for its wire length, when there is one. */
static uint8_t specialise(uint8_t kind, uint8_t len)
{
    switch (kind) {
        case TW__NF_OP_U8:
            return len == 1 ? TW__NF_OP_U8_1 : kind;
        case TW__NF_OP_U16:
            return len == 2 ? TW__NF_OP_U16_2 : kind;
        case TW__NF_OP_U32:
            return len == 4 ? TW__NF_OP_U32_4 : len == 2 ? TW__NF_OP_U32_2 : kind;
        case TW__NF_OP_U64:
            return len == 8 ? TW__NF_OP_U64_8 : len == 4 ? TW__NF_OP_U64_4 : kind;
        default:
            return kind;
    }
}

/* ==== Compiling templates ==== */

struct tmpl_hdr {
    uint16_t tid;
    uint32_t n_fields;
    uint32_t n_scope; /* NetFlow v9 scope fields are not information elements: not mapped */
    bool options;
};

/*
 * Compiles the field specifiers at data[pos..end) of one template record
 * into *t (whose node is left alone) and sets *used to the bytes they took.
 * Returns TW_OK, TW_ETRUNC / TW_ESYNTAX for a malformed record (err names
 * the offset), or TW_ENOMEM.
 */
static int compile(struct tw__nf_ctx *c, const struct tmpl_hdr *h, size_t pos, size_t end,
        struct tw__nf_tmpl *t, size_t *used, struct tw_err *err)
{
    const struct ie_map *map = h->options ? options_map : data_map;
    bool ipfix = c->version == 10;
    int8_t slot[T_COUNT];
    uint8_t rank[T_COUNT], time_of[T_COUNT];
    uint16_t var_tmp[TW__NF_MAX_FIELDS];
    uint32_t off = 0, total = 0;
    uint16_t seg = 0;
    size_t start = pos;

    memset(slot, -1, sizeof(slot));
    memset(time_of, 0, sizeof(time_of));
    memset(rank, 0, sizeof(rank));
    t->flags = h->options ? TW__NF_TF_OPTIONS : 0;
    t->n_ops = 0;
    t->n_var = 0;
    t->var_off = NULL;
    for (uint32_t i = 0; i < h->n_fields; i++) {
        uint16_t ie, flen;
        bool enterprise = false;

        if (end - pos < 4)
            return TW_E_HERE(err, TW_ETRUNC, pos,
                    "template %u: field %u of %u runs past the end of its set", (unsigned)h->tid,
                    (unsigned)i + 1, (unsigned)h->n_fields);
        ie = tw__nf_rd16(c->data + pos);
        flen = tw__nf_rd16(c->data + pos + 2);
        if (ipfix && (ie & TW__NF_EBIT)) {
            if (end - pos < 8)
                return TW_E_HERE(err, TW_ETRUNC, pos,
                        "template %u: enterprise number of field %u runs past the end of its set",
                        (unsigned)h->tid, (unsigned)i + 1);
            enterprise = true;
            pos += 4;
        }
        if (flen == 0)
            return TW_E_HERE(err, TW_ESYNTAX, pos + 2, "template %u: field %u has length 0",
                    (unsigned)h->tid, (unsigned)i + 1);
        pos += 4;
        if (flen == TW__NF_VARLEN) {
            if (!ipfix)
                return TW_E_HERE(err, TW_ESYNTAX, pos - 2,
                        "template %u: field %u has length 65535 (NetFlow v9 has no "
                        "variable-length fields)",
                        (unsigned)h->tid, (unsigned)i + 1);
            var_tmp[t->n_var++] = (uint16_t)off;
            seg++;
            off = 0;
            total += 1;
            continue;
        }
        if (!enterprise && i >= h->n_scope && ie < MAP_LEN && map[ie].target != T_NONE &&
                length_fits(map[ie].kind, flen)) {
            const struct ie_map *m = &map[ie];
            struct tw__nf_op *op;

            if (slot[m->target] < 0) {
                slot[m->target] = (int8_t)t->n_ops++;
            } else if (rank[m->target] < m->rank) {
                goto next; /* a better field feeds this target already */
            }
            op = &t->ops[slot[m->target]];
            op->off = (uint16_t)off;
            op->seg = seg;
            op->len = (uint8_t)flen;
            op->kind = m->kind;
            op->dst = (uint16_t)m->target; /* resolved below */
            rank[m->target] = m->rank;
            time_of[m->target] = m->time;
        }
    next:
        off += flen;
        total += flen;
        if (total > TW_NF_MAX_DATAGRAM)
            return TW_E_HERE(err, TW_ESYNTAX, pos - 2,
                    "template %u: records would be longer than a datagram", (unsigned)h->tid);
    }
    *used = pos - start;
    t->min_len = total;
    t->tail_len = off;

    /* Families, flags, and the ops' real destinations. */
    {
        bool has4 = slot[T_SRC4] >= 0 || slot[T_DST4] >= 0;
        bool has6 = slot[T_SRC6] >= 0 || slot[T_DST6] >= 0;

        t->family = has4 ? 4 : has6 ? 6 : 0;
        if (has4 && has6)
            t->flags |= TW__NF_TF_DUAL;
    }
    for (unsigned k = 0; k < T_COUNT; k++)
        if (slot[k] >= 0)
            t->flags |= target_flag(k);
    t->t_start = slot[T_START] >= 0 ? time_of[T_START] : TW__NF_T_NONE;
    t->t_end = slot[T_END] >= 0 ? time_of[T_END] : TW__NF_T_NONE;
    for (unsigned k = 0; k < t->n_ops; k++) {
        struct tw__nf_op *op = &t->ops[k];

        op->dst = target_dst(op->dst, t->flags);
        op->kind = specialise(op->kind, op->len);
    }
    if (t->n_var > 0) {
        t->var_off = tw_malloc((size_t)t->n_var * sizeof(uint16_t));
        if (t->var_off == NULL)
            return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "out of memory for a template");
        memcpy(t->var_off, var_tmp, (size_t)t->n_var * sizeof(uint16_t));
    }
    return TW_OK;
}

void tw__nf_tmpl_drop(void *entry)
{
    struct tw__nf_tmpl *t = entry;

    tw_free(t->var_off);
    t->var_off = NULL;
}

/* Stores a compiled template under c->key + tid (replacing what was there). */
static int tmpl_store(struct tw__nf_ctx *c, uint16_t tid, struct tw__nf_tmpl *compiled)
{
    struct tw_nf_decoder *d = c->d;
    struct tw__nf_key k = c->key;
    struct tw__nf_tmpl *t;
    struct tw__nf_node node;
    uint32_t h;

    k.tid = tid;
    h = tw__nf_key_hash(&k);
    t = tw__nf_tab_find(&d->tmpls, &k, h);
    if (t == NULL) {
        t = tw__nf_tab_add(&d->tmpls, &k, h);
        if (t == NULL) {
            tw_free(compiled->var_off);
            return TW_ENOMEM;
        }
    }
    tw_free(t->var_off);
    node = t->node;
    *t = *compiled;
    t->node = node;
    t->refreshed_s = c->export_s;
    d->st.templates++;
    return TW_OK;
}

/* Applies an IPFIX withdrawal (RFC 7011 8.1): one template, or all of a set's kind. */
static void withdraw(struct tw__nf_ctx *c, uint16_t tid, uint16_t set_id)
{
    struct tw_nf_decoder *d = c->d;
    bool removed = false;

    if (tid == set_id) {
        bool options = set_id == TW__NF_IPFIX_OPTIONS_SET;

        for (uint32_t i = 0; i < d->tmpls.n_fresh; i++) {
            struct tw__nf_tmpl *t = (struct tw__nf_tmpl *)(void *)tw__nf_tab_at(&d->tmpls, i);
            struct tw__nf_key k = t->node.key;

            k.tid = 0;
            if (t->node.used && memcmp(&k, &c->key, sizeof(k)) == 0 &&
                    ((t->flags & TW__NF_TF_OPTIONS) != 0) == options) {
                tw__nf_tab_remove(&d->tmpls, t);
                removed = true;
            }
        }
    } else {
        struct tw__nf_key k = c->key;
        struct tw__nf_tmpl *t;

        k.tid = tid;
        t = tw__nf_tab_find(&d->tmpls, &k, tw__nf_key_hash(&k));
        if (t != NULL) {
            tw__nf_tab_remove(&d->tmpls, t);
            removed = true;
        }
    }
    if (removed)
        d->st.template_withdrawals++;
}

/*
 * Template set (RFC 7011 3.4.1; v9 RFC 3954 5.2):
 *   template id (2), field count (2), then field count specifiers of
 *   element id (2; IPFIX: top bit = enterprise), length (2)[, enterprise number (4)].
 * Options template set, IPFIX (RFC 7011 3.4.2.2):
 *   template id (2), field count (2), scope field count (2), specifiers (scope first).
 * Options template FlowSet, v9 (RFC 3954 6.1):
 *   template id (2), scope length in bytes (2), option length in bytes (2),
 *   scope specifiers (type, length), option specifiers.
 * Bytes after the last record shorter than a record header, or starting
 * with a zero template id and count, are padding.
 */
int tw__nf_template_set(
        struct tw__nf_ctx *c, size_t off, size_t len, uint16_t set_id, struct tw_err *err)
{
    bool ipfix = c->version == 10;
    bool options = set_id == (ipfix ? TW__NF_IPFIX_OPTIONS_SET : TW__NF_V9_OPTIONS_SET);
    size_t pos = off + TW__NF_SET_HDR, end = off + len;

    while (end - pos >= 4) {
        struct tmpl_hdr h;
        struct tw__nf_tmpl t;
        size_t hdr = options ? 6 : 4, used = 0;
        uint16_t a = tw__nf_rd16(c->data + pos + 2);
        int rc;

        h.tid = tw__nf_rd16(c->data + pos);
        h.options = options;
        h.n_scope = 0;
        if (h.tid == 0 && a == 0)
            break; /* padding */
        if (ipfix && a == 0) {
            if (h.tid != set_id && h.tid < TW__NF_MIN_DATA_SET)
                return TW_E_HERE(err, TW_ESYNTAX, pos, "withdrawal of template id %u (below 256)",
                        (unsigned)h.tid);
            withdraw(c, h.tid, set_id);
            pos += 4;
            continue;
        }
        if (end - pos < hdr) {
            if (!ipfix)
                break; /* NetFlow v9 pads FlowSets to 4 bytes */
            return TW_E_HERE(
                    err, TW_ETRUNC, pos, "options template header runs past the end of its set");
        }
        if (h.tid < TW__NF_MIN_DATA_SET)
            return TW_E_HERE(err, TW_ESYNTAX, pos, "template id %u is below 256", (unsigned)h.tid);
        if (!options) {
            h.n_fields = a;
        } else if (ipfix) {
            h.n_fields = a;
            h.n_scope = tw__nf_rd16(c->data + pos + 4);
            if (h.n_scope == 0 || h.n_scope > h.n_fields)
                return TW_E_HERE(err, TW_ESYNTAX, pos + 4,
                        "options template %u: scope field count %u is 0 or above the field "
                        "count %u",
                        (unsigned)h.tid, (unsigned)h.n_scope, (unsigned)h.n_fields);
            h.n_scope = 0; /* IPFIX scope fields are information elements: map them too */
        } else {
            uint16_t opt_len = tw__nf_rd16(c->data + pos + 4);

            if (a % 4 != 0 || opt_len % 4 != 0 || a + opt_len == 0)
                return TW_E_HERE(err, TW_ESYNTAX, pos + 2,
                        "options template %u: scope length %u and option length %u must be "
                        "non-zero multiples of 4",
                        (unsigned)h.tid, (unsigned)a, (unsigned)opt_len);
            h.n_scope = a / 4u;
            h.n_fields = (uint32_t)(a + opt_len) / 4u;
        }
        if (h.n_fields == 0)
            return TW_E_HERE(
                    err, TW_ESYNTAX, pos + 2, "template %u has no fields", (unsigned)h.tid);
        if (h.n_fields > TW__NF_MAX_FIELDS)
            return TW_E_HERE(err, TW_ESYNTAX, pos + 2,
                    "template %u declares %u fields (at most %u are accepted)", (unsigned)h.tid,
                    (unsigned)h.n_fields, TW__NF_MAX_FIELDS);
        if ((size_t)h.n_fields * 4 > end - pos - hdr)
            return TW_E_HERE(err, TW_ETRUNC, pos + 2,
                    "template %u: %u fields do not fit in the %zu bytes left in its set",
                    (unsigned)h.tid, (unsigned)h.n_fields, end - pos - hdr);
        memset(&t, 0, sizeof(t));
        rc = compile(c, &h, pos + hdr, end, &t, &used, err);
        if (rc != TW_OK) {
            tw_free(t.var_off);
            return rc;
        }
        c->n_template_recs++;
        rc = tmpl_store(c, h.tid, &t);
        if (rc != TW_OK)
            return TW_E_HERE(err, rc, TW_NOPOS, "out of memory for a template");
        pos += hdr + used;
    }
    return TW_OK;
}

/* ==== Data records ==== */

static struct tw__nf_tmpl *tmpl_find(struct tw__nf_ctx *c, uint16_t tid)
{
    struct tw_nf_decoder *d = c->d;
    struct tw__nf_key k = c->key;
    struct tw__nf_tmpl *t = NULL;

    k.tid = tid;
    if (d->last_tmpl != TW__NF_NIL) {
        t = (struct tw__nf_tmpl *)(void *)tw__nf_tab_at(&d->tmpls, d->last_tmpl);
        if (t->node.used && memcmp(&t->node.key, &k, sizeof(k)) == 0)
            tw__nf_tab_touch(&d->tmpls, t);
        else
            t = NULL;
    }
    if (t == NULL)
        t = tw__nf_tab_find(&d->tmpls, &k, tw__nf_key_hash(&k));
    if (t != NULL && d->cfg.template_timeout_s > 0 &&
            c->export_s - t->refreshed_s > (int64_t)d->cfg.template_timeout_s) {
        tw__nf_tab_remove(&d->tmpls, t); /* RFC 7011 8.4: not refreshed in time */
        t = NULL;
    }
    d->last_tmpl =
            t == NULL ? TW__NF_NIL
                      : (uint32_t)((size_t)((unsigned char *)t - d->tmpls.slots) / d->tmpls.stride);
    return t;
}

/*
 * Runs a template's ops over one record whose segments start at rec + sb[k]
 * (sb NULL: a template without variable-length fields, one segment).
 */
static inline __attribute__((always_inline)) void run_ops(const struct tw__nf_tmpl *t,
        const uint8_t *rec, const uint32_t *sb, struct tw__nf_scratch *s)
{
    unsigned char *base = (unsigned char *)s;

    for (const struct tw__nf_op *op = t->ops, *end = t->ops + t->n_ops; op < end; op++) {
        const uint8_t *p = rec + (sb != NULL ? sb[op->seg] : 0) + op->off;
        unsigned char *q = base + op->dst;

        switch (op->kind) {
            case TW__NF_OP_U8: {
                uint8_t v = (uint8_t)tw__nf_rdn(p, op->len);

                memcpy(q, &v, 1);
                break;
            }
            case TW__NF_OP_U16: {
                uint16_t v = (uint16_t)tw__nf_rdn(p, op->len);

                memcpy(q, &v, 2);
                break;
            }
            case TW__NF_OP_U32: {
                uint32_t v = (uint32_t)tw__nf_rdn(p, op->len);

                memcpy(q, &v, 4);
                break;
            }
            case TW__NF_OP_U64: {
                uint64_t v = tw__nf_rdn(p, op->len);

                memcpy(q, &v, 8);
                break;
            }
            case TW__NF_OP_ADDR4:
                memcpy(q, p, 4);
                break;
            case TW__NF_OP_ADDR16:
                memcpy(q, p, 16);
                break;
            case TW__NF_OP_U8_1:
                *q = *p;
                break;
            case TW__NF_OP_U16_2: {
                uint16_t v = tw__nf_rd16(p);

                memcpy(q, &v, 2);
                break;
            }
            case TW__NF_OP_U32_4: {
                uint32_t v = tw__nf_rd32(p);

                memcpy(q, &v, 4);
                break;
            }
            case TW__NF_OP_U32_2: {
                uint32_t v = tw__nf_rd16(p);

                memcpy(q, &v, 4);
                break;
            }
            case TW__NF_OP_U64_8: {
                uint64_t v = tw__nf_rd64(p);

                memcpy(q, &v, 8);
                break;
            }
            default: { /* TW__NF_OP_U64_4 */
                uint64_t v = tw__nf_rd32(p);

                memcpy(q, &v, 8);
                break;
            }
        }
    }
}

static bool zero4(const uint8_t *p)
{
    return (p[0] | p[1] | p[2] | p[3]) == 0;
}

static bool zero16(const uint8_t *p)
{
    uint64_t a, b;

    memcpy(&a, p, 8);
    memcpy(&b, p + 8, 8);
    return (a | b) == 0;
}

static int64_t sat_ms(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* Epoch milliseconds of a time field (kind: enum tw__nf_time). */
static int64_t to_ms(const struct tw__nf_ctx *c, unsigned kind, uint64_t v, int64_t sys_init)
{
    switch (kind) {
        case TW__NF_T_MS:
            return sat_ms(v);
        case TW__NF_T_S:
            return v > (uint64_t)INT64_MAX / 1000 ? INT64_MAX : (int64_t)v * 1000;
        case TW__NF_T_NTP:
            /* RFC 7011 6.1.9-6.1.10: NTP seconds since 1900 and a 32-bit fraction. */
            return ((int64_t)(v >> 32) - (int64_t)TW__NF_NTP_UNIX_OFFSET) * 1000 +
                   (int64_t)(((v & 0xffffffffu) * 1000) >> 32);
        default:
            if (c->version == 9) /* RFC 3954 8: relative to the header's sysUptime */
                return c->export_ms - (int32_t)(c->sys_uptime - (uint32_t)v);
            if (sys_init == 0) /* IPFIX without systemInitTimeMilliseconds: export time */
                return c->export_ms;
            return v > (uint64_t)(INT64_MAX - sys_init) ? INT64_MAX : sys_init + (int64_t)v;
    }
}

static uint32_t sampler_lookup(const struct tw__nf_source *src, uint32_t id, bool *found)
{
    for (uint32_t i = 0; i < src->n_samplers; i++) {
        if (src->samplers[i].id == id) {
            *found = true;
            return src->samplers[i].interval;
        }
    }
    *found = false;
    return 0;
}

/* What depends on several fields: family, next hop, ICMP, times, sampling. */
static void finish_record(
        const struct tw__nf_ctx *c, const struct tw__nf_tmpl *t, struct tw__nf_scratch *s)
{
    struct tw_flowrec *r = &s->rec;
    uint32_t f = t->flags;
    uint8_t fam = t->family;
    int64_t sys_init = c->src->sys_init_ms;
    bool found = false;

    if ((f & TW__NF_TF_DUAL) && zero4(r->src.bytes) && zero4(r->dst.bytes)) {
        memcpy(r->src.bytes, s->src6, 16);
        memcpy(r->dst.bytes, s->dst6, 16);
        fam = 6;
    } else if (f & TW__NF_TF_DUAL) {
        fam = 4;
    }
    r->src.family = r->dst.family = fam;

    if (f & (TW__NF_TF_NH4 | TW__NF_TF_NH6)) {
        if ((f & TW__NF_TF_NH4) && !zero4(r->nexthop.bytes)) {
            r->nexthop.family = 4;
        } else if (f & TW__NF_TF_NH4) {
            if ((f & TW__NF_TF_NH6) && !zero16(s->nh6)) {
                memcpy(r->nexthop.bytes, s->nh6, 16);
                r->nexthop.family = 6;
            }
        } else if (!zero16(r->nexthop.bytes)) {
            r->nexthop.family = 6;
        }
    }

    if (r->proto == 1 || r->proto == 58) {
        if ((f & TW__NF_TF_ICMP) && s->icmp != 0)
            r->dport = s->icmp;
        else if ((f & TW__NF_TF_ICMP_TC) && (s->icmp_type | s->icmp_code) != 0)
            r->dport = (uint16_t)(s->icmp_type << 8 | s->icmp_code);
    }

    if ((f & TW__NF_TF_SYSINIT) && s->sys_init != 0)
        sys_init = sat_ms(s->sys_init);
    if (t->t_start != TW__NF_T_NONE)
        r->first_ms = to_ms(c, t->t_start, s->t_start, sys_init);
    if (t->t_end != TW__NF_T_NONE)
        r->last_ms = to_ms(c, t->t_end, s->t_end, sys_init);
    if (t->t_start == TW__NF_T_NONE)
        r->first_ms = t->t_end == TW__NF_T_NONE ? c->export_ms : r->last_ms;
    if (t->t_end == TW__NF_T_NONE)
        r->last_ms = r->first_ms;
    if (r->last_ms < r->first_ms)
        r->last_ms = r->first_ms;

    if (f & TW__NF_TF_SAMPLER)
        r->sampling = sampler_lookup(c->src, s->sampler, &found);
    if (!found)
        r->sampling = c->src->sampling;
}

/* An options data record: sampling intervals and the exporter's boot time (RFC 5476 6.5). */
static void options_record(
        struct tw__nf_ctx *c, const struct tw__nf_tmpl *t, const struct tw__nf_scratch *s)
{
    struct tw__nf_source *src = c->src;
    uint32_t f = t->flags;
    uint64_t interval = 0;
    bool have = false;

    c->d->st.options_records++;
    if ((f & TW__NF_TF_POP) && (f & TW__NF_TF_SIZE)) {
        have = s->o_size > 0;
        interval = have ? s->o_pop / s->o_size : 0;
    } else if ((f & TW__NF_TF_PKT_INT) && (f & TW__NF_TF_PKT_SP)) {
        have = s->o_pkt_int > 0;
        interval = have ? (s->o_pkt_int + s->o_pkt_space) / s->o_pkt_int : 0;
    } else if (f & TW__NF_TF_INTERVAL) {
        have = true;
        interval = s->o_interval;
    }
    if (interval > UINT32_MAX)
        interval = UINT32_MAX;
    if (have && (f & TW__NF_TF_SAMPLER)) {
        uint32_t i;

        for (i = 0; i < src->n_samplers && src->samplers[i].id != s->sampler; i++)
            ;
        if (i == src->n_samplers) {
            if (src->n_samplers < TW__NF_MAX_SAMPLERS) {
                src->n_samplers++;
            } else {
                i = src->next_sampler;
                src->next_sampler = (src->next_sampler + 1) % TW__NF_MAX_SAMPLERS;
            }
        }
        src->samplers[i].id = s->sampler;
        src->samplers[i].interval = (uint32_t)interval;
    } else if (have) {
        src->sampling = (uint32_t)interval;
    }
    if ((f & TW__NF_TF_SYSINIT) && s->sys_init != 0)
        src->sys_init_ms = sat_ms(s->sys_init);
}

static inline __attribute__((always_inline)) void one_record(struct tw__nf_ctx *c,
        const struct tw__nf_tmpl *t, const uint8_t *rec, const uint32_t *sb,
        struct tw__nf_scratch *s)
{
    s->rec = c->base;
    run_ops(t, rec, sb, s);
    c->n_data++;
    if (t->flags & TW__NF_TF_OPTIONS) {
        options_record(c, t, s);
        return;
    }
    if (t->family == 0) {
        /* No address: exporter statistics and the like, not a flow. */
        c->d->st.options_records++;
        return;
    }
    finish_record(c, t, s);
    c->d->st.records++;
    if (c->emit != NULL && c->emit(&s->rec, c->arg) != 0)
        c->stopped = true;
}

/*
 * Data set (RFC 7011 3.3.1, RFC 3954 5.3): records of template `tid` back to
 * back, then padding shorter than the shortest record. A variable-length
 * field has a one-byte length, or 255 and a two-byte length (RFC 7011 7).
 */
int tw__nf_data_set(struct tw__nf_ctx *c, size_t off, size_t len, uint16_t tid, struct tw_err *err)
{
    const struct tw__nf_tmpl *t = tmpl_find(c, tid);
    const uint8_t *p = c->data + off + TW__NF_SET_HDR;
    size_t avail = len - TW__NF_SET_HDR, pos = 0;
    struct tw__nf_scratch s;
    uint32_t sb[TW__NF_MAX_FIELDS + 1];

    if (t == NULL) {
        c->d->st.no_template++;
        c->n_unknown_sets++;
        return TW_OK;
    }
    memset(&s, 0, sizeof(s));
    sb[0] = 0;
    if (t->n_var == 0) {
        size_t rl = t->min_len, n = avail / rl;

        for (size_t i = 0; i < n && !c->stopped; i++)
            one_record(c, t, p + i * rl, NULL, &s);
        return TW_OK;
    }
    while (avail - pos >= t->min_len && !c->stopped) {
        const uint8_t *rec = p + pos;
        size_t room = avail - pos, at, rl;

        for (unsigned k = 0; k < t->n_var; k++) {
            size_t vl, hl = 1;

            at = (size_t)sb[k] + t->var_off[k];
            if (at >= room)
                goto overrun;
            vl = rec[at];
            if (vl == 255) {
                if (room - at < 3)
                    goto overrun;
                vl = tw__nf_rd16(rec + at + 1);
                hl = 3;
            }
            if (vl > room - at - hl)
                goto overrun;
            sb[k + 1] = (uint32_t)(at + hl + vl);
        }
        rl = (size_t)sb[t->n_var] + t->tail_len;
        if (rl > room)
            goto overrun;
        one_record(c, t, rec, sb, &s);
        pos += rl;
    }
    return TW_OK;
overrun:
    return TW_E_HERE(err, TW_ETRUNC, off + TW__NF_SET_HDR + pos,
            "data set of template %u: the record at offset %zu runs past the end of the set",
            (unsigned)tid, off + TW__NF_SET_HDR + pos);
}
