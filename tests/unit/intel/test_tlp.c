/*
 * test_tlp.c: TLP levels, names, marking ids of both generations, and the TLP
 * of objects and of single properties, alone and inside a bundle
 * (tests/data/stix/tlp-markings.json) that redeclares TLP under a local id.
 */
#include <string.h>

#include "tidewatch/stix.h"
#include "tidewatch/tlp.h"
#include "tw_test.h"

#define W1 "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
#define G1 "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
#define A1 "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
#define R1 "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
#define C2 "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
#define G2 "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
#define A2 "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
#define AS "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
#define R2 "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

static json_t *parse(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, 0, &je);

    assert_non_null(v);
    return v;
}

static void tlp_names_print(void **state)
{
    (void)state;
    assert_string_equal(tw_tlp_name(TW_TLP_CLEAR), "TLP:CLEAR");
    assert_string_equal(tw_tlp_name(TW_TLP_GREEN), "TLP:GREEN");
    assert_string_equal(tw_tlp_name(TW_TLP_AMBER), "TLP:AMBER");
    assert_string_equal(tw_tlp_name(TW_TLP_AMBER_STRICT), "TLP:AMBER+STRICT");
    assert_string_equal(tw_tlp_name(TW_TLP_RED), "TLP:RED");
    assert_string_equal(tw_tlp_name(TW_TLP_NONE), "unmarked");
    assert_string_equal(tw_tlp_name((enum tw_tlp)99), "unmarked");
}

static void tlp_names_parse(void **state)
{
    enum tw_tlp l = TW_TLP_NONE;

    (void)state;
    assert_int_equal(tw_tlp_parse(TW_STR("amber+strict"), &l), TW_OK);
    assert_int_equal(l, TW_TLP_AMBER_STRICT);
    assert_int_equal(tw_tlp_parse(TW_STR("TLP:CLEAR"), &l), TW_OK);
    assert_int_equal(l, TW_TLP_CLEAR);
    assert_int_equal(tw_tlp_parse(TW_STR("white"), &l), TW_OK);
    assert_int_equal(l, TW_TLP_CLEAR);
    assert_int_equal(tw_tlp_parse(TW_STR("tlp:Red"), &l), TW_OK);
    assert_int_equal(l, TW_TLP_RED);
    assert_int_equal(tw_tlp_parse(TW_STR("GREEN"), &l), TW_OK);
    assert_int_equal(l, TW_TLP_GREEN);
    assert_int_equal(tw_tlp_parse(TW_STR("unmarked"), &l), TW_OK);
    assert_int_equal(l, TW_TLP_NONE);
    l = TW_TLP_RED;
    assert_int_equal(tw_tlp_parse(TW_STR("amber strict"), &l), TW_EINVAL);
    assert_int_equal(tw_tlp_parse(TW_STR("TLP:"), &l), TW_EINVAL);
    assert_int_equal(tw_tlp_parse(TW_STR(""), &l), TW_EINVAL);
    assert_int_equal(l, TW_TLP_RED);
}

static void tlp_order_is_by_restriction(void **state)
{
    (void)state;
    assert_true(TW_TLP_RED > TW_TLP_AMBER_STRICT);
    assert_true(TW_TLP_AMBER_STRICT > TW_TLP_AMBER);
    assert_true(TW_TLP_AMBER > TW_TLP_GREEN);
    assert_true(TW_TLP_GREEN > TW_TLP_CLEAR);
    assert_true(TW_TLP_CLEAR > TW_TLP_NONE);
    assert_int_equal(tw_tlp_max(TW_TLP_AMBER, TW_TLP_AMBER_STRICT), TW_TLP_AMBER_STRICT);
}

