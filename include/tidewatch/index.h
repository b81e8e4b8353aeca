/*
 * index.h: the indicator index, the structure hunting matches traffic against.
 *
 * Indicators (STIX `indicator` objects with pattern_type "stix") are compiled
 * into lookup structures per kind of observable:
 *
 *   kind         pattern paths                                   structure
 *   address      ipv4-addr:value, ipv6-addr:value (= or ISSUBSET),  CIDR set (ipset.h)
 *                network-traffic:src_ref.value / dst_ref.value
 *   domain       domain-name:value (=, and LIKE '%.x' for any      domain set (domain.h)
 *                subdomain of x)
 *   url          url:value (normalised, url.h)                   string map
 *   email        email-addr:value                                string map
 *   file hash    file:hashes.*, artifact:hashes.*                string map (lower-case hex)
 *   cert hash    x509-certificate:hashes.*                       string map (lower-case hex)
 *   ja3, ja4     network-traffic:x_ja3, network-traffic:x_ja4    string map
 *   port         network-traffic:src_port, dst_port              string map
 *
 * A lookup returns the numbers of every indicator whose pattern names the
 * value. When a pattern is a plain disjunction of such comparisons the hit is
 * final (exact); otherwise the hit is a candidate and the caller verifies the
 * pattern (tw_index_pattern + tw_pattern_match). Patterns with no indexable
 * necessary condition are "unindexed": the caller must verify them on every
 * observation. See docs/internals/INDEX.md.
 */
#ifndef TIDEWATCH_INDEX_H
#define TIDEWATCH_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "tidewatch/addr.h"
#include "tidewatch/buf.h"
#include "tidewatch/common.h"
#include "tidewatch/err.h"
#include "tidewatch/pattern.h"
#include "tidewatch/str.h"

enum tw_index_kind {
    TW_INDEX_ADDR = 0,
    TW_INDEX_DOMAIN,
    TW_INDEX_URL,
    TW_INDEX_EMAIL,
    TW_INDEX_FILE_HASH,
    TW_INDEX_CERT_HASH,
    TW_INDEX_JA3,
    TW_INDEX_JA4,
    TW_INDEX_PORT,
    TW_INDEX_KIND_COUNT,
};

/* Flags of an indexed indicator. */
#define TW_IND_EXACT     0x01u /* an index hit is a match; no verification needed */
#define TW_IND_REVOKED   0x02u /* the indicator says revoked: true */
#define TW_IND_UNINDEXED 0x04u /* no index atoms: verify on every observation */

/* One indexed indicator (32 bytes). Times are seconds since the epoch clamped to 32 bits. */
struct tw_indicator {
    uint8_t uuid[16];     /* the UUID of its "indicator--<uuid>" id */
    uint32_t valid_from;  /* 0 when before 1970 */
    uint32_t valid_until; /* UINT32_MAX when absent */
    uint32_t name_off;    /* offset of its name in the index's name table; 0 = none */
    uint8_t tlp;          /* the caller's TLP code (tlp.h), stored as given */
    uint8_t flags;        /* TW_IND_* */
    uint8_t severity;     /* 1 (high) .. 3 (low), from indicator_types, as Suricata's */
};

/* Validity of an indicator at a moment. */
enum tw_ind_state {
    TW_IND_ACTIVE = 0,
    TW_IND_NOT_YET_VALID,
    TW_IND_EXPIRED,
    TW_IND_STATE_REVOKED,
};

struct tw_index;

/* Caps: indicators and atoms (one indicator can name many values). */
#define TW_INDEX_MAX_INDICATORS ((size_t)64 * 1024 * 1024)
#define TW_INDEX_MAX_ATOMS      ((size_t)256 * 1024 * 1024)

/* Creates an empty index for at most max_indicators indicators; NULL on ENOMEM. */
struct tw_index *tw_index_new(size_t max_indicators);
/* Frees the index and every compiled pattern it holds. NULL is a no-op. */
void tw_index_free(struct tw_index *idx);

/*
 * Adds one STIX indicator object (borrowed; nothing of it is kept). `tlp` is
 * stored as given. Returns TW_OK; TW_EINVAL with err when the object is not an
 * indicator, its pattern_type is not "stix" or its pattern does not parse;
 * TW_ELIMIT past a cap; TW_ENOMEM. After tw_index_build, returns TW_EINVAL.
 */
int tw_index_add(struct tw_index *idx, const json_t *indicator, uint8_t tlp,
        struct tw_err *err) TW_MUST_CHECK;

/* Freezes the index into lookup form. Returns TW_OK or TW_ENOMEM. */
int tw_index_build(struct tw_index *idx) TW_MUST_CHECK;

