/*
 * test_pattern.c: parsing, validation, canonical formatting, conformance
 * levels and index atoms of STIX 2.1 patterns. Matching is in
 * test_pattern_match.c.
 */
#include <stdlib.h>
#include <string.h>

#include "tidewatch/alloc.h"
#include "tidewatch/err.h"
#include "tidewatch/pattern.h"
#include "tw_test.h"

/* ==== Helpers ==== */

static struct tw_pattern *parse_ok(const char *text)
{
    struct tw_pattern *p = NULL;
    struct tw_err err;
    int rc = tw_pattern_parse(tw_str_cstr(text), &p, &err);

    if (rc != TW_OK)
        fail_msg("pattern rejected: %s\n  %s", text, err.msg);
    return p;
}

/* Parses, formats, re-parses the canonical text and checks it is a fixed point. */
static void check_canon(const char *text, const char *want)
{
    struct tw_pattern *p = parse_ok(text), *q;
    char *got = tw_pattern_format(p), *again;

    assert_non_null(got);
    assert_string_equal(got, want);
    q = parse_ok(got);
    again = tw_pattern_format(q);
    assert_string_equal(again, got);
    assert_int_equal(tw_pattern_level(p), tw_pattern_level(q));
    tw_free(again);
    tw_free(got);
    tw_pattern_free(q);
    tw_pattern_free(p);
}

static void check_valid(const char *text)
{
    struct tw_pattern *p = parse_ok(text), *q;
    char *got = tw_pattern_format(p), *again;

    assert_non_null(got);
    q = parse_ok(got);
    again = tw_pattern_format(q);
    assert_string_equal(again, got);
    tw_free(again);
    tw_free(got);
    tw_pattern_free(q);
    tw_pattern_free(p);
}

static void check_err(const char *text, int code, size_t offset)
{
    struct tw_pattern *p = (struct tw_pattern *)&p;
    struct tw_err err;
    int rc = tw_pattern_parse(tw_str_cstr(text), &p, &err);

    if (rc != code || err.offset != offset)
        fail_msg("%s\n  want code %d at %zu, got %d at %zu: %s", text, code, offset, rc, err.offset,
                err.msg);
    assert_null(p);
    assert_int_equal(err.code, code);
}

static int level_of(const char *text)
{
    struct tw_pattern *p = parse_ok(text);
    int lvl = tw_pattern_level(p);

    tw_pattern_free(p);
    return lvl;
}

/* ==== Valid patterns ==== */

/* The example patterns of STIX 2.1 section 9, written out. */
static const char *const spec_examples[] = {
    "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND "
    "email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
    "[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32' OR "
    "ipv6-addr:value = '2001:0db8:dead:beef:dead:beef:dead:0001/128']",
    "[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = "
    "'198.51.100.1/32']",
    "[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']",
    "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = "
    "'4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']",
    "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\System\\\\Foo\\\\Bar']",
    "[(file:name = 'pdf.exe' OR file:size = '371712') AND file:created = "
    "t'2014-01-13T07:03:17Z']",
    "[email-message:sender_ref.value = 'jdoe@example.com' AND email-message:subject = "
    "'Conference Info']",
    "[x-usb-device:usbdrive.serial_number = '575833344E30314A4A3139323437']",
    "[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] "
    "FOLLOWEDBY [process:command_line MATCHES "
    "'^.+>-add GlobalSign.cer -c -s -r localMachineTrustedPublisher$'] WITHIN 300 SECONDS",
    "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = "
    "'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
    "[file:hashes.'SHA-256' = "
    "'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c'] "
    "START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
    "[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\\\Windows\\\\System32']",
    "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
    "[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']",
    "[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
    "[file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY "
    "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar'] WITHIN 300 SECONDS",
    "[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND "
    "user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND "
    "user-account:user_id = '1008' AND user-account:account_login = 'Paul'] AND "
    "[user-account:account_type = 'unix' AND user-account:user_id = '1009' AND "
    "user-account:account_login = 'Mary']",
    "[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES "
    "'\\\\xd4\\\\xc3\\\\xb2\\\\xa1\\\\x02\\\\x00\\\\x04\\\\x00']",
    "[file:name = 'foo.dll'] AND [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar'] "
    "OR [process:name = 'fooproc' OR process:name = 'procfoo']",
    "[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:src_ref.value = "
    "'203.0.113.10' AND network-traffic:dst_ref.type = 'ipv4-addr' AND "
    "network-traffic:dst_ref.value = '198.51.100.58' AND network-traffic:dst_port = 6666] "
    "REPEATS 5 TIMES WITHIN 300 SECONDS",
    "[network-traffic:extensions.'http-request-ext'.request_value = 'GET' AND "
    "network-traffic:extensions.'http-request-ext'.request_header.'Host' = 'example.com']",
    "[file:name LIKE '%.exe' AND file:size >= 1024 AND file:size <= 4096]",
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24'] AND [ipv6-addr:value ISSUPERSET '2001:db8::1']",
    "[network-traffic:protocols[*] = 'tcp' AND network-traffic:dst_port IN (443, 8443)]",
    "[x509-certificate:validity_not_after < t'2016-01-01T00:00:00.000Z']",
    "[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']",
    "[file:size != 1280] OR [file:size < 1024] FOLLOWEDBY [file:size > 1024]",
    "[EXISTS windows-registry-key:values]",
    "([file:name = 'a'] OR [file:name = 'b']) AND [file:name = 'c'] START "
    "t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00.123Z'",
};

