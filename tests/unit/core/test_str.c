/*
 * test_str.c: slices and checked number parsing.
 */
#include <stdint.h>

#include "tidewatch/err.h"
#include "tidewatch/str.h"
#include "tw_test.h"

static void str_u64_checks_range_and_syntax(void **state)
{
    uint64_t v;

    (void)state;
    assert_int_equal(tw_parse_u64(TW_STR("0"), 10, &v), TW_OK);
    assert_int_equal(v, 0);
    assert_int_equal(tw_parse_u64(TW_STR("18446744073709551615"), UINT64_MAX, &v), TW_OK);
    assert_true(v == UINT64_MAX);
    assert_int_equal(tw_parse_u64(TW_STR("18446744073709551616"), UINT64_MAX, &v), TW_ERANGE);
    assert_int_equal(tw_parse_u64(TW_STR("65536"), 65535, &v), TW_ERANGE);
    assert_int_equal(tw_parse_u64(TW_STR("65535"), 65535, &v), TW_OK);
    assert_int_equal(tw_parse_u64(TW_STR(""), 10, &v), TW_EINVAL);
    assert_int_equal(tw_parse_u64(TW_STR(" 1"), 10, &v), TW_EINVAL);
    assert_int_equal(tw_parse_u64(TW_STR("-1"), 10, &v), TW_EINVAL);
    assert_int_equal(tw_parse_u64(TW_STR("1x"), 10, &v), TW_EINVAL);
}

static void str_i64_handles_extremes(void **state)
{
    int64_t v;

    (void)state;
    assert_int_equal(tw_parse_i64(TW_STR("-9223372036854775808"), INT64_MIN, INT64_MAX, &v), TW_OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(
            tw_parse_i64(TW_STR("9223372036854775808"), INT64_MIN, INT64_MAX, &v), TW_ERANGE);
    assert_int_equal(tw_parse_i64(TW_STR("+42"), 0, 100, &v), TW_OK);
    assert_int_equal(v, 42);
    assert_int_equal(tw_parse_i64(TW_STR("-1"), 0, 100, &v), TW_ERANGE);
    assert_int_equal(tw_parse_i64(TW_STR("-"), INT64_MIN, INT64_MAX, &v), TW_EINVAL);
}

static void str_hex_and_double(void **state)
{
    uint64_t v;
    double d;

    (void)state;
    assert_int_equal(tw_parse_hex_u64(TW_STR("fF"), 255, &v), TW_OK);
    assert_int_equal(v, 255);
    assert_int_equal(tw_parse_hex_u64(TW_STR("100"), 255, &v), TW_ERANGE);
    assert_int_equal(tw_parse_hex_u64(TW_STR("0x1"), 255, &v), TW_EINVAL);
    assert_int_equal(tw_parse_double(TW_STR("-1.5e3"), &d), TW_OK);
    assert_true(d == -1500.0);
    assert_int_equal(tw_parse_double(TW_STR("nan"), &d), TW_EINVAL);
    assert_int_equal(tw_parse_double(TW_STR("1e999"), &d), TW_ERANGE);
    assert_int_equal(tw_parse_double(TW_STR("1.5 "), &d), TW_EINVAL);
}

static void str_split_trim_compare(void **state)
{
    struct tw_str s = TW_STR("a,, b ,c"), tok;
    const char *want[] = { "a", "", " b ", "c" };
    size_t n = 0;

    (void)state;
    while (tw_str_split(&s, ',', &tok)) {
        assert_true(n < 4);
        assert_true(tw_str_eq_cstr(tok, want[n]));
        n++;
    }
    assert_int_equal(n, 4);
    assert_true(tw_str_eq_cstr(tw_str_trim(TW_STR("\t x y \r\n")), "x y"));
    assert_true(tw_str_caseeq(TW_STR("Evil.COM"), TW_STR("evil.com")));
    assert_true(tw_str_starts_with(TW_STR("ipv4-addr:value"), TW_STR("ipv4-")));
    assert_true(tw_str_ends_with(TW_STR("a.example.com"), TW_STR(".example.com")));
    assert_false(tw_str_ends_with(TW_STR("com"), TW_STR(".com")));
    assert_int_equal(tw_str_find(TW_STR("abc"), 'c'), 2);
    assert_int_equal(tw_str_find(TW_STR("abc"), 'z'), -1);
}

static void str_lines_and_bom(void **state)
{
    struct tw_str rest = tw_str_skip_bom(TW_STR("\xef\xbb\xbfone\r\ntwo\n\nthr\ree")), l;
    const char *want[] = { "one", "two", "", "thr\ree" };
    size_t n = 0;

    (void)state;
    while (tw_str_next_line(&rest, &l)) {
        assert_true(n < 4);
        assert_true(tw_str_eq_cstr(l, want[n]));
        n++;
    }
    assert_int_equal(n, 4);
    rest = TW_STR("a\n");
    assert_true(tw_str_next_line(&rest, &l));
    assert_false(tw_str_next_line(&rest, &l)); /* no empty line after a final newline */
    assert_true(tw_str_eq_cstr(tw_str_skip_bom(TW_STR("\xef\xbb")), "\xef\xbb"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(str_u64_checks_range_and_syntax),
        cmocka_unit_test(str_i64_handles_extremes),
        cmocka_unit_test(str_hex_and_double),
        cmocka_unit_test(str_split_trim_compare),
        cmocka_unit_test(str_lines_and_bom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
