/*
 * test_ipset.c: prefix sets: nesting order, duplicates, family separation,
 * IPv4-mapped handling, caps, allocation failures, and a differential check
 * against a linear scan over random prefixes.
 */
#include <stdlib.h>
#include <string.h>

#include "tidewatch/addr.h"
#include "tidewatch/alloc.h"
#include "tidewatch/err.h"
#include "tidewatch/ipset.h"
#include "tw_test.h"

/* ==== Helpers ==== */

static void add_cidr(struct tw_ipset *s, const char *cidr, uint32_t value)
{
    struct tw_ip net;
    unsigned plen;

    assert_int_equal(tw_cidr_parse(tw_str_cstr(cidr), &net, &plen, NULL), TW_OK);
    assert_int_equal(tw_ipset_add(s, &net, plen, value), TW_OK);
}

/* Looks text up and checks the result is exactly want[0..n_want). */
static void expect_lookup(
        const struct tw_ipset *s, const char *text, const uint32_t *want, size_t n_want)
{
    struct tw_ip ip;
    uint32_t got[64];
    size_t n;

    assert_int_equal(tw_ip_parse(tw_str_cstr(text), &ip, NULL), TW_OK);
    n = tw_ipset_lookup(s, &ip, got, 64);
    assert_int_equal(n, n_want);
    if (n_want > 0)
        assert_memory_equal(got, want, n_want * sizeof(uint32_t));
    if (ip.family == 4) {
        n = tw_ipset_lookup_v4(s, tw_ip_v4(&ip), got, 64);
        assert_int_equal(n, n_want);
        if (n_want > 0)
            assert_memory_equal(got, want, n_want * sizeof(uint32_t));
    }
}

/* A linear-scan model of the set (the oracle). */
struct model_entry {
    struct tw_ip net;
    unsigned len;
    uint32_t value;
    size_t seq;
};

struct model {
    struct model_entry *e;
    size_t n;
};

static void model_add(struct model *m, const struct tw_ip *net, unsigned len, uint32_t value)
{
    struct model_entry *e = &m->e[m->n];

    e->net = *net;
    e->len = len;
    if (tw_ip_is_v4mapped(&e->net) && len >= 96) {
        (void)tw_ip_unmap(&e->net);
        e->len = len - 96;
    }
    tw_ip_mask(&e->net, e->len);
    e->value = value;
    e->seq = m->n;
    m->n++;
}

static int cmp_match(const void *a, const void *b)
{
    const struct model_entry *x = *(const struct model_entry *const *)a;
    const struct model_entry *y = *(const struct model_entry *const *)b;

    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return x->seq < y->seq ? -1 : 1;
}

/* Writes the oracle's answer (all of it) into out and returns its length. */
static size_t model_lookup(const struct model *m, const struct tw_ip *ip, uint32_t *out)
{
    const struct model_entry **hits = calloc(m->n + 1, sizeof(*hits));
    struct tw_ip a = *ip;
    size_t n = 0;

    assert_non_null(hits);
    (void)tw_ip_unmap(&a);
    for (size_t i = 0; i < m->n; i++)
        if (tw_ip_in_cidr(&a, &m->e[i].net, m->e[i].len))
            hits[n++] = &m->e[i];
    qsort(hits, n, sizeof(*hits), cmp_match);
    for (size_t i = 0; i < n; i++)
        out[i] = hits[i]->value;
    free(hits);
    return n;
}

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* A random address near one of a few clusters, so prefixes nest and collide. */
static void random_addr(struct tw_ip *ip, int family)
{
    static const uint32_t v4_bases[] = { 0x0a000000u, 0xc0a80000u, 0x00000000u, 0xffffff00u };
    uint32_t r = rnd();

    if (family == 4) {
        uint32_t base = v4_bases[r % 4];
        uint32_t spread = (r >> 8) % 3 == 0 ? 0xffffffffu : 0x0000ffffu;
        tw_ip_from_v4(ip, base ^ (rnd() & spread));
        return;
    }
    memset(ip, 0, sizeof(*ip));
    ip->family = 6;
    ip->bytes[0] = 0x20;
    ip->bytes[1] = 0x01;
    ip->bytes[2] = 0x0d;
    ip->bytes[3] = 0xb8;
    for (int i = 4; i < 16; i++)
        ip->bytes[i] = (uint8_t)((r >> 4) % 4 == 0 ? rnd() : (i > 13 ? rnd() & 3 : 0));
    if (r % 17 == 0)
        memset(ip->bytes, 0, 4);
}

