/*
 * store.h: the hub's storage (docs/internals/STORE.md).
 *
 * Everything the hub keeps lives behind this interface: organisations,
 * sharing groups, API keys (hashed), API roots, collections and their grants,
 * STIX objects with their TAXII bookkeeping (date_added, version flags, TLP,
 * recipients), status resources, sightings and the access log. Two backends
 * implement it: SQLite (the embedded default) and PostgreSQL. The store's
 * logic is written once (src/store/store.c) against a small SQL driver seam
 * (src/store/db.h); src/store/db_sqlite.c is the only file that includes
 * sqlite3.h and src/store/db_pg.c the only one that includes libpq-fe.h.
 * tw_store_open picks one from the location: "postgresql://..." or
 * "postgres://..." is PostgreSQL (a libpq URI; the store lives in the
 * connection's current schema), anything else a SQLite file path.
 *
 * Conventions. Times are microseconds since the epoch (TAXII's precision).
 * Strings handed in are copied or used before the call returns; strings
 * handed out in callbacks are valid only during the callback. Every function
 * returns TW_OK or a negative TW_E* code and fills err (which may be NULL);
 * TW_ENOTFOUND when the thing named does not exist, TW_EEXIST when a unique
 * name is taken, TW_EDB for a backend failure. A store handle is used by one
 * thread at a time; the server opens one handle per worker thread.
 *
 * Durability: tw_store_objects_add commits before it returns, with a synced
 * write (SQLite WAL with synchronous=FULL; PostgreSQL's default commit), so
 * an acknowledged object survives a crash of the process a moment later.
 */
#ifndef TIDEWATCH_STORE_H
#define TIDEWATCH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/common.h"
#include "tidewatch/err.h"

struct tw_store;

/* ==== Opening ==== */

/* Opens (creating when `create`) the store at `location`. create on an existing
 * store is TW_EEXIST; open of a missing one TW_ENOTFOUND. For SQLite, missing
 * means no file, or a file without the store's tables; for PostgreSQL, the
 * current schema without the store's tables. A store written by a newer
 * schema version is TW_EINVAL. tw_store_close(NULL) is a no-op. */
int tw_store_open(
        const char *location, bool create, struct tw_store **out, struct tw_err *err) TW_MUST_CHECK;
void tw_store_close(struct tw_store *st);
/* "sqlite" or "postgresql". */
const char *tw_store_backend(const struct tw_store *st);

/* ==== Organisations, groups ==== */

#define TW_STORE_NAME_MAX 128

struct tw_org {
    int64_t id;
    char name[TW_STORE_NAME_MAX];
    char sector[64]; /* STIX industry-sector-ov, e.g. "telecommunications", "government-national" */
    char identity_id[64];    /* "identity--<uuid>" standing for the organisation in STIX */
    bool disclose_sightings; /* opted in: other operators see it as a sightings reporter */
    int64_t created;
};

/* Adds an organisation; o->id and o->created are filled (created: now, unless
 * the caller set it). A taken name is TW_EEXIST. */
int tw_store_org_add(struct tw_store *st, struct tw_org *o, struct tw_err *err) TW_MUST_CHECK;
/* Finds an organisation by name or by id (name NULL). */
int tw_store_org_get(struct tw_store *st, const char *name, int64_t id, struct tw_org *out,
        struct tw_err *err) TW_MUST_CHECK;
int tw_store_org_set_disclose(
        struct tw_store *st, int64_t org, bool disclose, struct tw_err *err) TW_MUST_CHECK;
typedef int tw_store_org_fn(const struct tw_org *o, void *arg);
/* Calls fn for every organisation in id order; a non-zero return stops and is returned. */
int tw_store_org_each(struct tw_store *st, tw_store_org_fn *fn, void *arg, struct tw_err *err);

int tw_store_group_add(
        struct tw_store *st, const char *name, int64_t *id, struct tw_err *err) TW_MUST_CHECK;