static void pattern_accepts_spec_examples(void **state)
{
    (void)state;
    for (size_t i = 0; i < TW_ARRAY_LEN(spec_examples); i++)
        check_valid(spec_examples[i]);
}

static void pattern_accepts_validator_pass_cases(void **state)
{
    (void)state;
    check_valid("[file:size = 1280]");
    check_valid("[file:size <= 1024]");
    check_valid("[file:file_name = 'my_file_name']");
    check_valid("[file:extended_properties.'ntfs-ext'.sid = '234']");
    check_valid("[file:file_system_properties.file_name LIKE 'name%']");
    check_valid("[file:file_name IN ('test.txt', 'test2.exe', 'README')]");
    check_valid("[network-connection:extended_properties[0].source_payload MATCHES "
                "'dGVzdHRlc3R0ZXN0']");
    check_valid("[foo:bar=1] REPEATS 9 TIMES");
    check_valid("[network-traffic:start = '2018-04-20T12:36:24.558Z']");
    check_valid("( [(network-traffic:dst_port IN(443,6443,8443) AND network-traffic:src_packets "
                "!= 0) ])");
    check_valid("([win-registry-key:key = 'hkey_local_machine\\\\foo\\\\bar'] REPEATS 2 TIMES) "
                "REPEATS 2 TIMES");
    check_valid("[network-traffic:src_port = 37020 AND user-account:user_id = 'root'] START "
                "t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00.123Z' OR "
                "[ipv4-addr:value = '192.168.122.83'] START t'2016-06-01T03:55:00.123Z' STOP "
                "t'2016-06-01T04:30:24.743Z'");
    check_valid("[x-whatever:detected == t'2018-03-22T12:11:14.1Z']");
    check_valid("[ipv4-addr:value NOT ISSUBSET '192.168.0.1/24']");
    check_valid("[file:created = t'2016-12-31T23:59:60Z']");
    check_valid("[file:name = '']");
    check_valid("[file:x = h'']");
}

