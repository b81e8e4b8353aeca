/*
 * test_ssh.c: SSH identification lines, banners before them, and the guess
 * of a stream's protocol from its first bytes.
 */
#include <stdint.h>
#include <string.h>

#include "pcap_stream.h"
#include "tidewatch/alloc.h"
#include "tidewatch/err.h"
#include "tidewatch/proto.h"
#include "tidewatch/ssh.h"
#include "tw_test.h"

#define IN(s) (const uint8_t *)(s), sizeof(s) - 1

static void ssh_parses_plain_line(void **state)
{
    struct tw_ssh_ident id;

    (void)state;
    assert_int_equal(
            tw_ssh_parse_ident(IN("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n\0\0\0"), &id, NULL),
            TW_OK);
    assert_true(tw_str_eq_cstr(id.proto_version, "2.0"));
    assert_true(tw_str_eq_cstr(id.software_version, "OpenSSH_9.2p1"));
    assert_true(tw_str_eq_cstr(id.comments, "Debian-2+deb12u3"));
    assert_int_equal(id.n_pre_lines, 0);
    assert_int_equal(id.consumed, 40);

    /* LF only, a '-' inside the software version, no comments */
    assert_int_equal(tw_ssh_parse_ident(IN("SSH-1.99-Cisco-1.25\n"), &id, NULL), TW_OK);
    assert_true(tw_str_eq_cstr(id.proto_version, "1.99"));
    assert_true(tw_str_eq_cstr(id.software_version, "Cisco-1.25"));
    assert_int_equal(id.comments.len, 0);
}

static void ssh_skips_banner_lines(void **state)
{
    static const char in[] = "Welcome to host \xc3\xa9!\r\n"
                             "Unauthorised access prohibited\r\n"
                             "\r\n"
                             "SSH-2.0-dropbear_2022.83\r\n";
    struct tw_ssh_ident id;

    (void)state;
    assert_int_equal(tw_ssh_parse_ident(IN(in), &id, NULL), TW_OK);
    assert_int_equal(id.n_pre_lines, 3);
    assert_int_equal(id.line_offset, strstr(in, "SSH-") - in);
    assert_true(tw_str_eq_cstr(id.software_version, "dropbear_2022.83"));
    for (size_t n = 0; n < sizeof(in) - 1; n++)
        assert_int_equal(tw_ssh_parse_ident((const uint8_t *)in, n, &id, NULL), TW_ETRUNC);
}

static void ssh_rejects_bad_lines(void **state)
{
    static uint8_t longline[300];
    struct tw_ssh_ident id;
    struct tw_err err;

    (void)state;
    assert_int_equal(tw_ssh_parse_ident(IN("SSH-2.0-\r\n"), &id, &err), TW_EINVAL);
    assert_int_equal(tw_ssh_parse_ident(IN("SSH--x\r\n"), &id, &err), TW_EINVAL);
    assert_int_equal(tw_ssh_parse_ident(IN("SSH-2.0 x\r\n"), &id, &err), TW_EINVAL);
    assert_int_equal(tw_ssh_parse_ident(IN("SSH-2.0-a\tb\r\n"), &id, &err), TW_EINVAL);
    assert_int_equal(err.offset, 9);
    assert_int_equal(tw_ssh_parse_ident(IN("\x16\x03\x01\x00"), &id, &err), TW_EINVAL);
    assert_int_equal(err.offset, 3);
    assert_int_equal(tw_ssh_parse_ident(IN("ab\0cd"), &id, &err), TW_EINVAL);
    assert_int_equal(err.offset, 2);
    memset(longline, 'x', sizeof(longline));
    assert_int_equal(tw_ssh_parse_ident(longline, sizeof(longline), &id, &err), TW_EINVAL);
    memcpy(longline, "SSH-2.0-", 8);
    assert_int_equal(tw_ssh_parse_ident(longline, sizeof(longline), &id, &err), TW_EINVAL);
    assert_int_equal(tw_ssh_parse_ident(longline, 254, &id, &err), TW_ETRUNC);
    for (size_t i = 0; i < 40; i++) {
        longline[2 * i] = 'a';
        longline[2 * i + 1] = '\n';
    }
    assert_int_equal(tw_ssh_parse_ident(longline, 80, &id, &err), TW_ELIMIT);
}

/* suricata-verify ssh-banner-only: client OpenSSH_for_Windows_7.7, server OpenSSH_7.4, both 2.0. */
static void ssh_real_capture(void **state)
{
    const char *path = tw_test_shared("pcap/ssh-banner-only/input.pcap");
    uint8_t buf[4096];
    struct tw_ssh_ident id;
    char *file;
    size_t flen;
    long n;

    (void)state;
    if (path == NULL)
        skip();
    file = tw_test_slurp(path, &flen);
    n = pcs_tcp_stream((const uint8_t *)file, flen, 0, 22, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(tw_proto_guess(buf, (size_t)n), TW_PROTO_SSH);
    assert_int_equal(tw_ssh_parse_ident(buf, (size_t)n, &id, NULL), TW_OK);
    assert_true(tw_str_eq_cstr(id.proto_version, "2.0"));
    assert_true(tw_str_eq_cstr(id.software_version, "OpenSSH_for_Windows_7.7"));
    n = pcs_tcp_stream((const uint8_t *)file, flen, 22, 0, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(tw_ssh_parse_ident(buf, (size_t)n, &id, NULL), TW_OK);
    assert_true(tw_str_eq_cstr(id.proto_version, "2.0"));
    assert_true(tw_str_eq_cstr(id.software_version, "OpenSSH_7.4"));
    tw_free(file);
}

static void proto_guesses_from_first_bytes(void **state)
{
    /* a DNS-over-TCP query: length 29, id, RD, one question "example.com" A IN */
    static const uint8_t dns[] = { 0x00, 0x1d, 0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00, 0x00,
        0x01, 0x00, 0x01 };

    (void)state;
    assert_int_equal(tw_proto_guess(IN("\x16\x03\x01\x02\x00\x01\x00")), TW_PROTO_TLS);
    assert_int_equal(tw_proto_guess(IN("\x16\x03\x01\x02\x00\x14")), TW_PROTO_UNKNOWN);
    assert_int_equal(tw_proto_guess(IN("SSH-2.0-x")), TW_PROTO_SSH);
    assert_int_equal(tw_proto_guess(IN("GET / HTTP/1.1\r\n")), TW_PROTO_HTTP);
    assert_int_equal(tw_proto_guess(IN("HTTP/1.1 200 OK\r\n")), TW_PROTO_HTTP);
    assert_int_equal(tw_proto_guess(dns, sizeof(dns)), TW_PROTO_DNS_TCP);
    assert_int_equal(tw_proto_guess(dns, 10), TW_PROTO_UNKNOWN);
    assert_int_equal(tw_proto_guess(IN("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                                       "\x00\x00\x00\x00\x00\x00\x00\x00\x00")),
            TW_PROTO_UNKNOWN);
    assert_int_equal(tw_proto_guess(NULL, 0), TW_PROTO_UNKNOWN);
    assert_string_equal(tw_proto_name(TW_PROTO_DNS_TCP), "dns");
    assert_string_equal(tw_proto_name(TW_PROTO_UNKNOWN), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ssh_parses_plain_line),
        cmocka_unit_test(ssh_skips_banner_lines),
        cmocka_unit_test(ssh_rejects_bad_lines),
        cmocka_unit_test(ssh_real_capture),
        cmocka_unit_test(proto_guesses_from_first_bytes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
