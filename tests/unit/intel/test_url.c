/*
 * test_url.c: URL normalisation for matching.
 */
#include <string.h>

#include "tidewatch/buf.h"
#include "tidewatch/url.h"
#include "tw_test.h"

static void expect_norm(const char *in, const char *want)
{
    struct tw_buf b;
    struct tw_err err;

    tw_buf_init(&b, 65536);
    if (tw_url_normalize(tw_str_cstr(in), &b, &err) != TW_OK)
        fail_msg("%s: %s", in, err.msg);
    assert_string_equal(b.ptr, want);
    tw_buf_cleanup(&b);
}

static int norm_rc(const char *in, size_t *offset)
{
    struct tw_buf b;
    struct tw_err err;
    int rc;

    tw_buf_init(&b, 65536);
    tw_err_clear(&err);
    rc = tw_url_normalize(tw_str_cstr(in), &b, &err);
    *offset = err.offset;
    tw_buf_cleanup(&b);
    return rc;
}

static void url_normalises_case_port_path_fragment(void **state)
{
    (void)state;
    expect_norm("HTTP://Evil.EXAMPLE:80/A/b?Q=1#frag", "http://evil.example/A/b?Q=1");
    expect_norm("https://evil.example:443", "https://evil.example/");
    expect_norm("https://evil.example:8443/x", "https://evil.example:8443/x");
    expect_norm("ftp://files.example:21/pub", "ftp://files.example/pub");
    expect_norm("http://evil.example./", "http://evil.example/");
    expect_norm("http://evil.example..:80", "http://evil.example/");
    expect_norm("evil.example/path", "http://evil.example/path"); /* Zeek's form */
    expect_norm("  http://evil.example/  ", "http://evil.example/");
}

static void url_escapes(void **state)
{
    (void)state;
    expect_norm("http://h/%7euser/%41%2f%2F", "http://h/~user/A%2F%2F");
    expect_norm("http://h/100%", "http://h/100%25");
    expect_norm("http://h/%f%41", "http://h/%25fA");
    expect_norm("http://h/%25fA", "http://h/%25fA");
}

static void url_keeps_userinfo_and_ipv6(void **state)
{
    (void)state;
    expect_norm("https://User:Pw@Host.Example/", "https://User:Pw@host.example/");
    expect_norm("http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x");
    expect_norm("http://[2001:db8::1]:8080", "http://[2001:db8::1]:8080/");
}

static void url_rejects_non_urls(void **state)
{
    size_t off;

    (void)state;
    assert_int_equal(norm_rc("", &off), TW_EINVAL);
    assert_int_equal(norm_rc("http://", &off), TW_EINVAL);
    assert_int_equal(norm_rc("http://h:99999/", &off), TW_EINVAL);
    assert_int_equal(off, 9);
    assert_int_equal(norm_rc("http://[::1/", &off), TW_EINVAL);
    assert_int_equal(norm_rc("http://h/a b", &off), TW_EINVAL);
    assert_int_equal(off, 10);
    assert_int_equal(norm_rc("http://[::1]x/", &off), TW_EINVAL);
}

static void url_normal_form_obeys_the_limit(void **state)
{
    char in[7000];
    size_t off;

    (void)state;
    /* 6,900 stray '%' are 20,700 bytes once written as %25. */
    memcpy(in, "http://h/", 9);
    memset(in + 9, '%', sizeof(in) - 10);
    in[sizeof(in) - 1] = '\0';
    assert_int_equal(norm_rc(in, &off), TW_ELIMIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(url_normalises_case_port_path_fragment),
        cmocka_unit_test(url_escapes),
        cmocka_unit_test(url_keeps_userinfo_and_ipv6),
        cmocka_unit_test(url_rejects_non_urls),
        cmocka_unit_test(url_normal_form_obeys_the_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
