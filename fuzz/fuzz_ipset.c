/*
 * fuzz_ipset.c: differential test of the prefix set against a linear scan.
 *
 * Input: one header byte, then 7-byte entries until a 0xff separator byte,
 * then 6-byte lookups. Entry: flags, prefix length, four address bytes,
 * value. Lookup: flags, four address bytes, result cap. Flags bit 0 makes
 * the address IPv6 (2001:db8::/96 plus the four bytes), bit 1 makes it
 * IPv4-mapped (::ffff:a.b.c.d). Keeping addresses to four varying bytes makes
 * nested and equal prefixes common. Every lookup must return exactly the
 * linear scan's values (most specific first, add order within a prefix) and
 * total; any disagreement traps. Header bit 7 runs the same input with an
 * allocation failure injected after (header & 0x7f) allocations, which must
 * fail cleanly.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tidewatch/addr.h"
#include "tidewatch/alloc.h"
#include "tidewatch/ipset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ENTRIES 256

struct entry {
    struct tw_ip net;
    unsigned len;
    uint32_t value;
};

static void make_addr(struct tw_ip *ip, uint8_t flags, const uint8_t *a)
{
    memset(ip, 0, sizeof(*ip));
    if (flags & 1) {
        ip->family = 6;
        ip->bytes[0] = 0x20;
        ip->bytes[1] = 0x01;
        ip->bytes[2] = 0x0d;
        ip->bytes[3] = 0xb8;
        memcpy(ip->bytes + 12, a, 4);
    } else if (flags & 2) {
        ip->family = 6;
        ip->bytes[10] = 0xff;
        ip->bytes[11] = 0xff;
        memcpy(ip->bytes + 12, a, 4);
    } else {
        ip->family = 4;
        memcpy(ip->bytes, a, 4);
    }
}

/* The oracle: every containing entry, longest prefix first, then add order. */
static size_t scan(const struct entry *e, size_t n, const struct tw_ip *q, uint32_t *out)
{
    struct tw_ip a = *q;
    size_t k = 0;

    (void)tw_ip_unmap(&a);
    for (int len = 128; len >= 0; len--)
        for (size_t i = 0; i < n; i++)
            if (e[i].len == (unsigned)len && tw_ip_in_cidr(&a, &e[i].net, e[i].len))
                out[k++] = e[i].value;
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct entry ent[MAX_ENTRIES];
    static uint32_t want[MAX_ENTRIES], got[MAX_ENTRIES];
    struct tw_ipset *s;
    size_t n = 0, pos = 1;
    bool inject;

    if (size < 1)
        return 0;
    inject = (data[0] & 0x80) != 0;
    if (inject)
        tw_alloc_fail_after(data[0] & 0x7f);
    s = tw_ipset_new(MAX_ENTRIES);
    if (s == NULL) {
        tw_alloc_fail_reset();
        return 0;
    }
    while (pos + 7 <= size && data[pos] != 0xff && n < MAX_ENTRIES) {
        const uint8_t *p = data + pos;
        struct entry *e = &ent[n];
        int rc;

        make_addr(&e->net, p[0], p + 2);
        e->len = p[1] % (tw_ip_max_prefix(&e->net) + 1);
        e->value = p[6];
        rc = tw_ipset_add(s, &e->net, e->len, e->value);
        if (rc == TW_ENOMEM && inject) {
            pos += 7;
            continue;
        }
        if (rc != TW_OK)
            __builtin_trap();
        /* The model holds the canonical form the set promises to use. */
        if (tw_ip_is_v4mapped(&e->net) && e->len >= 96) {
            (void)tw_ip_unmap(&e->net);
            e->len -= 96;
        }
        tw_ip_mask(&e->net, e->len);
        n++;
        pos += 7;
    }
    if (tw_ipset_build(s) != TW_OK) {
        if (!inject)
            __builtin_trap();
        tw_alloc_fail_reset();
        tw_ipset_free(s);
        return 0;
    }
    tw_alloc_fail_reset();
    if (tw_ipset_count(s) != n)
        __builtin_trap();
    pos++;
    while (pos + 6 <= size) {
        const uint8_t *p = data + pos;
        struct tw_ip q;
        size_t cap = p[5] % (MAX_ENTRIES + 1);
        size_t k, total;

        make_addr(&q, p[0], p + 1);
        k = scan(ent, n, &q, want);
        total = tw_ipset_lookup(s, &q, got, cap);
        if (total != k || memcmp(got, want, TW_MIN(k, cap) * sizeof(uint32_t)) != 0)
            __builtin_trap();
        if (q.family == 4 && tw_ipset_lookup_v4(s, tw_ip_v4(&q), got, cap) != k)
            __builtin_trap();
        pos += 6;
    }
    tw_ipset_free(s);
    return 0;
}
