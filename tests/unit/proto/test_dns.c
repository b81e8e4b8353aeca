/*
 * test_dns.c: DNS message parsing, name compression and its abuse, TCP framing.
 */
#include <stdint.h>
#include <string.h>

#include "pcap_stream.h"
#include "tidewatch/addr.h"
#include "tidewatch/alloc.h"
#include "tidewatch/dns.h"
#include "tidewatch/err.h"
#include "tw_test.h"

static struct tw_dns_msg msg; /* about 70 KiB: kept off the stack */

/* A query for "Example.COM" A IN, recursion desired. */
static const uint8_t query[] = {
    0xbe, 0xef,             /* id 0xbeef */
    0x01, 0x00,             /* flags: query, opcode 0, RD */
    0x00, 0x01, 0x00, 0x00, /* qdcount 1, ancount 0 */
    0x00, 0x00, 0x00, 0x00, /* nscount 0, arcount 0 */
    /* qname: 7 "Example" 3 "COM" 0 */
    0x07, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'C', 'O', 'M', 0x00, 0x00, 0x01, /* qtype A */
    0x00, 0x01,                                                                     /* qclass IN */
};

/*
 * A response for www.example.com with compression throughout: a CNAME to
 * web.example.com, its A and AAAA, a TXT on example.com and an MX.
 */
static const uint8_t response[] = {
    0x12,
    0x34, /* id 0x1234 */
    0x81,
    0x80, /* flags: response, RD, RA, rcode 0 */
    0x00,
    0x01,
    0x00,
    0x05, /* qdcount 1, ancount 5 */
    0x00,
    0x00,
    0x00,
    0x00, /* nscount 0, arcount 0 */
    /* @12 qname: 3 "wWw" @16 7 "example" @24 3 "com" 0 */
    0x03,
    'w',
    'W',
    'w',
    0x07,
    'e',
    'x',
    'a',
    'm',
    'p',
    'l',
    'e',
    0x03,
    'c',
    'o',
    'm',
    0x00,
    0x00,
    0x01,
    0x00,
    0x01, /* qtype A, qclass IN */
    /* @33 answer 1: -> @12 www.example.com CNAME IN ttl 300, 6 bytes */
    0xc0,
    0x0c,
    0x00,
    0x05,
    0x00,
    0x01,
    0x00,
    0x00,
    0x01,
    0x2c,
    0x00,
    0x06,
    /* @45 rdata: 3 "web" -> @16 example.com */
    0x03,
    'w',
    'e',
    'b',
    0xc0,
    0x10,
    /* @51 answer 2: -> @45 web.example.com A IN ttl 60: 93.184.216.34 */
    0xc0,
    0x2d,
    0x00,
    0x01,
    0x00,
    0x01,
    0x00,
    0x00,
    0x00,
    0x3c,
    0x00,
    0x04,
    93,
    184,
    216,
    34,
    /* @67 answer 3: -> @45 AAAA IN ttl 60: 2606:2800:220:1:248:1893:25c8:1946 */
    0xc0,
    0x2d,
    0x00,
    0x1c,
    0x00,
    0x01,
    0x00,
    0x00,
    0x00,
    0x3c,
    0x00,
    0x10,
    0x26,
    0x06,
    0x28,
    0x00,
    0x02,
    0x20,
    0x00,
    0x01,
    0x02,
    0x48,
    0x18,
    0x93,
    0x25,
    0xc8,
    0x19,
    0x46,
    /* @95 answer 4: -> @16 example.com TXT IN ttl 3600, 12 bytes: 11 "v=spf1 -all" */
    0xc0,
    0x10,
    0x00,
    0x10,
    0x00,
    0x01,
    0x00,
    0x00,
    0x0e,
    0x10,
    0x00,
    0x0c,
    0x0b,
    'v',
    '=',
    's',
    'p',
    'f',
    '1',
    ' ',
    '-',
    'a',
    'l',
    'l',
    /* @119 answer 5: -> @16 example.com MX IN ttl 3600, 9 bytes: pref 10, 4 "mail" -> @16 */
    0xc0,
    0x10,
    0x00,
    0x0f,
    0x00,
    0x01,
    0x00,
    0x00,
    0x0e,
    0x10,
    0x00,
    0x09,
    0x00,
    0x0a,
    0x04,
    'm',
    'a',
    'i',
    'l',
    0xc0,
    0x10,
};

