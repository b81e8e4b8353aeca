/*
 * test_netflow.c: the NetFlow v5 / v9 / IPFIX decoder and encoder
 * (netflow.h): round trips through the encoder for every version (IPv4 and
 * IPv6, enterprise and variable-length fields, sampling, template refresh),
 * sequence accounting (lost datagrams, records before their template,
 * exporter restarts), template withdrawal, timeout and eviction, the
 * information elements and their encodings (reduced-size integers, every time
 * encoding, repeated fields, templates with both address families, options
 * records carrying sampling and boot time), malformed datagrams (counted,
 * error offset named, the next datagram unharmed), allocation failures and
 * the synthetic flow stream. Hand-built datagrams are written field by field
 * with their meaning beside each value.
 */
#include <stdlib.h>
#include <string.h>

#include "tidewatch/alloc.h"
#include "tidewatch/err.h"
#include "tidewatch/netflow.h"
#include "tw_test.h"

#define T0_MS   INT64_C(1700000000000) /* 2023-11-14T22:13:20Z */
#define T0_S    UINT32_C(1700000000)
#define BOOT_MS (T0_MS - 60000)

/* ==== Fixtures ==== */

/* Decoded records. */
struct sink {
    struct tw_flowrec *r;
    size_t n, cap;
    size_t stop_after; /* 0 = never ask to stop */
};

static int on_rec(const struct tw_flowrec *rec, void *arg)
{
    struct sink *s = arg;

    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->r = realloc(s->r, s->cap * sizeof(*s->r));
        assert_non_null(s->r);
    }
    s->r[s->n++] = *rec;
    return s->stop_after != 0 && s->n >= s->stop_after;
}

static void sink_free(struct sink *s)
{
    free(s->r);
    memset(s, 0, sizeof(*s));
}

/* Encoded datagrams. */
struct dgrams {
    uint8_t *d[512];
    size_t len[512];
    size_t n;
};

static int on_send(const uint8_t *datagram, size_t len, void *arg)
{
    struct dgrams *g = arg;

    assert_true(g->n < TW_ARRAY_LEN(g->d));
    g->d[g->n] = malloc(len);
    assert_non_null(g->d[g->n]);
    memcpy(g->d[g->n], datagram, len);
    g->len[g->n++] = len;
    return 0;
}

static void dgrams_free(struct dgrams *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->d[i]);
    g->n = 0;
}

static struct tw_ip exporter(void)
{
    struct tw_ip ip;

    tw_ip_from_v4(&ip, 0xc00002feu); /* 192.0.2.254 */
    return ip;
}

static struct tw_nf_decoder *new_decoder(uint32_t max_templates, uint32_t timeout_s)
{
    struct tw_nf_config cfg;
    struct tw_nf_decoder *d;

    tw_nf_config_init(&cfg);
    cfg.max_templates = max_templates;
    cfg.template_timeout_s = timeout_s;
    assert_int_equal(tw_nf_decoder_new(&cfg, &d), TW_OK);
    return d;
}

static struct tw_nf_stats stats(const struct tw_nf_decoder *d)
{
    struct tw_nf_stats st;

    tw_nf_decoder_stats(d, &st);
    return st;
}

static void assert_rec_equal(const struct tw_flowrec *want, const struct tw_flowrec *got)
{
    assert_int_equal(got->first_ms, want->first_ms);
    assert_int_equal(got->last_ms, want->last_ms);
    assert_int_equal(got->src.family, want->src.family);
    assert_memory_equal(got->src.bytes, want->src.bytes, 16);
    assert_int_equal(got->dst.family, want->dst.family);
    assert_memory_equal(got->dst.bytes, want->dst.bytes, 16);
    assert_int_equal(got->nexthop.family, want->nexthop.family);
    assert_memory_equal(got->nexthop.bytes, want->nexthop.bytes, 16);
    assert_int_equal(got->exporter.family, want->exporter.family);
    assert_memory_equal(got->exporter.bytes, want->exporter.bytes, 16);
    assert_int_equal(got->packets, want->packets);
    assert_int_equal(got->bytes, want->bytes);
    assert_int_equal(got->in_if, want->in_if);
    assert_int_equal(got->out_if, want->out_if);
    assert_int_equal(got->src_as, want->src_as);
    assert_int_equal(got->dst_as, want->dst_as);
    assert_int_equal(got->domain, want->domain);
    assert_int_equal(got->sport, want->sport);
    assert_int_equal(got->dport, want->dport);
    assert_int_equal(got->vlan, want->vlan);
    assert_int_equal(got->proto, want->proto);
    assert_int_equal(got->tcp_flags, want->tcp_flags);
    assert_int_equal(got->tos, want->tos);
    assert_int_equal(got->src_mask, want->src_mask);
    assert_int_equal(got->dst_mask, want->dst_mask);
    assert_int_equal(got->source, want->source);
    assert_int_equal(got->sampling, want->sampling);
}

/* n synthetic records (every v6_every-th IPv6), sampling per record from `sampling(i)`. */
static struct tw_flowrec *make_records(size_t n, uint32_t v6_every, uint32_t (*sampling)(size_t))
{
    struct tw_nf_synth syn = { 42, T0_MS, 1000, v6_every };
    struct tw_flowrec *r = calloc(n, sizeof(*r));

    assert_non_null(r);
    for (size_t i = 0; i < n; i++) {
        tw_nf_synth_record(&syn, i, &r[i]);
        r[i].sampling = sampling != NULL ? sampling(i) : 0;
    }
    return r;
}

