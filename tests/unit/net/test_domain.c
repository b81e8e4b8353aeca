/*
 * test_domain.c: domain normalisation (with error offsets), warnings, and
 * domain sets with exact and label-boundary suffix matching.
 */
#include <stdlib.h>
#include <string.h>

#include "tidewatch/alloc.h"
#include "tidewatch/domain.h"
#include "tidewatch/err.h"
#include "tw_test.h"

static void normalizes_to(const char *in, const char *want)
{
    char out[TW_DOMAIN_MAX_LEN + 1];
    size_t len = 0;

    assert_int_equal(tw_domain_normalize(tw_str_cstr(in), out, sizeof(out), &len, NULL), TW_OK);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
}

static void rejects_at(struct tw_str in, size_t off)
{
    char out[TW_DOMAIN_MAX_LEN + 1];
    struct tw_err err;

    tw_err_clear(&err);
    assert_int_equal(tw_domain_normalize(in, out, sizeof(out), NULL, &err), TW_EINVAL);
    assert_int_equal(err.offset, off);
    assert_string_equal(out, "");
}

static void add(struct tw_domainset *s, const char *name, enum tw_domain_match how, uint32_t v)
{
    assert_int_equal(tw_domainset_add(s, tw_str_cstr(name), how, v), TW_OK);
}

static void expect_lookup(
        const struct tw_domainset *s, const char *name, const uint32_t *want, size_t n_want)
{
    uint32_t got[32];
    size_t n = tw_domainset_lookup(s, tw_str_cstr(name), got, 32);

    assert_int_equal(n, n_want);
    if (n_want > 0)
        assert_memory_equal(got, want, n_want * sizeof(uint32_t));
}

static void domain_normalizes(void **state)
{
    (void)state;
    normalizes_to("Example.COM", "example.com");
    normalizes_to("example.com.", "example.com");
    normalizes_to("xn--bcher-kva.example", "xn--bcher-kva.example");
    normalizes_to("_dmarc.Example.com", "_dmarc.example.com");
    normalizes_to("-weird-.example", "-weird-.example");
    normalizes_to("localhost", "localhost");
    normalizes_to("1.2.3.4", "1.2.3.4");
}

static void domain_rejects_with_offsets(void **state)
{
    char long_label[80], long_name[300];
    static const char utf8[] = "b\xc3\xbc"
                               "cher.de";

    (void)state;
    rejects_at(TW_STR(""), 0);
    rejects_at(TW_STR("."), 0);
    rejects_at(TW_STR("example.com.."), 12);
    rejects_at(TW_STR(".example.com"), 0);
    rejects_at(TW_STR("a..b"), 2);
    rejects_at(tw_str_make(utf8, strlen(utf8)), 1);
    rejects_at(TW_STR("exa mple.com"), 3);
    rejects_at(TW_STR("*.example.com"), 0);
    rejects_at(TW_STR("example.com/x"), 11);
    rejects_at(tw_str_make("ab\0c", 4), 2);

    memset(long_label, 'a', sizeof(long_label));
    memcpy(long_label + 64, ".com", 5);
    rejects_at(tw_str_cstr(long_label), 63);
    long_label[63] = '.'; /* a 63-byte label is fine */
    long_label[64] = 'x';
    normalizes_to(long_label, long_label);

    /* 254 bytes: four 62-byte labels and dots, then "abcd". */
    memset(long_name, 'a', sizeof(long_name));
    for (int i = 62; i < 254; i += 63)
        long_name[i] = '.';
    long_name[254] = '\0';
    rejects_at(tw_str_make(long_name, 254), 253);
    long_name[253] = '.'; /* 253 bytes plus the trailing dot is fine */
    {
        char out[254];
        size_t len;
        assert_int_equal(
                tw_domain_normalize(tw_str_make(long_name, 254), out, sizeof(out), &len, NULL),
                TW_OK);
        assert_int_equal(len, 253);
    }
}

static void domain_output_too_small(void **state)
{
    char out[4];
    struct tw_err err;

    (void)state;
    tw_err_clear(&err);
    assert_int_equal(tw_domain_normalize(TW_STR("abcd"), out, sizeof(out), NULL, &err), TW_ETRUNC);
    assert_string_equal(out, "");
    assert_int_equal(tw_domain_normalize(TW_STR("abc."), out, sizeof(out), NULL, NULL), TW_OK);
    assert_string_equal(out, "abc");
}