int tw_store_group_get(
        struct tw_store *st, const char *name, int64_t *id, struct tw_err *err) TW_MUST_CHECK;
/* Adds org to group; adding a member twice is not an error. TW_ENOTFOUND when
 * either does not exist. */
int tw_store_group_member_add(
        struct tw_store *st, int64_t group, int64_t org, struct tw_err *err) TW_MUST_CHECK;

/* ==== API keys ==== */

enum tw_role {
    TW_ROLE_READER = 1,      /* read what grants and TLP allow */
    TW_ROLE_CONTRIBUTOR = 2, /* and write to collections with write grants */
    TW_ROLE_ORG_ADMIN = 3,   /* and manage the keys of its own organisation */
    TW_ROLE_HUB_ADMIN = 4,   /* and manage organisations, groups, collections, grants */
};

#define TW_KEY_ID_LEN 16 /* hex characters of the public key id */

struct tw_key {
    int64_t id;
    char key_id[TW_KEY_ID_LEN + 1]; /* public part, shown in listings and logs */
    uint8_t hash[32];               /* SHA-256 of the secret part; the secret is never stored */
    int64_t org;
    enum tw_role role;
    char label[TW_STORE_NAME_MAX];
    uint32_t rate_per_min; /* 0: the hub's default */
    int64_t created;
    int64_t revoked; /* 0 when live */
};

/* Adds a key; k->id and k->created (now, unless set) are filled. A taken key_id
 * is TW_EEXIST, an unknown org TW_ENOTFOUND. */
int tw_store_key_add(struct tw_store *st, struct tw_key *k, struct tw_err *err) TW_MUST_CHECK;
/* Finds a key by its public id (revoked keys too; the caller checks `revoked`). */
int tw_store_key_get(struct tw_store *st, const char *key_id, struct tw_key *out,
        struct tw_err *err) TW_MUST_CHECK;
/* Revokes with effect on the next lookup. TW_ENOTFOUND when absent or already revoked. */
int tw_store_key_revoke(
        struct tw_store *st, const char *key_id, int64_t now, struct tw_err *err) TW_MUST_CHECK;
typedef int tw_store_key_fn(const struct tw_key *k, void *arg);
/* Every key (org < 0: of every organisation), in id order. */
int tw_store_key_each(
        struct tw_store *st, int64_t org, tw_store_key_fn *fn, void *arg, struct tw_err *err);

/* ==== API roots, collections, grants ==== */

struct tw_api_root {
    char name[64]; /* the path segment: the root is served at /<name>/ */
    char title[TW_STORE_NAME_MAX];
    char description[512];
};

int tw_store_root_add(
        struct tw_store *st, const struct tw_api_root *r, struct tw_err *err) TW_MUST_CHECK;
int tw_store_root_get(struct tw_store *st, const char *name, struct tw_api_root *out,
        struct tw_err *err) TW_MUST_CHECK;
typedef int tw_store_root_fn(const struct tw_api_root *r, void *arg);
int tw_store_root_each(struct tw_store *st, tw_store_root_fn *fn, void *arg, struct tw_err *err);

struct tw_collection {
    int64_t id;
    char uuid[37]; /* the TAXII collection id */
    char root[64]; /* the API root it belongs to */
    char title[TW_STORE_NAME_MAX];
    char description[512];
    char alias[64];      /* "" when none; unique per API root */
    uint8_t default_tlp; /* enum tw_tlp for objects without a marking (TW_TLP_AMBER unless set) */
    int64_t group;       /* the sharing group that is its AMBER audience, 0 when none */
    int64_t created;
};

/* Adds a collection; c->id and c->created (now, unless set) are filled, c->uuid
 * too when it was "" (a new version 4 UUID), and c->default_tlp when it was
 * TW_TLP_NONE. An alias may not itself be a UUID. TW_ENOTFOUND for an unknown
 * root or group, TW_EEXIST for a taken id or alias. */
