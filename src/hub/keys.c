/*
 * keys.c: API keys (generation, checking) and per-key request rates.
 *
 * A key is "tw_<id>_<secret>": 64 random bits of public id, used to find the
 * key and named in logs and listings, and 256 random bits of secret, of which
 * the store keeps only the SHA-256. The secret is compared as a hash in
 * constant time, and every malformed, unknown, wrong or revoked key gives the
 * same answer, so a caller learns nothing about which part was wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sys/random.h>

#include "hub_int.h"
#include "tidewatch/hash.h"
#include "tidewatch/hub.h"

#define SECRET_HEX 64

static int random_bytes(void *p, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = getrandom((char *)p + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return TW_EIO;
        got += (size_t)r;
    }
    return TW_OK;
}

int tw_hub_key_generate(struct tw_key *k, char out[TW_HUB_KEY_LEN + 1])
{
    uint8_t id[TW_KEY_ID_LEN / 2], secret[SECRET_HEX / 2];
    char secret_hex[SECRET_HEX + 1];

    if (random_bytes(id, sizeof(id)) != TW_OK || random_bytes(secret, sizeof(secret)) != TW_OK)
        return TW_EIO;
    tw_hex_encode(id, sizeof(id), k->key_id);
    tw_hex_encode(secret, sizeof(secret), secret_hex);
    tw_sha256(secret_hex, SECRET_HEX, k->hash);
    (void)snprintf(out, TW_HUB_KEY_LEN + 1, "tw_%s_%s", k->key_id, secret_hex);
    memset(secret, 0, sizeof(secret));
    memset(secret_hex, 0, sizeof(secret_hex));
    return TW_OK;
}

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

int tw_hub_key_check(struct tw_store *st, const char *presented, struct tw_key *k)
{
    char id[TW_KEY_ID_LEN + 1];
    uint8_t h[32];
    const char *secret;

    if (presented == NULL || strlen(presented) != TW_HUB_KEY_LEN ||
            strncmp(presented, "tw_", 3) != 0 || presented[3 + TW_KEY_ID_LEN] != '_')
        return TW_ENOTFOUND;
    memcpy(id, presented + 3, TW_KEY_ID_LEN);
    id[TW_KEY_ID_LEN] = '\0';
    secret = presented + 3 + TW_KEY_ID_LEN + 1;
    if (!all_hex(id, TW_KEY_ID_LEN) || !all_hex(secret, SECRET_HEX))
        return TW_ENOTFOUND;
    tw_sha256(secret, SECRET_HEX, h);
    if (tw_store_key_get(st, id, k, NULL) != TW_OK) {
        memset(k, 0, sizeof(*k));
        return TW_ENOTFOUND;
    }
    if (!tw_ct_equal(h, k->hash, sizeof(h)) || k->revoked != 0) {
        memset(k, 0, sizeof(*k));
        return TW_ENOTFOUND;
    }
    return TW_OK;
}

/* ==== Organisation identities ==== */

void tw_hub_org_identity(const char *name, char out[64])
{
    static const uint8_t ns[16] = { 0x7a, 0x1c, 0x4e, 0x52, 0x9b, 0x0d, 0x4f, 0x33, 0x8e, 0x61,
        0x2d, 0x5b, 0x74, 0x69, 0x64, 0x65 };
    uint8_t u[16];
    char s[TW_UUID_STRLEN];

    tw_uuid_v5(ns, name, strlen(name), u);
    tw_uuid_format(u, s);
    (void)snprintf(out, 64, "identity--%s", s);
}

/* ==== Rates ==== */

bool tw__hub_rate_take(struct tw_hub *hub, const char *key_id, uint32_t per_min, int64_t now_us)
{
    uint64_t h = tw_hash64(key_id, strlen(key_id), 0x72617465u);
    struct tw__rate_slot *slot = NULL, *stalest = NULL;
    bool ok;

    if (per_min == 0)
        return true;
    pthread_mutex_lock(&hub->rate_lock);
    for (size_t i = 0; i < 16; i++) {
        struct tw__rate_slot *s = &hub->rate[(h + i) & (TW__RATE_SLOTS - 1)];
        if (strcmp(s->key_id, key_id) == 0) {
            slot = s;
            break;
        }
        if (s->key_id[0] == '\0' || stalest == NULL || s->last_us < stalest->last_us)
            stalest = s;
    }
    if (slot == NULL) {
        slot = stalest;
        (void)snprintf(slot->key_id, sizeof(slot->key_id), "%s", key_id);
        slot->tokens = per_min;
        slot->last_us = now_us;
    }
    slot->tokens += (double)(now_us - slot->last_us) * per_min / 60e6;
    if (slot->tokens > per_min)
        slot->tokens = per_min;
    slot->last_us = now_us;
    ok = slot->tokens >= 1.0;
    if (ok)
        slot->tokens -= 1.0;
    pthread_mutex_unlock(&hub->rate_lock);
    return ok;
}