static void pattern_formats_canonically(void **state)
{
    (void)state;
    check_canon("[file:size=1280]", "[file:size = 1280]");
    check_canon("[file:size == 1280]", "[file:size = 1280]");
    check_canon("[file:size <> 1]", "[file:size != 1]");
    check_canon("[file:name NOT = 'x']", "[file:name NOT = 'x']");
    check_canon("[file:name NOT IN ('a','b')]", "[file:name NOT IN ('a', 'b')]");
    check_canon("[ file : hashes . 'SHA-256' = 'ab' ]", "[file:hashes.'SHA-256' = 'ab']");
    check_canon("[file:'name' = 'x']", "[file:name = 'x']");
    check_canon("[file:hashes.'MD5' = 'x']", "[file:hashes.MD5 = 'x']");
    check_canon("[abc:x.'AND'.'a b'.'x-y' = 1]", "[abc:x.'AND'.'a b'.'x-y' = 1]");
    check_canon("[abc:x.'a\\'b' = 1]", "[abc:x.'a\\'b' = 1]");
    check_canon("[abc:x [ 0 ] [*].y[-1] = 1]", "[abc:x[0][*].y[-1] = 1]");
    check_canon("[abc:x = +12]", "[abc:x = 12]");
    check_canon("[abc:x = -0]", "[abc:x = 0]");
    check_canon("[abc:x = +0012.500]", "[abc:x = 12.5]");
    check_canon("[abc:x = .5]", "[abc:x = 0.5]");
    check_canon("[abc:x = -.50]", "[abc:x = -0.5]");
    check_canon("[abc:x = 1.0]", "[abc:x = 1.0]");
    check_canon("[abc:x = h'FFd8']", "[abc:x = h'ffd8']");
    check_canon("[abc:x = 'a\\'b\\\\c']", "[abc:x = 'a\\'b\\\\c']");
    check_canon("[abc:x = true AND abc:y != false]", "[abc:x = true AND abc:y != false]");
    check_canon("[abc:x IN (1,2.5)]", "[abc:x IN (1, 2.5)]");
    check_canon("[EXISTS  abc:x]", "[EXISTS abc:x]");
    check_canon("[abc:x = 1] /* note */ // tail", "[abc:x = 1]");
    check_canon("[abc:x\xc2\xa0=\xe3\x80\x80"
                "1]",
            "[abc:x = 1]");
    /* Precedence: parentheses only where the tree needs them. */
    check_canon("[abc:x = 1] OR [abc:x = 2] AND [abc:x = 3]",
            "[abc:x = 1] OR [abc:x = 2] AND [abc:x = 3]");
    check_canon("([abc:x = 1] OR [abc:x = 2]) AND [abc:x = 3]",
            "([abc:x = 1] OR [abc:x = 2]) AND [abc:x = 3]");
    check_canon("(([abc:x = 1]))", "[abc:x = 1]");
    check_canon("([abc:x = 1] AND [abc:x = 2]) AND [abc:x = 3]",
            "([abc:x = 1] AND [abc:x = 2]) AND [abc:x = 3]");
    check_canon("[abc:x = 1] FOLLOWEDBY ([abc:x = 2] OR [abc:x = 3])",
            "[abc:x = 1] FOLLOWEDBY [abc:x = 2] OR [abc:x = 3]");
    check_canon("([abc:x = 1] FOLLOWEDBY [abc:x = 2]) OR [abc:x = 3]",
            "([abc:x = 1] FOLLOWEDBY [abc:x = 2]) OR [abc:x = 3]");
    check_canon("[abc:x = 1 OR abc:y = 2 AND abc:z = 3]", "[abc:x = 1 OR abc:y = 2 AND abc:z = 3]");
    check_canon(
            "[(abc:x = 1 OR abc:y = 2) AND abc:z = 3]", "[(abc:x = 1 OR abc:y = 2) AND abc:z = 3]");
    check_canon("[((abc:x = 1))]", "[abc:x = 1]");
    /* Qualifiers. */
    check_canon("([abc:x = 1]) WITHIN 5 SECONDS", "[abc:x = 1] WITHIN 5 SECONDS");
    check_canon("[abc:x = 1] WITHIN 1.50 SECONDS", "[abc:x = 1] WITHIN 1.5 SECONDS");
    check_canon("([abc:x = 1] WITHIN 5 SECONDS) REPEATS 2 TIMES",
            "[abc:x = 1] WITHIN 5 SECONDS REPEATS 2 TIMES");
    check_canon("([abc:x = 1] REPEATS 2 TIMES) REPEATS 3 TIMES",
            "([abc:x = 1] REPEATS 2 TIMES) REPEATS 3 TIMES");
    check_canon("[abc:x = 1] FOLLOWEDBY [abc:x = 2] REPEATS 5 TIMES",
            "[abc:x = 1] FOLLOWEDBY [abc:x = 2] REPEATS 5 TIMES");
    check_canon("([abc:x = 1] FOLLOWEDBY [abc:x = 2]) REPEATS 5 TIMES",
            "([abc:x = 1] FOLLOWEDBY [abc:x = 2]) REPEATS 5 TIMES");
    check_canon("[abc:x = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-06-01T00:00:00.5Z'",
            "[abc:x = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-06-01T00:00:00.5Z'");
}

static void pattern_reports_levels(void **state)
{
    (void)state;
    assert_int_equal(level_of("[abc:x = 1]"), 1);
    assert_int_equal(level_of("([abc:x = 1 AND abc:y = 2])"), 1);
    assert_int_equal(level_of("[abc:x = 1] AND [abc:y = 2]"), 2);
    assert_int_equal(level_of("[abc:x = 1] OR ([abc:y = 2] AND [abc:z = 3])"), 2);
    assert_int_equal(level_of("[abc:x = 1] FOLLOWEDBY [abc:y = 2]"), 3);
    assert_int_equal(level_of("[abc:x = 1] WITHIN 5 SECONDS"), 3);
    assert_int_equal(level_of("[abc:x = 1] AND ([abc:y = 2] REPEATS 2 TIMES)"), 3);
    assert_int_equal(
            level_of("[abc:x = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-06-02T00:00:00Z'"), 3);
}

/* ==== Invalid patterns ==== */

