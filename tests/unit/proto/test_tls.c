/*
 * test_tls.c: ClientHello parsing, JA3 and JA4.
 *
 * Expected JA3 values come from tshark 4.0 (tls.handshake.ja3_full and
 * tls.handshake.ja3) on the same bytes; expected JA4 values come from
 * Suricata: its unit-test vectors (rust/src/ja4.rs) and the suricata-verify
 * ja4-tls expectation in ../shared/data/pcap/ja4-tls/test.yaml.
 */
#include <stdint.h>
#include <string.h>

#include "pcap_stream.h"
#include "tidewatch/alloc.h"
#include "tidewatch/err.h"
#include "tidewatch/tls.h"
#include "tls_hellos.h"
#include "tw_test.h"

static struct tw_tls_hello hello; /* large: kept off the stack */

/* Parses a whole record stream and checks JA3 string, JA3 hash and JA4. */
static void check_prints(
        const uint8_t *p, size_t len, const char *ja3, const char *ja3_md5, const char *ja4)
{
    char s[TW_TLS_JA3_STRMAX];
    char h[TW_TLS_JA3_HEXLEN];
    char j4[TW_TLS_JA4_STRLEN];
    struct tw_err err;

    tw_err_clear(&err);
    assert_int_equal(tw_tls_parse_client_hello(p, len, &hello, &err), TW_OK);
    assert_int_equal(tw_tls_ja3(&hello, s, sizeof(s)), (int)strlen(ja3));
    assert_string_equal(s, ja3);
    tw_tls_ja3_hash(&hello, h);
    assert_string_equal(h, ja3_md5);
    tw_tls_ja4(&hello, TW_JA4_TCP, j4);
    assert_string_equal(j4, ja4);
}

/* Every proper prefix of a valid stream must ask for more bytes. */
static void check_prefixes(const uint8_t *p, size_t len, size_t hello_end)
{
    for (size_t n = 0; n < hello_end; n++)
        assert_int_equal(tw_tls_parse_client_hello(p, n, &hello, NULL), TW_ETRUNC);
    for (size_t n = hello_end; n <= len; n++)
        assert_int_equal(tw_tls_parse_client_hello(p, n, &hello, NULL), TW_OK);
}

static void tls_openssl13_fields_and_prints(void **state)
{
    (void)state;
    check_prints(hello_openssl13, sizeof(hello_openssl13),
            "771,4866-4867-4865-49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-"
            "107-49187-49191-103-49162-49172-57-49161-49171-51-157-156-61-60-53-47-255,"
            "0-11-10-35-16-22-23-13-43-45-51,29-23-30-25-24-256-257-258-259-260,0-1-2",
            "5a1edc7f170af1014fc65c994878e63c", "t13d3111h2_e8f1e7e78f70_1f22a2ca17c4");
    assert_int_equal(hello.record_version, 0x0301);
    assert_int_equal(hello.legacy_version, 0x0303);
    assert_int_equal(hello.max_version, 0x0304);
    assert_true(hello.has_sni);
    assert_string_equal(hello.sni, "www.example.com.");
    assert_int_equal(hello.sni_len, 16);
    assert_int_equal(hello.n_alpn, 2);
    assert_memory_equal(hello.alpn[0].name, "h2", 2);
    assert_int_equal(hello.alpn[1].len, 8);
    assert_memory_equal(hello.alpn[1].name, "http/1.1", 8);
    assert_int_equal(hello.n_versions, 4); /* 1.3, 1.2, 1.1, 1.0 */
    assert_int_equal(hello.versions[0], 0x0304);
    assert_int_equal(hello.n_ciphers, 31);
    assert_int_equal(hello.n_exts, 11);
    assert_int_equal(hello.n_groups, 10);
    assert_int_equal(hello.n_pointfmts, 3);
    assert_true(hello.n_sigalgs > 0);
    assert_int_equal(hello.session_id_len, 32);
    assert_int_equal(hello.flags, 0);
    assert_int_equal(hello.consumed, sizeof(hello_openssl13));
    assert_int_equal(hello.hello_len, sizeof(hello_openssl13) - 5);
}

