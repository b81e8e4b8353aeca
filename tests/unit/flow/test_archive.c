/*
 * test_archive.c: the flow archive (flowarch.h): every field through a write
 * and a read (IPv4 and IPv6, zero and largest values, every protocol),
 * blocks of exactly 65536 and 65537 records, partitions arriving out of
 * order and more of them than the writer keeps open, SEQ numbers, listing
 * with time windows (a file being written is never listed), damaged files
 * (flipped column bytes, truncation, wrong magic, absurd counts, bad column
 * contents) reported with their byte offset while the rest still reads, a
 * writer killed with SIGKILL, temporary file cleanup, exact summaries and
 * allocation failures.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include "archive_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/err.h"
#include "tidewatch/flowarch.h"
#include "tidewatch/hash.h"
#include "tw_test.h"

#define T0     INT64_C(1699999800000) /* 2023-11-14T22:10:00Z, a multiple of 300 s */
#define MIN_MS INT64_C(60000)
#define IV_MS  INT64_C(300000) /* the default interval */
#define NB     TW_FARCH_BLOCK_RECORDS

static char tmp_dir[512];

static int setup_dir(void **state)
{
    const char *t = getenv("TMPDIR");

    (void)state;
    (void)snprintf(tmp_dir, sizeof(tmp_dir), "%s/tw_farch_XXXXXX", t != NULL ? t : "/tmp");
    return mkdtemp(tmp_dir) != NULL ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[600];

    (void)state;
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ==== Records ==== */

static void ip6(struct tw_ip *ip, uint8_t a, uint8_t b)
{
    memset(ip, 0, sizeof(*ip));
    ip->family = 6;
    ip->bytes[0] = 0x20;
    ip->bytes[1] = 0x01;
    ip->bytes[2] = 0x0d;
    ip->bytes[3] = 0xb8;
    ip->bytes[7] = a;
    ip->bytes[15] = b;
}

/* Record i of a deterministic stream; one in seven (i % 7 == 3) is IPv6. */
static void gen(uint64_t i, struct tw_flowrec *r)
{
    uint64_t h = (i + 1) * 0x9e3779b97f4a7c15ull;

    h ^= h >> 29;
    memset(r, 0, sizeof(*r));
    r->first_ms = T0 + (int64_t)(i * 3) - (int64_t)(h % 5000);
    r->last_ms = r->first_ms + (int64_t)(h % 60000);
    if (i % 7 == 3) {
        ip6(&r->src, (uint8_t)i, (uint8_t)(i >> 8));
        ip6(&r->dst, (uint8_t)(h >> 8), (uint8_t)(h >> 16));
    } else {
        tw_ip_from_v4(&r->src, 0x0a000000u | (uint32_t)(h & 0xffffff));
        tw_ip_from_v4(&r->dst, 0x14000000u | (uint32_t)((h >> 24) & 0x3fffff));
    }
    r->sport = (uint16_t)(h >> 16);
    r->dport = i % 3 == 0 ? 443 : 53;
    r->proto = i % 5 == 0 ? 17 : 6;
    r->tcp_flags = (uint8_t)(h >> 40);
    r->tos = (uint8_t)(i % 4);
    r->packets = 1 + h % 1000;
    r->bytes = r->packets * (40 + (h >> 12) % 1460);
    r->in_if = 1 + (uint32_t)(i % 4);
    r->out_if = 7;
    r->vlan = i % 2 ? 100 : 0;
    tw_ip_from_v4(&r->exporter, 0xc0000201u);
    r->source = TW_FLOWREC_NFV9;
    r->domain = 256;
}

static void assert_ip_equal(const struct tw_ip *a, const struct tw_ip *b)
{
    assert_int_equal(a->family, b->family);
    assert_memory_equal(a->bytes, b->bytes, 16);
}

static void assert_rec_equal(const struct tw_flowrec *a, const struct tw_flowrec *b)
{
    assert_true(a->first_ms == b->first_ms);
    assert_true(a->last_ms == b->last_ms);
    assert_ip_equal(&a->src, &b->src);
    assert_ip_equal(&a->dst, &b->dst);
    assert_ip_equal(&a->nexthop, &b->nexthop);
    assert_ip_equal(&a->exporter, &b->exporter);
    assert_true(a->packets == b->packets);
    assert_true(a->bytes == b->bytes);
    assert_int_equal(a->in_if, b->in_if);
    assert_int_equal(a->out_if, b->out_if);
    assert_int_equal(a->src_as, b->src_as);
    assert_int_equal(a->dst_as, b->dst_as);
    assert_int_equal(a->domain, b->domain);
    assert_int_equal(a->sport, b->sport);
    assert_int_equal(a->dport, b->dport);
    assert_int_equal(a->vlan, b->vlan);
    assert_int_equal(a->proto, b->proto);
    assert_int_equal(a->tcp_flags, b->tcp_flags);
    assert_int_equal(a->tos, b->tos);
    assert_int_equal(a->src_mask, b->src_mask);
    assert_int_equal(a->dst_mask, b->dst_mask);
    assert_int_equal(a->source, b->source);
    assert_int_equal(a->sampling, b->sampling);
}

/* ==== Helpers ==== */

static struct tw_farch_writer *wopen(const char *dir, uint32_t interval_s)
{
    struct tw_farch_writer_config cfg;
    struct tw_farch_writer *w = NULL;
    struct tw_err err;

    tw_farch_writer_config_init(&cfg);
    cfg.interval_s = interval_s;
    assert_int_equal(tw_farch_writer_open(dir, &cfg, &w, &err), TW_OK);
    return w;
}

static void add(struct tw_farch_writer *w, int64_t part_ms, const struct tw_flowrec *r)
{
    struct tw_err err;

    assert_int_equal(tw_farch_writer_add(w, part_ms, r, &err), TW_OK);
}

static void wclose(struct tw_farch_writer *w)
{
    struct tw_err err;

    assert_int_equal(tw_farch_writer_close(w, false, &err), TW_OK);
}

static size_t list(const char *dir, int64_t from, int64_t to, struct tw_farch_file **files)
{
    struct tw_err err;
    size_t n = 99;

    assert_int_equal(tw_farch_list(dir, from, to, files, &n, &err), TW_OK);
    return n;
}

static const char *path_of(const char *rel)
{
    static char buf[1024];

    (void)snprintf(buf, sizeof(buf), "%s/%s", tmp_dir, rel);
    return buf;
}

static bool exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

/* Reads every record of the file at path (through the file reader) into out[0..cap). */
static size_t read_file(const char *path, struct tw_flowrec *out, size_t cap)
{
    struct tw_farch_reader *r = NULL;
    struct tw_farch_block b;
    struct tw_err err;
    size_t k = 0;

    assert_int_equal(tw_farch_reader_open(path, &r, &err), TW_OK);
    for (size_t i = 0; i < tw_farch_reader_nblocks(r); i++) {
        assert_int_equal(tw_farch_read_block(r, i, TW_FARCH_COL_ALL, &b, &err), TW_OK);
        for (size_t j = 0; j < b.n; j++) {
            assert_true(k < cap);
            tw_farch_block_record(&b, j, &out[k++]);
        }
    }
    assert_true(k == tw_farch_reader_summary(r)->records);
    tw_farch_reader_close(r);
    return k;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    return (uint8_t *)tw_test_slurp(path, len);
}

/* The expected summary of records gen(from .. to-1). */
static void gen_summary(uint64_t from, uint64_t to, struct tw_farch_summary *s)
{
    memset(s, 0, sizeof(*s));
    s->first_ms = INT64_MAX;
    s->last_ms = INT64_MIN;
    s->src4_min = s->dst4_min = UINT32_MAX;
    for (uint64_t i = from; i < to; i++) {
        struct tw_flowrec r;

        gen(i, &r);
        s->records++;
        s->first_ms = r.first_ms < s->first_ms ? r.first_ms : s->first_ms;
        s->last_ms = r.last_ms > s->last_ms ? r.last_ms : s->last_ms;
        if (r.src.family == 6) {
            s->has_v6 = true;
        } else {
            uint32_t a = tw_ip_v4(&r.src), d = tw_ip_v4(&r.dst);

            s->has_v4 = true;
            s->src4_min = a < s->src4_min ? a : s->src4_min;
            s->src4_max = a > s->src4_max ? a : s->src4_max;
            s->dst4_min = d < s->dst4_min ? d : s->dst4_min;
            s->dst4_max = d > s->dst4_max ? d : s->dst4_max;
        }
        s->protos[r.proto / 8] |= (uint8_t)(1u << (r.proto % 8));
    }
}

static void assert_summary_equal(const struct tw_farch_summary *a, const struct tw_farch_summary *b)
{
    assert_true(a->records == b->records);
    assert_true(a->first_ms == b->first_ms);
    assert_true(a->last_ms == b->last_ms);
    assert_int_equal(a->has_v4, b->has_v4);
    assert_int_equal(a->has_v6, b->has_v6);
    assert_int_equal(a->src4_min, b->src4_min);
    assert_int_equal(a->src4_max, b->src4_max);
    assert_int_equal(a->dst4_min, b->dst4_min);
    assert_int_equal(a->dst4_max, b->dst4_max);
    assert_memory_equal(a->protos, b->protos, 32);
}

/* Writes records gen(first .. first+n-1) into the partition at part_ms and completes it. */
static void write_gen(const char *dir, int64_t part_ms, uint64_t first, uint64_t n)
{
    struct tw_farch_writer *w = wopen(dir, 0);
    struct tw_flowrec r;

    for (uint64_t i = first; i < first + n; i++) {
        gen(i, &r);
        add(w, part_ms, &r);
    }
    wclose(w);
}

/* ==== Round trips ==== */

static void archive_round_trip_every_field(void **state)
{
    enum { N = 4 + 256 };
    struct tw_flowrec *in = tw_calloc(N, sizeof(*in)), *out = tw_calloc(N, sizeof(*out));
    struct tw_farch_writer *w = wopen(tmp_dir, 0);
    struct tw_farch_writer_stats st;
    struct tw_farch_file *files;
    struct tw_farch_reader *r = NULL;
    struct tw_farch_block b;
    struct tw_farch_summary want;
    struct tw_err err;
    struct stat sb;
    uint8_t *data;
    size_t len;

    (void)state;
    assert_non_null(in);
    assert_non_null(out);
    /* 0: every field zero, addresses 0.0.0.0. */
    tw_ip_from_v4(&in[0].src, 0);
    tw_ip_from_v4(&in[0].dst, 0);
    /* 1: every field at its largest. */
    in[1].first_ms = 0;
    in[1].last_ms = INT64_MAX;
    tw_ip_from_v4(&in[1].src, UINT32_MAX);
    tw_ip_from_v4(&in[1].dst, UINT32_MAX);
    in[1].packets = UINT64_MAX;
    in[1].bytes = UINT64_MAX;
    in[1].in_if = in[1].out_if = in[1].src_as = in[1].dst_as = UINT32_MAX;
    in[1].domain = in[1].sampling = UINT32_MAX;
    in[1].sport = in[1].dport = in[1].vlan = UINT16_MAX;
    in[1].proto = in[1].tcp_flags = in[1].tos = UINT8_MAX;
    in[1].src_mask = in[1].dst_mask = in[1].source = UINT8_MAX;
    in[1].nexthop.family = 6;
    memset(in[1].nexthop.bytes, 0xff, 16);
    in[1].exporter.family = 6;
    memset(in[1].exporter.bytes, 0xff, 16);
    /* 2: IPv6 :: to ffff:...:ffff, IPv4 next hop and exporter. */
    in[2].src.family = 6;
    in[2].dst.family = 6;
    memset(in[2].dst.bytes, 0xff, 16);
    tw_ip_from_v4(&in[2].nexthop, 0xc0000202u);
    tw_ip_from_v4(&in[2].exporter, 0xc6336401u);
    in[2].first_ms = INT64_MAX;
    in[2].last_ms = INT64_MAX;
    in[2].packets = 1;
    in[2].bytes = UINT64_C(1) << 63;
    /* 3: back to a small time after INT64_MAX (a large negative delta). */
    tw_ip_from_v4(&in[3].src, 0x0a000001u);
    tw_ip_from_v4(&in[3].dst, 0x14000001u);
    in[3].first_ms = 1;
    in[3].last_ms = 2;
    /* 4 .. 259: every protocol once. */
    for (unsigned p = 0; p < 256; p++) {
        struct tw_flowrec *x = &in[4 + p];

        gen(p, x);
        x->proto = (uint8_t)p;
        x->src_as = p * 1000;
        x->dst_mask = (uint8_t)(p % 33);
        x->sampling = p % 2;
    }
    for (size_t i = 0; i < N; i++)
        add(w, T0 + 12345, &in[i]);
    tw_farch_writer_stats(w, &st);
    assert_int_equal(st.records, N);
    assert_int_equal(st.files, 0);
    assert_int_equal(tw_farch_writer_flush(w, &err), TW_OK);
    tw_farch_writer_stats(w, &st);
    assert_int_equal(st.files, 1);
    assert_int_equal(st.blocks, 1);

    assert_int_equal(list(tmp_dir, INT64_MIN, INT64_MAX, &files), 1);
    assert_string_equal(files[0].path, path_of("2023/11/14/flows-202311142210-0000.twf"));
    assert_true(files[0].start_ms == T0);
    assert_true(files[0].end_ms == T0 + IV_MS);
    assert_int_equal(stat(files[0].path, &sb), 0);
    assert_int_equal(st.bytes_written, (uint64_t)sb.st_size);
    assert_int_equal(read_file(files[0].path, out, N), N);
    for (size_t i = 0; i < N; i++)
        assert_rec_equal(&out[i], &in[i]);

    /* The same bytes through the memory reader, and the summaries. */
    data = slurp(files[0].path, &len);
    assert_int_equal(tw_farch_reader_open_mem(data, len, "mem.twf", &r, &err), TW_OK);
    assert_int_equal(tw_farch_reader_nblocks(r), 1);
    memset(&want, 0, sizeof(want));
    want.records = N;
    want.first_ms = 0;
    want.last_ms = INT64_MAX;
    want.src4_min = 0;
    want.src4_max = UINT32_MAX;
    want.dst4_min = 0;
    want.dst4_max = UINT32_MAX;
    want.has_v4 = true;
    want.has_v6 = true;
    memset(want.protos, 0xff, 32);
    assert_summary_equal(tw_farch_reader_summary(r), &want);
    assert_summary_equal(tw_farch_block_summary(r, 0), &want);
    assert_null(tw_farch_block_summary(r, 1));
    assert_int_equal(tw_farch_read_block(r, 0, TW_FARCH_COL_ALL, &b, &err), TW_OK);
    for (size_t i = 0; i < N; i++) {
        struct tw_flowrec x;

        tw_farch_block_record(&b, i, &x);
        assert_rec_equal(&x, &in[i]);
    }
    /* Only the address columns: the others are NULL. */
    assert_int_equal(tw_farch_read_block(r, 0, TW_FARCH_COL_ADDR, &b, &err), TW_OK);
    assert_int_equal(b.n, N);
    assert_null(b.first_ms);
    assert_null(b.sport);
    assert_null(b.packets);
    assert_null(b.exporter);
    assert_int_equal(b.src4[1], UINT32_MAX);
    assert_int_equal(b.dst4[3], 0x14000001u);
    assert_int_equal(b.is_v6[2], 1);
    assert_int_equal(b.src4[2], 0);
    assert_int_equal(b.dst6[2][15], 0xff);
    assert_int_equal(b.is_v6[0], 0);
    /* A block that does not exist. */
    assert_int_equal(tw_farch_read_block(r, 1, TW_FARCH_COL_ALL, &b, &err), TW_EINVAL);
    assert_int_equal(b.n, 0);
    tw_farch_reader_close(r);
    tw_free(data);
    tw_farch_files_free(files, 1);
    wclose(w);
    tw_free(in);
    tw_free(out);
}

static void archive_blocks_of_65536_and_65537(void **state)
{
    struct tw_flowrec *out = tw_calloc(NB + 1, sizeof(*out));
    struct tw_farch_file *files;
    struct tw_farch_reader *r = NULL;
    struct tw_farch_summary want;
    struct tw_err err;

    (void)state;
    assert_non_null(out);
    write_gen(tmp_dir, T0, 0, NB);
    write_gen(tmp_dir, T0 + IV_MS, 0, NB + 1);
    assert_int_equal(list(tmp_dir, INT64_MIN, INT64_MAX, &files), 2);

    assert_int_equal(tw_farch_reader_open(files[0].path, &r, &err), TW_OK);
    assert_int_equal(tw_farch_reader_nblocks(r), 1);
    gen_summary(0, NB, &want);
    assert_summary_equal(tw_farch_reader_summary(r), &want);
    assert_summary_equal(tw_farch_block_summary(r, 0), &want);
    tw_farch_reader_close(r);

    assert_int_equal(tw_farch_reader_open(files[1].path, &r, &err), TW_OK);
    assert_int_equal(tw_farch_reader_nblocks(r), 2);
    assert_summary_equal(tw_farch_block_summary(r, 0), &want);
    gen_summary(NB, NB + 1, &want);
    assert_summary_equal(tw_farch_block_summary(r, 1), &want);
    assert_int_equal(tw_farch_block_summary(r, 1)->records, 1);
    gen_summary(0, NB + 1, &want);
    assert_summary_equal(tw_farch_reader_summary(r), &want);
    tw_farch_reader_close(r);

    assert_int_equal(read_file(files[0].path, out, NB + 1), NB);
    for (uint64_t i = 0; i < NB; i++) {
        struct tw_flowrec x;

        gen(i, &x);
        assert_rec_equal(&out[i], &x);
    }
    assert_int_equal(read_file(files[1].path, out, NB + 1), NB + 1);
    for (uint64_t i = 0; i < NB + 1; i++) {
        struct tw_flowrec x;

        gen(i, &x);
        assert_rec_equal(&out[i], &x);
    }
    tw_farch_files_free(files, 2);
    tw_free(out);
}

/* ==== Partitions ==== */

static void archive_partitions_out_of_order(void **state)
{
    /* Intervals (of 60 s) of the records in arrival order; the writer keeps 4 open. */
    static const unsigned order[] = { 0, 1, 2, 3, 0, 4, 1, 5, 2 };
    static const struct {
        const char *name;
        uint16_t sports[2]; /* arrival numbers of its records */
        size_t n;
    } want[] = {
        { "2023/11/14/flows-202311142210-0000.twf", { 0, 4 }, 2 },
        { "2023/11/14/flows-202311142211-0000.twf", { 1 }, 1 },
        { "2023/11/14/flows-202311142211-0001.twf", { 6 }, 1 },
        { "2023/11/14/flows-202311142212-0000.twf", { 2 }, 1 },
        { "2023/11/14/flows-202311142212-0001.twf", { 8 }, 1 },
        { "2023/11/14/flows-202311142213-0000.twf", { 3 }, 1 },
        { "2023/11/14/flows-202311142214-0000.twf", { 5 }, 1 },
        { "2023/11/14/flows-202311142215-0000.twf", { 7 }, 1 },
    };
    struct tw_farch_writer *w = wopen(tmp_dir, 60);
    struct tw_farch_writer_stats st;
    struct tw_farch_file *files;
    struct tw_flowrec r, out[4];
    struct tw_err err;

    (void)state;
    for (size_t i = 0; i < TW_ARRAY_LEN(order); i++) {
        gen(i, &r);
        r.sport = (uint16_t)i;
        /* Later records carry earlier times: sorted input is not assumed. */
        r.first_ms = T0 + (int64_t)order[i] * MIN_MS + 59000 - (int64_t)i * 1000;
        r.last_ms = r.first_ms + 10;
        add(w, r.first_ms, &r);
    }
    /* Four completed on the way (the least recently used each time), four open. */
    assert_int_equal(list(tmp_dir, INT64_MIN, INT64_MAX, &files), 4);
    tw_farch_files_free(files, 4);
    assert_int_equal(tw_farch_writer_flush(w, &err), TW_OK);
    tw_farch_writer_stats(w, &st);
    assert_int_equal(st.files, 8);
    assert_int_equal(st.records, 9);
    assert_int_equal(list(tmp_dir, INT64_MIN, INT64_MAX, &files), TW_ARRAY_LEN(want));
    for (size_t f = 0; f < TW_ARRAY_LEN(want); f++) {
        assert_string_equal(files[f].path, path_of(want[f].name));
        assert_true(files[f].end_ms - files[f].start_ms == MIN_MS);
        assert_int_equal(read_file(files[f].path, out, 4), want[f].n);
        for (size_t k = 0; k < want[f].n; k++)
            assert_int_equal(out[k].sport, want[f].sports[k]);
    }
    tw_farch_files_free(files, TW_ARRAY_LEN(want));
    wclose(w);
}

static void archive_tick_and_visibility(void **state)
{
    struct tw_farch_writer *w = wopen(tmp_dir, 60);
    struct tw_farch_file *files;
    struct tw_flowrec r;
    struct tw_err err;

    (void)state;
    gen(0, &r);
    add(w, T0, &r);
    add(w, T0 + MIN_MS, &r);
    /* Both files are being written: present as temporary files, not listed. */
    assert_true(exists(path_of("2023/11/14/.flows-202311142210-0000.twf.tmp")));
    assert_true(exists(path_of("2023/11/14/.flows-202311142211-0000.twf.tmp")));
    assert_int_equal(list(tmp_dir, INT64_MIN, INT64_MAX, &files), 0);
    assert_null(files);
    assert_int_equal(tw_farch_writer_tick(w, T0 + MIN_MS - 1, &err), TW_OK);
    assert_int_equal(list(tmp_dir, INT64_MIN, INT64_MAX, &files), 0);
    assert_int_equal(tw_farch_writer_tick(w, T0 + MIN_MS, &err), TW_OK);
    assert_int_equal(list(tmp_dir, INT64_MIN, INT64_MAX, &files), 1);
    assert_string_equal(files[0].path, path_of("2023/11/14/flows-202311142210-0000.twf"));
    assert_false(exists(path_of("2023/11/14/.flows-202311142210-0000.twf.tmp")));
    tw_farch_files_free(files, 1);
    /* Closing with discard drops the open partition and its temporary file. */
    assert_int_equal(tw_farch_writer_close(w, true, &err), TW_OK);
    assert_false(exists(path_of("2023/11/14/.flows-202311142211-0000.twf.tmp")));
    assert_false(exists(path_of("2023/11/14/flows-202311142211-0000.twf")));
    assert_int_equal(list(tmp_dir, INT64_MIN, INT64_MAX, &files), 1);
    tw_farch_files_free(files, 1);
}

static void archive_seq_and_bad_input(void **state)
{
    struct tw_farch_writer_config cfg;
    struct tw_farch_writer *w, *w2, *w3;
    struct tw_farch_reader *r = NULL;
    struct tw_flowrec rec;
    struct tw_err err;

    (void)state;
    gen(0, &rec);
    w = wopen(tmp_dir, 0);
    add(w, T0, &rec);
    wclose(w);
    w = wopen(tmp_dir, 0);
    add(w, T0 + 1, &rec);
    wclose(w);
    /* Two writers on one interval at the same time. */
    w2 = wopen(tmp_dir, 0);
    w3 = wopen(tmp_dir, 0);
    add(w2, T0, &rec);
    add(w3, T0, &rec);
    wclose(w3);
    wclose(w2);
    assert_true(exists(path_of("2023/11/14/flows-202311142210-0000.twf")));
    assert_true(exists(path_of("2023/11/14/flows-202311142210-0001.twf")));
    assert_true(exists(path_of("2023/11/14/flows-202311142210-0002.twf")));
    assert_true(exists(path_of("2023/11/14/flows-202311142210-0003.twf")));
    assert_false(exists(path_of("2023/11/14/flows-202311142210-0004.twf")));

    w = wopen(tmp_dir, 0);
    rec.dst.family = 6;
    assert_int_equal(tw_farch_writer_add(w, T0, &rec, &err), TW_EINVAL);
    rec.src.family = 0;
    rec.dst.family = 0;
    assert_int_equal(tw_farch_writer_add(w, T0, &rec, &err), TW_EINVAL);
    gen(0, &rec);
    assert_int_equal(tw_farch_writer_add(w, -1, &rec, &err), TW_ERANGE);
    assert_int_equal(tw_farch_writer_add(w, TW__FARCH_MAX_PART_MS + 1, &rec, &err), TW_ERANGE);
    assert_int_equal(tw_farch_writer_add(w, 0, &rec, &err), TW_OK);
    assert_int_equal(tw_farch_writer_close(w, false, &err), TW_OK);
    assert_true(exists(path_of("1970/01/01/flows-197001010000-0000.twf")));

    tw_farch_writer_config_init(&cfg);
    cfg.interval_s = 86401;
    assert_int_equal(tw_farch_writer_open(tmp_dir, &cfg, &w, &err), TW_ERANGE);
    assert_null(w);
    cfg.interval_s = 60;
    cfg.zstd_level = 100;
    assert_int_equal(tw_farch_writer_open(tmp_dir, &cfg, &w, &err), TW_ERANGE);
    assert_int_equal(tw_farch_writer_close(NULL, false, &err), TW_OK);
    assert_int_equal(tw_farch_reader_open(path_of("nothing.twf"), &r, &err), TW_ENOTFOUND);
    assert_null(r);
}

/* ==== Listing ==== */

static void archive_list_windows(void **state)
{
    /* 2024-02-29T23:55:00Z and 2024-03-01T00:00:00Z (a leap day, then a new month). */
    const int64_t leap = INT64_C(1709250900000), march = leap + IV_MS;
    const int64_t hour_file = INT64_C(1735689600000); /* 2025-01-01T00:00:00Z */
    struct tw_farch_writer *w;
    struct tw_farch_file *files;
    struct tw_flowrec r;
    struct tw_err err;
    size_t n;

    (void)state;
    gen(0, &r);
    w = wopen(tmp_dir, 0);
    add(w, T0, &r);
    add(w, T0 + IV_MS, &r);
    add(w, T0 + 2 * IV_MS, &r);
    add(w, leap, &r);
    wclose(w);
    w = wopen(tmp_dir, 0);
    add(w, march, &r);
    wclose(w);
    w = wopen(tmp_dir, 3600);
    add(w, hour_file + 1800000, &r);
    wclose(w);
    /* Things that are not archive files. */
    write_bytes(path_of("2023/11/14/flows-202311142210-0000.twf.bak"), "x", 1);
    write_bytes(path_of("2023/11/14/flows-202313142210-0000.twf"), "x", 1);
    write_bytes(path_of("2023/11/14/flows-202311142210-.twf"), "x", 1);
    write_bytes(path_of("2023/11/14/.flows-202311142215-0000.twf.tmp"), "x", 1);
    write_bytes(path_of("2023/notes"), "x", 1);

    assert_int_equal(list(tmp_dir, INT64_MIN, INT64_MAX, &files), 6);
    assert_true(files[0].start_ms == T0);
    assert_true(files[3].start_ms == leap);
    assert_string_equal(files[3].path, path_of("2024/02/29/flows-202402292355-0000.twf"));
    assert_string_equal(files[4].path, path_of("2024/03/01/flows-202403010000-0000.twf"));
    assert_string_equal(files[5].path, path_of("2025/01/01/flows-202501010000-0000.twf"));
    assert_true(files[5].end_ms == hour_file + 3600000);
    tw_farch_files_free(files, 6);

    assert_int_equal(list(tmp_dir, T0 + IV_MS, T0 + 2 * IV_MS, &files), 1);
    assert_true(files[0].start_ms == T0 + IV_MS);
    tw_farch_files_free(files, 1);
    assert_int_equal(list(tmp_dir, T0 + IV_MS - 1, T0 + 2 * IV_MS + 1, &files), 3);
    tw_farch_files_free(files, 3);
    assert_int_equal(list(tmp_dir, INT64_MIN, T0, &files), 0);
    assert_int_equal(list(tmp_dir, T0 + 3 * IV_MS, leap, &files), 0);
    /* Across midnight: the 23:55 file ends at 00:00 of the next day. */
    assert_int_equal(list(tmp_dir, leap + 2 * MIN_MS, march + MIN_MS, &files), 2);
    tw_farch_files_free(files, 2);
    assert_int_equal(list(tmp_dir, march, march + 1, &files), 1);
    assert_true(files[0].start_ms == march);
    tw_farch_files_free(files, 1);
    /* The hour-long file by its header's interval. */
    assert_int_equal(list(tmp_dir, hour_file + 3599999, INT64_MAX, &files), 1);
    tw_farch_files_free(files, 1);
    assert_int_equal(list(tmp_dir, hour_file + 3600000, INT64_MAX, &files), 0);
    assert_int_equal(list(tmp_dir, T0, T0, &files), 0);
    assert_int_equal(tw_farch_list(path_of("missing"), INT64_MIN, INT64_MAX, &files, &n, &err),
            TW_ENOTFOUND);
    assert_int_equal(n, 0);
}

/* ==== Damaged files ==== */

/* Offset (in the file) of stored column c of the block at boff, and its length. */
static size_t col_offset(
        const uint8_t *data, size_t boff, unsigned c, uint32_t *clen, size_t *entry)
{
    uint32_t present = tw__get32(data + boff + 8);
    size_t hlen = tw__get16(data + boff + 14), pos = boff + hlen;
    unsigned k = 0;

    assert_true(present & (1u << c));
    for (unsigned i = 0; i < c; i++)
        if (present & (1u << i))
            pos += tw__get32(data + boff + TW__FARCH_BLOCK_FIXED + 16 * k++);
    *entry = boff + TW__FARCH_BLOCK_FIXED + 16 * k;
    *clen = tw__get32(data + *entry);
    return pos;
}

static void fix_block_header(uint8_t *data, size_t boff)
{
    size_t hlen = tw__get16(data + boff + 14);

    tw__put64(data + boff + hlen - 8, tw_hash64(data + boff, hlen - 8, 0));
}

static void fix_footer(uint8_t *data, size_t len)
{
    uint8_t *foot = data + len - TW__FARCH_FOOTER_LEN;

    tw__put64(foot + 112, tw_hash64(foot, 112, 0));
}

/* Recomputes the index checksum (the index keeps its place before the footer) and the footer's. */
static void fix_index(uint8_t *data, size_t len)
{
    uint8_t *foot = data + len - TW__FARCH_FOOTER_LEN;
    size_t ioff = tw__get64(foot + 88);

    tw__put64(foot + 96, tw_hash64(data + ioff, len - TW__FARCH_FOOTER_LEN - ioff, 0));
    fix_footer(data, len);
}

/* Opens a copy of data in memory; returns its status. */
static int open_copy(
        const uint8_t *data, size_t len, struct tw_farch_reader **r, struct tw_err *err)
{
    tw_err_clear(err);
    return tw_farch_reader_open_mem(data, len, "bad.twf", r, err);
}

/*
 * Replaces stored column c of the only block of a one-block file with a
 * zstd frame of raw[0..rlen) (declared as rlen raw bytes) and fixes every
 * length and checksum. Returns the new file.
 */
static uint8_t *replace_column(const uint8_t *data, size_t len, unsigned c, const uint8_t *raw,
        size_t rlen, size_t *out_len)
{
    size_t boff = TW__FARCH_HEADER_LEN, entry, bound = ZSTD_compressBound(rlen), clen, pos;
    uint32_t old_len, blen = tw__get32(data + len - TW__FARCH_FOOTER_LEN - 88 + 8);
    size_t coff = col_offset(data, boff, c, &old_len, &entry);
    size_t new_blen, ioff;
    uint8_t *frame = tw_malloc(bound), *out;

    assert_non_null(frame);
    clen = ZSTD_compress(frame, bound, raw, rlen, 1);
    assert_false(ZSTD_isError(clen));
    *out_len = len - old_len + clen;
    out = tw_malloc(*out_len);
    assert_non_null(out);
    pos = 0;
    memcpy(out, data, coff);
    pos = coff;
    memcpy(out + pos, frame, clen);
    pos += clen;
    memcpy(out + pos, data + coff + old_len, len - coff - old_len);
    tw__put32(out + entry, (uint32_t)clen);
    tw__put32(out + entry + 4, (uint32_t)rlen);
    tw__put64(out + entry + 8, tw_hash64(frame, clen, 0));
    fix_block_header(out, boff);
    new_blen = blen - old_len + clen;
    ioff = boff + new_blen;
    tw__put32(out + ioff + 8, (uint32_t)new_blen);
    tw__put64(out + *out_len - TW__FARCH_FOOTER_LEN + 88, ioff);
    fix_index(out, *out_len);
    tw_free(frame);
    return out;
}

static void archive_damaged_files(void **state)
{
    struct tw_farch_file *files;
    struct tw_farch_reader *r = NULL;
    struct tw_farch_block b;
    struct tw_flowrec rec, x, five[5];
    struct tw_err err;
    uint8_t *good, *bad, *fixed;
    size_t len, entry, coff, b1, flen;
    uint32_t clen;

    (void)state;
    write_gen(tmp_dir, T0, 0, NB + 10);
    write_gen(tmp_dir, T0 + IV_MS, 0, 5);
    assert_int_equal(list(tmp_dir, INT64_MIN, INT64_MAX, &files), 2);
    good = slurp(files[0].path, &len);
    bad = tw_malloc(len);
    assert_non_null(bad);
    b1 = TW__FARCH_HEADER_LEN + tw__get32(good + len - TW__FARCH_FOOTER_LEN - 2 * 88 + 8);

    /* A flipped byte inside block 0's src4 column: that column fails with its offset. */
    memcpy(bad, good, len);
    coff = col_offset(bad, TW__FARCH_HEADER_LEN, TW__FC_SRC4, &clen, &entry);
    bad[coff + clen / 2] ^= 0x40;
    assert_int_equal(open_copy(bad, len, &r, &err), TW_OK);
    assert_int_equal(tw_farch_read_block(r, 0, TW_FARCH_COL_ADDR, &b, &err), TW_EINVAL);
    assert_int_equal(err.offset, coff);
    assert_non_null(strstr(err.msg, "bad.twf: block 0 column src4 at offset"));
    assert_non_null(strstr(err.msg, "checksum mismatch"));
    /* ... while its other columns and the next block still read. */
    assert_int_equal(tw_farch_read_block(r, 0, TW_FARCH_COL_PORTS, &b, &err), TW_OK);
    gen(17, &rec);
    assert_int_equal(b.sport[17], rec.sport);
    assert_int_equal(tw_farch_read_block(r, 1, TW_FARCH_COL_ALL, &b, &err), TW_OK);
    assert_int_equal(b.n, 10);
    tw_farch_block_record(&b, 9, &x);
    gen(NB + 9, &rec);
    assert_rec_equal(&x, &rec);
    tw_farch_reader_close(r);
    /* The same through the file reader. */
    write_bytes(files[0].path, bad, len);
    assert_int_equal(tw_farch_reader_open(files[0].path, &r, &err), TW_OK);
    assert_int_equal(tw_farch_read_block(r, 0, TW_FARCH_COL_ALL, &b, &err), TW_EINVAL);
    assert_int_equal(err.offset, coff);
    assert_non_null(strstr(err.msg, files[0].path));
    assert_int_equal(tw_farch_read_block(r, 1, TW_FARCH_COL_ADDR, &b, &err), TW_OK);
    tw_farch_reader_close(r);

    /* Truncated: no footer at the end; the other file still reads. */
    write_bytes(files[0].path, good, len - 10);
    assert_int_equal(tw_farch_reader_open(files[0].path, &r, &err), TW_EINVAL);
    assert_null(r);
    assert_int_equal(err.offset, len - 10 - 8);
    assert_non_null(strstr(err.msg, files[0].path));
    assert_int_equal(read_file(files[1].path, five, 5), 5);
    write_bytes(files[0].path, good, 100);
    assert_int_equal(tw_farch_reader_open(files[0].path, &r, &err), TW_ETRUNC);
    assert_int_equal(err.offset, 100);

    /* Wrong magic. */
    memcpy(bad, good, len);
    bad[1] = 'X';
    assert_int_equal(open_copy(bad, len, &r, &err), TW_EINVAL);
    assert_int_equal(err.offset, 0);
    assert_non_null(strstr(err.msg, "bad magic"));

    /* Absurd block count in the footer (checksum made right). */
    memcpy(bad, good, len);
    tw__put32(bad + len - TW__FARCH_FOOTER_LEN + 80, UINT32_MAX);
    fix_footer(bad, len);
    assert_int_equal(open_copy(bad, len, &r, &err), TW_ELIMIT);
    assert_int_equal(err.offset, len - TW__FARCH_FOOTER_LEN + 80);
    /* One block fewer than there are: the index no longer ends at the footer. */
    memcpy(bad, good, len);
    tw__put32(bad + len - TW__FARCH_FOOTER_LEN + 80, 1);
    fix_footer(bad, len);
    assert_int_equal(open_copy(bad, len, &r, &err), TW_EINVAL);
    assert_int_equal(err.offset, len - TW__FARCH_FOOTER_LEN + 88);
    /* Absurd record count in the index. */
    memcpy(bad, good, len);
    tw__put32(bad + len - TW__FARCH_FOOTER_LEN - 2 * 88 + 12, 1u << 30);
    fix_index(bad, len);
    assert_int_equal(open_copy(bad, len, &r, &err), TW_EINVAL);
    assert_int_equal(err.offset, len - TW__FARCH_FOOTER_LEN - 2 * 88 + 12);
    /* Absurd record count in a block header (checksum made right). */
    memcpy(bad, good, len);
    tw__put32(bad + b1 + 4, 1u << 30);
    fix_block_header(bad, b1);
    assert_int_equal(open_copy(bad, len, &r, &err), TW_OK);
    assert_int_equal(tw_farch_read_block(r, 1, TW_FARCH_COL_TIME, &b, &err), TW_EINVAL);
    assert_int_equal(err.offset, b1 + 4);
    assert_int_equal(tw_farch_read_block(r, 0, TW_FARCH_COL_TIME, &b, &err), TW_OK);
    tw_farch_reader_close(r);
    /* Absurd raw length of a column. */
    memcpy(bad, good, len);
    coff = col_offset(bad, b1, TW__FC_PACKETS, &clen, &entry);
    tw__put32(bad + entry + 4, 0xfffffff0u);
    fix_block_header(bad, b1);
    assert_int_equal(open_copy(bad, len, &r, &err), TW_OK);
    assert_int_equal(tw_farch_read_block(r, 1, TW_FARCH_COL_COUNTERS, &b, &err), TW_EINVAL);
    assert_int_equal(err.offset, entry);
    assert_non_null(strstr(err.msg, "column packets has bad lengths"));
    tw_farch_reader_close(r);
    /* A raw length that is possible but not the one the frame declares. */
    memcpy(bad, good, len);
    coff = col_offset(bad, b1, TW__FC_EXPORTER, &clen, &entry);
    tw__put32(bad + entry + 4, tw__get32(bad + entry + 4) + 16);
    fix_block_header(bad, b1);
    assert_int_equal(open_copy(bad, len, &r, &err), TW_OK);
    assert_int_equal(tw_farch_read_block(r, 1, TW_FARCH_COL_EXPORTER, &b, &err), TW_EINVAL);
    assert_int_equal(err.offset, coff);
    assert_non_null(strstr(err.msg, "column exporter"));
    assert_non_null(strstr(err.msg, "not one zstd frame"));
    tw_farch_reader_close(r);
    tw_free(good);
    tw_free(bad);

    /* Well-formed frames with bad contents, in the 5-record file. */
    good = slurp(files[1].path, &len);
    {
        uint8_t raw[5 * 21];

        memset(raw, 0, sizeof(raw));
        raw[4] = 2; /* a port swap flag that is neither 0 nor 1 */
        fixed = replace_column(good, len, TW__FC_PORT_SWAP, raw, 5, &flen);
        assert_int_equal(open_copy(fixed, flen, &r, &err), TW_OK);
        assert_int_equal(tw_farch_read_block(r, 0, TW_FARCH_COL_PORTS, &b, &err), TW_EINVAL);
        assert_non_null(strstr(err.msg, "column port_swap"));
        assert_non_null(strstr(err.msg, "bad port swap flag"));
        assert_int_equal(tw_farch_read_block(r, 0, TW_FARCH_COL_ADDR, &b, &err), TW_OK);
        tw_farch_reader_close(r);
        tw_free(fixed);

        memset(raw, 0, sizeof(raw));
        raw[2] = 5; /* an address family that does not exist */
        fixed = replace_column(good, len, TW__FC_EXPORTER, raw, 25, &flen);
        assert_int_equal(open_copy(fixed, flen, &r, &err), TW_OK);
        assert_int_equal(tw_farch_read_block(r, 0, TW_FARCH_COL_EXPORTER, &b, &err), TW_EINVAL);
        assert_non_null(strstr(err.msg, "bad address families"));
        tw_farch_reader_close(r);
        tw_free(fixed);

        memset(raw, 0, sizeof(raw));
        raw[0] = 2; /* an IPv6 flag that is neither 0 nor 1 */
        fixed = replace_column(good, len, TW__FC_V6, raw, 5 + 32, &flen);
        assert_int_equal(open_copy(fixed, flen, &r, &err), TW_OK);
        assert_int_equal(tw_farch_read_block(r, 0, TW_FARCH_COL_ADDR, &b, &err), TW_EINVAL);
        assert_non_null(strstr(err.msg, "bad IPv6 flags"));
        tw_farch_reader_close(r);
        tw_free(fixed);
    }
    tw_free(good);
    tw_farch_files_free(files, 2);
}

/* Reading a block without IPv6 after one with: the IPv6 arrays are zero again. */
static void archive_v6_arrays_cleared(void **state)
{
    struct tw_farch_file *files;
    struct tw_farch_reader *r = NULL;
    struct tw_farch_block b;
    struct tw_flowrec rec;
    struct tw_err err;
    static const uint8_t zero[16];

    (void)state;
    write_gen(tmp_dir, T0, 0, NB + 10);
    assert_int_equal(list(tmp_dir, INT64_MIN, INT64_MAX, &files), 1);
    assert_int_equal(tw_farch_reader_open(files[0].path, &r, &err), TW_OK);
    assert_int_equal(tw_farch_read_block(r, 0, TW_FARCH_COL_ADDR, &b, &err), TW_OK);
    gen(3, &rec);
    assert_int_equal(b.is_v6[3], 1);
    assert_memory_equal(b.src6[3], rec.src.bytes, 16);
    assert_memory_equal(b.dst6[3], rec.dst.bytes, 16);
    /* Block 1 holds gen(65536 .. 65545): v6 at 65536+j when (65536+j) % 7 == 3, i.e. j = 1, 8. */
    assert_int_equal(tw_farch_read_block(r, 1, TW_FARCH_COL_ADDR, &b, &err), TW_OK);
    for (size_t j = 0; j < b.n; j++) {
        gen(NB + j, &rec);
        assert_int_equal(b.is_v6[j], rec.src.family == 6);
        if (rec.src.family == 6) {
            assert_memory_equal(b.src6[j], rec.src.bytes, 16);
        } else {
            assert_memory_equal(b.src6[j], zero, 16);
            assert_memory_equal(b.dst6[j], zero, 16);
            assert_int_equal(b.src4[j], tw_ip_v4(&rec.src));
        }
    }
    assert_int_equal(b.is_v6[1], 1);
    assert_int_equal(b.is_v6[3], 0);
    tw_farch_reader_close(r);
    tw_farch_files_free(files, 1);
}

/* ==== Killed writers and temporary files ==== */

static void archive_killed_writer_and_cleanup(void **state)
{
    struct tw_farch_file *files;
    struct tw_flowrec out[16];
    struct tw_err err;
    struct timespec old[2];
    int fds[2], status;
    char c;
    pid_t pid;
    const char *tmp1 = "2023/11/14/.flows-202311142215-0000.twf.tmp";

    (void)state;
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct tw_farch_writer *w = NULL;
        struct tw_farch_writer_config cfg;
        struct tw_flowrec r;

        tw_farch_writer_config_init(&cfg);
        cfg.fsync = true;
        if (tw_farch_writer_open(tmp_dir, &cfg, &w, &err) != TW_OK)
            _exit(1);
        for (uint64_t i = 0; i < 10; i++) {
            gen(i, &r);
            if (tw_farch_writer_add(w, T0, &r, &err) != TW_OK)
                _exit(1);
        }
        if (tw_farch_writer_tick(w, T0 + IV_MS, &err) != TW_OK)
            _exit(1);
        for (uint64_t i = 10; i < 15; i++) {
            gen(i, &r);
            if (tw_farch_writer_add(w, T0 + IV_MS, &r, &err) != TW_OK)
                _exit(1);
        }
        if (write(fds[1], "k", 1) != 1)
            _exit(1);
        for (;;)
            (void)pause();
    }
    (void)close(fds[1]);
    assert_int_equal(read(fds[0], &c, 1), 1);
    (void)close(fds[0]);
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));

    /* The completed interval is whole; the open one is a temporary file, not listed. */
    assert_int_equal(list(tmp_dir, INT64_MIN, INT64_MAX, &files), 1);
    assert_int_equal(read_file(files[0].path, out, 16), 10);
    tw_farch_files_free(files, 1);
    assert_true(exists(path_of("2023/11/14/.flows-202311142215-0000.twf.tmp")));
    /* Fresh temporary files are left alone; old ones go. */
    assert_int_equal(tw_farch_cleanup(tmp_dir, 3600, &err), 0);
    old[0].tv_sec = old[1].tv_sec = time(NULL) - 7200;
    old[0].tv_nsec = old[1].tv_nsec = 0;
    assert_int_equal(utimensat(AT_FDCWD, path_of(tmp1), old, 0), 0);
    assert_int_equal(tw_farch_cleanup(tmp_dir, 3600, &err), 1);
    assert_false(exists(path_of(tmp1)));
    /* A writer opening the archive removes stale ones too. */
    write_bytes(path_of(tmp1), "x", 1);
    assert_int_equal(utimensat(AT_FDCWD, path_of(tmp1), old, 0), 0);
    wclose(wopen(tmp_dir, 0));
    assert_false(exists(path_of(tmp1)));
    /* age 0: every temporary file. */
    write_bytes(path_of(tmp1), "x", 1);
    assert_int_equal(tw_farch_cleanup(tmp_dir, 0, &err), 1);
    assert_int_equal(tw_farch_cleanup(path_of("missing"), 0, &err), TW_ENOTFOUND);
}

