/*
 * test_stream.c: bounded in-order TCP reassembly: in order, reversed, overlaps
 * (first copy kept), retransmissions, sequence wraparound near 2^32, a gap
 * that never fills, the cap, a missed SYN, FIN and RST, the shared budget, the
 * held-range limit and allocation failure.
 */
#include <string.h>

#include "tidewatch/alloc.h"
#include "tidewatch/err.h"
#include "tidewatch/stream.h"
#include "tw_test.h"

/* TCP flag bits. */
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_ACK 0x10

#define TS true  /* to the server */
#define TC false /* to the client */

/* Offers a text segment and returns how many contiguous bytes it appended. */
static uint32_t seg(struct tw_stream *s, bool dir, uint8_t flags, uint32_t seq, const char *text)
{
    uint32_t appended = 99;

    assert_int_equal(tw_stream_segment(s, dir, flags, seq, (const uint8_t *)text,
                             (uint32_t)strlen(text), &appended),
            TW_OK);
    return appended;
}

/* Asserts the contiguous bytes of one direction equal text. */
static void expect_data(const struct tw_stream *s, bool dir, const char *text)
{
    uint32_t len;
    const uint8_t *p = tw_stream_data(s, dir, &len);

    assert_int_equal(len, strlen(text));
    if (len > 0)
        assert_memory_equal(p, text, len);
}

