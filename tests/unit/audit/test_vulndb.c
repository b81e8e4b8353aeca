/*
 * test_vulndb.c: the vulnerability data: the shipped file parses and says
 * what section 5.2 of the campaign brief says (17.9.4a fixes CVE-2023-20198
 * and -20273 in the 17.9 train, everything else "cannot determine"); the
 * most specific train decides; versions on both sides of a fixed release;
 * unknown and unparsable versions; bad rows named by line and column, all
 * or nothing; allocation failures.
 */
#include <string.h>

#include "tidewatch/alloc.h"
#include "tidewatch/audit.h"
#include "tw_test.h"

/* The hits of one check, copied. */
struct hits {
    size_t n;
    char cve[16][24];
    char train[16][16];
    char fixed[16][16];
    char requires[16][64];
    char rule[16][16];
    enum tw_vuln_state state[16];
    bool kev[16];
    bool source_ok[16];
    int stop_after; /* return 99 after this many hits (0: never) */
};

static int collect(void *ctx, const struct tw_vuln_hit *h)
{
    struct hits *o = ctx;

    assert_true(o->n < 16);
    snprintf(o->cve[o->n], sizeof(o->cve[0]), "%s", h->cve);
    snprintf(o->train[o->n], sizeof(o->train[0]), "%s", h->train);
    snprintf(o->fixed[o->n], sizeof(o->fixed[0]), "%s", h->fixed);
    snprintf(o->requires[o->n], sizeof(o->requires[0]), "%s", h->requires);
    snprintf(o->rule[o->n], sizeof(o->rule[0]), "%s", h->rule_id);
    o->state[o->n] = h->state;
    o->kev[o->n] = h->kev;
    o->source_ok[o->n] = strncmp(h->source, "https://", 8) == 0;
    o->n++;
    return o->stop_after != 0 && (int)o->n == o->stop_after ? 99 : 0;
}

/* Index of the hit for cve, or -1. */
static long find(const struct hits *h, const char *cve)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->cve[i], cve) == 0)
            return (long)i;
    return -1;
}

static struct hits check(const struct tw_vulndb *db, enum tw_platform p, const char *version)
{
    struct hits h;

    memset(&h, 0, sizeof(h));
    assert_int_equal(tw_vulndb_check(db, p, version, collect, &h), TW_OK);
    return h;
}

static struct tw_vulndb *builtin(void)
{
    struct tw_vulndb *db = NULL;
    struct tw_err err;

    if (tw_vulndb_builtin(&db, &err) != TW_OK)
        fail_msg("shipped vulnerability data: %s", err.msg);
    return db;
}

static void vulndb_shipped_data_parses(void **state)
{
    struct tw_vulndb *db = builtin();

    (void)state;
    assert_int_equal(tw_vulndb_count(db), 15);
    tw_vulndb_free(db);
    tw_vulndb_free(NULL);
    assert_int_equal(tw_vulndb_count(NULL), 0);
}

static void vulndb_webui_cves_fixed_in_17_9_4a(void **state)
{
    struct tw_vulndb *db = builtin();
    struct hits h;
    long i;

    (void)state;
    /* 17.9.3 is below the fix: affected, with the precondition of the HTTP server rules. */
    h = check(db, TW_PLAT_IOSXE, "17.9.3");
    assert_int_equal(h.n, 3);
    i = find(&h, "CVE-2023-20198");
    assert_true(i >= 0);
    assert_int_equal(h.state[i], TW_VULN_AFFECTED);
    assert_string_equal(h.train[i], "17.9");
    assert_string_equal(h.fixed[i], "17.9.4a");
    assert_string_equal(h.rule[i], "AUD-VER-01");
    assert_string_equal(h.requires[i], "AUD-MGT-04|AUD-MGT-05");
    assert_true(h.kev[i] && h.source_ok[i]);
    i = find(&h, "CVE-2023-20273");
    assert_true(i >= 0);
    assert_int_equal(h.state[i], TW_VULN_AFFECTED);
    /* Smart Install has no fixed release in the data: cannot determine. */
    i = find(&h, "CVE-2018-0171");
    assert_true(i >= 0);
    assert_int_equal(h.state[i], TW_VULN_UNKNOWN);
    assert_string_equal(h.train[i], "*");
    assert_string_equal(h.fixed[i], "");
    assert_string_equal(h.requires[i], "AUD-MGT-08");

    /* 17.9.4a (also written 17.09.04a) and 17.9.5 are fixed: only Smart Install remains. */
    h = check(db, TW_PLAT_IOSXE, "17.9.4a");
    assert_int_equal(h.n, 1);
    assert_string_equal(h.cve[0], "CVE-2018-0171");
    h = check(db, TW_PLAT_IOSXE, "17.09.04a");
    assert_int_equal(h.n, 1);
    h = check(db, TW_PLAT_IOSXE, "17.9.5");
    assert_int_equal(h.n, 1);
    /* 17.9.4, one rebuild below, is not. */
    h = check(db, TW_PLAT_IOSXE, "17.9.4");
    assert_int_equal(h.n, 3);
    assert_int_equal(h.state[find(&h, "CVE-2023-20198")], TW_VULN_AFFECTED);
    tw_vulndb_free(db);
}

