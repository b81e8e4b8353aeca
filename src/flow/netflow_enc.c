/*
 * netflow_enc.c: the project's own NetFlow v5 / v9 / IPFIX exporter
 * (netflow.h), used by tests, benchmarks, `flows generate` and the demo, and
 * the synthetic flow stream they feed it.
 *
 * Datagram layout, v9 and IPFIX. Every datagram that carries templates (the
 * first one, then every template_every-th) starts with:
 *   - a template set: the IPv4 template (id 256) and the IPv6 one (id 257);
 *   - an options template set: id 258, the sampler options (v9: scope System,
 *     FLOW_SAMPLER_ID, SAMPLING_INTERVAL; IPFIX: scope selectorId,
 *     samplingSize, samplingPopulation, the way Cisco IOS XR sends them) and,
 *     IPFIX only, id 259 (scope observationDomainId, systemInitTimeMilliseconds);
 *   - options data: IPFIX the boot time (259), then one sampler record per
 *     sampling interval met so far (258).
 * Data sets follow, one per run of records of the same family. A record
 * whose sampling interval (above 1) has not been announced yet is preceded
 * by its sampler record. The sampler id of a record is its sampling interval
 * itself (0 when unsampled), so the decoder finds the interval by id.
 *
 * Templates (v9 / IPFIX; sizes in bytes):
 *   IPv4: src 8 (4), dst 12 (4), next hop 15 (4), sport 7 (2), dport 11 (2),
 *         [IPFIX enterprise 2011/232 (2)], proto 4 (1), tcp flags 6 (1),
 *         tos 5 (1), [IPFIX interfaceName 82 (variable)], masks 9/13 (1),
 *         ifindex 10/14 (4), AS 16/17 (4), vlan 58 (2), icmpTypeCode 32 (2),
 *         packets 2 (8), bytes 1 (8), times (v9: 22/21 uptime (4); IPFIX:
 *         152/153 milliseconds (8)), sampler (v9: 48 (2); IPFIX: 302 (4)).
 *   IPv6: addresses 27/28 (16), next hop 62 (16), masks 29/30, vlan
 *         (IPFIX: dot1qVlanId 243), icmpTypeCode 139, and for IPFIX the
 *         times as flowStart/EndSysUpTime 22/21 (4) against the boot time in
 *         options template 259; the rest as IPv4.
 * The bracketed fields appear with enterprise_field / varlen_field.
 */
#include <stdio.h>
#include <string.h>

#include "netflow_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/err.h"

/* ==== Types ==== */

#define ENC_T4   256u
#define ENC_T6   257u
#define ENC_TOPT 258u
#define ENC_TSYS 259u

#define ENC_DEFAULT_DATAGRAM 1400u
#define ENC_PEN              2011u /* the enterprise number of the extra field */
#define ENC_MAX_FIELDS       32u

/* What a template field carries. */
enum fval {
    F_SRC,
    F_DST,
    F_NH,
    F_SPORT,
    F_DPORT,
    F_PROTO,
    F_FLAGS,
    F_TOS,
    F_SMASK,
    F_DMASK,
    F_IN,
    F_OUT,
    F_SAS,
    F_DAS,
    F_VLAN,
    F_ICMP,
    F_PKTS,
    F_BYTES,
    F_FIRST_UP,
    F_LAST_UP,
    F_FIRST_MS,
    F_LAST_MS,
    F_SAMPLER,
    F_ENTERPRISE,
    F_IFNAME,
};

struct fspec {
    uint16_t ie;
    uint16_t len; /* TW__NF_VARLEN for the interface name */
    uint8_t what; /* enum fval */
    bool enterprise;
};

struct tmpl_def {
    struct fspec f[ENC_MAX_FIELDS];
    unsigned n;
    size_t fixed; /* bytes of the fixed-length fields */
};