/* ==== Tests ==== */

static void ipset_nested_most_specific_first(void **state)
{
    struct tw_ipset *s = tw_ipset_new(100);
    static const uint32_t w1[] = { 4, 3, 2, 1, 0 };
    static const uint32_t w2[] = { 3, 2, 1, 0 };
    static const uint32_t w3[] = { 1, 0 };
    static const uint32_t w4[] = { 0 };
    static const uint32_t w5[] = { 5, 2, 1, 0 };

    (void)state;
    assert_non_null(s);
    add_cidr(s, "10.1.2.0/24", 3);
    add_cidr(s, "0.0.0.0/0", 0);
    add_cidr(s, "10.1.2.3", 4);
    add_cidr(s, "10.0.0.0/8", 1);
    add_cidr(s, "10.1.0.0/16", 2);
    add_cidr(s, "10.1.255.254/31", 5);
    assert_int_equal(tw_ipset_build(s), TW_OK);
    expect_lookup(s, "10.1.2.3", w1, 5);
    expect_lookup(s, "10.1.2.4", w2, 4);
    expect_lookup(s, "10.1.2.0", w2, 4);
    expect_lookup(s, "10.1.2.255", w2, 4);
    expect_lookup(s, "10.2.0.0", w3, 2);
    expect_lookup(s, "10.255.255.255", w3, 2);
    expect_lookup(s, "11.0.0.0", w4, 1);
    expect_lookup(s, "9.255.255.255", w4, 1);
    expect_lookup(s, "10.1.255.255", w5, 4);
    expect_lookup(s, "10.1.255.254", w5, 4);
    expect_lookup(s, "10.1.255.253", w2 + 1, 3);
    tw_ipset_free(s);
}

static void ipset_nested_sibling_gap(void **state)
{
    struct tw_ipset *s = tw_ipset_new(100);
    static const uint32_t a[] = { 1 };
    static const uint32_t b[] = { 2, 1 };
    static const uint32_t c[] = { 3, 1 };

    (void)state;
    assert_non_null(s);
    add_cidr(s, "10.0.0.0/8", 1);
    add_cidr(s, "10.1.0.0/16", 2);
    add_cidr(s, "10.3.0.0/16", 3);
    assert_int_equal(tw_ipset_build(s), TW_OK);
    expect_lookup(s, "10.0.255.255", a, 1);
    expect_lookup(s, "10.1.0.0", b, 2);
    expect_lookup(s, "10.2.0.0", a, 1);
    expect_lookup(s, "10.3.255.255", c, 2);
    expect_lookup(s, "10.4.0.0", a, 1);
    expect_lookup(s, "11.0.0.0", a, 0);
    tw_ipset_free(s);
}

static void ipset_keeps_duplicates_in_add_order(void **state)
{
    struct tw_ipset *s = tw_ipset_new(100);
    static const uint32_t w[] = { 8, 7, 8, 5, 6, 5 };
    uint32_t got[2];

    (void)state;
    assert_non_null(s);
    add_cidr(s, "192.0.2.0/24", 5);
    add_cidr(s, "192.0.2.9", 8);
    add_cidr(s, "192.0.2.0/24", 6);
    add_cidr(s, "192.0.2.9/32", 7);
    add_cidr(s, "192.0.2.77/24", 5); /* host bits ignored: same prefix */
    add_cidr(s, "192.0.2.9", 8);
    assert_int_equal(tw_ipset_count(s), 6);
    assert_int_equal(tw_ipset_build(s), TW_OK);
    expect_lookup(s, "192.0.2.9", w, 6);
    expect_lookup(s, "192.0.2.10", w + 3, 3);
    /* The total is reported even when only part of it fits. */
    assert_int_equal(tw_ipset_lookup_v4(s, 0xc0000209u, got, 2), 6);
    assert_int_equal(got[0], 8);
    assert_int_equal(got[1], 7);
    assert_int_equal(tw_ipset_lookup_v4(s, 0xc0000209u, NULL, 0), 6);
    assert_int_equal(tw_ipset_lookup_v4(s, 0xc000020au, got, 1), 3);
    assert_int_equal(got[0], 5);
    tw_ipset_free(s);
}

