/*
 * taxii_client.h: a TAXII 2.1 client for one collection (libcurl; the only
 * file that includes curl.h is src/hub/client.c).
 *
 * Pulls a collection's objects page by page (keyset `next` when the server
 * gives one, else added_after = X-TAXII-Date-Added-Last as TAXII 3.5 asks),
 * and pushes envelopes, returning the server's status resource. Certificate
 * verification is on unless the caller turns it off explicitly.
 */
#ifndef TIDEWATCH_TAXII_CLIENT_H
#define TIDEWATCH_TAXII_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "tidewatch/buf.h"
#include "tidewatch/common.h"
#include "tidewatch/err.h"

struct tw_taxii_client {
    const char *collection_url; /* ".../collections/<id>/" (a trailing '/' is added if missing) */
    const char *key;            /* API key, sent as "Authorization: Bearer" */
    const char *ca_file;        /* PEM bundle to verify the server; NULL: the system's */
    bool insecure;              /* no certificate verification (testing only) */
    long timeout_s;             /* per request; 0: 60 */
    size_t page;                /* objects per page asked for; 0: 1000 */
    size_t max_response;        /* bytes per response; 0: 256 MiB */
};

/* Called with each page's objects (a borrowed array). Non-zero stops the pull. */
typedef int tw_taxii_page_fn(const json_t *objects, void *arg);

/*
 * Pulls every object added after `added_after` (a TAXII timestamp, or NULL
 * for all). `last_added` (TW_TIME_STRLEN bytes, may be NULL) receives the
 * X-TAXII-Date-Added-Last of the last non-empty page, for the next pull.
 * Returns TW_OK; TW_EIO for transport problems; TW_EINVAL when the server
 * answered an error (err names the HTTP status and the TAXII title).
 */
int tw_taxii_pull(const struct tw_taxii_client *c, const char *added_after, tw_taxii_page_fn *fn,
        void *arg, char *last_added, size_t *n_objects, struct tw_err *err) TW_MUST_CHECK;

/*
 * Posts an envelope ({"objects": [...]}) and returns the status resource in
 * *status (new reference). Same returns as tw_taxii_pull.
 */
int tw_taxii_push(const struct tw_taxii_client *c, const char *envelope, size_t len,
        json_t **status, struct tw_err *err) TW_MUST_CHECK;

#endif
