/*
 * test_convert.c: `intel convert` importers (plain list, CSV, Zeek intel) and
 * exporters (Zeek intel, Suricata datasets), their problem reports, and the
 * determinism of what they write.
 */
#include <string.h>

#include <jansson.h>

#include "tidewatch/alloc.h"
#include "tidewatch/buf.h"
#include "tidewatch/convert.h"
#include "tw_test.h"

#define TS "2025-01-01T00:00:00Z"

/* ==== Helpers ==== */

static const struct tw_convert_opts base_opts = { "test.txt", TS, NULL, NULL, NULL };

typedef int import_fn(const char *, size_t, const struct tw_convert_opts *,
        struct tw_convert_result *, struct tw_err *);

static int run(import_fn *fn, const char *text, const struct tw_convert_opts *o,
        struct tw_convert_result *res)
{
    struct tw_err err;

    tw_err_clear(&err);
    tw_convert_result_init(res);
    return fn(text, strlen(text), o, res, &err);
}

/* The bundle's objects of one type, in order. */
static const json_t *nth_of_type(const json_t *bundle, const char *type, size_t n)
{
    const json_t *objs = json_object_get(bundle, "objects");

    for (size_t i = 0; i < json_array_size(objs); i++) {
        const json_t *o = json_array_get(objs, i);
        if (strcmp(json_string_value(json_object_get(o, "type")), type) == 0 && n-- == 0)
            return o;
    }
    return NULL;
}

static const char *pattern_of(const json_t *bundle, size_t n)
{
    const json_t *o = nth_of_type(bundle, "indicator", n);

    return o != NULL ? json_string_value(json_object_get(o, "pattern")) : "(none)";
}

static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static char *dump(const json_t *bundle)
{
    struct tw_buf b;

    tw_buf_init(&b, 1 << 24);
    assert_int_equal(tw_convert_dump(bundle, 2, &b), TW_OK);
    return tw_buf_take(&b, NULL);
}

/* ==== Plain lists ==== */

static void convert_list_detects_kinds_and_refangs(void **state)
{
    struct tw_convert_result res;
    const char *in = "# feed\n"
                     "\n"
                     "198.51.100[.]7   # C2\n"
                     "10.0.0.0/8\n"
                     "2001:DB8:0:0::1\n"
                     "2001:db8::/32\n"
                     "Evil[.]Example[.]com\n"
                     "hxxps://evil[.]example[.]net/a?b=1\n"
                     "bad[@]example[.]org\n"
                     "D41D8CD98F00B204E9800998ECF8427E\n"
                     "da39a3ee5e6b4b0d3255bfef95601890afd80709\n"
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
                     "192.0.2.1/32\r\n";

    (void)state;
    assert_int_equal(run(tw_convert_list, in, &base_opts, &res), TW_OK);
    assert_int_equal(res.n_read, 11);
    assert_int_equal(res.n_converted, 11);
    assert_int_equal(res.n_rejected, 0);
    assert_string_equal(pattern_of(res.bundle, 0), "[ipv4-addr:value = '198.51.100.7']");
    assert_string_equal(pattern_of(res.bundle, 1), "[ipv4-addr:value ISSUBSET '10.0.0.0/8']");
    assert_string_equal(pattern_of(res.bundle, 2), "[ipv6-addr:value = '2001:db8::1']");
    assert_string_equal(pattern_of(res.bundle, 3), "[ipv6-addr:value ISSUBSET '2001:db8::/32']");
    assert_string_equal(pattern_of(res.bundle, 4), "[domain-name:value = 'evil.example.com']");
    assert_string_equal(
            pattern_of(res.bundle, 5), "[url:value = 'https://evil.example.net/a?b=1']");
    assert_string_equal(pattern_of(res.bundle, 6), "[email-addr:value = 'bad@example.org']");
    assert_string_equal(
            pattern_of(res.bundle, 7), "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']");
    assert_string_equal(pattern_of(res.bundle, 8),
            "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']");
    assert_string_equal(pattern_of(res.bundle, 9),
            "[file:hashes.'SHA-256' = "
            "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']");
    assert_string_equal(pattern_of(res.bundle, 10), "[ipv4-addr:value = '192.0.2.1']");
    tw_convert_result_cleanup(&res);
}

