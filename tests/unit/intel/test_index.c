/*
 * test_index.c: the indicator index: every kind of value, exact versus
 * candidate hits, unindexed patterns, validity, caps and bad indicators.
 */
#include <string.h>

#include "tidewatch/alloc.h"
#include "tidewatch/index.h"
#include "tw_test.h"

#define ID(n) "indicator--00000000-0000-4000-8000-0000000000" #n

static json_t *indicator(const char *id, const char *pattern)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "indicator",
            "spec_version", "2.1", "id", id, "created", "2025-01-01T00:00:00.000Z", "modified",
            "2025-01-01T00:00:00.000Z", "pattern", pattern, "pattern_type", "stix");

    assert_non_null(o);
    assert_int_equal(json_object_set_new(o, "valid_from", json_string("2025-01-01T00:00:00Z")), 0);
    return o;
}

static void add(struct tw_index *idx, const char *id, const char *pattern)
{
    json_t *o = indicator(id, pattern);
    struct tw_err err;

    tw_err_clear(&err);
    if (tw_index_add(idx, o, 2, &err) != TW_OK)
        fail_msg("adding %s: %s", pattern, err.msg);
    json_decref(o);
}

/* Builds the index every test below searches. Indicator numbers follow the order. */
static struct tw_index *fixture(void)
{
    struct tw_index *idx = tw_index_new(1000);

    assert_non_null(idx);
    add(idx, ID(00), "[ipv4-addr:value = '203.0.113.17']");                /* 0 */
    add(idx, ID(01), "[ipv4-addr:value ISSUBSET '203.0.113.0/24']");       /* 1 */
    add(idx, ID(02), "[ipv6-addr:value = '2001:db8::41']");                /* 2 */
    add(idx, ID(03), "[domain-name:value = 'Evil.Example.']");             /* 3 */
    add(idx, ID(04), "[url:value = 'HTTP://Evil.Example:80/a%7Eb#frag']"); /* 4 */
    add(idx, ID(05),
            "[file:hashes.'SHA-256' = "
            "'AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899']");   /* 5 */
    add(idx, ID(06), "[network-traffic:x_ja3 = '6734f37431670b3ab4292b8f60f29984']"); /* 6 */
    add(idx, ID(07),
            "[network-traffic:dst_port = 57722 AND network-traffic:protocols[*] = 'tcp']"); /* 7 */
    add(idx, ID(08), "[file:size > 100]");                                                  /* 8 */
    add(idx, ID(09), "[network-traffic:dst_ref.value = '198.51.100.5']");                   /* 9 */
    add(idx, ID(10),
            "[email-addr:value = 'Ops@Evil.Example'] OR [ipv4-addr:value IN ('192.0.2.1', "
            "'192.0.2.2')]"); /* 10 */
    add(idx, ID(11),
            "[x509-certificate:hashes.'SHA-1' = '4e1243bd22c66e76c2ba9eddc1f91394e57f9f83']"); /* 11
                                                                                                */
    add(idx, ID(12),
            "[ipv4-addr:value = '203.0.113.17' OR ipv4-addr:value ISSUBSET '203.0.0.0/16']"); /* 12
                                                                                               */
    add(idx, ID(13), "[domain-name:value = 'a.example'] OR [file:name = 'x.bin']"); /* 13 */
    add(idx, ID(14),
            "[domain-name:value = 'sub.example' OR domain-name:value LIKE '%.sub.example']"); /* 14
                                                                                               */
    add(idx, ID(15),
            "[network-traffic:protocols[*] = 'tcp' AND network-traffic:dst_port = 4444]"); /* 15 */
    assert_int_equal(tw_index_build(idx), TW_OK);
    return idx;
}

static bool has(const uint32_t *v, size_t n, uint32_t want)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == want)
            return true;
    return false;
}