static void tls_without_sni(void **state)
{
    (void)state;
    check_prints(hello_openssl12_nosni, sizeof(hello_openssl12_nosni),
            "771,49196-49200-159-52393-52392-52394-49195-49199-158-49188-49192-107-49187-49191-"
            "103-49162-49172-57-49161-49171-51-157-156-61-60-53-47-255,11-10-22-23-13,"
            "29-23-30-25-24,0-1-2",
            "da2d07d073fb1a692629af125bfe875e", "t12i280500_d943125447b4_a44c6288192a");
    assert_false(hello.has_sni);
    assert_int_equal(hello.sni_len, 0);
    assert_string_equal(hello.sni, "");
    assert_int_equal(hello.n_alpn, 0);
    assert_int_equal(hello.max_version, 0x0303);
}

static void tls_grease_is_left_out(void **state)
{
    (void)state;
    check_prints(hello_grease, sizeof(hello_grease),
            "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,"
            "0-23-65281-10-11-35-16-5-13-18-51-45-43-27,29-23-24,0",
            "7f805430de1e7d98b1de033adb58cf46", "t13d1514h2_8daaf6152771_bc9a4605e104");
    /* GREASE stays in the kept lists; only the fingerprints drop it. */
    assert_int_equal(hello.ciphers[0], 0x4a4a);
    assert_int_equal(hello.exts[0], 0x2a2a);
    assert_true(tw_tls_is_grease(hello.groups[0]));
    assert_int_equal(hello.max_version, 0x0304);
    assert_string_equal(hello.sni, "mail.google.com");
    assert_false(tw_tls_is_grease(0x0a0b));
    assert_false(tw_tls_is_grease(0x1a2a));
    assert_true(tw_tls_is_grease(0xfafa));
}

/* The same hello cut into 7-byte records gives the same answers. */
static void tls_hello_across_records(void **state)
{
    const uint8_t *hs = hello_grease + 5;
    size_t hs_len = sizeof(hello_grease) - 5;
    uint8_t stream[2048];
    size_t n = 0;

    (void)state;
    for (size_t i = 0; i < hs_len; i += 7) {
        size_t k = TW_MIN((size_t)7, hs_len - i);

        stream[n++] = 0x16;
        stream[n++] = 0x03;
        stream[n++] = 0x01;
        stream[n++] = 0x00;
        stream[n++] = (uint8_t)k;
        memcpy(stream + n, hs + i, k);
        n += k;
    }
    check_prints(stream, n,
            "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,"
            "0-23-65281-10-11-35-16-5-13-18-51-45-43-27,29-23-24,0",
            "7f805430de1e7d98b1de033adb58cf46", "t13d1514h2_8daaf6152771_bc9a4605e104");
    assert_int_equal(hello.consumed, n);
    check_prefixes(stream, n, n);
}

static void tls_every_prefix_asks_for_more(void **state)
{
    uint8_t longer[sizeof(hello_openssl13) + 6];

    (void)state;
    check_prefixes(hello_openssl13, sizeof(hello_openssl13), sizeof(hello_openssl13));
    check_prefixes(
            hello_openssl12_nosni, sizeof(hello_openssl12_nosni), sizeof(hello_openssl12_nosni));
    check_prefixes(hello_grease, sizeof(hello_grease), sizeof(hello_grease));
    /* Bytes after the hello (the next record) are not needed. */
    memcpy(longer, hello_openssl13, sizeof(hello_openssl13));
    memcpy(longer + sizeof(hello_openssl13), "\x14\x03\x03\x00\x01\x01", 6);
    check_prefixes(longer, sizeof(longer), sizeof(hello_openssl13));
}

