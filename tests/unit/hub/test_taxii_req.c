/*
 * test_taxii_req.c: the text parts of a TAXII request: Accept and
 * Content-Type with parameters and q-values, every filter and its
 * malformed forms (400, never 500), the paging cursor, credentials, and the
 * byte spans of a POSTed envelope's objects (checked against jansson).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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

/* ==== Envelope spans ==== */

/* Scans text (NUL-terminated) with room for cap spans. */
static long spans_of(const char *text, struct tw_taxii_span *sp, size_t cap)
{
    return tw__taxii_object_spans(text, strlen(text), sp, cap);
}

static void assert_span(const char *text, const struct tw_taxii_span *sp, const char *want)
{
    assert_int_equal(sp->len, strlen(want));
    assert_memory_equal(text + sp->off, want, sp->len);
}

static void envelope_spans(void **state)
{
    static const char text[] = " {\"more\":false, \"objects\" : [ {\"a\":1,\"b\":[true,false,null]}"
                               " ,\n {\"x\": {\"y\" : \"z\"}},5,\"s\\\"]\"],"
                               " \"x\":{\"objects\":[1]}}\n";
    struct tw_taxii_span sp[8];
    char out[64];
    size_t n;

    (void)state;
    assert_int_equal(spans_of(text, sp, 8), 4);
    assert_span(text, &sp[0], "{\"a\":1,\"b\":[true,false,null]}");
    assert_int_equal(sp[0].n_members, 2);
    assert_true(sp[0].canonical);
    assert_false(sp[0].has_space);
    assert_span(text, &sp[1], "{\"x\": {\"y\" : \"z\"}}");
    assert_int_equal(sp[1].n_members, 2);
    assert_true(sp[1].canonical);
    assert_true(sp[1].has_space);
    n = tw__taxii_compact(text + sp[1].off, sp[1].len, out);
    assert_int_equal(n, strlen("{\"x\":{\"y\":\"z\"}}"));
    assert_memory_equal(out, "{\"x\":{\"y\":\"z\"}}", n);
    assert_span(text, &sp[2], "5");
    assert_span(text, &sp[3], "\"s\\\"]\"");
    assert_int_equal(sp[3].n_members, 0);
    /* whitespace inside strings is kept */
    n = tw__taxii_compact("{ \"a b\" : \" \\\" \" }", strlen("{ \"a b\" : \" \\\" \" }"), out);
    out[n] = '\0';
    assert_string_equal(out, "{\"a b\":\" \\\" \"}");
    assert_int_equal(spans_of("{\"objects\":[]}", sp, 8), 0);
    assert_int_equal(spans_of("{\"objects\":[]}", sp, 0), 0);
}

static void envelope_spans_canonical(void **state)
{
    static const struct {
        const char *elem;
        bool canonical;
    } cases[] = {
        { "{\"k\":1}", true },
        { "{\"k\":-12,\"l\":0}", true },
        { "{\"k\":-0}", false },
        { "{\"k\":1.5}", false },
        { "{\"k\":1e5}", false },
        { "{\"k\":10E-2}", false },
        { "{\"k\":\"q\\\"b\\\\s\\n\\t\\r\\b\\f\"}", true },
        { "{\"k\":\"a\\/b\"}", false },
        { "{\"k\":\"\\u00e9\"}", false },
        { "{\"k\\u0041\":1}", false },
        { "{\"k\":\"caf\xc3\xa9 \xe2\x98\x83 and a string long enough for whole words\"}", true },
        { "[\"x\",{\"y\":[]}]", true },
    };
    struct tw_taxii_span sp[2];
    char text[256];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        (void)snprintf(text, sizeof(text), "{\"objects\":[%s]}", cases[i].elem);
        assert_int_equal(spans_of(text, sp, 2), 1);
        assert_span(text, &sp[0], cases[i].elem);
        if (sp[0].canonical != cases[i].canonical)
            fail_msg("%s: canonical is %d", cases[i].elem, sp[0].canonical);
    }
}