/* Encodes recs with cfg; the export time of every datagram is T0 + 2 minutes. */
static void encode_all(const struct tw_nf_encoder_config *cfg, const struct tw_flowrec *recs,
        size_t n, struct dgrams *g)
{
    struct tw_nf_encoder *e;

    assert_int_equal(tw_nf_encoder_new(cfg, &e), TW_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(tw_nf_encode(e, &recs[i], T0_MS + 120000, on_send, g), TW_OK);
    assert_int_equal(tw_nf_encode_flush(e, on_send, g), TW_OK);
    tw_nf_encoder_free(e);
}

/* Decodes every datagram of g except number `skip` (SIZE_MAX: none); all must decode cleanly. */
static void decode_all(struct tw_nf_decoder *d, const struct dgrams *g, size_t skip, struct sink *s)
{
    struct tw_ip exp = exporter();
    struct tw_err err;

    for (size_t i = 0; i < g->n; i++) {
        if (i == skip)
            continue;
        tw_err_clear(&err);
        assert_int_equal(tw_nf_decode(d, &exp, g->d[i], g->len[i], on_rec, s, &err), TW_OK);
    }
}

/* What the decoder should give back for recs[i] encoded with cfg. */
static struct tw_flowrec expected(
        const struct tw_nf_encoder_config *cfg, const struct tw_flowrec *r)
{
    struct tw_flowrec x = *r;

    x.exporter = exporter();
    x.source = (uint8_t)cfg->version;
    x.domain = cfg->version == 5 ? cfg->domain & 0xffffu : cfg->domain;
    x.sampling = r->sampling > 1 ? r->sampling : 0;
    if (cfg->version == 5)
        x.vlan = 0; /* v5 has no VLAN field */
    return x;
}

static void round_trip(const struct tw_nf_encoder_config *cfg, const struct tw_flowrec *recs,
        size_t n, struct tw_nf_stats *st_out, size_t *n_dgrams)
{
    struct tw_nf_decoder *d = new_decoder(0, 0);
    struct dgrams g = { 0 };
    struct sink s = { 0 };

    encode_all(cfg, recs, n, &g);
    decode_all(d, &g, SIZE_MAX, &s);
    assert_int_equal(s.n, n);
    for (size_t i = 0; i < n; i++) {
        struct tw_flowrec x = expected(cfg, &recs[i]);

        assert_rec_equal(&x, &s.r[i]);
    }
    *st_out = stats(d);
    *n_dgrams = g.n;
    sink_free(&s);
    dgrams_free(&g);
    tw_nf_decoder_free(d);
}

/* A datagram written field by field. */
struct bld {
    uint8_t b[4096];
    size_t n;
    size_t set; /* offset of the open set */
};

static void u8(struct bld *b, unsigned v)
{
    b->b[b->n++] = (uint8_t)v;
}

static void u16(struct bld *b, unsigned v)
{
    u8(b, v >> 8);
    u8(b, v);
}

static void u32(struct bld *b, uint32_t v)
{
    u16(b, v >> 16);
    u16(b, v & 0xffffu);
}

static void u64(struct bld *b, uint64_t v)
{
    u32(b, (uint32_t)(v >> 32));
    u32(b, (uint32_t)v);
}

static void raw(struct bld *b, const void *p, size_t n)
{
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void v4(struct bld *b, uint8_t a, uint8_t c, uint8_t d, uint8_t e)
{
    uint8_t x[4] = { a, c, d, e };

    raw(b, x, 4);
}

/* IPFIX message header; the length is patched by msg_end(). */
static void ipfix_hdr(struct bld *b, uint32_t export_s, uint32_t seq, uint32_t domain)
{
    b->n = 0;
    u16(b, 10);
    u16(b, 0);
    u32(b, export_s);
    u32(b, seq);
    u32(b, domain);
}

static void v9_hdr(struct bld *b, unsigned count, uint32_t uptime_ms, uint32_t secs, uint32_t seq,
        uint32_t source_id)
{
    b->n = 0;
    u16(b, 9);
    u16(b, count);
    u32(b, uptime_ms);
    u32(b, secs);
    u32(b, seq);
    u32(b, source_id);
}

static void set_begin(struct bld *b, unsigned id)
{
    b->set = b->n;
    u16(b, id);
    u16(b, 0);
}

static void set_end(struct bld *b)
{
    b->b[b->set + 2] = (uint8_t)((b->n - b->set) >> 8);
    b->b[b->set + 3] = (uint8_t)(b->n - b->set);
}

static void msg_end(struct bld *b)
{
    if (b->b[1] == 10) {
        b->b[2] = (uint8_t)(b->n >> 8);
        b->b[3] = (uint8_t)b->n;
    }
}

static int dec(struct tw_nf_decoder *d, const struct bld *b, struct sink *s, struct tw_err *err)
{
    struct tw_ip exp = exporter();

    tw_err_clear(err);
    return tw_nf_decode(d, &exp, b->b, b->n, on_rec, s, err);
}

static uint32_t sampling_mix(size_t i)
{
    return i % 5 == 0 ? 100 : i % 7 == 0 ? 1000 : i % 11 == 0 ? 1 : 0;
}

/* ==== Round trips ==== */

static void v5_round_trip(void **state)
{
    struct tw_nf_encoder_config cfg;
    struct tw_flowrec *recs = make_records(100, 0, NULL);
    struct tw_nf_stats st;
    size_t n_dgrams;

    (void)state;
    tw_nf_encoder_config_init(&cfg, 5);
    cfg.domain = 0x0102; /* engine type 1, engine id 2 */
    cfg.boot_ms = BOOT_MS;
    round_trip(&cfg, recs, 100, &st, &n_dgrams);
    assert_int_equal(n_dgrams, 4); /* 30 + 30 + 30 + 10 */
    assert_int_equal(st.datagrams, 4);
    assert_int_equal(st.datagrams_v5, 4);
    assert_int_equal(st.records, 100);
    assert_int_equal(st.lost, 0);
    assert_int_equal(st.malformed, 0);
    free(recs);
}

static void v5_sampling_in_header(void **state)
{
    struct tw_nf_encoder_config cfg;
    struct tw_flowrec *recs = make_records(40, 0, NULL);
    struct tw_nf_stats st;
    size_t n_dgrams;

    (void)state;
    for (size_t i = 20; i < 40; i++)
        recs[i].sampling = 512;
    tw_nf_encoder_config_init(&cfg, 5);
    cfg.boot_ms = BOOT_MS;
    round_trip(&cfg, recs, 40, &st, &n_dgrams);
    assert_int_equal(n_dgrams, 2); /* a new sampling interval starts a new datagram */
    assert_int_equal(st.records, 40);
    free(recs);
}

static void v5_rejects_ipv6(void **state)
{
    struct tw_nf_encoder_config cfg;
    struct tw_nf_encoder *e;
    struct tw_flowrec *recs = make_records(3, 3, NULL); /* record 2 is IPv6 */
    struct dgrams g = { 0 };

    (void)state;
    tw_nf_encoder_config_init(&cfg, 5);
    cfg.boot_ms = BOOT_MS;
    assert_int_equal(tw_nf_encoder_new(&cfg, &e), TW_OK);
    assert_int_equal(recs[2].src.family, 6);
    assert_int_equal(tw_nf_encode(e, &recs[2], T0_MS, on_send, &g), TW_EINVAL);
    assert_int_equal(tw_nf_encode(e, &recs[0], T0_MS, on_send, &g), TW_OK);
    assert_int_equal(tw_nf_encode_flush(e, on_send, &g), TW_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.len[0], 24 + 48);
    tw_nf_encoder_free(e);
    dgrams_free(&g);
    free(recs);
}

static void v9_round_trip_v4_v6_sampled(void **state)
{
    struct tw_nf_encoder_config cfg;
    struct tw_flowrec *recs = make_records(300, 3, sampling_mix);
    struct tw_nf_stats st;
    size_t n_dgrams;

    (void)state;
    tw_nf_encoder_config_init(&cfg, 9);
    cfg.domain = 77;
    cfg.boot_ms = BOOT_MS;
    round_trip(&cfg, recs, 300, &st, &n_dgrams);
    assert_int_equal(st.datagrams_v9, n_dgrams);
    assert_int_equal(st.records, 300);
    assert_int_equal(st.templates, 3);       /* IPv4, IPv6, sampler options: first datagram only */
    assert_int_equal(st.options_records, 2); /* sampler 100 and sampler 1000 */
    assert_int_equal(st.lost, 0);
    assert_int_equal(st.no_template, 0);
    free(recs);
}

static void ipfix_round_trip_enterprise_varlen(void **state)
{
    struct tw_nf_encoder_config cfg;
    struct tw_flowrec *recs = make_records(400, 2, sampling_mix);
    struct tw_nf_stats st;
    size_t n_dgrams;

    (void)state;
    tw_nf_encoder_config_init(&cfg, 10);
    cfg.domain = 0x80000001u;
    cfg.boot_ms = BOOT_MS;
    cfg.enterprise_field = true;
    cfg.varlen_field = true;
    round_trip(&cfg, recs, 400, &st, &n_dgrams);
    assert_int_equal(st.datagrams_ipfix, n_dgrams);
    assert_int_equal(st.records, 400);
    /* 2 data + 2 options templates; options: boot time once, samplers 100 and 1000. */
    assert_int_equal(st.templates, 4);
    assert_int_equal(st.options_records, 3);
    assert_int_equal(st.lost, 0);
    free(recs);
}

static void ipfix_template_refresh(void **state)
{
    struct tw_nf_encoder_config cfg;
    struct tw_flowrec *recs = make_records(300, 4, NULL);
    struct tw_nf_stats st;
    size_t n_dgrams, with_templates;

    (void)state;
    tw_nf_encoder_config_init(&cfg, 10);
    cfg.boot_ms = BOOT_MS;
    cfg.template_every = 3;
    round_trip(&cfg, recs, 300, &st, &n_dgrams);
    with_templates = (n_dgrams + 2) / 3; /* datagrams 0, 3, 6, ... */
    assert_true(n_dgrams >= 7);
    assert_int_equal(st.templates, 4 * with_templates);
    assert_int_equal(st.options_records, with_templates); /* the boot time each time */
    assert_int_equal(st.records, 300);
    free(recs);
}

/* ==== Sequence accounting ==== */

/* Records (flows and options) each datagram of g holds, as a clean decoder counts them. */
static void per_datagram_records(const struct dgrams *g, uint64_t *out)
{
    struct tw_nf_decoder *d = new_decoder(0, 0);
    struct tw_ip exp = exporter();
    uint64_t before = 0;

    for (size_t i = 0; i < g->n; i++) {
        struct tw_nf_stats st;

        assert_int_equal(tw_nf_decode(d, &exp, g->d[i], g->len[i], NULL, NULL, NULL), TW_OK);
        st = stats(d);
        out[i] = st.records + st.options_records - before;
        before = st.records + st.options_records;
    }
    tw_nf_decoder_free(d);
}

static void seq_gap_counts_lost(int version)
{
    struct tw_nf_encoder_config cfg;
    struct tw_flowrec *recs = make_records(500, version == 5 ? 0 : 5, NULL);
    struct tw_nf_decoder *d = new_decoder(0, 0);
    struct dgrams g = { 0 };
    struct sink s = { 0 };
    uint64_t per[512];
    struct tw_nf_stats st;

    tw_nf_encoder_config_init(&cfg, version);
    cfg.boot_ms = BOOT_MS;
    encode_all(&cfg, recs, 500, &g);
    assert_true(g.n > 6);
    per_datagram_records(&g, per);
    /* Drop datagrams 2 and 5. */
    {
        struct tw_ip exp = exporter();

        for (size_t i = 0; i < g.n; i++) {
            if (i == 2 || i == 5)
                continue;
            assert_int_equal(tw_nf_decode(d, &exp, g.d[i], g.len[i], on_rec, &s, NULL), TW_OK);
        }
    }
    st = stats(d);
    assert_int_equal(st.lost, version == 9 ? 2 : per[2] + per[5]);
    assert_int_equal(st.records, 500 - per[2] - per[5]);
    assert_int_equal(st.seq_resets, 0);
    sink_free(&s);
    dgrams_free(&g);
    tw_nf_decoder_free(d);
    free(recs);
}

static void v5_seq_gap(void **state)
{
    (void)state;
    seq_gap_counts_lost(5);
}

static void v9_seq_gap(void **state)
{
    (void)state;
    seq_gap_counts_lost(9);
}

static void ipfix_seq_gap(void **state)
{
    (void)state;
    seq_gap_counts_lost(10);
}

static void exporter_restart(int version)
{
    struct tw_nf_encoder_config cfg;
    struct tw_flowrec *recs = make_records(200, 0, NULL);
    struct tw_nf_decoder *d = new_decoder(0, 0);
    struct dgrams g1 = { 0 }, g2 = { 0 };
    struct sink s = { 0 };
    struct tw_nf_stats st;

    tw_nf_encoder_config_init(&cfg, version);
    cfg.boot_ms = BOOT_MS;
    encode_all(&cfg, recs, 200, &g1);
    encode_all(&cfg, recs, 100, &g2); /* a new encoder: sequence numbers start again */
    decode_all(d, &g1, SIZE_MAX, &s);
    decode_all(d, &g2, SIZE_MAX, &s);
    st = stats(d);
    assert_int_equal(st.seq_resets, 1);
    assert_int_equal(st.lost, 0);
    assert_int_equal(st.records, 300);
    sink_free(&s);
    dgrams_free(&g1);
    dgrams_free(&g2);
    tw_nf_decoder_free(d);
    free(recs);
}

static void v5_exporter_restart(void **state)
{
    (void)state;
    exporter_restart(5);
}

static void ipfix_exporter_restart(void **state)
{
    (void)state;
    exporter_restart(10);
}

/* The first datagram (templates) is lost: data sets wait in vain. */
static void ipfix_records_before_template(void **state)
{
    struct tw_nf_encoder_config cfg;
    struct tw_flowrec *recs = make_records(300, 0, NULL);
    struct tw_nf_decoder *d = new_decoder(0, 0);
    struct dgrams g = { 0 };
    struct sink s = { 0 };
    uint64_t per[512], middle = 0;
    struct tw_nf_stats st;

    (void)state;
    tw_nf_encoder_config_init(&cfg, 10);
    cfg.boot_ms = BOOT_MS;
    encode_all(&cfg, recs, 300, &g);
    assert_true(g.n >= 4);
    per_datagram_records(&g, per);
    decode_all(d, &g, 0, &s);
    for (size_t i = 1; i + 1 < g.n; i++)
        middle += per[i];
    st = stats(d);
    assert_int_equal(s.n, 0);
    assert_int_equal(st.no_template, g.n - 1); /* one data set per datagram */
    /* Each gap up to the next message is what the set without a template held. */
    assert_int_equal(st.records_no_template, middle);
    assert_int_equal(st.lost, 0);
    assert_int_equal(st.malformed, 0);
    sink_free(&s);
    dgrams_free(&g);
    tw_nf_decoder_free(d);
    free(recs);
}

/* v9: the header count tells how many records the unknown sets held. */
static void v9_records_before_template(void **state)
{
    struct tw_nf_encoder_config cfg;
    struct tw_flowrec *recs = make_records(100, 0, NULL);
    struct tw_nf_decoder *d = new_decoder(0, 0);
    struct dgrams g = { 0 };
    struct sink s = { 0 };
    struct tw_ip exp = exporter();
    struct tw_nf_stats st;

    (void)state;
    tw_nf_encoder_config_init(&cfg, 9);
    cfg.boot_ms = BOOT_MS;
    encode_all(&cfg, recs, 100, &g);
    assert_true(g.n >= 2);
    /* The second datagram arrives before the first. */
    assert_int_equal(tw_nf_decode(d, &exp, g.d[1], g.len[1], on_rec, &s, NULL), TW_OK);
    st = stats(d);
    assert_int_equal(st.no_template, 1);
    assert_int_equal(st.records_no_template, g.d[1][3]); /* header count (< 256 here) */
    assert_int_equal(s.n, 0);
    assert_int_equal(tw_nf_decode(d, &exp, g.d[0], g.len[0], on_rec, &s, NULL), TW_OK);
    st = stats(d);
    assert_int_equal(st.seq_resets, 1); /* 0 after 1: taken for a restart */
    assert_int_equal(s.n, st.records);
    assert_true(s.n > 0);
    sink_free(&s);
    dgrams_free(&g);
    tw_nf_decoder_free(d);
    free(recs);
}

/* ==== Templates: withdrawal, timeout, eviction ==== */

/* Template 256 (src 8, dst 12, octetDeltaCount 1 (8)) and one data record. */
static void tmpl_256(struct bld *b)
{
    set_begin(b, 2);
    u16(b, 256); /* template id */
    u16(b, 3);   /* field count */
    u16(b, 8);   /* sourceIPv4Address */
    u16(b, 4);
    u16(b, 12); /* destinationIPv4Address */
    u16(b, 4);
    u16(b, 1); /* octetDeltaCount */
    u16(b, 8);
    set_end(b);
}

static void data_256(struct bld *b, uint64_t bytes)
{
    set_begin(b, 256);
    v4(b, 192, 0, 2, 1);
    v4(b, 198, 51, 100, 2);
    u64(b, bytes);
    set_end(b);
}

static void ipfix_withdrawal(void **state)
{
    struct tw_nf_decoder *d = new_decoder(0, 0);
    struct sink s = { 0 };
    struct tw_err err;
    struct bld b;
    struct tw_nf_stats st;

    (void)state;
    ipfix_hdr(&b, T0_S, 0, 1);
    tmpl_256(&b);
    data_256(&b, 1000);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.r[0].bytes, 1000);

    /* Withdrawal of 256 (field count 0), then data for it. */
    ipfix_hdr(&b, T0_S, 1, 1);
    set_begin(&b, 2);
    u16(&b, 256);
    u16(&b, 0);
    set_end(&b);
    data_256(&b, 2000);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_OK);
    st = stats(d);
    assert_int_equal(st.template_withdrawals, 1);
    assert_int_equal(st.no_template, 1);
    assert_int_equal(s.n, 1);

    /* Learnt again, then withdrawn with every data template of the domain (id 2). */
    ipfix_hdr(&b, T0_S, 1, 1);
    tmpl_256(&b);
    data_256(&b, 3000);
    set_begin(&b, 2);
    u16(&b, 2);
    u16(&b, 0);
    set_end(&b);
    data_256(&b, 4000);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_OK);
    st = stats(d);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.r[1].bytes, 3000);
    assert_int_equal(st.template_withdrawals, 2);
    assert_int_equal(st.no_template, 2);
    assert_int_equal(st.templates, 2);
    sink_free(&s);
    tw_nf_decoder_free(d);
}

