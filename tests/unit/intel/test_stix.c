/*
 * test_stix.c: reading STIX 2.1 documents and the validation rules.
 *
 * Most rule tests start from one valid object of tests/data/stix/
 * valid-all-types.json, change or remove one property, and check that exactly
 * the expected problem appears at the expected JSON path while the other
 * objects of the bundle stay valid.
 */
#include <string.h>

#include <pthread.h>

#include "tidewatch/alloc.h"
#include "tidewatch/stix.h"
#include "tw_test.h"

/* ==== Helpers ==== */

static struct tw_stix_bundle *read_text(const char *text)
{
    struct tw_stix_bundle *b = NULL;
    struct tw_err err;

    assert_int_equal(tw_stix_read_mem(text, strlen(text), "t.json", 0, &b, &err), TW_OK);
    assert_non_null(b);
    return b;
}

static struct tw_stix_bundle *read_json(const json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    struct tw_stix_bundle *b;

    assert_non_null(text);
    b = read_text(text);
    free(text);
    return b;
}

/* The first problem of this severity whose path is `path` and message contains `msg`. */
static const struct tw_stix_problem *find(const struct tw_stix_bundle *b, enum tw_stix_severity sev,
        const char *path, const char *msg)
{
    for (size_t i = 0; i < tw_stix_bundle_n_problems(b); i++) {
        const struct tw_stix_problem *p = tw_stix_bundle_problem(b, i);

        if (p->severity == sev && strcmp(p->path, path) == 0 &&
                (msg == NULL || strstr(p->msg, msg) != NULL)) {
            return p;
        }
    }
    return NULL;
}

static void dump(const struct tw_stix_bundle *b)
{
    assert_int_equal(tw_stix_problems_write(b, stderr, TW_STIX_TEXT), TW_OK);
}

static void expect(const struct tw_stix_bundle *b, enum tw_stix_severity sev, const char *path,
        const char *msg)
{
    if (find(b, sev, path, msg) == NULL) {
        dump(b);
        fail_msg("no %s at %s containing \"%s\"", tw_stix_severity_name(sev), path,
                msg != NULL ? msg : "");
    }
}

static json_t *load_fixture(const char *rel)
{
    json_error_t je;
    json_t *doc = json_load_file(tw_test_data(rel), 0, &je);

    if (doc == NULL) {
        fail_msg("%s: %s", rel, je.text);
    }
    return doc;
}

/* Index of the first object of the fixture with this type. */
static size_t index_of(const json_t *doc, const char *type)
{
    const json_t *objs = json_object_get(doc, "objects");
    size_t i;
    const json_t *o;

    json_array_foreach(objs, i, o)
    {
        if (strcmp(json_string_value(json_object_get(o, "type")), type) == 0) {
            return i;
        }
    }
    fail_msg("fixture has no %s", type);
    return 0;
}

/*
 * Reads valid-all-types.json with objects[type] changed: `value` (JSON text)
 * replaces property `key`, or the property is removed when value is NULL.
 * *idx receives the object's index.
 */
static struct tw_stix_bundle *mutate(
        const char *type, const char *key, const char *value, size_t *idx)
{
    json_t *doc = load_fixture("stix/valid-all-types.json");
    json_t *o;
    struct tw_stix_bundle *b;

    *idx = index_of(doc, type);
    o = json_array_get(json_object_get(doc, "objects"), *idx);
    if (value == NULL) {
        json_object_del(o, key);
    } else {
        json_error_t je;
        json_t *v = json_loads(value, JSON_DECODE_ANY, &je);

        assert_non_null(v);
        json_object_set_new(o, key, v);
    }
    b = read_json(doc);
    json_decref(doc);
    return b;
}

/* Checks that a mutation gives this problem and leaves every other object valid. */
static void expect_mutation(const char *type, const char *key, const char *value,
        enum tw_stix_severity sev, const char *subpath, const char *msg)
{
    size_t idx;
    struct tw_stix_bundle *b = mutate(type, key, value, &idx);
    char path[256];

    (void)snprintf(path, sizeof(path), "$.objects[%zu]%s", idx, subpath);
    expect(b, sev, path, msg);
    if (sev == TW_STIX_ERROR) {
        assert_false(tw_stix_bundle_object(b, idx)->valid);
        assert_int_equal(tw_stix_bundle_n_valid(b), tw_stix_bundle_count(b) - 1);
    } else {
        assert_true(tw_stix_bundle_object(b, idx)->valid);
        assert_int_equal(tw_stix_bundle_n_valid(b), tw_stix_bundle_count(b));
    }
    tw_stix_bundle_free(b);
}

/* ==== Real data ==== */

static void stix_shared_bundles_check_clean(void **state)
{
    static const char *const files[] = { "stix/apt1.json", "stix/indicator-for-c2-ip-address.json",
        "stix/indicator-to-campaign-relationship.json", "stix/indicators-for-C2-with-COA.json",
        "stix/infrastructure.json", "stix/interop-objectmarking-test.json",
        "stix/malicious-email-indicator-with-attachment.json" };
    const char *probe = tw_test_shared("stix/apt1.json");

    (void)state;
    if (probe == NULL) {
        skip();
    }
    for (size_t i = 0; i < TW_ARRAY_LEN(files); i++) {
        struct tw_stix_bundle *b = NULL;
        struct tw_err err;

        assert_int_equal(tw_stix_read_file(tw_test_shared(files[i]), 0, &b, &err), TW_OK);
        if (tw_stix_bundle_n_errors(b) != 0) {
            dump(b);
        }
        assert_int_equal(tw_stix_bundle_n_errors(b), 0);
        assert_int_equal(tw_stix_bundle_n_valid(b), tw_stix_bundle_count(b));
        assert_true(tw_stix_bundle_count(b) > 0);
        /* only the SCO UUIDv5 recommendation is left, in infrastructure.json */
        for (size_t k = 0; k < tw_stix_bundle_n_problems(b); k++) {
            assert_non_null(strstr(tw_stix_bundle_problem(b, k)->msg, "UUIDv5"));
        }
        tw_stix_bundle_free(b);
    }
}

static void stix_single_object_file_is_flagged(void **state)
{
    const char *path = tw_test_shared("stix/interop-objectmarking-test.json");
    struct tw_stix_bundle *b = NULL;

    (void)state;
    if (path == NULL) {
        skip();
    }
    assert_int_equal(tw_stix_read_file(path, 0, &b, NULL), TW_OK);
    assert_int_equal(tw_stix_bundle_container(b), TW_STIX_SINGLE);
    assert_int_equal(tw_stix_bundle_count(b), 1);
    /* one canonical TLP 1.0 RED id and one unknown marking */
    assert_int_equal(tw_stix_bundle_object(b, 0)->tlp, TW_TLP_RED);
    tw_stix_bundle_free(b);
}

struct broken_case {
    const char *file;
    const char *object; /* expected problem's object label */
    const char *field;  /* expected JSON path */
    const char *msg;
};