static void convert_list_reports_bad_lines(void **state)
{
    struct tw_convert_result res;
    const char *in = "1.2.3.4\n"       /* 1 ok */
                     "1.2.3.256\n"     /* 2 bad octet, not a domain either */
                     "10.0.0.1/8\n"    /* 3 host bits */
                     "not a value\n"   /* 4 two tokens */
                     "# comment\n"     /* 5 */
                     "abcdef\n"        /* 6 short hex, no dot */
                     "-bad-.com\n"     /* 7 bad label */
                     "good.example\n"; /* 8 ok */

    (void)state;
    assert_int_equal(run(tw_convert_list, in, &base_opts, &res), TW_OK);
    assert_int_equal(res.n_read, 7);
    assert_int_equal(res.n_converted, 2);
    assert_int_equal(res.n_rejected, 5);
    assert_int_equal(res.problems.n, 5);
    assert_string_equal(res.problems.file, "test.txt");
    assert_int_equal(res.problems.items[0].line, 2);
    assert_int_equal(res.problems.items[1].line, 3);
    assert_non_null(strstr(res.problems.items[1].msg, "host bits"));
    assert_int_equal(res.problems.items[2].line, 4);
    assert_int_equal(res.problems.items[3].line, 6);
    assert_int_equal(res.problems.items[4].line, 7);
    assert_false(res.problems.items[4].warning);
    tw_convert_result_cleanup(&res);
}

static void convert_list_explicit_type_makes_ja3(void **state)
{
    struct tw_convert_result res;
    struct tw_convert_opts o = base_opts;

    (void)state;
    o.default_type = "ja3";
    assert_int_equal(
            run(tw_convert_list, "e7d705a3286e19ea42f587b344ee6865\n1.2.3.4\n", &o, &res), TW_OK);
    assert_int_equal(res.n_converted, 1);
    assert_int_equal(res.n_rejected, 1);
    assert_int_equal(res.problems.items[0].line, 2);
    assert_string_equal(pattern_of(res.bundle, 0),
            "[network-traffic:x_ja3 = 'e7d705a3286e19ea42f587b344ee6865']");
    tw_convert_result_cleanup(&res);

    o.default_type = "ja4";
    assert_int_equal(
            run(tw_convert_list, "t13d1516h2_8daaf6152771_e5627efa2ab1\n", &o, &res), TW_OK);
    assert_string_equal(pattern_of(res.bundle, 0),
            "[network-traffic:x_ja4 = 't13d1516h2_8daaf6152771_e5627efa2ab1']");
    tw_convert_result_cleanup(&res);

    o.default_type = "no-such-type";
    assert_int_equal(run(tw_convert_list, "1.2.3.4\n", &o, &res), TW_EINVAL);
    assert_null(res.bundle);
    tw_convert_result_cleanup(&res);
}

static void convert_refang_forms(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "1.2.3[.]4", "1.2.3.4" },
        { "hxxp://a(.)b{.}c", "http://a.b.c" },
        { "HXXPS[://]x[dot]com", "https://x.com" },
        { "fxp://files[.]example", "ftp://files.example" },
        { "a[at]b[.]com", "a@b.com" },
        { "user(@)b[.]com", "user@b.com" },
        { "http[:]//x[.]com[/]p", "http://x.com/p" },
        { "plain", "plain" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tw_buf b;
        tw_buf_init(&b, 1024);
        assert_int_equal(tw_convert_refang(tw_str_cstr(cases[i].in), &b), TW_OK);
        assert_string_equal(b.ptr, cases[i].out);
        tw_buf_cleanup(&b);
    }
}

static void convert_pattern_escapes_quotes(void **state)
{
    struct tw_buf b;

    (void)state;
    tw_buf_init(&b, 1024);
    assert_int_equal(tw_convert_pattern(TW_IOC_URL, TW_STR("http://x.com/a'b\\c"), &b), TW_OK);
    assert_string_equal(b.ptr, "[url:value = 'http://x.com/a\\'b\\\\c']");
    tw_buf_cleanup(&b);
}

/* ==== CSV ==== */

