/*
 * fuzz_flowfilter.c: the flow filter parser never crashes or leaks on any
 * text, and a filter that parses keeps three promises on a fixed set of
 * records (IPv4, IPv6, IPv4-mapped, an address-less record, every protocol
 * kind and the edges of every field):
 *   - may_match is never false for a summary of records one of which matches
 *     (checked for every record alone and for all of them together);
 *   - the filter reads only the columns it declares: a record with every
 *     other column zeroed gives the same answer;
 *   - an error names an offset inside the text.
 * Input starting with 0xff runs the parse with an allocation failure injected
 * after the next byte's count of allocations, which must fail cleanly.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tidewatch/alloc.h"
#include "tidewatch/flowfilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT (64 * 1024)
#define N_RECS    8

static struct tw_flowrec recs[N_RECS];
static bool ready;

static void v4(struct tw_ip *ip, uint32_t a)
{
    tw_ip_from_v4(ip, a);
}

static void v6(struct tw_ip *ip, uint8_t last, bool mapped)
{
    memset(ip, 0, sizeof(*ip));
    ip->family = 6;
    if (mapped) {
        ip->bytes[10] = ip->bytes[11] = 0xff;
        ip->bytes[12] = 10;
        ip->bytes[15] = last;
    } else {
        ip->bytes[0] = 0x20;
        ip->bytes[1] = 0x01;
        ip->bytes[2] = 0x0d;
        ip->bytes[3] = 0xb8;
        ip->bytes[15] = last;
    }
}

static void setup(void)
{
    memset(recs, 0, sizeof(recs));
    for (int i = 0; i < N_RECS; i++) {
        struct tw_flowrec *r = &recs[i];
        r->first_ms = 1000 * i;
        r->last_ms = 1000 * i + 500;
        r->sport = (uint16_t)(i * 8191);
        r->dport = (uint16_t)(i == 7 ? 65535 : 22 + i);
        r->packets = (uint64_t)i * 1000;
        r->bytes = i == 7 ? UINT64_MAX : (uint64_t)i * 1000000;
        r->in_if = (uint32_t)i;
        r->out_if = i == 7 ? UINT32_MAX : (uint32_t)(2 * i);
        r->vlan = (uint16_t)(i * 500);
        r->src_as = (uint32_t)(64500 + i);
        r->dst_as = (uint32_t)(64510 + i);
        r->tcp_flags = (uint8_t)(0x13 * i);
        r->tos = (uint8_t)i;
        r->source = TW_FLOWREC_NFV9;
    }
    v4(&recs[0].src, 0x0a000001u);
    v4(&recs[0].dst, 0xc0000201u);
    recs[0].proto = 6;
    v4(&recs[1].src, 0xc0000201u);
    v4(&recs[1].dst, 0x0a000002u);
    recs[1].proto = 17;
    v6(&recs[2].src, 1, false);
    v6(&recs[2].dst, 2, false);
    recs[2].proto = 58;
    v6(&recs[3].src, 1, true);
    v6(&recs[3].dst, 2, true);
    recs[3].proto = 6;
    v4(&recs[4].src, 0);
    v4(&recs[4].dst, UINT32_MAX);
    recs[4].proto = 47;
    recs[5].proto = 1; /* no addresses at all */
    v4(&recs[6].src, 0x7f000001u);
    v4(&recs[6].dst, 0x0a0000ffu);
    recs[6].proto = 6;
    v4(&recs[6].exporter, 0xc00002fau);
    v4(&recs[7].src, 0xcb007101u);
    v4(&recs[7].dst, 0xcb0071feu);
    recs[7].proto = 50;
    ready = true;
}

