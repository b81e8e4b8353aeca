/*
 * test_flowfilter.c: the flow filter language: every primitive, directions,
 * comparisons and lists, precedence of not/and/or and parentheses, errors
 * with their byte offsets, the columns a filter reads, allocation failure at
 * every step, large address lists against a linear scan, and the soundness
 * of may_match (never false when a record of the block matches) on random
 * blocks and filters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tidewatch/addr.h"
#include "tidewatch/alloc.h"
#include "tidewatch/err.h"
#include "tidewatch/flowfilter.h"
#include "tw_test.h"

/* ==== Helpers ==== */

static struct tw_ip ip(const char *text)
{
    struct tw_ip a;

    assert_int_equal(tw_ip_parse(tw_str_cstr(text), &a, NULL), TW_OK);
    return a;
}

/* A TCP record src:sport -> dst:dport with 10 packets and 1500 bytes. */
static struct tw_flowrec rec(const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
    struct tw_flowrec r;

    memset(&r, 0, sizeof(r));
    r.src = ip(src);
    r.dst = ip(dst);
    r.sport = sport;
    r.dport = dport;
    r.proto = 6;
    r.packets = 10;
    r.bytes = 1500;
    r.first_ms = 1700000000000;
    r.last_ms = 1700000001000;
    return r;
}

static struct tw_flowfilter *parse_ok(const char *expr)
{
    struct tw_flowfilter *f = NULL;
    struct tw_err err;

    tw_err_clear(&err);
    if (tw_flowfilter_parse(expr, &f, &err) != TW_OK)
        fail_msg("'%s' did not parse: %s", expr, err.msg);
    return f;
}

/* Does expr match r? */
static bool m(const char *expr, const struct tw_flowrec *r)
{
    struct tw_flowfilter *f = parse_ok(expr);
    bool yes = tw_flowfilter_match(f, r);

    tw_flowfilter_free(f);
    return yes;
}

/* ==== Primitives ==== */

static void flowfilter_ip_host_net_and_directions(void **state)
{
    struct tw_flowrec r = rec("10.0.0.1", 40000, "192.0.2.7", 443);

    (void)state;
    assert_true(m("ip 10.0.0.1", &r));
    assert_true(m("ip 192.0.2.7", &r));
    assert_false(m("ip 10.0.0.2", &r));
    assert_true(m("host 192.0.2.7", &r));
    assert_true(m("src ip 10.0.0.1", &r));
    assert_false(m("dst ip 10.0.0.1", &r));
    assert_true(m("dst host 192.0.2.7", &r));
    assert_false(m("src host 192.0.2.7", &r));
    assert_true(m("net 10.0.0.0/8", &r));
    assert_true(m("src net 10.0.0.0/31", &r));
    assert_false(m("dst net 10.0.0.0/8", &r));
    assert_true(m("dst net 192.0.2.0/24", &r));
    assert_false(m("net 192.0.3.0/24", &r));
    assert_true(m("net 0.0.0.0/0", &r));
    /* A bare address after net is the whole address. */
    assert_true(m("net 10.0.0.1", &r));
    /* Host bits after the prefix are ignored, as tw_cidr_parse does. */
    assert_true(m("net 10.1.2.3/8", &r));
}

static void flowfilter_ipv6_and_mapped(void **state)
{
    struct tw_flowrec r6 = rec("2001:db8::1", 1234, "2001:db8:ffff::9", 53);
    struct tw_flowrec mapped = rec("::ffff:198.51.100.9", 1, "::1", 2);
    struct tw_flowrec r4 = rec("198.51.100.9", 1, "203.0.113.1", 2);

    (void)state;
    assert_true(m("ip 2001:db8::1", &r6));
    assert_true(m("ip 2001:DB8:0::1", &r6));
    assert_false(m("ip 2001:db8::2", &r6));
    assert_true(m("dst net 2001:db8:ff00::/40", &r6));
    assert_false(m("src net 2001:db8:ff00::/40", &r6));
    assert_true(m("net ::/0", &r6));
    assert_false(m("net ::/0", &r4));
    assert_false(m("ip 10.0.0.1", &r6));
    /* An IPv4-mapped record address is its IPv4 address, and the other way round. */
    assert_true(m("src ip 198.51.100.9", &mapped));
    assert_true(m("net 198.51.100.0/24", &mapped));
    assert_true(m("ip ::ffff:198.51.100.9", &r4));
    assert_true(m("net ::ffff:198.51.100.0/120", &r4));
    assert_false(m("net ::ffff:198.51.101.0/120", &r4));
    assert_true(m("inet6", &mapped));
    assert_true(m("inet", &r4));
    assert_false(m("inet6", &r4));
    assert_true(m("ipv6", &r6));
    assert_true(m("ipv4", &r4));
    assert_false(m("inet", &r6));
}