static void convert_csv_fields_become_properties(void **state)
{
    struct tw_convert_result res;
    const json_t *ind;
    const json_t *id;
    const json_t *md;
    const char *in =
            "type,value,name,description,tlp,valid_from,valid_until,confidence,labels,source\r\n"
            "ipv4,203.0.113.9,C2 node,\"Seen in \"\"phase 2\"\", beaconing\",amber+strict,"
            "2024-03-01,2025-03-01T00:00:00Z,80,c2; salt-typhoon ;,CISA\r\n"
            "domain,example.org,,,TLP:CLEAR,,,,,\r\n";

    (void)state;
    assert_int_equal(run(tw_convert_csv, in, &base_opts, &res), TW_OK);
    assert_int_equal(res.n_read, 2);
    assert_int_equal(res.n_converted, 2);
    ind = nth_of_type(res.bundle, "indicator", 0);
    id = nth_of_type(res.bundle, "identity", 0);
    md = nth_of_type(res.bundle, "marking-definition", 0);
    assert_non_null(ind);
    assert_non_null(id);
    assert_non_null(md);
    assert_string_equal(str_of(ind, "name"), "C2 node");
    assert_string_equal(str_of(ind, "description"), "Seen in \"phase 2\", beaconing");
    assert_string_equal(str_of(ind, "valid_from"), "2024-03-01T00:00:00Z");
    assert_string_equal(str_of(ind, "valid_until"), "2025-03-01T00:00:00Z");
    assert_string_equal(str_of(ind, "created"), "2025-01-01T00:00:00.000Z");
    assert_int_equal(json_integer_value(json_object_get(ind, "confidence")), 80);
    assert_int_equal(json_array_size(json_object_get(ind, "labels")), 2);
    assert_string_equal(
            json_string_value(json_array_get(json_object_get(ind, "labels"), 1)), "salt-typhoon");
    assert_string_equal(str_of(ind, "created_by_ref"), str_of(id, "id"));
    assert_string_equal(str_of(id, "name"), "CISA");
    assert_string_equal(
            json_string_value(json_array_get(json_object_get(ind, "object_marking_refs"), 0)),
            "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003");
    assert_string_equal(
            str_of(md, "id"), "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003");
    /* The second row: TLP:CLEAR (TLP 2.0 id), no source. */
    ind = nth_of_type(res.bundle, "indicator", 1);
    assert_null(json_object_get(ind, "created_by_ref"));
    assert_string_equal(
            json_string_value(json_array_get(json_object_get(ind, "object_marking_refs"), 0)),
            "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487");
    assert_string_equal(str_of(ind, "valid_from"), "2025-01-01T00:00:00.000Z");
    tw_convert_result_cleanup(&res);
}

static void convert_csv_rfc4180_edges(void **state)
{
    struct tw_convert_result res;
    const char *in = "\xef\xbb\xbf"
                     "Value,Type,Description\n"                     /* 1 */
                     "\"a.example\",domain,\"two\nline\r\ndesc\"\n" /* 2-4 */
                     "\"b.example\" ,domain,\"x\"\"y\"\n"           /* 5 */
                     "c.example,domain,\"unterminated\n"            /* 6.. */
                     "d.example,domain,after\n";

    (void)state;
    assert_int_equal(run(tw_convert_csv, in, &base_opts, &res), TW_OK);
    assert_int_equal(res.n_read, 3);
    assert_int_equal(res.n_converted, 2);
    assert_int_equal(res.n_rejected, 1);
    assert_string_equal(
            str_of(nth_of_type(res.bundle, "indicator", 0), "description"), "two\nline\r\ndesc");
    assert_string_equal(str_of(nth_of_type(res.bundle, "indicator", 1), "description"), "x\"y");
    assert_int_equal(res.problems.items[0].line, 6);
    assert_int_equal(res.problems.items[0].column, 3);
    assert_non_null(strstr(res.problems.items[0].msg, "unterminated"));
    tw_convert_result_cleanup(&res);

    /* Text after a closing quote; a quote inside an unquoted field is literal. */
    assert_int_equal(run(tw_convert_csv,
                             "value,type,name\n\"x.example\"junk,domain,n\n"
                             "y.example,domain,say \"hi\"\n",
                             &base_opts, &res),
            TW_OK);
    assert_int_equal(res.n_rejected, 1);
    assert_int_equal(res.problems.items[0].line, 2);
    assert_int_equal(res.problems.items[0].column, 1);
    assert_string_equal(str_of(nth_of_type(res.bundle, "indicator", 0), "name"), "say \"hi\"");
    tw_convert_result_cleanup(&res);
}

