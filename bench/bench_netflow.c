/*
 * bench_netflow.c: NetFlow v5, v9 and IPFIX decoding cost per record, on
 * one core, and the encoder's for comparison.
 *
 * Usage: bench_netflow [records] [rounds]   (defaults: 1000000 and 5)
 *
 * Records come from tw_nf_synth_record (seed 1, one in four IPv6 for v9 and
 * IPFIX; v5 is IPv4 only), encoded once into 1400-byte datagrams held in
 * memory, templates in the first datagram only. Each round decodes every
 * datagram with one decoder whose emit callback sums the bytes (the cheapest
 * consumer possible); the best round is reported, in CPU time of this
 * process. "IPFIX+" adds an enterprise field and a variable-length field to
 * the templates, so records take the segment path. The program prints
 * numbers and makes no assertions.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tidewatch/netflow.h"

struct store {
    uint8_t *buf;
    size_t len, cap;
    size_t *off; /* start of each datagram; off[n] = len */
    size_t n, cap_off;
};

static double now(void)
{
    struct timespec ts;

    /* CPU time of this process: other jobs on a shared machine do not inflate it. */
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int keep(const uint8_t *d, size_t len, void *arg)
{
    struct store *s = arg;

    if (s->len + len > s->cap) {
        s->cap = (s->cap + len) * 2;
        s->buf = realloc(s->buf, s->cap);
    }
    if (s->n + 2 > s->cap_off) {
        s->cap_off = (s->cap_off + 2) * 2;
        s->off = realloc(s->off, s->cap_off * sizeof(*s->off));
    }
    if (s->buf == NULL || s->off == NULL)
        return -1;
    memcpy(s->buf + s->len, d, len);
    s->off[s->n++] = s->len;
    s->len += len;
    s->off[s->n] = s->len;
    return 0;
}

static uint64_t sum_bytes;

static int emit(const struct tw_flowrec *r, void *arg)
{
    (void)arg;
    sum_bytes += r->bytes;
    return 0;
}

static void run(const char *name, int version, bool extras, const struct tw_flowrec *recs, size_t n,
        int rounds)
{
    struct tw_nf_encoder_config cfg;
    struct tw_nf_encoder *e;
    struct store s = { 0 };
    struct tw_ip exp;
    double t0, enc_s, best = 1e30;
    uint64_t decoded = 0;

    tw_nf_encoder_config_init(&cfg, version);
    cfg.boot_ms = recs[0].first_ms - 60000;
    cfg.enterprise_field = extras;
    cfg.varlen_field = extras;
    if (tw_nf_encoder_new(&cfg, &e) != TW_OK) {
        fprintf(stderr, "encoder failed\n");
        exit(1);
    }
    t0 = now();
    for (size_t i = 0; i < n; i++) {
        if (tw_nf_encode(e, &recs[i], recs[n - 1].last_ms + 1000, keep, &s) != TW_OK) {
            fprintf(stderr, "encode failed at %zu\n", i);
            exit(1);
        }
    }
    if (tw_nf_encode_flush(e, keep, &s) != TW_OK)
        exit(1);
    enc_s = now() - t0;
    tw_nf_encoder_free(e);

    tw_ip_from_v4(&exp, 0x7f000001u);
    for (int r = 0; r < rounds; r++) {
        struct tw_nf_decoder *d;
        struct tw_nf_stats st;
        double t;

        if (tw_nf_decoder_new(NULL, &d) != TW_OK)
            exit(1);
        t0 = now();
        for (size_t i = 0; i < s.n; i++)
            if (tw_nf_decode(d, &exp, s.buf + s.off[i], s.off[i + 1] - s.off[i], emit, NULL,
                        NULL) != TW_OK)
                exit(1);
        t = now() - t0;
        tw_nf_decoder_stats(d, &st);
        decoded = st.records;
        if (t < best)
            best = t;
        tw_nf_decoder_free(d);
    }
    printf("%-7s %9zu records %7zu datagrams %6.1f B/record  decode %6.1f ns/record "
           "(%5.1f M records/s)  encode %6.1f ns/record\n",
            name, (size_t)decoded, s.n, (double)s.len / (double)n, best * 1e9 / (double)n,
            (double)n / best / 1e6, enc_s * 1e9 / (double)n);
    if (decoded != n)
        fprintf(stderr, "%s: decoded %llu of %zu records\n", name, (unsigned long long)decoded, n);
    free(s.buf);
    free(s.off);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
    struct tw_nf_synth syn4 = { 1, INT64_C(1700000000000), 10, 0 };
    struct tw_nf_synth syn46 = { 1, INT64_C(1700000000000), 10, 4 };
    struct tw_flowrec *r4 = calloc(n, sizeof(*r4)), *r46 = calloc(n, sizeof(*r46));

    if (n == 0 || rounds <= 0 || r4 == NULL || r46 == NULL) {
        fprintf(stderr, "usage: bench_netflow [records] [rounds]\n");
        return 2;
    }
    for (size_t i = 0; i < n; i++) {
        tw_nf_synth_record(&syn4, i, &r4[i]);
        tw_nf_synth_record(&syn46, i, &r46[i]);
    }
    run("v5", 5, false, r4, n, rounds);
    run("v9", 9, false, r46, n, rounds);
    run("IPFIX", 10, false, r46, n, rounds);
    run("IPFIX+", 10, true, r46, n, rounds);
    printf("(checksum %llu)\n", (unsigned long long)sum_bytes);
    free(r4);
    free(r46);
    return 0;
}
