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

#endif
