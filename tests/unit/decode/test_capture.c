/*
 * test_capture.c: the capture reader (capture.h) against hand-built pcap and
 * pcapng files and against libpcap, which reads every capture a second time
 * (pcap_next_ex at nanosecond precision) as the oracle: same packet count,
 * lengths, link types, timestamps and bytes. Each capture is read three
 * ways: default 1 MiB read()s, mmap, and 7-byte read()s, so that records
 * straddle every refill.
 */
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <glob.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tidewatch/alloc.h"
#include "tidewatch/buf.h"
#include "tidewatch/capture.h"
#include "tidewatch/err.h"
#include "tw_test.h"

/* ==== Writing captures ==== */

static char tmp_dir[512];

static void put16(struct tw_buf *b, uint16_t v, int be)
{
    uint8_t x[2] = { (uint8_t)(be ? v >> 8 : v), (uint8_t)(be ? v : v >> 8) };

    assert_int_equal(tw_buf_append(b, x, 2), TW_OK);
}

static void put32(struct tw_buf *b, uint32_t v, int be)
{
    put16(b, (uint16_t)(be ? v >> 16 : v), be);
    put16(b, (uint16_t)(be ? v : v >> 16), be);
}

static void put64(struct tw_buf *b, uint64_t v, int be)
{
    put32(b, (uint32_t)(be ? v >> 32 : v), be);
    put32(b, (uint32_t)(be ? v : v >> 32), be);
}

static void put_bytes(struct tw_buf *b, const void *p, size_t n)
{
    assert_int_equal(tw_buf_append(b, p, n), TW_OK);
}

/* Deterministic packet bytes: byte i of packet k is (k * 31 + i) & 0xff. */
static void put_payload(struct tw_buf *b, uint32_t k, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(tw_buf_putc(b, (char)(uint8_t)(k * 31u + i)), TW_OK);
}

static void pcap_hdr(struct tw_buf *b, int be, int ns, uint32_t linktype)
{
    put32(b, ns ? 0xA1B23C4Du : 0xA1B2C3D4u, be);
    put16(b, 2, be);
    put16(b, 4, be);
    put32(b, 0, be);
    put32(b, 0, be);
    put32(b, 65535, be);
    put32(b, linktype, be);
}

static void pcap_rec(struct tw_buf *b, int be, uint32_t sec, uint32_t frac, uint32_t caplen,
        uint32_t wirelen, uint32_t k)
{
    put32(b, sec, be);
    put32(b, frac, be);
    put32(b, caplen, be);
    put32(b, wirelen, be);
    put_payload(b, k, caplen);
}

/* pcapng Section Header Block with no options. */
static void ng_shb(struct tw_buf *b, int be)
{
    put32(b, 0x0A0D0D0Au, be);
    put32(b, 28, be);
    put32(b, 0x1A2B3C4Du, be);
    put16(b, 1, be);
    put16(b, 0, be);
    put64(b, UINT64_MAX, be);
    put32(b, 28, be);
}

/* Interface Description Block; tsresol < 0 leaves the option out, tsoff too when 0. */
static void ng_idb(
        struct tw_buf *b, int be, uint16_t linktype, uint32_t snaplen, int tsresol, int64_t tsoff)
{
    uint32_t len = 20 + (tsresol >= 0 ? 8 : 0) + (tsoff != 0 ? 12 : 0) + 4;

    put32(b, 1, be);
    put32(b, len, be);
    put16(b, linktype, be);
    put16(b, 0, be);
    put32(b, snaplen, be);
    if (tsresol >= 0) {
        uint8_t v[4] = { (uint8_t)tsresol, 0, 0, 0 };

        put16(b, 9, be);
        put16(b, 1, be);
        put_bytes(b, v, 4);
    }
    if (tsoff != 0) {
        put16(b, 14, be);
        put16(b, 8, be);
        put64(b, (uint64_t)tsoff, be);
    }
    put16(b, 0, be); /* opt_endofopt */
    put16(b, 0, be);
    put32(b, len, be);
}

static void ng_epb(struct tw_buf *b, int be, uint32_t iface, uint64_t ts, uint32_t caplen,
        uint32_t wirelen, uint32_t k)
{
    uint32_t pad = (4 - caplen % 4) % 4, len = 32 + caplen + pad;
    static const uint8_t zero[4];

    put32(b, 6, be);
    put32(b, len, be);
    put32(b, iface, be);
    put32(b, (uint32_t)(ts >> 32), be);
    put32(b, (uint32_t)ts, be);
    put32(b, caplen, be);
    put32(b, wirelen, be);
    put_payload(b, k, caplen);
    put_bytes(b, zero, pad);
    put32(b, len, be);
}