static void index_addresses_return_every_containing_indicator(void **state)
{
    struct tw_index *idx = fixture();
    uint32_t out[16];
    size_t n;
    struct tw_ip ip;

    (void)state;
    n = tw_index_lookup_ipv4(idx, 0xCB007111u /* 203.0.113.17 */, out, 16);
    assert_int_equal(n, 3); /* 0, 1 and 12 (12 names it twice: reported once) */
    assert_true(has(out, n, 0) && has(out, n, 1) && has(out, n, 12));
    n = tw_index_lookup_ipv4(idx, 0xCB007101u /* 203.0.113.1 */, out, 16);
    assert_int_equal(n, 2);
    assert_true(has(out, n, 1) && has(out, n, 12));
    n = tw_index_lookup_ipv4(idx, 0xCB000101u /* 203.0.1.1 */, out, 16);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 12);
    assert_int_equal(tw_index_lookup_ipv4(idx, 0x08080808u, out, 16), 0);
    assert_int_equal(tw_ip_parse(TW_STR("2001:db8::41"), &ip, NULL), TW_OK);
    assert_int_equal(tw_index_lookup_ip(idx, &ip, out, 16), 1);
    assert_int_equal(out[0], 2);
    assert_int_equal(tw_index_lookup_ipv4(idx, 0xC0000202u /* 192.0.2.2 */, out, 16), 1);
    assert_int_equal(out[0], 10);
    tw_index_free(idx);
}

static void index_strings_are_normalised(void **state)
{
    struct tw_index *idx = fixture();
    uint32_t out[16];

    (void)state;
    assert_int_equal(tw_index_lookup_domain(idx, TW_STR("evil.example"), out, 16), 1);
    assert_int_equal(out[0], 3);
    assert_int_equal(tw_index_lookup_domain(idx, TW_STR("www.evil.example"), out, 16), 0);
    assert_int_equal(
            tw_index_lookup_str(idx, TW_INDEX_URL, TW_STR("http://evil.example/a~b"), out, 16), 1);
    assert_int_equal(out[0], 4);
    assert_int_equal(
            tw_index_lookup_str(idx, TW_INDEX_FILE_HASH,
                    TW_STR("aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899"), out,
                    16),
            1);
    assert_int_equal(
            tw_index_lookup_str(idx, TW_INDEX_EMAIL, TW_STR("ops@evil.example"), out, 16), 1);
    assert_int_equal(out[0], 10);
    assert_int_equal(tw_index_lookup_str(idx, TW_INDEX_JA3,
                             TW_STR("6734f37431670b3ab4292b8f60f29984"), out, 16),
            1);
    assert_int_equal(tw_index_lookup_str(idx, TW_INDEX_CERT_HASH,
                             TW_STR("4e1243bd22c66e76c2ba9eddc1f91394e57f9f83"), out, 16),
            1);
    assert_int_equal(out[0], 11);
    tw_index_free(idx);
}

static void index_exactness_and_verification(void **state)
{
    struct tw_index *idx = fixture();
    const uint32_t *un;
    size_t n_un;
    uint32_t out[4];

    (void)state;
    assert_true(tw_index_get(idx, 0)->flags & TW_IND_EXACT);
    assert_null(tw_index_pattern(idx, 0));
    assert_true(tw_index_get(idx, 10)->flags & TW_IND_EXACT);
    /* The port alone is a candidate: the pattern also asks for TCP. */
    assert_int_equal(tw_index_lookup_port(idx, 57722, true, out, 4), 1);
    assert_int_equal(out[0], 7);
    assert_false(tw_index_get(idx, 7)->flags & TW_IND_EXACT);
    assert_non_null(tw_index_pattern(idx, 7));
    assert_int_equal(tw_index_lookup_port(idx, 57722, false, out, 4), 0);
    /* A direction is a condition the address index does not check. */
    assert_int_equal(tw_index_lookup_ipv4(idx, 0xC6336405u, out, 4), 1);
    assert_false(tw_index_get(idx, 9)->flags & TW_IND_EXACT);
    /* No atoms at all, or an atom the index cannot hold: verify everywhere. */
    un = tw_index_unindexed(idx, &n_un);
    assert_int_equal(n_un, 2);
    assert_true(has(un, n_un, 8) && has(un, n_un, 13));
    assert_true(tw_index_get(idx, 13)->flags & TW_IND_UNINDEXED);
    assert_int_equal(tw_index_lookup_domain(idx, TW_STR("a.example"), out, 4), 0);
    tw_index_free(idx);
}