static void flowfilter_ip_in_lists(void **state)
{
    struct tw_flowrec r = rec("10.9.8.7", 1, "2001:db8::42", 2);
    struct tw_flowrec z = rec("0.0.0.0", 1, "255.255.255.255", 2);

    (void)state;
    assert_true(m("ip in [ 192.0.2.1 10.9.8.7 ]", &r));
    assert_true(m("ip in [192.0.2.1,10.9.8.7]", &r));
    assert_true(m("ip in [192.0.2.1 , 10.0.0.0/8]", &r));
    assert_true(m("src ip in [10.9.8.0/29]", &r));
    assert_false(m("dst ip in [10.9.8.0/29]", &r));
    assert_true(m("dst ip in [10.0.0.1 2001:db8::/64]", &r));
    assert_true(m("host in [2001:db8::42]", &r));
    assert_false(m("ip in [2001:db8::43 10.9.8.6 10.9.8.8/32 10.9.8.0/30]", &r));
    /* The edges of the address space. */
    assert_true(m("src ip in [0.0.0.0]", &z));
    assert_true(m("dst ip in [255.255.255.255/32]", &z));
    assert_true(m("dst ip in [255.255.255.254/31]", &z));
    assert_false(m("ip in [0.0.0.1 255.255.255.254]", &z));
    assert_true(m("ip in [ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124 0.0.0.0/32]", &z));
}

/* Splitmix64: reproducible pseudo-random numbers. */
static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A list of 10,000 entries (addresses and networks) against a linear scan. */
static void flowfilter_large_list_matches_linear_scan(void **state)
{
    enum { N = 10000, PROBES = 20000 };
    struct tw_ip *nets = tw_calloc(N, sizeof(*nets));
    unsigned *lens = tw_calloc(N, sizeof(*lens));
    size_t cap = (size_t)N * 24 + 16, len = 0;
    char *expr = tw_malloc(cap);
    struct tw_flowfilter *f;
    uint64_t s = 42;
    size_t hits = 0;

    (void)state;
    assert_non_null(nets);
    assert_non_null(lens);
    assert_non_null(expr);
    len += (size_t)snprintf(expr + len, cap - len, "src ip in [");
    for (size_t i = 0; i < N; i++) {
        uint64_t v = rnd(&s);
        /* Addresses in 20.0.0.0/14, one entry in eight a network /20../31. */
        uint32_t a = 0x14000000u | (uint32_t)(v & 0x3ffff);
        unsigned plen = (v >> 20) % 8 == 0 ? 20 + (unsigned)((v >> 24) % 12) : 32;
        char text[TW_IP_STRLEN];
        tw_ip_from_v4(&nets[i], a);
        tw_ip_mask(&nets[i], plen);
        lens[i] = plen;
        tw_ip_format(&nets[i], text);
        len += (size_t)snprintf(expr + len, cap - len, "%s/%u%s", text, plen, i % 2 ? "," : " ");
    }
    len += (size_t)snprintf(expr + len, cap - len, "]");
    assert_true(len < cap);
    f = parse_ok(expr);
    for (size_t i = 0; i < PROBES; i++) {
        uint64_t v = rnd(&s);
        struct tw_flowrec r = rec("1.1.1.1", 1, "2.2.2.2", 2);
        bool want = false;
        tw_ip_from_v4(&r.src, 0x14000000u | (uint32_t)(v & 0x3ffff));
        for (size_t k = 0; k < N && !want; k++)
            want = tw_ip_in_cidr(&r.src, &nets[k], lens[k]);
        assert_int_equal(tw_flowfilter_match(f, &r), want);
        hits += want;
    }
    /* The list covers a real share of the probes (not a vacuous comparison). */
    assert_true(hits > PROBES / 20);
    assert_true(hits < PROBES);
    tw_flowfilter_free(f);
    tw_free(expr);
    tw_free(nets);
    tw_free(lens);
}

