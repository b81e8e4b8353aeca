/*
 * test_pattern_match.c: evaluating STIX 2.1 patterns against observations:
 * every comparison operator with its coercions, object paths with list
 * indexes and references, observation operators and qualifiers, malformed
 * observations and the work cap.
 */
#include <string.h>

#include <jansson.h>

#include "tidewatch/alloc.h"
#include "tidewatch/err.h"
#include "tidewatch/pattern.h"
#include "tw_test.h"

/* ==== Fixtures ==== */

/* One observation holding a rich set of objects. */
static const char *const one_obs =
        "[{\"first_observed\": \"2024-01-01T00:00:00Z\", \"last_observed\": "
        "\"2024-01-01T00:00:10Z\","
        " \"number_observed\": 1, \"objects\": {"
        "  \"0\": {\"type\": \"ipv4-addr\", \"value\": \"198.51.100.1\"},"
        "  \"1\": {\"type\": \"ipv4-addr\", \"value\": \"10.1.2.3\"},"
        "  \"2\": {\"type\": \"network-traffic\", \"src_ref\": \"1\", \"dst_ref\": \"0\","
        "         \"dst_port\": 443, \"src_byte_count\": 1500.5, \"protocols\": [\"ipv4\", "
        "\"tcp\"],"
        "         \"start\": \"2024-01-01T00:00:01.500Z\", \"is_active\": false,"
        "         \"extensions\": {\"tcp-ext\": {\"src_flags_hex\": \"0002\"},"
        "                          \"http-request-ext\": {\"request_value\": \"/index.html\"}}},"
        "  \"3\": {\"type\": \"file\", \"name\": \"report.exe\", \"size\": 1024,"
        "         \"hashes\": {\"SHA-256\": \"aa11\", \"MD5\": \"bb22\"},"
        "         \"magic_number_hex\": \"FFD8\"},"
        "  \"4\": {\"type\": \"artifact\", \"payload_bin\": \"aGVsbG8=\"},"
        "  \"5\": {\"type\": \"domain-name\", \"value\": \"example.com\","
        "         \"resolves_to_refs\": [\"0\", \"6\"]},"
        "  \"6\": {\"type\": \"ipv6-addr\", \"value\": \"2001:db8::1\"},"
        "  \"7\": {\"type\": \"x-net\", \"cidr\": \"10.0.0.0/8\", \"name\": \"\\u00e9t\\u00e9\"}"
        "}}]";

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);

    if (j == NULL)
        fail_msg("bad fixture JSON: %s", jerr.text);
    return j;
}

/* Evaluates pattern against observations (JSON text); fails the test on any error. */
static bool match(const char *pattern, const char *observations)
{
    struct tw_pattern *p = NULL;
    struct tw_err err;
    json_t *obs = load(observations);
    bool matched = false;
    int rc = tw_pattern_parse(tw_str_cstr(pattern), &p, &err);

    if (rc != TW_OK)
        fail_msg("pattern rejected: %s: %s", pattern, err.msg);
    rc = tw_pattern_match(p, obs, &matched, &err);
    if (rc != TW_OK)
        fail_msg("match failed: %s: %s", pattern, err.msg);
    tw_pattern_free(p);
    json_decref(obs);
    return matched;
}

static int match_rc(const char *pattern, const char *observations)
{
    struct tw_pattern *p = NULL;
    struct tw_err err;
    json_t *obs = load(observations);
    bool matched = true;
    int rc = tw_pattern_parse(tw_str_cstr(pattern), &p, &err);

    assert_int_equal(rc, TW_OK);
    rc = tw_pattern_match(p, obs, &matched, &err);
    if (rc != TW_OK)
        assert_false(matched);
    tw_pattern_free(p);
    json_decref(obs);
    return rc;
}

#define M(pat)  assert_true(match(pat, one_obs))
#define NM(pat) assert_false(match(pat, one_obs))

/* ==== Comparisons ==== */