struct tw_nf_encoder {
    struct tw_nf_encoder_config cfg;
    uint8_t *buf;
    size_t cap;
    size_t len;       /* bytes of the datagram being built; 0 when none is open */
    size_t set_off;   /* offset of the open set, 0 when none */
    uint16_t set_id;  /* id of the open set */
    uint32_t n_count; /* v5 records / v9 header count (every record) */
    uint32_t n_data;  /* data records, options ones included (IPFIX sequence) */
    uint64_t n_dgrams;
    uint32_t seq;
    int64_t export_ms; /* of the open datagram */
    uint32_t v5_sampling;
    uint32_t samplers[TW__NF_MAX_SAMPLERS];
    uint32_t n_samplers;
    struct tmpl_def t4, t6;
};

/* ==== Templates ==== */

static void add_field(struct tmpl_def *t, uint16_t ie, uint16_t len, enum fval what)
{
    struct fspec *f = &t->f[t->n++];

    f->ie = ie;
    f->len = len;
    f->what = (uint8_t)what;
    f->enterprise = what == F_ENTERPRISE;
    if (len != TW__NF_VARLEN)
        t->fixed += len;
}

static void build_template(const struct tw_nf_encoder_config *cfg, int family, struct tmpl_def *t)
{
    bool ipfix = cfg->version == 10, v6 = family == 6;

    memset(t, 0, sizeof(*t));
    add_field(t, v6 ? 27 : 8, v6 ? 16 : 4, F_SRC);
    add_field(t, v6 ? 28 : 12, v6 ? 16 : 4, F_DST);
    add_field(t, v6 ? 62 : 15, v6 ? 16 : 4, F_NH);
    add_field(t, 7, 2, F_SPORT);
    add_field(t, 11, 2, F_DPORT);
    if (ipfix && cfg->enterprise_field)
        add_field(t, 232, 2, F_ENTERPRISE);
    add_field(t, 4, 1, F_PROTO);
    add_field(t, 6, 1, F_FLAGS);
    add_field(t, 5, 1, F_TOS);
    if (ipfix && cfg->varlen_field)
        add_field(t, 82, TW__NF_VARLEN, F_IFNAME);
    add_field(t, v6 ? 29 : 9, 1, F_SMASK);
    add_field(t, v6 ? 30 : 13, 1, F_DMASK);
    add_field(t, 10, 4, F_IN);
    add_field(t, 14, 4, F_OUT);
    add_field(t, 16, 4, F_SAS);
    add_field(t, 17, 4, F_DAS);
    add_field(t, ipfix && v6 ? 243 : 58, 2, F_VLAN);
    add_field(t, v6 ? 139 : 32, 2, F_ICMP);
    add_field(t, 2, 8, F_PKTS);
    add_field(t, 1, 8, F_BYTES);
    if (ipfix && !v6) {
        add_field(t, 152, 8, F_FIRST_MS);
        add_field(t, 153, 8, F_LAST_MS);
    } else {
        add_field(t, 22, 4, F_FIRST_UP);
        add_field(t, 21, 4, F_LAST_UP);
    }
    if (ipfix)
        add_field(t, 302, 4, F_SAMPLER);
    else
        add_field(t, 48, 2, F_SAMPLER);
}

static size_t template_rec_len(const struct tmpl_def *t)
{
    size_t n = 4;

    for (unsigned i = 0; i < t->n; i++)
        n += t->f[i].enterprise ? 8 : 4;
    return n;
}

/* Options records: v9 scope System (4) + sampler id (2) + interval (4); IPFIX 3 x 4. */
static size_t sampler_rec_len(const struct tw_nf_encoder *e)
{
    return e->cfg.version == 10 ? 12 : 10;
}

/* The interface name of the variable-length field, and its length. */
static size_t ifname(const struct tw_flowrec *r, char out[16])
{
    int n = snprintf(out, 16, "if%u", (unsigned)(r->in_if % 100000u));

    return n < 0 ? 0 : (size_t)n;
}

static bool ifname_long_form(const struct tw_flowrec *r)
{
    return (r->in_if & 1u) != 0; /* exercise both length encodings (RFC 7011 7) */
}