static void pattern_rejects_syntax_errors(void **state)
{
    (void)state;
    check_err("", TW_ESYNTAX, 0);
    check_err("   ", TW_ESYNTAX, 3);
    check_err("file:size = 1280", TW_ESYNTAX, 0);
    check_err("[file:size = ]", TW_ESYNTAX, 13);
    check_err("[file:hashes.MD5 = cead3f77f6cda6ec00f57d76c9a6879f]", TW_ESYNTAX, 19);
    check_err("[file.size = 1280]", TW_ESYNTAX, 5);
    check_err("[file:name MATCHES /.*\\.dll/]", TW_ESYNTAX, 19);
    check_err("[file:name = 'x'", TW_ESYNTAX, 16);
    check_err("[file:name = 'x']]", TW_ESYNTAX, 17);
    check_err("([file:name = 'x']", TW_ESYNTAX, 18);
    check_err("[file:name = 'x'])", TW_ESYNTAX, 17);
    check_err("[file:name EQUALS 'x']", TW_ESYNTAX, 11);
    check_err("[file:name = 'x]", TW_ESYNTAX, 13);
    check_err("[file:name = 'a\\qb']", TW_ESYNTAX, 15);
    check_err("[file:size = 0123]", TW_ESYNTAX, 13);
    check_err("[file:size = -]", TW_ESYNTAX, 13);
    check_err("[file:size = 1.]", TW_ESYNTAX, 14);
    check_err("[file:x = h'abc']", TW_ESYNTAX, 10);
    check_err("[file:x = h'zz']", TW_ESYNTAX, 12);
    check_err("[artifact:payload_bin = b'====']", TW_ESYNTAX, 24);
    check_err("[artifact:payload_bin = b'']", TW_ESYNTAX, 24);
    check_err("[artifact:payload_bin = b'abc']", TW_ESYNTAX, 24);
    check_err("[file:created = t'2457-73-22T32:81:84.1Z']", TW_ESYNTAX, 23);
    check_err("[file:created = t'2016-01-01T00:00:00+01:00']", TW_ESYNTAX, 37);
    check_err("[foo:bar=1] within 2 seconds", TW_ESYNTAX, 12);
    check_err("[file:name = 'x'] WITHIN ]", TW_ESYNTAX, 25);
    check_err("[file:name = 'x'] WITHIN 5 HOURS", TW_ESYNTAX, 27);
    check_err("[file:name = 'x'] WITHIN -5 SECONDS", TW_ESYNTAX, 25);
    check_err("[file:name = 'x'] REPEATS 1.5 TIMES", TW_ESYNTAX, 26);
    check_err("[file:name = 'x'] WITHIN 5 SECONDS WITHIN 6 SECONDS", TW_ESYNTAX, 35);
    check_err("([file:name = 'x']) WITHIN 5 SECONDS WITHIN 6 SECONDS", TW_ESYNTAX, 37);
    check_err("[file:name = 'x'] REPEATS 2 TIMES WITHIN 5 SECONDS REPEATS 2 TIMES", TW_ESYNTAX, 51);
    check_err("[file:name = 'x'] START t'2016-06-01T00:00:00Z' STOP t'2016-06-02T00:00:00Z' "
              "START t'2016-06-01T00:00:00Z' STOP t'2016-06-02T00:00:00Z'",
            TW_ESYNTAX, 77);
    check_err("[file:name = 'x'] START '2016-06-01T00:00:00Z' STOP '2016-06-02T00:00:00Z'",
            TW_ESYNTAX, 24);
    check_err("[file:size < true]", TW_ESYNTAX, 13);
    check_err("[file:name LIKE 5]", TW_ESYNTAX, 16);
    check_err("[file:name MATCHES h'00']", TW_ESYNTAX, 19);
    check_err("[NOT file:name = 'x']", TW_ESYNTAX, 1);
    check_err("[file:name EXISTS]", TW_ESYNTAX, 11);
    check_err("[file:name NOT EXISTS]", TW_ESYNTAX, 15);
    check_err("[file:sub-name = 'x']", TW_ESYNTAX, 6);
    check_err("[file:hashes.AND = 'x']", TW_ESYNTAX, 13);
    check_err("[file:list[x] = 'x']", TW_ESYNTAX, 11);
    check_err("[file:list[0 = 'x']", TW_ESYNTAX, 13);
    check_err("[]", TW_ESYNTAX, 1);
    check_err("()", TW_ESYNTAX, 1);
    check_err("[file:name = 'x'] AND", TW_ESYNTAX, 21);
    check_err("[file:name = 'x'] FOLLOWEDBY", TW_ESYNTAX, 28);
    check_err("[file:name = 'x' AND]", TW_ESYNTAX, 20);
    check_err("[file:name = 'x' AND (file:size = 1]", TW_ESYNTAX, 35);
    check_err("[file:name = 'x'] /* c", TW_ESYNTAX, 18);
    check_err("[file:name = 'x'] [file:name = 'y']", TW_ESYNTAX, 18);
    check_err("[file:name = 'x'] and [file:name = 'y']", TW_ESYNTAX, 18);
    check_err("[file:name != 'x' ! ]", TW_ESYNTAX, 18);
    check_err("[file:name =? 'x']", TW_ESYNTAX, 12);
    check_err("[file:name = \"x\"]", TW_ESYNTAX, 13);
    check_err("[file:'name]", TW_ESYNTAX, 6);
    /* Offsets count characters: the e-acute before the error is one character, two bytes. */
    check_err("[file:name = '\xc3\xa9'] x", TW_ESYNTAX, 18);
    check_err("[file:name = '\xc3'] x", TW_ESYNTAX, 14);
    check_err("[file:name = 'x']\xe2\x80\x8b", TW_ESYNTAX, 17);
}