static void vulndb_other_trains_cannot_be_determined(void **state)
{
    struct tw_vulndb *db = builtin();
    struct hits h;
    long i;

    (void)state;
    /* The C9800 of the Oxidized data: 17.06.05, in a train whose fix the data lacks. */
    h = check(db, TW_PLAT_IOSXE, "17.6.5");
    i = find(&h, "CVE-2023-20198");
    assert_true(i >= 0);
    assert_int_equal(h.state[i], TW_VULN_UNKNOWN);
    assert_string_equal(h.train[i], "17.6");
    /* A 17 release no specific row names falls to the "17" row. */
    h = check(db, TW_PLAT_IOSXE, "17.12.1");
    i = find(&h, "CVE-2023-20273");
    assert_int_equal(h.state[i], TW_VULN_UNKNOWN);
    assert_string_equal(h.train[i], "17");
    /* The ASR920: 16.8.1b. */
    h = check(db, TW_PLAT_IOSXE, "16.8.1b");
    assert_string_equal(h.train[find(&h, "CVE-2023-20198")], "16");
    /* IOS XE 3.x is in no affected train of the web UI CVEs. */
    h = check(db, TW_PLAT_IOSXE, "03.16.08S");
    assert_int_equal(h.n, 1);
    assert_string_equal(h.cve[0], "CVE-2018-0171");
    tw_vulndb_free(db);
}

static void vulndb_unknown_version_makes_every_cve_unknown(void **state)
{
    static const char *const versions[] = { NULL, "", "17.9", "V169_5_SR689355441_2" };
    struct tw_vulndb *db = builtin();

    (void)state;
    for (size_t k = 0; k < TW_ARRAY_LEN(versions); k++) {
        struct hits h = check(db, TW_PLAT_IOSXE, versions[k]);

        assert_int_equal(h.n, 3);
        for (size_t i = 0; i < h.n; i++) {
            assert_int_equal(h.state[i], TW_VULN_UNKNOWN);
            assert_string_equal(h.train[i], "");
            assert_string_equal(h.fixed[i], "");
        }
    }
    tw_vulndb_free(db);
}

static void vulndb_other_platforms(void **state)
{
    struct tw_vulndb *db = builtin();
    struct hits h;

    (void)state;
    h = check(db, TW_PLAT_IOS, "15.2(4)E10");
    assert_int_equal(h.n, 1);
    assert_string_equal(h.cve[0], "CVE-2018-0171");
    assert_int_equal(h.state[0], TW_VULN_UNKNOWN);
    h = check(db, TW_PLAT_NXOS, "10.4(5)");
    assert_int_equal(h.n, 1);
    assert_string_equal(h.cve[0], "CVE-2024-20399");
    assert_string_equal(h.rule[0], "AUD-VER-03");
    assert_string_equal(h.requires[0], "");
    h = check(db, TW_PLAT_NXOS, "7.3(13)N1(1)");
    assert_int_equal(h.n, 1);
    h = check(db, TW_PLAT_JUNOS, "22.4R3-S2.11");
    assert_int_equal(h.n, 0);
    h = check(db, TW_PLAT_ASA, "9.12(4)67");
    assert_int_equal(h.n, 0);
    h = check(db, TW_PLAT_UNKNOWN, "");
    assert_int_equal(h.n, 0);
    tw_vulndb_free(db);
}