static void flowfilter_ports_and_comparisons(void **state)
{
    struct tw_flowrec r = rec("10.0.0.1", 40000, "10.0.0.2", 22);

    (void)state;
    assert_true(m("port 22", &r));
    assert_true(m("port 40000", &r));
    assert_false(m("port 23", &r));
    assert_true(m("dst port 22", &r));
    assert_false(m("src port 22", &r));
    assert_true(m("port = 22", &r));
    assert_true(m("port == 22", &r));
    assert_true(m("dst port < 23", &r));
    assert_false(m("dst port < 22", &r));
    assert_true(m("dst port <= 22", &r));
    assert_true(m("dst port >= 22", &r));
    assert_false(m("dst port > 22", &r));
    assert_true(m("src port > 1024", &r));
    assert_true(m("src port gt 39999", &r));
    assert_false(m("src port lt 40000", &r));
    assert_true(m("src port le 40000", &r));
    assert_true(m("src port ge 40000", &r));
    assert_true(m("dst port eq 22", &r));
    assert_true(m("dst port>=22", &r));
    assert_true(m("port in [4786 23 49 69 161 22]", &r));
    assert_true(m("dst port in [22,23]", &r));
    assert_false(m("src port in [22,23]", &r));
    assert_false(m("port in [0 65535]", &r));
    assert_true(m("port in [40000]", &r));
}

static void flowfilter_proto_names_and_numbers(void **state)
{
    struct tw_flowrec r = rec("10.0.0.1", 1, "10.0.0.2", 2);
    static const struct {
        const char *name;
        uint8_t num;
    } names[] = { { "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmp6", 58 }, { "gre", 47 },
        { "esp", 50 }, { "ah", 51 }, { "sctp", 132 }, { "TCP", 6 }, { "47", 47 }, { "255", 255 },
        { "0", 0 } };

    (void)state;
    for (size_t i = 0; i < TW_ARRAY_LEN(names); i++) {
        char expr[32];
        (void)snprintf(expr, sizeof(expr), "proto %s", names[i].name);
        r.proto = names[i].num;
        assert_true(m(expr, &r));
        r.proto = (uint8_t)(names[i].num + 1);
        assert_false(m(expr, &r));
    }
}

static void flowfilter_exporter_interfaces_vlan_as(void **state)
{
    struct tw_flowrec r = rec("10.0.0.1", 1, "10.0.0.2", 2);

    (void)state;
    r.exporter = ip("192.0.2.250");
    r.in_if = 3;
    r.out_if = 7;
    r.vlan = 100;
    r.src_as = 64500;
    r.dst_as = 64501;
    assert_true(m("exporter 192.0.2.250", &r));
    assert_false(m("exporter 192.0.2.251", &r));
    assert_true(m("exporter 192.0.2.0/24", &r));
    assert_true(m("in if 3", &r));
    assert_false(m("in if 7", &r));
    assert_true(m("out if 7", &r));
    assert_false(m("out if 3", &r));
    assert_true(m("if 3", &r));
    assert_true(m("if 7", &r));
    assert_false(m("if 4", &r));
    assert_true(m("in if > 2", &r));
    assert_true(m("vlan 100", &r));
    assert_false(m("vlan 101", &r));
    assert_true(m("as 64500", &r));
    assert_true(m("dst as 64501", &r));
    assert_false(m("src as 64501", &r));
    /* A record with no exporter (a capture) matches no exporter. */
    r.exporter.family = 0;
    memset(r.exporter.bytes, 0, sizeof(r.exporter.bytes));
    assert_false(m("exporter 0.0.0.0/0", &r));
}

