/*
 * fuzz_nf_v5.c: the NetFlow v5 decoder (netflow.h) on arbitrary datagrams.
 * The first two bytes are forced to version 5 so every input reaches it.
 * Each input is decoded twice by one fresh decoder. Invariants, checked
 * with __builtin_trap():
 *   - at most 30 records, each IPv4 with last_ms >= first_ms, source
 *     NetFlow v5 and the exporter given;
 *   - a failed decode counts one malformed datagram, a clean one none;
 *   - the second decode emits the same records (only the sequence
 *     accounting differs).
 */
#include <stdint.h>
#include <string.h>

#include "tidewatch/netflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    struct tw_flowrec r[32];
    size_t n;
};

static int keep(const struct tw_flowrec *rec, void *arg)
{
    struct seen *s = arg;

    if (s->n >= 30 || rec->src.family != 4 || rec->dst.family != 4 ||
            rec->last_ms < rec->first_ms || rec->source != TW_FLOWREC_NFV5)
        __builtin_trap();
    s->r[s->n++] = *rec;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[TW_NF_MAX_DATAGRAM];
    struct tw_nf_decoder *d;
    struct tw_nf_config cfg;
    struct tw_nf_stats st;
    struct seen a, b;
    struct tw_ip exp;
    int rc1, rc2;

    if (size > sizeof(buf))
        return 0;
    memcpy(buf, data, size);
    if (size >= 2) {
        buf[0] = 0;
        buf[1] = 5;
    }
    tw_ip_from_v4(&exp, 0xc0000201u);
    tw_nf_config_init(&cfg);
    cfg.max_templates = 4;
    if (tw_nf_decoder_new(&cfg, &d) != TW_OK)
        return 0;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    rc1 = tw_nf_decode(d, &exp, buf, size, keep, &a, NULL);
    tw_nf_decoder_stats(d, &st);
    if (st.datagrams != 1 || st.malformed != (uint64_t)(rc1 != TW_OK) || st.records != a.n)
        __builtin_trap();
    rc2 = tw_nf_decode(d, &exp, buf, size, keep, &b, NULL);
    if (rc1 != rc2 || a.n != b.n || memcmp(a.r, b.r, a.n * sizeof(a.r[0])) != 0)
        __builtin_trap();
    for (size_t i = 0; i < a.n; i++)
        if (memcmp(&a.r[i].exporter, &exp, sizeof(exp)) != 0)
            __builtin_trap();
    tw_nf_decoder_free(d);
    return 0;
}