static void index_domain_suffix_from_like(void **state)
{
    struct tw_index *idx = fixture();
    uint32_t out[4];

    (void)state;
    /* LIKE '%.sub.example' names every subdomain: a candidate, verified later. */
    assert_int_equal(tw_index_lookup_domain(idx, TW_STR("deep.www.sub.example"), out, 4), 1);
    assert_int_equal(out[0], 14);
    assert_int_equal(tw_index_lookup_domain(idx, TW_STR("sub.example"), out, 4), 1);
    assert_int_equal(tw_index_lookup_domain(idx, TW_STR("xsub.example"), out, 4), 0);
    assert_false(tw_index_get(idx, 14)->flags & TW_IND_EXACT);
    assert_non_null(tw_index_pattern(idx, 14));
    tw_index_free(idx);
}

static void index_conjunction_uses_the_indexable_side(void **state)
{
    struct tw_index *idx = fixture();
    uint32_t out[4];

    (void)state;
    /* protocols[*] comes first but the index cannot hold it: the port is used. */
    assert_false(tw_index_get(idx, 15)->flags & TW_IND_UNINDEXED);
    assert_int_equal(tw_index_lookup_port(idx, 4444, true, out, 4), 1);
    assert_int_equal(out[0], 15);
    tw_index_free(idx);
}

static void index_text_lookup_classifies(void **state)
{
    struct tw_index *idx = fixture();
    enum tw_index_kind kind;
    uint32_t out[8];

    (void)state;
    assert_int_equal(tw_index_lookup_text(idx, TW_STR(" 203.0.113.17 "), &kind, out, 8), 3);
    assert_int_equal(kind, TW_INDEX_ADDR);
    assert_int_equal(tw_index_lookup_text(idx, TW_STR("EVIL.example"), &kind, out, 8), 1);
    assert_int_equal(kind, TW_INDEX_DOMAIN);
    assert_int_equal(
            tw_index_lookup_text(idx, TW_STR("http://evil.example/a%7eb"), &kind, out, 8), 1);
    assert_int_equal(kind, TW_INDEX_URL);
    assert_int_equal(
            tw_index_lookup_text(idx, TW_STR("6734F37431670B3AB4292B8F60F29984"), &kind, out, 8),
            1);
    assert_int_equal(kind, TW_INDEX_JA3);
    assert_int_equal(tw_index_lookup_text(idx, TW_STR("ops@evil.example"), &kind, out, 8), 1);
    assert_true(tw_index_lookup_text(idx, TW_STR("not a thing!"), &kind, out, 8) < 0);
    tw_index_free(idx);
}

static void index_validity_states(void **state)
{
    struct tw_index *idx = tw_index_new(10);
    json_t *a = indicator(ID(00), "[ipv4-addr:value = '192.0.2.1']");
    json_t *b = indicator(ID(01), "[ipv4-addr:value = '192.0.2.2']");

    (void)state;
    assert_int_equal(json_object_set_new(a, "valid_until", json_string("2025-06-01T00:00:00Z")), 0);
    assert_int_equal(json_object_set_new(b, "revoked", json_true()), 0);
    assert_int_equal(tw_index_add(idx, a, 0, NULL), TW_OK);
    assert_int_equal(tw_index_add(idx, b, 0, NULL), TW_OK);
    assert_int_equal(tw_index_build(idx), TW_OK);
    assert_int_equal(tw_index_state(idx, 0, 1700000000), TW_IND_NOT_YET_VALID); /* 2023 */
    assert_int_equal(tw_index_state(idx, 0, 1740000000), TW_IND_ACTIVE);        /* 2025-02 */
    assert_int_equal(tw_index_state(idx, 0, 1750000000), TW_IND_EXPIRED);       /* 2025-06-15 */
    assert_int_equal(tw_index_state(idx, 1, 1740000000), TW_IND_STATE_REVOKED);
    json_decref(a);
    json_decref(b);
    tw_index_free(idx);
}