static size_t data_rec_len(const struct tw_nf_encoder *e, const struct tw_flowrec *r)
{
    const struct tmpl_def *t = r->src.family == 6 ? &e->t6 : &e->t4;
    size_t n = t->fixed;

    if (e->cfg.version == 10 && e->cfg.varlen_field) {
        char name[16];

        n += ifname(r, name) + (ifname_long_form(r) ? 3 : 1);
    }
    return n;
}

/* ==== Building datagrams ==== */

static void put16(struct tw_nf_encoder *e, uint16_t v)
{
    tw__nf_wr16(e->buf + e->len, v);
    e->len += 2;
}

static void put32(struct tw_nf_encoder *e, uint32_t v)
{
    tw__nf_wr32(e->buf + e->len, v);
    e->len += 4;
}

static void put64(struct tw_nf_encoder *e, uint64_t v)
{
    tw__nf_wr64(e->buf + e->len, v);
    e->len += 8;
}

/* Ends the open set: its length, and for v9 padding to 4 bytes (RFC 3954 5.3). */
static void set_close(struct tw_nf_encoder *e)
{
    if (e->set_off == 0)
        return;
    if (e->cfg.version == 9) {
        while ((e->len - e->set_off) % 4 != 0)
            e->buf[e->len++] = 0;
    }
    tw__nf_wr16(e->buf + e->set_off + 2, (uint16_t)(e->len - e->set_off));
    e->set_off = 0;
}

static void set_open(struct tw_nf_encoder *e, uint16_t id)
{
    if (e->set_off != 0 && e->set_id == id)
        return;
    set_close(e);
    e->set_off = e->len;
    e->set_id = id;
    put16(e, id);
    put16(e, 0);
}

static void put_template(struct tw_nf_encoder *e, uint16_t tid, const struct tmpl_def *t)
{
    put16(e, tid);
    put16(e, (uint16_t)t->n);
    for (unsigned i = 0; i < t->n; i++) {
        put16(e, (uint16_t)(t->f[i].ie | (t->f[i].enterprise ? TW__NF_EBIT : 0)));
        put16(e, t->f[i].len);
        if (t->f[i].enterprise)
            put32(e, ENC_PEN);
    }
    e->n_count++;
}

static void put_sampler(struct tw_nf_encoder *e, uint32_t s)
{
    set_open(e, ENC_TOPT);
    if (e->cfg.version == 10) {
        put32(e, s); /* selectorId */
        put32(e, 1); /* samplingSize */
        put32(e, s); /* samplingPopulation */
    } else {
        put32(e, 0); /* scope: System */
        put16(e, (uint16_t)s);
        put32(e, s);
    }
    e->n_count++;
    e->n_data++;
}

/* Templates, options templates and the options data that go with them. */
static void put_templates(struct tw_nf_encoder *e)
{
    bool ipfix = e->cfg.version == 10;

    set_open(e, ipfix ? TW__NF_IPFIX_TEMPLATE_SET : TW__NF_V9_TEMPLATE_SET);
    put_template(e, ENC_T4, &e->t4);
    put_template(e, ENC_T6, &e->t6);
    set_open(e, ipfix ? TW__NF_IPFIX_OPTIONS_SET : TW__NF_V9_OPTIONS_SET);
    put16(e, ENC_TOPT);
    if (ipfix) {
        put16(e, 3);
        put16(e, 1);
        put16(e, 302); /* selectorId (scope) */
        put16(e, 4);
        put16(e, 309); /* samplingSize */
        put16(e, 4);
        put16(e, 310); /* samplingPopulation */
        put16(e, 4);
        put16(e, ENC_TSYS);
        put16(e, 2);
        put16(e, 1);
        put16(e, 149); /* observationDomainId (scope) */
        put16(e, 4);
        put16(e, 160); /* systemInitTimeMilliseconds */
        put16(e, 8);
        e->n_count += 2;
        set_open(e, ENC_TSYS);
        put32(e, e->cfg.domain);
        put64(e, (uint64_t)e->cfg.boot_ms);
        e->n_count++;
        e->n_data++;
    } else {
        put16(e, 4); /* scope length: one field */
        put16(e, 8); /* option length: two fields */
        put16(e, 1); /* scope System */
        put16(e, 4);
        put16(e, 48); /* FLOW_SAMPLER_ID */
        put16(e, 2);
        put16(e, 34); /* SAMPLING_INTERVAL */
        put16(e, 4);
        e->n_count++;
    }
    for (uint32_t i = 0; i < e->n_samplers; i++)
        put_sampler(e, e->samplers[i]);
}