static void ipset_separates_families(void **state)
{
    struct tw_ipset *s = tw_ipset_new(100);
    static const uint32_t v4all[] = { 1 };
    static const uint32_t v6all[] = { 2 };
    static const uint32_t doc[] = { 4, 3, 2 };

    (void)state;
    assert_non_null(s);
    add_cidr(s, "0.0.0.0/0", 1);
    add_cidr(s, "::/0", 2);
    add_cidr(s, "2001:db8::/32", 3);
    add_cidr(s, "2001:db8::1", 4);
    assert_int_equal(tw_ipset_build(s), TW_OK);
    expect_lookup(s, "1.2.3.4", v4all, 1);
    expect_lookup(s, "::1", v6all, 1);
    expect_lookup(s, "2001:db8::1", doc, 3);
    expect_lookup(s, "2001:db8::2", doc + 1, 2);
    expect_lookup(s, "2001:db9::", doc + 2, 1);
    /* ::ffff:a.b.c.d is the IPv4 address it carries: ::/0 does not match it. */
    expect_lookup(s, "::ffff:1.2.3.4", v4all, 1);
    tw_ipset_free(s);
}

static void ipset_maps_v4mapped_prefixes_to_ipv4(void **state)
{
    struct tw_ipset *s = tw_ipset_new(100);
    static const uint32_t w[] = { 3, 2, 1 };
    static const uint32_t nine[] = { 9 };

    (void)state;
    assert_non_null(s);
    add_cidr(s, "::ffff:10.0.0.0/104", 1); /* = 10.0.0.0/8 */
    add_cidr(s, "::ffff:10.1.0.0/112", 2); /* = 10.1.0.0/16 */
    add_cidr(s, "::ffff:10.1.2.3", 3);     /* = 10.1.2.3/32 */
    add_cidr(s, "::ffff:0:0/95", 9);       /* stays IPv6 */
    assert_int_equal(tw_ipset_build(s), TW_OK);
    expect_lookup(s, "10.1.2.3", w, 3);
    expect_lookup(s, "::ffff:10.1.2.3", w, 3);
    expect_lookup(s, "::ffff:10.1.2.4", w + 1, 2);
    expect_lookup(s, "::fffe:10.1.2.4", nine, 1); /* inside ::fffe:0:0/95 */
    expect_lookup(s, "::fffd:10.1.2.4", w, 0);
    tw_ipset_free(s);
}

static void ipset_zero_address_and_empty_set(void **state)
{
    struct tw_ipset *s = tw_ipset_new(10);
    static const uint32_t w[] = { 7, 8 };
    uint32_t got[4];

    (void)state;
    assert_non_null(s);
    assert_int_equal(tw_ipset_lookup_v4(s, 0, got, 4), 0); /* not built yet: nothing */
    add_cidr(s, "0.0.0.0", 7);
    add_cidr(s, "0.0.0.0/0", 8);
    add_cidr(s, "1.1.1.1", 9);
    assert_int_equal(tw_ipset_build(s), TW_OK);
    expect_lookup(s, "0.0.0.0", w, 2);
    expect_lookup(s, "0.0.0.1", w + 1, 1);
    tw_ipset_free(s);

    s = tw_ipset_new(10);
    assert_non_null(s);
    assert_int_equal(tw_ipset_build(s), TW_OK);
    expect_lookup(s, "1.2.3.4", w, 0);
    expect_lookup(s, "::1", w, 0);
    assert_int_equal(tw_ipset_count(s), 0);
    assert_true(tw_ipset_memory(s) > 0);
    tw_ipset_free(s);
    tw_ipset_free(NULL);
}