static void index_rejects_bad_indicators_whole(void **state)
{
    struct tw_index *idx = tw_index_new(2);
    struct tw_err err;
    json_t *o;
    uint32_t out[4];
    char id[64];

    (void)state;
    /* A bad address in the second disjunct: nothing of the indicator stays. */
    o = indicator(ID(00), "[ipv4-addr:value = '192.0.2.1' OR ipv4-addr:value = '2001:db8::1']");
    assert_int_equal(tw_index_add(idx, o, 0, &err), TW_EINVAL);
    json_decref(o);
    o = indicator(ID(01), "[ipv4-addr:value = '192.0.2.1'");
    assert_int_equal(tw_index_add(idx, o, 0, &err), TW_ESYNTAX);
    json_decref(o);
    o = indicator("indicator--nope", "[ipv4-addr:value = '192.0.2.1']");
    assert_int_equal(tw_index_add(idx, o, 0, &err), TW_EINVAL);
    json_decref(o);
    o = indicator(ID(02), "[ipv4-addr:value = '192.0.2.3']");
    assert_int_equal(json_object_set_new(o, "pattern_type", json_string("snort")), 0);
    assert_int_equal(tw_index_add(idx, o, 0, &err), TW_EINVAL);
    json_decref(o);
    o = indicator(ID(03), "[ipv4-addr:value = '192.0.2.3']");
    assert_int_equal(json_object_set_new(o, "name", json_string("third")), 0);
    assert_int_equal(tw_index_add(idx, o, 0, &err), TW_OK);
    json_decref(o);
    o = indicator(ID(04), "[ipv4-addr:value = '192.0.2.4']");
    assert_int_equal(tw_index_add(idx, o, 0, &err), TW_OK);
    json_decref(o);
    o = indicator(ID(05), "[ipv4-addr:value = '192.0.2.5']");
    assert_int_equal(tw_index_add(idx, o, 0, &err), TW_ELIMIT); /* cap of 2 */
    json_decref(o);
    assert_int_equal(tw_index_build(idx), TW_OK);
    assert_int_equal(tw_index_count(idx), 2);
    assert_int_equal(tw_index_lookup_ipv4(idx, 0xC0000201u, out, 4), 0);
    assert_int_equal(tw_index_lookup_ipv4(idx, 0xC0000203u, out, 4), 1);
    assert_int_equal(out[0], 0);
    assert_string_equal(tw_index_name(idx, 0), "third");
    assert_string_equal(tw_index_name(idx, 1), "");
    tw_index_id(idx, 0, id);
    assert_string_equal(id, ID(03));
    tw_index_free(idx);
}

static void index_survives_allocation_failures(void **state)
{
    (void)state;
    for (long n = 0; n < 400; n++) {
        struct tw_index *idx;
        json_t *o = indicator(ID(00), "[domain-name:value = 'x.example' OR url:value = "
                                      "'http://x.example/' OR ipv4-addr:value = '192.0.2.9']");

        tw_alloc_fail_after(n);
        idx = tw_index_new(10);
        if (idx != NULL) {
            if (tw_index_add(idx, o, 0, NULL) == TW_OK)
                if (tw_index_build(idx) != TW_OK)
                    assert_true(tw_index_count(idx) <= 1);
            tw_index_free(idx);
        }
        tw_alloc_fail_reset();
        json_decref(o);
    }
}

static void index_reports_memory_and_counts(void **state)
{
    struct tw_index *idx = fixture();

    (void)state;
    assert_int_equal(tw_index_count(idx), 16);
    assert_int_equal(tw_index_kind_count(idx, TW_INDEX_ADDR), 8);
    assert_int_equal(tw_index_kind_count(idx, TW_INDEX_DOMAIN), 3);
    assert_true(tw_index_memory(idx) > 0);
    assert_string_equal(tw_index_kind_name(TW_INDEX_CERT_HASH), "cert-hash");
    tw_index_free(idx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(index_addresses_return_every_containing_indicator),
        cmocka_unit_test(index_strings_are_normalised),
        cmocka_unit_test(index_exactness_and_verification),
        cmocka_unit_test(index_domain_suffix_from_like),
        cmocka_unit_test(index_conjunction_uses_the_indexable_side),
        cmocka_unit_test(index_text_lookup_classifies),
        cmocka_unit_test(index_validity_states),
        cmocka_unit_test(index_rejects_bad_indicators_whole),
        cmocka_unit_test(index_survives_allocation_failures),
        cmocka_unit_test(index_reports_memory_and_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