static size_t hdr_len(int version)
{
    return version == 5 ? TW__NF_V5_HDR : version == 9 ? TW__NF_V9_HDR : TW__NF_IPFIX_HDR;
}

static void dgram_start(struct tw_nf_encoder *e, int64_t export_ms)
{
    e->len = hdr_len(e->cfg.version);
    memset(e->buf, 0, e->len);
    e->set_off = 0;
    e->n_count = 0;
    e->n_data = 0;
    e->export_ms = export_ms;
    if (e->cfg.version != 5 &&
            (e->n_dgrams == 0 ||
                    (e->cfg.template_every > 0 && e->n_dgrams % e->cfg.template_every == 0)))
        put_templates(e);
}

/* Export time in whole seconds as the header carries it (v9, IPFIX), in ms. */
static int64_t header_ms(const struct tw_nf_encoder *e)
{
    return e->cfg.version == 5 ? e->export_ms : e->export_ms / 1000 * 1000;
}

static int dgram_send(struct tw_nf_encoder *e, tw_nf_send_fn send, void *arg)
{
    uint8_t *h = e->buf;
    int64_t ex = header_ms(e);
    uint32_t uptime = (uint32_t)(ex - e->cfg.boot_ms);
    int rc;

    set_close(e);
    tw__nf_wr16(h, (uint16_t)e->cfg.version);
    switch (e->cfg.version) {
        case 5:
            tw__nf_wr16(h + 2, (uint16_t)e->n_count);
            tw__nf_wr32(h + 4, uptime);
            tw__nf_wr32(h + 8, (uint32_t)(ex / 1000));
            tw__nf_wr32(h + 12, (uint32_t)(ex % 1000) * 1000000u);
            tw__nf_wr32(h + 16, e->seq);
            h[20] = (uint8_t)(e->cfg.domain >> 8);
            h[21] = (uint8_t)e->cfg.domain;
            tw__nf_wr16(h + 22, (uint16_t)(e->v5_sampling > 1 ? 0x4000u | e->v5_sampling : 0));
            break;
        case 9:
            tw__nf_wr16(h + 2, (uint16_t)e->n_count);
            tw__nf_wr32(h + 4, uptime);
            tw__nf_wr32(h + 8, (uint32_t)(ex / 1000));
            tw__nf_wr32(h + 12, e->seq);
            tw__nf_wr32(h + 16, e->cfg.domain);
            break;
        default:
            tw__nf_wr16(h + 2, (uint16_t)e->len);
            tw__nf_wr32(h + 4, (uint32_t)(ex / 1000));
            tw__nf_wr32(h + 8, e->seq);
            tw__nf_wr32(h + 12, e->cfg.domain);
            break;
    }
    rc = send(e->buf, e->len, arg);
    e->seq += e->cfg.version == 5 ? e->n_count : e->cfg.version == 9 ? 1 : e->n_data;
    e->n_dgrams++;
    e->len = 0;
    return rc;
}

/* ==== Records ==== */

static uint32_t rel_ms(int64_t t, int64_t boot)
{
    return (uint32_t)(t - boot);
}

/* Times a sysUptime-relative encoding cannot carry, or that a datagram cannot hold. */
static bool times_fit(const struct tw_nf_encoder *e, const struct tw_flowrec *r, bool uptime)
{
    int64_t ex = header_ms(e);

    if (!uptime)
        return r->first_ms >= 0 && r->last_ms >= r->first_ms;
    if (r->first_ms < e->cfg.boot_ms || r->last_ms < r->first_ms ||
            r->last_ms - e->cfg.boot_ms > (int64_t)UINT32_MAX)
        return false;
    if (e->cfg.version == 10)
        return true; /* relative to systemInitTimeMilliseconds, not to the export time */
    return ex - r->first_ms <= INT32_MAX && r->last_ms - ex <= INT32_MAX &&
           ex - e->cfg.boot_ms <= (int64_t)UINT32_MAX;
}