static void tlp_marking_ids_both_generations(void **state)
{
    static const struct {
        const char *id;
        enum tw_tlp level;
        int version;
    } cases[] = {
        { W1, TW_TLP_CLEAR, TW_TLP_V1 },
        { G1, TW_TLP_GREEN, TW_TLP_V1 },
        { A1, TW_TLP_AMBER, TW_TLP_V1 },
        { R1, TW_TLP_RED, TW_TLP_V1 },
        { C2, TW_TLP_CLEAR, TW_TLP_V2 },
        { G2, TW_TLP_GREEN, TW_TLP_V2 },
        { A2, TW_TLP_AMBER, TW_TLP_V2 },
        { AS, TW_TLP_AMBER_STRICT, TW_TLP_V2 },
        { R2, TW_TLP_RED, TW_TLP_V2 },
    };
    int v = -1;

    (void)state;
    for (size_t i = 0; i < TW_ARRAY_LEN(cases); i++) {
        assert_int_equal(tw_tlp_from_marking_id(tw_str_cstr(cases[i].id), &v), cases[i].level);
        assert_int_equal(v, cases[i].version);
        assert_string_equal(tw_tlp_marking_id(cases[i].level, cases[i].version), cases[i].id);
    }
    /* one character off, upper case, or truncated: not TLP */
    assert_int_equal(
            tw_tlp_from_marking_id(
                    TW_STR("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ec"), &v),
            TW_TLP_NONE);
    assert_int_equal(v, 0);
    assert_int_equal(
            tw_tlp_from_marking_id(
                    TW_STR("marking-definition--5E57C739-391A-4EB3-B6BE-7D15CA92D5ED"), NULL),
            TW_TLP_NONE);
    assert_int_equal(
            tw_tlp_from_marking_id(TW_STR("marking-definition--5e57c739"), NULL), TW_TLP_NONE);
    assert_null(tw_tlp_marking_id(TW_TLP_AMBER_STRICT, TW_TLP_V1));
    assert_null(tw_tlp_marking_id(TW_TLP_NONE, TW_TLP_V2));
}

static void tlp_from_definition_reads_both_generations(void **state)
{
    json_t *v1 = parse("{\"type\":\"marking-definition\",\"definition_type\":\"tlp\","
                       "\"definition\":{\"tlp\":\"amber\"}}");
    json_t *v2 =
            parse("{\"type\":\"marking-definition\",\"extensions\":{"
                  "\"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d\":"
                  "{\"extension_type\":\"property-extension\",\"tlp_2_0\":\"amber+strict\"}}}");
    json_t *bad = parse("{\"definition_type\":\"tlp\",\"definition\":{\"tlp\":\"amber+strict\"}}");
    json_t *stmt =
            parse("{\"definition_type\":\"statement\",\"definition\":{\"statement\":\"x\"}}");
    enum tw_tlp l = TW_TLP_NONE;
    int ver = 0;

    (void)state;
    assert_int_equal(tw_tlp_from_definition(v1, &l, &ver), TW_OK);
    assert_int_equal(l, TW_TLP_AMBER);
    assert_int_equal(ver, TW_TLP_V1);
    assert_int_equal(tw_tlp_from_definition(v2, &l, &ver), TW_OK);
    assert_int_equal(l, TW_TLP_AMBER_STRICT);
    assert_int_equal(ver, TW_TLP_V2);
    /* AMBER+STRICT does not exist in TLP 1.0 */
    assert_int_equal(tw_tlp_from_definition(bad, &l, &ver), TW_EINVAL);
    assert_int_equal(tw_tlp_from_definition(stmt, &l, &ver), TW_ENOTFOUND);
    assert_int_equal(tw_tlp_from_definition(NULL, &l, &ver), TW_ENOTFOUND);
    json_decref(v1);
    json_decref(v2);
    json_decref(bad);
    json_decref(stmt);
}

static void tlp_of_object_takes_most_restrictive(void **state)
{
    json_t *o = parse("{\"object_marking_refs\":[\"" G2 "\",\"" A1 "\",\"" W1 "\"]}");
    json_t *none = parse("{\"object_marking_refs\":[7, \"marking-definition--x\"]}");
    json_t *strict = parse("{\"object_marking_refs\":[\"" A2 "\",\"" AS "\"]}");

    (void)state;
    assert_int_equal(tw_tlp_of_object(o, NULL, NULL), TW_TLP_AMBER);
    assert_int_equal(tw_tlp_of_object(none, NULL, NULL), TW_TLP_NONE);
    assert_int_equal(tw_tlp_of_object(strict, NULL, NULL), TW_TLP_AMBER_STRICT);
    assert_int_equal(tw_tlp_of_object(NULL, NULL, NULL), TW_TLP_NONE);
    json_decref(o);
    json_decref(none);
    json_decref(strict);
}