static void match_equality_and_order(void **state)
{
    (void)state;
    M("[file:name = 'report.exe']");
    NM("[file:name = 'report.EXE']");
    M("[file:name != 'other.exe']");
    NM("[file:name != 'report.exe']");
    M("[file:name NOT = 'other.exe']");
    M("[file:size = 1024]");
    M("[file:size = 1024.0]");
    M("[file:size < 2048] AND [file:size <= 1024] AND [file:size > 1000] AND [file:size >= 1024]");
    NM("[file:size > 1024]");
    NM("[file:size < 1024]");
    M("[network-traffic:src_byte_count > 1500]");
    M("[network-traffic:src_byte_count = 1500.5]");
    M("[file:name > 'report']");
    M("[file:name < 'reporu']");
    /* Strings compare by code point: e-acute (U+00E9) sorts after 'z'. */
    M("[x-net:name > 'z']");
    M("[x-net:name = '\xc3\xa9t\xc3\xa9']");
    /* A string literal never equals a number and vice versa, with or without NOT. */
    NM("[file:size = '1024']");
    NM("[file:size NOT = '1024']");
    NM("[file:name = 5]");
    /* Booleans. */
    M("[network-traffic:is_active = false]");
    NM("[network-traffic:is_active = true]");
    M("[network-traffic:is_active != true]");
    /* A missing property makes the comparison false, negated or not. */
    NM("[file:absent = 1]");
    NM("[file:absent NOT = 1]");
    NM("[email-message:subject = 'x']");
}

static void match_timestamps_and_binary(void **state)
{
    (void)state;
    M("[network-traffic:start = t'2024-01-01T00:00:01.5Z']");
    M("[network-traffic:start > t'2024-01-01T00:00:01Z']");
    NM("[network-traffic:start > t'2024-01-01T00:00:02Z']");
    M("[network-traffic:start <= t'2024-01-01T00:00:01.500000Z']");
    /* The same property compared as a string is a plain string comparison. */
    M("[network-traffic:start = '2024-01-01T00:00:01.500Z']");
    NM("[network-traffic:start = '2024-01-01T00:00:01.5Z']");
    /* A timestamp literal against a non-timestamp string does not compare. */
    NM("[file:name = t'2024-01-01T00:00:00Z']");
    /* Hex literals against hex properties, in any case. */
    M("[file:magic_number_hex = h'ffd8']");
    NM("[file:magic_number_hex = h'ffd9']");
    M("[network-traffic:extensions.'tcp-ext'.src_flags_hex = h'0002']");
    M("[network-traffic:extensions.'tcp-ext'.src_flags_hex > h'0001']");
    /* Binary literals and base64 properties, and hex literals against base64 properties. */
    M("[artifact:payload_bin = b'aGVsbG8=']");
    M("[artifact:payload_bin = h'68656c6c6f']");
    NM("[artifact:payload_bin = b'aGVsbG9v']");
    M("[file:magic_number_hex = b'/9g=']");
}

static void match_set_like_regex(void **state)
{
    (void)state;
    M("[network-traffic:dst_port IN (80, 443)]");
    NM("[network-traffic:dst_port IN (80, 8080)]");
    M("[network-traffic:dst_port NOT IN (80, 8080)]");
    NM("[network-traffic:dst_port NOT IN (443)]");
    NM("[network-traffic:dst_port NOT IN ('443')]");
    M("[file:name IN ('a', 'report.exe')]");
    M("[file:name LIKE 'report%']");
    M("[file:name LIKE '%.exe']");
    M("[file:name LIKE 'r_port.e%e']");
    M("[file:name LIKE '%']");
    NM("[file:name LIKE 'report']");
    NM("[file:name LIKE '%.dll']");
    M("[file:name NOT LIKE '%.dll']");
    M("[x-net:name LIKE '_t_']");
    NM("[x-net:name LIKE '__t__']");
    M("[file:name MATCHES '^rep.rt\\\\.exe$']");
    M("[file:name MATCHES 'exe']");
    NM("[file:name MATCHES '^exe']");
    M("[file:name NOT MATCHES '^exe']");
    M("[x-net:name MATCHES '^.t.$']");
    NM("[file:size MATCHES '1024']");
}