/* A small data set: the most specific train decides, Junos ranges, separators and comments. */
static const char custom[] =
        "\xEF\xBB\xBF# a comment, then a blank line\r\n"
        "\r\n"
        "CVE-2099-0001\tjunos\t*\tunknown\tno\tR-1\t-\thttps://example.test/a\r\n"
        "CVE-2099-0001\tjunos\t22.4\t22.4R3-S8\tno\tR-1\t-\thttps://example.test/a\n"
        "CVE-2099-0001\tjunos\t21.4\t21.4R3-S12\tno\tR-1\t-\thttps://example.test/a\n"
        "  CVE-2099-0001   junos  23.2-EVO  23.2R2-EVO  no  R-1  -  https://example.test/a  \n"
        "CVE-2099-0002\tjunos\t22\tunknown\tyes\tR-2\tA|B.c_d\thttps://example.test/b\n"
        "# file: not-special.tsv\n"
        "CVE-2099-0003\tios\t15.2E\t15.2(7)E8\tno\tR-3\t-\thttps://example.test/c\n"
        "CVE-2099-0003\tios\t15.2\tunknown\tno\tR-3\t-\thttps://example.test/c\n";

static void vulndb_most_specific_train_decides(void **state)
{
    struct tw_vulndb *db = NULL;
    struct tw_err err;
    struct hits h;
    long i;

    (void)state;
    assert_int_equal(tw_vulndb_parse(custom, sizeof(custom) - 1, "custom.tsv", &db, &err), TW_OK);
    assert_int_equal(tw_vulndb_count(db), 7);
    /* 22.4R3-S2.11 is below 22.4R3-S8. */
    h = check(db, TW_PLAT_JUNOS, "22.4R3-S2.11");
    assert_int_equal(h.n, 2);
    i = find(&h, "CVE-2099-0001");
    assert_int_equal(h.state[i], TW_VULN_AFFECTED);
    assert_string_equal(h.train[i], "22.4");
    assert_string_equal(h.fixed[i], "22.4R3-S8");
    i = find(&h, "CVE-2099-0002");
    assert_int_equal(h.state[i], TW_VULN_UNKNOWN);
    assert_string_equal(h.requires[i], "A|B.c_d");
    assert_true(h.kev[i]);
    /* At or past the fix: not reported; the "22" row still says unknown for 0002. */
    h = check(db, TW_PLAT_JUNOS, "22.4R3-S8");
    assert_int_equal(h.n, 1);
    assert_string_equal(h.cve[0], "CVE-2099-0002");
    h = check(db, TW_PLAT_JUNOS, "22.4R3-S10.3");
    assert_int_equal(h.n, 1);
    /* 21.4R3-S3.4 below 21.4R3-S12. */
    h = check(db, TW_PLAT_JUNOS, "21.4R3-S3.4");
    assert_int_equal(h.n, 1);
    assert_int_equal(h.state[0], TW_VULN_AFFECTED);
    /* 19.4 only matches "*": unknown. */
    h = check(db, TW_PLAT_JUNOS, "19.4R3-S1.3");
    assert_int_equal(h.n, 1);
    assert_int_equal(h.state[0], TW_VULN_UNKNOWN);
    assert_string_equal(h.train[0], "*");
    /* Junos OS Evolved has its own train. */
    h = check(db, TW_PLAT_JUNOS, "23.2R1-EVO");
    assert_int_equal(h.n, 1);
    assert_int_equal(h.state[0], TW_VULN_AFFECTED);
    assert_string_equal(h.train[0], "23.2-EVO");
    /* IOS: the E train's row is more specific than 15.2's. */
    h = check(db, TW_PLAT_IOS, "15.2(4)E10");
    assert_int_equal(h.n, 1);
    assert_int_equal(h.state[0], TW_VULN_AFFECTED);
    assert_string_equal(h.train[0], "15.2E");
    h = check(db, TW_PLAT_IOS, "15.2(7)E8a");
    assert_int_equal(h.n, 0);
    h = check(db, TW_PLAT_IOS, "15.2(4)M7");
    assert_int_equal(h.n, 1);
    assert_int_equal(h.state[0], TW_VULN_UNKNOWN);
    assert_string_equal(h.train[0], "15.2");
    tw_vulndb_free(db);
}