static void domain_warnings(void **state)
{
    (void)state;
    assert_int_equal(tw_domain_warnings(TW_STR("example.com")), 0);
    assert_int_equal(tw_domain_warnings(TW_STR("-a.example.com")), TW_DOMAIN_WARN_HYPHEN);
    assert_int_equal(tw_domain_warnings(TW_STR("a.example-.com")), TW_DOMAIN_WARN_HYPHEN);
    assert_int_equal(tw_domain_warnings(TW_STR("_srv.example.com")), TW_DOMAIN_WARN_UNDERSCORE);
    assert_int_equal(tw_domain_warnings(TW_STR("localhost")), TW_DOMAIN_WARN_SINGLE_LABEL);
    assert_int_equal(tw_domain_warnings(TW_STR("10.0.0.1")), TW_DOMAIN_WARN_NUMERIC_TLD);
    assert_int_equal(tw_domain_warnings(TW_STR("a.b1")), 0);
}

static void domainset_suffix_semantics(void **state)
{
    struct tw_domainset *s = tw_domainset_new(100);
    static const uint32_t deep[] = { 3, 2, 1 };
    static const uint32_t six[] = { 6 };
    static const uint32_t w_evil[] = { 1, 5 }; /* one name: add order */

    (void)state;
    assert_non_null(s);
    add(s, "evil.com", TW_DOMAIN_SUFFIX, 1);
    add(s, "b.evil.com", TW_DOMAIN_SUFFIX, 2);
    add(s, "a.b.evil.com", TW_DOMAIN_EXACT, 3);
    add(s, "evil.com", TW_DOMAIN_EXACT, 5);
    add(s, "x.a.b.evil.com", TW_DOMAIN_EXACT, 4);
    add(s, "com.example", TW_DOMAIN_SUFFIX, 6);

    expect_lookup(s, "a.b.evil.com", deep, 3);
    expect_lookup(s, "b.evil.com", deep + 1, 2);
    expect_lookup(s, "evil.com", w_evil, 2);
    expect_lookup(s, "zz.evil.com", deep + 2, 1);
    expect_lookup(s, "y.a.b.evil.com", deep + 1, 2); /* the exact entry does not cover children */
    expect_lookup(s, "vil.com", deep, 0);            /* label boundaries only */
    expect_lookup(s, "devil.com", deep, 0);
    expect_lookup(s, "evil.co", deep, 0);
    expect_lookup(s, "com", deep, 0);
    expect_lookup(s, "evil.com.example", six, 1);
    expect_lookup(s, "xcom.example", deep, 0);
    expect_lookup(s, "", deep, 0);
    assert_int_equal(tw_domainset_count(s), 6);
    tw_domainset_free(s);
    tw_domainset_free(NULL);
}

static void domainset_duplicates_and_truncation(void **state)
{
    struct tw_domainset *s = tw_domainset_new(100);
    static const uint32_t w[] = { 7, 8, 7, 9 };
    uint32_t got[2];

    (void)state;
    assert_non_null(s);
    add(s, "c2.example.net", TW_DOMAIN_EXACT, 7);
    add(s, "c2.example.net", TW_DOMAIN_EXACT, 8);
    add(s, "c2.example.net", TW_DOMAIN_SUFFIX, 7);
    add(s, "example.net", TW_DOMAIN_SUFFIX, 9);
    expect_lookup(s, "c2.example.net", w, 4);
    assert_int_equal(tw_domainset_lookup(s, TW_STR("c2.example.net"), got, 2), 4);
    assert_int_equal(got[0], 7);
    assert_int_equal(got[1], 8);
    assert_int_equal(tw_domainset_lookup(s, TW_STR("c2.example.net"), NULL, 0), 4);
    tw_domainset_free(s);
}

static void domainset_rejects_bad_input_and_caps(void **state)
{
    struct tw_domainset *s = tw_domainset_new(2);

    (void)state;
    assert_non_null(s);
    assert_int_equal(tw_domainset_add(s, TW_STR("Example.com"), TW_DOMAIN_EXACT, 1), TW_EINVAL);
    assert_int_equal(tw_domainset_add(s, TW_STR("example.com."), TW_DOMAIN_EXACT, 1), TW_EINVAL);
    assert_int_equal(tw_domainset_add(s, TW_STR(""), TW_DOMAIN_EXACT, 1), TW_EINVAL);
    assert_int_equal(
            tw_domainset_add(s, TW_STR("example.com"), (enum tw_domain_match)3, 1), TW_EINVAL);
    assert_int_equal(tw_domainset_add(s, TW_STR("a.com"), TW_DOMAIN_EXACT, 1), TW_OK);
    assert_int_equal(tw_domainset_add(s, TW_STR("b.com"), TW_DOMAIN_SUFFIX, 2), TW_OK);
    assert_int_equal(tw_domainset_add(s, TW_STR("c.com"), TW_DOMAIN_EXACT, 3), TW_ELIMIT);
    assert_int_equal(tw_domainset_count(s), 2);
    assert_true(tw_domainset_memory(s) > 0);
    tw_domainset_free(s);
}