/* ==== Allocation failures ==== */

static void archive_allocation_failures(void **state)
{
    struct tw_farch_file *files;
    uint8_t *data;
    size_t len, n;
    long k;
    bool done = false;

    (void)state;
    write_gen(tmp_dir, T0, 0, 300);
    assert_int_equal(list(tmp_dir, INT64_MIN, INT64_MAX, &files), 1);
    data = slurp(files[0].path, &len);
    for (k = 0; !done; k++) {
        struct tw_farch_reader *r = NULL;
        struct tw_farch_block b;
        struct tw_err err;
        int rc;

        tw_alloc_fail_after(k);
        rc = tw_farch_reader_open_mem(data, len, "x.twf", &r, &err);
        if (rc == TW_OK)
            rc = tw_farch_read_block(r, 0, TW_FARCH_COL_ALL, &b, &err);
        tw_alloc_fail_reset();
        assert_true(rc == TW_OK || rc == TW_ENOMEM);
        done = rc == TW_OK;
        if (done)
            assert_int_equal(b.n, 300);
        tw_farch_reader_close(r);
    }
    assert_true(k > 3);
    tw_free(data);
    tw_farch_files_free(files, 1);

    /* The writer: each failure is reported, and no temporary file stays behind. */
    for (k = 0, done = false; !done; k++) {
        struct tw_farch_writer *w = NULL;
        struct tw_flowrec r;
        struct tw_err err;
        int rc;

        tw_alloc_fail_after(k);
        rc = tw_farch_writer_open(path_of("w"), NULL, &w, &err);
        for (uint64_t i = 0; rc == TW_OK && i < 5; i++) {
            gen(i, &r);
            rc = tw_farch_writer_add(w, T0 + (int64_t)i * IV_MS, &r, &err);
        }
        if (rc == TW_OK)
            rc = tw_farch_writer_close(w, false, &err);
        else
            (void)tw_farch_writer_close(w, true, &err);
        tw_alloc_fail_reset();
        assert_true(rc == TW_OK || rc == TW_ENOMEM);
        assert_int_equal(tw_farch_cleanup(path_of("w"), 0, &err), 0);
        done = rc == TW_OK;
    }
    assert_true(k > 10);
    /* Only the successful run's five files are whole (failed runs may have completed some). */
    n = list(path_of("w"), INT64_MIN, INT64_MAX, &files);
    assert_true(n >= 5);
    tw_farch_files_free(files, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(archive_round_trip_every_field, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(archive_blocks_of_65536_and_65537, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(archive_partitions_out_of_order, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(archive_tick_and_visibility, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(archive_seq_and_bad_input, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(archive_list_windows, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(archive_damaged_files, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(archive_v6_arrays_cleared, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(archive_killed_writer_and_cleanup, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(archive_allocation_failures, setup_dir, teardown_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