static void stix_shared_broken_bundles_name_the_object(void **state)
{
    static const struct broken_case cases[] = {
        { "stix/broken/bad-uuid.json", "objects[2]", "$.objects[2].id", "identifier" },
        { "stix/broken/missing-created.json", "indicator--53fe3b22-0201-47cf-85d0-97c02164528d",
                "$.objects[2].created", "missing" },
        { "stix/broken/pattern-unbalanced.json", "indicator--53fe3b22-0201-47cf-85d0-97c02164528d",
                "$.objects[2].pattern", "character" },
        { "stix/broken/relationship-source-not-id.json",
                "relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad", "$.objects[5].source_ref",
                "identifier" },
    };

    (void)state;
    if (tw_test_shared("stix/broken/bad-uuid.json") == NULL) {
        skip();
    }
    for (size_t i = 0; i < TW_ARRAY_LEN(cases); i++) {
        struct tw_stix_bundle *b = NULL;
        const struct tw_stix_problem *hit = NULL;

        assert_int_equal(tw_stix_read_file(tw_test_shared(cases[i].file), 0, &b, NULL), TW_OK);
        for (size_t k = 0; k < tw_stix_bundle_n_problems(b); k++) {
            const struct tw_stix_problem *p = tw_stix_bundle_problem(b, k);
            if (p->severity == TW_STIX_ERROR && strcmp(p->path, cases[i].field) == 0 &&
                    strstr(p->msg, cases[i].msg) != NULL) {
                hit = p;
            }
        }
        if (hit == NULL) {
            dump(b);
            fail_msg("%s: expected an error on %s", cases[i].file, cases[i].field);
        }
        assert_string_equal(hit->object, cases[i].object);
        /* exactly the one object is invalid, everything else was read */
        assert_int_equal(tw_stix_bundle_n_valid(b), tw_stix_bundle_count(b) - 1);
        assert_false(tw_stix_bundle_object(b, hit->index)->valid);
        tw_stix_bundle_free(b);
    }
}

/* ==== Documents ==== */

static void stix_invalid_fixture_reports_each_object(void **state)
{
    struct tw_stix_bundle *b = NULL;

    (void)state;
    assert_int_equal(
            tw_stix_read_file(tw_test_data("stix/invalid/mixed.json"), 0, &b, NULL), TW_OK);
    expect(b, TW_STIX_ERROR, "$.objects[1].pattern", "missing");
    expect(b, TW_STIX_ERROR, "$.objects[2].sighting_of_ref", "SDO");
    expect(b, TW_STIX_ERROR, "$.objects[3].target_ref", "SDO or SCO");
    expect(b, TW_STIX_ERROR, "$.objects[4].Bad-Name", "3 to 250");
    expect(b, TW_STIX_ERROR, "$.objects[5].object_refs", "not be empty");
    expect(b, TW_STIX_ERROR, "$.objects[6].spec_version", "missing");
    assert_int_equal(tw_stix_bundle_n_errors(b), 6);
    assert_int_equal(tw_stix_bundle_n_valid(b), 1);
    assert_true(tw_stix_bundle_object(b, 0)->valid);
    assert_string_equal(tw_stix_bundle_problem(b, 0)->object,
            "indicator--00000002-0000-4000-8000-000000000000");
    tw_stix_bundle_free(b);
}

static void stix_all_types_fixture_is_clean(void **state)
{
    struct tw_stix_bundle *b = NULL;
    bool seen[TW_STIX_CUSTOM + 1] = { false };

    (void)state;
    assert_int_equal(
            tw_stix_read_file(tw_test_data("stix/valid-all-types.json"), 0, &b, NULL), TW_OK);
    if (tw_stix_bundle_n_problems(b) != 0) {
        dump(b);
    }
    assert_int_equal(tw_stix_bundle_n_problems(b), 0);
    assert_int_equal(tw_stix_bundle_container(b), TW_STIX_BUNDLE);
    assert_string_equal(tw_stix_bundle_id(b), "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d");
    assert_int_equal(tw_stix_bundle_n_valid(b), tw_stix_bundle_count(b));
    for (size_t i = 0; i < tw_stix_bundle_count(b); i++) {
        const struct tw_stix_object *o = tw_stix_bundle_object(b, i);

        assert_non_null(o->id);
        seen[o->kind] = true;
        if (o->kind != TW_STIX_SCO) {
            assert_true(o->has_created);
        }
    }
    assert_true(seen[TW_STIX_SDO] && seen[TW_STIX_SCO] && seen[TW_STIX_SRO] && seen[TW_STIX_SMO]);
    tw_stix_bundle_free(b);
}

static void stix_malformed_json_names_file_line_column(void **state)
{
    const char *text = "{\"type\": \"bundle\",\n \"objects\": [ {\"a\": 1,, } ]}";
    struct tw_stix_bundle *b = (struct tw_stix_bundle *)1;
    struct tw_err err;

    (void)state;
    assert_int_equal(tw_stix_read_mem(text, strlen(text), "feed.json", 0, &b, &err), TW_ESYNTAX);
    assert_null(b);
    assert_int_equal(err.line, 2);
    assert_true(err.column > 0);
    assert_true(err.offset != TW_NOPOS && err.offset > 20);
    assert_non_null(strstr(err.msg, "feed.json: line 2, column"));
    assert_non_null(strstr(err.msg, "byte"));
}

static void stix_truncated_and_empty_input_are_syntax_errors(void **state)
{
    struct tw_stix_bundle *b = NULL;

    (void)state;
    assert_int_equal(tw_stix_read_mem("", 0, NULL, 0, &b, NULL), TW_ESYNTAX);
    assert_int_equal(tw_stix_read_mem("{\"type\":", 8, NULL, 0, &b, NULL), TW_ESYNTAX);
    assert_null(b);
}

static void stix_input_cap_gives_elimit(void **state)
{
    struct tw_stix_bundle *b = NULL;
    struct tw_err err;

    (void)state;
    /* the length is refused before any byte is read */
    assert_int_equal(
            tw_stix_read_mem("{}", TW_STIX_MAX_INPUT + 1, "big.json", 0, &b, &err), TW_ELIMIT);
    assert_null(b);
    assert_int_equal(tw_stix_read_file("/nonexistent/x.json", 0, &b, &err), TW_EIO);
}