static void put_data(struct tw_nf_encoder *e, const struct tw_flowrec *r)
{
    const struct tmpl_def *t = r->src.family == 6 ? &e->t6 : &e->t4;
    bool icmp = r->proto == 1 || r->proto == 58;

    set_open(e, r->src.family == 6 ? ENC_T6 : ENC_T4);
    for (unsigned i = 0; i < t->n; i++) {
        const struct fspec *f = &t->f[i];
        uint8_t *p = e->buf + e->len;

        switch (f->what) {
            case F_SRC:
                memcpy(p, r->src.bytes, f->len);
                break;
            case F_DST:
                memcpy(p, r->dst.bytes, f->len);
                break;
            case F_NH:
                if (r->nexthop.family == r->src.family)
                    memcpy(p, r->nexthop.bytes, f->len);
                else
                    memset(p, 0, f->len);
                break;
            case F_SPORT:
                tw__nf_wr16(p, r->sport);
                break;
            case F_DPORT:
                tw__nf_wr16(p, r->dport);
                break;
            case F_PROTO:
                *p = r->proto;
                break;
            case F_FLAGS:
                *p = r->tcp_flags;
                break;
            case F_TOS:
                *p = r->tos;
                break;
            case F_SMASK:
                *p = r->src_mask;
                break;
            case F_DMASK:
                *p = r->dst_mask;
                break;
            case F_IN:
                tw__nf_wr32(p, r->in_if);
                break;
            case F_OUT:
                tw__nf_wr32(p, r->out_if);
                break;
            case F_SAS:
                tw__nf_wr32(p, r->src_as);
                break;
            case F_DAS:
                tw__nf_wr32(p, r->dst_as);
                break;
            case F_VLAN:
                tw__nf_wr16(p, r->vlan);
                break;
            case F_ICMP:
                tw__nf_wr16(p, icmp ? r->dport : 0);
                break;
            case F_PKTS:
                tw__nf_wr64(p, r->packets);
                break;
            case F_BYTES:
                tw__nf_wr64(p, r->bytes);
                break;
            case F_FIRST_UP:
                tw__nf_wr32(p, rel_ms(r->first_ms, e->cfg.boot_ms));
                break;
            case F_LAST_UP:
                tw__nf_wr32(p, rel_ms(r->last_ms, e->cfg.boot_ms));
                break;
            case F_FIRST_MS:
                tw__nf_wr64(p, (uint64_t)r->first_ms);
                break;
            case F_LAST_MS:
                tw__nf_wr64(p, (uint64_t)r->last_ms);
                break;
            case F_SAMPLER:
                if (f->len == 2)
                    tw__nf_wr16(p, (uint16_t)(r->sampling > 1 ? r->sampling : 0));
                else
                    tw__nf_wr32(p, r->sampling > 1 ? r->sampling : 0);
                break;
            case F_ENTERPRISE:
                tw__nf_wr16(p, (uint16_t)(0xe000u | (r->vlan & 0xfffu)));
                break;
            default: { /* F_IFNAME */
                char name[16];
                size_t n = ifname(r, name);

                if (ifname_long_form(r)) {
                    p[0] = 255;
                    tw__nf_wr16(p + 1, (uint16_t)n);
                    memcpy(p + 3, name, n);
                    e->len += 3 + n;
                } else {
                    p[0] = (uint8_t)n;
                    memcpy(p + 1, name, n);
                    e->len += 1 + n;
                }
                continue;
            }
        }
        e->len += f->len;
    }
    e->n_count++;
    e->n_data++;
}

static bool sampler_known(const struct tw_nf_encoder *e, uint32_t s)
{
    for (uint32_t i = 0; i < e->n_samplers; i++)
        if (e->samplers[i] == s)
            return true;
    return false;
}