static void match_cidr_and_exists(void **state)
{
    (void)state;
    M("[ipv4-addr:value ISSUBSET '198.51.100.0/24']");
    M("[ipv4-addr:value ISSUBSET '10.0.0.0/8']");
    NM("[ipv4-addr:value ISSUBSET '192.0.2.0/24']");
    M("[ipv4-addr:value ISSUBSET '198.51.100.1']");
    M("[ipv4-addr:value ISSUBSET '0.0.0.0/0']");
    M("[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']");
    M("[ipv4-addr:value ISSUPERSET '198.51.100.1/32']");
    NM("[ipv4-addr:value ISSUPERSET '198.51.100.0/24']");
    /* An ipv4-addr value may itself be a network. */
    assert_true(match("[ipv4-addr:value ISSUPERSET '10.9.0.0/16']",
            "[{\"first_observed\": \"2024-01-01T00:00:00Z\", \"objects\": {\"0\": "
            "{\"type\": \"ipv4-addr\", \"value\": \"10.0.0.0/8\"}}}]"));
    assert_false(match("[ipv4-addr:value ISSUPERSET '10.0.0.0/7']",
            "[{\"first_observed\": \"2024-01-01T00:00:00Z\", \"objects\": {\"0\": "
            "{\"type\": \"ipv4-addr\", \"value\": \"10.0.0.0/8\"}}}]"));
    M("[ipv6-addr:value ISSUBSET '2001:db8::/32']");
    NM("[ipv6-addr:value ISSUBSET '2001:db9::/32']");
    M("[network-traffic:dst_ref.value ISSUBSET '198.51.100.0/25']");
    NM("[network-traffic:dst_ref.value ISSUBSET '198.51.100.128/25']");
    M("[domain-name:resolves_to_refs[*].value ISSUBSET '2001:db8::/64']");
    M("[EXISTS file:hashes.MD5]");
    NM("[EXISTS file:hashes.'SHA-1']");
    M("[EXISTS network-traffic:extensions.'http-request-ext']");
}

static void match_paths_and_references(void **state)
{
    (void)state;
    M("[file:hashes.'SHA-256' = 'aa11']");
    M("[file:hashes.MD5 = 'bb22']");
    M("[network-traffic:protocols[*] = 'tcp']");
    NM("[network-traffic:protocols[*] = 'udp']");
    M("[network-traffic:protocols[0] = 'ipv4']");
    M("[network-traffic:protocols[-1] = 'tcp']");
    NM("[network-traffic:protocols[2] = 'tcp']");
    NM("[network-traffic:protocols[-3] = 'ipv4']");
    M("[network-traffic:protocols[*] NOT = 'tcp']");
    M("[network-traffic:dst_ref.value = '198.51.100.1']");
    M("[network-traffic:src_ref.value = '10.1.2.3']");
    NM("[network-traffic:dst_ref.value = '10.1.2.3']");
    M("[network-traffic:dst_ref.type = 'ipv4-addr']");
    M("[network-traffic:dst_ref = '0']");
    M("[domain-name:resolves_to_refs[*].value = '2001:db8::1']");
    M("[domain-name:resolves_to_refs[0].value = '198.51.100.1']");
    NM("[domain-name:resolves_to_refs[1].value = '198.51.100.1']");
    M("[network-traffic:extensions.'http-request-ext'.request_value = '/index.html']");
    NM("[file:name.sub = 'x']");
    NM("[file:name[0] = 'x']");
}

