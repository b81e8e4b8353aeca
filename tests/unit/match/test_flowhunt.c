/*
 * test_flowhunt.c: the archive hunt, over archives written by the archive
 * writer into a temporary directory and an index built from a small STIX
 * bundle: exact IPv4 and IPv6 addresses, an IPv4-mapped record, a CIDR, a
 * pattern that also asks for a destination port, one that asks for a
 * protocol, a port-only indicator and a revoked one. Checks the exact hits
 * in archive order across files and blocks, the same hits in the same order
 * on one and on two threads, the time window, the extra filter, a callback
 * that stops the hunt, and damaged files and blocks counted and skipped
 * while the rest is hunted.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>

#include "tidewatch/alloc.h"
#include "tidewatch/flowarch.h"
#include "tidewatch/flowhunt.h"
#include "tidewatch/index.h"
#include "tw_test.h"

/* 2025-03-01T00:00:00Z in ms; partitions are five minutes. */
#define T0  INT64_C(1740787200000)
#define MIN INT64_C(60000)

/* Indicator numbers, in bundle order. */
enum {
    I_V4 = 0, /* 198.51.100.9 */
    I_V6,     /* 2001:db8::66 */
    I_CIDR,   /* 203.0.113.0/24 */
    I_SSH,    /* destination 192.0.2.66 port 22 */
    I_REVOKED,
    I_PORT, /* destination port 4786 */
    I_UDP,  /* source 10.9.9.9 over UDP */
};

static const char bundle[] =
        "{\"type\":\"bundle\",\"id\":\"bundle--6ba7b810-9dad-41d1-80b4-00c04fd430c8\",\"objects\":["
#define IND(n, name, pattern, extra)                                                               \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-0000-4000-"     \
    "8000-00000000000" #n "\",\"created\":\"2025-01-01T00:00:00.000Z\",\"modified\":\"2025-01-"    \
    "01T00:00:00.000Z\",\"name\":\"" name "\",\"pattern\":\"" pattern                              \
    "\",\"pattern_type\":\"stix\",\"valid_from\":\"2025-01-01T00:00:00Z\"" extra "}"
        IND(0, "v4", "[ipv4-addr:value = '198.51.100.9']", "") "," IND(
                1, "v6", "[ipv6-addr:value = '2001:db8::66']", "") "," IND(2, "cidr",
                "[ipv4-addr:value ISSUBSET '203.0.113.0/24']", "") "," IND(3, "ssh",
                "[network-traffic:dst_ref.value = '192.0.2.66' AND network-traffic:dst_port = 22]",
                "") "," IND(4, "revoked", "[ipv4-addr:value = '198.51.100.77']",
                ",\"revoked\":true") "," IND(5, "smart install",
                "[network-traffic:dst_port = 4786]", "") "," IND(6, "udp",
                "[network-traffic:src_ref.value = '10.9.9.9' AND network-traffic:protocols[*] = "
                "'udp']",
                "") "]}";

/* ==== Helpers ==== */

/*
 * The bundle's index. With keep_source the hunt can list the index's
 * addresses and runs its prefilter; without, every address goes to the index.
 */
static struct tw_index *load_index(bool keep_source)
{
    json_error_t je;
    json_t *doc = json_loads(bundle, 0, &je), *o;
    struct tw_index *idx = tw_index_new(64);
    size_t i;

    assert_non_null(doc);
    assert_non_null(idx);
    if (keep_source)
        tw_index_keep_source(idx);
    json_array_foreach(json_object_get(doc, "objects"), i, o)
    {
        struct tw_err err;
        tw_err_clear(&err);
        if (tw_index_add(idx, o, 0, &err) != TW_OK)
            fail_msg("indicator %zu: %s", i, err.msg);
    }
    json_decref(doc);
    assert_int_equal(tw_index_build(idx), TW_OK);
    assert_int_equal(tw_index_count(idx), 7);
    return idx;
}

static struct tw_ip ip(const char *text)
{
    struct tw_ip a;

    assert_int_equal(tw_ip_parse(tw_str_cstr(text), &a, NULL), TW_OK);
    return a;
}