static void pattern_rejects_semantic_errors(void **state)
{
    (void)state;
    check_err("[ab:name = 'x']", TW_EINVAL, 1);
    check_err("[File:name = 'x']", TW_EINVAL, 1);
    check_err("[x_whatever:detected = 1]", TW_EINVAL, 1);
    check_err("[file:size = 99999999999999999999]", TW_EINVAL, 13);
    check_err("[file:name = 'x'] WITHIN 0 SECONDS", TW_EINVAL, 25);
    check_err("[file:name = 'x'] WITHIN 0.0 SECONDS", TW_EINVAL, 25);
    check_err("[file:name = 'x'] REPEATS 0 TIMES", TW_EINVAL, 26);
    check_err("[file:name = 'x'] START t'2016-06-02T00:00:00Z' STOP t'2016-06-01T00:00:00Z'",
            TW_EINVAL, 53);
    check_err("[file:name = 'x'] START t'2016-06-01T00:00:00Z' STOP t'2016-06-01T00:00:00Z'",
            TW_EINVAL, 53);
    check_err("[file:name ISSUBSET '10.0.0.0/8']", TW_EINVAL, 1);
    check_err("[ipv4-addr:x ISSUBSET '10.0.0.0/8']", TW_EINVAL, 1);
    check_err("[ipv4-addr:value ISSUBSET '10.0.0.0/33']", TW_EINVAL, 26);
    check_err("[ipv4-addr:value ISSUBSET '010.0.0.0/8']", TW_EINVAL, 26);
    check_err("[ipv4-addr:value ISSUBSET '10.0.0/8']", TW_EINVAL, 26);
    check_err("[ipv4-addr:value ISSUBSET '10.0.0.256']", TW_EINVAL, 26);
    check_err("[ipv4-addr:value ISSUBSET '10.0.0.0/08']", TW_EINVAL, 26);
    check_err("[ipv4-addr:value ISSUBSET '10.0.0.0/']", TW_EINVAL, 26);
    check_err("[ipv4-addr:value ISSUBSET ' 10.0.0.0']", TW_EINVAL, 26);
    check_err("[ipv4-addr:value ISSUBSET '2001:db8::/32']", TW_EINVAL, 26);
    check_err("[ipv6-addr:value ISSUBSET '10.0.0.0/8']", TW_EINVAL, 26);
    check_err("[ipv6-addr:value ISSUBSET '2001:db8:::/32']", TW_EINVAL, 26);
    check_err("[ipv6-addr:value ISSUBSET '2001:db8::1::/32']", TW_EINVAL, 26);
    check_err("[ipv6-addr:value ISSUBSET '2001:db8::/129']", TW_EINVAL, 26);
    check_err("[ipv6-addr:value ISSUBSET '1:2:3:4:5:6:7:8:9']", TW_EINVAL, 26);
    check_err("[ipv6-addr:value ISSUBSET '12345::']", TW_EINVAL, 26);
    check_err("[ipv6-addr:value ISSUPERSET 'fe80::1%eth0']", TW_EINVAL, 28);
    check_err("[file:name MATCHES '(unclosed']", TW_EINVAL, 19);
    check_err("[file:name IN ()]", TW_EINVAL, 14);
    check_err("[file:name IN ('a', 1)]", TW_EINVAL, 20);
    check_err("[file:name IN (true, 'a')]", TW_EINVAL, 21);
}

static void pattern_accepts_addresses(void **state)
{
    (void)state;
    check_valid("[ipv4-addr:value ISSUBSET '0.0.0.0/0']");
    check_valid("[ipv4-addr:value ISSUBSET '255.255.255.255']");
    check_valid("[ipv6-addr:value ISSUBSET '::/0']");
    check_valid("[ipv6-addr:value ISSUBSET '::1']");
    check_valid("[ipv6-addr:value ISSUBSET '1::']");
    check_valid("[ipv6-addr:value ISSUBSET '::ffff:192.0.2.1/128']");
    check_valid("[ipv6-addr:value ISSUBSET '1:2:3:4:5:6:7::']");
    check_valid("[ipv6-addr:value ISSUPERSET 'FE80::1:2']");
    check_valid("[network-traffic:src_ref.value ISSUBSET '10.0.0.0/8']");
    check_valid("[domain-name:resolves_to_refs[*].value ISSUBSET '10.0.0.0/8']");
}

