/*
 * fuzz_nf_ipfix.c: the IPFIX decoder (netflow.h) on a stream of
 * datagrams, so that templates learnt from one are used by the next.
 *
 * Input: one control byte, then datagrams, each a 2-byte big-endian length
 * and that many bytes (the last takes what is left). Control bits 0-1 pick
 * the template cache size (2, 8, 64, 4096; small ones exercise eviction),
 * bit 2 a 30-second template timeout, bit 3 alternates two exporters, bit 4
 * sets every message length to its datagram's. The first two bytes of every
 * datagram are forced to version 10. Each input gets a fresh decoder. Invariants, checked with
 * __builtin_trap():
 *   - every record has src and dst of one family (4 or 6), last_ms >=
 *     first_ms, source IPFIX and the exporter it came from;
 *   - the counters agree: datagrams given, records emitted, malformed at
 *     most one per failed datagram and none for a clean one.
 */
#include <stdint.h>
#include <string.h>

#include "tidewatch/netflow.h"

#define NF_VERSION 10

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
    const struct tw_ip *exp;
    uint64_t n;
};

static int check(const struct tw_flowrec *rec, void *arg)
{
    struct ctx *c = arg;

    if ((rec->src.family != 4 && rec->src.family != 6) || rec->dst.family != rec->src.family ||
            rec->last_ms < rec->first_ms || rec->source != NF_VERSION ||
            memcmp(&rec->exporter, c->exp, sizeof(*c->exp)) != 0 ||
            (rec->nexthop.family != 0 && rec->nexthop.family != 4 && rec->nexthop.family != 6))
        __builtin_trap();
    c->n++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t caps[4] = { 2, 8, 64, 4096 };
    static uint8_t buf[TW_NF_MAX_DATAGRAM];
    struct tw_nf_decoder *d;
    struct tw_nf_config cfg;
    struct tw_nf_stats st;
    struct tw_ip exps[2];
    struct ctx c = { NULL, 0 };
    uint64_t n_dgrams = 0, n_failed = 0;
    uint8_t ctl;
    size_t pos = 1;

    if (size < 1)
        return 0;
    ctl = data[0];
    tw_ip_from_v4(&exps[0], 0xc0000201u);
    memset(&exps[1], 0, sizeof(exps[1]));
    exps[1].family = 6;
    exps[1].bytes[0] = 0x20;
    exps[1].bytes[1] = 0x01;
    exps[1].bytes[15] = 1;
    tw_nf_config_init(&cfg);
    cfg.max_templates = caps[ctl & 3];
    cfg.template_timeout_s = (ctl & 4) ? 30 : 0;
    if (tw_nf_decoder_new(&cfg, &d) != TW_OK)
        return 0;
    while (pos < size) {
        size_t len = size - pos;

        if (len >= 2) {
            size_t want = (size_t)data[pos] << 8 | data[pos + 1];

            pos += 2;
            len = size - pos;
            if (want < len)
                len = want;
        } else {
            pos = size;
            len = 0;
        }
        memcpy(buf, data + pos, len);
        pos += len;
        if (len >= 2) {
            buf[0] = 0;
            buf[1] = NF_VERSION;
        }
        if (len >= 4 && (ctl & 16)) {
            buf[2] = (uint8_t)(len >> 8);
            buf[3] = (uint8_t)len;
        }
        c.exp = &exps[(ctl & 8) ? n_dgrams % 2 : 0];
        if (tw_nf_decode(d, c.exp, buf, len, check, &c, NULL) != TW_OK)
            n_failed++;
        n_dgrams++;
    }
    tw_nf_decoder_stats(d, &st);
    if (st.datagrams != n_dgrams || st.records != c.n || st.malformed > n_failed ||
            (n_failed == 0 && st.malformed != 0) ||
            st.datagrams_ipfix + st.unsupported + st.malformed < n_dgrams)
        __builtin_trap();
    tw_nf_decoder_free(d);
    return 0;
}