static void ng_spb(struct tw_buf *b, int be, uint32_t wirelen, uint32_t datalen, uint32_t k)
{
    uint32_t pad = (4 - datalen % 4) % 4, len = 16 + datalen + pad;
    static const uint8_t zero[4];

    put32(b, 3, be);
    put32(b, len, be);
    put32(b, wirelen, be);
    put_payload(b, k, datalen);
    put_bytes(b, zero, pad);
    put32(b, len, be);
}

/* A block of a type the reader does not know (a custom block), 8 body bytes. */
static void ng_unknown(struct tw_buf *b, int be)
{
    put32(b, 0x00000BADu, be);
    put32(b, 20, be);
    put64(b, 0x0102030405060708ull, be);
    put32(b, 20, be);
}

/* Writes b to tmp_dir/name and returns the path (static buffer per call site: copy it). */
static const char *save(const char *name, const struct tw_buf *b)
{
    static char path[1024];
    int fd;

    assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", tmp_dir, name) < sizeof(path));
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b->ptr, b->len), (ssize_t)b->len);
    assert_int_equal(close(fd), 0);
    return path;
}

static int setup_dir(void **state)
{
    const char *t = getenv("TMPDIR");

    (void)state;
    (void)snprintf(tmp_dir, sizeof(tmp_dir), "%s/tw_capture_XXXXXX", t != NULL ? t : "/tmp");
    return mkdtemp(tmp_dir) != NULL ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[600];

    (void)state;
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ==== Cross-check against libpcap ==== */

/* libpcap reports DLT values; LINKTYPE_RAW (101) is DLT_RAW (12 or 14) there. */
static uint32_t dlt_to_linktype(int dlt)
{
    return dlt == DLT_RAW ? 101u : (uint32_t)dlt;
}

/* Reads path with our reader (options o) and with libpcap; asserts they agree. Returns packets. */
static uint64_t crosscheck_opts(const char *path, const struct tw_capture_opts *o)
{
    char ebuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    struct tw_capture *c = NULL;
    struct tw_err err;
    struct tw_packet p;
    struct pcap_pkthdr *h;
    const u_char *d;
    uint64_t n = 0;
    int rc;

    if (pc == NULL)
        fail_msg("libpcap cannot open %s: %s", path, ebuf);
    assert_int_equal(tw_capture_open_opts(&c, &path, 1, o, &err), TW_OK);
    while ((rc = pcap_next_ex(pc, &h, &d)) == 1) {
        int r = tw_capture_next(c, &p, &err);

        if (r != 1)
            fail_msg("%s: ours stopped at packet %llu (%d: %s)", path, (unsigned long long)n + 1, r,
                    err.msg);
        n++;
        assert_int_equal(p.num, n);
        assert_int_equal(p.caplen, h->caplen);
        assert_int_equal(p.wirelen, h->len);
        assert_int_equal(p.linktype, dlt_to_linktype(pcap_datalink(pc)));
        assert_int_equal(p.ts_ns, (int64_t)h->ts.tv_sec * 1000000000LL + h->ts.tv_usec);
        assert_memory_equal(p.data, d, h->caplen);
    }
    if (rc != PCAP_ERROR_BREAK)
        fail_msg("libpcap failed on %s: %s", path, pcap_geterr(pc));
    assert_int_equal(tw_capture_next(c, &p, &err), 0);
    tw_capture_close(c);
    pcap_close(pc);
    return n;
}

/*
 * Five ways: default read()s, mapped, 7-byte reads, and read ahead on a
 * helper thread in 7-byte and 4 KiB chunks. All must agree with libpcap.
 */
static uint64_t crosscheck(const char *path)
{
    struct tw_capture_opts stream = { 0, TW_CAPTURE_IO_READ, 7 };
    struct tw_capture_opts mapped = { 0, TW_CAPTURE_IO_MMAP, 0 };
    struct tw_capture_opts ahead7 = { 0, TW_CAPTURE_IO_THREAD, 7 };
    struct tw_capture_opts ahead = { 0, TW_CAPTURE_IO_THREAD, 4096 };
    uint64_t n = crosscheck_opts(path, NULL);

    assert_int_equal(crosscheck_opts(path, &stream), n);
    assert_int_equal(crosscheck_opts(path, &mapped), n);
    assert_int_equal(crosscheck_opts(path, &ahead7), n);
    assert_int_equal(crosscheck_opts(path, &ahead), n);
    return n;
}

/* ==== Tests ==== */

static void capture_pcap_four_magics_match_libpcap(void **state)
{
    static const char *names[] = { "us_le.pcap", "us_be.pcap", "ns_le.pcap", "ns_be.pcap" };

    (void)state;
    for (int v = 0; v < 4; v++) {
        int be = v & 1, ns = v >> 1;
        struct tw_buf b;
        struct tw_capture *c = NULL;
        struct tw_packet p;
        char path[1024];

        tw_buf_init(&b, 1 << 20);
        pcap_hdr(&b, be, ns, 1);
        pcap_rec(&b, be, 1700000000, ns ? 123456789 : 123456, 60, 60, 1);
        pcap_rec(&b, be, 1700000001, 7, 0, 1514, 2);    /* nothing captured */
        pcap_rec(&b, be, 1700000002, 1, 1514, 9000, 3); /* snapped */
        pcap_rec(&b, be, 2147483647u, 999, 33, 33, 4);  /* last second of int32 */
        snprintf(path, sizeof(path), "%s", save(names[v], &b));
        tw_buf_cleanup(&b);
        assert_int_equal(crosscheck(path), 4);
        {
            const char *pp = path;

            assert_int_equal(tw_capture_open(&c, &pp, 1, NULL), TW_OK);
        }
        assert_int_equal(tw_capture_next(c, &p, NULL), 1);
        assert_int_equal(p.ts_ns, 1700000000LL * 1000000000LL + (ns ? 123456789 : 123456000));
        assert_int_equal(p.linktype, TW_LINK_ETHERNET);
        assert_int_equal(tw_capture_next(c, &p, NULL), 1);
        assert_int_equal(tw_capture_next(c, &p, NULL), 1);
        assert_int_equal(p.caplen, 1514);
        assert_int_equal(p.wirelen, 9000);
        assert_int_equal(tw_capture_next(c, &p, NULL), 1);
        assert_int_equal(p.ts_ns, 2147483647LL * 1000000000LL + (ns ? 999 : 999000));
        tw_capture_close(c);
    }
}

/* Two sections (little then big endian), two interfaces each with different resolutions. */
/*
 * Two sections (byte orders be1 then be2), each with two interfaces of
 * different resolutions, an unknown block and a Simple Packet Block.
 */
static void build_two_sections(struct tw_buf *b, int be1, int be2)
{
    ng_shb(b, be1);
    ng_idb(b, be1, 1, 128, -1, 0); /* microseconds (default) */
    ng_unknown(b, be1);            /* skipped */
    ng_idb(b, be1, 1, 128, 9, 0);  /* nanoseconds */
    ng_epb(b, be1, 0, 1700000000123456ull, 61, 61, 1);
    ng_epb(b, be1, 1, 1700000000123456789ull, 62, 100, 2);
    ng_spb(b, be1, 300, 128, 5); /* IDB 0 snaplen 128 */
    ng_shb(b, be2);
    ng_idb(b, be2, 1, 128, 0x80 | 20, 0);                             /* 2^-20 s */
    ng_idb(b, be2, 1, 128, 3, 1000);                                  /* ms, +1000 s */
    ng_epb(b, be2, 0, (1700000000ull << 20) | (1u << 19), 64, 64, 3); /* .5 s */
    ng_epb(b, be2, 1, 1700000000001ull, 3, 3, 4);
}

/* libpcap cannot follow a byte-order change between sections, so it checks the same-order files. */
static void capture_pcapng_sections_and_tsresol_match_libpcap(void **state)
{
    struct tw_buf b;
    char path[1024];

    (void)state;
    tw_buf_init(&b, 1 << 20);
    build_two_sections(&b, 0, 0);
    snprintf(path, sizeof(path), "%s", save("two_sections_le.pcapng", &b));
    assert_int_equal(crosscheck(path), 5);
    tw_buf_reset(&b);
    build_two_sections(&b, 1, 1);
    snprintf(path, sizeof(path), "%s", save("two_sections_be.pcapng", &b));
    assert_int_equal(crosscheck(path), 5);
    tw_buf_cleanup(&b);
}

static void capture_pcapng_sections_change_byte_order(void **state)
{
    struct tw_buf b;
    struct tw_capture *c = NULL;
    struct tw_packet p;
    struct tw_capture_stats st;

    (void)state;
    tw_buf_init(&b, 1 << 20);
    build_two_sections(&b, 0, 1);
    assert_int_equal(tw_capture_open_mem(&c, b.ptr, b.len, "le-then-be", NULL, NULL), TW_OK);
    assert_int_equal(tw_capture_next(c, &p, NULL), 1);
    assert_int_equal(p.ts_ns, 1700000000123456000LL);
    assert_int_equal(tw_capture_next(c, &p, NULL), 1);
    assert_int_equal(p.ts_ns, 1700000000123456789LL);
    assert_int_equal(p.wirelen, 100);
    assert_int_equal(tw_capture_next(c, &p, NULL), 1);
    assert_int_equal(p.caplen, 128);
    assert_int_equal(p.wirelen, 300);
    assert_int_equal(p.ts_ns, 0);
    assert_int_equal(tw_capture_next(c, &p, NULL), 1);
    assert_int_equal(p.ts_ns, 1700000000500000000LL);
    assert_int_equal(p.data[63], (uint8_t)(3 * 31 + 63));
    assert_int_equal(tw_capture_next(c, &p, NULL), 1);
    assert_int_equal(p.ts_ns, 1700001000001000000LL);
    assert_int_equal(tw_capture_next(c, &p, NULL), 0);
    tw_capture_stats(c, &st);
    assert_int_equal(st.packets, 5);
    assert_int_equal(st.skipped_blocks, 1);
    assert_int_equal(st.errors, 0);
    assert_int_equal(st.bytes, 61 + 62 + 64 + 3 + 128);
    assert_int_equal(st.wire_bytes, 61 + 100 + 64 + 3 + 300);
    tw_capture_close(c);
    tw_buf_cleanup(&b);
}

/*
 * Interfaces of different link types in one section. libpcap 1.10 refuses
 * such files, so the expected values are written out here.
 */
static void capture_pcapng_mixed_link_types(void **state)
{
    struct tw_buf b;
    struct tw_capture *c = NULL;
    struct tw_packet p;

    (void)state;
    tw_buf_init(&b, 1 << 20);
    ng_shb(&b, 0);
    ng_idb(&b, 0, TW_LINK_ETHERNET, 0, 6, 0);
    ng_idb(&b, 0, TW_LINK_RAW, 0, 0x80 | 10, -10); /* 1/1024 s, -10 s */
    ng_epb(&b, 0, 1, 1024ull * 100 + 512, 20, 20, 1);
    ng_epb(&b, 0, 0, 5, 14, 14, 2);
    assert_int_equal(tw_capture_open_mem(&c, b.ptr, b.len, "mixed", NULL, NULL), TW_OK);
    assert_int_equal(tw_capture_next(c, &p, NULL), 1);
    assert_int_equal(p.linktype, TW_LINK_RAW);
    assert_int_equal(p.ts_ns, 90500000000LL);
    assert_int_equal(p.data[0], (uint8_t)31);
    assert_int_equal(tw_capture_next(c, &p, NULL), 1);
    assert_int_equal(p.linktype, TW_LINK_ETHERNET);
    assert_int_equal(p.ts_ns, 5000);
    assert_int_equal(tw_capture_linktype(c), TW_LINK_ETHERNET);
    assert_int_equal(tw_capture_next(c, &p, NULL), 0);
    tw_capture_close(c);
    /* pcap seconds are unsigned (libpcap 1.10 reads them as signed): 2096 stays in 2096. */
    tw_buf_reset(&b);
    pcap_hdr(&b, 1, 0, 1);
    pcap_rec(&b, 1, 4000000000u, 1, 4, 4, 1);
    assert_int_equal(tw_capture_open_mem(&c, b.ptr, b.len, "y2096", NULL, NULL), TW_OK);
    assert_int_equal(tw_capture_next(c, &p, NULL), 1);
    assert_int_equal(p.ts_ns, 4000000000LL * 1000000000LL + 1000);
    tw_capture_close(c);
    tw_buf_cleanup(&b);
}

static void capture_real_captures_match_libpcap(void **state)
{
    const char *dir = tw_test_shared("pcap");
    char pat[1024];
    glob_t g;
    uint64_t total = 0;

    (void)state;
    if (dir == NULL)
        skip();
    snprintf(pat, sizeof(pat), "%s/*/*.pcap", dir);
    assert_int_equal(glob(pat, 0, NULL, &g), 0);
    assert_true(g.gl_pathc > 0);
    for (size_t i = 0; i < g.gl_pathc; i++)
        total += crosscheck(g.gl_pathv[i]);
    print_message("cross-checked %zu captures, %llu packets, against libpcap\n", g.gl_pathc,
            (unsigned long long)total);
    globfree(&g);
}

/* Reads an in-memory capture and returns the error code after `want` packets. */
static int read_expect_error(const struct tw_buf *b, uint64_t want, struct tw_err *err)
{
    struct tw_capture *c = NULL;
    struct tw_packet p;
    uint64_t n = 0;
    int rc;

    assert_int_equal(tw_capture_open_mem(&c, b->ptr, b->len, "bad", NULL, err), TW_OK);
    while ((rc = tw_capture_next(c, &p, err)) == 1)
        n++;
    assert_int_equal(n, want);
    assert_int_equal(tw_capture_next(c, &p, NULL), 0); /* nothing after the error */
    tw_capture_close(c);
    return rc;
}

static void capture_bad_pcap_records_stop_the_file(void **state)
{
    struct tw_buf b;
    struct tw_err err;

    (void)state;
    /* Truncated data: the first packet stays, the second record at 24+16+10 is cut. */
    tw_buf_init(&b, 1 << 20);
    pcap_hdr(&b, 0, 0, 1);
    pcap_rec(&b, 0, 1, 0, 10, 10, 1);
    pcap_rec(&b, 0, 2, 0, 10, 10, 2);
    b.len -= 3;
    assert_int_equal(read_expect_error(&b, 1, &err), TW_ETRUNC);
    assert_int_equal(err.offset, 50);
    assert_non_null(strstr(err.msg, "bad: truncated dump file"));
    /* Truncated record header. */
    b.len = 24 + 26 + 5;
    assert_int_equal(read_expect_error(&b, 1, &err), TW_ETRUNC);
    assert_int_equal(err.offset, 50);
    /* caplen over the cap. */
    tw_buf_reset(&b);
    pcap_hdr(&b, 1, 0, 1);
    pcap_rec(&b, 1, 1, 0, 4, 4, 1);
    put32(&b, 1, 1);
    put32(&b, 0, 1);
    put32(&b, TW_CAPTURE_SNAPLEN_MAX + 1, 1);
    put32(&b, 10, 1);
    assert_int_equal(read_expect_error(&b, 1, &err), TW_ELIMIT);
    assert_int_equal(err.offset, 44);
    /* Header only: a valid empty capture. */
    b.len = 24;
    assert_int_equal(read_expect_error(&b, 0, &err), 0);
    /* Short header, empty file, and not a capture. */
    b.len = 20;
    assert_int_equal(read_expect_error(&b, 0, &err), TW_ETRUNC);
    b.len = 0;
    assert_int_equal(read_expect_error(&b, 0, &err), TW_ETRUNC);
    tw_buf_reset(&b);
    assert_int_equal(tw_buf_puts(&b, "GET / HTTP/1.1\r\n\r\n"), TW_OK);
    assert_int_equal(read_expect_error(&b, 0, &err), TW_ESYNTAX);
    tw_buf_cleanup(&b);
}

static void capture_bad_pcapng_blocks_stop_the_file(void **state)
{
    struct tw_buf b;
    struct tw_err err;

    (void)state;
    tw_buf_init(&b, 1 << 20);
    /* Packet before any IDB (offset 28). */
    ng_shb(&b, 0);
    ng_epb(&b, 0, 0, 1, 4, 4, 1);
    assert_int_equal(read_expect_error(&b, 0, &err), TW_EINVAL);
    assert_int_equal(err.offset, 28);
    assert_non_null(strstr(err.msg, "before any interface"));
    /* Interface 1 of a section with one; SPB then allowed. */
    tw_buf_reset(&b);
    ng_shb(&b, 1);
    ng_idb(&b, 1, 1, 0, -1, 0);
    ng_spb(&b, 1, 4, 4, 1);
    ng_epb(&b, 1, 1, 1, 4, 4, 2);
    assert_int_equal(read_expect_error(&b, 1, &err), TW_EINVAL);
    assert_int_equal(err.offset, 28 + 24 + 20);
    /* Zero, odd and runaway block lengths. */
    tw_buf_reset(&b);
    ng_shb(&b, 0);
    put32(&b, 6, 0);
    put32(&b, 0, 0);
    assert_int_equal(read_expect_error(&b, 0, &err), TW_EINVAL);
    assert_int_equal(err.offset, 28);
    tw_buf_reset(&b);
    ng_shb(&b, 0);
    put32(&b, 0xBAD, 0);
    put32(&b, 13, 0);
    assert_int_equal(read_expect_error(&b, 0, &err), TW_EINVAL);
    tw_buf_reset(&b);
    ng_shb(&b, 0);
    ng_unknown(&b, 0);
    put32(&b, 0xBAD, 0);
    put32(&b, 4096, 0);
    put32(&b, 0, 0);
    assert_int_equal(read_expect_error(&b, 0, &err), TW_ETRUNC);
    assert_int_equal(err.offset, 48);
    /* caplen running past its block, and a bad trailer. */
    tw_buf_reset(&b);
    ng_shb(&b, 0);
    ng_idb(&b, 0, 1, 0, -1, 0);
    ng_epb(&b, 0, 0, 1, 8, 8, 1);
    memcpy(b.ptr + 28 + 24 + 20, "\x09\x00\x00\x00", 4);
    assert_int_equal(read_expect_error(&b, 0, &err), TW_EINVAL);
    memcpy(b.ptr + 28 + 24 + 20, "\x08\x00\x00\x00", 4);
    b.ptr[b.len - 4] = 0;
    assert_int_equal(read_expect_error(&b, 0, &err), TW_EINVAL);
    assert_non_null(strstr(err.msg, "trailer"));
    /* if_tsresol out of range, and an option running past its block. */
    tw_buf_reset(&b);
    ng_shb(&b, 0);
    ng_idb(&b, 0, 1, 0, 20, 0);
    assert_int_equal(read_expect_error(&b, 0, &err), TW_ERANGE);
    b.ptr[28 + 16 + 2] = 9; /* if_tsresol claims 9 bytes */
    assert_int_equal(read_expect_error(&b, 0, &err), TW_EINVAL);
    /* Bad byte-order magic. */
    tw_buf_reset(&b);
    ng_shb(&b, 0);
    b.ptr[8] = 0;
    assert_int_equal(read_expect_error(&b, 0, &err), TW_ESYNTAX);
    tw_buf_cleanup(&b);
}

/* An error ends one file only: the next file opens and numbering goes on. */
static void capture_error_moves_to_next_file(void **state)
{
    struct tw_buf b;
    char p1[1024], p2[1024], p3[1024];
    const char *paths[4];
    struct tw_capture *c = NULL;
    struct tw_capture_stats st;
    struct tw_packet p;
    struct tw_err err;

    (void)state;
    tw_buf_init(&b, 1 << 20);
    pcap_hdr(&b, 0, 0, 1);
    pcap_rec(&b, 0, 1, 0, 10, 10, 1);
    pcap_rec(&b, 0, 2, 0, 10, 10, 2);
    b.len -= 1;
    snprintf(p1, sizeof(p1), "%s", save("trunc.pcap", &b));
    tw_buf_reset(&b);
    assert_int_equal(tw_buf_puts(&b, "not a capture"), TW_OK);
    snprintf(p2, sizeof(p2), "%s", save("text.pcap", &b));
    tw_buf_reset(&b);
    pcap_hdr(&b, 1, 1, 101);
    pcap_rec(&b, 1, 3, 0, 20, 20, 3);
    snprintf(p3, sizeof(p3), "%s", save("good.pcap", &b));
    tw_buf_cleanup(&b);
    paths[0] = p1;
    paths[1] = p2;
    paths[2] = p3;
    paths[3] = p1;
    assert_int_equal(tw_capture_open(&c, paths, 4, &err), TW_OK);
    assert_int_equal(tw_capture_bytes_total(c), 75 + 13 + 60 + 75);
    assert_int_equal(tw_capture_next(c, &p, &err), 1);
    assert_string_equal(tw_capture_current_file(c), p1);
    assert_int_equal(tw_capture_next(c, &p, &err), TW_ETRUNC);
    assert_string_equal(tw_capture_current_file(c), p1);
    assert_non_null(strstr(err.msg, p1));
    assert_int_equal(tw_capture_next(c, &p, &err), TW_ESYNTAX);
    assert_int_equal(err.offset, 0);
    assert_int_equal(tw_capture_next(c, &p, &err), 1);
    assert_int_equal(p.num, 2);
    assert_int_equal(p.linktype, TW_LINK_RAW);
    assert_int_equal(tw_capture_next(c, &p, &err), 1);
    assert_int_equal(p.num, 3);
    assert_int_equal(tw_capture_next(c, &p, &err), TW_ETRUNC);
    assert_int_equal(tw_capture_next(c, &p, &err), 0);
    assert_null(tw_capture_current_file(c));
    assert_int_equal(tw_capture_bytes_read(c), tw_capture_bytes_total(c));
    tw_capture_stats(c, &st);
    assert_int_equal(st.files, 4);
    assert_int_equal(st.packets, 3);
    assert_int_equal(st.errors, 3);
    assert_int_equal(st.truncated_records, 2);
    tw_capture_close(c);
    /* A path that does not exist fails at open. */
    paths[0] = "/nonexistent/x.pcap";
    assert_int_equal(tw_capture_open(&c, paths, 1, &err), TW_ENOTFOUND);
    assert_null(c);
}

/* A directory reads its capture files in first-packet time order, ties by name. */
static void capture_directory_in_time_order(void **state)
{
    static const struct {
        const char *name;
        uint32_t sec;
    } files[] = { { "a.pcap", 300 }, { "b.pcap", 100 }, { "c.pcapng", 200 }, { "d.pcap", 100 } };
    char dir[1024], path[1100];
    const char *dp = dir;
    struct tw_capture *c = NULL;
    struct tw_packet p;
    struct tw_buf b;
    static const int64_t want[] = { 100, 100, 200, 300 };

    (void)state;
    snprintf(dir, sizeof(dir), "%s/dir", tmp_dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    tw_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < TW_ARRAY_LEN(files); i++) {
        tw_buf_reset(&b);
        if (strstr(files[i].name, "ng") != NULL) {
            ng_shb(&b, 1);
            ng_idb(&b, 1, 1, 0, -1, 0);
            ng_epb(&b, 1, 0, (uint64_t)files[i].sec * 1000000, 10, 10, (uint32_t)i);
        } else {
            pcap_hdr(&b, 0, 0, 1);
            pcap_rec(&b, 0, files[i].sec, 0, 10, 10, (uint32_t)i);
        }
        snprintf(path, sizeof(path), "dir/%s", files[i].name);
        (void)save(path, &b);
    }
    tw_buf_reset(&b);
    assert_int_equal(tw_buf_puts(&b, "notes"), TW_OK);
    (void)save("dir/README", &b);
    tw_buf_cleanup(&b);
    assert_int_equal(tw_capture_open(&c, &dp, 1, NULL), TW_OK);
    for (size_t i = 0; i < TW_ARRAY_LEN(want); i++) {
        assert_int_equal(tw_capture_next(c, &p, NULL), 1);
        assert_int_equal(p.ts_ns, want[i] * 1000000000LL);
    }
    assert_int_equal(tw_capture_next(c, &p, NULL), 0);
    tw_capture_close(c);
    /* Ties by name: b before d. */
    assert_int_equal(tw_capture_open(&c, &dp, 1, NULL), TW_OK);
    assert_int_equal(tw_capture_next(c, &p, NULL), 1);
    assert_non_null(strstr(tw_capture_current_file(c), "/b.pcap"));
    assert_int_equal(tw_capture_next(c, &p, NULL), 1);
    assert_non_null(strstr(tw_capture_current_file(c), "/d.pcap"));
    tw_capture_close(c);
}

/* "-" reads standard input as a stream: here a pipe fed by a child process. */
static void capture_stdin_pipe(void **state)
{
    struct tw_buf b;
    int fds[2], saved;
    pid_t pid;
    const char *dash = "-";
    struct tw_capture *c = NULL;
    struct tw_packet p;
    uint64_t n = 0;
    int status;

    (void)state;
    tw_buf_init(&b, 8 << 20);
    ng_shb(&b, 0);
    ng_idb(&b, 0, 1, 0, 9, 0);
    for (uint32_t i = 0; i < 3000; i++) /* ~4.6 MB: several chunks */
        ng_epb(&b, 0, 0, 1000 + i, 1500, 1500, i);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        size_t off = 0;

        (void)close(fds[0]);
        while (off < b.len) {
            ssize_t w = write(fds[1], b.ptr + off, b.len - off);

            if (w <= 0)
                _exit(1);
            off += (size_t)w;
        }
        _exit(0);
    }
    (void)close(fds[1]);
    saved = dup(STDIN_FILENO);
    assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
    (void)close(fds[0]);
    assert_int_equal(tw_capture_open(&c, &dash, 1, NULL), TW_OK);
    while (tw_capture_next(c, &p, NULL) == 1) {
        assert_int_equal(p.ts_ns, (int64_t)(1000 + n));
        assert_int_equal(p.data[1], (uint8_t)(n * 31 + 1));
        n++;
    }
    assert_int_equal(n, 3000);
    assert_int_equal(tw_capture_bytes_read(c), b.len);
    tw_capture_close(c);
    assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
    (void)close(saved);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(status, 0);
    tw_buf_cleanup(&b);
}

