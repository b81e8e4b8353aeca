/*
 * taxii_int.h: request parsing shared by the files of the protocol half
 * (taxii.c, taxii_req.c) and their unit tests.
 */
#ifndef TIDEWATCH_TAXII_INT_H
#define TIDEWATCH_TAXII_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/arena.h"
#include "tidewatch/store.h"

/* The TAXII filters of one request (section 3.4), parsed and checked. */
struct tw_taxii_query {
    bool has_added_after;
    int64_t added_after; /* microseconds */
    size_t limit;        /* 0 when absent */
    bool has_next;
    int64_t after_date, after_seq;
    const char **ids;
    size_t n_ids;
    const char **types;
    size_t n_types;
    enum tw_version_filter versions;
    const char **version_list;
    size_t n_version_list;
    const char **spec_versions;
    size_t n_spec_versions;
    char error[160]; /* why the query is malformed (for the 400 body) */
};

/* True when an Accept header admits TAXII 2.1 (absent: true; q=0 excludes). */
bool tw__taxii_accept_ok(const char *accept);
/* True when a Content-Type is TAXII 2.1 (version absent or 2.1). */
bool tw__taxii_content_type_ok(const char *ct);
/* Parses a raw query string; strings live in the arena. TW_EINVAL with q->error. */
int tw__taxii_parse_query(const char *raw, struct tw_arena *a, struct tw_taxii_query *q);
/* The opaque `next` value: a keyset position (date_added, seq). */
int tw__taxii_cursor_format(int64_t date, int64_t seq, char *out, size_t size);
int tw__taxii_cursor_parse(const char *s, int64_t *date, int64_t *seq);
/* The key from "Bearer KEY" or "Basic base64(user:KEY)". TW_ENOTFOUND when absent. */
int tw__taxii_credentials(const char *authorization, char *key, size_t size);
/* A TAXII timestamp (six fractional digits) from microseconds; out >= TW_TIME_STRLEN. */
void tw__taxii_time(int64_t us, char *out);

/*
 * One element of the "objects" array of a POSTed envelope, as bytes of the
 * request body. `canonical` says that those bytes, once the whitespace
 * between tokens is dropped, are exactly what jansson's json_dumps(JSON_COMPACT
 * | JSON_PRESERVE_ORDER) writes for the parsed element: no number with a
 * fraction or an exponent, no -0, no string escape but \" \\ \b \f \n \r \t.
 * Duplicate keys are the one difference the bytes cannot show (jansson keeps
 * the last value): `n_members` counts the members of every object in the
 * element, duplicates included, for the caller to compare with the tree.
 */
struct tw_taxii_span {
    size_t off;       /* first byte of the element in the body */
    size_t len;       /* its length */
    size_t n_members; /* object members at every depth */
    bool canonical;   /* compact JSON as jansson writes it, whitespace aside */
    bool has_space;   /* whitespace between its tokens (tw__taxii_compact removes it) */
};

/*
 * Finds the elements of the top-level "objects" array of a JSON text that
 * jansson has accepted, filling spans[0..cap). Returns how many there are,
 * or -1 when the scan cannot vouch for them: not an object with exactly one
 * "objects" member (key written without escapes) holding an array, more than
 * cap elements, nesting deeper than TW_TAXII_SPAN_DEPTH, or anything that is
 * not well-formed JSON. Never reads outside body[0..len).
 */
#define TW_TAXII_SPAN_DEPTH 64
long tw__taxii_object_spans(const char *body, size_t len, struct tw_taxii_span *spans, size_t cap);
/* Copies len bytes of JSON text without the whitespace between tokens; returns the length written.
 */
size_t tw__taxii_compact(const char *src, size_t len, char *dst);

#endif