static void flowfilter_bytes_packets_and_scales(void **state)
{
    struct tw_flowrec r = rec("10.0.0.1", 1, "10.0.0.2", 2);

    (void)state;
    r.bytes = 10000000;
    r.packets = 2500;
    assert_true(m("bytes 10000000", &r));
    assert_true(m("bytes = 10m", &r));
    assert_true(m("bytes = 10M", &r));
    assert_true(m("bytes = 10000k", &r));
    assert_false(m("bytes > 10M", &r));
    assert_true(m("bytes >= 10M", &r));
    assert_true(m("bytes < 1g", &r));
    assert_false(m("bytes > 1G", &r));
    assert_true(m("packets > 2k", &r));
    assert_false(m("packets < 2500", &r));
    assert_true(m("packets 2500", &r));
    r.bytes = UINT64_MAX;
    assert_true(m("bytes 18446744073709551615", &r));
    assert_true(m("bytes > 18446744073g", &r));
}

static void flowfilter_tcp_flags(void **state)
{
    struct tw_flowrec r = rec("10.0.0.1", 1, "10.0.0.2", 2);

    (void)state;
    r.tcp_flags = 0x12; /* SYN ACK */
    assert_true(m("flags S", &r));
    assert_true(m("flags SA", &r));
    assert_true(m("flags as", &r));
    assert_false(m("flags F", &r));
    assert_false(m("flags SAF", &r));
    assert_false(m("flags X", &r));
    r.tcp_flags = 0xff;
    assert_true(m("flags X", &r));
    assert_true(m("flags CEUAPRSF", &r));
    /* Flags belong to TCP: a UDP record with the same bits does not match. */
    r.proto = 17;
    assert_false(m("flags S", &r));
}

/* ==== Boolean structure ==== */

static void flowfilter_precedence_and_parentheses(void **state)
{
    struct tw_flowrec r = rec("10.0.0.1", 1, "10.0.0.2", 22);

    (void)state;
    /* "and" binds tighter than "or". */
    assert_true(m("ip 10.0.0.9 and port 1 or proto tcp", &r));
    assert_false(m("ip 10.0.0.9 and (port 1 or proto tcp)", &r));
    assert_true(m("proto udp or port 22 and ip 10.0.0.1", &r));
    assert_false(m("(proto udp or port 22) and ip 10.0.0.9", &r));
    /* "and" may be left out. */
    assert_true(m("proto tcp dst port 22 src ip 10.0.0.1", &r));
    assert_false(m("proto tcp dst port 23", &r));
    /* not applies to the factor after it. */
    assert_true(m("not proto udp", &r));
    assert_false(m("not proto tcp", &r));
    assert_true(m("not proto tcp or port 22", &r));
    assert_false(m("not (proto tcp or port 22)", &r));
    assert_true(m("not not proto tcp", &r));
    assert_true(m("((((port 22))))", &r));
    assert_true(m("any", &r));
    assert_false(m("not any", &r));
    /* Keywords are case-insensitive; whitespace of every kind separates. */
    assert_true(m("PROTO Tcp AND\tDST\nPORT 22 Or ANY", &r));
    assert_true(m("src ip 10.0.0.1 and not dst ip 10.0.0.1", &r));
}

/* A chain of 20,000 "or"s is one node: no deep recursion. */
static void flowfilter_long_or_chain(void **state)
{
    enum { N = 20000 };
    size_t cap = (size_t)N * 16 + 16, len = 0;
    char *expr = tw_malloc(cap);
    struct tw_flowrec hit = rec("10.0.0.1", 1, "10.0.0.2", 19999);
    struct tw_flowrec miss = rec("10.0.0.1", 30000, "10.0.0.2", 20000);
    struct tw_flowfilter *f;

    (void)state;
    assert_non_null(expr);
    for (size_t i = 0; i < N; i++)
        len += (size_t)snprintf(expr + len, cap - len, "%sport %zu", i ? " or " : "", i);
    f = parse_ok(expr);
    assert_true(tw_flowfilter_match(f, &hit));
    assert_false(tw_flowfilter_match(f, &miss));
    tw_flowfilter_free(f);
    tw_free(expr);
}

/* ==== Errors ==== */

struct bad_case {
    const char *expr;
    int code;
    size_t offset;
    const char *msg; /* a part of the message */
};

