/*
 * bench_farch.c: the flow archive's size per record and its write and read
 * rates, on one core.
 *
 * Usage: bench_farch [records] [zstd_level] [dir]
 *        (defaults: 4000000, 3, a new directory under $TMPDIR or /tmp)
 *
 * Two record streams, each generated before the clock starts:
 *   synth    tw_nf_synth_record (netflow.h): IPv4 sources in 10.0.0.0/8 and
 *            destinations in 20.0.0.0/10, half of the flows swapped, TCP/UDP/
 *            ICMP mix with service ports, random client ports, packets and
 *            bytes, durations up to 60 s, and per-record random interfaces,
 *            AS numbers, masks, VLANs and next hops; one record every 20 us.
 *   minimal  the same records keeping only what reference/sensing.md 2.3's
 *            NetFlow v5 generator varied (times, addresses, ports, protocol,
 *            TCP flags, packets, bytes), the other fields zero.
 * For each: the writer's time per record (adding every record to one
 * partition and completing it, without fsync), the file's bytes per record
 * and how they split between columns, the time per record to decode the
 * address columns of every block (what a hunt reads) and every column, and
 * the address decoding rate. Times are the process's CPU time; the file is
 * read back from the page cache. The program prints numbers, makes no
 * assertions, and removes its files.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include "../src/flow/archive_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/flowarch.h"
#include "tidewatch/netflow.h"

#define START_MS INT64_C(1700000100000) /* 2023-11-14T22:15:00Z, a partition start */

static double now(void)
{
    struct timespec ts;

    /* CPU time of this process: other jobs on a shared machine do not inflate it. */
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void minimal(struct tw_flowrec *r)
{
    struct tw_flowrec m;

    memset(&m, 0, sizeof(m));
    m.first_ms = r->first_ms;
    m.last_ms = r->last_ms;
    m.src = r->src;
    m.dst = r->dst;
    m.sport = r->sport;
    m.dport = r->dport;
    m.proto = r->proto;
    m.tcp_flags = r->tcp_flags;
    m.packets = r->packets;
    m.bytes = r->bytes;
    *r = m;
}

/* Adds up the compressed bytes of each stored column over the file's blocks. */
static void column_sizes(const char *path, uint64_t n)
{
    uint64_t per[TW__FC_COUNT] = { 0 }, headers = 0, size;
    FILE *f = fopen(path, "rb");
    uint8_t *data;
    long len;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
            fseek(f, 0, SEEK_SET) != 0) {
        if (f != NULL)
            (void)fclose(f);
        return;
    }
    size = (uint64_t)len;
    data = malloc(size);
    if (data == NULL || fread(data, 1, size, f) != size) {
        free(data);
        (void)fclose(f);
        return;
    }
    (void)fclose(f);
    {
        const uint8_t *foot = data + size - TW__FARCH_FOOTER_LEN;
        uint32_t nb = tw__get32(foot + 80);
        uint64_t ioff = tw__get64(foot + 88);

        for (uint32_t b = 0; b < nb; b++) {
            const uint8_t *e = data + ioff + (uint64_t)b * TW__FARCH_INDEX_ENTRY;
            const uint8_t *h = data + tw__get64(e);
            uint32_t present = tw__get32(h + 8);
            unsigned k = 0;

            headers += tw__get16(h + 14) + TW__FARCH_INDEX_ENTRY;
            for (unsigned c = 0; c < TW__FC_COUNT; c++)
                if (present & (1u << c))
                    per[c] += tw__get32(h + TW__FARCH_BLOCK_FIXED + 16 * k++);
        }
    }
    printf("    bytes per record by column:");
    for (unsigned c = 0; c < TW__FC_COUNT; c++)
        if (per[c] > 0)
            printf(" %s %.2f", tw__farch_cols[c].name, (double)per[c] / (double)n);
    printf(" headers+index %.3f\n",
            (double)(headers + TW__FARCH_HEADER_LEN + TW__FARCH_FOOTER_LEN) / (double)n);
    free(data);
}

