/*
 * test_index_file.c: compiled index files: a saved index loads back to the
 * same lookups, names, TLP, flags and patterns; files merge; a damaged,
 * truncated or foreign file is refused with the byte offset of the fault and
 * leaves the index untouched.
 */
#include <string.h>

#include "tidewatch/alloc.h"
#include "tidewatch/hash.h"
#include "tidewatch/index.h"
#include "tidewatch/pattern.h"
#include "tw_test.h"

#define ID(n) "indicator--00000000-0000-4000-8000-0000000000" #n

static const char *const patterns[] = {
    "[ipv4-addr:value = '203.0.113.17']",
    "[ipv4-addr:value ISSUBSET '203.0.113.0/24']",
    "[ipv6-addr:value ISSUBSET '2001:db8::/32']",
    "[domain-name:value = 'Evil.Example.']",
    "[domain-name:value LIKE '%.sub.example']",
    "[url:value = 'HTTP://Evil.Example:80/a%7Eb#frag']",
    "[file:hashes.'SHA-256' = 'AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899']",
    "[network-traffic:x_ja3 = '6734f37431670b3ab4292b8f60f29984']",
    "[network-traffic:dst_port = 57722 AND network-traffic:protocols[*] = 'tcp']",
    "[file:size > 100]",
    "[network-traffic:dst_ref.value = '198.51.100.5']",
    "[email-addr:value = 'Ops@Evil.Example'] OR [ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')]",
};

/* Values whose lookups must agree between the built and the loaded index. */
static const char *const probes[] = { "203.0.113.17", "203.0.113.99", "2001:db8::1", "::1",
    "evil.example", "a.b.sub.example", "sub.example", "http://evil.example/a~b",
    "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899",
    "6734f37431670b3ab4292b8f60f29984", "198.51.100.5", "ops@evil.example", "192.0.2.2",
    "192.0.2.3" };

static void add(struct tw_index *idx, const char *id, const char *pattern, uint8_t tlp)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "type",
            "indicator", "spec_version", "2.1", "id", id, "created", "2025-01-01T00:00:00.000Z",
            "modified", "2025-01-01T00:00:00.000Z", "pattern", pattern, "pattern_type", "stix",
            "valid_from", "2025-01-01T00:00:00Z", "name", pattern, "indicator_types",
            "malicious-activity");
    struct tw_err err;

    assert_non_null(o);
    if (tw_index_add(idx, o, tlp, &err) != TW_OK)
        fail_msg("adding %s: %s", pattern, err.msg);
    json_decref(o);
}

static struct tw_index *source_index(void)
{
    struct tw_index *idx = tw_index_new(1000);
    char id[64];

    assert_non_null(idx);
    tw_index_keep_source(idx);
    for (size_t i = 0; i < TW_ARRAY_LEN(patterns); i++) {
        (void)snprintf(id, sizeof(id), "indicator--00000000-0000-4000-8000-%012zu", i);
        add(idx, id, patterns[i], (uint8_t)(i % 6));
    }
    return idx;
}

static void save(const struct tw_index *idx, struct tw_buf *out)
{
    tw_buf_init(out, (size_t)1 << 26);
    assert_int_equal(tw_index_save(idx, out), TW_OK);
    assert_true(tw_index_is_file(out->ptr, out->len));
}

static struct tw_index *load(const struct tw_buf *file)
{
    struct tw_index *idx = tw_index_new(1000);
    struct tw_err err;

    assert_non_null(idx);
    if (tw_index_load(idx, file->ptr, file->len, &err) != TW_OK)
        fail_msg("load: %s", err.msg);
    assert_int_equal(tw_index_build(idx), TW_OK);
    return idx;
}