/* Writes `open` opening parentheses, a bracket and `close` closing ones into buf. */
static const char *nested(char *buf, int open, int close)
{
    size_t n = 0;

    for (int i = 0; i < open; i++)
        buf[n++] = '(';
    memcpy(buf + n, "[abc:x = 1]", 11);
    n += 11;
    for (int i = 0; i < close; i++)
        buf[n++] = ')';
    buf[n] = '\0';
    return buf;
}

static void pattern_enforces_caps(void **state)
{
    char deep[400];
    struct tw_pattern *p = NULL;
    struct tw_err err;

    (void)state;
    /* 64 levels of parentheses and the bracket make 65: the bracket is one too deep. */
    check_err(nested(deep, 64, 64), TW_ELIMIT, 64);
    check_valid(nested(deep, 63, 63));
    memset(deep, '(', 80);
    deep[0] = '[';
    deep[80] = '\0';
    check_err(deep, TW_ELIMIT, 64);

    {
        size_t len = TW_PATTERN_MAX_LEN + 1;
        char *big = tw_malloc(len + 1);
        assert_non_null(big);
        memset(big, ' ', len);
        big[len] = '\0';
        assert_int_equal(tw_pattern_parse(tw_str_make(big, len), &p, &err), TW_ELIMIT);
        assert_null(p);
        tw_free(big);
    }
    /* A NUL byte is never part of a pattern. */
    assert_int_equal(tw_pattern_parse(tw_str_make("[abc:x = '\0']", 13), &p, &err), TW_ESYNTAX);
    assert_int_equal(err.offset, 10);
    /* A path has at most 64 steps. */
    {
        char path[400] = "[abc:x";
        size_t n = strlen(path);
        for (int i = 0; i < 64; i++)
            path[n++] = '.', path[n++] = 'y';
        memcpy(path + n, " = 1]", 6);
        check_err(path, TW_ELIMIT, 132);
    }
    /* A bracket names at most 256 object types. */
    {
        char *s = tw_malloc(300 * 16);
        size_t n = 0;
        assert_non_null(s);
        s[n++] = '[';
        for (int i = 0; i < 257; i++)
            n += (size_t)snprintf(s + n, 32, "%st%03d:x = 1", i ? " OR " : "", i);
        s[n++] = ']';
        s[n] = '\0';
        check_err(s, TW_ELIMIT, 1 + 256 * 14);
        tw_free(s);
    }
    /* A long OR chain is not deep: chains are flat. */
    {
        char *s = tw_malloc(20000 * 20);
        size_t n = 0;
        assert_non_null(s);
        for (int i = 0; i < 20000; i++) {
            const char *item = i ? " OR [abc:x = 1]" : "[abc:x = 1]";
            memcpy(s + n, item, strlen(item));
            n += strlen(item);
        }
        s[n] = '\0';
        check_valid(s);
        tw_free(s);
    }
}

static void pattern_survives_allocation_failures(void **state)
{
    const char *text = "[file:name MATCHES '^a+$' AND file:size IN (1, 2)] WITHIN 5 SECONDS "
                       "FOLLOWEDBY [ipv4-addr:value ISSUBSET '10.0.0.0/8']";
    (void)state;
    for (long n = 0; n < 200; n++) {
        struct tw_pattern *p = NULL;
        struct tw_err err;
        int rc;
        tw_alloc_fail_after(n);
        rc = tw_pattern_parse(tw_str_cstr(text), &p, &err);
        tw_alloc_fail_reset();
        if (rc == TW_OK) {
            char *s = tw_pattern_format(p);
            tw_free(s);
            tw_pattern_free(p);
            break;
        }
        assert_int_equal(rc, TW_ENOMEM);
        assert_null(p);
    }
}

/* ==== Atoms ==== */

struct atoms {
    char list[16][160];
    size_t n;
    int stop_after; /* return 42 after this many atoms, or 0 */
};

static int collect(const struct tw_pattern_atom *a, void *ctx)
{
    struct atoms *as = ctx;

    if (as->n < 16)
        (void)snprintf(as->list[as->n], sizeof(as->list[0]), "%.*s|%.*s|%s|%.*s", (int)a->type.len,
                a->type.ptr, (int)a->path.len, a->path.ptr,
                a->op == TW_ATOM_SUBSET   ? "subset"
                : a->op == TW_ATOM_SUFFIX ? "suffix"
                                          : "eq",
                (int)a->value.len, a->value.ptr);
    as->n++;
    return as->stop_after && (int)as->n >= as->stop_after ? 42 : 0;
}