static void convert_csv_bad_rows_have_positions(void **state)
{
    struct tw_convert_result res;
    const char *in = "type,value,tlp,confidence,valid_from,valid_until,extra1,extra2\n" /* 1 */
                     "ipv4,192.0.2.1,green,50,,,a,b\n"                                  /* 2 ok */
                     "ipv4,192.0.2.2,green,50\n"                  /* 3 count */
                     "colour,192.0.2.3,,,,,,\n"                   /* 4 type */
                     "ipv4,192.0.2.4,purple,,,,,\n"               /* 5 tlp */
                     "ipv4,192.0.2.5,,101,,,,\n"                  /* 6 conf */
                     "ipv4,192.0.2.6,,,yesterday,,,\n"            /* 7 from */
                     "ipv4,192.0.2.7,,,2025-02-01,2025-01-01,,\n" /* 8 until */
                     "ipv6,192.0.2.8,,,,,,\n"                     /* 9 kind */
                     "ipv4,192.0.2.1,,,,,,\n";                    /* 10 dup */

    (void)state;
    assert_int_equal(run(tw_convert_csv, in, &base_opts, &res), TW_OK);
    assert_int_equal(res.n_read, 9);
    assert_int_equal(res.n_converted, 1);
    assert_int_equal(res.n_rejected, 7);
    assert_int_equal(res.n_duplicates, 1);
    assert_int_equal(res.problems.n, 9);
    /* Header warning about the two unknown columns, once. */
    assert_true(res.problems.items[0].warning);
    assert_int_equal(res.problems.items[0].line, 1);
    assert_non_null(strstr(res.problems.items[0].msg, "'extra1', 'extra2'"));
    assert_int_equal(res.problems.items[1].line, 3);
    assert_int_equal(res.problems.items[2].line, 4);
    assert_int_equal(res.problems.items[2].column, 1);
    assert_non_null(strstr(res.problems.items[2].msg, "unknown type 'colour'"));
    assert_int_equal(res.problems.items[3].line, 5);
    assert_int_equal(res.problems.items[3].column, 3);
    assert_int_equal(res.problems.items[4].line, 6);
    assert_int_equal(res.problems.items[4].column, 4);
    assert_int_equal(res.problems.items[5].line, 7);
    assert_int_equal(res.problems.items[5].column, 5);
    assert_int_equal(res.problems.items[6].line, 8);
    assert_int_equal(res.problems.items[6].column, 6);
    assert_int_equal(res.problems.items[7].line, 9);
    assert_int_equal(res.problems.items[7].column, 2);
    assert_int_equal(res.problems.items[8].line, 10);
    assert_true(res.problems.items[8].warning);
    tw_convert_result_cleanup(&res);
}

static void convert_csv_needs_value_column(void **state)
{
    struct tw_convert_result res;
    struct tw_err err;

    (void)state;
    tw_err_clear(&err);
    tw_convert_result_init(&res);
    assert_int_equal(
            tw_convert_csv("# c\n\nindicators,kind\n1.2.3.4,ip\n", 33, &base_opts, &res, &err),
            TW_ESYNTAX);
    assert_int_equal(err.line, 3);
    assert_null(res.bundle);
    tw_convert_result_cleanup(&res);

    /* No type column: kinds are detected. Empty input: an empty bundle. */
    assert_int_equal(run(tw_convert_csv, "value\n1.2.3.4\nexample.com\n", &base_opts, &res), TW_OK);
    assert_int_equal(res.n_converted, 2);
    tw_convert_result_cleanup(&res);
    assert_int_equal(run(tw_convert_csv, "", &base_opts, &res), TW_OK);
    assert_int_equal(json_array_size(json_object_get(res.bundle, "objects")), 0);
    tw_convert_result_cleanup(&res);
}

static void convert_csv_types_and_zeek_names(void **state)
{
    struct tw_convert_result res;
    const char *in =
            "type,value\n"
            "Intel::ADDR,192.0.2.1\n"
            "SUBNET,192.0.2.0/24\n"
            "x509-sha1,DA39A3EE5E6B4B0D3255BFEF95601890AFD80709\n"
            "sha512,"
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0"
            "ff8318d2877eec2f63b931bd47417a81a538327af927da3e\n"
            "url,evil.example/path\n"
            "file_name,dropper.exe\n"
            "email,ops@example.com\n";

    (void)state;
    assert_int_equal(run(tw_convert_csv, in, &base_opts, &res), TW_OK);
    assert_int_equal(res.n_converted, 7);
    assert_string_equal(pattern_of(res.bundle, 0), "[ipv4-addr:value = '192.0.2.1']");
    assert_string_equal(pattern_of(res.bundle, 1), "[ipv4-addr:value ISSUBSET '192.0.2.0/24']");
    assert_string_equal(pattern_of(res.bundle, 2),
            "[x509-certificate:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']");
    assert_non_null(strstr(pattern_of(res.bundle, 3), "[file:hashes.'SHA-512' = 'cf83e1"));
    assert_string_equal(pattern_of(res.bundle, 4), "[url:value = 'http://evil.example/path']");
    assert_string_equal(pattern_of(res.bundle, 5), "[file:name = 'dropper.exe']");
    assert_string_equal(pattern_of(res.bundle, 6), "[email-addr:value = 'ops@example.com']");
    tw_convert_result_cleanup(&res);
}

/* ==== Zeek ==== */

