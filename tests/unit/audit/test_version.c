/*
 * test_version.c: tw_version_cmp over tables of real version strings of each
 * family (the forms `show version` and configurations print), what is not a
 * version, and the release trains the vulnerability data names.
 */
#include <string.h>

#include "audit_int.h"
#include "tidewatch/audit.h"
#include "tw_test.h"

/* Expected results: LT, EQ, GT, or BAD for TW_EINVAL. */
#define LT  (-1)
#define EQ  0
#define GT  1
#define BAD 9

struct cmp_case {
    enum tw_platform p;
    const char *a;
    const char *b;
    int want;
};

static const struct cmp_case cmp_cases[] = {
    /* IOS XE 16.x / 17.x: dotted, a rebuild letter, zero padding. */
    { TW_PLAT_IOSXE, "17.9.4a", "17.9.4", GT },
    { TW_PLAT_IOSXE, "17.9.4", "17.9.4a", LT },
    { TW_PLAT_IOSXE, "17.09.04a", "17.9.4a", EQ },
    { TW_PLAT_IOSXE, "17.9.3", "17.9.4a", LT },
    { TW_PLAT_IOSXE, "17.9.5", "17.9.4a", GT },
    { TW_PLAT_IOSXE, "17.10.1", "17.9.4a", GT },
    { TW_PLAT_IOSXE, "16.12.10a", "16.12.9", GT },
    { TW_PLAT_IOSXE, "16.8.1b", "16.8.1a", GT },
    { TW_PLAT_IOSXE, "16.08.01b", "16.8.1b", EQ },
    { TW_PLAT_IOSXE, "17.6.5", "17.6.6a", LT },
    { TW_PLAT_IOSXE, "03.06.05E", "03.06.06E", LT },
    { TW_PLAT_IOSXE, "03.06.05E", "03.06.05S", BAD },
    { TW_PLAT_IOSXE, "V169_5_SR689355441_2", "16.9.5", BAD },
    { TW_PLAT_IOSXE, "17.9.4a ", "17.9.4a", BAD },
    { TW_PLAT_IOSXE, "17", "17.9.4a", BAD },
    { TW_PLAT_IOSXE, "17.9", "17.9.4a", BAD },
    { TW_PLAT_IOSXE, "17.9.4.1.2", "17.9.4a", BAD },
    /* Classic IOS trains. */
    { TW_PLAT_IOS, "12.2(55)SE12", "12.2(55)SE11", GT },
    { TW_PLAT_IOS, "12.2(55)SE", "12.2(55)SE12", LT },
    { TW_PLAT_IOS, "12.2(58)SE2", "12.2(55)SE12", GT },
    { TW_PLAT_IOS, "15.2(4)E10", "15.2(7)E8", LT },
    { TW_PLAT_IOS, "15.2(7)E8a", "15.2(7)E8", GT },
    { TW_PLAT_IOS, "15.9(3)M7", "15.9(3)M7", EQ },
    { TW_PLAT_IOS, "15.9(3)M7", "15.2(4)E10", GT },
    { TW_PLAT_IOS, "15.2(4)E10", "15.2(4)M7", BAD },
    { TW_PLAT_IOS, "12.4(25g)", "12.4(25f)", GT },
    { TW_PLAT_IOS, "12.4(24)T", "12.4(24)T2", LT },
    { TW_PLAT_IOS, "12.2(33)SXJ10", "12.2(33)SXJ9", GT },
    { TW_PLAT_IOS, "15.2(4.0.55)E", "15.2(4)E", BAD },
    { TW_PLAT_IOS, "15.2", "15.2(4)E", BAD },
    { TW_PLAT_IOS, "17.9.4a", "15.2(4)E", BAD },
    /* NX-OS, unified and with platform trains. */
    { TW_PLAT_NXOS, "9.3(5)", "9.3(10)", LT },
    { TW_PLAT_NXOS, "10.4(5)", "10.4(3)", GT },
    { TW_PLAT_NXOS, "10.4(5)", "9.3(14)", GT },
    { TW_PLAT_NXOS, "7.3(13)N1(1)", "7.3(8)N1(1)", GT },
    { TW_PLAT_NXOS, "7.3(13)N1(1)", "7.3(13)N1(2)", LT },
    { TW_PLAT_NXOS, "6.0(2)U6(10)", "6.0(2)U6(9)", GT },
    { TW_PLAT_NXOS, "6.0(2)U6(10)", "6.0(2)U5(10)", GT },
    { TW_PLAT_NXOS, "5.0(3)U5(1j)", "5.0(3)U5(1i)", GT },
    { TW_PLAT_NXOS, "9.3(5)I9(1)", "9.3(5)I9(1)", EQ },
    { TW_PLAT_NXOS, "7.3(13)N1(1)", "7.3(13)U6(1)", BAD },
    { TW_PLAT_NXOS, "7.3(13)N1(1)", "7.3(13)", BAD },
    { TW_PLAT_NXOS, "10.2(3)F", "10.2(3)", EQ },
    { TW_PLAT_NXOS, "10.4.5", "10.4(5)", BAD },
    { TW_PLAT_NXOS, "nxos.9.3.15.bin", "9.3(15)", BAD },
    /* IOS XR. */
    { TW_PLAT_IOSXR, "7.9.2", "7.10.1", LT },
    { TW_PLAT_IOSXR, "6.5.1", "6.5.1", EQ },
    { TW_PLAT_IOSXR, "7.3.2", "6.5.1", GT },
    { TW_PLAT_IOSXR, "7.9.2 LNT", "7.9.2", BAD },
    { TW_PLAT_IOSXR, "7.9", "7.9.2", BAD },
    { TW_PLAT_IOSXR, "4.1.0[Default]", "4.1.0", BAD },
    /* Junos and Junos OS Evolved. */
    { TW_PLAT_JUNOS, "22.4R3-S2.11", "22.4R3-S2", GT },
    { TW_PLAT_JUNOS, "22.4R3-S2.11", "22.4R3-S8", LT },
    { TW_PLAT_JUNOS, "21.4R3-S3.4", "21.4R3-S12", LT },
    { TW_PLAT_JUNOS, "19.4R3-S1.3", "19.4R3", GT },
    { TW_PLAT_JUNOS, "18.4R2", "18.4R3", LT },
    { TW_PLAT_JUNOS, "20.2R1-S1", "20.2R1", GT },
    { TW_PLAT_JUNOS, "22.4R3", "21.4R3-S12", GT },
    { TW_PLAT_JUNOS, "13.3R1.4", "13.3R1", GT },
    { TW_PLAT_JUNOS, "15.1X49-D200.3", "15.1X49-D100", GT },
    { TW_PLAT_JUNOS, "23.2R1-EVO", "23.2R2-EVO", LT },
    { TW_PLAT_JUNOS, "23.2R1-EVO", "23.2R1", BAD },
    { TW_PLAT_JUNOS, "15.1X49-D200", "15.1R7", BAD },
    { TW_PLAT_JUNOS, "22.4", "22.4R3", BAD },
    { TW_PLAT_JUNOS, "22.4R3-S2.11;", "22.4R3", BAD },
    /* ASA. */
    { TW_PLAT_ASA, "9.12(4)67", "9.12(4)62", GT },
    { TW_PLAT_ASA, "9.16(3)19", "9.16(4)", LT },
    { TW_PLAT_ASA, "9.12(4)", "9.12(4)67", LT },
    { TW_PLAT_ASA, "9.8(4)", "9.12(4)", LT },
    { TW_PLAT_ASA, "9.12(4)67 ", "9.12(4)67", BAD },
    { TW_PLAT_ASA, "9.12(4a)", "9.12(4)", BAD },
    /* No family. */
    { TW_PLAT_UNKNOWN, "1.0", "1.0", BAD },
    { TW_PLAT_COUNT, "1.0", "1.0", BAD },
};

