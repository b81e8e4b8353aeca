/*
 * domain.h: domain-name normalisation and domain sets with suffix matching.
 *
 * Indicators and observed names (DNS queries, TLS SNI, HTTP Host) meet here in
 * one normal form: lowercase ASCII, no trailing dot, labels of letters,
 * digits, hyphens and underscores. Internationalised names must arrive in
 * their punycode (xn--) form, which is kept as is; raw UTF-8 is rejected, so a
 * name never has two spellings in the set.
 *
 * A domain set maps names to uint32_t values (indicator ids). An entry
 * matches either exactly its name (TW_DOMAIN_EXACT) or its name and every
 * subdomain of it (TW_DOMAIN_SUFFIX), on label boundaries only. How the set
 * works and what it costs: docs/internals/DOMAIN.md.
 */
#ifndef TIDEWATCH_DOMAIN_H
#define TIDEWATCH_DOMAIN_H

#include <stddef.h>
#include <stdint.h>

#include "tidewatch/common.h"
#include "tidewatch/err.h"
#include "tidewatch/str.h"

#define TW_DOMAIN_MAX_LEN   253 /* bytes of a normalised name, without the trailing dot */
#define TW_DOMAIN_MAX_LABEL 63  /* bytes of one label */
/* Upper bound on max_entries accepted by tw_domainset_new (indexes are 32-bit). */
#define TW_DOMAINSET_MAX_ENTRIES ((size_t)1 << 28)

/* Bits returned by tw_domain_warnings(): legal here, but worth a validator's warning. */
#define TW_DOMAIN_WARN_HYPHEN       0x1u /* a label starts or ends with '-' */
#define TW_DOMAIN_WARN_UNDERSCORE   0x2u /* a label holds '_' (not a hostname) */
#define TW_DOMAIN_WARN_SINGLE_LABEL 0x4u /* no dot at all ("localhost", "com") */
#define TW_DOMAIN_WARN_NUMERIC_TLD  0x8u /* the last label is all digits (an IPv4 address?) */

/*
 * Normalises the name in `in`: lowercases ASCII letters, drops one trailing
 * dot, and checks that every label is 1..63 bytes of letters, digits, '-' or
 * '_' and that the result is at most 253 bytes. Writes the result and a NUL
 * into out[0..out_size) and its length into *out_len (out_len may be NULL).
 * Returns TW_OK; TW_EINVAL with err->offset at the offending byte of `in`
 * (non-ASCII byte, other character, empty or over-long label, over-long name,
 * empty name); TW_ETRUNC when out_size is too small (out is then "" when
 * out_size > 0). A wildcard such as "*.example.com" is not a name: callers
 * strip "*." and add the rest as TW_DOMAIN_SUFFIX.
 */
int tw_domain_normalize(struct tw_str in, char *out, size_t out_size, size_t *out_len,
        struct tw_err *err) TW_MUST_CHECK;

/* Returns the TW_DOMAIN_WARN_* bits that apply to an already normalised name. */
unsigned tw_domain_warnings(struct tw_str normalized);

struct tw_domainset;

enum tw_domain_match {
    TW_DOMAIN_EXACT = 1, /* this name only */
    TW_DOMAIN_SUFFIX = 2 /* this domain or any subdomain */
};

/*
 * Creates an empty set that accepts at most max_entries adds (clamped to
 * TW_DOMAINSET_MAX_ENTRIES). Returns NULL when out of memory. The caller owns
 * the set and frees it with tw_domainset_free.
 */
struct tw_domainset *tw_domainset_new(size_t max_entries);

/* Frees the set. NULL is a no-op. */
void tw_domainset_free(struct tw_domainset *s);

/*
 * Adds a normalised name (the output of tw_domain_normalize) with how it
 * matches and its value. The set copies the name. Adding the same name again
 * keeps both entries. Returns TW_OK; TW_EINVAL when the name is not in normal
 * form or `how` is not a tw_domain_match; TW_ELIMIT past max_entries;
 * TW_ENOMEM (the set is unchanged). The set is usable for lookups at any
 * time, but adds and lookups must not run concurrently.
 */
int tw_domainset_add(struct tw_domainset *s, struct tw_str normalized_domain,
        enum tw_domain_match how, uint32_t value) TW_MUST_CHECK;

/*
 * Finds every value whose entry matches the normalised name: EXACT and SUFFIX
 * entries on the name itself, and SUFFIX entries on each parent domain
 * ("a.b.evil.com" hits suffix entries "b.evil.com" and "evil.com", never
 * "vil.com"). The most specific name comes first; entries on one name come in
 * add order. Writes up to max_values values and returns the total number of
 * matches, which may exceed max_values. A name that is not normalised simply
 * matches less (comparison is bytewise).
 */
size_t tw_domainset_lookup(const struct tw_domainset *s, struct tw_str normalized_name,
        uint32_t *values, size_t max_values);

/* Number of successful adds. */
size_t tw_domainset_count(const struct tw_domainset *s);

/* Bytes of heap memory the set holds, the struct included. */
size_t tw_domainset_memory(const struct tw_domainset *s);

#endif