static void tls_rejects_malformed(void **state)
{
    uint8_t b[sizeof(hello_grease)];
    struct tw_err err;
    size_t ext0 = 5 + 4 + 2 + 32 + 33 + 2 + 32 + 2 + 2; /* first extension header */

    (void)state;
    /* not a handshake record: application data */
    memcpy(b, hello_grease, sizeof(b));
    b[0] = 0x17;
    assert_int_equal(tw_tls_parse_client_hello(b, sizeof(b), &hello, &err), TW_EINVAL);
    assert_int_equal(err.offset, 0);
    /* a ServerHello is not a ClientHello */
    memcpy(b, hello_grease, sizeof(b));
    b[5] = 2;
    assert_int_equal(tw_tls_parse_client_hello(b, sizeof(b), &hello, &err), TW_EINVAL);
    assert_int_equal(err.offset, 5);
    /* an odd cipher-suite length */
    memcpy(b, hello_grease, sizeof(b));
    b[5 + 4 + 2 + 32 + 33 + 1] ^= 1;
    assert_int_equal(tw_tls_parse_client_hello(b, sizeof(b), &hello, &err), TW_EINVAL);
    /* an extension whose length runs past the extension block */
    memcpy(b, hello_grease, sizeof(b));
    assert_int_equal(b[ext0], 0x2a);
    b[ext0 + 2] = 0x7f;
    assert_int_equal(tw_tls_parse_client_hello(b, sizeof(b), &hello, &err), TW_EINVAL);
    assert_int_equal(err.offset, ext0 + 2);
    /* a record length of zero, and a record version 4.1 */
    memcpy(b, hello_grease, sizeof(b));
    b[3] = 0;
    b[4] = 0;
    assert_int_equal(tw_tls_parse_client_hello(b, sizeof(b), &hello, &err), TW_EINVAL);
    memcpy(b, hello_grease, sizeof(b));
    b[1] = 4;
    assert_int_equal(tw_tls_parse_client_hello(b, 2, &hello, &err), TW_EINVAL);
    /* a hello over the cap */
    memcpy(b, hello_grease, sizeof(b));
    b[6] = 0x01;
    assert_int_equal(tw_tls_parse_client_hello(b, sizeof(b), &hello, &err), TW_ELIMIT);
    /* a second record that is not a handshake before the hello is complete */
    assert_int_equal(tw_tls_parse_client_hello((const uint8_t *)"\x16\x03\x01\x00\x02\x01\x00"
                                                                "\x15\x03\x03\x00\x02",
                             12, &hello, &err),
            TW_EINVAL);
    assert_int_equal(err.offset, 7);
}

/* Every single-byte change must give an answer, never a crash (ASan watches). */
static void tls_survives_byte_flips(void **state)
{
    uint8_t b[sizeof(hello_openssl13)];

    (void)state;
    for (size_t i = 0; i < sizeof(b); i++) {
        for (unsigned v = 0; v < 256; v += 51) {
            int rc;

            memcpy(b, hello_openssl13, sizeof(b));
            b[i] = (uint8_t)v;
            rc = tw_tls_parse_client_hello(b, sizeof(b), &hello, NULL);
            assert_true(rc == TW_OK || rc == TW_EINVAL || rc == TW_ETRUNC || rc == TW_ELIMIT);
        }
    }
}

/* Suricata's JA4 unit-test vectors (rust/src/ja4.rs), fed through the struct. */
static void tls_ja4_matches_suricata_vectors(void **state)
{
    char j4[TW_TLS_JA4_STRLEN];

    (void)state;
    memset(&hello, 0, sizeof(hello));
    tw_tls_ja4(&hello, TW_JA4_TCP, j4);
    assert_string_equal(j4, "t00i000000_e3b0c44298fc_d2e2adf7177b");
    hello.max_version = 0x0303;
    tw_tls_ja4(&hello, TW_JA4_TCP, j4);
    assert_string_equal(j4, "t12i000000_e3b0c44298fc_d2e2adf7177b");
    tw_tls_ja4(&hello, TW_JA4_QUIC, j4);
    assert_string_equal(j4, "q12i000000_e3b0c44298fc_d2e2adf7177b");
    hello.exts[hello.n_exts++] = 0x0a0a;
    tw_tls_ja4(&hello, TW_JA4_QUIC, j4);
    assert_string_equal(j4, "q12i000000_e3b0c44298fc_d2e2adf7177b");
    hello.exts[hello.n_exts++] = 0x0000;
    hello.has_sni = true;
    tw_tls_ja4(&hello, TW_JA4_QUIC, j4);
    assert_string_equal(j4, "q12d000100_e3b0c44298fc_d2e2adf7177b");
    hello.exts[hello.n_exts++] = 0x0010;
    hello.n_alpn = 1;
    hello.alpn[0].wire_len = 5;
    hello.alpn0_first = 'h';
    hello.alpn0_last = '6';
    tw_tls_ja4(&hello, TW_JA4_QUIC, j4);
    assert_string_equal(j4, "q12d0002h6_e3b0c44298fc_d2e2adf7177b");
    hello.ciphers[hello.n_ciphers++] = 0x1111;
    hello.ciphers[hello.n_ciphers++] = 0x0a20;
    hello.ciphers[hello.n_ciphers++] = 0xbada;
    tw_tls_ja4(&hello, TW_JA4_QUIC, j4);
    assert_string_equal(j4, "q12d0302h6_f500716053f9_d2e2adf7177b");
    hello.exts[hello.n_exts++] = 0xface;
    hello.exts[hello.n_exts++] = 0x0121;
    hello.exts[hello.n_exts++] = 0x1234;
    hello.sigalgs[hello.n_sigalgs++] = 0x6666;
    tw_tls_ja4(&hello, TW_JA4_QUIC, j4);
    assert_string_equal(j4, "q12d0305h6_f500716053f9_2debc8880bae");
}