static void dns_parses_query(void **state)
{
    struct tw_err err;

    (void)state;
    assert_int_equal(tw_dns_parse(query, sizeof(query), &msg, &err), TW_OK);
    assert_int_equal(msg.id, 0xbeef);
    assert_false(msg.qr);
    assert_true(msg.rd);
    assert_int_equal(msg.opcode, 0);
    assert_int_equal(msg.n_questions, 1);
    assert_string_equal(msg.q[0].name, "example.com");
    assert_int_equal(msg.q[0].name_len, 11);
    assert_int_equal(msg.q[0].qtype, TW_DNS_TYPE_A);
    assert_int_equal(msg.q[0].qclass, 1);
    assert_int_equal(msg.n_rrs, 0);
    assert_int_equal(msg.len, sizeof(query));
}

static void dns_parses_compressed_response(void **state)
{
    char ip[TW_IP_STRLEN];

    (void)state;
    assert_int_equal(tw_dns_parse(response, sizeof(response), &msg, NULL), TW_OK);
    assert_true(msg.qr);
    assert_true(msg.ra);
    assert_int_equal(msg.rcode, 0);
    assert_string_equal(msg.q[0].name, "www.example.com");
    assert_int_equal(msg.n_rrs, 5);

    assert_string_equal(msg.rr[0].name, "www.example.com");
    assert_int_equal(msg.rr[0].rrtype, TW_DNS_TYPE_CNAME);
    assert_int_equal(msg.rr[0].ttl, 300);
    assert_int_equal(msg.rr[0].kind, TW_DNS_RDATA_NAME);
    assert_string_equal(msg.rr[0].data, "web.example.com");
    assert_int_equal(msg.rr[0].section, TW_DNS_SEC_ANSWER);

    assert_string_equal(msg.rr[1].name, "web.example.com");
    assert_int_equal(msg.rr[1].kind, TW_DNS_RDATA_ADDR);
    assert_int_equal(tw_ip_format(&msg.rr[1].addr, ip), 13);
    assert_string_equal(ip, "93.184.216.34");

    assert_int_equal(msg.rr[2].rrtype, TW_DNS_TYPE_AAAA);
    assert_true(tw_ip_format(&msg.rr[2].addr, ip) > 0);
    assert_string_equal(ip, "2606:2800:220:1:248:1893:25c8:1946");

    assert_string_equal(msg.rr[3].name, "example.com");
    assert_int_equal(msg.rr[3].kind, TW_DNS_RDATA_TEXT);
    assert_int_equal(msg.rr[3].data_len, 11);
    assert_string_equal(msg.rr[3].data, "v=spf1 -all");

    assert_int_equal(msg.rr[4].pref, 10);
    assert_string_equal(msg.rr[4].data, "mail.example.com");
    assert_int_equal(msg.len, sizeof(response));
}

/* Every prefix is either incomplete or (header-only prefixes aside) never OK. */
static void dns_every_prefix_is_truncated(void **state)
{
    (void)state;
    for (size_t n = 0; n < sizeof(response); n++)
        assert_int_equal(tw_dns_parse(response, n, &msg, NULL), TW_ETRUNC);
    for (size_t n = 0; n < sizeof(query); n++)
        assert_int_equal(tw_dns_parse(query, n, &msg, NULL), TW_ETRUNC);
}

static void dns_rejects_pointer_loops(void **state)
{
    /* qname is a pointer to itself */
    static const uint8_t self[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1 };
    /* @12 points to @14, which points back to @12 */
    static const uint8_t pair[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0e, 0xc0, 0x0c, 0,
        1, 0, 1 };
    /* @12 label "a" then a pointer back to @12: a name that grows with every turn */
    static const uint8_t grow[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x01, 'a', 0xc0, 0x0c, 0, 1,
        0, 1 };
    struct tw_err err;

    (void)state;
    assert_int_equal(tw_dns_parse(self, sizeof(self), &msg, &err), TW_EINVAL);
    assert_int_equal(err.offset, 12);
    assert_int_equal(tw_dns_parse(pair, sizeof(pair), &msg, &err), TW_EINVAL);
    assert_int_equal(tw_dns_parse(grow, sizeof(grow), &msg, &err), TW_EINVAL);
}

