/*
 * hub.h: the TAXII 2.1 sharing hub (docs/internals/HUB.md).
 *
 * Two halves with one seam. The protocol half (src/hub/taxii.c and its
 * helpers) turns one HTTP request into one HTTP response: routing, media
 * types, authentication, TLP, filters, paging, envelopes, status resources,
 * the access log. It knows nothing of sockets and is tested by calling
 * tw_hub_handle directly. The server half (src/hub/server.c, the only file
 * that includes microhttpd.h) listens, speaks HTTP/1.1 and TLS (GnuTLS
 * through libmicrohttpd), bounds request bodies, and hands each complete
 * request to tw_hub_handle with a store handle of its worker thread.
 */
#ifndef TIDEWATCH_HUB_H
#define TIDEWATCH_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <signal.h>

#include "tidewatch/buf.h"
#include "tidewatch/common.h"
#include "tidewatch/err.h"
#include "tidewatch/store.h"

/* ==== Requests and responses ==== */

#define TW_HUB_MAX_HEADERS 8

/* One HTTP request as the protocol half sees it. */
struct tw_http_req {
    const char *method; /* "GET", "POST", "DELETE", ... */
    const char *path;   /* percent-decoded path, without the query */
    const char *query;  /* the raw query string after '?', "" when none (not decoded) */
    const char *accept; /* header values, NULL when absent */
    const char *content_type;
    const char *authorization;
    const char *body; /* request body (POST), not NUL-terminated */
    size_t body_len;
    const char *remote;  /* peer address, for logs */
    bool body_too_large; /* the server stopped reading at max_body: answer 413 */
};

struct tw_http_header {
    char name[48];
    char value[160];
};

struct tw_http_resp {
    int status;
    const char *content_type; /* static string */
    struct tw_buf body;       /* initialised by tw_http_resp_init */
    struct tw_http_header headers[TW_HUB_MAX_HEADERS];
    size_t n_headers;
};

void tw_http_resp_init(struct tw_http_resp *rs, size_t max_body);
void tw_http_resp_cleanup(struct tw_http_resp *rs);
/* Adds a header (name and value truncated to fit). */
void tw_http_resp_header(struct tw_http_resp *rs, const char *name, const char *value);

/* ==== The hub ==== */

#define TW_HUB_DEFAULT_MAX_BODY     ((size_t)64 << 20)
#define TW_HUB_DEFAULT_PAGE         100
#define TW_HUB_MAX_PAGE             1000
#define TW_HUB_DEFAULT_RATE_PER_MIN 6000
#define TW_HUB_STATUS_KEEP_SECONDS  (7 * 24 * 3600)

struct tw_hub_config {
    const char *store;    /* store location (store.h) */
    const char *title;    /* discovery title */
    const char *listen;   /* "ADDR:PORT"; port 0 picks a free one */
    const char *tls_cert; /* PEM files; both NULL: plain HTTP (loopback only) */
    const char *tls_key;
    unsigned threads;      /* worker threads (0: one per core) */
    size_t max_body;       /* bytes; larger POST bodies get 413 */
    size_t max_page;       /* server cap on `limit` */
    uint32_t rate_per_min; /* default per-key request rate */
    bool quiet;            /* no request log lines on stderr */
};

void tw_hub_config_init(struct tw_hub_config *cfg);

struct tw_hub;

/* Creates the protocol half (no sockets). */
int tw_hub_new(
        const struct tw_hub_config *cfg, struct tw_hub **out, struct tw_err *err) TW_MUST_CHECK;
void tw_hub_free(struct tw_hub *hub);

/*
 * Answers one request using store handle st (owned by the calling thread).
 * Always fills rs (errors become TAXII error bodies) and appends the access
 * log record. Thread-safe for distinct st.
 */
void tw_hub_handle(struct tw_hub *hub, struct tw_store *st, const struct tw_http_req *rq,
        struct tw_http_resp *rs);

/*
 * Serves until *stop becomes non-zero (a signal handler sets it). Prints
 * "listening on ADDR:PORT" (the real port) on stderr once bound. Refuses to
 * serve plain HTTP on a non-loopback address. Returns TW_OK after a clean stop.
 */
int tw_hub_serve(struct tw_hub *hub, volatile sig_atomic_t *stop, struct tw_err *err) TW_MUST_CHECK;

/* The port tw_hub_serve bound (from another thread), or 0 before it is bound. */
unsigned tw_hub_port(struct tw_hub *hub);

/*
 * The STIX identity id the hub gives an organisation by name
 * ("identity--" + UUIDv5 of the name in the hub's namespace), so the CLI, the
 * admin API, the demo and an import name the same organisation alike.
 * `out` receives at least 48 bytes.
 */
void tw_hub_org_identity(const char *name, char out[64]);

/* ==== Keys ==== */

/*
 * A new API key: "tw_<key id>_<secret>", the key id 16 hex characters and the
 * secret 64 (256 random bits from getrandom). *k receives the public id and the
 * SHA-256 of the secret (what the store keeps); `out` the whole key, shown
 * once. Returns TW_OK or TW_EIO when the system has no randomness.
 */
#define TW_HUB_KEY_LEN (3 + TW_KEY_ID_LEN + 1 + 64)
int tw_hub_key_generate(struct tw_key *k, char out[TW_HUB_KEY_LEN + 1]) TW_MUST_CHECK;

/*
 * Splits and checks a presented key against the store: TW_OK with *k filled
 * for a live key whose secret matches (compared in constant time); TW_ENOTFOUND
 * for anything else (malformed, unknown, wrong secret, revoked).
 */
int tw_hub_key_check(struct tw_store *st, const char *presented, struct tw_key *k) TW_MUST_CHECK;

#endif