static void stix_duplicate_key_is_reported_and_objects_still_read(void **state)
{
    const char *text =
            "{\"type\":\"bundle\",\"id\":\"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\","
            "\"objects\":[{\"type\":\"vulnerability\",\"spec_version\":\"2.1\","
            "\"id\":\"vulnerability--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061\","
            "\"created\":\"2016-05-12T08:17:27.000Z\",\"modified\":\"2016-05-12T08:17:27.000Z\","
            "\"name\":\"a\"},"
            "{\"type\":\"vulnerability\",\"spec_version\":\"2.1\","
            "\"id\":\"vulnerability--1c7b5b88-8ff7-4a4d-aa9d-feb398cd0061\","
            "\"created\":\"2016-05-12T08:17:27.000Z\",\"modified\":\"2016-05-12T08:17:27.000Z\","
            "\"name\":\"b\",\"name\":\"c\"}]}";
    struct tw_stix_bundle *b = read_text(text);
    const struct tw_stix_problem *p;

    (void)state;
    p = find(b, TW_STIX_ERROR, "$.objects[1].name", "duplicate key");
    assert_non_null(p);
    assert_string_equal(p->object, "vulnerability--1c7b5b88-8ff7-4a4d-aa9d-feb398cd0061");
    assert_int_equal(tw_stix_bundle_count(b), 2);
    assert_true(tw_stix_bundle_object(b, 0)->valid);
    assert_false(tw_stix_bundle_object(b, 1)->valid);
    assert_int_equal(tw_stix_bundle_n_valid(b), 1);
    /* the last value wins */
    assert_string_equal(
            json_string_value(json_object_get(tw_stix_bundle_object(b, 1)->json, "name")), "c");
    tw_stix_bundle_free(b);
}

static void stix_envelope_single_and_other_shapes(void **state)
{
    struct tw_stix_bundle *b;

    (void)state;
    b = read_text("{\"more\":false,\"objects\":[{\"type\":\"ipv4-addr\","
                  "\"id\":\"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd\","
                  "\"value\":\"198.51.100.3\"}]}");
    assert_int_equal(tw_stix_bundle_container(b), TW_STIX_ENVELOPE);
    assert_int_equal(tw_stix_bundle_count(b), 1);
    assert_int_equal(tw_stix_bundle_n_errors(b), 0);
    tw_stix_bundle_free(b);

    b = read_text("[1, 2]");
    assert_int_equal(tw_stix_bundle_container(b), TW_STIX_OTHER);
    assert_int_equal(tw_stix_bundle_count(b), 0);
    expect(b, TW_STIX_ERROR, "$", "JSON object");
    tw_stix_bundle_free(b);

    b = read_text("{\"type\":\"bundle\",\"id\":\"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\","
                  "\"spec_version\":\"2.0\",\"objects\":[]}");
    expect(b, TW_STIX_ERROR, "$.objects", "not be empty");
    expect(b, TW_STIX_WARNING, "$.spec_version", "2.0");
    tw_stix_bundle_free(b);

    b = read_text("{\"type\":\"bundle\",\"id\":\"bundle--nope\",\"objects\":[7]}");
    expect(b, TW_STIX_ERROR, "$.id", "bundle--");
    expect(b, TW_STIX_ERROR, "$.objects[0]", "STIX object");
    assert_string_equal(tw_stix_bundle_problem(b, 1)->object, "objects[0]");
    tw_stix_bundle_free(b);
}

/* ==== Common properties ==== */

static void stix_common_type_and_id(void **state)
{
    (void)state;
    expect_mutation("tool", "type", "\"Tool\"", TW_STIX_ERROR, ".type", "type names");
    expect_mutation("tool", "type", "7", TW_STIX_ERROR, ".type", "must be a string");
    expect_mutation("tool", "id", "\"malware--00001013-2013-4013-8013-000000abc013\"",
            TW_STIX_ERROR, ".id", "prefix");
    expect_mutation("tool", "id", "\"tool--00001013-2013-4013-c013-000000abc013\"", TW_STIX_ERROR,
            ".id", "RFC 4122");
    expect_mutation("tool", "id", "\"tool--00001013-2013-1013-8013-000000abc013\"", TW_STIX_WARNING,
            ".id", "UUIDv4");
    expect_mutation("tool", "id", NULL, TW_STIX_ERROR, ".id", "missing");
    expect_mutation("url", "id", "\"url--00001013-2013-4013-8013-000000abc013\"", TW_STIX_WARNING,
            ".id", "UUIDv5");
}

static void stix_common_spec_version(void **state)
{
    size_t idx;
    struct tw_stix_bundle *b;

    (void)state;
    expect_mutation("tool", "spec_version", NULL, TW_STIX_ERROR, ".spec_version", "missing");
    expect_mutation("tool", "spec_version", "\"2.0\"", TW_STIX_WARNING, ".spec_version", "2.0");
    expect_mutation("tool", "spec_version", "\"3\"", TW_STIX_ERROR, ".spec_version", "2.1");
    /* SCOs may omit it */
    b = mutate("url", "spec_version", NULL, &idx);
    assert_int_equal(tw_stix_bundle_n_problems(b), 0);
    tw_stix_bundle_free(b);
}

static void stix_common_timestamps(void **state)
{
    (void)state;
    expect_mutation("tool", "created", "\"2024-03-01T10:00:00Z\"", TW_STIX_ERROR, ".created",
            "millisecond");
    expect_mutation("tool", "modified", "\"2024-03-01\"", TW_STIX_ERROR, ".modified",
            "not a STIX timestamp");
    expect_mutation("tool", "modified", "\"2024-02-01T10:00:00.000Z\"", TW_STIX_ERROR, ".modified",
            "earlier than created");
    expect_mutation("tool", "created", NULL, TW_STIX_ERROR, ".created", "missing");
    expect_mutation("tool", "modified", NULL, TW_STIX_ERROR, ".modified", "missing");
}

static void stix_common_simple_properties(void **state)
{
    (void)state;
    expect_mutation("tool", "created_by_ref", "\"tool--00001013-2013-4013-8013-000000abc013\"",
            TW_STIX_ERROR, ".created_by_ref", "must reference identity");
    expect_mutation("tool", "created_by_ref", "\"identity\"", TW_STIX_ERROR, ".created_by_ref",
            "identifier");
    expect_mutation("tool", "revoked", "\"yes\"", TW_STIX_ERROR, ".revoked", "boolean");
    expect_mutation("tool", "labels", "[]", TW_STIX_ERROR, ".labels", "not be empty");
    expect_mutation("tool", "labels", "[\"a\", 3]", TW_STIX_ERROR, ".labels[1]", "string");
    expect_mutation("tool", "confidence", "101", TW_STIX_ERROR, ".confidence", "between 0 and 100");
    expect_mutation("tool", "confidence", "50.5", TW_STIX_ERROR, ".confidence", "integer");
    expect_mutation("tool", "lang", "5", TW_STIX_ERROR, ".lang", "string");
    expect_mutation("tool", "object_marking_refs",
            "[\"identity--00001013-2013-4013-8013-000000abc013\"]", TW_STIX_ERROR,
            ".object_marking_refs[0]", "marking-definition");
    expect_mutation("tool", "object_marking_refs", "[]", TW_STIX_ERROR, ".object_marking_refs",
            "not be empty");
}