/*
 * Reads path with the helper thread (chunk bytes per read()) and with plain
 * read()s, and asserts the same packets, the same end (status, error offset)
 * and the same byte count.
 */
static void same_as_plain_reads(const char *path, size_t chunk)
{
    struct tw_capture_opts plain = { 0, TW_CAPTURE_IO_READ, 0 };
    struct tw_capture_opts ahead = { 0, TW_CAPTURE_IO_THREAD, chunk };
    struct tw_capture *a = NULL, *b = NULL;
    struct tw_packet pa, pb;
    struct tw_err ea, eb;
    int ra, rb;

    assert_int_equal(tw_capture_open_opts(&a, &path, 1, &plain, &ea), TW_OK);
    assert_int_equal(tw_capture_open_opts(&b, &path, 1, &ahead, &eb), TW_OK);
    do {
        ra = tw_capture_next(a, &pa, &ea);
        rb = tw_capture_next(b, &pb, &eb);
        assert_int_equal(rb, ra);
        if (ra == 1) {
            assert_int_equal(pb.num, pa.num);
            assert_int_equal(pb.caplen, pa.caplen);
            assert_int_equal(pb.wirelen, pa.wirelen);
            assert_int_equal(pb.ts_ns, pa.ts_ns);
            assert_memory_equal(pb.data, pa.data, pa.caplen);
        } else if (ra < 0) {
            assert_int_equal(eb.offset, ea.offset);
            assert_string_equal(eb.msg, ea.msg);
        }
    } while (ra != 0);
    assert_int_equal(tw_capture_bytes_read(b), tw_capture_bytes_read(a));
    tw_capture_close(a);
    tw_capture_close(b);
}

