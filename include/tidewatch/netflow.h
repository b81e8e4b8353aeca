/*
 * netflow.h: NetFlow v5, NetFlow v9 and IPFIX datagrams, decoded into flow
 * records (and, for tests, benchmarks and the demo, encoded from them).
 *
 * A struct tw_nf_decoder holds what the decoding of one stream of datagrams
 * needs between datagrams: the template cache (per exporter address,
 * observation domain / source id and template id; options templates
 * included), the sequence numbers expected next (per exporter and domain)
 * and the counters. It is used by one thread at a time.
 *
 * Hostile input is data: tw_nf_decode never reads outside `data[0..len)`,
 * never aborts, and a datagram that is malformed is counted and dropped
 * without harming the records of other datagrams or the templates already
 * learnt. Sets that can be decoded before a malformed one in the same
 * datagram are kept (their records are emitted); the error names the byte
 * offset of the first problem.
 *
 * References: Cisco's NetFlow v5 record format; RFC 3954 (NetFlow v9);
 * RFC 7011 (IPFIX), RFC 7012 (information elements), RFC 7270 (Cisco-specific
 * IEs). Enterprise-specific fields (IPFIX, E bit set) are skipped by their
 * length, variable-length fields (length 65535) by their encoded length.
 */
#ifndef TIDEWATCH_NETFLOW_H
#define TIDEWATCH_NETFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/addr.h"
#include "tidewatch/common.h"
#include "tidewatch/err.h"
#include "tidewatch/flowrec.h"

/* Largest datagram the decoder accepts (a UDP payload). */
#define TW_NF_MAX_DATAGRAM 65535u
/* Templates kept per decoder; the least recently used is forgotten beyond. */
#define TW_NF_DEFAULT_MAX_TEMPLATES 4096u

struct tw_nf_stats {
    uint64_t datagrams;            /* datagrams given to tw_nf_decode */
    uint64_t datagrams_v5;         /* of which NetFlow v5 */
    uint64_t datagrams_v9;         /* NetFlow v9 */
    uint64_t datagrams_ipfix;      /* IPFIX */
    uint64_t malformed;            /* datagrams with a problem (counted once each) */
    uint64_t records;              /* flow records emitted */
    uint64_t templates;            /* template and options template records learnt */
    uint64_t template_withdrawals; /* IPFIX withdrawals applied */
    uint64_t options_records;      /* options data records read (sampling etc.), not emitted */
    uint64_t no_template;          /* data sets dropped for want of their template */
    uint64_t records_no_template;  /* best estimate of the records in those sets (0 when unknown) */
    uint64_t lost;                 /* flows (v5, IPFIX) or datagrams (v9) missing by sequence */
    uint64_t seq_resets;           /* sequence jumps backwards treated as an exporter restart */
    uint64_t unsupported;          /* datagrams of another version (v1, v7, sFlow ...) */
};

struct tw_nf_config {
    uint32_t max_templates; /* 0 = TW_NF_DEFAULT_MAX_TEMPLATES */
    /*
     * Seconds after which a template not refreshed is forgotten (RFC 7011
     * 8.4 for UDP); 0 = never. Measured on the datagram export times.
     */
    uint32_t template_timeout_s;
};

/* Called for each record decoded; return nonzero to stop decoding this datagram. */
typedef int (*tw_nf_emit_fn)(const struct tw_flowrec *rec, void *arg);

struct tw_nf_decoder;

void tw_nf_config_init(struct tw_nf_config *cfg);
int tw_nf_decoder_new(const struct tw_nf_config *cfg, struct tw_nf_decoder **out) TW_MUST_CHECK;
void tw_nf_decoder_free(struct tw_nf_decoder *d);