/* Every probe gives the same indicators; every indicator the same row, name and pattern. */
static void assert_same(const struct tw_index *a, const struct tw_index *b, uint32_t b_base)
{
    for (size_t i = 0; i < TW_ARRAY_LEN(probes); i++) {
        uint32_t ha[32], hb[32];
        enum tw_index_kind ka, kb;
        long na = tw_index_lookup_text(a, tw_str_cstr(probes[i]), &ka, ha, 32);
        long nb = tw_index_lookup_text(b, tw_str_cstr(probes[i]), &kb, hb, 32);
        long seen = 0;

        /* b may hold more indicators (a merge); a's hits must all be there, shifted. */
        for (long x = 0; x < nb; x++)
            for (long y = 0; y < na; y++)
                seen += hb[x] == ha[y] + b_base;
        if (seen != na)
            fail_msg("%s: %ld hits before, %ld of them after", probes[i], na, seen);
    }
    for (uint32_t n = 0; n < tw_index_count(a); n++) {
        const struct tw_indicator *x = tw_index_get(a, n), *y = tw_index_get(b, n + b_base);
        const struct tw_pattern *pa = tw_index_pattern(a, n), *pb = tw_index_pattern(b, n + b_base);

        assert_non_null(y);
        assert_memory_equal(x, y, offsetof(struct tw_indicator, name_off));
        assert_int_equal(x->tlp, y->tlp);
        assert_int_equal(x->flags, y->flags);
        assert_int_equal(x->severity, y->severity);
        assert_string_equal(tw_index_name(a, n), tw_index_name(b, n + b_base));
        assert_int_equal(pa == NULL, pb == NULL);
    }
}

static void index_file_round_trip(void **state)
{
    struct tw_index *a = source_index(), *b, *c;
    struct tw_buf f1, f2;
    size_t n_unindexed;

    (void)state;
    assert_int_equal(tw_index_build(a), TW_OK);
    save(a, &f1);
    b = load(&f1);
    assert_int_equal(tw_index_count(b), TW_ARRAY_LEN(patterns));
    assert_int_equal(tw_index_n_values(b), tw_index_n_values(a));
    for (int k = 0; k < TW_INDEX_KIND_COUNT; k++)
        assert_int_equal(tw_index_kind_count(b, (enum tw_index_kind)k),
                tw_index_kind_count(a, (enum tw_index_kind)k));
    assert_same(a, b, 0);
    (void)tw_index_unindexed(b, &n_unindexed);
    assert_int_equal(n_unindexed, 1); /* [file:size > 100] */

    /* Saving what was loaded gives the same bytes. */
    c = tw_index_new(1000);
    assert_non_null(c);
    tw_index_keep_source(c);
    assert_int_equal(tw_index_load(c, f1.ptr, f1.len, NULL), TW_OK);
    save(c, &f2);
    assert_int_equal(f1.len, f2.len);
    assert_memory_equal(f1.ptr, f2.ptr, f1.len);
    tw_buf_cleanup(&f1);
    tw_buf_cleanup(&f2);
    tw_index_free(a);
    tw_index_free(b);
    tw_index_free(c);
}

static void index_file_merges_with_bundles(void **state)
{
    struct tw_index *a = source_index(), *m = tw_index_new(1000);
    struct tw_buf f;

    (void)state;
    assert_non_null(m);
    save(a, &f);
    assert_int_equal(tw_index_build(a), TW_OK);
    add(m, ID(99), "[ipv4-addr:value = '203.0.113.17']", 1);
    assert_int_equal(tw_index_load(m, f.ptr, f.len, NULL), TW_OK);
    assert_int_equal(tw_index_load(m, f.ptr, f.len, NULL), TW_OK);
    assert_int_equal(tw_index_build(m), TW_OK);
    assert_int_equal(tw_index_count(m), 1 + 2 * TW_ARRAY_LEN(patterns));
    assert_same(a, m, 1);
    assert_same(a, m, 1 + (uint32_t)TW_ARRAY_LEN(patterns));
    {
        uint32_t hits[8];
        assert_int_equal(tw_index_lookup_ipv4(m, 0xcb007111u, hits, 8), 5); /* 203.0.113.17 */
    }
    tw_buf_cleanup(&f);
    tw_index_free(a);
    tw_index_free(m);
}

static void index_file_needs_its_source(void **state)
{
    struct tw_index *idx = tw_index_new(10);
    struct tw_buf out;

    (void)state;
    add(idx, ID(00), "[ipv4-addr:value = '192.0.2.1']", 0);
    tw_buf_init(&out, 1 << 20);
    assert_int_equal(tw_index_save(idx, &out), TW_EINVAL);
    tw_buf_cleanup(&out);
    tw_index_free(idx);
}

static void put64(char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (char)(v >> (8 * i));
}

