/*
 * ipset.h: a set of IPv4/IPv6 prefixes, each carrying a uint32_t value chosen
 * by the caller (an indicator id), with "every containing prefix" lookup.
 *
 * Life cycle: tw_ipset_new, any number of tw_ipset_add, one tw_ipset_build,
 * then lookups. Lookups on a built set only read it, so any number of threads
 * may look up concurrently. Adding after the build fails with TW_EINVAL; a
 * lookup before the build finds nothing.
 *
 * Lookup returns the value of every prefix that contains the address, the
 * most specific prefix first; the values of one prefix come in the order they
 * were added. Adding the same prefix twice (with equal or different values)
 * keeps both.
 *
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are treated as the IPv4 address
 * they carry, both when added (a prefix of /96 or longer inside ::ffff:0:0/96
 * becomes the IPv4 prefix of length n-96) and when looked up. An IPv6 prefix
 * shorter than /96 (such as ::/0) therefore never matches a mapped address.
 *
 * How the structure works and what it costs: docs/internals/IPSET.md.
 */
#ifndef TIDEWATCH_IPSET_H
#define TIDEWATCH_IPSET_H

#include <stddef.h>
#include <stdint.h>

#include "tidewatch/addr.h"
#include "tidewatch/common.h"

/* Upper bound on max_entries accepted by tw_ipset_new (indexes are 32-bit). */
#define TW_IPSET_MAX_ENTRIES ((size_t)1 << 30)

struct tw_ipset;

/*
 * Creates an empty set that accepts at most max_entries adds (a hard cap,
 * clamped to TW_IPSET_MAX_ENTRIES). Returns NULL when out of memory. The
 * caller owns the set and frees it with tw_ipset_free.
 */
struct tw_ipset *tw_ipset_new(size_t max_entries);

/* Frees the set and everything it holds. NULL is a no-op. */
void tw_ipset_free(struct tw_ipset *s);

/*
 * Adds net/prefix_len with `value`. Host bits after the prefix are ignored.
 * Returns TW_OK; TW_EINVAL for a bad family or prefix length or when the set
 * is already built; TW_ELIMIT past max_entries; TW_ENOMEM (the set is left as
 * it was, minus nothing).
 */
int tw_ipset_add(struct tw_ipset *s, const struct tw_ip *net, unsigned prefix_len,
        uint32_t value) TW_MUST_CHECK;

/*
 * Freezes the set into its lookup form and releases the staging memory.
 * Returns TW_OK, TW_EINVAL when already built, or TW_ENOMEM, in which case the
 * set stays unbuilt and intact (build may be retried, or the set freed).
 */
int tw_ipset_build(struct tw_ipset *s) TW_MUST_CHECK;

/*
 * Looks ip up in a built set. Writes up to max_values values into `values`
 * (most specific prefix first) and returns the total number of matches, which
 * may exceed max_values. values may be NULL when max_values is 0.
 */
size_t tw_ipset_lookup(
        const struct tw_ipset *s, const struct tw_ip *ip, uint32_t *values, size_t max_values);

/* The IPv4 hot path of tw_ipset_lookup: addr_host_order 0x01020304 is 1.2.3.4. */
size_t tw_ipset_lookup_v4(
        const struct tw_ipset *s, uint32_t addr_host_order, uint32_t *values, size_t max_values);

/* Number of successful adds (duplicates counted). */
size_t tw_ipset_count(const struct tw_ipset *s);

/* Bytes of heap memory the set holds right now, the struct included. */
size_t tw_ipset_memory(const struct tw_ipset *s);

#endif
