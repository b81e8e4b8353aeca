/*
 * test_taxii_req.c: the text parts of a TAXII request: Accept and
 * Content-Type with parameters and q-values, every filter and its
 * malformed forms (400, never 500), the paging cursor, credentials.
 */
#include <string.h>

#include "../../../src/hub/taxii_int.h"
#include "tidewatch/arena.h"
#include "tw_test.h"

static void accept_header(void **state)
{
    (void)state;
    assert_true(tw__taxii_accept_ok(NULL));
    assert_true(tw__taxii_accept_ok("application/taxii+json;version=2.1"));
    assert_true(tw__taxii_accept_ok("application/taxii+json"));
    assert_true(tw__taxii_accept_ok("Application/TAXII+JSON; version=\"2.1\""));
    assert_true(tw__taxii_accept_ok("text/html, application/taxii+json;version=2.1;q=0.5"));
    assert_true(tw__taxii_accept_ok("*/*"));
    assert_true(tw__taxii_accept_ok("application/*;q=0.1"));
    assert_false(tw__taxii_accept_ok("application/taxii+json;version=2.0"));
    assert_false(tw__taxii_accept_ok("application/taxii+json;q=0"));
    assert_false(tw__taxii_accept_ok("application/taxii+json;q=0.000, text/html"));
    assert_false(tw__taxii_accept_ok("application/stix+json;version=2.1"));
    assert_false(tw__taxii_accept_ok("text/html"));
    assert_false(tw__taxii_accept_ok("application/taxii+json;q=2"));

    assert_true(tw__taxii_content_type_ok("application/taxii+json;version=2.1"));
    assert_true(tw__taxii_content_type_ok("application/taxii+json"));
    assert_false(tw__taxii_content_type_ok("application/json"));
    assert_false(tw__taxii_content_type_ok("*/*"));
    assert_false(tw__taxii_content_type_ok(NULL));
}

static int parse(const char *raw, struct tw_taxii_query *q, struct tw_arena *a)
{
    return tw__taxii_parse_query(raw, a, q);
}

static void filters(void **state)
{
    struct tw_arena a;
    struct tw_taxii_query q;

    (void)state;
    tw_arena_init(&a, 4096, 1 << 20);
    assert_int_equal(parse("", &q, &a), TW_OK);
    assert_false(q.has_added_after);
    assert_int_equal(q.versions, TW_VERSIONS_LAST);

    assert_int_equal(parse("added_after=2025-01-02T03:04:05.123456Z&limit=10", &q, &a), TW_OK);
    assert_true(q.has_added_after);
    assert_int_equal(q.added_after, 1735787045123456LL);
    assert_int_equal(q.limit, 10);

    assert_int_equal(
            parse("match%5Btype%5D=indicator,sighting&match[id]=indicator--00000000-0000-4000-"
                  "8000-000000000001",
                    &q, &a),
            TW_OK);
    assert_int_equal(q.n_types, 2);
    assert_string_equal(q.types[1], "sighting");
    assert_int_equal(q.n_ids, 1);

    assert_int_equal(parse("match[version]=all", &q, &a), TW_OK);
    assert_int_equal(q.versions, TW_VERSIONS_ALL);
    assert_int_equal(parse("match[version]=first", &q, &a), TW_OK);
    assert_int_equal(q.versions, TW_VERSIONS_FIRST);
    assert_int_equal(
            parse("match[version]=2025-01-01T00:00:00.000Z,2025-02-01T00:00:00.000Z", &q, &a),
            TW_OK);
    assert_int_equal(q.versions, TW_VERSIONS_LIST);
    assert_int_equal(q.n_version_list, 2);
    assert_int_equal(parse("match[spec_version]=2.0,2.1", &q, &a), TW_OK);
    assert_int_equal(q.n_spec_versions, 2);
    assert_int_equal(parse("match[unknown]=x&other=y", &q, &a), TW_OK); /* ignored */

    /* Malformed: 400 material, each with a reason. */
    static const char *const bad[] = { "added_after=yesterday",
        "added_after=2025-01-01T00:00:00Z&added_after=2025-01-01T00:00:00Z", "limit=0", "limit=-1",
        "limit=abc", "limit=1&limit=2", "match[type]=Indicator", "match[type]=in",
        "match[type]=indicator,,sighting", "match[type]=", "match[id]=nope",
        "match[version]=all,first", "match[version]=yesterday", "match[spec_version]=3.0",
        "match[type]=a&match[type]=b", "next=zz", "next=1", "next=1.2.3", "next=1.2&next=1.2",
        "added_after=%zz", "match[type]=indicator%00" };
    for (size_t i = 0; i < TW_ARRAY_LEN(bad); i++) {
        memset(&q, 0, sizeof(q));
        if (parse(bad[i], &q, &a) != TW_EINVAL)
            fail_msg("accepted: %s", bad[i]);
        assert_true(q.error[0] != '\0');
    }
    tw_arena_cleanup(&a);
}

static void cursor(void **state)
{
    char buf[48];
    int64_t d, s;

    (void)state;
    assert_int_equal(tw__taxii_cursor_format(1735787045123456LL, 42, buf, sizeof(buf)), TW_OK);
    assert_int_equal(tw__taxii_cursor_parse(buf, &d, &s), TW_OK);
    assert_int_equal(d, 1735787045123456LL);
    assert_int_equal(s, 42);
    assert_int_equal(tw__taxii_cursor_parse("", &d, &s), TW_EINVAL);
    assert_int_equal(tw__taxii_cursor_parse(".", &d, &s), TW_EINVAL);
    assert_int_equal(tw__taxii_cursor_parse("1234567890123456.1", &d, &s), TW_EINVAL);
    assert_int_equal(tw__taxii_cursor_parse("A.1", &d, &s), TW_EINVAL);
}

static void credentials(void **state)
{
    char key[128];

    (void)state;
    assert_int_equal(tw__taxii_credentials(NULL, key, sizeof(key)), TW_ENOTFOUND);
    assert_int_equal(tw__taxii_credentials("Bearer tw_abc", key, sizeof(key)), TW_OK);
    assert_string_equal(key, "tw_abc");
    assert_int_equal(tw__taxii_credentials("bearer   tw_abc  ", key, sizeof(key)), TW_OK);
    assert_string_equal(key, "tw_abc");
    /* "user:tw_abc" */
    assert_int_equal(tw__taxii_credentials("Basic dXNlcjp0d19hYmM=", key, sizeof(key)), TW_OK);
    assert_string_equal(key, "tw_abc");
    assert_int_equal(tw__taxii_credentials("Basic !!!", key, sizeof(key)), TW_EINVAL);
    assert_int_equal(tw__taxii_credentials("Basic dXNlcg==", key, sizeof(key)), TW_EINVAL);
    assert_int_equal(tw__taxii_credentials("Digest x", key, sizeof(key)), TW_EINVAL);
    assert_int_equal(tw__taxii_credentials("Bearer", key, sizeof(key)), TW_EINVAL);
}

static void timestamps(void **state)
{
    char t[64];

    (void)state;
    tw__taxii_time(1735787045123456LL, t);
    assert_string_equal(t, "2025-01-02T03:04:05.123456Z");
    tw__taxii_time(0, t);
    assert_string_equal(t, "1970-01-01T00:00:00.000000Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accept_header),
        cmocka_unit_test(filters),
        cmocka_unit_test(cursor),
        cmocka_unit_test(credentials),
        cmocka_unit_test(timestamps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
