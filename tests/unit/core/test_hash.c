/*
 * test_hash.c: digests against published test vectors, UUIDs, logging.
 */
#include <string.h>

#include "tidewatch/err.h"
#include "tidewatch/hash.h"
#include "tidewatch/log.h"
#include "tw_test.h"

static void hash_sha_vectors(void **state)
{
    uint8_t d1[TW_SHA1_LEN], d2[TW_SHA256_LEN];
    char hex[65];

    (void)state;
    /* RFC 1321 and FIPS 180 "abc" vectors. */
    tw_md5("abc", 3, d1);
    tw_hex_encode(d1, TW_MD5_LEN, hex);
    assert_string_equal(hex, "900150983cd24fb0d6963f7d28e17f72");
    tw_sha1("abc", 3, d1);
    tw_hex_encode(d1, sizeof(d1), hex);
    assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    tw_sha256("abc", 3, d2);
    tw_hex_encode(d2, sizeof(d2), hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* RFC 4231 test case 2. */
    tw_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d2);
    tw_hex_encode(d2, sizeof(d2), hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void hash_uuid_v5_matches_stix_sco_ids(void **state)
{
    /* STIX 2.1 section 2.9: SCO ids are UUIDv5 in this namespace over the
     * canonical JSON of the id-contributing properties. Expected value computed
     * independently with Python's uuid.uuid5. */
    uint8_t ns[16], u[16];
    char s[TW_UUID_STRLEN];
    static const char name[] = "{\"value\":\"198.51.100.3\"}";

    (void)state;
    assert_true(tw_uuid_parse(TW_STR("00abedb4-aa42-466c-9c01-fed23315a9b7"), ns));
    tw_uuid_v5(ns, name, strlen(name), u);
    tw_uuid_format(u, s);
    assert_string_equal(s, "28bb3599-77cd-5a82-a950-b5bc3caf07c4");
    assert_int_equal(tw_uuid_version(u), 5);
}

static void hash_uuid_parse_and_v4(void **state)
{
    uint8_t u[16], v[16];
    char s[TW_UUID_STRLEN];

    (void)state;
    assert_false(tw_uuid_parse(TW_STR("00abedb4-aa42-466c-9c01-fed23315a9b"), u));
    assert_false(tw_uuid_parse(TW_STR("00abedb4aa42-466c-9c01-fed23315a9b7x"), u));
    assert_false(tw_uuid_parse(TW_STR("00abedb4-aa42-466c-9c01-fed23315a9bg"), u));
    assert_int_equal(tw_uuid_v4(u), TW_OK);
    assert_int_equal(tw_uuid_v4(v), TW_OK);
    assert_memory_not_equal(u, v, 16);
    assert_int_equal(tw_uuid_version(u), 4);
    tw_uuid_format(u, s);
    assert_true(tw_uuid_parse(tw_str_cstr(s), v));
    assert_memory_equal(u, v, 16);
}

static void hash_fast_hash_is_seeded(void **state)
{
    (void)state;
    assert_true(tw_hash64("x", 1, 1) == tw_hash64("x", 1, 1));
    assert_true(tw_hash64("x", 1, 1) != tw_hash64("x", 1, 2));
    assert_true(tw_ct_equal("abc", "abc", 3));
    assert_false(tw_ct_equal("abc", "abd", 3));
}

static void log_writes_json_lines(void **state)
{
    char buf[512] = { 0 };
    FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

    (void)state;
    assert_non_null(f);
    tw_log_setup(f, TW_LOG_JSON, TW_LOG_INFO);
    tw_log(TW_LOG_DEBUG, "core", "hidden %d", 1);
    tw_log(TW_LOG_INFO, "core", "quote \" here");
    (void)fclose(f);
    assert_null(strstr(buf, "hidden"));
    assert_non_null(strstr(buf, "\"level\":\"info\",\"module\":\"core\","
                                "\"message\":\"quote \\\" here\"}\n"));
    tw_log_setup(NULL, TW_LOG_TEXT, TW_LOG_WARN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hash_sha_vectors),
        cmocka_unit_test(hash_uuid_v5_matches_stix_sco_ids),
        cmocka_unit_test(hash_uuid_parse_and_v4),
        cmocka_unit_test(hash_fast_hash_is_seeded),
        cmocka_unit_test(log_writes_json_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