/* The family's name in messages (kept here so this test needs nothing of devconf). */
static const char *plat_name(enum tw_platform p)
{
    static const char *const names[] = { "unknown", "ios", "iosxe", "nxos", "iosxr", "junos",
        "asa" };

    return (unsigned)p < TW_ARRAY_LEN(names) ? names[p] : "?";
}

static void version_compares_each_family(void **state)
{
    (void)state;
    for (size_t i = 0; i < TW_ARRAY_LEN(cmp_cases); i++) {
        const struct cmp_case *c = &cmp_cases[i];
        int r = 42, rc = tw_version_cmp(c->p, c->a, c->b, &r);

        if (c->want == BAD) {
            if (rc != TW_EINVAL)
                fail_msg("%s vs %s (%s): want TW_EINVAL, got %d (%d)", c->a, c->b, plat_name(c->p),
                        rc, r);
            continue;
        }
        if (rc != TW_OK || r != c->want)
            fail_msg("%s vs %s (%s): want %d, got rc %d r %d", c->a, c->b, plat_name(c->p), c->want,
                    rc, r);
        /* The comparison is antisymmetric. */
        assert_int_equal(tw_version_cmp(c->p, c->b, c->a, &r), TW_OK);
        assert_int_equal(r, -c->want);
    }
}