int tw_store_collection_add(
        struct tw_store *st, struct tw_collection *c, struct tw_err *err) TW_MUST_CHECK;
/* By TAXII id (uuid) within an API root, or by alias when `key` is not a UUID. */
int tw_store_collection_get(struct tw_store *st, const char *root, const char *key,
        struct tw_collection *out, struct tw_err *err) TW_MUST_CHECK;
typedef int tw_store_collection_fn(const struct tw_collection *c, void *arg);
/* The collections of a root (NULL: all) in creation order. */
int tw_store_collection_each(struct tw_store *st, const char *root, tw_store_collection_fn *fn,
        void *arg, struct tw_err *err);

/* A grant of read and/or write on a collection to an organisation (org > 0,
 * group 0) or a group (group > 0, org 0). It sets that grantee's rights: a
 * later grant to the same grantee replaces them (false, false revokes). */
int tw_store_grant(struct tw_store *st, int64_t collection, int64_t org, int64_t group,
        bool can_read, bool can_write, struct tw_err *err) TW_MUST_CHECK;

/*
 * What an organisation may do with a collection: grants to it and to its
 * groups. The AMBER audience is narrower than the readers: organisations
 * named by a grant of their own (read or write), and the members of the
 * collection's sharing group; a grant to some other group gives read or
 * write but not AMBER. TW_ENOTFOUND when the collection does not exist.
 */
struct tw_access {
    bool can_read;
    bool can_write;
    bool in_audience; /* named by the collection's grants or its group: sees AMBER */
};
int tw_store_access(struct tw_store *st, int64_t collection, int64_t org, struct tw_access *out,
        struct tw_err *err) TW_MUST_CHECK;

/* ==== Objects ==== */

/* One object to add (from a validated envelope). */
struct tw_obj_in {
    const char *id;           /* STIX id */
    const char *type;         /* STIX type */
    const char *spec_version; /* "2.1" */
    const char *version; /* modified, else created, else "" (SCOs: the hub's first date_added) */
    const char *json;    /* the object as it will be served (compact JSON); for a
                            relationship the store reads relationship_type,
                            source_ref and target_ref from it (the tally) */
    size_t json_len;
    uint8_t tlp;                   /* effective TLP (enum tw_tlp), never TW_TLP_NONE */
    const int64_t *recipient_orgs; /* AMBER+STRICT: the organisations named by the producer */
    size_t n_recipient_orgs;       /* (kept only when tlp is AMBER+STRICT) */
    const int64_t *recipient_keys; /* RED: the keys (tw_key.id) named by the producer */
    size_t n_recipient_keys;       /* (kept only when tlp is RED) */
    /* For sightings: what the tally needs; the reporter is the adding organisation. */
    const char *sighting_of;       /* NULL unless a sighting */
    int64_t first_seen, last_seen; /* microseconds; 0 when absent */
    int64_t count;                 /* 1 when absent */
};

/* The outcome for one object of an add. */
enum tw_obj_result {
    TW_OBJ_ADDED = 0,
    TW_OBJ_DUPLICATE, /* the same (id, version) with the same content: success, nothing new */
    TW_OBJ_CONFLICT,  /* the same (id, version) with other content: refused */
};

/*
 * Adds n objects to a collection in one transaction, all with the same
 * date_added (`now`, microseconds; the store makes it strictly later than
 * anything already in the collection when the clock went back). Version
 * flags (first/last of each id, by version time, and the latest spec_version
 * of each id) are maintained. results[i] receives each outcome. `producer` is
 * the adding organisation, `key` the adding key. An object without an id,
 * type or body, with a version that is not a STIX timestamp or without a TLP
 * makes the whole add TW_EINVAL before anything is written; an unknown
 * collection is TW_ENOTFOUND. On any error nothing of the add is kept.
 */