static void add_to_summary(struct tw_farch_summary *s, const struct tw_flowrec *r)
{
    if (s->records == 0) {
        s->first_ms = r->first_ms;
        s->last_ms = r->last_ms;
        s->src4_min = s->dst4_min = UINT32_MAX;
    }
    s->records++;
    s->first_ms = r->first_ms < s->first_ms ? r->first_ms : s->first_ms;
    s->last_ms = r->last_ms > s->last_ms ? r->last_ms : s->last_ms;
    s->protos[r->proto >> 3] |= (uint8_t)(1u << (r->proto & 7));
    if (r->src.family == 6) {
        s->has_v6 = true;
    } else if (r->src.family == 4) {
        uint32_t a = tw_ip_v4(&r->src), b = tw_ip_v4(&r->dst);
        s->has_v4 = true;
        s->src4_min = a < s->src4_min ? a : s->src4_min;
        s->src4_max = a > s->src4_max ? a : s->src4_max;
        s->dst4_min = b < s->dst4_min ? b : s->dst4_min;
        s->dst4_max = b > s->dst4_max ? b : s->dst4_max;
    }
}

/* r with every column the filter does not read set to zero. */
static void mask_cols(struct tw_flowrec *r, unsigned cols)
{
    if (!(cols & TW_FARCH_COL_TIME))
        r->first_ms = r->last_ms = 0;
    if (!(cols & TW_FARCH_COL_ADDR)) {
        memset(&r->src, 0, sizeof(r->src));
        memset(&r->dst, 0, sizeof(r->dst));
    }
    if (!(cols & TW_FARCH_COL_PORTS))
        r->sport = r->dport = 0;
    if (!(cols & TW_FARCH_COL_PROTO))
        r->proto = r->tcp_flags = r->tos = 0;
    if (!(cols & TW_FARCH_COL_COUNTERS))
        r->packets = r->bytes = 0;
    if (!(cols & TW_FARCH_COL_IFACE)) {
        r->in_if = r->out_if = 0;
        r->vlan = 0;
    }
    if (!(cols & TW_FARCH_COL_ROUTING)) {
        memset(&r->nexthop, 0, sizeof(r->nexthop));
        r->src_as = r->dst_as = 0;
        r->src_mask = r->dst_mask = 0;
    }
    if (!(cols & TW_FARCH_COL_EXPORTER)) {
        memset(&r->exporter, 0, sizeof(r->exporter));
        r->domain = r->sampling = 0;
        r->source = 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tw_flowfilter *f = NULL;
    struct tw_farch_summary all;
    struct tw_err err;
    bool inject = false, any = false;
    char *text;
    int rc;

    if (!ready)
        setup();
    if (size >= 2 && data[0] == 0xff) {
        inject = true;
        tw_alloc_fail_after(data[1]);
        data += 2;
        size -= 2;
    }
    if (size > MAX_INPUT)
        size = MAX_INPUT;
    text = malloc(size + 1);
    if (text == NULL) {
        tw_alloc_fail_reset();
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    tw_err_clear(&err);
    rc = tw_flowfilter_parse(text, &f, &err);
    if (inject)
        tw_alloc_fail_reset();
    if (rc != TW_OK) {
        /* An error names a place inside the text (or its end). */
        if (f != NULL || err.code != rc ||
                (rc != TW_ENOMEM && (err.offset == TW_NOPOS || err.offset > strlen(text))))
            __builtin_trap();
        free(text);
        return 0;
    }
    memset(&all, 0, sizeof(all));
    for (int i = 0; i < N_RECS; i++) {
        struct tw_farch_summary one;
        struct tw_flowrec masked = recs[i];
        bool yes = tw_flowfilter_match(f, &recs[i]);
        memset(&one, 0, sizeof(one));
        add_to_summary(&one, &recs[i]);
        add_to_summary(&all, &recs[i]);
        if (yes && !tw_flowfilter_may_match(f, &one))
            __builtin_trap();
        mask_cols(&masked, tw_flowfilter_columns(f));
        if (tw_flowfilter_match(f, &masked) != yes)
            __builtin_trap();
        any = any || yes;
    }
    if (any && !tw_flowfilter_may_match(f, &all))
        __builtin_trap();
    tw_flowfilter_free(f);
    free(text);
    return 0;
}
