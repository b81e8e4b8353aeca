/*
 * demo_flows.c: step 10 of `tidewatch demo`: a router's NetFlow v9 export,
 * collected over UDP on the loopback into a flow archive in a temporary
 * directory, then retro-hunted for the demo intelligence.
 *
 * The exporter is the project's own encoder (the one behind `flows
 * generate`): 20,000 synthetic flows with, among them, a few flows to the
 * demo bundle's infrastructure. Each datagram goes through a real UDP socket
 * and is decoded as `flows collect` decodes it; the archive and the hunt are
 * those of `flows collect` and `flows hunt`.
 */
/* NOLINTNEXTLINE(readability-identifier-naming): the C library's feature macro, for nftw */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "tidewatch/common.h"
#include "tidewatch/flowarch.h"
#include "tidewatch/flowhunt.h"
#include "tidewatch/netflow.h"

#define DEMO_FLOWS    20000u
#define DEMO_START_MS 1718000000000LL /* 2024-06-10T06:13:20Z */

struct demo_link {
    int tx, rx;
    struct sockaddr_in to;
    uint8_t buf[TW_NF_MAX_DATAGRAM];
    struct tw_nf_decoder *dec;
    struct tw_farch_writer *w;
    struct tw_ip exporter;
    int64_t now_ms;
    int failed;
};

static int demo_store(const struct tw_flowrec *rec, void *arg)
{
    struct demo_link *l = arg;
    struct tw_err err;

    if (tw_farch_writer_add(l->w, l->now_ms, rec, &err) != TW_OK) {
        fprintf(stderr, "tidewatch demo: %s\n", err.msg);
        l->failed = 1;
        return 1;
    }
    return 0;
}

/* Sends one datagram to the collector socket and collects it at once. */
static int demo_send(const uint8_t *d, size_t len, void *arg)
{
    struct demo_link *l = arg;
    struct tw_err err;
    ssize_t n;

    if (sendto(l->tx, d, len, 0, (const struct sockaddr *)&l->to, sizeof(l->to)) != (ssize_t)len)
        return TW_EIO;
    n = recv(l->rx, l->buf, sizeof(l->buf), 0);
    if (n < 0)
        return TW_EIO;
    /* A malformed datagram is counted by the decoder and shown in the stats. */
    if (tw_nf_decode(l->dec, &l->exporter, l->buf, (size_t)n, demo_store, l, &err) != TW_OK &&
            l->failed)
        return TW_EIO;
    return l->failed ? TW_EIO : TW_OK;
}

struct demo_hits {
    const struct tw_index *idx;
    unsigned shown;
};