/* A record at minute `at` after T0 lasting 2 s. */
static struct tw_flowrec rec(int64_t at_ms, const char *src, uint16_t sport, const char *dst,
        uint16_t dport, uint8_t proto)
{
    struct tw_flowrec r;

    memset(&r, 0, sizeof(r));
    r.first_ms = T0 + at_ms;
    r.last_ms = r.first_ms + 2000;
    r.src = ip(src);
    r.dst = ip(dst);
    r.sport = sport;
    r.dport = dport;
    r.proto = proto;
    r.packets = 3;
    r.bytes = 180;
    r.exporter = ip("192.0.2.250");
    r.in_if = 1;
    r.out_if = 2;
    r.source = TW_FLOWREC_NFV9;
    return r;
}

/* Background traffic that no indicator names: 10.0/14 -> 172.16/16, ports 443 and 53. */
static struct tw_flowrec background(size_t i, int64_t at_ms)
{
    struct tw_flowrec r = rec(at_ms, "10.0.0.1", 0, "172.16.0.1", 0, (uint8_t)(i % 2 ? 17 : 6));

    tw_ip_from_v4(&r.src, 0x0a000000u | (uint32_t)(i & 0x3ffff));
    tw_ip_from_v4(&r.dst, 0xac100000u | (uint32_t)((i * 7) & 0xffff));
    r.sport = (uint16_t)(20000 + i % 20000);
    r.dport = (uint16_t)(i % 2 ? 53 : 443);
    return r;
}