int tw_store_objects_add(struct tw_store *st, int64_t collection, int64_t producer, int64_t key,
        int64_t now, const struct tw_obj_in *objs, size_t n, enum tw_obj_result *results,
        struct tw_err *err) TW_MUST_CHECK;

/*
 * Who is asking: decides which objects exist for a query (docs/internals/HUB.md,
 * and docs/internals/STORE.md for the SQL).
 * A row is visible when any of these holds:
 *   - all (a hub admin);
 *   - its tlp <= max_tlp (CLEAR and GREEN for every reader of the collection,
 *     AMBER too for its audience; the caller computes max_tlp);
 *   - its tlp is AMBER+STRICT and org is the producer or a named recipient org;
 *   - its tlp is RED and key is the adding key or a named recipient key;
 *   - its tlp is below RED and org is the producer.
 */
struct tw_viewer {
    int64_t org;
    int64_t key;
    uint8_t max_tlp; /* enum tw_tlp: TW_TLP_GREEN, or TW_TLP_AMBER in the audience;
                        values above AMBER count as AMBER */
    bool all;
};

enum tw_version_filter {
    TW_VERSIONS_LAST = 0, /* default */
    TW_VERSIONS_FIRST,
    TW_VERSIONS_ALL,
    TW_VERSIONS_LIST, /* the `versions` list */
};

#define TW_STORE_MAX_MATCH 64    /* values of one match[] filter; more is TW_ELIMIT */
#define TW_STORE_MAX_LIMIT 10000 /* rows of one page */

/* A page request: TAXII filters plus the keyset cursor. */
struct tw_obj_query {
    int64_t collection;
    struct tw_viewer viewer;
    int64_t added_after; /* strictly after; 0 = none */
    /* Keyset cursor (from `next`): only rows after (after_date, after_seq). */
    int64_t after_date;
    int64_t after_seq;
    const char *const *ids; /* match[id], ORed; NULL/0 = any */
    size_t n_ids;
    const char *const *types;
    size_t n_types;
    enum tw_version_filter versions;
    const char *const *version_list; /* STIX timestamps, compared as times */
    size_t n_version_list;
    const char *const *spec_versions; /* NULL = the latest spec_version of each id */
    size_t n_spec_versions;
    size_t limit;   /* rows wanted; the store fetches one more to know `more` */
    bool with_json; /* false for manifests: json is NULL in rows */
};

struct tw_obj_row {
    int64_t seq; /* insertion order, unique */
    int64_t date_added;
    const char *id;
    const char *type;
    const char *version;
    const char *spec_version;
    uint8_t tlp;
    int64_t producer;
    const char *json; /* NULL unless with_json */
    size_t json_len;
};

typedef int tw_store_obj_fn(const struct tw_obj_row *r, void *arg);

/*
 * Calls fn for at most q->limit visible rows in (date_added, seq) order and
 * sets *more (which may be NULL) when further visible rows exist. The cost of
 * a page does not grow with the collection (index range scans only). A
 * non-zero return of fn stops the walk and is returned. limit must be 1 to
 * TW_STORE_MAX_LIMIT; an unknown collection gives no rows.
 */
int tw_store_objects_query(struct tw_store *st, const struct tw_obj_query *q, tw_store_obj_fn *fn,
        void *arg, bool *more, struct tw_err *err);

/*
 * Deletes the versions of `id` in a collection that the query's version and
 * spec_version filters select (only those visible to the viewer); *deleted
 * receives how many. Version flags of what remains are repaired. The store
 * applies the filters as given (TW_VERSIONS_LAST deletes the last version
 * only): TAXII's defaults for DELETE are the hub's to set. TW_ENOTFOUND for
 * an unknown collection; no matching version is TW_OK with *deleted 0.
 */
int tw_store_objects_delete(struct tw_store *st, const struct tw_obj_query *q, const char *id,
        size_t *deleted, struct tw_err *err) TW_MUST_CHECK;

/* ==== Status resources ==== */