/* A pcapng block of an unknown type with n body bytes (skipped by length). */
static void ng_custom(struct tw_buf *b, uint32_t n)
{
    put32(b, 0x00000BADu, 0);
    put32(b, 12 + n, 0);
    put_payload(b, 7, n);
    put32(b, 12 + n, 0);
}

/*
 * The helper thread hands the window buffer after buffer; records straddle
 * every chunk boundary (7-byte chunks), the largest record fits the headroom,
 * and blocks too long for it (a skipped block, an interface block with a long
 * option) move the reader back to plain read()s without losing a byte.
 */
static void capture_read_ahead_matches_plain_reads(void **state)
{
    static const size_t chunks[] = { 509, 4096, TW_CAPTURE_READ_CHUNK };
    struct tw_buf b;
    char p1[1024], p2[1024], p3[1024];

    (void)state;
    tw_buf_init(&b, 64 << 20);
    /* Classic pcap: many records of every size up to the cap, then a cut record. */
    pcap_hdr(&b, 0, 1, 1);
    for (uint32_t i = 0; i < 3000; i++) {
        uint32_t n = i == 1500 ? TW_CAPTURE_SNAPLEN_MAX : (i * 97) % 2000;
        pcap_rec(&b, 0, 1000 + i, i, n, n + 4, i);
    }
    b.len -= 5;
    snprintf(p1, sizeof(p1), "%s", save("ahead.pcap", &b));
    /* pcapng: packets, a 600 KiB block to skip, packets. */
    tw_buf_reset(&b);
    ng_shb(&b, 0);
    ng_idb(&b, 0, 1, 0, 9, 0);
    for (uint32_t i = 0; i < 500; i++)
        ng_epb(&b, 0, 0, 1000 + i, (i * 31) % 1500, 1500, i);
    ng_custom(&b, 600 << 10);
    for (uint32_t i = 0; i < 500; i++)
        ng_epb(&b, 0, 0, 5000 + i, (i * 53) % 1500, 1500, i);
    snprintf(p2, sizeof(p2), "%s", save("ahead_skip.pcapng", &b));
    /* pcapng: packets, an interface block of 448 KiB (seven long if_description options). */
    tw_buf_reset(&b);
    ng_shb(&b, 0);
    ng_idb(&b, 0, 1, 0, -1, 0);
    for (uint32_t i = 0; i < 500; i++)
        ng_epb(&b, 0, 0, 1000 + i, (i * 31) % 1500, 1500, i);
    put32(&b, 1, 0);
    put32(&b, 24 + 7 * 65536, 0);
    put16(&b, 1, 0);
    put16(&b, 0, 0);
    put32(&b, 0, 0);
    for (uint32_t i = 0; i < 7; i++) {
        put16(&b, 3, 0); /* if_description */
        put16(&b, 0xFFFC, 0);
        put_payload(&b, i, 0xFFFC);
    }
    put32(&b, 0, 0); /* opt_endofopt */
    put32(&b, 24 + 7 * 65536, 0);
    for (uint32_t i = 0; i < 500; i++)
        ng_epb(&b, 0, 1, 9000 + i, (i * 53) % 1500, 1500, i);
    snprintf(p3, sizeof(p3), "%s", save("ahead_idb.pcapng", &b));
    tw_buf_cleanup(&b);
    for (size_t k = 0; k < TW_ARRAY_LEN(chunks); k++) {
        same_as_plain_reads(p1, chunks[k]);
        same_as_plain_reads(p2, chunks[k]);
        same_as_plain_reads(p3, chunks[k]);
    }
}