/* Returns tw_pattern_atoms' status; atoms land in *as. */
static int atoms_of(const char *text, struct atoms *as, bool *exact)
{
    struct tw_pattern *p = parse_ok(text);
    int rc;

    as->n = 0;
    rc = tw_pattern_atoms(p, collect, as, exact);
    tw_pattern_free(p);
    return rc;
}

/* Accepts every atom except those on the path "c". */
static bool reject_c(const struct tw_pattern_atom *a, void *ctx)
{
    (void)ctx;
    return !tw_str_eq_cstr(a->path, "c");
}

static void pattern_atoms_suffix_and_filter(void **state)
{
    struct atoms as = { .stop_after = 0 };
    struct tw_pattern *p;
    bool exact;

    (void)state;
    /* LIKE '%.x' on a domain is "any subdomain of x": a suffix atom, never exact. */
    assert_int_equal(atoms_of("[domain-name:value = 'x.example' OR "
                              "domain-name:value LIKE '%.x.example']",
                             &as, &exact),
            TW_OK);
    assert_int_equal(as.n, 2);
    assert_string_equal(as.list[1], "domain-name|value|suffix|x.example");
    assert_false(exact);
    /* Other LIKE forms give nothing: a second wildcard, another path. */
    assert_int_equal(
            atoms_of("[domain-name:value LIKE '%.x%.example']", &as, &exact), TW_ENOTFOUND);
    assert_int_equal(atoms_of("[url:value LIKE '%.x.example']", &as, &exact), TW_ENOTFOUND);
    /* A filter steers a conjunction to the usable side ... */
    p = parse_ok("[abc:c = 1 AND abc:d IN (2, 3)]");
    as.n = 0;
    assert_int_equal(tw_pattern_atoms_filtered(p, reject_c, NULL, collect, &as, &exact), TW_OK);
    assert_int_equal(as.n, 2);
    assert_string_equal(as.list[0], "abc|d|eq|2");
    tw_pattern_free(p);
    /* ... and a disjunction with an unusable branch has no atom set. */
    p = parse_ok("[abc:d = 2] OR [abc:c = 1]");
    as.n = 0;
    assert_int_equal(
            tw_pattern_atoms_filtered(p, reject_c, NULL, collect, &as, &exact), TW_ENOTFOUND);
    assert_int_equal(as.n, 0);
    tw_pattern_free(p);
}