static int demo_hit(const struct tw_flowhunt_hit *h, void *arg)
{
    struct demo_hits *dh = arg;
    char src[TW_IP_STRLEN], dst[TW_IP_STRLEN];
    const char *name = tw_index_name(dh->idx, h->indicator);

    if (dh->shown++ >= 6)
        return 0;
    (void)tw_ip_format(&h->rec->src, src);
    (void)tw_ip_format(&h->rec->dst, dst);
    printf("  %s:%u -> %s:%u proto %u, %llu packets %llu bytes, in_if %u: %s\n", src, h->rec->sport,
            dst, h->rec->dport, h->rec->proto, (unsigned long long)h->rec->packets,
            (unsigned long long)h->rec->bytes, h->rec->in_if, name != NULL ? name : "(indicator)");
    return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The planted flows: an inside host talking to the demo bundle's addresses. */
static void planted(size_t k, struct tw_flowrec *r)
{
    static const char *const dst[] = { "203.0.113.17", "192.0.2.110", "198.51.100.99" };
    static const uint16_t port[] = { 443, 22, 57722 };

    memset(r, 0, sizeof(*r));
    r->src.family = 4;
    (void)inet_pton(AF_INET, "10.20.30.40", r->src.bytes);
    r->dst.family = 4;
    (void)inet_pton(AF_INET, dst[k % 3], r->dst.bytes);
    r->sport = (uint16_t)(40000 + k);
    r->dport = port[k % 3];
    r->proto = 6;
    r->tcp_flags = 0x1b;
    r->packets = 12 + k;
    r->bytes = 4096 * (k + 1);
    r->in_if = 3;
    r->out_if = 7;
    r->first_ms = DEMO_START_MS + (int64_t)k * 60000;
    r->last_ms = r->first_ms + 2000;
}

int tw_demo_flows(const struct tw_index *idx)
{
    char dir[] = "/tmp/tidewatch-demo-flows-XXXXXX";
    struct demo_link *l = calloc(1, sizeof(*l));
    struct tw_nf_config dcfg;
    struct tw_nf_encoder_config ecfg;
    struct tw_nf_encoder *enc = NULL;
    struct tw_farch_writer_config wcfg;
    struct tw_flowhunt_config hcfg;
    struct tw_flowhunt_stats hs;
    struct tw_nf_stats ns;
    struct tw_nf_synth syn = { 7, DEMO_START_MS, 20000, 50 };
    struct demo_hits dh = { idx, 0 };
    socklen_t alen = sizeof(struct sockaddr_in);
    struct tw_err err;
    int status = TW_EXIT_ERROR;

    if (l == NULL || mkdtemp(dir) == NULL) {
        free(l);
        return TW_EXIT_ERROR;
    }
    l->tx = socket(AF_INET, SOCK_DGRAM, 0);
    l->rx = socket(AF_INET, SOCK_DGRAM, 0);
    l->to.sin_family = AF_INET;
    l->to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    l->exporter.family = 4;
    (void)inet_pton(AF_INET, "127.0.0.1", l->exporter.bytes);
    tw_nf_config_init(&dcfg);
    tw_nf_encoder_config_init(&ecfg, 9);
    ecfg.boot_ms = DEMO_START_MS - 3600000;
    tw_farch_writer_config_init(&wcfg);
    wcfg.fsync = false;
    if (l->tx < 0 || l->rx < 0 || bind(l->rx, (struct sockaddr *)&l->to, sizeof(l->to)) != 0 ||
            getsockname(l->rx, (struct sockaddr *)&l->to, &alen) != 0 ||
            tw_nf_decoder_new(&dcfg, &l->dec) != TW_OK || tw_nf_encoder_new(&ecfg, &enc) != TW_OK ||
            tw_farch_writer_open(dir, &wcfg, &l->w, &err) != TW_OK)
        goto out;
    printf("collector on 127.0.0.1:%u, archive %s; a router exports NetFlow v9:\n",
            ntohs(l->to.sin_port), dir);
    for (uint64_t i = 0; i < DEMO_FLOWS; i++) {
        struct tw_flowrec r;

        if (i % 4000 == 1999)
            planted((size_t)(i / 4000), &r);
        else
            tw_nf_synth_record(&syn, i, &r);
        r.in_if = r.in_if != 0 ? r.in_if : 3;
        l->now_ms = r.last_ms + 1000;
        if (tw_nf_encode(enc, &r, l->now_ms, demo_send, l) != TW_OK)
            goto out;
    }
    if (tw_nf_encode_flush(enc, demo_send, l) != TW_OK)
        goto out;
    if (tw_farch_writer_close(l->w, false, &err) != TW_OK) {
        l->w = NULL;
        fprintf(stderr, "tidewatch demo: %s\n", err.msg);
        goto out;
    }
    l->w = NULL;
    tw_nf_decoder_stats(l->dec, &ns);
    printf("  %llu datagrams, %llu flow records, %llu lost, %llu malformed\n",
            (unsigned long long)ns.datagrams, (unsigned long long)ns.records,
            (unsigned long long)ns.lost, (unsigned long long)ns.malformed);
    printf("\nRetro-hunt the archive for the intelligence   (tidewatch flows hunt):\n");
    tw_flowhunt_config_init(&hcfg, idx);
    hcfg.threads = 1;
    if (tw_flowhunt_run(&hcfg, dir, demo_hit, &dh, &hs, &err) != TW_OK) {
        fprintf(stderr, "tidewatch demo: %s\n", err.msg);
        goto out;
    }
    printf("  %llu files, %llu records, %llu hits\n", (unsigned long long)hs.files,
            (unsigned long long)hs.records, (unsigned long long)hs.hits);
    status = hs.hits > 0 ? TW_EXIT_OK : TW_EXIT_ERROR;
out:
    if (l->w != NULL)
        (void)tw_farch_writer_close(l->w, true, &err);
    tw_nf_encoder_free(enc);
    tw_nf_decoder_free(l->dec);
    if (l->tx >= 0)
        (void)close(l->tx);
    if (l->rx >= 0)
        (void)close(l->rx);
    free(l);
    (void)nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return status;
}