/* Every allocation failing in turn: ENOMEM or success, never a crash or leak. */
static void capture_survives_allocation_failures(void **state)
{
    struct tw_buf b;
    char path[1024];
    const char *pp = path;
    struct tw_capture_opts stream = { 0, TW_CAPTURE_IO_READ, 64 };
    struct tw_capture_opts ahead = { 0, TW_CAPTURE_IO_THREAD, 64 };

    (void)state;
    tw_buf_init(&b, 1 << 20);
    ng_shb(&b, 0);
    for (int i = 0; i < 8; i++)
        ng_idb(&b, 0, 1, 0, -1, 0);
    ng_epb(&b, 0, 7, 1, 100, 100, 1);
    snprintf(path, sizeof(path), "%s", save("oom.pcapng", &b));
    tw_buf_cleanup(&b);
    for (long n = 0; n < 40; n++) {
        struct tw_capture *c = NULL;
        struct tw_packet p;
        int rc;

        tw_alloc_fail_after(n / 2);
        rc = tw_capture_open_opts(&c, &pp, 1, n % 2 ? &ahead : &stream, NULL);
        if (rc == TW_OK) {
            while ((rc = tw_capture_next(c, &p, NULL)) != 0)
                assert_true(rc == 1 || rc == TW_ENOMEM);
        } else {
            assert_int_equal(rc, TW_ENOMEM);
        }
        tw_capture_close(c);
        tw_alloc_fail_reset();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(capture_pcap_four_magics_match_libpcap),
        cmocka_unit_test(capture_pcapng_sections_and_tsresol_match_libpcap),
        cmocka_unit_test(capture_pcapng_sections_change_byte_order),
        cmocka_unit_test(capture_pcapng_mixed_link_types),
        cmocka_unit_test(capture_real_captures_match_libpcap),
        cmocka_unit_test(capture_bad_pcap_records_stop_the_file),
        cmocka_unit_test(capture_bad_pcapng_blocks_stop_the_file),
        cmocka_unit_test(capture_error_moves_to_next_file),
        cmocka_unit_test(capture_directory_in_time_order),
        cmocka_unit_test(capture_stdin_pipe),
        cmocka_unit_test(capture_survives_allocation_failures),
        cmocka_unit_test(capture_read_ahead_matches_plain_reads),
    };

    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