static void envelope_spans_refused(void **state)
{
    static const char *const bad[] = {
        "", "[]", "{}", "{\"a\":1}", "{\"objects\":5}", "{\"objects\":{}}",
        "{\"objects\":[1],\"objects\":[2]}", /* jansson keeps the last one */
        "{\"obj\\u0065cts\":[1]}",           /* "objects", but not as plain bytes */
        "{\"objects\":[1]} x", "{\"objects\":[1,]}", "{\"objects\":[1 2]}", "{\"objects\":[1]",
        "{\"objects\":[\"abc", "{\"objects\":[\"a\tb\"]}", /* a raw control byte in a string */
        "{\"objects\":[\"a\\x\"]}", "{\"objects\":[\"\\u12\"]}", "{\"objects\":[tru]}",
        "{\"objects\":[-]}", "{\"objects\":[1.]}", "{\"objects\":[1e]}",
        "{\"objects\":[{\"a\" 1}]}", "{\"objects\":[{1:2}]}",
        "{\"objects\":[1,2,3]}", /* more elements than room */
    };
    struct tw_taxii_span sp[2];
    char deep[256];
    size_t n = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (spans_of(bad[i], sp, 2) != -1)
            fail_msg("accepted: %s", bad[i]);
    /* nesting past TW_TAXII_SPAN_DEPTH */
    n += (size_t)snprintf(deep, sizeof(deep), "{\"objects\":[");
    for (int d = 0; d < TW_TAXII_SPAN_DEPTH; d++)
        deep[n++] = '[';
    for (int d = 0; d < TW_TAXII_SPAN_DEPTH; d++)
        deep[n++] = ']';
    memcpy(deep + n, "]}", 3);
    assert_int_equal(spans_of(deep, sp, 2), -1);
}

/* ==== Envelope spans against jansson ==== */

struct gen {
    char buf[8192];
    size_t len;
    uint64_t rng;
};

static unsigned rnd(struct gen *g, unsigned n)
{
    g->rng = g->rng * 6364136223846793005u + 1442695040888963407u;
    return (unsigned)(g->rng >> 33) % n;
}

static void put(struct gen *g, const char *s)
{
    size_t n = strlen(s);

    assert_true(g->len + n < sizeof(g->buf));
    memcpy(g->buf + g->len, s, n);
    g->len += n;
}

static void gen_space(struct gen *g)
{
    static const char *const ws[] = { " ", "\n", "\t ", "\r\n  " };

    if (rnd(g, 4) == 0)
        put(g, ws[rnd(g, 4)]);
}

static void gen_string(struct gen *g)
{
    static const char *const bits[] = { "a", "b", "Z", "0", " ", "-", "'", "\xc3\xa9",
        "\xe2\x98\x83", "\xf0\x9f\x90\x8d", "\\\"", "\\\\", "\\n", "\\t", "\\r", "\\b", "\\f",
        "\\/", "\\u00e9", "\\u0041", "\\u001f", "\\ud83d\\udc0d" };
    unsigned n = rnd(g, 4) == 0 ? rnd(g, 40) : rnd(g, 6);

    put(g, "\"");
    for (unsigned i = 0; i < n; i++)
        put(g, bits[rnd(g, 2) == 0 ? rnd(g, 7) : rnd(g, sizeof(bits) / sizeof(bits[0]))]);
    put(g, "\"");
}