static void stix_common_external_references(void **state)
{
    (void)state;
    expect_mutation("tool", "external_references", "[{\"url\":\"https://x\"}]", TW_STIX_ERROR,
            ".external_references[0].source_name", "missing");
    expect_mutation("tool", "external_references",
            "[{\"source_name\":\"a\",\"url\":\"u\"},{\"source_name\":\"b\"}]", TW_STIX_ERROR,
            ".external_references[1]", "at least one of description, url, external_id");
    expect_mutation("tool", "external_references",
            "[{\"source_name\":\"a\",\"url\":\"u\",\"hashes\":{\"SHA-256\":\"abc\"}}]",
            TW_STIX_ERROR, ".external_references[0].hashes.SHA-256", "64 hex digits");
    expect_mutation("tool", "external_references",
            "[{\"source_name\":\"a\",\"url\":\"u\",\"hashes\":{\"x\":\"abc\"}}]", TW_STIX_ERROR,
            ".external_references[0].hashes.x", "custom hash names");
    expect_mutation("tool", "external_references",
            "[{\"source_name\":\"capec\",\"external_id\":\"98\"}]", TW_STIX_ERROR,
            ".external_references[0].external_id", "CAPEC-");
    expect_mutation("tool", "external_references", "[{\"source_name\":7,\"url\":\"u\"}]",
            TW_STIX_ERROR, ".external_references[0].source_name", "string");
    expect_mutation("tool", "external_references", "[]", TW_STIX_ERROR, ".external_references",
            "not be empty");
}

static void stix_common_granular_markings(void **state)
{
    const char *red = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";
    char v[512];

    (void)state;
    (void)snprintf(v, sizeof(v),
            "[{\"marking_ref\":\"%s\",\"lang\":\"en\",\"selectors\":[\"name\"]}]", red);
    expect_mutation("tool", "granular_markings", v, TW_STIX_ERROR, ".granular_markings[0]",
            "exactly one of marking_ref and lang");
    expect_mutation("tool", "granular_markings", "[{\"selectors\":[\"name\"]}]", TW_STIX_ERROR,
            ".granular_markings[0]", "exactly one");
    (void)snprintf(v, sizeof(v), "[{\"marking_ref\":\"%s\",\"selectors\":[]}]", red);
    expect_mutation("tool", "granular_markings", v, TW_STIX_ERROR,
            ".granular_markings[0].selectors", "not be empty");
    (void)snprintf(
            v, sizeof(v), "[{\"marking_ref\":\"%s\",\"selectors\":[\"name\",\"nope\"]}]", red);
    expect_mutation("tool", "granular_markings", v, TW_STIX_ERROR,
            ".granular_markings[0].selectors[1]", "does not resolve");
    (void)snprintf(
            v, sizeof(v), "[{\"marking_ref\":\"%s\",\"selectors\":[\"tool_types.[1]\"]}]", red);
    expect_mutation("tool", "granular_markings", v, TW_STIX_ERROR,
            ".granular_markings[0].selectors[0]", "does not resolve");
    expect_mutation("tool", "granular_markings",
            "[{\"marking_ref\":\"identity--00001013-2013-4013-8013-000000abc013\","
            "\"selectors\":[\"name\"]}]",
            TW_STIX_ERROR, ".granular_markings[0].marking_ref", "marking-definition");
}

static void stix_common_extensions(void **state)
{
    (void)state;
    expect_mutation("tool", "extensions", "{\"tool--00001013-2013-4013-8013-000000abc013\":{}}",
            TW_STIX_ERROR, ".extensions.tool--00001013-2013-4013-8013-000000abc013",
            "extension-definition ids");
    expect_mutation("tool", "extensions", "{\"x-corp-ext\":{\"a\":1}}", TW_STIX_WARNING,
            ".extensions.x-corp-ext", "deprecated");
    expect_mutation("tool", "extensions", "{\"tcp-ext\":{\"a\":1}}", TW_STIX_ERROR,
            ".extensions.tcp-ext", "network-traffic");
    expect_mutation("tool", "extensions", "{}", TW_STIX_ERROR, ".extensions", "not be empty");
    expect_mutation("tool", "extensions",
            "{\"extension-definition--00001013-2013-4013-8013-000000abc013\":"
            "{\"extension_type\":\"new-thing\"}}",
            TW_STIX_ERROR,
            ".extensions.extension-definition--00001013-2013-4013-8013-000000abc013"
            ".extension_type",
            "extension-type-enum");
}

/* ==== Types ==== */

struct required_case {
    const char *type;
    const char *prop;
};

static void stix_required_properties_of_every_type(void **state)
{
    static const struct required_case cases[] = {
        { "indicator", "pattern" },
        { "indicator", "pattern_type" },
        { "indicator", "valid_from" },
        { "sighting", "sighting_of_ref" },
        { "observed-data", "first_observed" },
        { "observed-data", "last_observed" },
        { "observed-data", "number_observed" },
        { "identity", "name" },
        { "relationship", "relationship_type" },
        { "relationship", "source_ref" },
        { "relationship", "target_ref" },
        { "report", "name" },
        { "report", "published" },
        { "report", "object_refs" },
        { "malware", "is_family" },
        { "tool", "name" },
        { "intrusion-set", "name" },
        { "campaign", "name" },
        { "attack-pattern", "name" },
        { "vulnerability", "name" },
        { "infrastructure", "name" },
        { "course-of-action", "name" },
        { "note", "content" },
        { "note", "object_refs" },
        { "grouping", "context" },
        { "grouping", "object_refs" },
        { "extension-definition", "name" },
        { "extension-definition", "schema" },
        { "extension-definition", "version" },
        { "extension-definition", "extension_types" },
        { "threat-actor", "name" },
        { "opinion", "opinion" },
        { "opinion", "object_refs" },
        { "malware-analysis", "product" },
        { "incident", "name" },
        { "language-content", "object_ref" },
        { "language-content", "contents" },
        { "ipv4-addr", "value" },
        { "ipv6-addr", "value" },
        { "domain-name", "value" },
        { "url", "value" },
        { "mac-addr", "value" },
        { "email-addr", "value" },
        { "autonomous-system", "number" },
        { "directory", "path" },
        { "mutex", "name" },
        { "software", "name" },
        { "email-message", "is_multipart" },
        { "network-traffic", "protocols" },
    };

    (void)state;
    for (size_t i = 0; i < TW_ARRAY_LEN(cases); i++) {
        char sub[64];

        (void)snprintf(sub, sizeof(sub), ".%s", cases[i].prop);
        expect_mutation(cases[i].type, cases[i].prop, NULL, TW_STIX_ERROR, sub, "missing");
    }
}

static void stix_indicator_rules(void **state)
{
    (void)state;
    expect_mutation("indicator", "valid_until", "\"2024-03-01T00:00:00Z\"", TW_STIX_ERROR,
            ".valid_until", "later than valid_from");
    expect_mutation("indicator", "pattern", "\"[ipv4-addr:value = '1.2.3.4'\"", TW_STIX_ERROR,
            ".pattern", "at character");
    expect_mutation(
            "indicator", "valid_from", "\"soon\"", TW_STIX_ERROR, ".valid_from", "timestamp");
    expect_mutation("indicator", "pattern_type", "5", TW_STIX_ERROR, ".pattern_type", "string");
}