static void flowfilter_errors_name_offsets(void **state)
{
    static const struct bad_case cases[] = {
        { "", TW_ESYNTAX, 0, "empty filter" },
        { "   ", TW_ESYNTAX, 0, "empty filter" },
        { "ipp 10.0.0.1", TW_ESYNTAX, 0, "unknown filter primitive, found 'ipp'" },
        { "ip", TW_ESYNTAX, 2, "found the end of the filter" },
        { "ip 10.0.0.256", TW_EINVAL, 10, "bad address at 10" },
        { "ip 10.0.0.0/8", TW_EINVAL, 3, "needs 'net'" },
        { "net 10.0.0.0/33", TW_EINVAL, 13, "bad network" },
        { "proto tcp and", TW_ESYNTAX, 13, "found the end of the filter at 13" },
        { "proto tcp or or", TW_ESYNTAX, 13, "found 'or' at 13" },
        { "(proto tcp", TW_ESYNTAX, 10, "expected ')' for the '(' at 0" },
        { "proto tcp)", TW_ESYNTAX, 9, "unmatched ')'" },
        { "port 65536", TW_ERANGE, 5, "at most 65535" },
        { "port -1", TW_ESYNTAX, 5, "expected a port number" },
        { "port => 1", TW_ESYNTAX, 5, "bad comparison" },
        { "port <> 1", TW_ESYNTAX, 5, "bad comparison" },
        { "port in [22 x]", TW_ESYNTAX, 12, "expected a port number, found 'x'" },
        { "port in [22", TW_ESYNTAX, 11, "missing ']' (the list opened at 8) at 11" },
        { "ip in []", TW_ESYNTAX, 6, "empty list" },
        { "ip in [1.2.3.4, 1.2.3]", TW_EINVAL, 21, "bad address" },
        { "ip in 1.2.3.4", TW_ESYNTAX, 6, "expected '['" },
        { "proto tcpx", TW_ESYNTAX, 6, "expected a protocol name or number" },
        { "proto 256", TW_ERANGE, 6, "at most 255" },
        { "src proto tcp", TW_ESYNTAX, 4, "after src/dst" },
        { "in 3", TW_ESYNTAX, 3, "expected 'if'" },
        { "vlan 4096", TW_ERANGE, 5, "at most 4095" },
        { "bytes > 10q", TW_ESYNTAX, 8, "expected a number" },
        { "bytes > 18446744073709551616", TW_ESYNTAX, 8, "expected a number" },
        { "bytes > 18446744074g", TW_ERANGE, 8, "out of range" },
        { "flags SZ", TW_ESYNTAX, 7, "bad TCP flag letter" },
        { "exporter", TW_ESYNTAX, 8, "expected an address or network" },
        { "and proto tcp", TW_ESYNTAX, 0, "found 'and'" },
        { "proto tcp ]", TW_ESYNTAX, 10, "expected 'and', 'or' or the end" },
        { "ip \x01\xff", TW_EINVAL, 3, "bad address" },
    };

    (void)state;
    for (size_t i = 0; i < TW_ARRAY_LEN(cases); i++) {
        struct tw_flowfilter *f = (struct tw_flowfilter *)(uintptr_t)1;
        struct tw_err err;
        int rc;

        tw_err_clear(&err);
        rc = tw_flowfilter_parse(cases[i].expr, &f, &err);
        print_message("'%s' -> %d %zu %s\n", cases[i].expr, rc, err.offset, err.msg);
        assert_int_equal(rc, cases[i].code);
        assert_null(f);
        assert_int_equal(err.code, cases[i].code);
        assert_int_equal(err.offset, cases[i].offset);
        assert_non_null(strstr(err.msg, cases[i].msg));
    }
}

static void flowfilter_depth_is_capped(void **state)
{
    char expr[1024];
    size_t len = 0;
    struct tw_flowfilter *f = NULL;
    struct tw_err err;

    (void)state;
    /* 64 levels are fine, 65 are not. */
    for (int i = 0; i < 32; i++)
        len += (size_t)snprintf(expr + len, sizeof(expr) - len, "not (");
    len += (size_t)snprintf(expr + len, sizeof(expr) - len, "any");
    for (int i = 0; i < 32; i++)
        len += (size_t)snprintf(expr + len, sizeof(expr) - len, ")");
    f = parse_ok(expr);
    tw_flowfilter_free(f);
    (void)snprintf(expr, sizeof(expr), "not ");
    len = 4;
    for (int i = 0; i < 64; i++)
        len += (size_t)snprintf(expr + len, sizeof(expr) - len, "not ");
    (void)snprintf(expr + len, sizeof(expr) - len, "any");
    tw_err_clear(&err);
    assert_int_equal(tw_flowfilter_parse(expr, &f, &err), TW_ELIMIT);
    assert_int_equal(err.offset, 256);
    assert_non_null(strstr(err.msg, "nested too deeply"));
}