static void template_timeout(void **state)
{
    struct tw_nf_decoder *d = new_decoder(0, 60);
    struct sink s = { 0 };
    struct tw_err err;
    struct bld b;

    (void)state;
    ipfix_hdr(&b, T0_S, 0, 1);
    tmpl_256(&b);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_OK);
    ipfix_hdr(&b, T0_S + 60, 0, 1); /* 60 s later: still valid */
    data_256(&b, 1);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_OK);
    assert_int_equal(s.n, 1);
    ipfix_hdr(&b, T0_S + 121, 1, 1); /* 121 s after the template: forgotten */
    data_256(&b, 2);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(stats(d).no_template, 1);
    /* A refresh makes it usable again. */
    ipfix_hdr(&b, T0_S + 200, 1, 1);
    tmpl_256(&b);
    data_256(&b, 3);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.r[1].bytes, 3);
    sink_free(&s);
    tw_nf_decoder_free(d);
}

static void template_lru_eviction(void **state)
{
    struct tw_nf_decoder *d = new_decoder(2, 0);
    struct sink s = { 0 };
    struct tw_err err;
    struct bld b;

    (void)state;
    /* Templates of domains 1, 2 and 3 (one each); the cache holds two. */
    for (uint32_t dom = 1; dom <= 3; dom++) {
        ipfix_hdr(&b, T0_S, 0, dom);
        tmpl_256(&b);
        msg_end(&b);
        assert_int_equal(dec(d, &b, &s, &err), TW_OK);
    }
    for (uint32_t dom = 1; dom <= 3; dom++) {
        ipfix_hdr(&b, T0_S, 0, dom);
        data_256(&b, dom);
        msg_end(&b);
        assert_int_equal(dec(d, &b, &s, &err), TW_OK);
    }
    assert_int_equal(stats(d).no_template, 1); /* domain 1's was the least recently used */
    assert_int_equal(s.n, 2);
    assert_int_equal(s.r[0].domain, 2);
    assert_int_equal(s.r[1].domain, 3);
    sink_free(&s);
    tw_nf_decoder_free(d);
}

