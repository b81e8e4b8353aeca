/*
 * hub_int.h: the hub's shared state, for the files of src/hub only.
 */
#ifndef TIDEWATCH_HUB_INT_H
#define TIDEWATCH_HUB_INT_H

#include <stdint.h>

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "tidewatch/hub.h"

/* Per-key request budget (a token bucket refilled per minute). */
struct tw__rate_slot {
    char key_id[TW_KEY_ID_LEN + 1];
    double tokens;
    int64_t last_us;
};

#define TW__RATE_SLOTS 4096 /* open addressing by key id; a full table evicts the stalest */

struct tw_hub {
    struct tw_hub_config cfg;
    char *store; /* owned copies of the config strings */
    char *title;
    char *listen;
    char *tls_cert;
    char *tls_key;
    atomic_uint port; /* the bound port once serving (server.c), else 0 */
    pthread_mutex_t rate_lock;
    struct tw__rate_slot *rate; /* TW__RATE_SLOTS */
};

/* Sets rs to status with a JSON body (j consumed; NULL gives a 500). */
void tw__hub_send_json(struct tw_http_resp *rs, int status, json_t *j);
/* Sets rs to a TAXII error message (TAXII 2.1 section 3.6.1). */
void tw__hub_send_error(struct tw_http_resp *rs, int status, const char *title, const char *desc);

/* The caller as authenticated, for the non-TAXII endpoints (admin.c). */
struct tw__caller {
    const struct tw_key *key;
    const struct tw_org *org;
    bool admin;
};

/* /admin/...: organisations, keys, groups, collections and grants (admin.c). */
void tw__hub_admin(struct tw_store *st, const struct tw__caller *who, const struct tw_http_req *rq,
        const char *const *seg, size_t n_seg, struct tw_http_resp *rs);
/* /tally/: the sightings tally the caller may see (admin.c). */
void tw__hub_tally(struct tw_store *st, const struct tw__caller *who, struct tw_http_resp *rs);

/* /dashboard/: the web page (dashboard.c). */
void tw__hub_dashboard(struct tw_store *st, const struct tw__caller *who, const char *title,
        struct tw_http_resp *rs);

/* Takes one token from the key's bucket; false when the key is over its rate. */
bool tw__hub_rate_take(struct tw_hub *hub, const char *key_id, uint32_t per_min, int64_t now_us);

#endif