/* Checks many names against a linear scan, across table growth. */
static void domainset_matches_linear_scan(void **state)
{
    enum { N = 3000 };
    static char names[N][40];
    static uint8_t hows[N];
    struct tw_domainset *s = tw_domainset_new(N);
    uint64_t x = 12345;

    (void)state;
    assert_non_null(s);
    for (int i = 0; i < N; i++) {
        int labels = 1 + (int)(x % 4);
        size_t len = 0;
        for (int l = 0; l < labels; l++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            if (l > 0)
                names[i][len++] = '.';
            names[i][len++] = (char)('a' + (x >> 33) % 3);
            if ((x >> 40) % 2)
                names[i][len++] = (char)('a' + (x >> 45) % 3);
        }
        names[i][len] = '\0';
        hows[i] = (uint8_t)(1 + (x >> 50) % 2);
        add(s, names[i], (enum tw_domain_match)hows[i], (uint32_t)i);
    }
    for (int q = 0; q < N; q += 7) {
        uint32_t got[N], want_n = 0;
        const char *name = names[q];
        size_t nlen = strlen(name);
        size_t n = tw_domainset_lookup(s, tw_str_cstr(name), got, N);

        for (int i = 0; i < N; i++) {
            size_t elen = strlen(names[i]);
            bool hit = false;
            if (elen == nlen && strcmp(names[i], name) == 0)
                hit = true;
            else if (hows[i] == TW_DOMAIN_SUFFIX && elen < nlen &&
                     strcmp(name + nlen - elen, names[i]) == 0 && name[nlen - elen - 1] == '.')
                hit = true;
            want_n += hit;
            /* Every expected value is among those returned. */
            if (hit) {
                bool found = false;
                for (size_t k = 0; k < n && k < N; k++)
                    found = found || got[k] == (uint32_t)i;
                assert_true(found);
            }
        }
        assert_int_equal(n, want_n);
    }
    tw_domainset_free(s);
}

static void domainset_survives_allocation_failures(void **state)
{
    bool done = false;

    (void)state;
    for (long fail = 0; fail < 100 && !done; fail++) {
        struct tw_domainset *s;
        int rc = TW_OK;
        char name[32];
        size_t added = 0;
        bool have_h1 = false;

        tw_alloc_fail_after(fail);
        s = tw_domainset_new(1000);
        if (s == NULL) {
            tw_alloc_fail_reset();
            continue;
        }
        for (int i = 0; i < 200; i++) {
            int len = snprintf(name, sizeof(name), "h%d.example%d.org", i, i % 7);
            rc = tw_domainset_add(
                    s, tw_str_make(name, (size_t)len), (enum tw_domain_match)(1 + i % 2), 1);
            assert_true(rc == TW_OK || rc == TW_ENOMEM);
            added += rc == TW_OK;
            have_h1 = have_h1 || (i == 1 && rc == TW_OK);
        }
        /* Whatever was added is found; what failed left no trace. */
        assert_int_equal(tw_domainset_count(s), added);
        assert_int_equal(tw_domainset_lookup(s, TW_STR("x.h1.example1.org"), NULL, 0), have_h1);
        done = added == 200;
        tw_alloc_fail_reset();
        tw_domainset_free(s);
    }
    assert_true(done);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(domain_normalizes),
        cmocka_unit_test(domain_rejects_with_offsets),
        cmocka_unit_test(domain_output_too_small),
        cmocka_unit_test(domain_warnings),
        cmocka_unit_test(domainset_suffix_semantics),
        cmocka_unit_test(domainset_duplicates_and_truncation),
        cmocka_unit_test(domainset_rejects_bad_input_and_caps),
        cmocka_unit_test(domainset_matches_linear_scan),
        cmocka_unit_test(domainset_survives_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