static void write_archive(const char *dir, const struct tw_flowrec *r, size_t n)
{
    struct tw_farch_writer *w = NULL;
    struct tw_err err;

    tw_err_clear(&err);
    assert_int_equal(tw_farch_writer_open(dir, NULL, &w, &err), TW_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(tw_farch_writer_add(w, r[i].last_ms, &r[i], &err), TW_OK);
    assert_int_equal(tw_farch_writer_close(w, false, &err), TW_OK);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_tree(const char *dir)
{
    assert_int_equal(nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* What the callback saw. */
struct seen_hit {
    struct tw_flowrec rec;
    uint32_t indicator;
    int side;
    char file[256];
};

struct seen {
    struct seen_hit *h;
    size_t n, cap;
    size_t stop_after; /* return 7 after this many hits; 0 = never */
};

static int on_hit(const struct tw_flowhunt_hit *hit, void *arg)
{
    struct seen *s = arg;

    assert_true(s->n < s->cap);
    s->h[s->n].rec = *hit->rec;
    s->h[s->n].indicator = hit->indicator;
    s->h[s->n].side = (int)hit->side;
    assert_true(strlen(hit->file) < sizeof(s->h[s->n].file));
    memcpy(s->h[s->n].file, hit->file, strlen(hit->file) + 1);
    s->n++;
    return s->stop_after != 0 && s->n >= s->stop_after ? 7 : 0;
}

static void seen_init(struct seen *s, size_t cap)
{
    memset(s, 0, sizeof(*s));
    s->h = tw_calloc(cap, sizeof(*s->h));
    assert_non_null(s->h);
    s->cap = cap;
}

/* The expected hit k: indicator, side, source address text, destination port. */
struct want {
    uint32_t indicator;
    int side;
    const char *src;
    uint16_t dport;
};

static void check_hits(const struct seen *s, const struct want *w, size_t n)
{
    assert_int_equal(s->n, n);
    for (size_t k = 0; k < n; k++) {
        struct tw_ip a = ip(w[k].src);
        print_message("hit %zu: indicator %u side %d port %u\n", k, s->h[k].indicator, s->h[k].side,
                s->h[k].rec.dport);
        assert_int_equal(s->h[k].indicator, w[k].indicator);
        assert_int_equal(s->h[k].side, w[k].side);
        assert_memory_equal(&s->h[k].rec.src, &a, sizeof(a));
        assert_int_equal(s->h[k].rec.dport, w[k].dport);
    }
}

/* ==== The main archive ==== */

/*
 * Three files: minutes 0-5 with 150,000 records (three blocks) and hits in
 * each block, minutes 5-10 with the port and protocol cases, minutes 15-20
 * with a CIDR on both sides and an IPv4-mapped record.
 */
#define BIG 150000

struct fixture {
    char dir[64];
    struct tw_index *idx;  /* without its source: no prefilter */
    struct tw_index *idx2; /* with it: the prefilter */
};

static int setup(void **state)
{
    struct fixture *fx = tw_calloc(1, sizeof(*fx));
    size_t n = BIG + 16, k = 0;
    struct tw_flowrec *r = tw_calloc(n, sizeof(*r));

    assert_non_null(fx);
    assert_non_null(r);
    memcpy(fx->dir, "/tmp/tw-flowhunt-XXXXXX", 24);
    assert_non_null(mkdtemp(fx->dir));
    for (size_t i = 0; i < BIG; i++)
        r[k++] = background(i, (int64_t)(i % 240) * 1000);
    r[10] = rec(MIN, "10.1.1.1", 40000, "198.51.100.9", 443, 6);
    r[70000] = rec(2 * MIN, "198.51.100.9", 5353, "203.0.113.5", 53, 17);
    r[140000] = rec(3 * MIN, "2001:db8::66", 40001, "2001:db8::1", 443, 6);
    /* Minutes 5-10. */
    r[k++] = rec(6 * MIN, "10.5.5.5", 50000, "192.0.2.66", 22, 6);  /* ssh: hit */
    r[k++] = rec(6 * MIN, "10.5.5.5", 50000, "192.0.2.66", 23, 6);  /* wrong port */
    r[k++] = rec(6 * MIN, "192.0.2.66", 22, "10.5.5.5", 50000, 6);  /* wrong direction */
    r[k++] = rec(6 * MIN, "198.51.100.77", 1, "10.0.0.1", 2, 6);    /* revoked */
    r[k++] = rec(7 * MIN, "10.0.0.1", 1234, "172.16.0.1", 4786, 6); /* port: hit */
    r[k++] = rec(7 * MIN, "10.0.0.1", 4786, "172.16.0.1", 1234, 6); /* source port only */
    r[k++] = rec(8 * MIN, "10.9.9.9", 5353, "172.16.0.2", 53, 17);  /* udp: hit */
    r[k++] = rec(8 * MIN, "10.9.9.9", 5353, "172.16.0.2", 53, 6);   /* tcp */
    /* Minutes 15-20. */
    r[k++] = rec(16 * MIN, "203.0.113.200", 1, "203.0.113.201", 2, 6);         /* both sides */
    r[k++] = rec(17 * MIN, "::ffff:198.51.100.9", 3, "::ffff:10.0.0.9", 4, 6); /* mapped */
    write_archive(fx->dir, r, k);
    tw_free(r);
    fx->idx = load_index(false);
    fx->idx2 = load_index(true);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;

    rm_tree(fx->dir);
    tw_index_free(fx->idx);
    tw_index_free(fx->idx2);
    tw_free(fx);
    return 0;
}

static const struct want all_hits[] = {
    { I_V4, TW_FLOWHUNT_DST, "10.1.1.1", 443 },
    { I_V4, TW_FLOWHUNT_SRC, "198.51.100.9", 53 },
    { I_CIDR, TW_FLOWHUNT_DST, "198.51.100.9", 53 },
    { I_V6, TW_FLOWHUNT_SRC, "2001:db8::66", 443 },
    { I_SSH, TW_FLOWHUNT_DST, "10.5.5.5", 22 },
    { I_PORT, TW_FLOWHUNT_DST, "10.0.0.1", 4786 },
    { I_UDP, TW_FLOWHUNT_SRC, "10.9.9.9", 53 },
    { I_CIDR, TW_FLOWHUNT_SRC | TW_FLOWHUNT_DST, "203.0.113.200", 2 },
    { I_V4, TW_FLOWHUNT_SRC, "::ffff:198.51.100.9", 4 },
};

static void run(struct fixture *fx, struct tw_flowhunt_config *cfg, struct seen *s,
        struct tw_flowhunt_stats *st, int want_rc)
{
    struct tw_err err;

    tw_err_clear(&err);
    assert_int_equal(tw_flowhunt_run(cfg, fx->dir, on_hit, s, st, &err), want_rc);
}

static void flowhunt_finds_every_kind_in_archive_order(void **state)
{
    struct fixture *fx = *state;
    struct tw_flowhunt_config cfg;
    struct tw_flowhunt_stats st;
    struct seen s;

    seen_init(&s, 64);
    tw_flowhunt_config_init(&cfg, fx->idx);
    cfg.threads = 1;
    run(fx, &cfg, &s, &st, TW_OK);
    check_hits(&s, all_hits, TW_ARRAY_LEN(all_hits));
    /* The records are whole: counters, interfaces and the exporter came along. */
    assert_int_equal(s.h[0].rec.first_ms, T0 + MIN);
    assert_int_equal(s.h[0].rec.last_ms, T0 + MIN + 2000);
    assert_int_equal(s.h[0].rec.packets, 3);
    assert_int_equal(s.h[0].rec.bytes, 180);
    assert_int_equal(s.h[0].rec.in_if, 1);
    assert_int_equal(s.h[0].rec.out_if, 2);
    assert_int_equal(s.h[0].rec.sport, 40000);
    assert_int_equal(s.h[0].rec.proto, 6);
    assert_int_equal(s.h[0].rec.source, TW_FLOWREC_NFV9);
    assert_int_equal(tw_ip_v4(&s.h[0].rec.exporter), 0xc00002fau);
    assert_non_null(strstr(s.h[0].file, "/2025/03/01/flows-202503010000-"));
    assert_non_null(strstr(s.h[4].file, "/2025/03/01/flows-202503010005-"));
    assert_non_null(strstr(s.h[8].file, "/2025/03/01/flows-202503010015-"));
    assert_int_equal(st.files, 3);
    assert_int_equal(st.files_skipped, 0);
    assert_int_equal(st.files_bad, 0);
    assert_int_equal(st.blocks, 5);
    assert_int_equal(st.blocks_skipped, 0);
    assert_int_equal(st.blocks_bad, 0);
    assert_int_equal(st.records, BIG + 10);
    assert_int_equal(st.hits, TW_ARRAY_LEN(all_hits));
    tw_free(s.h);
}

static void flowhunt_two_threads_give_the_same_hits_in_order(void **state)
{
    struct fixture *fx = *state;
    struct tw_flowhunt_config cfg;
    struct tw_flowhunt_stats st1, st2;
    struct seen one, two;

    seen_init(&one, 64);
    seen_init(&two, 64);
    tw_flowhunt_config_init(&cfg, fx->idx);
    cfg.threads = 1;
    run(fx, &cfg, &one, &st1, TW_OK);
    for (int round = 0; round < 5; round++) {
        two.n = 0;
        cfg.threads = 2;
        run(fx, &cfg, &two, &st2, TW_OK);
        assert_int_equal(two.n, one.n);
        assert_memory_equal(two.h, one.h, one.n * sizeof(*one.h));
        assert_memory_equal(&st2, &st1, sizeof(st1));
    }
    /* Eight threads for five blocks: idle workers change nothing. */
    two.n = 0;
    cfg.threads = 8;
    run(fx, &cfg, &two, &st2, TW_OK);
    assert_memory_equal(two.h, one.h, one.n * sizeof(*one.h));
    tw_free(one.h);
    tw_free(two.h);
}

/*
 * The prefilter (an index that kept its source) finds the same hits: blocks
 * far from the CIDR take the filtered path, the block with the CIDR's
 * address the full one, and IPv6, mapped and port indicators pass it.
 */
static void flowhunt_prefilter_gives_the_same_hits(void **state)
{
    struct fixture *fx = *state;
    struct tw_flowhunt_config cfg;
    struct tw_flowhunt_stats st;
    struct seen s;

    seen_init(&s, 64);
    for (unsigned threads = 1; threads <= 2; threads++) {
        s.n = 0;
        tw_flowhunt_config_init(&cfg, fx->idx2);
        cfg.threads = threads;
        run(fx, &cfg, &s, &st, TW_OK);
        check_hits(&s, all_hits, TW_ARRAY_LEN(all_hits));
        assert_int_equal(st.records, BIG + 10);
    }
    /* A window that cuts blocks: the filtered path checks times too. */
    s.n = 0;
    cfg.from_ms = T0 + MIN + 2001;
    cfg.to_ms = T0 + 2 * MIN + 1;
    run(fx, &cfg, &s, &st, TW_OK);
    check_hits(&s, all_hits + 1, 2);
    tw_free(s.h);
}

/* Only the columns asked for are read for the hits (the addresses always). */
static void flowhunt_reads_the_columns_asked_for(void **state)
{
    struct fixture *fx = *state;
    struct tw_flowhunt_config cfg;
    struct tw_flowhunt_stats st;
    struct seen s;

    seen_init(&s, 64);
    tw_flowhunt_config_init(&cfg, fx->idx2);
    cfg.cols = TW_FARCH_COL_COUNTERS;
    run(fx, &cfg, &s, &st, TW_OK);
    assert_int_equal(s.n, TW_ARRAY_LEN(all_hits));
    assert_int_equal(s.h[0].rec.packets, 3);
    assert_int_equal(s.h[0].rec.bytes, 180);
    assert_int_equal(s.h[0].rec.in_if, 0);
    assert_int_equal(s.h[0].rec.exporter.family, 0);
    assert_int_equal(s.h[0].rec.proto, 0);
    assert_int_equal(s.h[0].rec.first_ms, 0);
    /* A verified pattern needed the ports and times: they came along. */
    assert_int_equal(s.h[4].indicator, I_SSH);
    assert_int_equal(s.h[4].rec.dport, 22);
    assert_int_equal(s.h[4].rec.first_ms, T0 + 6 * MIN);
    tw_free(s.h);
}

static void flowhunt_time_window(void **state)
{
    struct fixture *fx = *state;
    struct tw_flowhunt_config cfg;
    struct tw_flowhunt_stats st;
    struct seen s;

    seen_init(&s, 64);
    tw_flowhunt_config_init(&cfg, fx->idx);
    /* Minutes 2..7: the block-two and block-three hits of the first file, the
     * ssh hit; the port hit starts at minute 7, which the window excludes. */
    cfg.from_ms = T0 + 2 * MIN;
    cfg.to_ms = T0 + 7 * MIN;
    run(fx, &cfg, &s, &st, TW_OK);
    check_hits(&s, all_hits + 1, 4);
    /* The last file lies wholly after the window: skipped by its summary. */
    assert_int_equal(st.files, 3);
    assert_int_equal(st.files_skipped, 1);
    /* The record ending at minute 1 + 2 s is outside; one starting at 7 too. */
    s.n = 0;
    cfg.from_ms = T0 + MIN + 2001;
    cfg.to_ms = T0 + 2 * MIN + 1;
    run(fx, &cfg, &s, &st, TW_OK);
    check_hits(&s, all_hits + 1, 2);
    s.n = 0;
    cfg.from_ms = T0 + 30 * MIN;
    cfg.to_ms = INT64_MAX;
    run(fx, &cfg, &s, &st, TW_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(st.records, 0);
    tw_free(s.h);
}

static void flowhunt_filter_and_stop(void **state)
{
    struct fixture *fx = *state;
    struct tw_flowhunt_config cfg;
    struct tw_flowhunt_stats st;
    struct tw_flowfilter *f = NULL;
    struct seen s;

    seen_init(&s, 64);
    assert_int_equal(tw_flowfilter_parse("proto udp or dst port 22", &f, NULL), TW_OK);
    tw_flowhunt_config_init(&cfg, fx->idx);
    cfg.filter = f;
    cfg.threads = 2;
    run(fx, &cfg, &s, &st, TW_OK);
    {
        const struct want want[] = { all_hits[1], all_hits[2], all_hits[4], all_hits[6] };
        check_hits(&s, want, TW_ARRAY_LEN(want));
    }
    tw_flowfilter_free(f);
    /* A filter no block can match skips every block by its summary. */
    assert_int_equal(tw_flowfilter_parse("proto 47", &f, NULL), TW_OK);
    cfg.filter = f;
    s.n = 0;
    run(fx, &cfg, &s, &st, TW_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(st.files_skipped, 3);
    assert_int_equal(st.records, 0);
    tw_flowfilter_free(f);
    /* The callback's nonzero answer stops the hunt and is returned. */
    cfg.filter = NULL;
    s.n = 0;
    s.stop_after = 3;
    run(fx, &cfg, &s, &st, 7);
    check_hits(&s, all_hits, 3);
    assert_int_equal(st.hits, 3);
    tw_free(s.h);
}

static void flowhunt_rejects_bad_arguments(void **state)
{
    struct fixture *fx = *state;
    struct tw_flowhunt_config cfg;
    struct tw_flowhunt_stats st;
    struct tw_err err;

    tw_flowhunt_config_init(&cfg, fx->idx);
    cfg.from_ms = T0;
    cfg.to_ms = T0;
    tw_err_clear(&err);
    assert_int_equal(tw_flowhunt_run(&cfg, fx->dir, on_hit, NULL, &st, &err), TW_EINVAL);
    assert_non_null(strstr(err.msg, "window is empty"));
    tw_flowhunt_config_init(&cfg, NULL);
    assert_int_equal(tw_flowhunt_run(&cfg, fx->dir, on_hit, NULL, &st, &err), TW_EINVAL);
}

/* ==== Damaged files ==== */

static void flip_byte(const char *path, long off_from, long off)
{
    int fd = open(path, O_RDWR);
    off_t at;
    uint8_t b;

    assert_true(fd >= 0);
    at = off_from < 0 ? lseek(fd, 0, SEEK_END) + off : off;
    assert_int_equal(pread(fd, &b, 1, at), 1);
    b ^= 0x5a;
    assert_int_equal(pwrite(fd, &b, 1, at), 1);
    assert_int_equal(close(fd), 0);
}

static void flowhunt_skips_and_counts_damaged_files_and_blocks(void **state)
{
    char dir[64];
    struct tw_flowrec r[4];
    struct tw_farch_file *files = NULL;
    struct tw_flowhunt_config cfg;
    struct tw_flowhunt_stats st;
    struct tw_err err;
    struct seen s;
    size_t n = 0;

    (void)state;
    memcpy(dir, "/tmp/tw-flowhunt-XXXXXX", 24);
    assert_non_null(mkdtemp(dir));
    r[0] = rec(0, "10.1.1.1", 40000, "198.51.100.9", 443, 6);
    r[1] = rec(6 * MIN, "10.1.1.2", 40000, "198.51.100.9", 443, 6);
    r[2] = rec(11 * MIN, "10.1.1.3", 40000, "198.51.100.9", 443, 6);
    r[3] = rec(16 * MIN, "10.1.1.4", 40000, "198.51.100.9", 443, 6);
    write_archive(dir, r, 4);
    assert_int_equal(tw_farch_list(dir, INT64_MIN, INT64_MAX, &files, &n, &err), TW_OK);
    assert_int_equal(n, 4);
    /* The second file's block header (its record count), the third's footer magic. */
    flip_byte(files[1].path, 0, 64 + 5);
    flip_byte(files[2].path, -1, -1);
    tw_farch_files_free(files, n);
    seen_init(&s, 8);
    tw_flowhunt_config_init(&cfg, ((struct fixture *)*state)->idx);
    cfg.threads = 2;
    tw_err_clear(&err);
    assert_int_equal(tw_flowhunt_run(&cfg, dir, on_hit, &s, &st, &err), TW_OK);
    {
        static const struct want want[] = { { I_V4, TW_FLOWHUNT_DST, "10.1.1.1", 443 },
            { I_V4, TW_FLOWHUNT_DST, "10.1.1.4", 443 } };
        check_hits(&s, want, TW_ARRAY_LEN(want));
    }
    assert_int_equal(st.files, 4);
    assert_int_equal(st.files_bad, 1);
    assert_int_equal(st.blocks_bad, 1);
    assert_int_equal(st.blocks, 2);
    assert_int_equal(st.records, 2);
    tw_free(s.h);
    rm_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flowhunt_finds_every_kind_in_archive_order),
        cmocka_unit_test(flowhunt_two_threads_give_the_same_hits_in_order),
        cmocka_unit_test(flowhunt_prefilter_gives_the_same_hits),
        cmocka_unit_test(flowhunt_reads_the_columns_asked_for),
        cmocka_unit_test(flowhunt_time_window),
        cmocka_unit_test(flowhunt_filter_and_stop),
        cmocka_unit_test(flowhunt_rejects_bad_arguments),
        cmocka_unit_test(flowhunt_skips_and_counts_damaged_files_and_blocks),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