static void stix_indicator_other_pattern_types_are_not_parsed(void **state)
{
    size_t idx;
    json_t *doc = load_fixture("stix/valid-all-types.json");
    json_t *o;
    struct tw_stix_bundle *b;

    (void)state;
    idx = index_of(doc, "indicator");
    o = json_array_get(json_object_get(doc, "objects"), idx);
    json_object_set_new(o, "pattern_type", json_string("snort"));
    json_object_set_new(o, "pattern", json_string("alert tcp any any -> any 443 (msg:\"x\";)"));
    b = read_json(doc);
    assert_int_equal(tw_stix_bundle_n_problems(b), 0);
    tw_stix_bundle_free(b);
    json_decref(doc);
}

static void stix_sighting_rules(void **state)
{
    (void)state;
    expect_mutation("sighting", "sighting_of_ref",
            "\"ipv4-addr--00001013-2013-4013-8013-000000abc013\"", TW_STIX_ERROR,
            ".sighting_of_ref", "SDO");
    expect_mutation("sighting", "observed_data_refs",
            "[\"indicator--00001013-2013-4013-8013-000000abc013\"]", TW_STIX_ERROR,
            ".observed_data_refs[0]", "observed-data");
    expect_mutation("sighting", "where_sighted_refs",
            "[\"malware--00001013-2013-4013-8013-000000abc013\"]", TW_STIX_ERROR,
            ".where_sighted_refs[0]", "identity location");
    expect_mutation("sighting", "count", "1000000000", TW_STIX_ERROR, ".count", "999999999");
    expect_mutation("sighting", "count", "-1", TW_STIX_ERROR, ".count", "between");
    expect_mutation("sighting", "last_seen", "\"2023-03-01T00:00:00Z\"", TW_STIX_ERROR,
            ".last_seen", "later than first_seen");
}

static void stix_observed_data_rules(void **state)
{
    (void)state;
    expect_mutation("observed-data", "number_observed", "0", TW_STIX_ERROR, ".number_observed",
            "between 1");
    expect_mutation("observed-data", "object_refs", NULL, TW_STIX_ERROR, "", "object_refs");
    expect_mutation("observed-data", "objects", "{\"0\":{\"type\":\"ipv4-addr\"}}", TW_STIX_ERROR,
            ".objects", "not both");
    expect_mutation("observed-data", "object_refs",
            "[\"indicator--00001013-2013-4013-8013-000000abc013\"]", TW_STIX_ERROR,
            ".object_refs[0]", "SCO or relationship");
    expect_mutation("observed-data", "last_observed", "\"2020-01-01T00:00:00Z\"", TW_STIX_ERROR,
            ".last_observed", "first_observed");
}

static void stix_observed_data_embedded_objects_are_deprecated(void **state)
{
    json_t *doc = load_fixture("stix/valid-all-types.json");
    size_t idx = index_of(doc, "observed-data");
    json_t *o = json_array_get(json_object_get(doc, "objects"), idx);
    struct tw_stix_bundle *b;
    char path[64];

    (void)state;
    json_object_del(o, "object_refs");
    json_object_set_new(o, "objects", json_pack("{s{ss}}", "0", "type", "ipv4-addr"));
    b = read_json(doc);
    (void)snprintf(path, sizeof(path), "$.objects[%zu].objects", idx);
    expect(b, TW_STIX_WARNING, path, "deprecated");
    assert_true(tw_stix_bundle_object(b, idx)->valid);
    tw_stix_bundle_free(b);
    json_decref(doc);
}

static void stix_relationship_rules(void **state)
{
    (void)state;
    expect_mutation("relationship", "target_ref",
            "\"relationship--00001013-2013-4013-8013-000000abc013\"", TW_STIX_ERROR, ".target_ref",
            "not relationship");
    expect_mutation("relationship", "source_ref",
            "\"marking-definition--00001013-2013-4013-8013-000000abc013\"", TW_STIX_ERROR,
            ".source_ref", "SDO or SCO");
    expect_mutation("relationship", "source_ref",
            "\"bundle--00001013-2013-4013-8013-000000abc013\"", TW_STIX_ERROR, ".source_ref",
            "SDO or SCO");
    expect_mutation("relationship", "relationship_type", "\"Uses\"", TW_STIX_ERROR,
            ".relationship_type", "a-z");
    expect_mutation("relationship", "stop_time", "\"2024-01-01T00:00:00Z\"", TW_STIX_ERROR,
            ".stop_time", "later than start_time");
}

static void stix_sdo_value_rules(void **state)
{
    (void)state;
    expect_mutation("malware", "name", NULL, TW_STIX_ERROR, "", "must have a name");
    expect_mutation("malware", "is_family", "\"true\"", TW_STIX_ERROR, ".is_family", "boolean");
    expect_mutation("report", "object_refs", "[]", TW_STIX_ERROR, ".object_refs", "not be empty");
    expect_mutation("campaign", "last_seen", "\"2023-01-01T00:00:00Z\"", TW_STIX_ERROR,
            ".last_seen", "first_seen");
    expect_mutation("identity", "identity_class", "[\"organization\"]", TW_STIX_ERROR,
            ".identity_class", "string");
    expect_mutation("location", "latitude", NULL, TW_STIX_ERROR, ".longitude", "together");
    expect_mutation("location", "latitude", "91", TW_STIX_ERROR, ".latitude", "between -90 and 90");
    expect_mutation("opinion", "opinion", "\"maybe\"", TW_STIX_ERROR, ".opinion", "opinion-enum");
    expect_mutation("extension-definition", "extension_types", "[\"new-widget\"]", TW_STIX_ERROR,
            ".extension_types[0]", "extension-type-enum");
    expect_mutation("extension-definition", "created_by_ref", NULL, TW_STIX_ERROR, "",
            "requires created_by_ref");
    expect_mutation("malware-analysis", "result", NULL, TW_STIX_ERROR, "", "result");
    expect_mutation("tool", "kill_chain_phases", "[{\"phase_name\":\"x\"}]", TW_STIX_ERROR,
            ".kill_chain_phases[0].kill_chain_name", "missing");
}

static void stix_location_without_country_keeps_lat_long_valid(void **state)
{
    size_t idx;
    struct tw_stix_bundle *b = mutate("location", "country", NULL, &idx);

    (void)state;
    /* latitude and longitude are enough */
    assert_true(tw_stix_bundle_object(b, idx)->valid);
    tw_stix_bundle_free(b);
}

static void stix_sco_value_rules(void **state)
{
    (void)state;
    expect_mutation("network-traffic", "dst_port", "70000", TW_STIX_ERROR, ".dst_port", "65535");
    expect_mutation("network-traffic", "dst_ref", NULL, TW_STIX_ERROR, "", "src_ref or dst_ref");
    expect_mutation("network-traffic", "dst_ref", "\"file--00001013-2013-4013-8013-000000abc013\"",
            TW_STIX_ERROR, ".dst_ref", "ipv4-addr");
    expect_mutation("file", "hashes", "{\"MD5\":\"xyz\"}", TW_STIX_ERROR, ".hashes.MD5", "32 hex");
    expect_mutation("artifact", "url", "\"https://x\"", TW_STIX_ERROR, ".url", "payload_bin");
    expect_mutation(
            "artifact", "payload_bin", "\"not base64!\"", TW_STIX_ERROR, ".payload_bin", "base64");
    expect_mutation("domain-name", "resolves_to_refs",
            "[\"url--00001013-2013-4013-8013-000000abc013\"]", TW_STIX_ERROR,
            ".resolves_to_refs[0]", "ipv4-addr");
    expect_mutation("email-message", "body_multipart", "[{\"body\":\"x\"}]", TW_STIX_ERROR,
            ".body_multipart", "is_multipart");
}

