/*
 * test_addr.c: strict address and CIDR parsing with exact error offsets,
 * RFC 5952 formatting, prefix arithmetic.
 */
#include <string.h>

#include "tidewatch/addr.h"
#include "tidewatch/err.h"
#include "tw_test.h"

/* Parses text, which must be valid, and returns the address. */
static struct tw_ip ip_of(const char *text)
{
    struct tw_ip ip;
    struct tw_err err;

    tw_err_clear(&err);
    assert_int_equal(tw_ip_parse(tw_str_cstr(text), &ip, &err), TW_OK);
    assert_int_equal(err.code, TW_OK);
    return ip;
}

/* Asserts that text is rejected with TW_EINVAL at byte offset `off`. */
static void rejects_at(const char *text, size_t off)
{
    struct tw_ip ip;
    struct tw_err err;

    tw_err_clear(&err);
    assert_int_equal(tw_ip_parse(tw_str_cstr(text), &ip, &err), TW_EINVAL);
    assert_int_equal(err.code, TW_EINVAL);
    assert_int_equal(err.offset, off);
    assert_true(err.msg[0] != '\0');
}

/* Asserts that text formats back as `want`. */
static void formats_as(const char *text, const char *want)
{
    struct tw_ip ip = ip_of(text), again;
    char out[TW_IP_STRLEN];

    assert_int_equal(tw_ip_format(&ip, out), (int)strlen(want));
    assert_string_equal(out, want);
    again = ip_of(out);
    assert_int_equal(tw_ip_cmp(&ip, &again), 0);
}

static void cidr_rejects_at(const char *text, size_t off)
{
    struct tw_ip net;
    unsigned plen;
    struct tw_err err;

    tw_err_clear(&err);
    assert_int_equal(tw_cidr_parse(tw_str_cstr(text), &net, &plen, &err), TW_EINVAL);
    assert_int_equal(err.offset, off);
}

static void addr_parses_ipv4(void **state)
{
    struct tw_ip ip;

    (void)state;
    ip = ip_of("192.0.2.1");
    assert_int_equal(ip.family, 4);
    assert_int_equal(ip.bytes[0], 192);
    assert_int_equal(ip.bytes[3], 1);
    assert_int_equal(tw_ip_v4(&ip), 0xc0000201u);
    ip = ip_of("0.0.0.0");
    assert_int_equal(tw_ip_v4(&ip), 0);
    ip = ip_of("255.255.255.255");
    assert_int_equal(tw_ip_v4(&ip), 0xffffffffu);
    /* Unused bytes are zero so that equal addresses memcmp equal. */
    for (int i = 4; i < 16; i++)
        assert_int_equal(ip.bytes[i], 0);
}

static void addr_rejects_bad_ipv4_with_offsets(void **state)
{
    (void)state;
    rejects_at("1.2.3.256", 6);
    rejects_at("01.2.3.4", 0);  /* leading zero (octal in inet_aton) */
    rejects_at("1.2.3.010", 6); /* leading zero in the last octet */
    rejects_at("1.2.3", 5);     /* shorthand */
    rejects_at("1.2.3.4.5", 7);
    rejects_at("", 0);
    rejects_at(" 1.2.3.4", 0);
    rejects_at("1.2.3.4 ", 7);
    rejects_at("1.2.3.-1", 6);
    rejects_at("0x1.2.3.4", 1);
    rejects_at("1..2.3", 2);
    rejects_at("256.1.1.1", 0);
    rejects_at("1000.1.1.1", 0);
    rejects_at("16909060", 0); /* a bare integer is not an address */
}

static void addr_parses_ipv6(void **state)
{
    static const uint8_t loop[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4 };
    static const uint8_t full[16] = { 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8 };
    struct tw_ip ip;

    (void)state;
    ip = ip_of("::1");
    assert_int_equal(ip.family, 6);
    assert_memory_equal(ip.bytes, loop, 16);
    ip = ip_of("::ffff:1.2.3.4");
    assert_memory_equal(ip.bytes, mapped, 16);
    assert_true(tw_ip_is_v4mapped(&ip));
    ip = ip_of("1:2:3:4:5:6:7:8");
    assert_memory_equal(ip.bytes, full, 16);
    ip = ip_of("1:2:3:4:5:6:0.7.0.8");
    assert_memory_equal(ip.bytes, full, 16);
    ip = ip_of("1:2:3:4:5:6:7::"); /* "::" standing for one group */
    assert_int_equal(ip.bytes[15], 0);
    ip = ip_of("::");
    ip = ip_of("ABCD:EF01::");
    assert_int_equal(ip.bytes[0], 0xab);
    assert_int_equal(ip.bytes[3], 0x01);
}