/* ==== Columns ==== */

static void flowfilter_columns_read(void **state)
{
    static const struct {
        const char *expr;
        unsigned cols;
    } cases[] = {
        { "any", 0 },
        { "ip 10.0.0.1", TW_FARCH_COL_ADDR },
        { "inet6", TW_FARCH_COL_ADDR },
        { "dst port 22", TW_FARCH_COL_PORTS },
        { "port in [1 2]", TW_FARCH_COL_PORTS },
        { "proto tcp", TW_FARCH_COL_PROTO },
        { "flags S", TW_FARCH_COL_PROTO },
        { "bytes > 1k or packets < 3", TW_FARCH_COL_COUNTERS },
        { "in if 3 and vlan 2", TW_FARCH_COL_IFACE },
        { "as 1", TW_FARCH_COL_ROUTING },
        { "exporter 192.0.2.1", TW_FARCH_COL_EXPORTER },
        { "not (net 10.0.0.0/8 and port 53) or proto udp",
                TW_FARCH_COL_ADDR | TW_FARCH_COL_PORTS | TW_FARCH_COL_PROTO },
    };

    (void)state;
    for (size_t i = 0; i < TW_ARRAY_LEN(cases); i++) {
        struct tw_flowfilter *f = parse_ok(cases[i].expr);
        assert_int_equal(tw_flowfilter_columns(f), cases[i].cols);
        tw_flowfilter_free(f);
    }
}

/* ==== Allocation failure ==== */

static void flowfilter_parse_survives_allocation_failure(void **state)
{
    const char *expr = "(ip in [10.0.0.1 10.0.0.0/8 2001:db8::1 2001:db8::/32] or net ::/0) "
                       "and not port in [22 23] and proto tcp or exporter 192.0.2.1 and "
                       "bytes > 10k";
    struct tw_flowrec r = rec("10.1.1.1", 1, "192.0.2.1", 2);
    bool done = false;
    long n;

    (void)state;
    for (n = 0; !done && n < 1000; n++) {
        struct tw_flowfilter *f = NULL;
        struct tw_err err;
        int rc;
        tw_err_clear(&err);
        tw_alloc_fail_after(n);
        rc = tw_flowfilter_parse(expr, &f, &err);
        tw_alloc_fail_reset();
        assert_true(rc == TW_OK || rc == TW_ENOMEM);
        assert_true(rc == TW_OK || f == NULL);
        done = rc == TW_OK;
        assert_true(!done || tw_flowfilter_match(f, &r));
        tw_flowfilter_free(f);
    }
    assert_true(done);
    assert_true(n > 5);
}

/* ==== may_match ==== */

static void summarise(const struct tw_flowrec *r, size_t n, struct tw_farch_summary *s)
{
    memset(s, 0, sizeof(*s));
    s->records = n;
    s->first_ms = INT64_MAX;
    s->last_ms = INT64_MIN;
    s->src4_min = s->dst4_min = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        s->first_ms = TW_MIN(s->first_ms, r[i].first_ms);
        s->last_ms = TW_MAX(s->last_ms, r[i].last_ms);
        s->protos[r[i].proto >> 3] |= (uint8_t)(1u << (r[i].proto & 7));
        if (r[i].src.family == 6) {
            s->has_v6 = true;
            continue;
        }
        s->has_v4 = true;
        s->src4_min = TW_MIN(s->src4_min, tw_ip_v4(&r[i].src));
        s->src4_max = TW_MAX(s->src4_max, tw_ip_v4(&r[i].src));
        s->dst4_min = TW_MIN(s->dst4_min, tw_ip_v4(&r[i].dst));
        s->dst4_max = TW_MAX(s->dst4_max, tw_ip_v4(&r[i].dst));
    }
}