/* ALPN corner cases of JA4_a, and the 99 caps (Suricata's vectors again). */
static void tls_ja4_alpn_and_caps(void **state)
{
    static const struct {
        uint8_t wire_len, first, last;
        const char *want;
    } cases[] = {
        { 1, 'b', 'b', "t00i0000bb" }, { 2, 'h', '2', "t00i0000h2" },
        { 1, 0xab, 0xab, "t00i0000ab" }, { 2, 0xab, 0xcd, "t00i0000ad" },
        { 2, 0x30, 0xab, "t00i00003b" }, { 4, 0x30, 0x31, "t00i000001" },
        { 2, 0x2a, 0x2a, "t00i000000" }, /* a GREASE-looking pair */
    };
    char j4[TW_TLS_JA4_STRLEN];

    (void)state;
    for (size_t i = 0; i < TW_ARRAY_LEN(cases); i++) {
        memset(&hello, 0, sizeof(hello));
        hello.n_alpn = 1;
        hello.alpn[0].wire_len = cases[i].wire_len;
        hello.alpn0_first = cases[i].first;
        hello.alpn0_last = cases[i].last;
        tw_tls_ja4(&hello, TW_JA4_TCP, j4);
        assert_memory_equal(j4, cases[i].want, 10);
    }
    memset(&hello, 0, sizeof(hello));
    for (uint16_t i = 1; i < 200; i++) {
        hello.ciphers[hello.n_ciphers++] = i;
        if (hello.n_exts < TW_TLS_MAX_EXTS)
            hello.exts[hello.n_exts++] = i;
    }
    tw_tls_ja4(&hello, TW_JA4_TCP, j4);
    assert_memory_equal(j4, "t00i999900", 10);
}

/*
 * JA4 sorts the lists: 60 ciphers in one order, and the same ciphers
 * shuffled among 40 GREASE values (a list long enough to be sorted another
 * way), give one JA4. A JA3 string that does not fit its buffer is refused
 * whatever the size, and fits exactly with one byte for the NUL.
 */