static void dns_rejects_bad_names_and_lengths(void **state)
{
    uint8_t b[512];
    struct tw_err err;
    size_t n = 12;

    (void)state;
    /* 128 one-byte labels: 256 bytes of wire name, over the 255 limit */
    memset(b, 0, sizeof(b));
    b[5] = 1;
    for (int i = 0; i < 128; i++) {
        b[n++] = 1;
        b[n++] = 'a';
    }
    b[n++] = 0;
    n += 4;
    assert_int_equal(tw_dns_parse(b, n, &msg, &err), TW_EINVAL);
    assert_int_equal(err.offset, 12 + 2 * 127);

    /* label type 01 (extended labels, RFC 6891) */
    memcpy(b, query, sizeof(query));
    b[12] = 0x41;
    assert_int_equal(tw_dns_parse(b, sizeof(query), &msg, &err), TW_EINVAL);
    assert_int_equal(err.offset, 12);

    /* an A record of 5 bytes */
    memcpy(b, response, sizeof(response));
    b[51 + 11] = 5;
    assert_int_equal(tw_dns_parse(b, sizeof(response), &msg, &err), TW_EINVAL);

    /* a TXT string longer than its record */
    memcpy(b, response, sizeof(response));
    b[107] = 12;
    assert_int_equal(tw_dns_parse(b, sizeof(response), &msg, &err), TW_EINVAL);
    assert_int_equal(err.offset, 107);

    /* a CNAME whose name runs past its rdlength */
    memcpy(b, response, sizeof(response));
    b[33 + 11] = 4;
    assert_int_equal(tw_dns_parse(b, sizeof(response), &msg, &err), TW_EINVAL);

    /* an rdlength that runs past the end of the message */
    memcpy(b, response, sizeof(response));
    b[119 + 11] = 0xff;
    assert_int_equal(tw_dns_parse(b, sizeof(response), &msg, &err), TW_ETRUNC);

    /* a pointer past the end of the message */
    memcpy(b, query, sizeof(query));
    b[12] = 0xc0;
    b[13] = 0xff;
    assert_int_equal(tw_dns_parse(b, sizeof(query), &msg, &err), TW_ETRUNC);
}

static void dns_root_and_escaped_names(void **state)
{
    /* question 1: the root (a 0-length name), NS; question 2: 5 "A.b c" 1 0x00 0 */
    static const uint8_t q[] = {
        0, 7, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0,               /* header: 2 questions */
        0x00, 0x00, 0x02, 0x00, 0x01,                     /* root, NS, IN */
        0x05, 'A', '.', 'b', ' ', '\\', 0x01, 0x00, 0x00, /* "A.b \" then "\0" */
        0x00, 0x10, 0x00, 0x01,                           /* TXT, IN */
    };

    (void)state;
    assert_int_equal(tw_dns_parse(q, sizeof(q), &msg, NULL), TW_OK);
    assert_int_equal(msg.n_questions, 2);
    assert_string_equal(msg.q[0].name, "");
    assert_int_equal(msg.q[0].name_len, 0);
    assert_int_equal(msg.q[0].qtype, TW_DNS_TYPE_NS);
    assert_string_equal(msg.q[1].name, "a\\.b\\032\\\\.\\000");
}

/* More records than the struct keeps: they are walked and counted. */
static void dns_bounds_kept_records(void **state)
{
    uint8_t b[33 + 40 * 16];
    size_t n = 0;

    (void)state;
    memcpy(b, response, 33); /* header and the www.example.com question */
    b[7] = 40;               /* ancount 40 */
    n = 33;
    for (int i = 0; i < 40; i++) {
        static const uint8_t a[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4 };

        memcpy(b + n, a, sizeof(a));
        n += sizeof(a);
        b[n++] = 10;
        b[n++] = 0;
        b[n++] = 0;
        b[n++] = (uint8_t)i;
    }
    assert_int_equal(tw_dns_parse(b, n, &msg, NULL), TW_OK);
    assert_int_equal(msg.n_rrs, TW_DNS_MAX_RRS);
    assert_int_equal(msg.n_rrs_dropped, 40 - TW_DNS_MAX_RRS);
    assert_int_equal(msg.rr[31].addr.bytes[3], 31);
}