/* Loads data into a fresh index; expects refusal at `offset` (TW_NOPOS: any). */
static void expect_refused(const char *data, size_t len, size_t offset, const char *what)
{
    struct tw_index *idx = tw_index_new(1000);
    struct tw_err err;
    int rc;

    assert_non_null(idx);
    tw_err_clear(&err);
    rc = tw_index_load(idx, data, len, &err);
    if (rc == TW_OK)
        fail_msg("%s: accepted", what);
    assert_int_equal(rc, TW_EINVAL);
    assert_true(err.msg[0] != '\0');
    if (offset != TW_NOPOS && err.offset != offset)
        fail_msg("%s: refused at byte %zu (%s), want %zu", what, err.offset, err.msg, offset);
    assert_int_equal(tw_index_count(idx), 0);
    assert_int_equal(tw_index_n_values(idx), 0);
    assert_int_equal(tw_index_build(idx), TW_OK);
    tw_index_free(idx);
}

static void index_file_refuses_damage(void **state)
{
    struct tw_index *a = source_index();
    struct tw_buf f;
    char *copy;

    (void)state;
    save(a, &f);
    copy = tw_malloc(f.len);
    assert_non_null(copy);

    expect_refused("{\"type\": \"bundle\"}", 18, 0, "JSON");
    /* Every truncation. */
    for (size_t len = 0; len < f.len; len++)
        expect_refused(f.ptr, len, TW_NOPOS, "truncated");
    /* A flipped bit anywhere after the header breaks the checksum. */
    for (size_t i = 64; i < f.len; i += 7) {
        memcpy(copy, f.ptr, f.len);
        copy[i] ^= 0x10;
        expect_refused(copy, f.len, 48, "bit flip");
    }
    /* Version, reserved field, section sizes. */
    memcpy(copy, f.ptr, f.len);
    copy[8] = 2;
    expect_refused(copy, f.len, 8, "version 2");
    memcpy(copy, f.ptr, f.len);
    copy[60] = 1;
    expect_refused(copy, f.len, 56, "reserved");
    memcpy(copy, f.ptr, f.len);
    copy[24] ^= 1; /* names length */
    expect_refused(copy, f.len, 12, "sizes");

    /* Behind a valid checksum: a bad TLP code in the first row, a bad value kind. */
    memcpy(copy, f.ptr, f.len);
    copy[64 + 28] = 9;
    put64(copy + 48, tw_hash64(copy + 64, f.len - 64, 0));
    expect_refused(copy, f.len, 64 + 28, "TLP code");
    {
        size_t rows = (size_t)TW_ARRAY_LEN(patterns) * 32, names = 0;
        for (int i = 0; i < 8; i++)
            names |= (size_t)(unsigned char)f.ptr[24 + i] << (8 * i);
        memcpy(copy, f.ptr, f.len);
        copy[64 + rows + names] = 42; /* the first value's kind */
        put64(copy + 48, tw_hash64(copy + 64, f.len - 64, 0));
        expect_refused(copy, f.len, 64 + rows + names, "value kind");
    }
    tw_free(copy);
    tw_buf_cleanup(&f);
    tw_index_free(a);
}

static void index_file_survives_allocation_failures(void **state)
{
    struct tw_index *a = source_index();
    struct tw_buf f;

    (void)state;
    save(a, &f);
    for (long n = 0; n < 300; n++) {
        struct tw_index *idx;

        tw_alloc_fail_after(n);
        idx = tw_index_new(1000);
        if (idx != NULL) {
            int rc = tw_index_load(idx, f.ptr, f.len, NULL);
            assert_true(rc == TW_OK || rc == TW_ENOMEM);
            if (rc == TW_OK)
                assert_int_equal(
                        tw_index_build(idx) == TW_OK || tw_index_build(idx) == TW_ENOMEM, 1);
            tw_index_free(idx);
        }
        tw_alloc_fail_reset();
    }
    tw_buf_cleanup(&f);
    tw_index_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(index_file_round_trip),
        cmocka_unit_test(index_file_merges_with_bundles),
        cmocka_unit_test(index_file_needs_its_source),
        cmocka_unit_test(index_file_refuses_damage),
        cmocka_unit_test(index_file_survives_allocation_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