static void convert_zeek_reads_fields_and_reports_lines(void **state)
{
    struct tw_convert_result res;
    const json_t *ind;
    const char *in = "#separator \\x09\n" /* 1 */
                     "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url"
                     "\tmeta.do_notice\n"                                             /* 2 */
                     "198.51.100.7\tIntel::ADDR\tfeed-a\tC2\thttp://r.example/1\tT\n" /* 3 */
                     "# comment\n"                                                    /* 4 */
                     "evil.example/login.php\tIntel::URL\tfeed-a\t-\t-\tF\n"          /* 5 */
                     "AAAA\tIntel::PUBKEY_HASH\tfeed-a\t-\t-\tF\n"                    /* 6 */
                     "only\ttwo\n"                                                    /* 7 */
                     "jdoe\tIntel::USER_NAME\t-\t(empty)\t-\tF\r\n"                   /* 8 */
                     "x.example\tIntel::DOMAIN\tfeed-b\tdesc\t-\tF";                  /* 9 */

    (void)state;
    assert_int_equal(run(tw_convert_zeek, in, &base_opts, &res), TW_OK);
    assert_int_equal(res.n_read, 6);
    assert_int_equal(res.n_converted, 4);
    assert_int_equal(res.n_rejected, 2);
    assert_true(res.problems.items[0].warning); /* meta.do_notice ignored */
    assert_int_equal(res.problems.items[0].line, 2);
    assert_int_equal(res.problems.items[1].line, 6);
    assert_int_equal(res.problems.items[1].column, 2);
    assert_non_null(strstr(res.problems.items[1].msg, "no STIX equivalent"));
    assert_int_equal(res.problems.items[2].line, 7);
    ind = nth_of_type(res.bundle, "indicator", 0);
    assert_string_equal(str_of(ind, "description"), "C2");
    assert_string_equal(
            str_of(json_array_get(json_object_get(ind, "external_references"), 0), "url"),
            "http://r.example/1");
    assert_string_equal(str_of(nth_of_type(res.bundle, "identity", 0), "name"), "feed-a");
    assert_string_equal(pattern_of(res.bundle, 1), "[url:value = 'http://evil.example/login.php']");
    assert_string_equal(pattern_of(res.bundle, 2), "[user-account:user_id = 'jdoe']");
    assert_null(json_object_get(nth_of_type(res.bundle, "indicator", 2), "created_by_ref"));
    assert_int_equal(json_array_size(json_object_get(res.bundle, "objects")), 6);
    tw_convert_result_cleanup(&res);
}

static void convert_zeek_needs_fields_line(void **state)
{
    struct tw_convert_result res;

    (void)state;
    assert_int_equal(run(tw_convert_zeek, "1.2.3.4\tIntel::ADDR\n", &base_opts, &res), TW_ESYNTAX);
    assert_int_equal(res.problems.items[0].line, 1);
    tw_convert_result_cleanup(&res);
    assert_int_equal(run(tw_convert_zeek, "#fields\tindicator\tmeta.source\n", &base_opts, &res),
            TW_ESYNTAX);
    tw_convert_result_cleanup(&res);
}

/* ==== Determinism ==== */

static void convert_is_deterministic(void **state)
{
    struct tw_convert_result a, b;
    struct tw_convert_opts o = base_opts;
    const char *in1 = "value,type,source\n1.2.3.4,ip,S\nexample.com,domain,S\n";
    const char *in2 = "value,type,source\nexample.com,domain,S\n1.2.3.4,ip,S\n";
    char *da, *db;

    (void)state;
    o.tlp = "green";
    assert_int_equal(run(tw_convert_csv, in1, &o, &a), TW_OK);
    assert_int_equal(run(tw_convert_csv, in1, &o, &b), TW_OK);
    da = dump(a.bundle);
    db = dump(b.bundle);
    assert_string_equal(da, db);
    /* Key order is the order objects were built in. */
    assert_non_null(strstr(da, "{\n  \"type\": \"bundle\",\n  \"id\": \"bundle--"));
    tw_free(da);
    tw_free(db);
    tw_convert_result_cleanup(&b);

    /* Another order: the same ids for the same indicators, the same bundle id. */
    assert_int_equal(run(tw_convert_csv, in2, &o, &b), TW_OK);
    assert_string_equal(str_of(nth_of_type(a.bundle, "indicator", 0), "id"),
            str_of(nth_of_type(b.bundle, "indicator", 1), "id"));
    assert_string_equal(str_of(nth_of_type(a.bundle, "indicator", 1), "id"),
            str_of(nth_of_type(b.bundle, "indicator", 0), "id"));
    assert_string_equal(str_of(a.bundle, "id"), str_of(b.bundle, "id"));
    tw_convert_result_cleanup(&b);

    /* A different source gives a different id; the list importer agrees with CSV. */
    o.source = "S";
    assert_int_equal(run(tw_convert_list, "1.2.3.4\n", &o, &b), TW_OK);
    assert_string_equal(str_of(nth_of_type(a.bundle, "indicator", 0), "id"),
            str_of(nth_of_type(b.bundle, "indicator", 0), "id"));
    tw_convert_result_cleanup(&b);
    o.source = "T";
    assert_int_equal(run(tw_convert_list, "1.2.3.4\n", &o, &b), TW_OK);
    assert_string_not_equal(str_of(nth_of_type(a.bundle, "indicator", 0), "id"),
            str_of(nth_of_type(b.bundle, "indicator", 0), "id"));
    tw_convert_result_cleanup(&b);
    tw_convert_result_cleanup(&a);
}