static void dns_tcp_framing(void **state)
{
    uint8_t b[2 + sizeof(query) + 3];
    size_t need = 0;
    struct tw_err err;

    (void)state;
    b[0] = 0;
    b[1] = sizeof(query);
    memcpy(b + 2, query, sizeof(query));
    memcpy(b + 2 + sizeof(query), "\x00\x0c\x00", 3); /* the start of a next message */
    assert_int_equal(tw_dns_tcp_need(b, 0, &need), TW_ETRUNC);
    assert_int_equal(need, 2);
    assert_int_equal(tw_dns_tcp_need(b, 1, &need), TW_ETRUNC);
    assert_int_equal(tw_dns_tcp_need(b, 5, &need), TW_ETRUNC);
    assert_int_equal(need, 2 + sizeof(query));
    assert_int_equal(tw_dns_tcp_need(b, sizeof(b), &need), TW_OK);
    for (size_t n = 0; n < 2 + sizeof(query); n++)
        assert_int_equal(tw_dns_parse_tcp(b, n, &msg, NULL), TW_ETRUNC);
    assert_int_equal(tw_dns_parse_tcp(b, sizeof(b), &msg, NULL), TW_OK);
    assert_string_equal(msg.q[0].name, "example.com");
    assert_int_equal(tw_dns_tcp_need((const uint8_t *)"\x00\x05", 2, &need), TW_EINVAL);
    /* inside a complete frame, running out is malformed, and offsets count the prefix */
    b[1] = sizeof(query) - 1;
    assert_int_equal(tw_dns_parse_tcp(b, sizeof(b), &msg, &err), TW_EINVAL);
    assert_int_equal(err.offset, 2 + sizeof(query) - 4);
    assert_string_equal(tw_dns_type_name(28), "AAAA");
    assert_null(tw_dns_type_name(4242));
}

static void dns_survives_byte_flips(void **state)
{
    uint8_t b[sizeof(response)];

    (void)state;
    for (size_t i = 0; i < sizeof(b); i++) {
        for (unsigned v = 0; v < 256; v += 17) {
            int rc;

            memcpy(b, response, sizeof(b));
            b[i] = (uint8_t)v;
            rc = tw_dns_parse(b, sizeof(b), &msg, NULL);
            assert_true(rc == TW_OK || rc == TW_EINVAL || rc == TW_ETRUNC);
        }
    }
}

/*
 * suricata-verify dns-tcp-www-google-com: one query and one response with many
 * answers over TCP (test.yaml expects one request and one response event).
 */
static void dns_real_capture_over_tcp(void **state)
{
    const char *path = tw_test_shared("pcap/dns_dns-tcp-www-google-com/dns.pcap");
    uint8_t buf[4096];
    char ip[TW_IP_STRLEN];
    char *file;
    size_t flen;
    long n;

    (void)state;
    if (path == NULL)
        skip();
    file = tw_test_slurp(path, &flen);
    n = pcs_tcp_stream((const uint8_t *)file, flen, 0, 53, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(tw_dns_parse_tcp(buf, (size_t)n, &msg, NULL), TW_OK);
    assert_false(msg.qr);
    assert_int_equal(msg.id, 0x5f78);
    assert_string_equal(msg.q[0].name, "www.google.com");
    assert_int_equal(msg.q[0].qtype, TW_DNS_TYPE_A);
    assert_int_equal(msg.n_rrs, 1);
    assert_int_equal(msg.rr[0].rrtype, TW_DNS_TYPE_OPT);

    n = pcs_tcp_stream((const uint8_t *)file, flen, 53, 0, buf, sizeof(buf));
    assert_true(n > 0);
    for (size_t k = 0; k < (size_t)n; k++)
        assert_true(tw_dns_parse_tcp(buf, k, &msg, NULL) == TW_ETRUNC);
    assert_int_equal(tw_dns_parse_tcp(buf, (size_t)n, &msg, NULL), TW_OK);
    assert_true(msg.qr);
    assert_int_equal(msg.id, 0x5f78);
    assert_int_equal(msg.ancount, 12);
    assert_int_equal(msg.n_rrs, 13); /* 12 A and the OPT */
    assert_string_equal(msg.rr[0].name, "www.google.com");
    assert_true(tw_ip_format(&msg.rr[0].addr, ip) > 0);
    assert_string_equal(ip, "216.197.242.244");
    assert_true(tw_ip_format(&msg.rr[11].addr, ip) > 0);
    assert_string_equal(ip, "216.197.242.216");
    assert_int_equal(msg.rr[12].section, TW_DNS_SEC_ADDITIONAL);
    tw_free(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dns_parses_query),
        cmocka_unit_test(dns_parses_compressed_response),
        cmocka_unit_test(dns_every_prefix_is_truncated),
        cmocka_unit_test(dns_rejects_pointer_loops),
        cmocka_unit_test(dns_rejects_bad_names_and_lengths),
        cmocka_unit_test(dns_root_and_escaped_names),
        cmocka_unit_test(dns_bounds_kept_records),
        cmocka_unit_test(dns_tcp_framing),
        cmocka_unit_test(dns_survives_byte_flips),
        cmocka_unit_test(dns_real_capture_over_tcp),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
