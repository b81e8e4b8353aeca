/*
 * test_time.c: RFC 3339 parsing and formatting with STIX's precision rules.
 */
#include <string.h>

#include "tidewatch/time.h"
#include "tw_test.h"

static int parse(const char *s, unsigned flags, struct tw_time *t, struct tw_err *err)
{
    return tw_time_parse(tw_str_cstr(s), flags, t, err);
}

static void time_parses_stix_millis(void **state)
{
    struct tw_time t;
    char out[TW_TIME_STRLEN];

    (void)state;
    assert_int_equal(parse("2016-04-06T20:03:48.000Z", TW_TIME_MILLIS, &t, NULL), TW_OK);
    assert_int_equal(t.sec, 1459973028);
    assert_int_equal(t.nsec, 0);
    assert_int_equal(t.frac_digits, 3);
    tw_time_format(&t, -1, out);
    assert_string_equal(out, "2016-04-06T20:03:48.000Z");
    tw_time_format(&t, 6, out);
    assert_string_equal(out, "2016-04-06T20:03:48.000000Z");
}

static void time_keeps_nanoseconds(void **state)
{
    struct tw_time t;
    char out[TW_TIME_STRLEN];

    (void)state;
    assert_int_equal(parse("1969-12-31T23:59:59.123456789Z", 0, &t, NULL), TW_OK);
    assert_int_equal(t.sec, -1);
    assert_int_equal(t.nsec, 123456789);
    tw_time_format(&t, -1, out);
    assert_string_equal(out, "1969-12-31T23:59:59.123456789Z");
    tw_time_format(&t, 0, out);
    assert_string_equal(out, "1969-12-31T23:59:59Z");
}

static void time_rejects_missing_millis_when_required(void **state)
{
    struct tw_time t;
    struct tw_err err;

    (void)state;
    assert_int_equal(parse("2016-04-06T20:03:48Z", 0, &t, NULL), TW_OK);
    assert_int_equal(parse("2016-04-06T20:03:48Z", TW_TIME_MILLIS, &t, &err), TW_EINVAL);
    assert_non_null(strstr(err.msg, "millisecond"));
    assert_int_equal(parse("2016-04-06T20:03:48.1Z", TW_TIME_MILLIS, &t, NULL), TW_EINVAL);
}

static void time_offsets_only_when_allowed(void **state)
{
    struct tw_time t;
    struct tw_err err;

    (void)state;
    assert_int_equal(parse("2016-04-06T22:03:48+02:00", 0, &t, &err), TW_EINVAL);
    assert_int_equal(err.offset, 19);
    assert_int_equal(parse("2016-04-06T22:03:48+02:00", TW_TIME_ALLOW_OFFSET, &t, NULL), TW_OK);
    assert_int_equal(t.sec, 1459973028);
    assert_int_equal(parse("2016-04-06T15:03:48-05:00", TW_TIME_ALLOW_OFFSET, &t, NULL), TW_OK);
    assert_int_equal(t.sec, 1459973028);
}

static void time_rejects_bad_fields(void **state)
{
    static const char *const bad[] = {
        "",
        "2016",
        "2016-13-01T00:00:00Z",
        "2016-02-30T00:00:00Z",
        "2015-02-29T00:00:00Z",
        "2016-04-06 20:03:48Z",
        "2016-04-06T24:00:00Z",
        "2016-04-06T20:60:00Z",
        "2016-04-06T20:03:48.Z",
        "2016-04-06T20:03:48",
        "2016-04-06T20:03:48Zjunk",
        "2016-04-06t20:03:48z",
        "+016-04-06T20:03:48Z",
    };
    struct tw_time t;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(parse(bad[i], 0, &t, NULL), TW_EINVAL);
    assert_int_equal(parse("2016-02-29T00:00:00Z", 0, &t, NULL), TW_OK);
    assert_int_equal(parse("2016-04-06t20:03:48z", TW_TIME_ALLOW_LOWER, &t, NULL), TW_OK);
}

static void time_leap_second_folds_forward(void **state)
{
    struct tw_time a, b;

    (void)state;
    assert_int_equal(parse("2016-12-31T23:59:60Z", 0, &a, NULL), TW_OK);
    assert_int_equal(parse("2017-01-01T00:00:00Z", 0, &b, NULL), TW_OK);
    assert_int_equal(tw_time_cmp(&a, &b), 0);
}

static void time_compares_by_instant(void **state)
{
    struct tw_time a, b;

    (void)state;
    assert_int_equal(parse("2020-01-01T00:00:00.001Z", 0, &a, NULL), TW_OK);
    assert_int_equal(parse("2020-01-01T00:00:00.0010Z", 0, &b, NULL), TW_OK);
    assert_int_equal(tw_time_cmp(&a, &b), 0);
    assert_int_equal(parse("2020-01-01T00:00:00.002Z", 0, &b, NULL), TW_OK);
    assert_true(tw_time_cmp(&a, &b) < 0);
    assert_true(tw_time_cmp(&b, &a) > 0);
}

static void time_now_has_micro_precision(void **state)
{
    struct tw_time t = tw_time_now();
    char out[TW_TIME_STRLEN];

    (void)state;
    assert_int_equal(t.frac_digits, 6);
    assert_int_equal(t.nsec % 1000, 0);
    assert_int_equal(tw_time_format(&t, -1, out), 27);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(time_parses_stix_millis),
        cmocka_unit_test(time_keeps_nanoseconds),
        cmocka_unit_test(time_rejects_missing_millis_when_required),
        cmocka_unit_test(time_offsets_only_when_allowed),
        cmocka_unit_test(time_rejects_bad_fields),
        cmocka_unit_test(time_leap_second_folds_forward),
        cmocka_unit_test(time_compares_by_instant),
        cmocka_unit_test(time_now_has_micro_precision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