static bool may(const char *expr, const struct tw_farch_summary *s)
{
    struct tw_flowfilter *f = parse_ok(expr);
    bool yes = tw_flowfilter_may_match(f, s);

    tw_flowfilter_free(f);
    return yes;
}

static void flowfilter_may_match_skips_what_cannot_match(void **state)
{
    struct tw_flowrec r[3] = { rec("10.0.0.5", 1, "192.0.2.10", 53),
        rec("10.0.0.9", 1, "192.0.2.20", 53), rec("10.0.0.7", 1, "192.0.2.15", 53) };
    struct tw_farch_summary s;

    (void)state;
    r[1].proto = 17;
    summarise(r, 3, &s);
    assert_true(may("ip 10.0.0.5", &s));
    assert_true(may("src ip 10.0.0.6", &s)); /* inside the range: cannot tell */
    assert_false(may("src ip 10.0.0.10", &s));
    assert_false(may("dst ip 10.0.0.5", &s));
    assert_true(may("dst net 192.0.2.16/28", &s));
    assert_false(may("dst net 192.0.2.32/27", &s));
    assert_false(may("ip in [1.1.1.1 172.16.0.0/12 2001:db8::1]", &s));
    assert_true(may("ip in [1.1.1.1 172.16.0.0/12 192.0.2.20]", &s));
    assert_false(may("ip 10.0.0.5 and inet6", &s));
    assert_true(may("ip 10.0.0.5 or inet6", &s));
    assert_false(may("proto icmp", &s));
    assert_true(may("proto udp", &s));
    assert_false(may("not (proto tcp or proto udp)", &s));
    assert_true(may("not proto tcp", &s));
    assert_false(may("flags S and proto udp and not proto udp", &s));
    assert_false(may("not any", &s));
    assert_true(may("port 9", &s)); /* ports are not summarised */
    assert_true(may("not ip 10.0.0.5", &s));
    /* An IPv6 record in the block: any address may be there. */
    r[2] = rec("2001:db8::1", 1, "2001:db8::2", 53);
    summarise(r, 3, &s);
    assert_true(may("src ip 172.16.0.1", &s));
    assert_false(may("proto icmp", &s));
    /* An empty block holds nothing. */
    s.records = 0;
    assert_false(may("any", &s));
}

/* One random primitive from small pools, so that matches are frequent. */
static size_t random_prim(uint64_t *seed, char *out, size_t cap)
{
    static const char *const addrs[] = { "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.1.1",
        "192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2", "::ffff:10.0.0.2" };
    static const char *const nets[] = { "10.0.0.0/30", "10.0.0.0/24", "192.0.2.0/31",
        "2001:db8::/126", "0.0.0.0/0", "::/0", "10.0.1.0/24", "192.0.2.2/32" };
    static const char *const dirs[] = { "", "src ", "dst " };
    static const char *const others[] = { "proto tcp", "proto udp", "proto 47", "port 53",
        "dst port > 1000", "inet", "inet6", "any", "flags S", "bytes > 500", "port in [53 80]" };
    uint64_t v = rnd(seed);
    const char *dir = dirs[(v >> 8) % 3];

    switch (v % 4) {
        case 0:
            return (size_t)snprintf(out, cap, "%sip %s", dir, addrs[(v >> 16) % 9]);
        case 1:
            return (size_t)snprintf(out, cap, "%snet %s", dir, nets[(v >> 16) % 8]);
        case 2:
            return (size_t)snprintf(
                    out, cap, "%sip in [%s %s]", dir, addrs[(v >> 16) % 9], nets[(v >> 24) % 8]);
        default:
            return (size_t)snprintf(out, cap, "%s", others[(v >> 16) % 11]);
    }
}