static void convert_requires_timestamp(void **state)
{
    struct tw_convert_result res;
    struct tw_convert_opts o = base_opts;

    (void)state;
    o.timestamp = NULL;
    assert_int_equal(run(tw_convert_list, "1.2.3.4\n", &o, &res), TW_EINVAL);
    tw_convert_result_cleanup(&res);
    o.timestamp = "2025-01-01T01:00:00+01:00";
    assert_int_equal(run(tw_convert_list, "1.2.3.4\n", &o, &res), TW_OK);
    assert_string_equal(
            str_of(nth_of_type(res.bundle, "indicator", 0), "created"), "2025-01-01T00:00:00.000Z");
    tw_convert_result_cleanup(&res);
}

/* ==== Exporters ==== */

static const char *const export_set =
        "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":["
        "{\"type\":\"identity\",\"id\":\"identity--1\",\"name\":\"x\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--a\",\"name\":\"C2\\taddr\","
        " \"description\":\"line1\\nline2\",\"pattern_type\":\"stix\","
        " \"pattern\":\"[ipv4-addr:value = '198.51.100.7' OR ipv4-addr:value = '10.0.0.0/8']\","
        " \"external_references\":[{\"source_name\":\"r\",\"url\":\"https://r.example/x\"}]},"
        "{\"type\":\"indicator\",\"id\":\"indicator--b\",\"pattern_type\":\"stix\","
        " \"pattern\":\"[domain-name:value = 'evil.example']\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--c\",\"pattern_type\":\"stix\","
        " \"pattern\":\"[network-traffic:dst_port = 22 AND network-traffic:dst_ref.value = "
        "'1.2.3.4']\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--d\",\"pattern_type\":\"sigma\","
        " \"pattern\":\"x\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--e\",\"pattern_type\":\"stix\","
        " \"pattern\":\"[url:value = 'https://evil.example/a b']\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--f\",\"pattern_type\":\"stix\","
        " \"pattern\":\"[file:hashes.'SHA-256' = "
        "'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855']\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--g\",\"pattern_type\":\"stix\","
        " \"pattern\":\"[network-traffic:x_ja3 = 'e7d705a3286e19ea42f587b344ee6865']\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--h\",\"pattern_type\":\"stix\","
        " \"pattern\":\"[url:value = 'https://evil.example/x']\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--i\",\"pattern_type\":\"stix\","
        " \"revoked\":true, \"pattern\":\"[domain-name:value = 'old.example']\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--j\",\"pattern_type\":\"stix\","
        " \"pattern\":\"[x509-certificate:hashes.'SHA-1' = "
        "'da39a3ee5e6b4b0d3255bfef95601890afd80709']\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--k\",\"pattern_type\":\"stix\","
        " \"pattern\":\"[ipv4-addr:value = \"}"
        "]}";

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);

    assert_non_null(j);
    return j;
}