/*
 * Lookups (after build). Each writes up to `max` indicator numbers into `out`,
 * each indicator at most once per call, and returns how many matched (which
 * may exceed max). Values must already be in normalised form, except in
 * tw_index_lookup_text.
 */
size_t tw_index_lookup_ipv4(
        const struct tw_index *idx, uint32_t addr_host_order, uint32_t *out, size_t max);
size_t tw_index_lookup_ip(
        const struct tw_index *idx, const struct tw_ip *ip, uint32_t *out, size_t max);
size_t tw_index_lookup_domain(
        const struct tw_index *idx, struct tw_str name, uint32_t *out, size_t max);
/* For TW_INDEX_URL, EMAIL, FILE_HASH, CERT_HASH, JA3, JA4: the key in normalised form. */
size_t tw_index_lookup_str(const struct tw_index *idx, enum tw_index_kind kind, struct tw_str key,
        uint32_t *out, size_t max);
size_t tw_index_lookup_port(
        const struct tw_index *idx, uint16_t port, bool dst, uint32_t *out, size_t max);

/*
 * Looks up free text as an analyst types it: an address, a domain, a URL, an
 * e-mail address or a hex hash (tried as file, certificate and JA3 hash). The
 * kind found is written to *kind. Returns the number of matches, or a negative
 * TW_EINVAL when the text is none of those.
 */
long tw_index_lookup_text(const struct tw_index *idx, struct tw_str text, enum tw_index_kind *kind,
        uint32_t *out, size_t max);

size_t tw_index_count(const struct tw_index *idx);
/* Values (atoms) indexed, over all kinds. */
size_t tw_index_n_values(const struct tw_index *idx);
const struct tw_indicator *tw_index_get(const struct tw_index *idx, uint32_t n);
/* Writes "indicator--<uuid>" into out (at least 48 bytes). */
void tw_index_id(const struct tw_index *idx, uint32_t n, char *out);
/* The indicator's name, or "" when it has none. */
const char *tw_index_name(const struct tw_index *idx, uint32_t n);
/* The compiled pattern of a non-exact indicator, or NULL when its hits are final. */
const struct tw_pattern *tw_index_pattern(const struct tw_index *idx, uint32_t n);
/* The unindexed indicators' numbers; *n receives their count. */
const uint32_t *tw_index_unindexed(const struct tw_index *idx, size_t *n);
enum tw_ind_state tw_index_state(const struct tw_index *idx, uint32_t n, int64_t now);

/* Counts per kind of the values indexed (atoms), for statistics. */
size_t tw_index_kind_count(const struct tw_index *idx, enum tw_index_kind kind);
const char *tw_index_kind_name(enum tw_index_kind kind);
/* Bytes the index uses in all (lookup structures, indicator table, names, patterns). */
size_t tw_index_memory(const struct tw_index *idx);

/*
 * Compiled index files (docs/internals/INDEX.md, "Compiled files"): the
 * indicators of an index with their normalised values and the text of the
 * patterns that need verification, so a hunt loads 100,000 indicators without
 * parsing and validating their JSON again.
 */
#define TW_INDEX_FILE_MAGIC     "\x89TWINDX\n"
#define TW_INDEX_FILE_MAGIC_LEN 8
#define TW_INDEX_FILE_VERSION   1

/* Makes tw_index_save possible: call on a new index before the first add. */
void tw_index_keep_source(struct tw_index *idx);

/*
 * Appends the compiled file of idx to out. Returns TW_OK; TW_EINVAL when the
 * index did not keep its source or is broken; the buffer's error.
 */
int tw_index_save(const struct tw_index *idx, struct tw_buf *out) TW_MUST_CHECK;

/* True when data starts with TW_INDEX_FILE_MAGIC. */
bool tw_index_is_file(const void *data, size_t len);

/*
 * Adds the indicators of a compiled file to idx (not yet built), after
 * checking the whole file: header, checksum, every record. On TW_EINVAL or
 * TW_ELIMIT nothing was added and err names the byte offset of the fault;
 * TW_ENOMEM while adding leaves the index broken (free it).
 */
int tw_index_load(
        struct tw_index *idx, const void *data, size_t len, struct tw_err *err) TW_MUST_CHECK;

/*
 * Classifies one atom of a pattern (pattern.h) into the kind it is indexed
 * under. Returns the kind, or -1 when the atom's path is not indexable.
 * *keeps_exact is false when the atom names a narrower condition than the
 * index checks (a direction in network-traffic), so hits need verification.
 */
int tw_index_kind_of_atom(const struct tw_pattern_atom *atom, bool *keeps_exact);

#endif