static void tlp_selector_coverage(void **state)
{
    (void)state;
    assert_true(tw_tlp_selector_covers(TW_STR("description"), TW_STR("description")));
    assert_true(tw_tlp_selector_covers(
            TW_STR("external_references"), TW_STR("external_references.[0].url")));
    assert_true(tw_tlp_selector_covers(
            TW_STR("external_references.[0].url"), TW_STR("external_references")));
    assert_false(tw_tlp_selector_covers(TW_STR("name"), TW_STR("names")));
    assert_false(tw_tlp_selector_covers(
            TW_STR("external_references.[1]"), TW_STR("external_references.[10]")));
    assert_false(tw_tlp_selector_covers(TW_STR(""), TW_STR("name")));
}

static void tlp_of_property_adds_granular_markings(void **state)
{
    json_t *o = parse("{\"object_marking_refs\":[\"" G1 "\"],\"description\":\"d\",\"name\":\"n\","
                      "\"granular_markings\":[{\"marking_ref\":\"" R2 "\","
                      "\"selectors\":[\"description\"]},{\"lang\":\"fr\",\"selectors\":[\"name\"]},"
                      "{\"marking_ref\":\"" C2 "\",\"selectors\":[\"name\"]}]}");

    (void)state;
    assert_int_equal(tw_tlp_of_property(o, TW_STR("description"), NULL, NULL), TW_TLP_RED);
    /* a less restrictive granular marking does not lower the object's level */
    assert_int_equal(tw_tlp_of_property(o, TW_STR("name"), NULL, NULL), TW_TLP_GREEN);
    assert_int_equal(tw_tlp_of_property(o, TW_STR("id"), NULL, NULL), TW_TLP_GREEN);
    json_decref(o);
}

static void tlp_bundle_resolves_local_redeclarations(void **state)
{
    struct tw_stix_bundle *b = NULL;
    static const enum tw_tlp want[] = { TW_TLP_NONE, TW_TLP_NONE, TW_TLP_CLEAR, TW_TLP_AMBER,
        TW_TLP_AMBER_STRICT, TW_TLP_RED, TW_TLP_GREEN };
    const struct tw_stix_object *o6;
    const struct tw_stix_problem *p;

    (void)state;
    assert_int_equal(tw_stix_read_file(tw_test_data("stix/tlp-markings.json"), 0, &b, NULL), TW_OK);
    assert_int_equal(tw_stix_bundle_count(b), TW_ARRAY_LEN(want));
    for (size_t i = 0; i < TW_ARRAY_LEN(want); i++) {
        assert_int_equal(tw_stix_bundle_object(b, i)->tlp, want[i]);
    }
    /* the redeclaration is a warning against the marking-definition's id */
    assert_int_equal(tw_stix_bundle_n_errors(b), 0);
    assert_int_equal(tw_stix_bundle_n_problems(b), 1);
    p = tw_stix_bundle_problem(b, 0);
    assert_int_equal(p->severity, TW_STIX_WARNING);
    assert_string_equal(p->path, "$.objects[0].id");
    assert_non_null(strstr(p->msg, "non-canonical"));
    o6 = tw_stix_bundle_object(b, 6);
    assert_int_equal(tw_stix_property_tlp(b, o6, "description"), TW_TLP_AMBER_STRICT);
    assert_int_equal(tw_stix_property_tlp(b, o6, "external_references.[0].url"), TW_TLP_RED);
    assert_int_equal(tw_stix_property_tlp(b, o6, "name"), TW_TLP_GREEN);
    tw_stix_bundle_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tlp_names_print),
        cmocka_unit_test(tlp_names_parse),
        cmocka_unit_test(tlp_order_is_by_restriction),
        cmocka_unit_test(tlp_marking_ids_both_generations),
        cmocka_unit_test(tlp_from_definition_reads_both_generations),
        cmocka_unit_test(tlp_of_object_takes_most_restrictive),
        cmocka_unit_test(tlp_selector_coverage),
        cmocka_unit_test(tlp_of_property_adds_granular_markings),
        cmocka_unit_test(tlp_bundle_resolves_local_redeclarations),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