/* ==== Information elements and encodings ==== */

static void ipfix_reduced_size_and_seconds(void **state)
{
    struct tw_nf_decoder *d = new_decoder(0, 0);
    struct sink s = { 0 };
    struct tw_err err;
    struct bld b;

    (void)state;
    ipfix_hdr(&b, T0_S, 0, 7);
    set_begin(&b, 2);
    u16(&b, 300);
    u16(&b, 9);
    u16(&b, 8); /* sourceIPv4Address */
    u16(&b, 4);
    u16(&b, 12); /* destinationIPv4Address */
    u16(&b, 4);
    u16(&b, 4); /* protocolIdentifier */
    u16(&b, 1);
    u16(&b, 1); /* octetDeltaCount, reduced to 3 bytes */
    u16(&b, 3);
    u16(&b, 2); /* packetDeltaCount, reduced to 1 byte */
    u16(&b, 1);
    u16(&b, 150); /* flowStartSeconds */
    u16(&b, 4);
    u16(&b, 151); /* flowEndSeconds */
    u16(&b, 4);
    u16(&b, 32); /* icmpTypeCodeIPv4 */
    u16(&b, 2);
    u16(&b, 7); /* sourceTransportPort */
    u16(&b, 2);
    set_end(&b);
    set_begin(&b, 300);
    v4(&b, 192, 0, 2, 1);
    v4(&b, 198, 51, 100, 2);
    u8(&b, 1);    /* ICMP */
    u8(&b, 0x01); /* bytes 0x012345 = 74565 */
    u16(&b, 0x2345);
    u8(&b, 7);          /* packets */
    u32(&b, T0_S - 10); /* start */
    u32(&b, T0_S - 5);  /* end */
    u16(&b, 0x0303);    /* type 3 code 3 */
    u16(&b, 0);
    set_end(&b);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.r[0].bytes, 74565);
    assert_int_equal(s.r[0].packets, 7);
    assert_int_equal(s.r[0].first_ms, T0_MS - 10000);
    assert_int_equal(s.r[0].last_ms, T0_MS - 5000);
    assert_int_equal(s.r[0].proto, 1);
    assert_int_equal(s.r[0].dport, 0x0303);
    assert_int_equal(s.r[0].src.family, 4);
    assert_int_equal(tw_ip_v4(&s.r[0].src), 0xc0000201u);
    assert_int_equal(tw_ip_v4(&s.r[0].dst), 0xc6336402u);
    assert_int_equal(s.r[0].domain, 7);
    assert_int_equal(s.r[0].source, TW_FLOWREC_IPFIX);
    assert_int_equal(s.r[0].nexthop.family, 0);
    sink_free(&s);
    tw_nf_decoder_free(d);
}

static void ipfix_ntp_times_and_wide_tcp_flags(void **state)
{
    static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    static const uint8_t b6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
    struct tw_nf_decoder *d = new_decoder(0, 0);
    struct sink s = { 0 };
    struct tw_err err;
    struct bld b;
    uint64_t ntp_s = (uint64_t)T0_S + 2208988800u;

    (void)state;
    ipfix_hdr(&b, T0_S, 0, 7);
    set_begin(&b, 2);
    u16(&b, 301);
    u16(&b, 7);
    u16(&b, 27); /* sourceIPv6Address */
    u16(&b, 16);
    u16(&b, 28); /* destinationIPv6Address */
    u16(&b, 16);
    u16(&b, 154); /* flowStartMicroseconds (NTP format) */
    u16(&b, 8);
    u16(&b, 155); /* flowEndMicroseconds */
    u16(&b, 8);
    u16(&b, 2); /* packetDeltaCount */
    u16(&b, 8);
    u16(&b, 1); /* octetDeltaCount */
    u16(&b, 8);
    u16(&b, 6); /* tcpControlBits, 2 bytes (RFC 7125) */
    u16(&b, 2);
    set_end(&b);
    set_begin(&b, 301);
    raw(&b, a6, 16);
    raw(&b, b6, 16);
    u64(&b, ntp_s << 32 | 0x80000000u);       /* +0.5 s */
    u64(&b, (ntp_s + 1) << 32 | 0x40000000u); /* +1.25 s */
    u64(&b, 3);
    u64(&b, 180);
    u16(&b, 0x0112); /* ECE bit above the low byte, then ACK|SYN */
    set_end(&b);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.r[0].src.family, 6);
    assert_memory_equal(s.r[0].src.bytes, a6, 16);
    assert_memory_equal(s.r[0].dst.bytes, b6, 16);
    assert_int_equal(s.r[0].first_ms, T0_MS + 500);
    assert_int_equal(s.r[0].last_ms, T0_MS + 1250);
    assert_int_equal(s.r[0].tcp_flags, 0x12);
    assert_int_equal(s.r[0].packets, 3);
    assert_int_equal(s.r[0].bytes, 180);
    sink_free(&s);
    tw_nf_decoder_free(d);
}