static int encode_v5(struct tw_nf_encoder *e, const struct tw_flowrec *r, int64_t export_ms,
        tw_nf_send_fn send, void *arg)
{
    size_t max = (e->cap - TW__NF_V5_HDR) / TW__NF_V5_REC;
    uint32_t s = r->sampling > 1 ? r->sampling : 0;
    uint8_t *p;
    int rc;

    if (r->src.family != 4 || r->dst.family != 4)
        return TW_EINVAL;
    if (s > 0x3fffu)
        return TW_ERANGE;
    if (max > TW__NF_V5_MAX_COUNT)
        max = TW__NF_V5_MAX_COUNT;
    if (e->len > 0 && (e->n_count >= max || s != e->v5_sampling)) {
        rc = dgram_send(e, send, arg);
        if (rc != TW_OK)
            return rc;
    }
    if (e->len == 0) {
        if (export_ms < 0 || export_ms / 1000 > (int64_t)UINT32_MAX)
            return TW_ERANGE;
        dgram_start(e, export_ms);
        e->v5_sampling = s;
    }
    if (!times_fit(e, r, true)) {
        if (e->n_count == 0)
            e->len = 0;
        return TW_ERANGE;
    }
    p = e->buf + e->len;
    memset(p, 0, TW__NF_V5_REC);
    memcpy(p, r->src.bytes, 4);
    memcpy(p + 4, r->dst.bytes, 4);
    if (r->nexthop.family == 4)
        memcpy(p + 8, r->nexthop.bytes, 4);
    /* v5's fields are narrower than the record's: wider values are truncated. */
    tw__nf_wr16(p + 12, (uint16_t)r->in_if);
    tw__nf_wr16(p + 14, (uint16_t)r->out_if);
    tw__nf_wr32(p + 16, (uint32_t)r->packets);
    tw__nf_wr32(p + 20, (uint32_t)r->bytes);
    tw__nf_wr32(p + 24, rel_ms(r->first_ms, e->cfg.boot_ms));
    tw__nf_wr32(p + 28, rel_ms(r->last_ms, e->cfg.boot_ms));
    tw__nf_wr16(p + 32, r->sport);
    tw__nf_wr16(p + 34, r->dport);
    p[37] = r->tcp_flags;
    p[38] = r->proto;
    p[39] = r->tos;
    tw__nf_wr16(p + 40, (uint16_t)r->src_as);
    tw__nf_wr16(p + 42, (uint16_t)r->dst_as);
    p[44] = r->src_mask;
    p[45] = r->dst_mask;
    e->len += TW__NF_V5_REC;
    e->n_count++;
    return TW_OK;
}

/* ==== Public API ==== */

void tw_nf_encoder_config_init(struct tw_nf_encoder_config *cfg, int version)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->version = version;
}

int tw_nf_encoder_new(const struct tw_nf_encoder_config *cfg, struct tw_nf_encoder **out)
{
    struct tw_nf_encoder *e;
    size_t cap, need;

    *out = NULL;
    if (cfg->version != 5 && cfg->version != 9 && cfg->version != 10)
        return TW_EINVAL;
    cap = cfg->max_datagram == 0 ? ENC_DEFAULT_DATAGRAM : cfg->max_datagram;
    if (cap > TW_NF_MAX_DATAGRAM)
        return TW_EINVAL;
    e = tw_calloc(1, sizeof(*e));
    if (e == NULL)
        return TW_ENOMEM;
    e->cfg = *cfg;
    e->cap = cap;
    if (cfg->version == 5) {
        need = TW__NF_V5_HDR + TW__NF_V5_REC;
    } else {
        build_template(cfg, 4, &e->t4);
        build_template(cfg, 6, &e->t6);
        /* Headers, templates, options (every sampler), then the longest record and set headers. */
        need = hdr_len(cfg->version) + 4 + template_rec_len(&e->t4) + template_rec_len(&e->t6) + 4 +
               64 + 4 + 12 + 3 + 4 + TW__NF_MAX_SAMPLERS * sampler_rec_len(e) + 3 + 4 +
               e->t6.fixed + 3 + 16 + 3 + 4 + sampler_rec_len(e) + 3 + 4;
    }
    if (cap < need) {
        tw_free(e);
        return TW_EINVAL;
    }
    e->buf = tw_malloc(cap);
    if (e->buf == NULL) {
        tw_free(e);
        return TW_ENOMEM;
    }
    *out = e;
    return TW_OK;
}