static void pattern_atoms_follow_the_rules(void **state)
{
    struct atoms as = { .stop_after = 0 };
    bool exact;

    (void)state;
    /* One positive equality: one exact atom, path canonical, string unescaped. */
    assert_int_equal(atoms_of("[file:hashes.'SHA-256' = 'ab\\'c']", &as, &exact), TW_OK);
    assert_int_equal(as.n, 1);
    assert_string_equal(as.list[0], "file|hashes.'SHA-256'|eq|ab'c");
    assert_true(exact);
    /* IN: one atom per element. */
    assert_int_equal(atoms_of("[network-traffic:dst_port IN (443, -8443)]", &as, &exact), TW_OK);
    assert_int_equal(as.n, 2);
    assert_string_equal(as.list[0], "network-traffic|dst_port|eq|443");
    assert_string_equal(as.list[1], "network-traffic|dst_port|eq|-8443");
    assert_true(exact);
    /* ISSUBSET gives a subset atom. */
    assert_int_equal(atoms_of("[ipv4-addr:value ISSUBSET '10.0.0.0/8']", &as, &exact), TW_OK);
    assert_int_equal(as.n, 1);
    assert_string_equal(as.list[0], "ipv4-addr|value|subset|10.0.0.0/8");
    assert_true(exact);
    /* References keep their path. */
    assert_int_equal(
            atoms_of("[network-traffic:dst_ref.value == '198.51.100.1']", &as, &exact), TW_OK);
    assert_string_equal(as.list[0], "network-traffic|dst_ref.value|eq|198.51.100.1");
    /* Comparison AND: one side suffices, the one with fewer atoms; not exact. */
    assert_int_equal(
            atoms_of("[abc:d IN (1, 2) AND abc:c = true AND abc:e > 5]", &as, &exact), TW_OK);
    assert_int_equal(as.n, 1);
    assert_string_equal(as.list[0], "abc|c|eq|true");
    assert_false(exact);
    assert_int_equal(atoms_of("[abc:e > 5 AND abc:d IN (h'AB', h'cd')]", &as, &exact), TW_OK);
    assert_int_equal(as.n, 2);
    assert_string_equal(as.list[0], "abc|d|eq|ab");
    assert_false(exact);
    /* Comparison OR: union when every side has atoms, exact when every side is. */
    assert_int_equal(atoms_of("[abc:c = 1.50 OR abc:d IN ('x', 'y')]", &as, &exact), TW_OK);
    assert_int_equal(as.n, 3);
    assert_string_equal(as.list[0], "abc|c|eq|1.5");
    assert_true(exact);
    assert_int_equal(atoms_of("[abc:c = 1 OR (abc:d = 2 AND abc:e = 3)]", &as, &exact), TW_OK);
    assert_int_equal(as.n, 2);
    assert_false(exact);
    assert_int_equal(atoms_of("[abc:c = 1 OR abc:d > 5]", &as, &exact), TW_ENOTFOUND);
    assert_false(exact);
    assert_int_equal(as.n, 0);
    /* Negation and other operators give nothing. */
    assert_int_equal(atoms_of("[abc:c NOT = 1]", &as, &exact), TW_ENOTFOUND);
    assert_int_equal(atoms_of("[abc:c NOT IN (1)]", &as, &exact), TW_ENOTFOUND);
    assert_int_equal(
            atoms_of("[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']", &as, &exact), TW_ENOTFOUND);
    assert_int_equal(atoms_of("[abc:c != 1]", &as, &exact), TW_ENOTFOUND);
    assert_int_equal(atoms_of("[abc:c LIKE 'a%']", &as, &exact), TW_ENOTFOUND);
    assert_int_equal(atoms_of("[abc:c MATCHES 'a']", &as, &exact), TW_ENOTFOUND);
    assert_int_equal(
            atoms_of("[ipv4-addr:value ISSUPERSET '10.0.0.1']", &as, &exact), TW_ENOTFOUND);
    assert_int_equal(atoms_of("[EXISTS abc:c]", &as, &exact), TW_ENOTFOUND);
    /* Observation AND and FOLLOWEDBY: one side suffices; not exact. */
    assert_int_equal(atoms_of("[abc:c IN (1, 2)] AND [abc:d = 3]", &as, &exact), TW_OK);
    assert_int_equal(as.n, 1);
    assert_string_equal(as.list[0], "abc|d|eq|3");
    assert_false(exact);
    assert_int_equal(atoms_of("[abc:c > 1] FOLLOWEDBY [abc:d = 3]", &as, &exact), TW_OK);
    assert_int_equal(as.n, 1);
    assert_false(exact);
    assert_int_equal(atoms_of("[abc:c > 1] AND [abc:d > 3]", &as, &exact), TW_ENOTFOUND);
    /* Observation OR: union when every side has atoms. */
    assert_int_equal(
            atoms_of("[abc:c = 1] OR [abc:d = t'2020-01-01T00:00:00Z']", &as, &exact), TW_OK);
    assert_int_equal(as.n, 2);
    assert_string_equal(as.list[1], "abc|d|eq|2020-01-01T00:00:00Z");
    assert_true(exact);
    assert_int_equal(atoms_of("[abc:c = 1] OR [abc:d > 3]", &as, &exact), TW_ENOTFOUND);
    assert_int_equal(atoms_of("([abc:c = 1] AND [abc:e = 1]) OR [abc:d = 3]", &as, &exact), TW_OK);
    assert_int_equal(as.n, 2);
    assert_false(exact);
    /* Qualifiers pass atoms through but are never exact. */
    assert_int_equal(atoms_of("[abc:c = 1] WITHIN 5 SECONDS", &as, &exact), TW_OK);
    assert_int_equal(as.n, 1);
    assert_false(exact);
    assert_int_equal(atoms_of("[abc:c = b'AAE='] REPEATS 2 TIMES", &as, &exact), TW_OK);
    assert_string_equal(as.list[0], "abc|c|eq|AAE=");
    assert_false(exact);
    /* The callback's non-zero value stops the walk and is returned. */
    as.stop_after = 2;
    assert_int_equal(atoms_of("[abc:c IN (1, 2, 3)]", &as, &exact), 42);
    assert_int_equal(as.n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pattern_accepts_spec_examples),
        cmocka_unit_test(pattern_accepts_validator_pass_cases),
        cmocka_unit_test(pattern_formats_canonically),
        cmocka_unit_test(pattern_reports_levels),
        cmocka_unit_test(pattern_rejects_syntax_errors),
        cmocka_unit_test(pattern_rejects_semantic_errors),
        cmocka_unit_test(pattern_accepts_addresses),
        cmocka_unit_test(pattern_enforces_caps),
        cmocka_unit_test(pattern_survives_allocation_failures),
        cmocka_unit_test(pattern_atoms_follow_the_rules),
        cmocka_unit_test(pattern_atoms_suffix_and_filter),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
