/*
 * taxii_client.h: a TAXII 2.1 client (libcurl; the only file that includes
 * curl.h is src/hub/client.c).
 *
 * Pulls a collection's objects page by page (keyset `next` when the server
 * gives one, else added_after = X-TAXII-Date-Added-Last as TAXII 3.5 asks),
 * and pushes envelopes, returning the server's status resource. For walking
 * a whole server (`hub import`) it also GETs any TAXII URL and returns the
 * parsed body with the status and the X-TAXII-Date-Added headers, and
 * resolves the relative URLs servers hand out. Credentials go as
 * "Authorization: Bearer" (an API key) or HTTP Basic (user and password),
 * and only to the URL asked for: redirects are not followed. Certificate
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
#include "tidewatch/time.h"

struct tw_taxii_client {
    const char *collection_url; /* ".../collections/<id>/" (a trailing '/' is added if missing) */
    const char *key;            /* API key, sent as "Authorization: Bearer" */
    const char *user;           /* HTTP Basic user; when set, Basic replaces Bearer */
    const char *password;       /* HTTP Basic password (with user) */
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

/* One GET's answer (tw_taxii_get). Clean up with tw_taxii_reply_cleanup. */
struct tw_taxii_reply {
    long status;                           /* HTTP status; 0 when no answer came */
    json_t *json;                          /* the parsed body (owned), NULL when not JSON */
    char date_added_first[TW_TIME_STRLEN]; /* X-TAXII-Date-Added-First, "" when absent */
    char date_added_last[TW_TIME_STRLEN];  /* X-TAXII-Date-Added-Last, "" when absent */
};

/*
 * GETs `url` (any TAXII endpoint; the query, if any, already encoded) with
 * c's credentials and TLS settings (c->collection_url is not used) and fills
 * *out. Returns TW_OK for a 2xx answer whose body is a JSON object; TW_EIO
 * for transport problems (out->status 0); TW_EINVAL for any other status
 * (out->status says which, out->json holds the TAXII error body when there
 * was one, and err names the status and the error's title) or a 2xx body
 * that is not a JSON object. *out is filled in every case and must be
 * cleaned up.
 */
int tw_taxii_get(const struct tw_taxii_client *c, const char *url, struct tw_taxii_reply *out,
        struct tw_err *err) TW_MUST_CHECK;
/* Releases out->json. NULL and an already clean reply are no-ops. */
void tw_taxii_reply_cleanup(struct tw_taxii_reply *out);

/*
 * Resolves `ref` (an absolute URL, or a relative one such as "/api1/") against
 * `base` (RFC 3986) into out, replacing its content. *same_origin (may be
 * NULL) tells whether the result has base's scheme, host and port, so a
 * caller can avoid sending credentials to another server. Returns TW_OK,
 * TW_EINVAL (err says which URL is malformed) or TW_ENOMEM/TW_ELIMIT.
 */
int tw_taxii_url_resolve(const char *base, const char *ref, struct tw_buf *out, bool *same_origin,
        struct tw_err *err) TW_MUST_CHECK;

#endif