static void tls_fingerprints_of_long_lists(void **state)
{
    char a4[TW_TLS_JA4_STRLEN], b4[TW_TLS_JA4_STRLEN], j3[TW_TLS_JA3_STRMAX],
            cut[TW_TLS_JA3_STRMAX];
    int n;

    (void)state;
    memset(&hello, 0, sizeof(hello));
    hello.max_version = 0x0303;
    hello.legacy_version = 0x0303;
    for (uint16_t i = 0; i < 60; i++)
        hello.ciphers[hello.n_ciphers++] = (uint16_t)(0xc0ff - i * 3);
    for (uint16_t i = 0; i < 20; i++)
        hello.exts[hello.n_exts++] = (uint16_t)((i * 7919u) % 1000u);
    hello.pointfmts[hello.n_pointfmts++] = 0;
    hello.groups[hello.n_groups++] = 29;
    tw_tls_ja4(&hello, TW_JA4_TCP, a4);
    n = tw_tls_ja3(&hello, j3, sizeof(j3));
    assert_true(n > 100);
    assert_int_equal((size_t)n, strlen(j3));
    assert_memory_equal(j3, "771,49407-49404-", 16);
    for (size_t size = 1; size <= (size_t)n; size++) {
        assert_int_equal(tw_tls_ja3(&hello, cut, size), TW_ETRUNC);
        assert_string_equal(cut, "");
    }
    assert_int_equal(tw_tls_ja3(&hello, cut, (size_t)n + 1), n);
    assert_string_equal(cut, j3);

    hello.n_ciphers = 0;
    for (uint16_t i = 0; i < 60; i++) {
        hello.ciphers[hello.n_ciphers++] = (uint16_t)(0xc0ff - ((i * 37u) % 60u) * 3);
        if (i % 3 != 0)
            hello.ciphers[hello.n_ciphers++] = (uint16_t)(0x0a0a + 0x1010 * (i % 16));
    }
    assert_int_equal(hello.n_ciphers, 100);
    tw_tls_ja4(&hello, TW_JA4_TCP, b4);
    assert_string_equal(b4, a4);
}

/* Reads the client-to-server bytes of a capture in ../shared/data/pcap. */
static uint8_t *client_stream(const char *rel, size_t *n)
{
    const char *path = tw_test_shared(rel);
    uint8_t *out;
    char *file;
    size_t flen;
    long got;

    if (path == NULL)
        return NULL;
    file = tw_test_slurp(path, &flen);
    out = tw_malloc(65536);
    assert_non_null(out);
    got = pcs_tcp_stream((const uint8_t *)file, flen, 0, 443, out, 65536);
    tw_free(file);
    assert_true(got > 0);
    *n = (size_t)got;
    return out;
}

/* suricata-verify ja4-tls: test.yaml expects tls.ja4 t12i1810s1_27d4652c4487_06a4338d0495. */
static void tls_real_capture_ja4(void **state)
{
    size_t n = 0;
    uint8_t *s = client_stream("pcap/ja4-tls/input.pcap", &n);

    (void)state;
    if (s == NULL)
        skip();
    check_prints(s, n,
            "771,49195-49199-158-49162-49161-49171-49172-49159-49169-51-50-57-156-47-53-10-5-4,"
            "65281-10-11-35-13172-16-30032-5-18-13,23-24-25,0",
            "308b0bd904abbef5e0034a1ff7a78920", "t12i1810s1_27d4652c4487_06a4338d0495");
    assert_false(hello.has_sni);
    assert_int_equal(hello.n_alpn, 2);
    assert_memory_equal(hello.alpn[0].name, "spdy/3.1", 8);
    assert_int_equal(hello.consumed, 180);
    check_prefixes(s, n, 180);
    tw_free(s);
}

/*
 * suricata-verify tls-client-hello-frag-01: a ClientHello over three TCP
 * segments (MTU 300); test.yaml expects tls.sni www.google.com. JA3 is
 * tshark's; the JA4 was cross-checked with a second implementation.
 */
static void tls_real_capture_fragmented(void **state)
{
    size_t n = 0;
    uint8_t *s = client_stream("pcap/tls_tls-client-hello-frag-01/dump_mtu300.pcap", &n);

    (void)state;
    if (s == NULL)
        skip();
    check_prints(s, n,
            "771,49200-49196-49192-49188-49172-49162-165-163-161-159-107-106-105-104-57-56-55-54-"
            "136-135-134-133-49202-49198-49194-49190-49167-49157-157-61-53-132-49199-49195-49191-"
            "49187-49171-49161-164-162-160-158-103-64-63-62-51-50-49-48-154-153-152-151-69-68-67-"
            "66-49201-49197-49193-49189-49166-49156-156-60-47-150-65-49170-49160-22-19-16-13-"
            "49165-49155-10-7-255,0-11-10-13-15-13172-16-21,23-25-24-22,0-1-2",
            "a64c29923906f2a1be278be1da0714fa", "t12d8008h2_9cedc1f1428b_046e095b7c4a");
    assert_string_equal(hello.sni, "www.google.com");
    assert_int_equal(hello.consumed, 517);
    check_prefixes(s, n, 517);
    tw_free(s);
}