static void stix_marking_definition_rules(void **state)
{
    (void)state;
    expect_mutation("marking-definition", "modified", "\"2024-03-01T10:00:00.000Z\"", TW_STIX_ERROR,
            ".modified", "not versioned");
    expect_mutation("marking-definition", "definition", NULL, TW_STIX_ERROR, "",
            "definition_type requires definition");
    expect_mutation("marking-definition", "definition", "{\"tlp\":\"purple\"}", TW_STIX_ERROR,
            ".definition", "unknown level");
    expect_mutation("marking-definition", "definition", "{\"tlp\":\"red\"}", TW_STIX_ERROR, ".id",
            "different TLP level");
    /* the same TLP content under a new id: only a warning, as the brief of 7.2.1.4 is a SHOULD */
    expect_mutation("marking-definition", "id",
            "\"marking-definition--00001013-2013-4013-8013-000000abc013\"", TW_STIX_WARNING, ".id",
            "non-canonical");
}

static void stix_custom_properties_and_objects(void **state)
{
    size_t idx;
    struct tw_stix_bundle *b;

    (void)state;
    b = mutate("tool", "x_corp_rank", "3", &idx);
    assert_int_equal(tw_stix_bundle_n_problems(b), 0);
    tw_stix_bundle_free(b);
    expect_mutation("tool", "corp_rank", "3", TW_STIX_WARNING, ".corp_rank", "x_");
    expect_mutation("tool", "Rank", "3", TW_STIX_ERROR, ".Rank", "3 to 250");
    expect_mutation("tool", "xy", "3", TW_STIX_ERROR, ".xy", "3 to 250");
    expect_mutation("tool", "a b'c", "3", TW_STIX_ERROR, "['a b\\'c']", "3 to 250");
    expect_mutation("tool", "severity", "\"high\"", TW_STIX_ERROR, ".severity", "reserved");
    expect_mutation(
            "tool", "phone_numbers", "[\"1\"]", TW_STIX_ERROR, ".phone_numbers", "reserved");
    expect_mutation("tool", "x_owner_ref", "\"bob\"", TW_STIX_ERROR, ".x_owner_ref", "identifier");
    expect_mutation("tool", "x_list", "[]", TW_STIX_ERROR, ".x_list", "not be empty");
    expect_mutation("tool", "x_peer_refs",
            "[\"identity--00001013-2013-4013-8013-000000abc013\", 1]", TW_STIX_ERROR,
            ".x_peer_refs[1]", "identifier");
}

static void stix_custom_object_types(void **state)
{
    struct tw_stix_bundle *b = read_text(
            "{\"type\":\"x-telecom-cell\",\"spec_version\":\"2.1\","
            "\"id\":\"x-telecom-cell--00001013-2013-4013-8013-000000abc013\","
            "\"created\":\"2024-03-01T10:00:00.000Z\",\"modified\":\"2024-03-01T10:00:00.000Z\","
            "\"cell_id\":\"abc\"}");

    (void)state;
    assert_int_equal(tw_stix_bundle_container(b), TW_STIX_SINGLE);
    expect(b, TW_STIX_WARNING, "$.type", "deprecated");
    assert_int_equal(tw_stix_bundle_n_problems(b), 1);
    assert_int_equal(tw_stix_bundle_object(b, 0)->kind, TW_STIX_CUSTOM);
    assert_true(tw_stix_bundle_object(b, 0)->valid);
    tw_stix_bundle_free(b);

    /* a new SCO type through an extension-definition: no created/modified, no warning */
    b = read_text("{\"type\":\"x-cell\",\"id\":\"x-cell--00001013-2013-4013-8013-000000abc013\","
                  "\"cell_id\":\"abc\",\"extensions\":{"
                  "\"extension-definition--00001013-2013-4013-8013-000000abc013\":"
                  "{\"extension_type\":\"new-sco\"}}}");
    assert_int_equal(tw_stix_bundle_n_problems(b), 0);
    tw_stix_bundle_free(b);

    b = read_text("{\"type\":\"x--y\",\"spec_version\":\"2.1\","
                  "\"id\":\"x--y--00001013-2013-4013-8013-000000abc013\","
                  "\"created\":\"2024-03-01T10:00:00.000Z\","
                  "\"modified\":\"2024-03-01T10:00:00.000Z\"}");
    expect(b, TW_STIX_ERROR, "$.type", "type names");
    tw_stix_bundle_free(b);
}

static void stix_duplicate_versions_warn(void **state)
{
    json_t *doc = load_fixture("stix/valid-all-types.json");
    json_t *objs = json_object_get(doc, "objects");
    size_t idx = index_of(doc, "tool");
    json_t *copy = json_deep_copy(json_array_get(objs, idx));
    json_t *newer = json_deep_copy(copy);
    struct tw_stix_bundle *b;
    char path[64];
    const struct tw_stix_object *latest;

    (void)state;
    json_array_append_new(objs, copy);
    json_object_set_new(newer, "modified", json_string("2024-04-01T00:00:00.000Z"));
    json_object_set_new(newer, "name", json_string("renamed"));
    json_array_insert_new(objs, 0, newer);
    b = read_json(doc);
    (void)snprintf(path, sizeof(path), "$.objects[%zu].id", json_array_size(objs) - 1);
    expect(b, TW_STIX_WARNING, path, "same id and modified");
    assert_int_equal(tw_stix_bundle_n_errors(b), 0);
    /* tw_stix_bundle_find returns the latest version */
    latest = tw_stix_bundle_find(b, tw_stix_bundle_object(b, 0)->id);
    assert_ptr_equal(latest, tw_stix_bundle_object(b, 0));
    assert_null(tw_stix_bundle_find(b, "tool--00000000-0000-4000-8000-000000000000"));
    tw_stix_bundle_free(b);
    json_decref(doc);
}

static void stix_long_paths_are_truncated(void **state)
{
    char key[400];
    char text[1024];
    struct tw_stix_bundle *b;
    const struct tw_stix_problem *p;

    (void)state;
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    (void)snprintf(text, sizeof(text),
            "{\"type\":\"vulnerability\",\"spec_version\":\"2.1\","
            "\"id\":\"vulnerability--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061\","
            "\"created\":\"2016-05-12T08:17:27.000Z\",\"modified\":\"2016-05-12T08:17:27.000Z\","
            "\"name\":\"a\",\"%s\":1}",
            key);
    b = read_text(text);
    p = tw_stix_bundle_problem(b, 0);
    assert_non_null(p);
    assert_string_equal(p->path, "$...");
    assert_true(strlen(p->path) <= TW_STIX_MAX_PATH + 3);
    tw_stix_bundle_free(b);
}

