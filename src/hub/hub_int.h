/*
 * hub_int.h: the hub's shared state, for the files of src/hub only.
 */
#ifndef TIDEWATCH_HUB_INT_H
#define TIDEWATCH_HUB_INT_H

#include <stdint.h>

#include <pthread.h>

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
    pthread_mutex_t rate_lock;
    struct tw__rate_slot *rate; /* TW__RATE_SLOTS */
};

/* Takes one token from the key's bucket; false when the key is over its rate. */
bool tw__hub_rate_take(struct tw_hub *hub, const char *key_id, uint32_t per_min, int64_t now_us);

#endif