static void gen_value(struct gen *g, int depth)
{
    static const char *const numbers[] = { "0", "-0", "7", "-42", "123456789012", "1.5", "2e3",
        "-0.0", "1E+2" };
    static const char *const words[] = { "true", "false", "null" };
    unsigned kind = depth > 4 ? 2 + rnd(g, 3) : rnd(g, 5);

    if (kind == 0 || kind == 1) {
        unsigned n = rnd(g, 5);

        put(g, kind == 0 ? "{" : "[");
        gen_space(g);
        for (unsigned i = 0; i < n; i++) {
            if (i > 0) {
                put(g, ",");
                gen_space(g);
            }
            if (kind == 0) {
                if (rnd(g, 12) == 0)
                    put(g, "\"dup\""); /* two of these in one object now and then */
                else
                    gen_string(g);
                gen_space(g);
                put(g, ":");
                gen_space(g);
            }
            gen_value(g, depth + 1);
            gen_space(g);
        }
        put(g, kind == 0 ? "}" : "]");
    } else if (kind == 2) {
        gen_string(g);
    } else if (kind == 3) {
        put(g, numbers[rnd(g, sizeof(numbers) / sizeof(numbers[0]))]);
    } else {
        put(g, words[rnd(g, 3)]);
    }
}

/* Members of every object in v, as jansson holds them (duplicate keys merged). */
static size_t tree_members(const json_t *v)
{
    size_t n = 0, i;
    const char *k;
    json_t *x;

    if (json_is_object(v)) {
        json_object_foreach((json_t *)(uintptr_t)v, k, x)
        {
            n += 1 + tree_members(x);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            n += tree_members(x);
        }
    }
    return n;
}

/*
 * Random envelopes: whenever the scan calls an element canonical and its
 * members are those jansson parsed, the element's bytes without whitespace
 * are exactly jansson's compact text of it (what the hub stored before).
 */
static void envelope_spans_match_jansson(void **state)
{
    struct gen g;
    size_t checked = 0, skipped = 0;

    (void)state;
    g.rng = 42;
    for (int round = 0; round < 3000; round++) {
        unsigned n = rnd(&g, 5);
        struct tw_taxii_span sp[8];
        json_error_t je;
        json_t *root, *objects;
        long got;

        g.len = 0;
        put(&g, "{");
        gen_space(&g);
        if (rnd(&g, 2) == 0)
            put(&g, "\"more\":false,");
        put(&g, "\"objects\"");
        gen_space(&g);
        put(&g, ":[");
        for (unsigned i = 0; i < n; i++) {
            if (i > 0)
                put(&g, ",");
            gen_space(&g);
            gen_value(&g, 0);
            gen_space(&g);
        }
        put(&g, "]}");
        root = json_loadb(g.buf, g.len, 0, &je);
        if (root == NULL)
            fail_msg("jansson refused %.*s: %s", (int)g.len, g.buf, je.text);
        objects = json_object_get(root, "objects");
        got = tw__taxii_object_spans(g.buf, g.len, sp, 8);
        assert_int_equal(got, (long)n);
        assert_int_equal(json_array_size(objects), n);
        for (unsigned i = 0; i < n; i++) {
            const json_t *elem = json_array_get(objects, i);
            char compact[8192];
            char *want;
            size_t len;

            if (!sp[i].canonical || sp[i].n_members != tree_members(elem)) {
                skipped++;
                continue;
            }
            len = tw__taxii_compact(g.buf + sp[i].off, sp[i].len, compact);
            want = json_dumps(elem, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
            assert_non_null(want);
            if (len != strlen(want) || memcmp(compact, want, len) != 0)
                fail_msg("%.*s\n   is not %s", (int)len, compact, want);
            free(want);
            checked++;
        }
        json_decref(root);
    }
    /* both kinds occur often */
    assert_true(checked > 1000);
    assert_true(skipped > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accept_header),
        cmocka_unit_test(filters),
        cmocka_unit_test(cursor),
        cmocka_unit_test(credentials),
        cmocka_unit_test(timestamps),
        cmocka_unit_test(envelope_spans),
        cmocka_unit_test(envelope_spans_canonical),
        cmocka_unit_test(envelope_spans_refused),
        cmocka_unit_test(envelope_spans_match_jansson),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
