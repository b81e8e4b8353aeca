/*
 * test_http.c: HTTP/1.x request heads: odd spacing, missing Host, absolute
 * URIs, LF-only lines, truncation and binary input.
 */
#include <stdint.h>
#include <string.h>

#include "tidewatch/err.h"
#include "tidewatch/http.h"
#include "tw_test.h"

#define REQ(s) (const uint8_t *)(s), sizeof(s) - 1

static void http_parses_plain_get(void **state)
{
    static const char r[] = "GET /index.html?q=1 HTTP/1.1\r\n"
                            "Host: WWW.Example.COM.:8080\r\n"
                            "User-Agent:  curl/7.88.1 \r\n"
                            "Accept: */*\r\n"
                            "\r\n"
                            "body bytes \x00\x01 are not looked at";
    struct tw_http_request q;

    (void)state;
    assert_int_equal(tw_http_parse_request(REQ(r), &q, NULL), TW_OK);
    assert_true(tw_str_eq_cstr(q.method, "GET"));
    assert_true(tw_str_eq_cstr(q.target, "/index.html?q=1"));
    assert_true(tw_str_eq_cstr(q.version, "HTTP/1.1"));
    assert_int_equal(q.version_minor, 1);
    assert_false(q.absolute_uri);
    assert_string_equal(q.host, "www.example.com");
    assert_int_equal(q.host_len, 15);
    assert_int_equal(q.host_src, TW_HTTP_HOST_HEADER);
    assert_true(q.has_port);
    assert_int_equal(q.port, 8080);
    assert_true(q.has_user_agent);
    assert_true(tw_str_eq_cstr(q.user_agent, "curl/7.88.1"));
    assert_int_equal(q.n_headers, 3);
    assert_int_equal(q.head_len, strstr(r, "body") - r);
}

static void http_tolerates_odd_spacing_and_lf(void **state)
{
    static const char r[] = "POST   /submit \t HTTP/1.0  \n"
                            "host :[2001:DB8::1]:443\n"
                            "X-Folded: a\n"
                            "  b\n"
                            "\n";
    struct tw_http_request q;

    (void)state;
    assert_int_equal(tw_http_parse_request(REQ(r), &q, NULL), TW_OK);
    assert_true(tw_str_eq_cstr(q.method, "POST"));
    assert_true(tw_str_eq_cstr(q.target, "/submit"));
    assert_int_equal(q.version_minor, 0);
    assert_string_equal(q.host, "2001:db8::1");
    assert_int_equal(q.port, 443);
    assert_int_equal(q.n_headers, 2);
    assert_false(q.has_user_agent);
    assert_int_equal(q.head_len, sizeof(r) - 1);
}

static void http_missing_host_and_absolute_uri(void **state)
{
    struct tw_http_request q;

    (void)state;
    assert_int_equal(tw_http_parse_request(REQ("GET / HTTP/1.0\r\n\r\n"), &q, NULL), TW_OK);
    assert_int_equal(q.host_src, TW_HTTP_HOST_NONE);
    assert_int_equal(q.host_len, 0);
    assert_string_equal(q.host, "");

    assert_int_equal(
            tw_http_parse_request(
                    REQ("GET http://user@Proxy.Example:3128/x?y HTTP/1.1\r\n\r\n"), &q, NULL),
            TW_OK);
    assert_true(q.absolute_uri);
    assert_int_equal(q.host_src, TW_HTTP_HOST_URI);
    assert_string_equal(q.host, "proxy.example");
    assert_int_equal(q.port, 3128);

    /* a Host header wins over the URI, and a second Host header is counted */
    assert_int_equal(tw_http_parse_request(REQ("GET http://a.example/ HTTP/1.1\r\n"
                                               "Host: b.example\r\nHost: c.example\r\n\r\n"),
                             &q, NULL),
            TW_OK);
    assert_string_equal(q.host, "b.example");
    assert_int_equal(q.n_host_headers, 2);
    assert_false(q.has_port);

    /* CONNECT with an authority target, and HTTP/0.9 */
    assert_int_equal(
            tw_http_parse_request(REQ("CONNECT example.org:443 HTTP/1.1\r\n\r\n"), &q, NULL),
            TW_OK);
    assert_false(q.absolute_uri);
    assert_int_equal(tw_http_parse_request(REQ("GET /old\r\n"), &q, NULL), TW_OK);
    assert_int_equal(q.version_major, 0);
}