static void convert_export_zeek(void **state)
{
    struct tw_export_result res;
    struct tw_buf out;
    json_t *j = load(export_set);

    (void)state;
    tw_export_result_init(&res);
    tw_buf_init(&out, 1 << 20);
    assert_int_equal(tw_export_zeek(j, &out, &res, NULL), TW_OK);
    assert_string_equal(out.ptr,
            "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n"
            "198.51.100.7\tIntel::ADDR\tC2 addr\tline1 line2\thttps://r.example/x\n"
            "10.0.0.0/8\tIntel::SUBNET\tC2 addr\tline1 line2\thttps://r.example/x\n"
            "evil.example\tIntel::DOMAIN\tindicator--b\t-\t-\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\tIntel::FILE_HASH"
            "\tindicator--f\t-\t-\n"
            "evil.example/x\tIntel::URL\tindicator--h\t-\t-\n"
            "da39a3ee5e6b4b0d3255bfef95601890afd80709\tIntel::CERT_HASH\tindicator--j\t-\t-\n");
    assert_int_equal(res.n_objects, 12);
    assert_int_equal(res.n_indicators, 11);
    assert_int_equal(res.n_exported, 5);
    assert_int_equal(res.n_lines, 6);
    assert_int_equal(res.n_skipped[TW_SKIP_NOT_EXACT], 1);
    assert_int_equal(res.n_skipped[TW_SKIP_NOT_STIX], 1);
    assert_int_equal(res.n_skipped[TW_SKIP_BAD_VALUE], 1);
    assert_int_equal(res.n_skipped[TW_SKIP_UNSUPPORTED], 1); /* ja3 */
    assert_int_equal(res.n_skipped[TW_SKIP_REVOKED], 1);
    assert_int_equal(res.n_skipped[TW_SKIP_BAD_PATTERN], 1);
    assert_int_equal(res.problems.n, 6);
    assert_int_equal(res.problems.items[0].line, 4);
    assert_non_null(strstr(res.problems.items[0].msg, "indicator--c"));
    assert_non_null(strstr(res.problems.items[0].msg, "not-exact"));
    tw_export_result_cleanup(&res);
    tw_buf_cleanup(&out);
    json_decref(j);
}