static void addr_rejects_bad_ipv6_with_offsets(void **state)
{
    (void)state;
    rejects_at("1::2::3", 4);
    rejects_at("fe80::1%eth0", 7); /* zone ids are not addresses */
    rejects_at(":1::", 0);
    rejects_at("1:2:3:4:5:6:7:8:9", 16);
    rejects_at("1:2:3:4:5:6:7", 13);
    rejects_at("1:2:3:4:5:6:7:8::", 15);
    rejects_at("12345::", 4);
    rejects_at("1:", 1);
    rejects_at("::g", 2);
    rejects_at(":::", 2);
    rejects_at("::1.2.3", 7);
    rejects_at("::01.2.3.4", 2);
    rejects_at("1:2:3:4:5:6:7:1.2.3.4", 14);
    rejects_at("1.2.3.4::", 7);
    rejects_at("[::1]", 0);
}

static void addr_formats_rfc5952(void **state)
{
    (void)state;
    formats_as("2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"); /* leading zeros */
    formats_as("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");    /* first of equal runs */
    formats_as("2001:0:0:1:0:0:0:1", "2001:0:0:1::1");          /* longest run */
    formats_as("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"); /* one zero field stays */
    formats_as("2001:DB8::A", "2001:db8::a");                   /* lowercase */
    formats_as("0:0:0:0:0:0:0:0", "::");
    formats_as("0:0:0:0:0:0:0:1", "::1");
    formats_as("1:0:0:0:0:0:0:0", "1::");
    formats_as("fe80:0:0:0:0:0:0:1", "fe80::1");
    formats_as("::ffff:0102:0304", "::ffff:1.2.3.4"); /* mapped: mixed notation */
    formats_as("::1.2.3.4", "::102:304");             /* deprecated compatible form: hex */
    formats_as(
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    formats_as("1.2.3.4", "1.2.3.4");
    formats_as("255.255.255.255", "255.255.255.255");
}

static void addr_format_rejects_bad_family(void **state)
{
    struct tw_ip ip;
    char out[TW_IP_STRLEN];

    (void)state;
    memset(&ip, 0, sizeof(ip));
    assert_int_equal(tw_ip_format(&ip, out), TW_EINVAL);
    assert_string_equal(out, "");
}

static void addr_cidr_parses_and_masks(void **state)
{
    struct tw_ip net;
    unsigned plen, flags;
    char out[TW_IP_STRLEN];

    (void)state;
    assert_int_equal(tw_cidr_parse_flags(TW_STR("10.1.2.3/8"), &net, &plen, &flags, NULL), TW_OK);
    assert_int_equal(plen, 8);
    assert_int_equal(flags, TW_CIDR_HOST_BITS);
    (void)tw_ip_format(&net, out);
    assert_string_equal(out, "10.0.0.0");

    assert_int_equal(tw_cidr_parse_flags(TW_STR("10.0.0.0/8"), &net, &plen, &flags, NULL), TW_OK);
    assert_int_equal(flags, 0);
    assert_int_equal(tw_cidr_parse_flags(TW_STR("1.2.3.4"), &net, &plen, &flags, NULL), TW_OK);
    assert_int_equal(plen, 32);
    assert_int_equal(flags, TW_CIDR_BARE);
    assert_int_equal(tw_cidr_parse(TW_STR("2001:db8::1"), &net, &plen, NULL), TW_OK);
    assert_int_equal(plen, 128);

    assert_int_equal(
            tw_cidr_parse_flags(TW_STR("2001:db8:ff::1/33"), &net, &plen, &flags, NULL), TW_OK);
    assert_int_equal(plen, 33);
    assert_int_equal(flags, TW_CIDR_HOST_BITS);
    (void)tw_ip_format(&net, out);
    assert_string_equal(out, "2001:db8::");

    assert_int_equal(tw_cidr_parse(TW_STR("0.0.0.0/0"), &net, &plen, NULL), TW_OK);
    assert_int_equal(plen, 0);
    assert_int_equal(tw_cidr_parse(TW_STR("255.1.1.1/0"), &net, &plen, NULL), TW_OK);
    assert_int_equal(tw_ip_v4(&net), 0);
    assert_int_equal(tw_cidr_parse(TW_STR("::/0"), &net, &plen, NULL), TW_OK);
    assert_int_equal(tw_cidr_parse(TW_STR("1.2.3.4/31"), &net, &plen, NULL), TW_OK);
    assert_int_equal(tw_ip_v4(&net), 0x01020304u);
}

static void addr_cidr_rejects_with_offsets(void **state)
{
    (void)state;
    cidr_rejects_at("1.2.3.4/33", 8);
    cidr_rejects_at("1.2.3.4/", 8);
    cidr_rejects_at("1.2.3.4/08", 8);
    cidr_rejects_at("1.2.3.4/8x", 9);
    cidr_rejects_at("1.2.3.4/-1", 8);
    cidr_rejects_at("1.2.3.4/ 8", 8);
    cidr_rejects_at("1.2.3.4/8/8", 9);
    cidr_rejects_at("1.2.3.256/8", 6);
    cidr_rejects_at("::/129", 3);
    cidr_rejects_at("::/99999999999999999999", 3);
    cidr_rejects_at("/8", 0);
}

static void addr_in_cidr_and_cmp(void **state)
{
    struct tw_ip a = ip_of("10.1.2.3"), net = ip_of("10.0.0.0");
    struct tw_ip b = ip_of("10.128.0.1"), c6 = ip_of("2001:db8::1"), n6 = ip_of("2001:db8::");
    struct tw_ip m = ip_of("::ffff:10.1.2.3");

    (void)state;
    assert_true(tw_ip_in_cidr(&a, &net, 8));
    assert_true(tw_ip_in_cidr(&a, &net, 9));
    assert_false(tw_ip_in_cidr(&b, &net, 9));
    assert_true(tw_ip_in_cidr(&b, &net, 0));
    assert_false(tw_ip_in_cidr(&a, &net, 33));
    assert_true(tw_ip_in_cidr(&c6, &n6, 32));
    assert_true(tw_ip_in_cidr(&c6, &n6, 127));
    assert_false(tw_ip_in_cidr(&c6, &n6, 128));
    assert_false(tw_ip_in_cidr(&c6, &net, 0)); /* families never mix */
    assert_false(tw_ip_in_cidr(&m, &net, 8));  /* no mapping here */

    assert_true(tw_ip_cmp(&a, &b) < 0);
    assert_true(tw_ip_cmp(&b, &a) > 0);
    assert_int_equal(tw_ip_cmp(&a, &a), 0);
    assert_true(tw_ip_cmp(&b, &c6) < 0); /* IPv4 sorts first */

    assert_true(tw_ip_unmap(&m));
    assert_int_equal(tw_ip_cmp(&m, &a), 0);
    assert_false(tw_ip_unmap(&c6));
    assert_false(tw_ip_unmap(&a));
}

static void addr_mask_helpers(void **state)
{
    struct tw_ip ip;

    (void)state;
    ip = ip_of("10.255.255.255");
    assert_true(tw_ip_host_bits_set(&ip, 8));
    assert_false(tw_ip_host_bits_set(&ip, 32));
    tw_ip_mask(&ip, 12);
    assert_int_equal(tw_ip_v4(&ip), 0x0af00000u);
    tw_ip_mask(&ip, 0);
    assert_int_equal(tw_ip_v4(&ip), 0);
    ip = ip_of("ffff::ffff");
    tw_ip_mask(&ip, 4);
    assert_int_equal(ip.bytes[0], 0xf0);
    assert_int_equal(ip.bytes[15], 0);
    assert_int_equal(tw_ip_max_prefix(&ip), 128);
    tw_ip_from_v4(&ip, 0x7f000001u);
    assert_int_equal(ip.family, 4);
    assert_int_equal(ip.bytes[0], 127);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(addr_parses_ipv4),
        cmocka_unit_test(addr_rejects_bad_ipv4_with_offsets),
        cmocka_unit_test(addr_parses_ipv6),
        cmocka_unit_test(addr_rejects_bad_ipv6_with_offsets),
        cmocka_unit_test(addr_formats_rfc5952),
        cmocka_unit_test(addr_format_rejects_bad_family),
        cmocka_unit_test(addr_cidr_parses_and_masks),
        cmocka_unit_test(addr_cidr_rejects_with_offsets),
        cmocka_unit_test(addr_in_cidr_and_cmp),
        cmocka_unit_test(addr_mask_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