void tw_nf_encoder_free(struct tw_nf_encoder *e)
{
    if (e == NULL)
        return;
    tw_free(e->buf);
    tw_free(e);
}

int tw_nf_encode(struct tw_nf_encoder *e, const struct tw_flowrec *rec, int64_t export_ms,
        tw_nf_send_fn send, void *arg)
{
    uint32_t s = rec->sampling > 1 ? rec->sampling : 0;
    bool ipfix = e->cfg.version == 10, new_sampler;
    size_t need;
    int rc;

    if (e->cfg.version == 5)
        return encode_v5(e, rec, export_ms, send, arg);
    if ((rec->src.family != 4 && rec->src.family != 6) || rec->dst.family != rec->src.family)
        return TW_EINVAL;
    if (!ipfix && s > UINT16_MAX)
        return TW_ERANGE;
    new_sampler = s > 0 && !sampler_known(e, s);
    if (new_sampler && e->n_samplers >= TW__NF_MAX_SAMPLERS)
        return TW_ELIMIT;
    need = data_rec_len(e, rec) + 4 + 3 + (new_sampler ? 4 + sampler_rec_len(e) + 3 : 0);
    if (e->len > 0 && e->len + need > e->cap) {
        rc = dgram_send(e, send, arg);
        if (rc != TW_OK)
            return rc;
    }
    if (e->len == 0) {
        if (export_ms < 0 || export_ms / 1000 > (int64_t)UINT32_MAX)
            return TW_ERANGE;
        dgram_start(e, export_ms);
    }
    if (!times_fit(e, rec, !ipfix || rec->src.family == 6)) {
        if (e->n_data == 0 && e->n_count == 0)
            e->len = 0; /* nothing in it yet */
        return TW_ERANGE;
    }
    if (new_sampler) {
        e->samplers[e->n_samplers++] = s;
        put_sampler(e, s);
    }
    put_data(e, rec);
    return TW_OK;
}

int tw_nf_encode_flush(struct tw_nf_encoder *e, tw_nf_send_fn send, void *arg)
{
    if (e->len == 0)
        return TW_OK;
    return dgram_send(e, send, arg);
}

/* ==== Synthetic flows ==== */

static uint64_t mix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* Server ports of the synthetic services. */
static const uint16_t synth_tcp_ports[] = { 443, 443, 443, 80, 80, 22, 25, 179, 445, 3389, 8080,
    993 };
static const uint16_t synth_udp_ports[] = { 53, 53, 53, 123, 161, 443, 500, 1194 };
static const uint8_t synth_tos[] = { 0, 0, 0, 0, 0x10, 0xb8, 0x20, 0x48 };

/*
 * IPv4: inside 10.0.0.0/8, outside 20.0.0.0/10. IPv6: inside
 * 2001:db8:a::/48 and outside 2001:db8:14::/48 with random interface ids.
 * Half of the records go from outside to inside.
 */