static int run(
        const char *dir, const char *label, const struct tw_flowrec *recs, uint64_t n, int level)
{
    struct tw_farch_writer_config cfg;
    struct tw_farch_writer *w = NULL;
    struct tw_farch_writer_stats st;
    struct tw_farch_file *files = NULL;
    struct tw_farch_reader *r = NULL;
    struct tw_farch_block b;
    struct tw_err err;
    size_t n_files = 0;
    uint64_t sum = 0, seen = 0;
    double t0, t_write, t_addr, t_all;

    tw_farch_writer_config_init(&cfg);
    cfg.zstd_level = level;
    cfg.interval_s = 86400;
    if (tw_farch_writer_open(dir, &cfg, &w, &err) != TW_OK) {
        fprintf(stderr, "bench_farch: %s\n", err.msg);
        return 1;
    }
    t0 = now();
    for (uint64_t i = 0; i < n; i++) {
        if (tw_farch_writer_add(w, START_MS, &recs[i], &err) != TW_OK) {
            fprintf(stderr, "bench_farch: %s\n", err.msg);
            (void)tw_farch_writer_close(w, true, &err);
            return 1;
        }
    }
    if (tw_farch_writer_flush(w, &err) != TW_OK) {
        fprintf(stderr, "bench_farch: %s\n", err.msg);
        (void)tw_farch_writer_close(w, true, &err);
        return 1;
    }
    t_write = now() - t0;
    tw_farch_writer_stats(w, &st);
    (void)tw_farch_writer_close(w, false, &err);
    if (tw_farch_list(dir, INT64_MIN, INT64_MAX, &files, &n_files, &err) != TW_OK || n_files != 1) {
        fprintf(stderr, "bench_farch: expected one file\n");
        tw_farch_files_free(files, n_files);
        return 1;
    }
    if (tw_farch_reader_open(files[0].path, &r, &err) != TW_OK) {
        fprintf(stderr, "bench_farch: %s\n", err.msg);
        tw_farch_files_free(files, n_files);
        return 1;
    }
    t0 = now();
    for (size_t i = 0; i < tw_farch_reader_nblocks(r); i++) {
        if (tw_farch_read_block(r, i, TW_FARCH_COL_ADDR, &b, &err) != TW_OK) {
            fprintf(stderr, "bench_farch: %s\n", err.msg);
            break;
        }
        for (size_t j = 0; j < b.n; j++)
            sum += b.src4[j] ^ b.dst4[j];
        seen += b.n;
    }
    t_addr = now() - t0;
    t0 = now();
    for (size_t i = 0; i < tw_farch_reader_nblocks(r); i++) {
        if (tw_farch_read_block(r, i, TW_FARCH_COL_ALL, &b, &err) != TW_OK) {
            fprintf(stderr, "bench_farch: %s\n", err.msg);
            break;
        }
        for (size_t j = 0; j < b.n; j++)
            sum += b.bytes[j] + (uint64_t)b.last_ms[j];
    }
    t_all = now() - t0;
    tw_farch_reader_close(r);

    printf("%-8s %llu records, level %d: %.2f bytes/record (%llu bytes, %llu blocks)\n", label,
            (unsigned long long)n, level, (double)st.bytes_written / (double)n,
            (unsigned long long)st.bytes_written, (unsigned long long)st.blocks);
    printf("    write %.1f ns/record (%.2f M records/s)\n", t_write * 1e9 / (double)n,
            (double)n / t_write / 1e6);
    printf("    read ADDR %.2f ns/record (%.0f M addresses/s); read ALL %.1f ns/record "
           "[check %llx, %llu records]\n",
            t_addr * 1e9 / (double)n, 2.0 * (double)n / t_addr / 1e6, t_all * 1e9 / (double)n,
            (unsigned long long)(sum & 0xffff), (unsigned long long)seen);
    column_sizes(files[0].path, n);
    if (unlink(files[0].path) != 0)
        fprintf(stderr, "bench_farch: cannot remove %s\n", files[0].path);
    tw_farch_files_free(files, n_files);
    return 0;
}

int main(int argc, char **argv)
{
    struct tw_nf_synth syn = { 1, START_MS, 20, 0 };
    uint64_t n = 4000000;
    int level = 3, rc;
    char dir[512];
    struct tw_flowrec *recs;

    if (argc > 1)
        n = strtoull(argv[1], NULL, 10);
    if (argc > 2)
        level = (int)strtol(argv[2], NULL, 10);
    if (n == 0 || n > 100000000) {
        fprintf(stderr, "usage: bench_farch [records 1..100000000] [zstd_level] [dir]\n");
        return 2;
    }
    if (argc > 3) {
        (void)snprintf(dir, sizeof(dir), "%s", argv[3]);
    } else {
        const char *t = getenv("TMPDIR");

        (void)snprintf(dir, sizeof(dir), "%s/bench_farch_XXXXXX", t != NULL ? t : "/tmp");
        if (mkdtemp(dir) == NULL) {
            perror("bench_farch: mkdtemp");
            return 1;
        }
    }
    recs = tw_calloc(n, sizeof(*recs));
    if (recs == NULL) {
        fprintf(stderr, "bench_farch: out of memory for %llu records\n", (unsigned long long)n);
        return 1;
    }
    for (uint64_t i = 0; i < n; i++)
        tw_nf_synth_record(&syn, i, &recs[i]);
    printf("bench_farch: %llu records, archive in %s\n", (unsigned long long)n, dir);
    rc = run(dir, "synth", recs, n, level);
    for (uint64_t i = 0; i < n; i++)
        minimal(&recs[i]);
    if (rc == 0)
        rc = run(dir, "minimal", recs, n, level);
    tw_free(recs);
    /* Remove the day, month and year directories, and the directory made here. */
    {
        char day[600];

        if (tw__farch_day_dir(dir, START_MS, day, sizeof(day)) > 0) {
            for (int k = 0; k < 3; k++) {
                char *slash = strrchr(day, '/');

                (void)rmdir(day);
                if (slash != NULL)
                    *slash = '\0';
            }
        }
        if (argc <= 3)
            (void)rmdir(dir);
    }
    return rc;
}