struct tw_status_rec {
    char id[37];
    int64_t collection;
    int64_t org; /* who posted: only they may read it */
    int64_t request_time;
    size_t total, success, failure, pending;
    const char *details; /* JSON object {"successes":[...],"failures":[...]} (text), or NULL */
};

/* Stores a status, replacing the one with the same id. */
int tw_store_status_put(
        struct tw_store *st, const struct tw_status_rec *s, struct tw_err *err) TW_MUST_CHECK;
/* Fills out; *details receives a tw_malloc'ed copy of the details text, or NULL
 * when there is none (caller tw_frees), and out->details points at it. */
int tw_store_status_get(struct tw_store *st, const char *id, struct tw_status_rec *out,
        char **details, struct tw_err *err) TW_MUST_CHECK;

/* ==== Sightings tally ==== */

struct tw_tally_row {
    const char *ref;    /* an indicator, intrusion-set or campaign id */
    size_t orgs;        /* distinct reporting organisations */
    int64_t first_seen; /* microseconds */
    int64_t last_seen;
    int64_t count; /* total of the sightings' counts */
};
typedef int tw_store_tally_fn(const struct tw_tally_row *r, void *arg);
/*
 * The tally over the sightings visible to the viewer in every collection it
 * can read: per sighted indicator, and per intrusion set and campaign an
 * `indicates` relationship links the indicator to. Rows by ref (byte order).
 * Readability and the AMBER audience are worked out per collection from the
 * grants (as tw_store_access does), so v->max_tlp is not used here; v->all
 * counts everything. Only the last version of each sighting counts, once per
 * sighting id; relationships count only when visible and readable too.
 */
int tw_store_tally(struct tw_store *st, const struct tw_viewer *v, tw_store_tally_fn *fn, void *arg,
        struct tw_err *err);

/* ==== Access log ==== */

struct tw_log_rec {
    int64_t seq;
    int64_t time;
    char key_id[TW_KEY_ID_LEN + 1]; /* "" for requests without a valid key */
    int64_t org;                    /* 0 when unknown */
    char method[8];
    const char *path;
    int status;
    const char *ids; /* space-separated ids of AMBER, AMBER+STRICT and RED objects returned */
    uint8_t prev[32];
    uint8_t hash[32]; /* SHA-256 over prev and the record's canonical bytes */
};

/* Appends a record, chaining it to the last one (the store fills seq, prev, hash).
 * Appends are serialised across handles, threads and processes. */
int tw_store_log_append(
        struct tw_store *st, struct tw_log_rec *r, struct tw_err *err) TW_MUST_CHECK;
typedef int tw_store_log_fn(const struct tw_log_rec *r, void *arg);
/* Calls fn for every record in seq order; a non-zero return stops and is returned. */
int tw_store_log_each(struct tw_store *st, tw_store_log_fn *fn, void *arg, struct tw_err *err);
/*
 * Computes a record's hash: SHA-256 over r->prev and the record's canonical
 * bytes (docs/internals/STORE.md, "The access log": a format tag, seq, time,
 * org and status as big-endian integers, key_id and method with a length
 * byte, and the SHA-256 of path and of ids, so no allocation is needed).
 * A verifier recomputes it for each record and compares it with r->hash and
 * with the next record's prev.
 */
void tw_store_log_hash(const struct tw_log_rec *r, uint8_t out[32]);

/*
 * Walks the access log recomputing the chain. *n_ok receives the records that
 * verify before the first that does not, *bad_seq that record's seq (0 when
 * the chain is unbroken). `each` (may be NULL) sees every record read, the
 * broken one included. Returns TW_OK whether or not the chain holds; an error
 * only when the log cannot be read.
 */
int tw_store_log_verify(struct tw_store *st, tw_store_log_fn *each, void *arg, int64_t *n_ok,
        int64_t *bad_seq, struct tw_err *err) TW_MUST_CHECK;

#endif