static void version_rejects_null_and_overlong(void **state)
{
    char longv[80];
    int r = 7;

    (void)state;
    assert_int_equal(tw_version_cmp(TW_PLAT_IOSXE, NULL, "17.9.4", &r), TW_EINVAL);
    assert_int_equal(tw_version_cmp(TW_PLAT_IOSXE, "17.9.4", NULL, &r), TW_EINVAL);
    assert_int_equal(tw_version_cmp(TW_PLAT_IOSXE, "17.9.4", "17.9.4", NULL), TW_EINVAL);
    assert_int_equal(tw_version_cmp(TW_PLAT_IOSXE, "", "17.9.4", &r), TW_EINVAL);
    memset(longv, '1', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    longv[1] = '.';
    assert_int_equal(tw_version_cmp(TW_PLAT_IOSXR, longv, "7.9.2", &r), TW_EINVAL);
    /* A number too large for a field is not a version. */
    assert_int_equal(tw_version_cmp(TW_PLAT_IOSXR, "7.9.99999999", "7.9.2", &r), TW_EINVAL);
}

struct train_case {
    enum tw_platform p;
    const char *train;
    const char *version;
    int holds; /* 1, 0, or BAD when the train does not parse */
};

static const struct train_case train_cases[] = {
    { TW_PLAT_IOSXE, "17.9", "17.9.3", 1 },
    { TW_PLAT_IOSXE, "17.9", "17.09.04a", 1 },
    { TW_PLAT_IOSXE, "17.9", "17.10.1", 0 },
    { TW_PLAT_IOSXE, "17.9", "17.90.1", 0 },
    { TW_PLAT_IOSXE, "17", "17.10.1", 1 },
    { TW_PLAT_IOSXE, "17", "16.12.4", 0 },
    { TW_PLAT_IOSXE, "1", "17.9.3", 0 },
    { TW_PLAT_IOSXE, "*", "3.6.5E", 1 },
    { TW_PLAT_IOSXE, "17.9a", "17.9.3", BAD },
    { TW_PLAT_IOSXE, "", "17.9.3", BAD },
    { TW_PLAT_IOS, "15.2", "15.2(4)E10", 1 },
    { TW_PLAT_IOS, "15.2E", "15.2(4)E10", 1 },
    { TW_PLAT_IOS, "15.2E", "15.2(4)M7", 0 },
    { TW_PLAT_IOS, "12.2SE", "12.2(55)SE12", 1 },
    { TW_PLAT_IOS, "15", "15.9(3)M7", 1 },
    { TW_PLAT_IOS, "15E", "15.2(4)E10", BAD },
    { TW_PLAT_NXOS, "9.3", "9.3(5)", 1 },
    { TW_PLAT_NXOS, "7.3N", "7.3(13)N1(1)", 1 },
    { TW_PLAT_NXOS, "7.3U", "7.3(13)N1(1)", 0 },
    { TW_PLAT_NXOS, "10", "10.4(5)", 1 },
    { TW_PLAT_JUNOS, "22.4", "22.4R3-S2.11", 1 },
    { TW_PLAT_JUNOS, "22.4", "22.4R3-EVO", 0 },
    { TW_PLAT_JUNOS, "22.4-EVO", "22.4R3-EVO", 1 },
    { TW_PLAT_JUNOS, "22.4-EVO", "22.4R3", 0 },
    { TW_PLAT_JUNOS, "22.4R3", "22.4R3", BAD },
    { TW_PLAT_ASA, "9.12", "9.12(4)67", 1 },
    { TW_PLAT_ASA, "9.1", "9.12(4)67", 0 },
    { TW_PLAT_IOSXR, "7.9", "7.9.2", 1 },
    { TW_PLAT_UNKNOWN, "*", "1.0", BAD },
};

static void version_trains_hold_their_releases(void **state)
{
    (void)state;
    for (size_t i = 0; i < TW_ARRAY_LEN(train_cases); i++) {
        const struct train_case *c = &train_cases[i];
        struct tw__train t;
        struct tw__version v;
        int rc = tw__train_parse(c->p, c->train, strlen(c->train), &t);

        if (c->holds == BAD) {
            if (rc != TW_EINVAL)
                fail_msg("train '%s' (%s) should not parse", c->train, plat_name(c->p));
            continue;
        }
        if (rc != TW_OK)
            fail_msg("train '%s' (%s) should parse", c->train, plat_name(c->p));
        assert_int_equal(tw__version_parse(c->p, c->version, strlen(c->version), &v), TW_OK);
        if (tw__train_holds(&t, &v) != (c->holds == 1))
            fail_msg("train '%s' holds '%s': want %d", c->train, c->version, c->holds);
    }
}

static void version_train_specificity_orders_prefixes(void **state)
{
    struct tw__train any, major, minor, letters;

    (void)state;
    assert_int_equal(tw__train_parse(TW_PLAT_IOS, "*", 1, &any), TW_OK);
    assert_int_equal(tw__train_parse(TW_PLAT_IOS, "15", 2, &major), TW_OK);
    assert_int_equal(tw__train_parse(TW_PLAT_IOS, "15.2", 4, &minor), TW_OK);
    assert_int_equal(tw__train_parse(TW_PLAT_IOS, "15.2E", 5, &letters), TW_OK);
    assert_true(tw__train_specificity(&any) < tw__train_specificity(&major));
    assert_true(tw__train_specificity(&major) < tw__train_specificity(&minor));
    assert_true(tw__train_specificity(&minor) < tw__train_specificity(&letters));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_compares_each_family),
        cmocka_unit_test(version_rejects_null_and_overlong),
        cmocka_unit_test(version_trains_hold_their_releases),
        cmocka_unit_test(version_train_specificity_orders_prefixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