static void ipset_enforces_caps_and_states(void **state)
{
    struct tw_ipset *s = tw_ipset_new(3);
    struct tw_ip ip;

    (void)state;
    assert_non_null(s);
    tw_ip_from_v4(&ip, 0x01020304u);
    assert_int_equal(tw_ipset_add(s, &ip, 33, 1), TW_EINVAL);
    ip.family = 5;
    assert_int_equal(tw_ipset_add(s, &ip, 8, 1), TW_EINVAL);
    ip.family = 4;
    assert_int_equal(tw_ipset_add(s, &ip, 32, 1), TW_OK);
    assert_int_equal(tw_ipset_add(s, &ip, 24, 1), TW_OK);
    assert_int_equal(tw_ipset_add(s, &ip, 16, 1), TW_OK);
    assert_int_equal(tw_ipset_add(s, &ip, 8, 1), TW_ELIMIT);
    assert_int_equal(tw_ipset_count(s), 3);
    assert_int_equal(tw_ipset_build(s), TW_OK);
    assert_int_equal(tw_ipset_build(s), TW_EINVAL);
    assert_int_equal(tw_ipset_add(s, &ip, 8, 1), TW_EINVAL);
    assert_int_equal(tw_ipset_lookup_v4(s, 0x01020304u, NULL, 0), 3);
    tw_ipset_free(s);
}

/* Fills a set and its model with n random prefixes of every kind. */
static void fill_random(struct tw_ipset *s, struct model *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t r = rnd() % 10;
        struct tw_ip ip;
        unsigned len;

        if (r < 4) {
            random_addr(&ip, 4);
            len = 32;
        } else if (r < 7) {
            random_addr(&ip, 4);
            len = rnd() % 32;
        } else if (r < 8) {
            struct tw_ip v4;
            random_addr(&v4, 4);
            memset(&ip, 0, sizeof(ip));
            ip.family = 6;
            ip.bytes[10] = ip.bytes[11] = 0xff;
            memcpy(ip.bytes + 12, v4.bytes, 4);
            len = 90 + rnd() % 39;
        } else {
            random_addr(&ip, 6);
            len = rnd() % 129;
        }
        uint32_t value = rnd() % 50;
        model_add(m, &ip, len, value);
        assert_int_equal(tw_ipset_add(s, &ip, len, value), TW_OK);
    }
}

/* Compares set and model on one address, in full and truncated to 1 value. */
static void compare_one(const struct tw_ipset *s, const struct model *m, const struct tw_ip *ip)
{
    uint32_t want[1024], got[1024], one = 0;
    size_t n_want = model_lookup(m, ip, want);
    size_t n_got = tw_ipset_lookup(s, ip, got, 1024);

    assert_int_equal(n_got, n_want);
    if (n_want > 0)
        assert_memory_equal(got, want, n_want * sizeof(uint32_t));
    assert_int_equal(tw_ipset_lookup(s, ip, &one, 1), n_want);
    if (n_want > 0)
        assert_int_equal(one, want[0]);
}

static void ipset_matches_linear_scan(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        struct model m;
        struct tw_ipset *s = tw_ipset_new(4000);
        size_t n = 200 * (size_t)seed * (size_t)seed;

        rng_state = seed * 0x9e3779b97f4a7c15ull;
        m.e = calloc(n, sizeof(*m.e));
        m.n = 0;
        assert_non_null(m.e);
        assert_non_null(s);
        fill_random(s, &m, n);
        assert_int_equal(tw_ipset_build(s), TW_OK);
        for (size_t q = 0; q < 1500; q++) {
            struct tw_ip ip;
            random_addr(&ip, q % 3 == 0 ? 6 : 4);
            compare_one(s, &m, &ip);
        }
        /* Every prefix's first and last address and the addresses just outside. */
        for (size_t i = 0; i < m.n; i++) {
            struct tw_ip lo = m.e[i].net, hi = m.e[i].net;
            if (lo.family != 4)
                continue;
            uint32_t a = tw_ip_v4(&lo);
            uint32_t b = a | (m.e[i].len < 32 ? (uint32_t)(0xffffffffu >> m.e[i].len) : 0u);
            tw_ip_from_v4(&lo, a - 1);
            tw_ip_from_v4(&hi, b + 1);
            compare_one(s, &m, &lo);
            compare_one(s, &m, &hi);
            tw_ip_from_v4(&lo, a);
            tw_ip_from_v4(&hi, b);
            compare_one(s, &m, &lo);
            compare_one(s, &m, &hi);
        }
        tw_ipset_free(s);
        free(m.e);
    }
}

