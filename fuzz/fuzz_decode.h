/*
 * fuzz_decode.h: the body shared by the decoder's fuzz targets, one target
 * per link type (fuzz_decode_eth.c, _sll.c, _raw.c, _null.c).
 *
 * The input is a sequence of packets, each a 2-byte big-endian length and
 * that many bytes (the last one takes whatever is left), so that fragments
 * can meet in the reassembler. Each input gets a fresh decoder with a small
 * memory cap, and time advances 100 ms per packet, so runs are reproducible.
 *
 * Invariants checked (a failure traps): the result is a TW_DECODE_* value;
 * every layer lies inside the packet's bytes; inner_ip and l4 index real IP
 * and transport layers; the payload lies inside the packet; the event is a
 * TW_EV_* value; the reassembler never holds more than its memory cap.
 */
#ifndef FUZZ_DECODE_H
#define FUZZ_DECODE_H

#include <stdint.h>
#include <string.h>

#include "tidewatch/decode.h"

#define FUZZ_DECODE_MEMCAP 65536

static void fuzz_decode_check(const struct tw_decoder *d, const struct tw_packet *p, int rc)
{
    if (rc < TW_DECODE_OK || rc > TW_DECODE_DROPPED)
        __builtin_trap();
    if (p->n_layers > TW_MAX_LAYERS || p->event >= TW_EV_COUNT)
        __builtin_trap();
    for (unsigned i = 0; i < p->n_layers; i++) {
        const struct tw_layer *l = &p->layers[i];
        if ((uint32_t)l->offset + l->len > p->caplen || l->kind >= TW_L_KIND_COUNT)
            __builtin_trap();
    }
    if (p->inner_ip >= p->n_layers || p->l4 >= p->n_layers)
        __builtin_trap();
    if (p->inner_ip >= 0 && p->layers[p->inner_ip].kind != TW_L_IPV4 &&
            p->layers[p->inner_ip].kind != TW_L_IPV6)
        __builtin_trap();
    if (p->l4 >= 0 && p->l4 <= p->inner_ip)
        __builtin_trap();
    if (p->payload != NULL &&
            (p->payload < p->data || p->payload + p->payload_len > p->data + p->caplen))
        __builtin_trap();
    if (tw_decoder_defrag_bytes(d) > FUZZ_DECODE_MEMCAP)
        __builtin_trap();
}

static int fuzz_decode_run(const uint8_t *data, size_t size, uint32_t linktype)
{
    struct tw_decoder_config cfg;
    struct tw_decoder *d;
    int64_t ts = 0;

    tw_decoder_config_default(&cfg);
    cfg.defrag_memcap = FUZZ_DECODE_MEMCAP;
    cfg.defrag_max_trackers = 8;
    cfg.defrag_timeout_s = 1;
    d = tw_decoder_new(&cfg);
    if (d == NULL)
        return 0;
    while (size >= 2) {
        size_t n = (size_t)data[0] << 8 | data[1];
        struct tw_packet p;
        int rc;

        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        memset(&p, 0, sizeof(p));
        p.data = data;
        p.caplen = (uint32_t)n;
        p.wirelen = (uint32_t)n;
        p.linktype = linktype;
        p.ts_ns = ts;
        ts += 100000000;
        rc = tw_decode(d, &p);
        fuzz_decode_check(d, &p, rc);
        data += n;
        size -= n;
    }
    tw_decoder_free(d);
    return 0;
}

#endif