static void convert_export_suricata(void **state)
{
    struct tw_export_result res;
    struct tw_suricata_out out;
    json_t *j = load(export_set);

    (void)state;
    tw_export_result_init(&res);
    tw_suricata_out_init(&out);
    assert_int_equal(tw_export_suricata(j, &out, &res, NULL), TW_OK);
    assert_string_equal(out.files[TW_SURI_IP].content.ptr, "198.51.100.7\n");
    assert_string_equal(out.files[TW_SURI_IPREP].content.ptr, "10.0.0.0/8,1,127\n");
    assert_string_equal(out.iprep_categories.ptr, "1,tidewatch,tidewatch indicators\n");
    /* base64("evil.example") */
    assert_string_equal(out.files[TW_SURI_DOMAIN].content.ptr, "ZXZpbC5leGFtcGxl\n");
    assert_string_equal(out.files[TW_SURI_SHA256].content.ptr,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n");
    /* base64("e7d705a3286e19ea42f587b344ee6865") */
    assert_string_equal(
            out.files[TW_SURI_JA3].content.ptr, "ZTdkNzA1YTMyODZlMTllYTQyZjU4N2IzNDRlZTY4NjU=\n");
    assert_int_equal(out.files[TW_SURI_CERT_SHA1].n_lines, 1);
    assert_string_equal(out.files[TW_SURI_DOMAIN].rule,
            "dns.query; dataset:isset,tw-domains,type string,load tw-domains.lst;");
    assert_string_equal(out.files[TW_SURI_DOMAIN].type, "string");
    assert_null(out.files[TW_SURI_MD5].content.ptr);
    assert_int_equal(res.n_lines, 6);
    assert_int_equal(res.n_skipped[TW_SKIP_UNSUPPORTED], 1); /* the URL */
    tw_suricata_out_cleanup(&out);
    tw_export_result_cleanup(&res);
    json_decref(j);

    /* Neither an array nor a bundle. */
    j = load("{\"type\":\"indicator\"}");
    tw_export_result_init(&res);
    tw_suricata_out_init(&out);
    assert_int_equal(tw_export_suricata(j, &out, &res, NULL), TW_EINVAL);
    tw_suricata_out_cleanup(&out);
    tw_export_result_cleanup(&res);
    json_decref(j);
}

static void convert_round_trip_csv_stix_zeek(void **state)
{
    struct tw_convert_result res;
    struct tw_export_result ex;
    struct tw_buf zeek;
    const char *in = "type,value,name,description\n"
                     "ip,203.0.113.5,relay,seen\n"
                     "domain,c2[.]example,beacon,\n"
                     "url,hxxps://c2[.]example/gate,,\n"
                     "md5,D41D8CD98F00B204E9800998ECF8427E,,\n";

    (void)state;
    assert_int_equal(run(tw_convert_csv, in, &base_opts, &res), TW_OK);
    tw_export_result_init(&ex);
    tw_buf_init(&zeek, 1 << 20);
    assert_int_equal(tw_export_zeek(res.bundle, &zeek, &ex, NULL), TW_OK);
    assert_int_equal(ex.n_exported, 4);
    assert_non_null(strstr(zeek.ptr, "203.0.113.5\tIntel::ADDR\trelay\tseen\t-\n"));
    assert_non_null(strstr(zeek.ptr, "c2.example\tIntel::DOMAIN\tbeacon\t-\t-\n"));
    assert_non_null(strstr(zeek.ptr, "c2.example/gate\tIntel::URL\tindicator--"));
    assert_non_null(strstr(zeek.ptr, "d41d8cd98f00b204e9800998ecf8427e\tIntel::FILE_HASH\t"));
    tw_convert_result_cleanup(&res);

    /* And back: the Zeek file converts to the same patterns. */
    assert_int_equal(run(tw_convert_zeek, zeek.ptr, &base_opts, &res), TW_OK);
    assert_int_equal(res.n_converted, 4);
    assert_string_equal(pattern_of(res.bundle, 2), "[url:value = 'http://c2.example/gate']");
    tw_convert_result_cleanup(&res);
    tw_export_result_cleanup(&ex);
    tw_buf_cleanup(&zeek);
}

static void convert_fixtures_give_expected_counts(void **state)
{
    static const struct {
        const char *file;
        import_fn *fn;
        size_t read, converted, rejected, first_bad_line;
    } cases[] = {
        { "convert/sample.txt", tw_convert_list, 6, 5, 1, 7 },
        { "convert/sample.csv", tw_convert_csv, 4, 3, 1, 5 },
        { "convert/sample.zeek", tw_convert_zeek, 3, 2, 1, 4 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tw_convert_result res;
        size_t len;
        char *text = tw_test_slurp(tw_test_data(cases[i].file), &len);

        tw_convert_result_init(&res);
        assert_int_equal(cases[i].fn(text, len, &base_opts, &res, NULL), TW_OK);
        assert_int_equal(res.n_read, cases[i].read);
        assert_int_equal(res.n_converted, cases[i].converted);
        assert_int_equal(res.n_rejected, cases[i].rejected);
        assert_int_equal(res.problems.items[0].line, cases[i].first_bad_line);
        tw_convert_result_cleanup(&res);
        tw_free(text);
    }
}

static void convert_rejects_nul_and_bad_utf8(void **state)
{
    struct tw_convert_result res;
    struct tw_err err;
    static const char in[] = "value,description\n1.2.3.4,a\0b\n1.2.3.5,\xff\n1.2.3.6,caf\xc3\xa9\n";

    (void)state;
    tw_convert_result_init(&res);
    assert_int_equal(tw_convert_csv(in, sizeof(in) - 1, &base_opts, &res, &err), TW_OK);
    assert_int_equal(res.n_converted, 1);
    assert_int_equal(res.n_rejected, 2);
    assert_int_equal(res.problems.items[0].line, 2);
    assert_non_null(strstr(res.problems.items[0].msg, "NUL"));
    assert_int_equal(res.problems.items[1].line, 3);
    assert_non_null(strstr(res.problems.items[1].msg, "UTF-8"));
    tw_convert_result_cleanup(&res);
}

static void convert_survives_allocation_failures(void **state)
{
    const char *in = "type,value,tlp,source,labels\nip,1.2.3.4,red,S,a;b\ndomain,x.example,,,\n";

    (void)state;
    for (long n = 0; n < 200; n++) {
        struct tw_convert_result res;
        struct tw_err err;
        int rc;

        tw_convert_result_init(&res);
        tw_alloc_fail_after(n);
        rc = tw_convert_csv(in, strlen(in), &base_opts, &res, &err);
        tw_alloc_fail_reset();
        assert_true(rc == TW_OK || rc == TW_ENOMEM);
        tw_convert_result_cleanup(&res);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(convert_list_detects_kinds_and_refangs),
        cmocka_unit_test(convert_list_reports_bad_lines),
        cmocka_unit_test(convert_list_explicit_type_makes_ja3),
        cmocka_unit_test(convert_refang_forms),
        cmocka_unit_test(convert_pattern_escapes_quotes),
        cmocka_unit_test(convert_csv_fields_become_properties),
        cmocka_unit_test(convert_csv_rfc4180_edges),
        cmocka_unit_test(convert_csv_bad_rows_have_positions),
        cmocka_unit_test(convert_csv_needs_value_column),
        cmocka_unit_test(convert_csv_types_and_zeek_names),
        cmocka_unit_test(convert_zeek_reads_fields_and_reports_lines),
        cmocka_unit_test(convert_zeek_needs_fields_line),
        cmocka_unit_test(convert_is_deterministic),
        cmocka_unit_test(convert_requires_timestamp),
        cmocka_unit_test(convert_export_zeek),
        cmocka_unit_test(convert_export_suricata),
        cmocka_unit_test(convert_round_trip_csv_stix_zeek),
        cmocka_unit_test(convert_fixtures_give_expected_counts),
        cmocka_unit_test(convert_rejects_nul_and_bad_utf8),
        cmocka_unit_test(convert_survives_allocation_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