static void vulndb_callback_stops_the_check(void **state)
{
    struct tw_vulndb *db = builtin();
    struct hits h;

    (void)state;
    memset(&h, 0, sizeof(h));
    h.stop_after = 1;
    assert_int_equal(tw_vulndb_check(db, TW_PLAT_IOSXE, "17.9.3", collect, &h), 99);
    assert_int_equal(h.n, 1);
    tw_vulndb_free(db);
}

struct bad_case {
    const char *text;
    int code;
    size_t line;
    size_t column;
    const char *needle; /* a part of the message */
};

#define ROW_TAIL "\tno\tAUD-VER-01\t-\thttps://example.test/x\n"

static const struct bad_case bad_cases[] = {
    { "CVE-2023-20198\tiosxe\t17.9\t17.9.4a\tno\tAUD-VER-01\t-\n", TW_ESYNTAX, 1, 50, "7 fields" },
    { "# c\nCVE-2023-20198\tiosxe\t17.9\t17.9.4a" ROW_TAIL "x\n", TW_ESYNTAX, 3, 2, "1 fields" },
    { "CVE-2023-20198\tiosxe\t17.9\t17.9.4a\tno\tAUD-VER-01\t-\thttps://e.test/\textra\n",
            TW_ESYNTAX, 1, 67, "9 fields" },
    { "CVE-23-20198\tiosxe\t17.9\t17.9.4a" ROW_TAIL, TW_ESYNTAX, 1, 1, "CVE-23-20198" },
    { "CVE-2023-20198\tiosx\t17.9\t17.9.4a" ROW_TAIL, TW_ESYNTAX, 1, 16, "unknown platform" },
    { "CVE-2023-20198\tunknown\t17.9\t17.9.4a" ROW_TAIL, TW_ESYNTAX, 1, 16, "platform" },
    { "CVE-2023-20198\tiosxe\t17.x\t17.9.4a" ROW_TAIL, TW_ESYNTAX, 1, 22, "release train" },
    { "CVE-2023-20198\tiosxe\t17.9\t17.10.1" ROW_TAIL, TW_ESYNTAX, 1, 27, "not in the row" },
    { "CVE-2023-20198\tiosxe\t17.9\tsoon" ROW_TAIL, TW_ESYNTAX, 1, 27, "soon" },
    { "CVE-2023-20198\tiosxe\t17.9\tunknown\tmaybe\tAUD-VER-01\t-\thttps://e.test/\n", TW_ESYNTAX,
            1, 35, "kev" },
    { "CVE-2023-20198\tiosxe\t17.9\tunknown\tno\tAUD VER\t-\thttps://e.test/\n", TW_ESYNTAX, 1, 48,
            "9 fields" },
    { "CVE-2023-20198\tiosxe\t17.9\tunknown\tno\tAUD/VER\t-\thttps://e.test/\n", TW_ESYNTAX, 1, 38,
            "rule id" },
    { "CVE-2023-20198\tiosxe\t17.9\tunknown\tno\tR\tA||B\thttps://e.test/\n", TW_ESYNTAX, 1, 40,
            "requires" },
    { "CVE-2023-20198\tiosxe\t17.9\tunknown\tno\tR\tA\tftp://e.test/\n", TW_ESYNTAX, 1, 42, "URL" },
    { "CVE-2023-20198\tiosxe\t17.9\tunknown\tno\tR\tA\thttps://\n", TW_ESYNTAX, 1, 42, "URL" },
    { "CVE-2023-20198\tiosxe\t17.9\t17.9.4a" ROW_TAIL "\n# x\n"
      "CVE-2023-20198\tiosxe\t17.09\tunknown" ROW_TAIL,
            TW_ESYNTAX, 4, 1, "first at line 1" },
};