/* ==== Indicators and output ==== */

static int count_ind(const struct tw_stix_indicator *ind, void *ctx)
{
    size_t *n = ctx;

    assert_string_equal(ind->pattern_type, "stix");
    assert_non_null(ind->pattern.ptr);
    (*n)++;
    return 0;
}

static void stix_indicator_view(void **state)
{
    struct tw_stix_bundle *b = NULL;
    struct tw_stix_indicator ind;
    size_t n = 0;
    size_t idx;

    (void)state;
    assert_int_equal(
            tw_stix_read_file(tw_test_data("stix/valid-all-types.json"), 0, &b, NULL), TW_OK);
    assert_int_equal(tw_stix_each_indicator(b, count_ind, &n), TW_OK);
    assert_int_equal(n, 1);
    for (idx = 0; strcmp(tw_stix_bundle_object(b, idx)->type, "indicator") != 0; idx++) {
    }
    assert_int_equal(tw_stix_indicator_get(tw_stix_bundle_object(b, idx), &ind), TW_OK);
    assert_string_equal(ind.name, "C2 address");
    assert_true(tw_str_eq_cstr(ind.pattern, "[ipv4-addr:value = '198.51.100.7']"));
    assert_true(ind.has_valid_until);
    assert_true(tw_time_cmp(&ind.valid_from, &ind.valid_until) < 0);
    assert_false(ind.revoked);
    assert_int_equal(ind.tlp, TW_TLP_AMBER);
    assert_int_equal(tw_stix_indicator_get(tw_stix_bundle_object(b, 0), &ind), TW_EINVAL);
    /* granular RED marking on description and external_references.[0].url */
    assert_int_equal(
            tw_stix_property_tlp(b, tw_stix_bundle_object(b, idx), "description"), TW_TLP_RED);
    assert_int_equal(tw_stix_property_tlp(b, tw_stix_bundle_object(b, idx), "external_references"),
            TW_TLP_RED);
    assert_int_equal(tw_stix_property_tlp(b, tw_stix_bundle_object(b, idx), "name"), TW_TLP_AMBER);
    tw_stix_bundle_free(b);
}

static int stop_at_first(const struct tw_stix_indicator *ind, void *ctx)
{
    (void)ind;
    (void)ctx;
    return 42;
}

static void stix_invalid_indicators_are_not_iterated(void **state)
{
    size_t idx;
    size_t n = 0;
    struct tw_stix_bundle *b = mutate("indicator", "pattern", "\"[\"", &idx);

    (void)state;
    assert_int_equal(tw_stix_each_indicator(b, count_ind, &n), TW_OK);
    assert_int_equal(n, 0);
    tw_stix_bundle_free(b);
    assert_int_equal(
            tw_stix_read_file(tw_test_data("stix/valid-all-types.json"), 0, &b, NULL), TW_OK);
    assert_int_equal(tw_stix_each_indicator(b, stop_at_first, NULL), 42);
    tw_stix_bundle_free(b);
}

static void stix_problem_lines(void **state)
{
    size_t idx;
    struct tw_stix_bundle *b = mutate("tool", "confidence", "101", &idx);
    const struct tw_stix_problem *p = tw_stix_bundle_problem(b, 0);
    struct tw_buf out;
    char want[512];
    json_t *line;
    json_error_t je;

    (void)state;
    tw_buf_init(&out, 4096);
    assert_int_equal(tw_stix_problem_format(p, "feed.json", TW_STIX_TEXT, &out), TW_OK);
    (void)snprintf(want, sizeof(want), "feed.json: ERROR: %s $.objects[%zu].confidence: %s\n",
            tw_stix_bundle_object(b, idx)->id, idx, p->msg);
    assert_string_equal(out.ptr, want);
    tw_buf_reset(&out);
    assert_int_equal(tw_stix_problem_format(p, "a\"b.json", TW_STIX_JSONL, &out), TW_OK);
    line = json_loads(out.ptr, 0, &je);
    assert_non_null(line);
    assert_string_equal(json_string_value(json_object_get(line, "file")), "a\"b.json");
    assert_string_equal(json_string_value(json_object_get(line, "severity")), "error");
    assert_string_equal(
            json_string_value(json_object_get(line, "object")), tw_stix_bundle_object(b, idx)->id);
    assert_non_null(json_object_get(line, "path"));
    assert_non_null(json_object_get(line, "message"));
    json_decref(line);
    tw_buf_cleanup(&out);
    tw_stix_bundle_free(b);
}

static void stix_id_helpers(void **state)
{
    struct tw_str t;

    (void)state;
    assert_true(tw_stix_id_valid(TW_STR("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"), &t));
    assert_true(tw_str_eq_cstr(t, "indicator"));
    assert_false(tw_stix_id_valid(TW_STR("indicator-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"), NULL));
    assert_false(tw_stix_id_valid(TW_STR("indicator--8e2e2d2b-17d4-4cbf-938f"), NULL));
    assert_false(tw_stix_id_valid(TW_STR("in--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"), NULL));
    assert_false(tw_stix_id_valid(TW_STR("malware"), NULL));
    assert_int_equal(tw_stix_type_kind(TW_STR("indicator")), TW_STIX_SDO);
    assert_int_equal(tw_stix_type_kind(TW_STR("ipv4-addr")), TW_STIX_SCO);
    assert_int_equal(tw_stix_type_kind(TW_STR("sighting")), TW_STIX_SRO);
    assert_int_equal(tw_stix_type_kind(TW_STR("marking-definition")), TW_STIX_SMO);
    assert_int_equal(tw_stix_type_kind(TW_STR("x-thing")), TW_STIX_CUSTOM);
}

static void stix_out_of_memory_is_reported(void **state)
{
    struct tw_stix_bundle *b = NULL;
    char *text = tw_test_slurp(tw_test_data("stix/valid-all-types.json"), NULL);
    int ok = 0;

    (void)state;
    /* every allocation point fails once; each run either succeeds or says ENOMEM */
    for (long n = 0; n < 400; n++) {
        int rc;

        tw_alloc_fail_after(n);
        rc = tw_stix_read_mem(text, strlen(text), "x", TW_STIX_NO_PATTERNS, &b, NULL);
        tw_alloc_fail_reset();
        assert_true(rc == TW_OK || rc == TW_ENOMEM);
        if (rc == TW_OK) {
            ok++;
            tw_stix_bundle_free(b);
        } else {
            assert_null(b);
        }
    }
    assert_true(ok > 0);
    tw_free(text);
}

/* A bundle large enough for the per-object checks to run on several threads:
 * problems must come out in document order with exact counts, as on one thread. */