void tw_nf_synth_record(const struct tw_nf_synth *s, uint64_t i, struct tw_flowrec *out)
{
    uint64_t h1 = mix64(s->seed ^ mix64(i)), h2 = mix64(h1), h3 = mix64(h2), h4 = mix64(h3);
    bool v6 = s->v6_every > 0 && i % s->v6_every == s->v6_every - 1;
    bool swap = (h1 & 1) != 0;
    unsigned pr = (unsigned)((h1 >> 8) % 100);
    uint16_t client = (uint16_t)(1024 + (h2 >> 16) % 64512);
    uint16_t server;
    struct tw_ip in, outside;
    uint64_t dur;

    memset(out, 0, sizeof(*out));
    memset(&in, 0, sizeof(in));
    memset(&outside, 0, sizeof(outside));
    if (v6) {
        static const uint8_t in_pfx[6] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0a };
        static const uint8_t out_pfx[6] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x14 };

        in.family = outside.family = 6;
        memcpy(in.bytes, in_pfx, 6);
        memcpy(outside.bytes, out_pfx, 6);
        tw__nf_wr64(in.bytes + 8, h3);
        tw__nf_wr64(outside.bytes + 8, h4);
        tw__nf_wr16(in.bytes + 6, (uint16_t)(h2 & 0xffu));
    } else {
        tw_ip_from_v4(&in, 0x0a000000u | (uint32_t)(h3 & 0xffffffu));
        tw_ip_from_v4(&outside, 0x14000000u | (uint32_t)(h4 & 0x3fffffu));
    }
    out->src = swap ? outside : in;
    out->dst = swap ? in : outside;

    if (pr < 70) {
        out->proto = 6;
        server = synth_tcp_ports[(h2 >> 40) % TW_ARRAY_LEN(synth_tcp_ports)];
        out->tcp_flags = (uint8_t)(0x10u | ((h2 >> 48) & 1u ? 0x02u : 0) |
                                   ((h2 >> 49) & 1u ? 0x01u : 0) | ((h2 >> 50) & 1u ? 0x08u : 0));
    } else if (pr < 95) {
        out->proto = 17;
        server = synth_udp_ports[(h2 >> 40) % TW_ARRAY_LEN(synth_udp_ports)];
    } else {
        out->proto = v6 ? 58 : 1;
        server = 0;
    }
    if (server == 0) {
        /* ICMP: echo request or reply; type << 8 | code in the destination port. */
        uint16_t type = v6 ? ((h2 >> 40) & 1u ? 128 : 129) : ((h2 >> 40) & 1u ? 8 : 0);

        out->sport = 0;
        out->dport = (uint16_t)(type << 8);
    } else if (swap) {
        out->sport = server;
        out->dport = client;
    } else {
        out->sport = client;
        out->dport = server;
    }

    out->packets = (h3 >> 56) % 10 == 0 ? 1 + (h3 >> 20) % 100000 : 1 + (h3 >> 20) % 100;
    out->bytes = out->packets * (40 + (h4 >> 20) % 1461);
    out->first_ms = s->start_ms + (int64_t)(i * s->step_us / 1000);
    dur = out->packets == 1 ? 0 : (h4 >> 8) % 60001;
    out->last_ms = out->first_ms + (int64_t)dur;
    out->tos = synth_tos[(h1 >> 20) % TW_ARRAY_LEN(synth_tos)];
    out->in_if = 1 + (uint32_t)((h1 >> 24) % 48);
    out->out_if = 1 + (uint32_t)((h1 >> 32) % 48);
    out->src_as = (h1 >> 40) % 4 == 0 ? 0 : 64496 + (uint32_t)((h1 >> 42) % 16);
    out->dst_as = (h1 >> 46) % 4 == 0 ? 0 : 64496 + (uint32_t)((h1 >> 48) % 16);
    out->src_mask = (uint8_t)(v6 ? 32 + (h2 >> 8) % 97 : 8 + (h2 >> 8) % 25);
    out->dst_mask = (uint8_t)(v6 ? 32 + (h2 >> 24) % 97 : 8 + (h2 >> 24) % 25);
    out->vlan = (h1 >> 52) % 4 == 0 ? 0 : (uint16_t)(1 + (h1 >> 54) % 4094);
    out->nexthop.family = v6 ? 6 : 4;
    if (v6) {
        out->nexthop.bytes[0] = 0xfe;
        out->nexthop.bytes[1] = 0x80;
        out->nexthop.bytes[15] = (uint8_t)(1 + (h4 & 0x3f));
    } else {
        out->nexthop.bytes[0] = 10;
        out->nexthop.bytes[1] = 255;
        out->nexthop.bytes[3] = (uint8_t)(1 + (h4 & 0x3f));
    }
}