/* A server's clear flight: one handshake record holding ServerHello (a minimal
 * body), Certificate with two certificates "AAA" and "BBBB", ServerHelloDone. */
static const uint8_t server_flight[] = {
    0x16, 0x03, 0x03, 0x00, 0x1e,         /* record: handshake, TLS 1.2, 30 bytes */
    0x02, 0x00, 0x00, 0x02, 0x03, 0x03,   /* ServerHello, 2-byte body (version only) */
    0x0b, 0x00, 0x00, 0x10,               /* Certificate, 16-byte body */
    0x00, 0x00, 0x0d,                     /* certificate_list: 13 bytes */
    0x00, 0x00, 0x03, 'A', 'A', 'A',      /* certificate 0 */
    0x00, 0x00, 0x04, 'B', 'B', 'B', 'B', /* certificate 1 */
    0x0e, 0x00, 0x00, 0x00,               /* ServerHelloDone */
    0x14, 0x03, 0x03, 0x00, 0x01, 0x01,   /* ChangeCipherSpec */
};

struct certs_seen {
    unsigned n;
    size_t len[4];
    uint8_t first[4];
};

static int count_cert(const uint8_t *der, size_t len, unsigned index, void *arg)
{
    struct certs_seen *c = arg;

    if (index < 4) {
        c->len[index] = len;
        c->first[index] = der[0];
    }
    c->n++;
    return 0;
}

static void tls_server_certificates_walked(void **state)
{
    struct certs_seen c = { 0 };
    uint8_t buf[sizeof(server_flight)];

    (void)state;
    assert_int_equal(
            tw_tls_server_certificates(server_flight, sizeof(server_flight), count_cert, &c, NULL),
            TW_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.len[0], 3);
    assert_int_equal(c.first[0], 'A');
    assert_int_equal(c.len[1], 4);
    assert_int_equal(c.first[1], 'B');
    /* Every prefix that cuts the record asks for more, never reads past it. */
    for (size_t n = 0; n < 5 + 0x1e; n++) {
        struct certs_seen none = { 0 };
        assert_int_equal(
                tw_tls_server_certificates(server_flight, n, count_cert, &none, NULL), TW_ETRUNC);
        assert_int_equal(none.n, 0);
    }
    /* A flight without a Certificate message (PSK, anonymous). */
    memcpy(buf, server_flight, sizeof(buf));
    buf[11] = 0x0c; /* the Certificate becomes a ServerKeyExchange */
    assert_int_equal(
            tw_tls_server_certificates(buf, sizeof(buf), count_cert, &c, NULL), TW_ENOTFOUND);
    /* TLS 1.3: after the ServerHello record comes ChangeCipherSpec, then encrypted data. */
    assert_int_equal(tw_tls_server_certificates(
                             server_flight + 35, sizeof(server_flight) - 35, count_cert, &c, NULL),
            TW_ENOTFOUND);
    /* A certificate length running past its list. */
    memcpy(buf, server_flight, sizeof(buf));
    buf[20] = 0x0b; /* 11 bytes: past the 10 left in the list */
    assert_int_equal(tw_tls_server_certificates(buf, sizeof(buf), count_cert, &c, NULL), TW_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tls_openssl13_fields_and_prints),
        cmocka_unit_test(tls_without_sni),
        cmocka_unit_test(tls_grease_is_left_out),
        cmocka_unit_test(tls_hello_across_records),
        cmocka_unit_test(tls_every_prefix_asks_for_more),
        cmocka_unit_test(tls_rejects_malformed),
        cmocka_unit_test(tls_survives_byte_flips),
        cmocka_unit_test(tls_ja4_matches_suricata_vectors),
        cmocka_unit_test(tls_ja4_alpn_and_caps),
        cmocka_unit_test(tls_fingerprints_of_long_lists),
        cmocka_unit_test(tls_real_capture_ja4),
        cmocka_unit_test(tls_real_capture_fragmented),
        cmocka_unit_test(tls_server_certificates_walked),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