/* flowStart/EndSysUpTime against systemInitTimeMilliseconds from options, or in the record. */
static void ipfix_uptime_with_system_init(void **state)
{
    struct tw_nf_decoder *d = new_decoder(0, 0);
    struct sink s = { 0 };
    struct tw_err err;
    struct bld b;
    const int64_t init = T0_MS - 10000000;

    (void)state;
    ipfix_hdr(&b, T0_S, 0, 7);
    /* Data template first: no boot time known yet. */
    set_begin(&b, 2);
    u16(&b, 303);
    u16(&b, 6);
    u16(&b, 8);
    u16(&b, 4);
    u16(&b, 12);
    u16(&b, 4);
    u16(&b, 22); /* flowStartSysUpTime */
    u16(&b, 4);
    u16(&b, 21); /* flowEndSysUpTime */
    u16(&b, 4);
    u16(&b, 85); /* octetTotalCount (no delta count in this template) */
    u16(&b, 8);
    u16(&b, 86); /* packetTotalCount, reduced to 4 bytes */
    u16(&b, 4);
    u16(&b, 304); /* the same with systemInitTimeMilliseconds in the record */
    u16(&b, 5);
    u16(&b, 8);
    u16(&b, 4);
    u16(&b, 12);
    u16(&b, 4);
    u16(&b, 22);
    u16(&b, 4);
    u16(&b, 21);
    u16(&b, 4);
    u16(&b, 160);
    u16(&b, 8);
    set_end(&b);
    set_begin(&b, 303);
    v4(&b, 10, 0, 0, 1);
    v4(&b, 10, 0, 0, 2);
    u32(&b, 5000);
    u32(&b, 9000);
    u64(&b, 4242);
    u32(&b, 42);
    set_end(&b);
    /* Options template 302: scope observationDomainId, systemInitTimeMilliseconds. */
    set_begin(&b, 3);
    u16(&b, 302);
    u16(&b, 2); /* field count */
    u16(&b, 1); /* scope field count */
    u16(&b, 149);
    u16(&b, 4);
    u16(&b, 160);
    u16(&b, 8);
    set_end(&b);
    set_begin(&b, 302);
    u32(&b, 7);
    u64(&b, (uint64_t)init);
    set_end(&b);
    set_begin(&b, 303);
    v4(&b, 10, 0, 0, 1);
    v4(&b, 10, 0, 0, 2);
    u32(&b, 5000);
    u32(&b, 9000);
    u64(&b, 4242);
    u32(&b, 42);
    set_end(&b);
    set_begin(&b, 304);
    v4(&b, 10, 0, 0, 3);
    v4(&b, 10, 0, 0, 4);
    u32(&b, 1000);
    u32(&b, 2000);
    u64(&b, (uint64_t)(init - 5000000));
    set_end(&b);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_OK);
    assert_int_equal(s.n, 3);
    /* Before the boot time is known: the export time. */
    assert_int_equal(s.r[0].first_ms, T0_MS);
    assert_int_equal(s.r[0].last_ms, T0_MS);
    assert_int_equal(s.r[0].bytes, 4242);
    assert_int_equal(s.r[0].packets, 42);
    assert_int_equal(s.r[1].first_ms, init + 5000);
    assert_int_equal(s.r[1].last_ms, init + 9000);
    assert_int_equal(s.r[2].first_ms, init - 5000000 + 1000);
    assert_int_equal(s.r[2].last_ms, init - 5000000 + 2000);
    assert_int_equal(stats(d).options_records, 1);
    assert_int_equal(stats(d).templates, 3);
    sink_free(&s);
    tw_nf_decoder_free(d);
}

/*
 * A tunnel template repeating the 5-tuple (outer IPv6, then inner IPv4), as
 * Huawei exports: the last occurrence of a field wins and IPv4 wins when
 * non-zero. Lower-ranked counters lose whatever the order.
 */
static void repeated_fields_and_both_families(void **state)
{
    static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    static const uint8_t b6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
    struct tw_nf_decoder *d = new_decoder(0, 0);
    struct sink s = { 0 };
    struct tw_err err;
    struct bld b;

    (void)state;
    ipfix_hdr(&b, T0_S, 0, 7);
    set_begin(&b, 2);
    u16(&b, 310);
    u16(&b, 12);
    u16(&b, 27);
    u16(&b, 16);
    u16(&b, 28);
    u16(&b, 16);
    u16(&b, 7);
    u16(&b, 2);
    u16(&b, 11);
    u16(&b, 2);
    u16(&b, 4);
    u16(&b, 1);
    u16(&b, 85); /* octetTotalCount: loses to octetDeltaCount below */
    u16(&b, 8);
    u16(&b, 8);
    u16(&b, 4);
    u16(&b, 12);
    u16(&b, 4);
    u16(&b, 7);
    u16(&b, 2);
    u16(&b, 11);
    u16(&b, 2);
    u16(&b, 4);
    u16(&b, 1);
    u16(&b, 1); /* octetDeltaCount */
    u16(&b, 8);
    set_end(&b);
    set_begin(&b, 310);
    raw(&b, a6, 16);
    raw(&b, b6, 16);
    u16(&b, 0);
    u16(&b, 0);
    u8(&b, 4); /* outer: IP in IP */
    u64(&b, 999);
    v4(&b, 192, 0, 2, 110);
    v4(&b, 192, 0, 2, 14);
    u16(&b, 2222);
    u16(&b, 1111);
    u8(&b, 17);
    u64(&b, 111);
    /* Second record: inner IPv4 addresses zero: an IPv6 flow. */
    raw(&b, a6, 16);
    raw(&b, b6, 16);
    u16(&b, 1);
    u16(&b, 2);
    u8(&b, 58);
    u64(&b, 999);
    v4(&b, 0, 0, 0, 0);
    v4(&b, 0, 0, 0, 0);
    u16(&b, 5);
    u16(&b, 6);
    u8(&b, 6);
    u64(&b, 222);
    set_end(&b);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.r[0].src.family, 4);
    assert_int_equal(tw_ip_v4(&s.r[0].src), 0xc000026eu);
    assert_int_equal(tw_ip_v4(&s.r[0].dst), 0xc000020eu);
    assert_memory_equal(s.r[0].src.bytes + 4, (uint8_t[12]){ 0 }, 12);
    assert_int_equal(s.r[0].sport, 2222);
    assert_int_equal(s.r[0].dport, 1111);
    assert_int_equal(s.r[0].proto, 17);
    assert_int_equal(s.r[0].bytes, 111);
    assert_int_equal(s.r[1].src.family, 6);
    assert_memory_equal(s.r[1].src.bytes, a6, 16);
    assert_memory_equal(s.r[1].dst.bytes, b6, 16);
    assert_int_equal(s.r[1].sport, 5);
    assert_int_equal(s.r[1].proto, 6);
    assert_int_equal(s.r[1].bytes, 222);
    sink_free(&s);
    tw_nf_decoder_free(d);
}

