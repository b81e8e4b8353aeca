/*
 * pattern.h: the STIX 2.1 patterning language (STIX 2.1 section 9).
 *
 * tw_pattern_parse compiles a pattern's text into a tree; invalid text gets an
 * error with the character position. A compiled pattern can
 *   - print itself back in canonical form (tw_pattern_format),
 *   - give the "atoms" the indicator index uses (tw_pattern_atoms): simple
 *     comparisons such that any observation matching the pattern contains at
 *     least one of them, and whether those atoms alone decide the match,
 *   - be evaluated against observations (tw_pattern_match), which the hunt
 *     calls on the candidates the index lets through.
 */
#ifndef TIDEWATCH_PATTERN_H
#define TIDEWATCH_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tidewatch/common.h"
#include "tidewatch/err.h"
#include "tidewatch/str.h"

struct tw_pattern; /* opaque compiled pattern */

/* Cap on a pattern's length in bytes and on its nesting depth. */
#define TW_PATTERN_MAX_LEN   (1024 * 1024)
#define TW_PATTERN_MAX_DEPTH 64

/*
 * Caps on one tw_pattern_match call: the observations it accepts and the
 * work (comparisons, search steps) it may spend. Past either it returns
 * TW_ELIMIT rather than an answer.
 */
#define TW_PATTERN_MAX_OBSERVATIONS 4096
#define TW_PATTERN_MAX_STEPS        2000000

/*
 * Parses and checks `text`. On success *out receives a new pattern (free it
 * with tw_pattern_free) and TW_OK is returned. On failure returns TW_ESYNTAX
 * (or TW_EINVAL for a semantic error such as ISSUBSET on a non-address path,
 * TW_ELIMIT past the caps, TW_ENOMEM), *out is NULL, and err->offset holds the
 * 0-based character position of the problem (counted in code points, which
 * equals the byte offset for ASCII text); err->msg ends with " at <offset>".
 * The pattern keeps its own copy of the text; `text` may be freed afterwards.
 */
int tw_pattern_parse(struct tw_str text, struct tw_pattern **out, struct tw_err *err) TW_MUST_CHECK;
void tw_pattern_free(struct tw_pattern *p);

/* STIX 2.1 section 12.7 conformance level the pattern needs: 1, 2 or 3. */
int tw_pattern_level(const struct tw_pattern *p);

/* Appends the pattern's canonical text to a new string (tw_free it); NULL on ENOMEM. */
char *tw_pattern_format(const struct tw_pattern *p);

/* Comparison operators an atom can carry. */
enum tw_atom_op {
    TW_ATOM_EQ = 0, /* path = value (also from IN lists) */
    TW_ATOM_SUBSET, /* ipv4-addr/ipv6-addr value ISSUBSET 'cidr' */
    TW_ATOM_SUFFIX, /* domain-name:value LIKE '%.<value>': any subdomain of value
                       (never exact: a suffix set also holds value itself) */
};

/* One simple comparison pulled out of a pattern. Slices borrow from the pattern. */
struct tw_pattern_atom {
    struct tw_str type; /* SCO type, e.g. "ipv4-addr", "network-traffic" */
    struct tw_str path; /* property path after the colon in canonical form,
                           e.g. "value", "hashes.'SHA-256'", "dst_ref.value", "dst_port" */
    enum tw_atom_op op;
    struct tw_str value; /* literal: string content unquoted, integers in decimal;
                            floats, booleans and timestamps as canonical text, hex
                            digits in lower case, base64 as written */
};

typedef int tw_pattern_atom_fn(const struct tw_pattern_atom *atom, void *ctx);

/*
 * Calls fn for each atom of a set such that every observation matching the
 * pattern contains at least one of them (a necessary condition). Sets *exact
 * when the atoms alone decide the match (the pattern is a plain disjunction of
 * equality/ISSUBSET comparisons with no qualifiers or negation), so a lookup
 * hit needs no verification. Returns TW_OK, TW_ENOTFOUND when no such set
 * exists (the pattern must be verified on every observation), or the first
 * non-zero value fn returned.
 */
int tw_pattern_atoms(
        const struct tw_pattern *p, tw_pattern_atom_fn *fn, void *ctx, bool *exact) TW_MUST_CHECK;

/* Whether the caller can use an atom (for example: the index holds its path). */
typedef bool tw_pattern_accept_fn(const struct tw_pattern_atom *atom, void *ctx);

/*
 * Like tw_pattern_atoms, but only atoms `accept` approves count: a comparison
 * with an unusable atom has no atom set, so a conjunction picks a side whose
 * atoms are all usable and a disjunction with an unusable branch has none
 * (TW_ENOTFOUND). accept NULL approves every atom.
 */
int tw_pattern_atoms_filtered(const struct tw_pattern *p, tw_pattern_accept_fn *accept,
        void *accept_ctx, tw_pattern_atom_fn *fn, void *ctx, bool *exact) TW_MUST_CHECK;

/*
 * Evaluates the pattern against `observations`, a JSON array of objects shaped
 * like STIX observed-data with embedded objects:
 *   { "first_observed": "...Z", "last_observed": "...Z", "number_observed": 1,
 *     "objects": { "0": { "type": "ipv4-addr", "value": "198.51.100.1" },
 *                  "1": { "type": "network-traffic", "dst_ref": "0", "dst_port": 443 } } }
 * References (`*_ref`, `*_refs`) resolve to keys of the same "objects" map.
 * "first_observed" is required, "last_observed" defaults to it.
 * Sets *matched. Returns TW_OK, or TW_EINVAL (with err) when the observations
 * are malformed, TW_ELIMIT past TW_PATTERN_MAX_OBSERVATIONS or
 * TW_PATTERN_MAX_STEPS (or when a regular expression hits its match limit),
 * TW_ENOMEM. docs/internals/PATTERN.md gives the exact semantics.
 */
int tw_pattern_match(const struct tw_pattern *p, const json_t *observations, bool *matched,
        struct tw_err *err) TW_MUST_CHECK;

#endif