static void stix_large_bundle_checks_in_order(void **state)
{
    const size_t n = 10000;
    const size_t bad[] = { 0, 2047, 2048, 4999, 5000, 9999 };
    json_t *objs = json_array(), *bundle;
    struct tw_stix_bundle *b = NULL;
    char *text;
    size_t k = 0;

    (void)state;
    assert_non_null(objs);
    for (size_t i = 0; i < n; i++) {
        char id[64];
        json_t *o;

        (void)snprintf(id, sizeof(id), "indicator--%08zx-0000-4000-8000-000000000000", i);
        o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "indicator", "spec_version",
                "2.1", "id", id, "created", "2025-01-01T00:00:00.000Z", "modified",
                "2025-01-01T00:00:00.000Z", "pattern", "[ipv4-addr:value = '192.0.2.1']",
                "pattern_type", "stix", "valid_from", "2025-01-01T00:00:00Z");
        assert_non_null(o);
        if (k < sizeof(bad) / sizeof(bad[0]) && bad[k] == i) {
            assert_int_equal(
                    json_object_set_new(o, "pattern", json_string("[ipv4-addr:value =")), 0);
            k++;
        }
        assert_int_equal(json_array_append_new(objs, o), 0);
    }
    bundle = json_pack("{s:s,s:s,s:o}", "type", "bundle", "id",
            "bundle--6b1a9c1e-8f0d-4c52-9a7e-3d2f1b0c4e5a", "objects", objs);
    assert_non_null(bundle);
    text = json_dumps(bundle, JSON_COMPACT);
    assert_non_null(text);
    json_decref(bundle);
    assert_int_equal(tw_stix_read_mem(text, strlen(text), "large", 0, &b, NULL), TW_OK);
    free(text);
    assert_int_equal(tw_stix_bundle_count(b), n);
    assert_int_equal(tw_stix_bundle_n_errors(b), 6);
    assert_int_equal(tw_stix_bundle_n_valid(b), n - 6);
    assert_int_equal(tw_stix_bundle_n_problems(b), 6);
    for (size_t i = 0; i < 6; i++) {
        const struct tw_stix_problem *p = tw_stix_bundle_problem(b, i);
        char path[64];

        assert_int_equal(p->index, bad[i]);
        (void)snprintf(path, sizeof(path), "$.objects[%zu].pattern", bad[i]);
        assert_string_equal(p->path, path);
        assert_false(tw_stix_bundle_object(b, bad[i])->valid);
    }
    assert_non_null(tw_stix_bundle_find(b, "indicator--00001388-0000-4000-8000-000000000000"));
    tw_stix_bundle_free(b);
}

/* Bundles read on two threads at once (the hub validates concurrent POSTs):
 * the version pass sorts with a per-thread context. */
struct reader_arg {
    const char *text;
    size_t len;
    int failures;
};

static void *read_many(void *p)
{
    struct reader_arg *a = p;

    for (int i = 0; i < 200; i++) {
        struct tw_stix_bundle *b = NULL;
        struct tw_err err;
        if (tw_stix_read_mem(a->text, a->len, "t", TW_STIX_NO_PATTERNS, &b, &err) != TW_OK ||
                tw_stix_bundle_n_valid(b) != tw_stix_bundle_count(b))
            a->failures++;
        tw_stix_bundle_free(b);
    }
    return NULL;
}

static void stix_reads_on_two_threads(void **state)
{
    struct tw_buf t;
    struct reader_arg a[2];
    pthread_t th[2];

    (void)state;
    tw_buf_init(&t, 1 << 20);
    assert_int_equal(
            tw_buf_puts(&t, "{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-"
                            "000000000000\",\"objects\":["),
            TW_OK);
    for (int i = 0; i < 40; i++)
        assert_int_equal(tw_buf_printf(&t,
                                 "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
                                 "\"indicator--00000000-0000-4000-8000-%012d\",\"created\":"
                                 "\"2025-01-01T00:00:00.000Z\",\"modified\":\"2025-01-%02dT00:00:"
                                 "00.000Z\",\"pattern\":\"[ipv4-addr:value = '192.0.2.1']\","
                                 "\"pattern_type\":\"stix\",\"valid_from\":"
                                 "\"2025-01-01T00:00:00Z\"}",
                                 i ? "," : "", i % 7, 1 + i % 20),
                TW_OK);
    assert_int_equal(tw_buf_puts(&t, "]}"), TW_OK);
    for (int i = 0; i < 2; i++) {
        a[i].text = t.ptr;
        a[i].len = t.len;
        a[i].failures = 0;
        assert_int_equal(pthread_create(&th[i], NULL, read_many, &a[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(a[0].failures + a[1].failures, 0);
    tw_buf_cleanup(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stix_shared_bundles_check_clean),
        cmocka_unit_test(stix_single_object_file_is_flagged),
        cmocka_unit_test(stix_shared_broken_bundles_name_the_object),
        cmocka_unit_test(stix_all_types_fixture_is_clean),
        cmocka_unit_test(stix_invalid_fixture_reports_each_object),
        cmocka_unit_test(stix_malformed_json_names_file_line_column),
        cmocka_unit_test(stix_truncated_and_empty_input_are_syntax_errors),
        cmocka_unit_test(stix_input_cap_gives_elimit),
        cmocka_unit_test(stix_duplicate_key_is_reported_and_objects_still_read),
        cmocka_unit_test(stix_envelope_single_and_other_shapes),
        cmocka_unit_test(stix_common_type_and_id),
        cmocka_unit_test(stix_common_spec_version),
        cmocka_unit_test(stix_common_timestamps),
        cmocka_unit_test(stix_common_simple_properties),
        cmocka_unit_test(stix_common_external_references),
        cmocka_unit_test(stix_common_granular_markings),
        cmocka_unit_test(stix_common_extensions),
        cmocka_unit_test(stix_required_properties_of_every_type),
        cmocka_unit_test(stix_indicator_rules),
        cmocka_unit_test(stix_indicator_other_pattern_types_are_not_parsed),
        cmocka_unit_test(stix_sighting_rules),
        cmocka_unit_test(stix_observed_data_rules),
        cmocka_unit_test(stix_observed_data_embedded_objects_are_deprecated),
        cmocka_unit_test(stix_relationship_rules),
        cmocka_unit_test(stix_sdo_value_rules),
        cmocka_unit_test(stix_location_without_country_keeps_lat_long_valid),
        cmocka_unit_test(stix_sco_value_rules),
        cmocka_unit_test(stix_marking_definition_rules),
        cmocka_unit_test(stix_custom_properties_and_objects),
        cmocka_unit_test(stix_custom_object_types),
        cmocka_unit_test(stix_duplicate_versions_warn),
        cmocka_unit_test(stix_long_paths_are_truncated),
        cmocka_unit_test(stix_indicator_view),
        cmocka_unit_test(stix_invalid_indicators_are_not_iterated),
        cmocka_unit_test(stix_problem_lines),
        cmocka_unit_test(stix_id_helpers),
        cmocka_unit_test(stix_out_of_memory_is_reported),
        cmocka_unit_test(stix_large_bundle_checks_in_order),
        cmocka_unit_test(stix_reads_on_two_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