/* IPFIX sampling options (RFC 5477): samplingPopulation / samplingSize by selectorId. */
static void ipfix_sampling_by_selector(void **state)
{
    struct tw_nf_decoder *d = new_decoder(0, 0);
    struct sink s = { 0 };
    struct tw_err err;
    struct bld b;

    (void)state;
    ipfix_hdr(&b, T0_S, 0, 0);
    set_begin(&b, 3);
    u16(&b, 320);
    u16(&b, 4);
    u16(&b, 1);
    u16(&b, 302); /* selectorId (scope) */
    u16(&b, 4);
    u16(&b, 305); /* samplingPacketInterval */
    u16(&b, 4);
    u16(&b, 309); /* samplingSize */
    u16(&b, 4);
    u16(&b, 310); /* samplingPopulation */
    u16(&b, 4);
    set_end(&b);
    set_begin(&b, 320);
    u32(&b, 1);
    u32(&b, 1);
    u32(&b, 1);
    u32(&b, 256);
    set_end(&b);
    set_begin(&b, 2);
    u16(&b, 321);
    u16(&b, 3);
    u16(&b, 8);
    u16(&b, 4);
    u16(&b, 12);
    u16(&b, 4);
    u16(&b, 302);
    u16(&b, 4);
    set_end(&b);
    set_begin(&b, 321);
    v4(&b, 10, 0, 0, 1);
    v4(&b, 10, 0, 0, 2);
    u32(&b, 1); /* selector 1: 1 in 256 */
    v4(&b, 10, 0, 0, 1);
    v4(&b, 10, 0, 0, 2);
    u32(&b, 9); /* selector 9: unknown */
    set_end(&b);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.r[0].sampling, 256);
    assert_int_equal(s.r[1].sampling, 0);
    assert_int_equal(stats(d).options_records, 1);
    sink_free(&s);
    tw_nf_decoder_free(d);
}

/* v9 options with scope System and SAMPLING_INTERVAL: the whole exporter; v9 uptime times. */
static void v9_system_sampling_and_uptime(void **state)
{
    struct tw_nf_decoder *d = new_decoder(0, 0);
    struct sink s = { 0 };
    struct tw_err err;
    struct bld b;

    (void)state;
    v9_hdr(&b, 4, 100000, T0_S, 0, 3); /* booted 100 s before T0 */
    set_begin(&b, 1);
    u16(&b, 260); /* options template id */
    u16(&b, 4);   /* scope length: one field */
    u16(&b, 4);   /* option length: one field */
    u16(&b, 1);   /* scope System */
    u16(&b, 4);
    u16(&b, 34); /* SAMPLING_INTERVAL */
    u16(&b, 4);
    u16(&b, 0); /* padding to 4 bytes */
    set_end(&b);
    set_begin(&b, 260);
    u32(&b, 0);
    u32(&b, 100);
    set_end(&b);
    set_begin(&b, 0);
    u16(&b, 261);
    u16(&b, 4);
    u16(&b, 8);
    u16(&b, 4);
    u16(&b, 12);
    u16(&b, 4);
    u16(&b, 22); /* FIRST_SWITCHED */
    u16(&b, 4);
    u16(&b, 21); /* LAST_SWITCHED */
    u16(&b, 4);
    set_end(&b);
    set_begin(&b, 261);
    v4(&b, 10, 0, 0, 1);
    v4(&b, 10, 0, 0, 2);
    u32(&b, 40000);  /* 60 s before the export */
    u32(&b, 100500); /* 0.5 s after it (clock skew) */
    set_end(&b);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.r[0].sampling, 100);
    assert_int_equal(s.r[0].first_ms, T0_MS - 60000);
    assert_int_equal(s.r[0].last_ms, T0_MS + 500);
    assert_int_equal(s.r[0].source, TW_FLOWREC_NFV9);
    assert_int_equal(s.r[0].domain, 3);
    assert_int_equal(stats(d).options_records, 1);
    sink_free(&s);
    tw_nf_decoder_free(d);
}

/* Variable-length field in both length encodings, then a fixed field after it. */
static void ipfix_varlen_encodings(void **state)
{
    struct tw_nf_decoder *d = new_decoder(0, 0);
    struct sink s = { 0 };
    struct tw_err err;
    struct bld b;

    (void)state;
    ipfix_hdr(&b, T0_S, 0, 0);
    set_begin(&b, 2);
    u16(&b, 330);
    u16(&b, 4);
    u16(&b, 8);
    u16(&b, 4);
    u16(&b, 82); /* interfaceName, variable */
    u16(&b, 65535);
    u16(&b, 12);
    u16(&b, 4);
    u16(&b, 0x8000 | 100); /* enterprise field */
    u16(&b, 2);
    u32(&b, 2011);
    set_end(&b);
    set_begin(&b, 330);
    v4(&b, 10, 0, 0, 1);
    u8(&b, 3);
    raw(&b, "ge0", 3);
    v4(&b, 10, 0, 0, 2);
    u16(&b, 0xffff);
    v4(&b, 10, 0, 0, 3);
    u8(&b, 255);
    u16(&b, 300); /* long form, 300 bytes */
    memset(b.b + b.n, 'x', 300);
    b.n += 300;
    v4(&b, 10, 0, 0, 4);
    u16(&b, 0xffff);
    set_end(&b);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(tw_ip_v4(&s.r[0].dst), 0x0a000002u);
    assert_int_equal(tw_ip_v4(&s.r[1].src), 0x0a000003u);
    assert_int_equal(tw_ip_v4(&s.r[1].dst), 0x0a000004u);
    sink_free(&s);
    tw_nf_decoder_free(d);
}

/* ==== Malformed datagrams ==== */

/* A good datagram after a bad one still decodes with what was learnt. */
static void assert_next_ok(struct tw_nf_decoder *d, struct sink *s, uint64_t bytes)
{
    struct tw_err err;
    struct bld b;
    size_t before = s->n;

    ipfix_hdr(&b, T0_S, 0, 1);
    data_256(&b, bytes);
    msg_end(&b);
    assert_int_equal(dec(d, &b, s, &err), TW_OK);
    assert_int_equal(s->n, before + 1);
    assert_int_equal(s->r[before].bytes, bytes);
}