static void match_binds_types_to_objects(void **state)
{
    (void)state;
    /* Comparisons on one type joined by AND must hold on the same object. */
    NM("[ipv4-addr:value = '198.51.100.1' AND ipv4-addr:value = '10.1.2.3']");
    M("[ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value = '192.0.2.1']");
    M("[ipv4-addr:value = '10.1.2.3' AND ipv4-addr:value ISSUBSET '10.0.0.0/8']");
    /* Different types bind to different objects of the same observation. */
    M("[file:name = 'report.exe' AND ipv4-addr:value = '10.1.2.3']");
    NM("[file:name = 'report.exe' AND ipv4-addr:value = '192.0.2.1']");
    M("[(file:size = 1 OR domain-name:value = 'example.com') AND ipv6-addr:value = "
      "'2001:db8::1']");
    /* Two observations: the two objects are not in the same observation. */
    assert_false(match("[ipv4-addr:value = '1.1.1.1' AND file:name = 'x']",
            "[{\"first_observed\": \"2024-01-01T00:00:00Z\", \"objects\": {\"0\": {\"type\": "
            "\"ipv4-addr\", \"value\": \"1.1.1.1\"}}},"
            " {\"first_observed\": \"2024-01-01T00:00:00Z\", \"objects\": {\"0\": {\"type\": "
            "\"file\", \"name\": \"x\"}}}]"));
    assert_true(match("[ipv4-addr:value = '1.1.1.1'] AND [file:name = 'x']",
            "[{\"first_observed\": \"2024-01-01T00:00:00Z\", \"objects\": {\"0\": {\"type\": "
            "\"ipv4-addr\", \"value\": \"1.1.1.1\"}}},"
            " {\"first_observed\": \"2024-01-01T00:00:00Z\", \"objects\": {\"0\": {\"type\": "
            "\"file\", \"name\": \"x\"}}}]"));
}

/* ==== Observation expressions ==== */

/* Four observations of ipv4-addr values a, b, a, c at t = 0, 10, 20, 100 seconds. */
static const char *const timeline =
        "[{\"first_observed\": \"2024-01-01T00:00:00Z\", \"last_observed\": "
        "\"2024-01-01T00:00:01Z\","
        "  \"objects\": {\"0\": {\"type\": \"ipv4-addr\", \"value\": \"10.0.0.1\"}}},"
        " {\"first_observed\": \"2024-01-01T00:00:10Z\", \"last_observed\": "
        "\"2024-01-01T00:00:10Z\","
        "  \"objects\": {\"0\": {\"type\": \"ipv4-addr\", \"value\": \"10.0.0.2\"}}},"
        " {\"first_observed\": \"2024-01-01T00:00:20Z\", \"last_observed\": "
        "\"2024-01-01T00:00:25Z\","
        "  \"objects\": {\"0\": {\"type\": \"ipv4-addr\", \"value\": \"10.0.0.1\"}}},"
        " {\"first_observed\": \"2024-01-01T00:01:40Z\", \"last_observed\": "
        "\"2024-01-01T00:01:40Z\","
        "  \"objects\": {\"0\": {\"type\": \"ipv4-addr\", \"value\": \"10.0.0.3\"}}}]";

#define A        "[ipv4-addr:value = '10.0.0.1']"
#define B        "[ipv4-addr:value = '10.0.0.2']"
#define C        "[ipv4-addr:value = '10.0.0.3']"
#define Z        "[ipv4-addr:value = '10.0.0.9']"
#define TM(pat)  assert_true(match(pat, timeline))
#define TNM(pat) assert_false(match(pat, timeline))

static void match_observation_operators(void **state)
{
    (void)state;
    TM(A);
    TNM(Z);
    TM(A " AND " B);
    TM(A " AND " A);
    TNM(A " AND " Z);
    TM(A " OR " Z);
    TM(Z " OR " C);
    TNM(Z " OR " Z);
    /* FOLLOWEDBY orders by first_observed, strictly. */
    TM(A " FOLLOWEDBY " B);
    TM(B " FOLLOWEDBY " A);
    TNM(C " FOLLOWEDBY " A);
    TM(A " FOLLOWEDBY " B " FOLLOWEDBY " C);
    TNM(B " FOLLOWEDBY " A " FOLLOWEDBY " B);
    TM(B " FOLLOWEDBY " A " FOLLOWEDBY " C);
    TNM(B " FOLLOWEDBY " B);
    TM("(" A " AND " B ") FOLLOWEDBY " C);
    TNM("(" A " AND " C ") FOLLOWEDBY " B);
    TM(A " FOLLOWEDBY (" B " OR " Z ")");
}