static void vulndb_bad_rows_are_named(void **state)
{
    (void)state;
    for (size_t i = 0; i < TW_ARRAY_LEN(bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct tw_vulndb *db = (struct tw_vulndb *)&db; /* must become NULL */
        struct tw_err err;
        int rc = tw_vulndb_parse(c->text, strlen(c->text), "bad.tsv", &db, &err);

        if (rc != c->code || err.line != c->line || err.column != c->column ||
                strstr(err.msg, c->needle) == NULL || strncmp(err.msg, "bad.tsv:", 8) != 0)
            fail_msg("case %zu: rc %d line %zu column %zu: %s", i, rc, err.line, err.column,
                    err.msg);
        assert_null(db);
    }
}

static void vulndb_hostile_bytes_and_limits(void **state)
{
    static const char nul[] = "# ok\nCVE-2023-20198\tios\x00x\t*\tunknown" ROW_TAIL;
    struct tw_vulndb *db = NULL;
    struct tw_err err;
    char *big;
    size_t n = 5000;

    (void)state;
    assert_int_equal(tw_vulndb_parse(nul, sizeof(nul) - 1, NULL, &db, &err), TW_ESYNTAX);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 19);
    assert_non_null(strstr(err.msg, "<input>:2:19: NUL byte"));
    assert_null(db);
    /* An over-long line. */
    big = tw_malloc(n + 1);
    assert_non_null(big);
    memset(big, 'A', n);
    big[n] = '\0';
    assert_int_equal(tw_vulndb_parse(big, n, "big.tsv", &db, &err), TW_ELIMIT);
    assert_null(db);
    tw_free(big);
    /* Empty and comment-only data is an empty data set, not an error. */
    assert_int_equal(tw_vulndb_parse("", 0, NULL, &db, &err), TW_OK);
    assert_int_equal(tw_vulndb_count(db), 0);
    tw_vulndb_free(db);
    assert_int_equal(tw_vulndb_parse("# only\n\n", 8, NULL, &db, &err), TW_OK);
    assert_int_equal(tw_vulndb_count(db), 0);
    tw_vulndb_free(db);
    /* Bytes outside ASCII in a field are shown as '?', never copied raw. */
    assert_int_equal(
            tw_vulndb_parse("CVE-2023-20198\t\xff\xfe\t*\tunknown" ROW_TAIL, 52, NULL, &db, &err),
            TW_ESYNTAX);
    assert_non_null(strstr(err.msg, "??"));
    assert_null(strchr(err.msg, '\xff'));
}

static void vulndb_survives_allocation_failures(void **state)
{
    bool done = false;

    (void)state;
    for (long fail = 0; fail < 500 && !done; fail++) {
        struct tw_vulndb *db = NULL;
        struct tw_err err;
        int rc;

        tw_alloc_fail_after(fail);
        rc = tw_vulndb_builtin(&db, &err);
        tw_alloc_fail_reset();
        if (rc == TW_OK) {
            assert_int_equal(tw_vulndb_count(db), 15);
            done = true;
        } else {
            assert_int_equal(rc, TW_ENOMEM);
            assert_null(db);
        }
        tw_vulndb_free(db);
    }
    assert_true(done);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vulndb_shipped_data_parses),
        cmocka_unit_test(vulndb_webui_cves_fixed_in_17_9_4a),
        cmocka_unit_test(vulndb_other_trains_cannot_be_determined),
        cmocka_unit_test(vulndb_unknown_version_makes_every_cve_unknown),
        cmocka_unit_test(vulndb_other_platforms),
        cmocka_unit_test(vulndb_most_specific_train_decides),
        cmocka_unit_test(vulndb_callback_stops_the_check),
        cmocka_unit_test(vulndb_bad_rows_are_named),
        cmocka_unit_test(vulndb_hostile_bytes_and_limits),
        cmocka_unit_test(vulndb_survives_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