static void malformed_datagrams(void **state)
{
    struct tw_nf_decoder *d = new_decoder(0, 0);
    struct sink s = { 0 };
    struct tw_err err;
    struct bld b;
    uint64_t malformed = 0;

    (void)state;
    ipfix_hdr(&b, T0_S, 0, 1);
    tmpl_256(&b);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_OK);

    /* Truncated header: 10 bytes of an IPFIX header. */
    ipfix_hdr(&b, T0_S, 0, 1);
    b.n = 10;
    assert_int_equal(dec(d, &b, &s, &err), TW_ETRUNC);
    assert_int_equal(err.offset, 10);
    assert_int_equal(stats(d).malformed, ++malformed);
    assert_next_ok(d, &s, 11);

    /* Set length 0. */
    ipfix_hdr(&b, T0_S, 0, 1);
    u16(&b, 256);
    u16(&b, 0);
    u32(&b, 0);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_ESYNTAX);
    assert_int_equal(err.offset, 18);
    assert_int_equal(stats(d).malformed, ++malformed);
    assert_next_ok(d, &s, 12);

    /* Set length past the end; the data set before it is kept. */
    ipfix_hdr(&b, T0_S, 0, 1);
    data_256(&b, 13);
    set_begin(&b, 256);
    u32(&b, 0);
    set_end(&b);
    b.b[b.set + 3] = 200;
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_ETRUNC);
    assert_int_equal(err.offset, 16 + 20 + 2);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.r[2].bytes, 13);
    assert_int_equal(stats(d).malformed, ++malformed);
    assert_next_ok(d, &s, 14);

    /* Template field count absurd: 60000 fields in a 16-byte set. */
    ipfix_hdr(&b, T0_S, 0, 1);
    set_begin(&b, 2);
    u16(&b, 257);
    u16(&b, 60000);
    u16(&b, 8);
    u16(&b, 4);
    u16(&b, 12);
    u16(&b, 4);
    set_end(&b);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_ESYNTAX);
    assert_int_equal(err.offset, 22);
    assert_int_equal(stats(d).malformed, ++malformed);
    /* Within the cap but more than the set holds. */
    b.b[22] = 0;
    b.b[23] = 100;
    assert_int_equal(dec(d, &b, &s, &err), TW_ETRUNC);
    assert_int_equal(err.offset, 22);
    assert_int_equal(stats(d).malformed, ++malformed);
    assert_next_ok(d, &s, 15);

    /* Field length 0 (in a redefinition of 256, which must survive). */
    ipfix_hdr(&b, T0_S, 0, 1);
    set_begin(&b, 2);
    u16(&b, 256);
    u16(&b, 2);
    u16(&b, 8);
    u16(&b, 4);
    u16(&b, 12);
    u16(&b, 0);
    set_end(&b);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_ESYNTAX);
    assert_int_equal(err.offset, 30);
    assert_int_equal(stats(d).malformed, ++malformed);
    assert_next_ok(d, &s, 16);

    /* Template id below 256. */
    ipfix_hdr(&b, T0_S, 0, 1);
    set_begin(&b, 2);
    u16(&b, 255);
    u16(&b, 1);
    u16(&b, 8);
    u16(&b, 4);
    set_end(&b);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_ESYNTAX);
    assert_int_equal(err.offset, 20);
    assert_int_equal(stats(d).malformed, ++malformed);

    /* Message length beyond the datagram; below the header. */
    ipfix_hdr(&b, T0_S, 0, 1);
    data_256(&b, 17);
    msg_end(&b);
    b.b[3] = (uint8_t)(b.b[3] + 8);
    assert_int_equal(dec(d, &b, &s, &err), TW_ETRUNC);
    assert_int_equal(err.offset, 36);
    assert_int_equal(s.r[s.n - 1].bytes, 17); /* the whole set was there */
    b.b[2] = 0;
    b.b[3] = 15;
    assert_int_equal(dec(d, &b, &s, &err), TW_ESYNTAX);
    assert_int_equal(err.offset, 2);
    malformed += 2;
    assert_int_equal(stats(d).malformed, malformed);

    /* A variable-length field running past the end of its set. */
    ipfix_hdr(&b, T0_S, 0, 1);
    set_begin(&b, 2);
    u16(&b, 258);
    u16(&b, 2);
    u16(&b, 8);
    u16(&b, 4);
    u16(&b, 82);
    u16(&b, 65535);
    set_end(&b);
    set_begin(&b, 258);
    v4(&b, 10, 0, 0, 1);
    u8(&b, 3);
    raw(&b, "ab", 2); /* one byte short */
    set_end(&b);
    msg_end(&b);
    assert_int_equal(dec(d, &b, &s, &err), TW_ETRUNC);
    assert_int_equal(err.offset, 36); /* the record's start */
    assert_int_equal(stats(d).malformed, ++malformed);

    /* An unsupported version is counted apart. */
    b.n = 0;
    u16(&b, 7);
    u16(&b, 0);
    assert_int_equal(dec(d, &b, &s, &err), TW_ESYNTAX);
    assert_int_equal(err.offset, 0);
    assert_int_equal(stats(d).unsupported, 1);
    assert_int_equal(stats(d).malformed, malformed);
    /* One byte: no version. */
    b.n = 1;
    assert_int_equal(dec(d, &b, &s, &err), TW_ETRUNC);
    assert_int_equal(stats(d).malformed, ++malformed);

    assert_next_ok(d, &s, 18);
    assert_int_equal(stats(d).templates, 2); /* 256 and 258 */
    sink_free(&s);
    tw_nf_decoder_free(d);
}

static void v5_malformed(void **state)
{
    struct tw_nf_encoder_config cfg;
    struct tw_flowrec *recs = make_records(2, 0, NULL);
    struct tw_nf_decoder *d = new_decoder(0, 0);
    struct dgrams g = { 0 };
    struct sink s = { 0 };
    struct tw_ip exp = exporter();
    struct tw_err err;
    uint8_t buf[24 + 96];

    (void)state;
    tw_nf_encoder_config_init(&cfg, 5);
    cfg.boot_ms = BOOT_MS;
    encode_all(&cfg, recs, 2, &g);
    assert_int_equal(g.len[0], sizeof(buf));
    memcpy(buf, g.d[0], sizeof(buf));
    /* Cut inside the second record: the first is emitted. */
    assert_int_equal(tw_nf_decode(d, &exp, buf, 24 + 48 + 20, on_rec, &s, &err), TW_ETRUNC);
    assert_int_equal(err.offset, 24 + 48);
    assert_int_equal(s.n, 1);
    /* Count above 30. */
    buf[3] = 31;
    assert_int_equal(tw_nf_decode(d, &exp, buf, sizeof(buf), on_rec, &s, &err), TW_ESYNTAX);
    assert_int_equal(err.offset, 2);
    /* Header cut short. */
    assert_int_equal(tw_nf_decode(d, &exp, buf, 20, on_rec, &s, &err), TW_ETRUNC);
    assert_int_equal(err.offset, 20);
    assert_int_equal(stats(d).malformed, 3);
    assert_int_equal(s.n, 1);
    sink_free(&s);
    dgrams_free(&g);
    tw_nf_decoder_free(d);
    free(recs);
}

/* Every v9 and IPFIX datagram cut at every length: no crash, nothing out of bounds. */
static void truncation_sweep(void **state)
{
    static const int versions[] = { 9, 10 };

    (void)state;
    for (size_t v = 0; v < TW_ARRAY_LEN(versions); v++) {
        struct tw_nf_encoder_config cfg;
        struct tw_flowrec *recs = make_records(60, 2, sampling_mix);
        struct dgrams g = { 0 };
        struct tw_ip exp = exporter();
        uint64_t cuts = 0;

        tw_nf_encoder_config_init(&cfg, versions[v]);
        cfg.boot_ms = BOOT_MS;
        cfg.varlen_field = true;
        cfg.enterprise_field = true;
        encode_all(&cfg, recs, 60, &g);
        for (size_t cut = 0; cut < g.len[0]; cut++) {
            struct tw_nf_decoder *d = new_decoder(0, 0);
            uint8_t *copy = malloc(cut + 1);

            assert_non_null(copy);
            memcpy(copy, g.d[0], cut);
            if (tw_nf_decode(d, &exp, copy, cut, NULL, NULL, NULL) != TW_OK)
                cuts++;
            assert_true(stats(d).records <= 60);
            free(copy);
            tw_nf_decoder_free(d);
        }
        /* IPFIX reports every cut (the message length says); v9 every cut inside a set. */
        assert_true(cuts >= g.len[0] / 2);
        dgrams_free(&g);
        free(recs);
    }
}

/* ==== Callbacks, memory, synth ==== */