/* A random expression of depth at most `depth`. */
static size_t random_expr(uint64_t *seed, int depth, char *out, size_t cap)
{
    uint64_t v = rnd(seed);
    size_t len;

    if (depth == 0 || v % 3 == 0)
        return random_prim(seed, out, cap);
    switch ((v >> 8) % 3) {
        case 0:
            len = (size_t)snprintf(out, cap, "not (");
            len += random_expr(seed, depth - 1, out + len, cap - len);
            return len + (size_t)snprintf(out + len, cap - len, ")");
        case 1:
            len = (size_t)snprintf(out, cap, "(");
            len += random_expr(seed, depth - 1, out + len, cap - len);
            len += (size_t)snprintf(out + len, cap - len, " and ");
            len += random_expr(seed, depth - 1, out + len, cap - len);
            return len + (size_t)snprintf(out + len, cap - len, ")");
        default:
            len = (size_t)snprintf(out, cap, "(");
            len += random_expr(seed, depth - 1, out + len, cap - len);
            len += (size_t)snprintf(out + len, cap - len, " or ");
            len += random_expr(seed, depth - 1, out + len, cap - len);
            return len + (size_t)snprintf(out + len, cap - len, ")");
    }
}

static struct tw_flowrec random_rec(uint64_t *seed)
{
    static const char *const v4[] = { "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.1.1", "192.0.2.1",
        "192.0.2.2", "192.0.2.3", "172.16.0.1" };
    static const char *const v6[] = { "2001:db8::1", "2001:db8::2", "2001:db8::7",
        "::ffff:10.0.0.2", "fe80::1" };
    static const uint8_t protos[] = { 6, 17, 47, 1 };
    uint64_t v = rnd(seed);
    struct tw_flowrec r;

    if (v % 5 == 0)
        r = rec(v6[(v >> 8) % 5], 1, v6[(v >> 16) % 5], 2);
    else
        r = rec(v4[(v >> 8) % 8], 1, v4[(v >> 16) % 8], 2);
    r.sport = (uint16_t)((v >> 24) % 2 ? 53 : 40000);
    r.dport = (uint16_t)((v >> 25) % 2 ? 80 : 999);
    r.proto = protos[(v >> 26) % 4];
    r.tcp_flags = (uint8_t)(v >> 28);
    r.bytes = (v >> 36) % 1000;
    return r;
}

static void flowfilter_may_match_is_sound(void **state)
{
    enum { ROUNDS = 3000, BLOCK = 4 };
    uint64_t seed = 7;
    size_t skipped = 0, matched = 0;

    (void)state;
    for (size_t round = 0; round < ROUNDS; round++) {
        struct tw_flowrec r[BLOCK];
        struct tw_farch_summary s;
        struct tw_flowfilter *f;
        char expr[4096];
        bool any = false, may_match;
        size_t n = 1 + rnd(&seed) % BLOCK;

        for (size_t i = 0; i < n; i++)
            r[i] = random_rec(&seed);
        summarise(r, n, &s);
        (void)random_expr(&seed, 3, expr, sizeof(expr));
        f = parse_ok(expr);
        for (size_t i = 0; i < n; i++)
            any = any || tw_flowfilter_match(f, &r[i]);
        may_match = tw_flowfilter_may_match(f, &s);
        if (any && !may_match)
            fail_msg("may_match is false but a record matches '%s'", expr);
        skipped += !may_match;
        matched += any;
        tw_flowfilter_free(f);
    }
    /* Both outcomes occur often: the test exercises real skips and real matches. */
    assert_true(skipped > ROUNDS / 20);
    assert_true(matched > ROUNDS / 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flowfilter_ip_host_net_and_directions),
        cmocka_unit_test(flowfilter_ipv6_and_mapped),
        cmocka_unit_test(flowfilter_ip_in_lists),
        cmocka_unit_test(flowfilter_large_list_matches_linear_scan),
        cmocka_unit_test(flowfilter_ports_and_comparisons),
        cmocka_unit_test(flowfilter_proto_names_and_numbers),
        cmocka_unit_test(flowfilter_exporter_interfaces_vlan_as),
        cmocka_unit_test(flowfilter_bytes_packets_and_scales),
        cmocka_unit_test(flowfilter_tcp_flags),
        cmocka_unit_test(flowfilter_precedence_and_parentheses),
        cmocka_unit_test(flowfilter_long_or_chain),
        cmocka_unit_test(flowfilter_errors_name_offsets),
        cmocka_unit_test(flowfilter_depth_is_capped),
        cmocka_unit_test(flowfilter_columns_read),
        cmocka_unit_test(flowfilter_parse_survives_allocation_failure),
        cmocka_unit_test(flowfilter_may_match_skips_what_cannot_match),
        cmocka_unit_test(flowfilter_may_match_is_sound),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
