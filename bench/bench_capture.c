/*
 * bench_capture.c: the capture reader against libpcap and against `cat`.
 *
 * Writes a pcap of mixed-size packets (64, 576 and 1514 bytes in a 4:2:4
 * mix, default 500 MB) into $TMPDIR (or /tmp) once, then times, from the page
 * cache and in one run: `cat file > /dev/null`; our reader with 1 MiB read()s (the
 * default); our reader mapped with MAP_POPULATE; and a pcap_next_ex loop.
 * Every reader does the same per-packet work (add caplen and the first
 * byte), the least a header-only hunter does. Best of three runs each.
 *
 *   bench_capture [megabytes] [path]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>
#include <sys/stat.h>

#include "tidewatch/capture.h"

#define RUNS 3

static double now_s(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put32(FILE *f, uint32_t v)
{
    (void)fwrite(&v, 4, 1, f); /* host order: a little-endian pcap on x86 */
}

/* Writes the capture unless a file of at least the wanted size is there. */
static int make_capture(const char *path, uint64_t bytes)
{
    static uint8_t pkt[1514];
    static const uint32_t sizes[10] = { 64, 1514, 576, 64, 1514, 64, 576, 1514, 64, 1514 };
    struct stat st;
    uint64_t written = 24;
    uint32_t n = 0;
    FILE *f;

    if (stat(path, &st) == 0 && (uint64_t)st.st_size >= bytes)
        return 0;
    f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    for (size_t i = 0; i < sizeof(pkt); i++)
        pkt[i] = (uint8_t)(i * 7);
    put32(f, 0xA1B2C3D4u);
    put32(f, 0x00040002u); /* version 2.4 */
    put32(f, 0);
    put32(f, 0);
    put32(f, 65535);
    put32(f, 1);
    while (written < bytes) {
        uint32_t len = sizes[n % 10];

        put32(f, 1700000000u + n / 100000);
        put32(f, n % 1000000);
        put32(f, len);
        put32(f, len);
        pkt[0] = (uint8_t)n;
        (void)fwrite(pkt, 1, len, f);
        written += 16 + len;
        n++;
    }
    return fclose(f) == 0 ? 0 : -1;
}

struct result {
    double secs;
    uint64_t packets, bytes, check;
};

static int run_ours(const char *path, int io, struct result *r)
{
    struct tw_capture_opts o = { 0, io, 0 };
    struct tw_capture *c;
    struct tw_packet p;
    struct tw_err err;
    double t0 = now_s();
    int rc;

    memset(r, 0, sizeof(*r));
    if (tw_capture_open_opts(&c, &path, 1, &o, &err) != TW_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    while ((rc = tw_capture_next(c, &p, &err)) == 1) {
        r->packets++;
        r->bytes += p.caplen;
        r->check += p.data[0];
    }
    tw_capture_close(c);
    r->secs = now_s() - t0;
    return rc;
}

static int run_libpcap(const char *path, struct result *r)
{
    char ebuf[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *d;
    double t0 = now_s();
    pcap_t *pc = pcap_open_offline(path, ebuf);

    memset(r, 0, sizeof(*r));
    if (pc == NULL) {
        fprintf(stderr, "%s\n", ebuf);
        return -1;
    }
    while (pcap_next_ex(pc, &h, &d) == 1) {
        r->packets++;
        r->bytes += h->caplen;
        r->check += d[0];
    }
    pcap_close(pc);
    r->secs = now_s() - t0;
    return 0;
}

static double run_cat(const char *path)
{
    char cmd[1200];
    double t0 = now_s();

    (void)snprintf(cmd, sizeof(cmd), "cat '%s' > /dev/null", path);
    if (system(cmd) != 0)
        return -1;
    return now_s() - t0;
}

static void report(const char *what, const struct result *r, double cat_s, uint64_t file_size)
{
    printf("%-24s %7.3f s %8.2f Mpps %6.2f GB/s  %5.2fx cat time  (%" PRIu64 " pkts, check %" PRIu64
           ")\n",
            what, r->secs, (double)r->packets / r->secs / 1e6, (double)file_size / r->secs / 1e9,
            r->secs / cat_s, r->packets, r->check);
}

int main(int argc, char **argv)
{
    uint64_t mb = argc > 1 ? strtoull(argv[1], NULL, 10) : 500;
    const char *tmp = getenv("TMPDIR");
    char path[1024];
    struct result best[4], r;
    double cat_best = 1e30;
    struct stat st;

    if (argc > 2)
        (void)snprintf(path, sizeof(path), "%s", argv[2]);
    else
        (void)snprintf(path, sizeof(path), "%s/tw_bench_capture_%" PRIu64 "mb.pcap",
                tmp != NULL ? tmp : "/tmp", mb);
    if (mb == 0 || make_capture(path, mb * 1000000) != 0 || stat(path, &st) != 0) {
        fprintf(stderr, "bench_capture: cannot write %s\n", path);
        return 1;
    }
    (void)run_cat(path); /* warm the page cache */
    memset(best, 0, sizeof(best));
    for (int i = 0; i < 4; i++)
        best[i].secs = 1e30;
    for (int k = 0; k < RUNS; k++) {
        double c = run_cat(path);

        if (c > 0 && c < cat_best)
            cat_best = c;
        if (run_ours(path, TW_CAPTURE_IO_MMAP, &r) == 0 && r.secs < best[0].secs)
            best[0] = r;
        if (run_ours(path, TW_CAPTURE_IO_READ, &r) == 0 && r.secs < best[1].secs)
            best[1] = r;
        if (run_libpcap(path, &r) == 0 && r.secs < best[2].secs)
            best[2] = r;
        if (run_ours(path, TW_CAPTURE_IO_THREAD, &r) == 0 && r.secs < best[3].secs)
            best[3] = r;
    }
    printf("file %s: %.1f MB, %" PRIu64 " packets\n", path, (double)st.st_size / 1e6,
            best[0].packets);
    printf("%-24s %7.3f s %26.2f GB/s\n", "cat > /dev/null", cat_best,
            (double)st.st_size / cat_best / 1e9);
    report("tidewatch mmap+populate", &best[0], cat_best, (uint64_t)st.st_size);
    report("tidewatch read()", &best[1], cat_best, (uint64_t)st.st_size);
    report("libpcap pcap_next_ex", &best[2], cat_best, (uint64_t)st.st_size);
    /* Reading only: the helper thread pays off when the caller works on each packet. */
    report("tidewatch read-ahead", &best[3], cat_best, (uint64_t)st.st_size);
    printf("speedup over libpcap: mmap %.2fx, read %.2fx\n", best[2].secs / best[0].secs,
            best[2].secs / best[1].secs);
    if (best[0].packets != best[2].packets || best[0].check != best[2].check ||
            best[1].check != best[2].check || best[3].check != best[2].check) {
        fprintf(stderr, "bench_capture: readers disagree\n");
        return 1;
    }
    return 0;
}