static void emit_can_stop(void **state)
{
    struct tw_nf_encoder_config cfg;
    struct tw_flowrec *recs = make_records(10, 0, NULL);
    struct tw_nf_decoder *d = new_decoder(0, 0);
    struct dgrams g = { 0 };
    struct sink s = { 0 };
    struct tw_ip exp = exporter();

    (void)state;
    tw_nf_encoder_config_init(&cfg, 10);
    encode_all(&cfg, recs, 10, &g);
    assert_int_equal(g.n, 1);
    s.stop_after = 5;
    assert_int_equal(tw_nf_decode(d, &exp, g.d[0], g.len[0], on_rec, &s, NULL), TW_OK);
    assert_int_equal(s.n, 5);
    assert_int_equal(stats(d).records, 5);
    sink_free(&s);
    dgrams_free(&g);
    tw_nf_decoder_free(d);
    free(recs);
}

static void allocation_failures(void **state)
{
    struct tw_nf_encoder_config cfg;
    struct tw_flowrec *recs = make_records(50, 2, sampling_mix);
    struct dgrams g = { 0 };
    struct tw_ip exp = exporter();
    bool done = false;

    (void)state;
    tw_nf_encoder_config_init(&cfg, 10);
    cfg.boot_ms = BOOT_MS;
    cfg.varlen_field = true;
    encode_all(&cfg, recs, 50, &g);
    for (long n = 0; n < 64 && !done; n++) {
        struct tw_nf_decoder *d = NULL;
        struct sink s = { 0 };
        int rc;

        tw_alloc_fail_after(n);
        rc = tw_nf_decoder_new(NULL, &d);
        if (rc == TW_OK) {
            rc = tw_nf_decode(d, &exp, g.d[0], g.len[0], on_rec, &s, NULL);
            assert_true(rc == TW_OK || rc == TW_ENOMEM);
            done = rc == TW_OK;
            assert_int_equal(stats(d).malformed, 0);
        } else {
            assert_int_equal(rc, TW_ENOMEM);
            assert_null(d);
        }
        tw_alloc_fail_reset();
        tw_nf_decoder_free(d);
        sink_free(&s);
    }
    assert_true(done);
    dgrams_free(&g);
    free(recs);
}

static void encoder_rejects_bad_config(void **state)
{
    struct tw_nf_encoder_config cfg;
    struct tw_nf_encoder *e;

    (void)state;
    tw_nf_encoder_config_init(&cfg, 7);
    assert_int_equal(tw_nf_encoder_new(&cfg, &e), TW_EINVAL);
    assert_null(e);
    tw_nf_encoder_config_init(&cfg, 10);
    cfg.max_datagram = 200; /* the templates alone do not fit */
    assert_int_equal(tw_nf_encoder_new(&cfg, &e), TW_EINVAL);
    cfg.max_datagram = 70000;
    assert_int_equal(tw_nf_encoder_new(&cfg, &e), TW_EINVAL);
    tw_nf_encoder_config_init(&cfg, 5);
    cfg.max_datagram = 60;
    assert_int_equal(tw_nf_encoder_new(&cfg, &e), TW_EINVAL);
    tw_nf_encoder_free(NULL);
    tw_nf_decoder_free(NULL);
}

static void encoder_time_range(void **state)
{
    struct tw_nf_encoder_config cfg;
    struct tw_nf_encoder *e;
    struct tw_flowrec *recs = make_records(1, 0, NULL);
    struct dgrams g = { 0 };

    (void)state;
    tw_nf_encoder_config_init(&cfg, 9);
    cfg.boot_ms = T0_MS + 1000; /* booted after the flow started */
    assert_int_equal(tw_nf_encoder_new(&cfg, &e), TW_OK);
    assert_int_equal(tw_nf_encode(e, &recs[0], T0_MS + 5000, on_send, &g), TW_ERANGE);
    assert_int_equal(tw_nf_encode_flush(e, on_send, &g), TW_OK);
    tw_nf_encoder_free(e);
    /* v9 sampler ids are 16 bits. */
    cfg.boot_ms = BOOT_MS;
    recs[0].sampling = 70000;
    assert_int_equal(tw_nf_encoder_new(&cfg, &e), TW_OK);
    assert_int_equal(tw_nf_encode(e, &recs[0], T0_MS + 5000, on_send, &g), TW_ERANGE);
    tw_nf_encoder_free(e);
    dgrams_free(&g);
    free(recs);
}

static void synth_is_deterministic(void **state)
{
    struct tw_nf_synth syn = { 7, T0_MS, 200, 4 };
    struct tw_flowrec a, b;
    size_t n6 = 0;

    (void)state;
    for (uint64_t i = 0; i < 1000; i++) {
        tw_nf_synth_record(&syn, i, &a);
        tw_nf_synth_record(&syn, i, &b);
        assert_memory_equal(&a, &b, sizeof(a));
        assert_int_equal(a.first_ms, T0_MS + (int64_t)(i * 200 / 1000));
        assert_true(a.last_ms >= a.first_ms);
        assert_true(a.packets >= 1 && a.bytes >= 40 * a.packets);
        assert_int_equal(a.src.family, a.dst.family);
        if (a.src.family == 6) {
            n6++;
            assert_int_equal(i % 4, 3);
            assert_int_equal(a.src.bytes[0], 0x20);
        } else {
            uint32_t s = tw_ip_v4(&a.src), d = tw_ip_v4(&a.dst);
            uint32_t inside = (s >> 24) == 10 ? s : d, outside = inside == s ? d : s;

            assert_int_equal(inside >> 24, 10);
            assert_int_equal(outside >> 22, 0x14000000u >> 22);
        }
    }
    assert_int_equal(n6, 250);
    syn.seed = 8;
    tw_nf_synth_record(&syn, 0, &b);
    tw_nf_synth_record(&(struct tw_nf_synth){ 7, T0_MS, 200, 4 }, 0, &a);
    assert_true(memcmp(&a, &b, sizeof(a)) != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v5_round_trip),
        cmocka_unit_test(v5_sampling_in_header),
        cmocka_unit_test(v5_rejects_ipv6),
        cmocka_unit_test(v9_round_trip_v4_v6_sampled),
        cmocka_unit_test(ipfix_round_trip_enterprise_varlen),
        cmocka_unit_test(ipfix_template_refresh),
        cmocka_unit_test(v5_seq_gap),
        cmocka_unit_test(v9_seq_gap),
        cmocka_unit_test(ipfix_seq_gap),
        cmocka_unit_test(v5_exporter_restart),
        cmocka_unit_test(ipfix_exporter_restart),
        cmocka_unit_test(ipfix_records_before_template),
        cmocka_unit_test(v9_records_before_template),
        cmocka_unit_test(ipfix_withdrawal),
        cmocka_unit_test(template_timeout),
        cmocka_unit_test(template_lru_eviction),
        cmocka_unit_test(ipfix_reduced_size_and_seconds),
        cmocka_unit_test(ipfix_ntp_times_and_wide_tcp_flags),
        cmocka_unit_test(ipfix_uptime_with_system_init),
        cmocka_unit_test(repeated_fields_and_both_families),
        cmocka_unit_test(ipfix_sampling_by_selector),
        cmocka_unit_test(v9_system_sampling_and_uptime),
        cmocka_unit_test(ipfix_varlen_encodings),
        cmocka_unit_test(malformed_datagrams),
        cmocka_unit_test(v5_malformed),
        cmocka_unit_test(truncation_sweep),
        cmocka_unit_test(emit_can_stop),
        cmocka_unit_test(allocation_failures),
        cmocka_unit_test(encoder_rejects_bad_config),
        cmocka_unit_test(encoder_time_range),
        cmocka_unit_test(synth_is_deterministic),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
