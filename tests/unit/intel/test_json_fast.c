/*
 * test_json_fast.c: the quick JSON path of the STIX reader
 * (src/intel/json_fast.c) builds exactly jansson's tree for what it accepts,
 * in the same member order, and gives up on every case it leaves to jansson;
 * the reader's results and messages are the same either way.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "stix_int.h"
#include "tidewatch/stix.h"
#include "tw_test.h"

static void assert_same_as_jansson(const char *text)
{
    json_t *fast = tw__json_fast_load(text, strlen(text));
    json_t *ref = json_loadb(text, strlen(text), JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    char *a, *b;

    assert_non_null(fast);
    assert_non_null(ref);
    assert_true(json_equal(fast, ref));
    a = json_dumps(fast, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    b = json_dumps(ref, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    free(a);
    free(b);
    json_decref(fast);
    json_decref(ref);
}

static void fast_path_builds_jansson_tree(void **state)
{
    (void)state;
    assert_same_as_jansson("{\"type\":\"indicator\",\"id\":\"x\",\"labels\":[\"a\",\"b\"],"
                           "\"confidence\":85,\"revoked\":false,\"x\":null,\"t\":true}");
    assert_same_as_jansson(" \r\n\t[ 1 , -0, 0, -12 ,{ } ,[ ] ,\"\" ] \n");
    assert_same_as_jansson("[9223372036854775807,-9223372036854775808]");
    assert_same_as_jansson("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    assert_same_as_jansson("{\"esc\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"}");
    assert_same_as_jansson("{\"z\":1,\"a\":2,\"m\":{\"q\":[{\"k\":\"v\"}]}}");
    /* A key longer than the scanner's stack copy, and an escaped key. */
    assert_same_as_jansson("{\"a-key-that-is-certainly-longer-than-sixty-four-bytes-for-the-"
                           "copy-made-on-the-heap\":1,\"e\\nk\":\"v\\tv\"}");
    assert_same_as_jansson("42");
}

static void fast_path_leaves_the_rest_to_jansson(void **state)
{
    static const char *const cases[] = {
        "",
        "   ",
        "{",
        "[1,]",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "[1 2]",
        "01",
        "-",
        "1.5",
        "1e3",
        "2E-1",
        "9223372036854775808",
        "-9223372036854775809",
        "\"\\u0041\"",
        "\"\\x\"",
        "\"a\nb\"",
        "\"\xc3\"",
        "\"\xc0\xaf\"",
        "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"",
        "{\"a\":1,\"a\":2}",
        "[1] x",
        "tru",
        "nul",
        "falsy",
        "{\"a\":1}}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = tw__json_fast_load(cases[i], strlen(cases[i]));

        if (v != NULL)
            fail_msg("the quick path accepted case %zu", i);
    }
    /* A NUL byte inside the text. */
    assert_null(tw__json_fast_load("[\"a\0b\"]", 7));
}

static void fast_path_gives_up_on_deep_nesting(void **state)
{
    char deep[2 * 200 + 1];

    (void)state;
    memset(deep, '[', 200);
    memset(deep + 200, ']', 200);
    deep[400] = '\0';
    assert_null(tw__json_fast_load(deep, 400));
    /* jansson still reads it for the reader. */
    {
        json_t *v = json_loadb(deep, 400, JSON_DECODE_ANY, NULL);

        assert_non_null(v);
        json_decref(v);
    }
}

/* The reader's verdicts do not depend on which loader ran. */
static void reader_results_unchanged_by_fallback(void **state)
{
    static const char plain[] = "{\"type\":\"bundle\",\"id\":\"bundle--6f8b3c66-ff2c-4b1a-9b7e-"
                                "3a2b7e2c1d4f\",\"objects\":[{\"type\":\"ipv4-addr\",\"spec_"
                                "version\":\"2.1\",\"id\":\"ipv4-addr--ff26c055-6336-5bc5-b98d-"
                                "13d6226742dd\",\"value\":\"198.51.100.3\"}]}";
    static const char escaped[] = "{\"type\":\"bundle\",\"id\":\"bundle--6f8b3c66-ff2c-4b1a-9b7e-"
                                  "3a2b7e2c1d4f\",\"objects\":[{\"type\":\"ipv4-addr\",\"spec_"
                                  "version\":\"2.1\",\"id\":\"ipv4-addr--ff26c055-6336-5bc5-b98d-"
                                  "13d6226742dd\",\"value\":\"198.51.100.\\u0033\"}]}";
    static const char dup[] = "{\"type\":\"bundle\",\"type\":\"bundle\",\"objects\":[]}";
    static const char broken[] = "{\"type\":\"bundle\",\n\"objects\":[1.5e]}";
    struct tw_stix_bundle *a, *b;
    struct tw_err err;

    (void)state;
    assert_int_equal(tw_stix_read_mem(plain, strlen(plain), "p", 0, &a, &err), TW_OK);
    assert_int_equal(tw_stix_read_mem(escaped, strlen(escaped), "e", 0, &b, &err), TW_OK);
    assert_int_equal(tw_stix_bundle_count(a), 1);
    assert_int_equal(tw_stix_bundle_count(b), 1);
    assert_true(json_equal(tw_stix_bundle_json(a), tw_stix_bundle_json(b)));
    assert_int_equal(tw_stix_bundle_n_valid(a), tw_stix_bundle_n_valid(b));
    tw_stix_bundle_free(a);
    tw_stix_bundle_free(b);
    /* A duplicate key is still reported as one, with its line and column. */
    assert_int_equal(tw_stix_read_mem(dup, strlen(dup), "d", 0, &a, &err), TW_OK);
    {
        bool seen = false;

        for (size_t i = 0; i < tw_stix_bundle_n_problems(a); i++)
            seen = seen || strstr(tw_stix_bundle_problem(a, i)->msg, "duplicate key") != NULL;
        tw_stix_bundle_free(a);
        assert_true(seen);
    }
    /* Bad JSON still gets jansson's message with its position. */
    assert_int_not_equal(tw_stix_read_mem(broken, strlen(broken), "b", 0, &a, &err), TW_OK);
    assert_non_null(strstr(err.msg, "line 2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fast_path_builds_jansson_tree),
        cmocka_unit_test(fast_path_leaves_the_rest_to_jansson),
        cmocka_unit_test(fast_path_gives_up_on_deep_nesting),
        cmocka_unit_test(reader_results_unchanged_by_fallback),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