static void stream_in_order(void **state)
{
    struct tw_stream s;

    (void)state;
    assert_int_equal(tw_stream_init(&s, 0, NULL), TW_OK);
    assert_int_equal(s.cap, TW_STREAM_DEFAULT_CAP);
    assert_int_equal(seg(&s, TS, F_SYN, 1000, ""), 0);
    assert_int_equal(seg(&s, TC, F_SYN | F_ACK, 70000, ""), 0);
    assert_null(s.dir[0].buf); /* nothing allocated before payload */
    assert_int_equal(seg(&s, TS, F_ACK, 1001, "GET / HTTP/1.1\r\n"), 16);
    assert_int_equal(seg(&s, TS, F_ACK, 1017, "Host: x\r\n\r\n"), 11);
    assert_int_equal(seg(&s, TC, F_ACK, 70001, "HTTP/1.1 200 OK\r\n"), 17);
    expect_data(&s, TS, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    expect_data(&s, TC, "HTTP/1.1 200 OK\r\n");
    assert_int_equal(s.dir[0].flags & TW_STREAM_F_SYN, TW_STREAM_F_SYN);
    assert_false(tw_stream_done(&s, TS));
    tw_stream_cleanup(&s);
}

static void stream_reversed_order(void **state)
{
    struct tw_stream s;

    (void)state;
    assert_int_equal(tw_stream_init(&s, 64, NULL), TW_OK);
    seg(&s, TS, F_SYN, 0, "");
    assert_int_equal(seg(&s, TS, F_ACK, 7, "ghi"), 0);
    assert_int_equal(seg(&s, TS, F_ACK, 4, "def"), 0);
    assert_int_equal(s.dir[0].n_ranges, 1); /* [3,6) and [6,9) abut: merged */
    expect_data(&s, TS, "");
    assert_int_equal(seg(&s, TS, F_ACK, 1, "abc"), 9);
    expect_data(&s, TS, "abcdefghi");
    assert_int_equal(s.dir[0].n_ranges, 0);
    assert_int_equal(s.dir[0].n_ooo, 2);
    tw_stream_cleanup(&s);
}

static void stream_overlaps_keep_first(void **state)
{
    struct tw_stream s;

    (void)state;
    assert_int_equal(tw_stream_init(&s, 64, NULL), TW_OK);
    seg(&s, TS, F_SYN, 99, "");
    assert_int_equal(seg(&s, TS, 0, 100, "AAAA"), 4);
    /* Overlaps the prefix: only the two new bytes are taken. */
    assert_int_equal(seg(&s, TS, 0, 102, "BBBBBB"), 4);
    expect_data(&s, TS, "AAAABBBB");
    /* Held range at [12,16), then a segment covering [10,18) fills around it. */
    assert_int_equal(seg(&s, TS, 0, 112, "CCCC"), 0);
    assert_int_equal(seg(&s, TS, 0, 110, "DDDDDDDD"), 0);
    expect_data(&s, TS, "AAAABBBB");
    assert_int_equal(seg(&s, TS, 0, 108, "EE"), 10);
    expect_data(&s, TS, "AAAABBBBEEDDCCCCDD");
    assert_int_equal(s.dir[0].overlap_bytes, 2 + 4);
    tw_stream_cleanup(&s);
}

static void stream_retransmission_adds_nothing(void **state)
{
    struct tw_stream s;

    (void)state;
    assert_int_equal(tw_stream_init(&s, 64, NULL), TW_OK);
    seg(&s, TC, F_SYN | F_ACK, 5000, "");
    assert_int_equal(seg(&s, TC, F_ACK, 5001, "SSH-2.0-x\r\n"), 11);
    assert_int_equal(seg(&s, TC, F_ACK, 5001, "SSH-2.0-x\r\n"), 0);
    assert_int_equal(seg(&s, TC, F_ACK, 5001, "XXX"), 0); /* different bytes: first kept */
    expect_data(&s, TC, "SSH-2.0-x\r\n");
    assert_int_equal(s.dir[1].n_old, 2);
    assert_int_equal(s.dir[1].n_segments, 3);
    /* A retransmitted SYN+ACK changes nothing. */
    assert_int_equal(seg(&s, TC, F_SYN | F_ACK, 5000, ""), 0);
    assert_int_equal(s.dir[1].base_seq, 5001);
    tw_stream_cleanup(&s);
}

static void stream_sequence_wraparound(void **state)
{
    struct tw_stream s;

    (void)state;
    assert_int_equal(tw_stream_init(&s, 64, NULL), TW_OK);
    /* ISN 2^32 - 6: byte 0 is at 2^32 - 5, byte 5 at sequence number 0. */
    seg(&s, TS, F_SYN, 0xfffffffau, "");
    assert_int_equal(seg(&s, TS, F_ACK, 3, "89"), 0);
    assert_int_equal(seg(&s, TS, F_ACK, 0xfffffffbu, "01234"), 5);
    assert_int_equal(seg(&s, TS, F_ACK, 0, "567"), 5);
    expect_data(&s, TS, "0123456789");
    /* A segment from just before byte 0 (a stale retransmission) is trimmed to nothing. */
    assert_int_equal(seg(&s, TS, F_ACK, 0xfffffff0u, "zzzz"), 0);
    expect_data(&s, TS, "0123456789");
    tw_stream_cleanup(&s);
}

static void stream_gap_never_filled(void **state)
{
    struct tw_stream s;
    uint32_t len = 7;

    (void)state;
    assert_int_equal(tw_stream_init(&s, 64, NULL), TW_OK);
    seg(&s, TS, F_SYN, 10, "");
    assert_int_equal(seg(&s, TS, F_ACK, 16, "later"), 0);
    assert_int_equal(seg(&s, TS, F_ACK, 21, "more"), 0);
    assert_null(tw_stream_data(&s, TS, &len));
    assert_int_equal(len, 0);
    assert_int_equal(s.dir[0].n_ranges, 1);
    assert_int_equal(s.dir[0].ranges[0].start, 5);
    assert_int_equal(s.dir[0].ranges[0].end, 14);
    assert_false(tw_stream_done(&s, TS));
    tw_stream_cleanup(&s);
}

static void stream_cap_truncates(void **state)
{
    struct tw_stream s;

    (void)state;
    assert_int_equal(tw_stream_init(&s, 16, NULL), TW_OK);
    seg(&s, TS, F_SYN, 0, "");
    assert_int_equal(seg(&s, TS, 0, 1, "0123456789"), 10);
    assert_int_equal(s.dir[0].flags & TW_STREAM_F_TRUNCATED, 0);
    assert_int_equal(seg(&s, TS, 0, 11, "abcdefghij"), 6);
    expect_data(&s, TS, "0123456789abcdef");
    assert_int_equal(s.dir[0].flags & TW_STREAM_F_TRUNCATED, TW_STREAM_F_TRUNCATED);
    assert_true(tw_stream_done(&s, TS));
    assert_int_equal(seg(&s, TS, 0, 21, "more"), 0);
    expect_data(&s, TS, "0123456789abcdef");
    tw_stream_cleanup(&s);
    assert_int_equal(tw_stream_init(&s, TW_STREAM_MAX_CAP + 1, NULL), TW_EINVAL);
    tw_stream_cleanup(&s);
}

static void stream_missed_syn_starts_at_first_data(void **state)
{
    struct tw_stream s;

    (void)state;
    assert_int_equal(tw_stream_init(&s, 64, NULL), TW_OK);
    assert_int_equal(seg(&s, TS, F_ACK, 7000, ""), 0); /* a bare ACK fixes nothing */
    assert_int_equal(s.dir[0].flags & TW_STREAM_F_BASE, 0);
    assert_int_equal(seg(&s, TS, F_ACK, 7010, "world"), 5);
    assert_int_equal(s.dir[0].base_seq, 7010);
    assert_int_equal(s.dir[0].flags & TW_STREAM_F_SYN, 0);
    /* An earlier segment that arrives later only contributes bytes after byte 0. */
    assert_int_equal(seg(&s, TS, F_ACK, 7004, "hello world!"), 1);
    expect_data(&s, TS, "world!");
    tw_stream_cleanup(&s);
}

static void stream_fin_and_rst(void **state)
{
    struct tw_stream s;

    (void)state;
    assert_int_equal(tw_stream_init(&s, 64, NULL), TW_OK);
    seg(&s, TS, F_SYN, 100, "");
    /* The FIN comes first (reordered), its data later. */
    assert_int_equal(seg(&s, TS, F_FIN | F_ACK, 104, "def"), 0);
    assert_int_equal(s.dir[0].fin_off, 6);
    assert_false(tw_stream_done(&s, TS));
    assert_int_equal(seg(&s, TS, F_ACK, 101, "abc"), 6);
    assert_true(tw_stream_done(&s, TS));
    /* Nothing after the FIN. */
    assert_int_equal(seg(&s, TS, F_ACK, 107, "xyz"), 0);
    expect_data(&s, TS, "abcdef");

    seg(&s, TC, F_SYN | F_ACK, 500, "");
    assert_int_equal(seg(&s, TC, F_ACK, 501, "ok"), 2);
    assert_int_equal(seg(&s, TC, F_RST, 503, "junk"), 0);
    assert_true(tw_stream_done(&s, TC));
    assert_int_equal(seg(&s, TC, F_ACK, 503, "late"), 0);
    expect_data(&s, TC, "ok");
    tw_stream_cleanup(&s);
}

static void stream_too_many_holes_drops_segment(void **state)
{
    struct tw_stream s;

    (void)state;
    assert_int_equal(tw_stream_init(&s, 256, NULL), TW_OK);
    seg(&s, TS, F_SYN, 0, "");
    for (uint32_t i = 0; i < TW_STREAM_MAX_RANGES; i++)
        assert_int_equal(seg(&s, TS, 0, 1 + 10 * (i + 1), "xx"), 0);
    assert_int_equal(s.dir[0].n_ranges, TW_STREAM_MAX_RANGES);
    assert_int_equal(seg(&s, TS, 0, 1 + 200, "yy"), 0);
    assert_int_equal(s.dir[0].flags & TW_STREAM_F_OOO_DROPPED, TW_STREAM_F_OOO_DROPPED);
    /* A segment that extends a held range still fits. */
    assert_int_equal(seg(&s, TS, 0, 1 + 12, "zz"), 0);
    assert_int_equal(s.dir[0].n_ranges, TW_STREAM_MAX_RANGES);
    assert_int_equal(s.dir[0].ranges[0].end, 14);
    assert_int_equal(seg(&s, TS, 0, 1, "0123456789"), 14);
    tw_stream_cleanup(&s);
}

static void stream_budget_and_nomem(void **state)
{
    struct tw_stream_budget budget = { .max_bytes = 32 };
    struct tw_stream s, s2;
    uint32_t appended;

    (void)state;
    assert_int_equal(tw_stream_init(&s, 32, &budget), TW_OK);
    assert_int_equal(seg(&s, TS, 0, 1, "a"), 1);
    assert_int_equal(budget.used_bytes, 32);
    assert_int_equal(
            tw_stream_segment(&s, TC, 0, 1, (const uint8_t *)"b", 1, &appended), TW_ELIMIT);
    assert_int_equal(s.dir[1].flags & TW_STREAM_F_NOMEM, TW_STREAM_F_NOMEM);
    assert_int_equal(seg(&s, TC, 0, 2, "c"), 0); /* later segments are ignored quietly */
    assert_true(tw_stream_done(&s, TC));
    tw_stream_cleanup(&s);
    assert_int_equal(budget.used_bytes, 0);

    assert_int_equal(tw_stream_init(&s2, 32, NULL), TW_OK);
    tw_alloc_fail_after(0);
    assert_int_equal(
            tw_stream_segment(&s2, TS, 0, 1, (const uint8_t *)"b", 1, &appended), TW_ENOMEM);
    tw_alloc_fail_reset();
    assert_int_equal(appended, 0);
    tw_stream_cleanup(&s2);
}

/*
 * Released buffers wait in the budget for the next stream (up to max_spare,
 * of one size), count in used_bytes only while in use, and the budget's
 * cleanup frees them.
 */
static void stream_budget_keeps_spare_buffers(void **state)
{
    struct tw_stream_budget budget = { .max_bytes = 1024, .max_spare = 1 };
    struct tw_stream s, s2, s3;
    const uint8_t *first;
    uint32_t len;

    (void)state;
    assert_int_equal(tw_stream_init(&s, 64, &budget), TW_OK);
    assert_int_equal(seg(&s, TS, 0, 1, "abc"), 3);
    assert_int_equal(seg(&s, TC, 0, 1, "xyz"), 3);
    first = tw_stream_data(&s, TS, &len);
    assert_int_equal(budget.used_bytes, 128);
    tw_stream_cleanup(&s);
    assert_int_equal(budget.used_bytes, 0);
    assert_int_equal(budget.n_spare, 1); /* the second went back to the allocator */
    /* The next stream of that size gets the spare buffer, with its own bytes. */
    assert_int_equal(tw_stream_init(&s2, 64, &budget), TW_OK);
    assert_int_equal(seg(&s2, TS, 0, 1, "de"), 2);
    assert_ptr_equal(tw_stream_data(&s2, TS, &len), first);
    assert_int_equal(len, 2);
    expect_data(&s2, TS, "de");
    assert_int_equal(budget.n_spare, 0);
    assert_int_equal(budget.used_bytes, 64);
    /* A stream of another size neither takes nor leaves a spare one. */
    assert_int_equal(tw_stream_init(&s3, 32, &budget), TW_OK);
    assert_int_equal(seg(&s3, TS, 0, 1, "q"), 1);
    tw_stream_cleanup(&s2);
    assert_int_equal(budget.n_spare, 1);
    tw_stream_cleanup(&s3);
    assert_int_equal(budget.n_spare, 1);
    assert_int_equal(budget.used_bytes, 0);
    tw_stream_budget_cleanup(&budget);
    assert_int_equal(budget.n_spare, 0);
    assert_null(budget.spare);
    tw_stream_budget_cleanup(NULL);
}

static void stream_from_packet(void **state)
{
    static const uint8_t payload[] = "\x16\x03\x01";
    struct tw_packet p;
    struct tw_stream s;
    uint32_t appended;

    (void)state;
    assert_int_equal(tw_stream_init(&s, 0, NULL), TW_OK);
    memset(&p, 0, sizeof(p));
    p.n_layers = 2;
    p.inner_ip = 0;
    p.l4 = 1;
    p.layers[0].kind = TW_L_IPV4;
    p.layers[1].kind = TW_L_TCP;
    p.layers[1].u.l4.tcp_flags = F_ACK;
    p.layers[1].u.l4.seq = 42;
    p.payload = payload;
    p.payload_len = 3;
    assert_int_equal(tw_stream_add_packet(&s, TS, &p, &appended), TW_OK);
    assert_int_equal(appended, 3);
    expect_data(&s, TS, "\x16\x03\x01");
    p.layers[1].kind = TW_L_UDP;
    assert_int_equal(tw_stream_add_packet(&s, TS, &p, &appended), TW_EINVAL);
    p.l4 = -1;
    assert_int_equal(tw_stream_add_packet(&s, TS, &p, &appended), TW_EINVAL);
    tw_stream_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stream_in_order),
        cmocka_unit_test(stream_reversed_order),
        cmocka_unit_test(stream_overlaps_keep_first),
        cmocka_unit_test(stream_retransmission_adds_nothing),
        cmocka_unit_test(stream_sequence_wraparound),
        cmocka_unit_test(stream_gap_never_filled),
        cmocka_unit_test(stream_cap_truncates),
        cmocka_unit_test(stream_missed_syn_starts_at_first_data),
        cmocka_unit_test(stream_fin_and_rst),
        cmocka_unit_test(stream_too_many_holes_drops_segment),
        cmocka_unit_test(stream_budget_and_nomem),
        cmocka_unit_test(stream_budget_keeps_spare_buffers),
        cmocka_unit_test(stream_from_packet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