static void match_qualifiers(void **state)
{
    (void)state;
    /* WITHIN: every matched observation inside one window, first to last. */
    TM(A " AND " B " WITHIN 10 SECONDS");
    TM("(" A " AND " B ") WITHIN 10 SECONDS");
    TNM("(" A " AND " C ") WITHIN 60 SECONDS");
    TM("(" A " AND " C ") WITHIN 80 SECONDS");
    TM("(" A " FOLLOWEDBY " B ") WITHIN 10.5 SECONDS");
    TNM("(" A " FOLLOWEDBY " B ") WITHIN 9.5 SECONDS");
    TNM("(" B " FOLLOWEDBY " C ") WITHIN 60 SECONDS");
    /* The window takes last_observed into account: A at 20..25 and B at 10. */
    TM("(" B " FOLLOWEDBY " A ") WITHIN 15 SECONDS");
    TNM("(" B " FOLLOWEDBY " A ") WITHIN 14 SECONDS");
    /* REPEATS: distinct observations. */
    TM(A " REPEATS 2 TIMES");
    TNM(A " REPEATS 3 TIMES");
    TNM(B " REPEATS 2 TIMES");
    TM("(" A " OR " B ") REPEATS 3 TIMES");
    TNM("(" A " OR " B ") REPEATS 4 TIMES");
    TM("[ipv4-addr:value ISSUBSET '10.0.0.0/24'] REPEATS 4 TIMES");
    TNM("[ipv4-addr:value ISSUBSET '10.0.0.0/24'] REPEATS 4 TIMES WITHIN 60 SECONDS");
    TM("[ipv4-addr:value ISSUBSET '10.0.0.0/24'] REPEATS 3 TIMES WITHIN 25 SECONDS");
    TNM("[ipv4-addr:value ISSUBSET '10.0.0.0/24'] REPEATS 3 TIMES WITHIN 24 SECONDS");
    TM("(" A " FOLLOWEDBY " B ") REPEATS 1 TIMES");
    TNM("(" A " FOLLOWEDBY " B ") REPEATS 2 TIMES");
    /* Both repetitions would need the single B observation. */
    TNM("(" A " AND " B ") REPEATS 2 TIMES");
    TM("(" A " AND (" B " OR " C ")) REPEATS 2 TIMES");
    /* START/STOP: observations inside [start, stop). */
    TM(C " START t'2024-01-01T00:01:00Z' STOP t'2024-01-01T00:02:00Z'");
    TNM(C " START t'2024-01-01T00:00:00Z' STOP t'2024-01-01T00:01:40Z'");
    TM(A " START t'2024-01-01T00:00:15Z' STOP t'2024-01-01T00:00:26Z'");
    TNM(A " START t'2024-01-01T00:00:15Z' STOP t'2024-01-01T00:00:25Z'");
    TNM(A " REPEATS 2 TIMES START t'2024-01-01T00:00:15Z' STOP t'2024-01-01T00:00:26Z'");
    TM(A " REPEATS 2 TIMES START t'2024-01-01T00:00:00Z' STOP t'2024-01-01T00:00:26Z'");
    TM("(" A " FOLLOWEDBY " C ") START t'2024-01-01T00:00:00Z' STOP t'2024-01-02T00:00:00Z'");
    TNM(A " FOLLOWEDBY " B " START t'2024-01-01T00:00:11Z' STOP t'2024-01-02T00:00:00Z'");
    TM(A " FOLLOWEDBY " A " START t'2024-01-01T00:00:11Z' STOP t'2024-01-02T00:00:00Z'");
}