/*
 * Decodes one datagram (a UDP payload) that came from `exporter`. Record
 * times are made absolute from the header's export time and system uptime
 * (v5, v9) or taken from the absolute time elements (IPFIX; v9 when the
 * exporter sends them). `rec->exporter` is set to `exporter`, `rec->source`
 * to the version, `rec->sampling` from the v5 header or the exporter's
 * sampling options when known.
 *
 * Returns TW_OK, or an error after emitting what could be decoded, with `err`
 * naming the byte offset: TW_ETRUNC for something that runs past its end,
 * TW_ESYNTAX for a malformed or unsupported datagram, TW_ELIMIT for one over
 * TW_NF_MAX_DATAGRAM bytes, TW_ENOMEM. Either way the datagram is counted in
 * the stats. IPFIX sequence numbers count options data records too (RFC 7011
 * section 3.1); data records without addresses are counted in
 * options_records and not emitted.
 */
int tw_nf_decode(struct tw_nf_decoder *d, const struct tw_ip *exporter, const uint8_t *data,
        size_t len, tw_nf_emit_fn emit, void *arg, struct tw_err *err) TW_MUST_CHECK;

void tw_nf_decoder_stats(const struct tw_nf_decoder *d, struct tw_nf_stats *out);

/* ---- Encoding (the project's own exporter, for tests, benchmarks and the demo) ---- */

/*
 * An encoder writes datagrams of one version for one exporter. v9 and IPFIX
 * encoders send their templates in the first datagram and again every
 * `template_every` datagrams (0 = only in the first), like real exporters.
 * IPv4 and IPv6 records use separate templates. Sequence numbers follow the
 * version's rule (v5 and IPFIX: flows sent before; v9: datagrams sent
 * before).
 */
struct tw_nf_encoder_config {
    int version;             /* 5, 9 or 10 */
    uint32_t domain;         /* v9 source id / IPFIX observation domain / v5 engine type<<8|id */
    uint32_t template_every; /* datagrams between template refreshes; 0 = first only */
    size_t max_datagram;     /* payload size limit; 0 = 1400 (v5: at most 30 records) */
    int64_t boot_ms;         /* exporter boot time (epoch ms), for sysUptime-relative times */
    bool enterprise_field;   /* IPFIX: add an enterprise-specific field to exercise skipping */
    bool varlen_field;       /* IPFIX: add a variable-length field (interface name) */
};

struct tw_nf_encoder;

void tw_nf_encoder_config_init(struct tw_nf_encoder_config *cfg, int version);
int tw_nf_encoder_new(
        const struct tw_nf_encoder_config *cfg, struct tw_nf_encoder **out) TW_MUST_CHECK;
void tw_nf_encoder_free(struct tw_nf_encoder *e);

/*
 * Adds one record to the datagram being built. When the record does not fit,
 * the datagram built so far is finished first and handed to `send` (with its
 * length); then the record starts a new one. v5 takes IPv4 records only
 * (TW_EINVAL otherwise). `export_ms` is the datagram's export time (the
 * header's clock), taken from the first record of each datagram.
 */
typedef int (*tw_nf_send_fn)(const uint8_t *datagram, size_t len, void *arg);
int tw_nf_encode(struct tw_nf_encoder *e, const struct tw_flowrec *rec, int64_t export_ms,
        tw_nf_send_fn send, void *arg) TW_MUST_CHECK;
/* Finishes and sends the datagram being built, if any. */
int tw_nf_encode_flush(struct tw_nf_encoder *e, tw_nf_send_fn send, void *arg) TW_MUST_CHECK;

/*
 * Synthetic flows for tests, benchmarks and the demo: record `i` of a stream
 * seeded by `seed`, deterministic. Addresses come from 10.0.0.0/8 (inside)
 * and 20.0.0.0/10 (outside) like reference/sensing.md section 2.3; one in
 * `v6_every` records is IPv6 (0: none); times start at `start_ms` and advance
 * by about `step_us` microseconds per record.
 */
struct tw_nf_synth {
    uint64_t seed;
    int64_t start_ms;
    uint32_t step_us;
    uint32_t v6_every;
};
void tw_nf_synth_record(const struct tw_nf_synth *s, uint64_t i, struct tw_flowrec *out);

#endif