static void http_every_prefix_is_truncated(void **state)
{
    static const char r[] = "GET /a HTTP/1.1\r\nHost: x.example\r\nUser-Agent: t\r\n\r\n";
    struct tw_http_request q;

    (void)state;
    for (size_t n = 0; n < sizeof(r) - 1; n++)
        assert_int_equal(tw_http_parse_request((const uint8_t *)r, n, &q, NULL), TW_ETRUNC);
    assert_int_equal(tw_http_parse_request(REQ(r), &q, NULL), TW_OK);
}

static void http_rejects_garbage_early(void **state)
{
    struct tw_http_request q;
    struct tw_err err;

    (void)state;
    /* a TLS record on port 80: rejected at its first byte */
    assert_int_equal(tw_http_parse_request(REQ("\x16\x03\x01\x02\x00\x01"), &q, &err), TW_EINVAL);
    assert_int_equal(err.offset, 0);
    assert_int_equal(tw_http_parse_request(REQ("GE\x00T / HTTP/1.1"), &q, &err), TW_EINVAL);
    assert_int_equal(err.offset, 2);
    assert_int_equal(tw_http_parse_request(REQ("GET /\x01 HTTP/1.1\r\n"), &q, &err), TW_EINVAL);
    assert_int_equal(err.offset, 5);
    assert_int_equal(tw_http_parse_request(REQ("GET / HTTP/2.0\r\n\r\n"), &q, &err), TW_EINVAL);
    assert_int_equal(tw_http_parse_request(REQ("GET / HTTP/1.1 x\r\n\r\n"), &q, &err), TW_EINVAL);
    assert_int_equal(
            tw_http_parse_request(REQ("GET / HTTP/1.1\r\nNoColon\r\n\r\n"), &q, &err), TW_EINVAL);
    assert_int_equal(err.offset, 23);
    assert_int_equal(
            tw_http_parse_request(REQ("GET / HTTP/1.1\r\n folded\r\n\r\n"), &q, &err), TW_EINVAL);
    assert_int_equal(
            tw_http_parse_request(REQ("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n"), &q, &err), TW_EINVAL);
}

static void http_caps_the_head(void **state)
{
    static uint8_t big[TW_HTTP_HEAD_MAX + 100];
    struct tw_http_request q;
    size_t n = 0;

    (void)state;
    memcpy(big, "GET / HTTP/1.1\r\n", 16);
    n = 16;
    while (n + 12 < sizeof(big)) {
        memcpy(big + n, "X-Pad: abc\r\n", 12);
        n += 12;
    }
    assert_int_equal(tw_http_parse_request(big, n, &q, NULL), TW_ELIMIT);
    assert_int_equal(tw_http_parse_request(big, 4000, &q, NULL), TW_ETRUNC);
}

static void http_normalizes_hosts(void **state)
{
    char out[TW_HTTP_HOST_MAX + 1];
    bool has_port;
    uint16_t port;

    (void)state;
    assert_int_equal(tw_http_normalize_host(TW_STR(" A.B. "), out, &has_port, &port), 3);
    assert_string_equal(out, "a.b");
    assert_int_equal(tw_http_normalize_host(TW_STR("a.b:0"), out, &has_port, &port), TW_EINVAL);
    assert_int_equal(tw_http_normalize_host(TW_STR("a.b:x"), out, &has_port, &port), TW_EINVAL);
    assert_int_equal(tw_http_normalize_host(TW_STR(":80"), out, &has_port, &port), TW_EINVAL);
    assert_int_equal(tw_http_normalize_host(TW_STR("a.."), out, &has_port, &port), TW_EINVAL);
    assert_int_equal(tw_http_normalize_host(TW_STR("a/b"), out, &has_port, &port), TW_EINVAL);
    assert_string_equal(out, ""); /* a failed normalisation leaves no half-written host */
    assert_int_equal(tw_http_normalize_host(TW_STR("[::1"), out, &has_port, &port), TW_EINVAL);
    assert_int_equal(tw_http_normalize_host(TW_STR("::1"), out, &has_port, &port), 3);
    assert_false(has_port);
    assert_int_equal(tw_http_normalize_host(TW_STR("[::1]:65535"), out, &has_port, &port), 3);
    assert_int_equal(port, 65535);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(http_parses_plain_get),
        cmocka_unit_test(http_tolerates_odd_spacing_and_lf),
        cmocka_unit_test(http_missing_host_and_absolute_uri),
        cmocka_unit_test(http_every_prefix_is_truncated),
        cmocka_unit_test(http_rejects_garbage_early),
        cmocka_unit_test(http_caps_the_head),
        cmocka_unit_test(http_normalizes_hosts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