static void match_rejects_malformed_observations(void **state)
{
    (void)state;
    assert_int_equal(match_rc(A, "{}"), TW_EINVAL);
    assert_int_equal(match_rc(A, "[1]"), TW_EINVAL);
    assert_int_equal(match_rc(A, "[{\"first_observed\": \"2024-01-01T00:00:00Z\"}]"), TW_EINVAL);
    assert_int_equal(match_rc(A, "[{\"objects\": {}}]"), TW_EINVAL);
    assert_int_equal(
            match_rc(A, "[{\"first_observed\": \"yesterday\", \"objects\": {}}]"), TW_EINVAL);
    assert_int_equal(match_rc(A, "[{\"first_observed\": \"2024-01-01T00:00:10Z\", "
                                 "\"last_observed\": \"2024-01-01T00:00:00Z\", \"objects\": {}}]"),
            TW_EINVAL);
    assert_int_equal(match_rc(A, "[{\"first_observed\": \"2024-01-01T00:00:00Z\", "
                                 "\"number_observed\": 0, \"objects\": {}}]"),
            TW_EINVAL);
    /* Odd but well-formed objects are just data. */
    assert_false(match(A, "[{\"first_observed\": \"2024-01-01T00:00:00Z\", \"objects\": "
                          "{\"0\": 5, \"1\": {\"type\": 7}, \"2\": {\"value\": \"10.0.0.1\"}}}]"));
    assert_false(match("[network-traffic:dst_ref.value = 'x']",
            "[{\"first_observed\": \"2024-01-01T00:00:00Z\", \"objects\": "
            "{\"0\": {\"type\": \"network-traffic\", \"dst_ref\": \"0\"}}}]"));
    assert_false(match(A, "[]"));
}

static void match_caps_the_work(void **state)
{
    json_t *obs = json_array();
    struct tw_pattern *p = NULL;
    struct tw_err err;
    bool matched = true;

    (void)state;
    /* 40 matching observations an hour apart: eight-way AND within one second explores 40^8. */
    for (int i = 0; i < 40; i++) {
        char buf[256];
        (void)snprintf(buf, sizeof(buf),
                "{\"first_observed\": \"2024-01-%02dT%02d:00:00Z\", \"objects\": {\"0\": "
                "{\"type\": \"ipv4-addr\", \"value\": \"10.0.0.1\"}}}",
                1 + i / 24, i % 24);
        json_array_append_new(obs, load(buf));
    }
    /* A side with no match ends the search at once. */
    assert_int_equal(
            tw_pattern_parse(tw_str_cstr("(" B " AND " A " AND " A " AND " A " AND " A " AND " A
                                         " AND " A " AND " A ") WITHIN 1 SECONDS"),
                    &p, &err),
            TW_OK);
    assert_int_equal(tw_pattern_match(p, obs, &matched, &err), TW_OK);
    assert_false(matched);
    tw_pattern_free(p);
    assert_int_equal(
            tw_pattern_parse(tw_str_cstr("(" A " AND " A " AND " A " AND " A " AND " A " AND " A
                                         " AND " A " AND " A ") WITHIN 1 SECONDS FOLLOWEDBY " B),
                    &p, &err),
            TW_OK);
    assert_int_equal(tw_pattern_match(p, obs, &matched, &err), TW_ELIMIT);
    assert_false(matched);
    tw_pattern_free(p);
    json_decref(obs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(match_equality_and_order),
        cmocka_unit_test(match_timestamps_and_binary),
        cmocka_unit_test(match_set_like_regex),
        cmocka_unit_test(match_cidr_and_exists),
        cmocka_unit_test(match_paths_and_references),
        cmocka_unit_test(match_binds_types_to_objects),
        cmocka_unit_test(match_observation_operators),
        cmocka_unit_test(match_qualifiers),
        cmocka_unit_test(match_rejects_malformed_observations),
        cmocka_unit_test(match_caps_the_work),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