static void ipset_large_exact_table_uses_filter(void **state)
{
    const size_t n = 40000;
    struct tw_ipset *s = tw_ipset_new(n);
    uint32_t *addrs = calloc(n, sizeof(uint32_t));
    size_t mem;

    (void)state;
    assert_non_null(s);
    assert_non_null(addrs);
    for (size_t i = 0; i < n; i++) {
        struct tw_ip ip;
        addrs[i] = (uint32_t)((2 * i + 1) * 2654435761u); /* distinct and odd */
        tw_ip_from_v4(&ip, addrs[i]);
        assert_int_equal(tw_ipset_add(s, &ip, 32, (uint32_t)i), TW_OK);
    }
    assert_int_equal(tw_ipset_build(s), TW_OK);
    for (size_t i = 0; i < n; i++) {
        uint32_t v = 0;
        assert_int_equal(tw_ipset_lookup_v4(s, addrs[i], &v, 1), 1);
        assert_int_equal(v, i);
        /* Even addresses were never added. */
        assert_int_equal(tw_ipset_lookup_v4(s, addrs[i] & ~1u, &v, 1), 0);
    }
    mem = tw_ipset_memory(s);
    assert_true(mem / n <= 64);
    tw_ipset_free(s);
    free(addrs);
}

static void ipset_survives_allocation_failures(void **state)
{
    bool done = false;

    (void)state;
    for (long fail = 0; fail < 200 && !done; fail++) {
        struct tw_ipset *s;
        int rc = TW_OK;

        rng_state = 77;
        tw_alloc_fail_after(fail);
        s = tw_ipset_new(1000);
        if (s == NULL) {
            tw_alloc_fail_reset();
            continue;
        }
        for (size_t i = 0; i < 300 && rc == TW_OK; i++) {
            struct tw_ip ip;
            random_addr(&ip, i % 4 == 0 ? 6 : 4);
            rc = tw_ipset_add(s, &ip, i % 3 == 0 ? 32 : rnd() % 33, (uint32_t)i);
            assert_true(rc == TW_OK || rc == TW_ENOMEM);
        }
        if (rc == TW_OK) {
            rc = tw_ipset_build(s);
            assert_true(rc == TW_OK || rc == TW_ENOMEM);
            if (rc == TW_ENOMEM) {
                /* A failed build leaves the set intact: it can be retried. */
                tw_alloc_fail_reset();
                assert_int_equal(tw_ipset_build(s), TW_OK);
            } else {
                done = true;
            }
            assert_int_equal(tw_ipset_count(s), 300);
        }
        tw_alloc_fail_reset();
        tw_ipset_free(s);
    }
    assert_true(done);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipset_nested_most_specific_first),
        cmocka_unit_test(ipset_nested_sibling_gap),
        cmocka_unit_test(ipset_keeps_duplicates_in_add_order),
        cmocka_unit_test(ipset_separates_families),
        cmocka_unit_test(ipset_maps_v4mapped_prefixes_to_ipv4),
        cmocka_unit_test(ipset_zero_address_and_empty_set),
        cmocka_unit_test(ipset_enforces_caps_and_states),
        cmocka_unit_test(ipset_matches_linear_scan),
        cmocka_unit_test(ipset_large_exact_table_uses_filter),
        cmocka_unit_test(ipset_survives_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
