/*
 * store.c: the hub's storage (include/tidewatch/store.h), written once for
 * both backends (docs/internals/STORE.md).
 *
 * Every rule of the store lives here: uniqueness and error mapping, the
 * objects' TAXII bookkeeping (one date_added per add, strictly later than
 * anything before it in the collection; first/last/latest-spec flags per
 * STIX id), the visibility rule of struct tw_viewer as SQL, keyset pages,
 * sightings and their tally, and the hash-chained access log. SQL goes
 * through the driver seam of db.h with $n placeholders; only the DDL
 * (schema.c), the schema probe and one collation differ per backend.
 *
 * Fixed statements are prepared once per handle and cached by number. A
 * statement in use (its rows are being read while a callback runs, and the
 * callback calls the store again) is not shared: the nested use prepares a
 * private copy. Generated statements (pages, deletes, the tally) are
 * prepared per call.
 */
#include "tidewatch/store.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <pthread.h>
#include <semaphore.h>
#include <unistd.h>

#include "db.h"
#include "store_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/buf.h"
#include "tidewatch/hash.h"
#include "tidewatch/str.h"
#include "tidewatch/time.h"
#include "tidewatch/tlp.h"

/* ==== Limits ==== */

#define TW_STORE_MAX_SQL        ((size_t)256 * 1024) /* bytes of one generated statement */
#define TW_STORE_MAX_ARGS       512                  /* parameters of one generated statement */
#define TW_STORE_MAX_RECIPIENTS 4096                 /* recipient orgs or keys of one object */
#define TW_STORE_MAX_VERSIONS   100000               /* versions of one id in one collection */
#define TW_STORE_LOG_CHUNK      512                  /* access-log records per round trip */
#define TW_STORE_GEN_CACHE      8                    /* page statements kept prepared per handle */
#define TW_STORE_PATH_MAX       4096

/* ==== Types ==== */

enum stmt_id {
    S_SCHEMA_VERSION,
    S_ORG_ADD,
    S_ORG_BY_NAME,
    S_ORG_BY_ID,
    S_ORG_DISCLOSE,
    S_ORG_EACH,
    S_GROUP_ADD,
    S_GROUP_GET,
    S_GROUP_MEMBER,
    S_KEY_ADD,
    S_KEY_GET,
    S_KEY_REVOKE,
    S_KEY_EACH,
    S_KEY_EACH_ORG,
    S_ROOT_ADD,
    S_ROOT_GET,
    S_ROOT_EACH,
    S_COLL_ADD,
    S_COLL_BY_UUID,
    S_COLL_BY_ALIAS,
    S_COLL_EACH,
    S_COLL_EACH_ROOT,
    S_GRANT_ORG,
    S_GRANT_GROUP,
    S_ACCESS,
    S_COLL_STAMP,
    S_COLL_LOCK,
    S_OBJ_FIND,
    S_OBJ_INSERT,
    S_OBJ_ORG,
    S_OBJ_KEY,
    S_SIGHTING_ADD,
    S_OBJ_VERSIONS,
    S_OBJ_FLAGS,
    S_STATUS_PUT,
    S_STATUS_GET,
    S_LOG_LOCK,
    S_LOG_LAST,
    S_LOG_ADD,
    S_LOG_EACH,
    S_COUNT
};

struct log_group;

/* A generated page statement kept prepared, found again by its text. */
struct gen_stmt {
    char *sql; /* NULL: the slot is empty */
    struct tw__stmt *s;
    bool busy;     /* being stepped by a caller */
    uint64_t used; /* when last taken, for eviction */
};

struct tw_store {
    struct tw__db *db;
    bool pg;
    struct tw__stmt *cache[S_COUNT];
    bool busy[S_COUNT];   /* cache[i] is being stepped by a caller */
    struct log_group *lg; /* access-log group commit of this location (NULL: none) */
    struct gen_stmt gen[TW_STORE_GEN_CACHE];
    uint64_t gen_clock;
};

/* One use of a statement: from the cache (slot >= 0) or private (slot -1). */
struct q {
    struct tw_store *st;
    struct tw__stmt *s;
    int slot;
};

/* A generated statement: text plus the values of its placeholders, in order. */
struct sqlarg {
    bool text;
    int64_t i;
    const char *s; /* borrowed from the caller's query */
};

struct sqlb {
    struct tw_buf sql;
    int rc;
    int n;
    struct sqlarg args[TW_STORE_MAX_ARGS];
};

/* ==== SQL ==== */

#define ORG_COLS  "id, name, sector, identity_id, disclose_sightings, created"
#define KEY_COLS  "id, key_id, hash, org, role, label, rate_per_min, created, revoked"
#define COLL_COLS "id, uuid, root, title, description, alias, default_tlp, grp, created"
#define LOG_COLS  "seq, logged_at, key_id, org, method, path, status, ids, prev, hash"

/*
 * Access of organisation ORG to collection COLL (SQL expressions). A right is
 * granted to the organisation itself or to a group it belongs to. The AMBER
 * audience is narrower: organisations named by a grant of their own, and the
 * members of the collection's sharing group (STORE.md, "Access").
 */
#define SQL_GRANTED(coll, org, right)                                                              \
    "(EXISTS (SELECT 1 FROM grants_org g WHERE g.collection = " coll " AND g.org = " org           \
    " AND g." right " = 1) OR EXISTS (SELECT 1 FROM grants_group g JOIN group_members m"           \
    " ON m.grp = g.grp WHERE g.collection = " coll " AND m.org = " org " AND g." right " = 1))"
#define SQL_AUDIENCE(coll, org)                                                                    \
    "(EXISTS (SELECT 1 FROM grants_org g WHERE g.collection = " coll " AND g.org = " org           \
    " AND (g.can_read = 1 OR g.can_write = 1)) OR EXISTS (SELECT 1 FROM collections ac"            \
    " JOIN group_members m ON m.grp = ac.grp WHERE ac.id = " coll " AND m.org = " org "))"

static const char *const stmt_sql[S_COUNT] = {
    [S_SCHEMA_VERSION] = "SELECT version FROM schema_version",
    [S_ORG_ADD] = "INSERT INTO orgs (name, sector, identity_id, disclose_sightings, created)"
                  " VALUES ($1, $2, $3, $4, $5) RETURNING id",
    [S_ORG_BY_NAME] = "SELECT " ORG_COLS " FROM orgs WHERE name = $1",
    [S_ORG_BY_ID] = "SELECT " ORG_COLS " FROM orgs WHERE id = $1",
    [S_ORG_DISCLOSE] = "UPDATE orgs SET disclose_sightings = $2 WHERE id = $1 RETURNING id",
    [S_ORG_EACH] = "SELECT " ORG_COLS " FROM orgs ORDER BY id",
    [S_GROUP_ADD] = "INSERT INTO sharing_groups (name) VALUES ($1) RETURNING id",
    [S_GROUP_GET] = "SELECT id FROM sharing_groups WHERE name = $1",
    [S_GROUP_MEMBER] = "INSERT INTO group_members (grp, org) VALUES ($1, $2)"
                       " ON CONFLICT (grp, org) DO NOTHING",
    [S_KEY_ADD] = "INSERT INTO api_keys (key_id, hash, org, role, label, rate_per_min, created,"
                  " revoked) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    [S_KEY_GET] = "SELECT " KEY_COLS " FROM api_keys WHERE key_id = $1",
    [S_KEY_REVOKE] = "UPDATE api_keys SET revoked = $2 WHERE key_id = $1 AND revoked = 0"
                     " RETURNING id",
    [S_KEY_EACH] = "SELECT " KEY_COLS " FROM api_keys ORDER BY id",
    [S_KEY_EACH_ORG] = "SELECT " KEY_COLS " FROM api_keys WHERE org = $1 ORDER BY id",
    [S_ROOT_ADD] = "INSERT INTO api_roots (name, title, description) VALUES ($1, $2, $3)",
    [S_ROOT_GET] = "SELECT name, title, description FROM api_roots WHERE name = $1",
    [S_ROOT_EACH] = "SELECT name, title, description FROM api_roots ORDER BY id",
    [S_COLL_ADD] = "INSERT INTO collections (uuid, root, title, description, alias, default_tlp,"
                   " grp, created, last_added) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0)"
                   " RETURNING id",
    [S_COLL_BY_UUID] = "SELECT " COLL_COLS " FROM collections WHERE root = $1 AND uuid = $2",
    [S_COLL_BY_ALIAS] = "SELECT " COLL_COLS " FROM collections WHERE root = $1 AND alias = $2"
                        " AND alias <> ''",
    [S_COLL_EACH] = "SELECT " COLL_COLS " FROM collections ORDER BY id",
    [S_COLL_EACH_ROOT] = "SELECT " COLL_COLS " FROM collections WHERE root = $1 ORDER BY id",
    [S_GRANT_ORG] = "INSERT INTO grants_org (collection, org, can_read, can_write)"
                    " VALUES ($1, $2, $3, $4) ON CONFLICT (collection, org)"
                    " DO UPDATE SET can_read = excluded.can_read, can_write = excluded.can_write",
    [S_GRANT_GROUP] = "INSERT INTO grants_group (collection, grp, can_read, can_write)"
                      " VALUES ($1, $2, $3, $4) ON CONFLICT (collection, grp)"
                      " DO UPDATE SET can_read = excluded.can_read,"
                      " can_write = excluded.can_write",
    [S_ACCESS] = "SELECT CASE WHEN " SQL_GRANTED("c.id", "$2",
            "can_read") " THEN 1 ELSE 0 END,"
                        " CASE WHEN " SQL_GRANTED("c.id", "$2",
                                "can_write") " THEN 1 ELSE 0 END,"
                                             " CASE WHEN " SQL_AUDIENCE("c.id",
                                                     "$2") " THEN 1 ELSE 0 END"
                                                           " FROM collections c WHERE c.id = $1",
    /* Takes the collection's row lock (PostgreSQL) and the next date_added at once. */
    [S_COLL_STAMP] = "UPDATE collections SET last_added = CASE WHEN last_added >= $2"
                     " THEN last_added + 1 ELSE $2 END WHERE id = $1 RETURNING last_added",
    [S_COLL_LOCK] = "UPDATE collections SET last_added = last_added WHERE id = $1 RETURNING id",
    /* Every version of the id, in one index seek: whether one is $3, and that one's body. */
    [S_OBJ_FIND] = "SELECT CASE WHEN version = $3 THEN 1 ELSE 0 END,"
                   " CASE WHEN version = $3 THEN body END FROM objects"
                   " WHERE collection = $1 AND stix_id = $2",
    /* $15: the three flags, 1 for an id's only version, else 0 until repaired. */
    [S_OBJ_INSERT] = "INSERT INTO objects (collection, stix_id, type, spec_version, version, vkey,"
                     " date_added, tlp, producer_org, producer_key, is_first, is_last,"
                     " is_latest_spec, relationship_type, source_ref, target_ref, body)"
                     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $15, $15, $15, $11, $12,"
                     " $13, $14) RETURNING seq",
    [S_OBJ_ORG] = "INSERT INTO object_orgs (obj, org) VALUES ($1, $2)"
                  " ON CONFLICT (obj, org) DO NOTHING",
    [S_OBJ_KEY] = "INSERT INTO object_keys (obj, key_ref) VALUES ($1, $2)"
                  " ON CONFLICT (obj, key_ref) DO NOTHING",
    [S_SIGHTING_ADD] = "INSERT INTO sightings (obj, collection, sighting_of, reporter, first_seen,"
                       " last_seen, sight_count) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    [S_OBJ_VERSIONS] = "SELECT seq, vkey, spec_version, is_first, is_last, is_latest_spec"
                       " FROM objects WHERE collection = $1 AND stix_id = $2",
    [S_OBJ_FLAGS] = "UPDATE objects SET is_first = $2, is_last = $3, is_latest_spec = $4"
                    " WHERE seq = $1",
    [S_STATUS_PUT] = "INSERT INTO statuses (id, collection, org, request_time, total, success,"
                     " failure, pending, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                     " ON CONFLICT (id) DO UPDATE SET collection = excluded.collection,"
                     " org = excluded.org, request_time = excluded.request_time,"
                     " total = excluded.total, success = excluded.success,"
                     " failure = excluded.failure, pending = excluded.pending,"
                     " details = excluded.details",
    [S_STATUS_GET] = "SELECT id, collection, org, request_time, total, success, failure, pending,"
                     " details FROM statuses WHERE id = $1",
    /* Serialises appenders: the row lock (PostgreSQL) or the write lock (SQLite). */
    [S_LOG_LOCK] = "UPDATE log_head SET appends = appends + 1 WHERE id = 1",
    [S_LOG_LAST] = "SELECT seq, hash FROM access_log ORDER BY seq DESC LIMIT 1",
    [S_LOG_ADD] = "INSERT INTO access_log (" LOG_COLS ")"
                  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    [S_LOG_EACH] = "SELECT " LOG_COLS " FROM access_log WHERE seq > $1 ORDER BY seq LIMIT $2",
};

/* ==== Small helpers ==== */

static int64_t now_us(void)
{
    struct tw_time t = tw_time_now();

    return t.sec * 1000000 + (int64_t)(t.nsec / 1000);
}

/* Whether the fixed-size text field a (of cap bytes) holds a NUL. */
static bool fits(const char *a, size_t cap)
{
    return memchr(a, '\0', cap) != NULL;
}

static bool is_pg_location(const char *loc)
{
    return strncmp(loc, "postgresql://", 13) == 0 || strncmp(loc, "postgres://", 11) == 0;
}

static int bad_arg(struct tw_err *err, const char *what)
{
    (void)TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "store: %s", what);
    return TW_EINVAL;
}

/* ==== Statement use ==== */

static int stmt_prepare(
        struct tw_store *st, enum stmt_id id, struct tw__stmt **out, struct tw_err *err)
{
    /* The hot INSERT ... RETURNING seq (db.h, tw__db_prepare_insert). */
    if (id == S_OBJ_INSERT)
        return tw__db_prepare_insert(st->db, stmt_sql[id], out, err);
    return tw__db_prepare(st->db, stmt_sql[id], out, err);
}

static int q_get(struct tw_store *st, enum stmt_id id, struct q *q, struct tw_err *err)
{
    q->st = st;
    q->s = NULL;
    q->slot = -1;
    if (!st->busy[id]) {
        if (st->cache[id] == NULL) {
            int rc = stmt_prepare(st, id, &st->cache[id], err);

            if (rc != TW_OK)
                return rc;
        }
        st->busy[id] = true;
        q->s = st->cache[id];
        q->slot = (int)id;
        return TW_OK;
    }
    return stmt_prepare(st, id, &q->s, err);
}

static void q_put(struct q *q)
{
    if (q->s == NULL)
        return;
    if (q->slot >= 0) {
        tw__db_reset(q->s);
        q->st->busy[q->slot] = false;
    } else {
        tw__db_finalize(q->s);
    }
    q->s = NULL;
}

static void q_int(struct q *q, int i, int64_t v)
{
    tw__db_bind_int(q->s, i, v);
}

/* Binds v, or NULL when v is 0 (optional references and times). */
static void q_opt(struct q *q, int i, int64_t v)
{
    if (v == 0)
        tw__db_bind_null(q->s, i);
    else
        tw__db_bind_int(q->s, i, v);
}

/* Binds a C string, or NULL when s is NULL. */
static void q_str(struct q *q, int i, const char *s)
{
    if (s == NULL)
        tw__db_bind_null(q->s, i);
    else
        tw__db_bind_text(q->s, i, s, strlen(s));
}

static int q_step(struct q *q, struct tw_err *err)
{
    return tw__db_step(q->s, err);
}

/* Runs the statement to its end. */
static int q_exec(struct q *q, struct tw_err *err)
{
    int rc;

    while ((rc = q_step(q, err)) == TW__DB_ROW)
        continue;
    return rc == TW__DB_DONE ? TW_OK : rc;
}

/* Steps to the statement's one row; TW_ENOTFOUND ("no such <what>") when there is none. */
static int q_row(struct q *q, const char *what, struct tw_err *err)
{
    int rc = q_step(q, err);

    if (rc == TW__DB_ROW)
        return TW_OK;
    if (rc == TW__DB_DONE)
        return TW_E_HERE(err, TW_ENOTFOUND, TW_NOPOS, "no such %s", what);
    return rc;
}

static int64_t c_int(struct q *q, int i)
{
    return tw__db_column_int(q->s, i);
}

static const char *c_text(struct q *q, int i, size_t *len)
{
    return tw__db_column_text(q->s, i, len);
}

/* Copies a text column into a fixed field, truncating to cap - 1 bytes. */
static void c_copy(struct q *q, int i, char *dst, size_t cap)
{
    size_t len;
    const char *p = c_text(q, i, &len);

    len = TW_MIN(len, cap - 1);
    memcpy(dst, p, len);
    dst[len] = '\0';
}

/* ==== Generated statements ==== */

static void sqlb_init(struct sqlb *b)
{
    tw_buf_init(&b->sql, TW_STORE_MAX_SQL);
    b->rc = TW_OK;
    b->n = 0;
}

static void sqlb_put(struct sqlb *b, const char *fmt, ...) TW_PRINTF(2, 3);
static void sqlb_put(struct sqlb *b, const char *fmt, ...)
{
    va_list ap;

    if (b->rc != TW_OK)
        return;
    va_start(ap, fmt);
    b->rc = tw_buf_vprintf(&b->sql, fmt, ap);
    va_end(ap);
}

/* Adds a parameter and returns its placeholder number (0 once the statement is full). */
static int sqlb_arg(struct sqlb *b, bool text, int64_t i, const char *s)
{
    if (b->n >= TW_STORE_MAX_ARGS) {
        if (b->rc == TW_OK)
            b->rc = TW_ELIMIT;
        return 0;
    }
    b->args[b->n].text = text;
    b->args[b->n].i = i;
    b->args[b->n].s = s;
    return ++b->n;
}

static int sqlb_int(struct sqlb *b, int64_t v)
{
    return sqlb_arg(b, false, v, NULL);
}

/* " AND <col> IN ($a, $b, ...)" over n strings. */
static void sqlb_in_text(struct sqlb *b, const char *col, const char *const *v, size_t n)
{
    sqlb_put(b, " AND %s IN (", col);
    for (size_t i = 0; i < n; i++)
        sqlb_put(b, "%s$%d", i > 0 ? ", " : "", sqlb_arg(b, true, 0, v[i]));
    sqlb_put(b, ")");
}

/*
 * A prepared statement for the text of b from the handle's cache of page
 * statements: one with the same text that no caller is stepping, else a new
 * one that takes an empty or the least recently used idle slot. Page queries
 * differ in their values, which are parameters, far more often than in their
 * text, and preparing the page query cost more than running it. *slot is the
 * cache slot, or -1 when the statement is the caller's alone (every slot
 * busy, or no memory for the text); gen_release gives it back either way.
 */
static int gen_get(
        struct tw_store *st, const char *sql, struct tw__stmt **out, int *slot, struct tw_err *err)
{
    struct gen_stmt *g, *victim = NULL;
    int rc;

    *slot = -1;
    for (int i = 0; i < TW_STORE_GEN_CACHE; i++) {
        g = &st->gen[i];
        if (g->sql != NULL && !g->busy && strcmp(g->sql, sql) == 0) {
            g->busy = true;
            g->used = ++st->gen_clock;
            *out = g->s;
            *slot = i;
            return TW_OK;
        }
        if (!g->busy && (victim == NULL || g->sql == NULL ||
                                (victim->sql != NULL && g->used < victim->used)))
            victim = g;
    }
    rc = tw__db_prepare(st->db, sql, out, err);
    if (rc != TW_OK || victim == NULL)
        return rc;
    tw__db_finalize(victim->s);
    tw_free(victim->sql);
    victim->s = NULL;
    victim->sql = tw_strdup(sql);
    if (victim->sql == NULL)
        return TW_OK; /* not kept: the caller's alone */
    victim->s = *out;
    victim->busy = true;
    victim->used = ++st->gen_clock;
    *slot = (int)(victim - st->gen);
    return TW_OK;
}

/* Gives back a statement from gen_get: reset for the next caller, or finalized. */
static void gen_release(struct tw_store *st, struct tw__stmt *s, int slot)
{
    if (s == NULL)
        return;
    if (slot < 0) {
        tw__db_finalize(s);
        return;
    }
    assert(st->gen[slot].s == s && st->gen[slot].busy);
    tw__db_reset(s);
    st->gen[slot].busy = false;
}

/*
 * Prepares the statement and binds every parameter. With slot NULL the
 * statement is the caller's to finalize; otherwise it comes from the cache
 * of page statements and goes back with gen_release(st, *out, *slot).
 */
static int sqlb_prepare(
        struct tw_store *st, struct sqlb *b, struct tw__stmt **out, int *slot, struct tw_err *err)
{
    int rc;

    *out = NULL;
    if (slot != NULL)
        *slot = -1;
    if (b->rc != TW_OK) {
        (void)TW_E_HERE(
                err, b->rc, TW_NOPOS, "store: cannot build the query: %s", tw_strerror(b->rc));
        return b->rc;
    }
    if (slot != NULL)
        rc = gen_get(st, b->sql.ptr, out, slot, err);
    else
        rc = tw__db_prepare(st->db, b->sql.ptr, out, err);
    if (rc != TW_OK)
        return rc;
    for (int i = 0; i < b->n; i++) {
        if (b->args[i].text)
            tw__db_bind_text(*out, i + 1, b->args[i].s, strlen(b->args[i].s));
        else
            tw__db_bind_int(*out, i + 1, b->args[i].i);
    }
    return TW_OK;
}

/* A viewer's org or key as bound: 0 (none) becomes -1, so that it matches no row
 * added without an org or key (producer 0) and names no recipient. */
static int64_t viewer_id(int64_t id)
{
    return id > 0 ? id : -1;
}

/*
 * The visibility rule of struct tw_viewer for the object row `o`, as one SQL
 * condition. max_tlp is an SQL expression (a placeholder, or a CASE over the
 * viewer's audience); p_org and p_key are the viewer's placeholders.
 */
static void sqlb_visible(struct sqlb *b, const char *o, const char *max_tlp, int p_org, int p_key)
{
    sqlb_put(b,
            "(%s.tlp <= %s OR (%s.tlp < %d AND %s.producer_org = $%d)"
            " OR (%s.tlp = %d AND EXISTS (SELECT 1 FROM object_orgs vr"
            " WHERE vr.obj = %s.seq AND vr.org = $%d))"
            " OR (%s.tlp = %d AND (%s.producer_key = $%d OR EXISTS (SELECT 1 FROM object_keys vk"
            " WHERE vk.obj = %s.seq AND vk.key_ref = $%d))))",
            o, max_tlp, o, TW_TLP_RED, o, p_org, o, TW_TLP_AMBER_STRICT, o, p_org, o, TW_TLP_RED, o,
            p_key, o, p_key);
}

/* ==== Opening ==== */

static struct log_group *log_group_ref(const char *location);
static void log_group_unref(struct log_group *g);

/* Whether the database (PostgreSQL: the current schema) holds a store. */
static int probe(struct tw__db *db, bool pg, bool *present, struct tw_err *err)
{
    struct tw__stmt *s = NULL;
    int rc = tw__db_prepare(db, tw__store_probe_sql(pg), &s, err);

    *present = false;
    if (rc != TW_OK)
        return rc;
    rc = tw__db_step(s, err);
    tw__db_finalize(s);
    if (rc < 0)
        return rc;
    *present = rc == TW__DB_ROW;
    return TW_OK;
}

/* Creates the tables in one transaction; TW_EEXIST when a store is there already. */
static int install(struct tw__db *db, bool pg, struct tw_err *err)
{
    bool present;
    int rc = tw__db_begin(db, err);

    if (rc != TW_OK)
        return rc;
    rc = probe(db, pg, &present, err);
    if (rc == TW_OK && present)
        rc = TW_E_HERE(err, TW_EEXIST, TW_NOPOS, "a store exists already at this location");
    for (const char *const *ddl = tw__store_ddl(pg); rc == TW_OK && *ddl != NULL; ddl++)
        rc = tw__db_exec(db, *ddl, err);
    if (rc != TW_OK) {
        tw__db_rollback(db);
        return rc;
    }
    return tw__db_commit(db, err);
}

static void remove_sqlite_files(const char *path)
{
    static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
    char name[TW_STORE_PATH_MAX];

    for (size_t i = 0; i < TW_ARRAY_LEN(suffix); i++) {
        int n = snprintf(name, sizeof(name), "%s%s", path, suffix[i]);

        if (n > 0 && (size_t)n < sizeof(name))
            (void)unlink(name);
    }
}

/* Creates a new SQLite store file; nothing is left behind on failure. */
static int create_sqlite(const char *path, struct tw_err *err)
{
    struct tw__db *db = NULL;
    int rc = tw__db_open_sqlite(path, TW__DB_CREATE, &db, err);

    if (rc != TW_OK) {
        if (rc != TW_EEXIST)
            remove_sqlite_files(path);
        return rc;
    }
    rc = install(db, false, err);
    tw__db_close(db);
    if (rc != TW_OK)
        remove_sqlite_files(path);
    return rc;
}

static int check_schema(struct tw_store *st, struct tw_err *err)
{
    struct q q;
    bool present;
    int64_t version;
    int rc = probe(st->db, st->pg, &present, err);

    if (rc != TW_OK)
        return rc;
    if (!present)
        return TW_E_HERE(err, TW_ENOTFOUND, TW_NOPOS, "no tidewatch store at this location");
    rc = q_get(st, S_SCHEMA_VERSION, &q, err);
    if (rc != TW_OK)
        return rc;
    rc = q_row(&q, "schema version", err);
    version = rc == TW_OK ? c_int(&q, 0) : 0;
    q_put(&q);
    if (rc != TW_OK)
        return rc;
    if (version != TW__STORE_SCHEMA_VERSION)
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS,
                "store schema version %lld; this build reads version %d", (long long)version,
                TW__STORE_SCHEMA_VERSION);
    return TW_OK;
}

int tw_store_open(const char *location, bool create, struct tw_store **out, struct tw_err *err)
{
    struct tw_store *st;
    struct tw__db *db = NULL;
    bool pg;
    int rc;

    if (out == NULL || location == NULL || location[0] == '\0')
        return bad_arg(err, "open needs a location");
    *out = NULL;
    pg = is_pg_location(location);
    if (!pg && create) {
        rc = create_sqlite(location, err);
        if (rc != TW_OK)
            return rc;
    }
    if (pg)
        rc = tw__db_open_pg(location, &db, err);
    else
        rc = tw__db_open_sqlite(location, TW__DB_OPEN, &db, err);
    if (rc != TW_OK)
        return rc;
    if (pg && create) {
        rc = install(db, true, err);
        if (rc != TW_OK) {
            tw__db_close(db);
            return rc;
        }
    }
    st = tw_calloc(1, sizeof(*st));
    if (st == NULL) {
        tw__db_close(db);
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "store: out of memory");
    }
    st->db = db;
    st->pg = pg;
    st->lg = log_group_ref(location);
    rc = check_schema(st, err);
    if (rc != TW_OK) {
        tw_store_close(st);
        return rc;
    }
    *out = st;
    return TW_OK;
}

void tw_store_close(struct tw_store *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < S_COUNT; i++)
        tw__db_finalize(st->cache[i]);
    for (size_t i = 0; i < TW_STORE_GEN_CACHE; i++) {
        tw__db_finalize(st->gen[i].s);
        tw_free(st->gen[i].sql);
    }
    tw__db_close(st->db);
    log_group_unref(st->lg);
    tw_free(st);
}

const char *tw_store_backend(const struct tw_store *st)
{
    return st != NULL ? tw__db_name(st->db) : "none";
}

struct tw__db *tw__store_db(struct tw_store *st)
{
    return st->db;
}

/* ==== Organisations, groups ==== */

static void read_org(struct q *q, struct tw_org *o)
{
    memset(o, 0, sizeof(*o));
    o->id = c_int(q, 0);
    c_copy(q, 1, o->name, sizeof(o->name));
    c_copy(q, 2, o->sector, sizeof(o->sector));
    c_copy(q, 3, o->identity_id, sizeof(o->identity_id));
    o->disclose_sightings = c_int(q, 4) != 0;
    o->created = c_int(q, 5);
}

int tw_store_org_add(struct tw_store *st, struct tw_org *o, struct tw_err *err)
{
    struct q q;
    int64_t created;
    int rc;

    if (st == NULL || o == NULL || !fits(o->name, sizeof(o->name)) || o->name[0] == '\0' ||
            !fits(o->sector, sizeof(o->sector)) || !fits(o->identity_id, sizeof(o->identity_id)))
        return bad_arg(err, "an organisation needs a name; every field NUL-terminated");
    created = o->created != 0 ? o->created : now_us();
    rc = q_get(st, S_ORG_ADD, &q, err);
    if (rc != TW_OK)
        return rc;
    q_str(&q, 1, o->name);
    q_str(&q, 2, o->sector);
    q_str(&q, 3, o->identity_id);
    q_int(&q, 4, o->disclose_sightings ? 1 : 0);
    q_int(&q, 5, created);
    rc = q_row(&q, "organisation", err);
    if (rc == TW_OK) {
        o->id = c_int(&q, 0);
        o->created = created;
    } else if (rc == TW_EEXIST) {
        rc = TW_E_HERE(err, TW_EEXIST, TW_NOPOS, "organisation %s exists already", o->name);
    }
    q_put(&q);
    return rc;
}

int tw_store_org_get(
        struct tw_store *st, const char *name, int64_t id, struct tw_org *out, struct tw_err *err)
{
    struct q q;
    int rc;

    if (st == NULL || out == NULL)
        return bad_arg(err, "org_get needs a store and an output");
    rc = q_get(st, name != NULL ? S_ORG_BY_NAME : S_ORG_BY_ID, &q, err);
    if (rc != TW_OK)
        return rc;
    if (name != NULL)
        q_str(&q, 1, name);
    else
        q_int(&q, 1, id);
    rc = q_row(&q, "organisation", err);
    if (rc == TW_OK)
        read_org(&q, out);
    q_put(&q);
    return rc;
}

int tw_store_org_set_disclose(struct tw_store *st, int64_t org, bool disclose, struct tw_err *err)
{
    struct q q;
    int rc;

    if (st == NULL)
        return bad_arg(err, "no store");
    rc = q_get(st, S_ORG_DISCLOSE, &q, err);
    if (rc != TW_OK)
        return rc;
    q_int(&q, 1, org);
    q_int(&q, 2, disclose ? 1 : 0);
    rc = q_row(&q, "organisation", err);
    q_put(&q);
    return rc;
}

int tw_store_org_each(struct tw_store *st, tw_store_org_fn *fn, void *arg, struct tw_err *err)
{
    struct tw_org o;
    struct q q;
    int rc;

    if (st == NULL || fn == NULL)
        return bad_arg(err, "org_each needs a store and a callback");
    rc = q_get(st, S_ORG_EACH, &q, err);
    if (rc != TW_OK)
        return rc;
    while ((rc = q_step(&q, err)) == TW__DB_ROW) {
        read_org(&q, &o);
        rc = fn(&o, arg);
        if (rc != 0)
            break;
    }
    q_put(&q);
    return rc == TW__DB_DONE ? TW_OK : rc;
}

int tw_store_group_add(struct tw_store *st, const char *name, int64_t *id, struct tw_err *err)
{
    struct q q;
    int rc;

    if (st == NULL || name == NULL || name[0] == '\0' || strlen(name) >= TW_STORE_NAME_MAX)
        return bad_arg(err, "a group needs a name shorter than TW_STORE_NAME_MAX");
    rc = q_get(st, S_GROUP_ADD, &q, err);
    if (rc != TW_OK)
        return rc;
    q_str(&q, 1, name);
    rc = q_row(&q, "group", err);
    if (rc == TW_OK && id != NULL)
        *id = c_int(&q, 0);
    else if (rc == TW_EEXIST)
        rc = TW_E_HERE(err, TW_EEXIST, TW_NOPOS, "group %s exists already", name);
    q_put(&q);
    return rc;
}

int tw_store_group_get(struct tw_store *st, const char *name, int64_t *id, struct tw_err *err)
{
    struct q q;
    int rc;

    if (st == NULL || name == NULL || id == NULL)
        return bad_arg(err, "group_get needs a name and an output");
    rc = q_get(st, S_GROUP_GET, &q, err);
    if (rc != TW_OK)
        return rc;
    q_str(&q, 1, name);
    rc = q_row(&q, "group", err);
    if (rc == TW_OK)
        *id = c_int(&q, 0);
    q_put(&q);
    return rc;
}

int tw_store_group_member_add(struct tw_store *st, int64_t group, int64_t org, struct tw_err *err)
{
    struct q q;
    int rc;

    if (st == NULL)
        return bad_arg(err, "no store");
    rc = q_get(st, S_GROUP_MEMBER, &q, err);
    if (rc != TW_OK)
        return rc;
    q_int(&q, 1, group);
    q_int(&q, 2, org);
    rc = q_exec(&q, err);
    q_put(&q);
    return rc;
}

/* ==== API keys ==== */

static void read_key(struct q *q, struct tw_key *k)
{
    size_t len;
    const void *hash;

    memset(k, 0, sizeof(*k));
    k->id = c_int(q, 0);
    c_copy(q, 1, k->key_id, sizeof(k->key_id));
    hash = tw__db_column_blob(q->s, 2, &len);
    memcpy(k->hash, hash, TW_MIN(len, sizeof(k->hash)));
    k->org = c_int(q, 3);
    k->role = (enum tw_role)c_int(q, 4);
    c_copy(q, 5, k->label, sizeof(k->label));
    k->rate_per_min = (uint32_t)c_int(q, 6);
    k->created = c_int(q, 7);
    k->revoked = c_int(q, 8);
}

int tw_store_key_add(struct tw_store *st, struct tw_key *k, struct tw_err *err)
{
    struct q q;
    int64_t created;
    int rc;

    if (st == NULL || k == NULL || !fits(k->key_id, sizeof(k->key_id)) || k->key_id[0] == '\0' ||
            !fits(k->label, sizeof(k->label)))
        return bad_arg(err, "a key needs a key id; every field NUL-terminated");
    if (k->role < TW_ROLE_READER || k->role > TW_ROLE_HUB_ADMIN)
        return bad_arg(err, "a key needs a role");
    created = k->created != 0 ? k->created : now_us();
    rc = q_get(st, S_KEY_ADD, &q, err);
    if (rc != TW_OK)
        return rc;
    q_str(&q, 1, k->key_id);
    tw__db_bind_blob(q.s, 2, k->hash, sizeof(k->hash));
    q_int(&q, 3, k->org);
    q_int(&q, 4, (int64_t)k->role);
    q_str(&q, 5, k->label);
    q_int(&q, 6, (int64_t)k->rate_per_min);
    q_int(&q, 7, created);
    q_int(&q, 8, k->revoked);
    rc = q_row(&q, "key", err);
    if (rc == TW_OK) {
        k->id = c_int(&q, 0);
        k->created = created;
    } else if (rc == TW_EEXIST) {
        rc = TW_E_HERE(err, TW_EEXIST, TW_NOPOS, "key id %s exists already", k->key_id);
    } else if (rc == TW_ENOTFOUND) {
        rc = TW_E_HERE(err, TW_ENOTFOUND, TW_NOPOS, "no organisation %lld", (long long)k->org);
    }
    q_put(&q);
    return rc;
}

int tw_store_key_get(
        struct tw_store *st, const char *key_id, struct tw_key *out, struct tw_err *err)
{
    struct q q;
    int rc;

    if (st == NULL || key_id == NULL || out == NULL)
        return bad_arg(err, "key_get needs a key id and an output");
    rc = q_get(st, S_KEY_GET, &q, err);
    if (rc != TW_OK)
        return rc;
    q_str(&q, 1, key_id);
    rc = q_row(&q, "key", err);
    if (rc == TW_OK)
        read_key(&q, out);
    q_put(&q);
    return rc;
}

int tw_store_key_revoke(struct tw_store *st, const char *key_id, int64_t now, struct tw_err *err)
{
    struct q q;
    int rc;

    if (st == NULL || key_id == NULL)
        return bad_arg(err, "key_revoke needs a key id");
    rc = q_get(st, S_KEY_REVOKE, &q, err);
    if (rc != TW_OK)
        return rc;
    q_str(&q, 1, key_id);
    q_int(&q, 2, now > 0 ? now : 1);
    rc = q_row(&q, "live key", err);
    q_put(&q);
    return rc;
}

int tw_store_key_each(
        struct tw_store *st, int64_t org, tw_store_key_fn *fn, void *arg, struct tw_err *err)
{
    struct tw_key k;
    struct q q;
    int rc;

    if (st == NULL || fn == NULL)
        return bad_arg(err, "key_each needs a store and a callback");
    rc = q_get(st, org < 0 ? S_KEY_EACH : S_KEY_EACH_ORG, &q, err);
    if (rc != TW_OK)
        return rc;
    if (org >= 0)
        q_int(&q, 1, org);
    while ((rc = q_step(&q, err)) == TW__DB_ROW) {
        read_key(&q, &k);
        rc = fn(&k, arg);
        if (rc != 0)
            break;
    }
    q_put(&q);
    return rc == TW__DB_DONE ? TW_OK : rc;
}

/* ==== API roots, collections, grants ==== */

static void read_root(struct q *q, struct tw_api_root *r)
{
    memset(r, 0, sizeof(*r));
    c_copy(q, 0, r->name, sizeof(r->name));
    c_copy(q, 1, r->title, sizeof(r->title));
    c_copy(q, 2, r->description, sizeof(r->description));
}

int tw_store_root_add(struct tw_store *st, const struct tw_api_root *r, struct tw_err *err)
{
    struct q q;
    int rc;

    if (st == NULL || r == NULL || !fits(r->name, sizeof(r->name)) || r->name[0] == '\0' ||
            !fits(r->title, sizeof(r->title)) || !fits(r->description, sizeof(r->description)))
        return bad_arg(err, "an API root needs a name; every field NUL-terminated");
    rc = q_get(st, S_ROOT_ADD, &q, err);
    if (rc != TW_OK)
        return rc;
    q_str(&q, 1, r->name);
    q_str(&q, 2, r->title);
    q_str(&q, 3, r->description);
    rc = q_exec(&q, err);
    if (rc == TW_EEXIST)
        rc = TW_E_HERE(err, TW_EEXIST, TW_NOPOS, "API root %s exists already", r->name);
    q_put(&q);
    return rc;
}

int tw_store_root_get(
        struct tw_store *st, const char *name, struct tw_api_root *out, struct tw_err *err)
{
    struct q q;
    int rc;

    if (st == NULL || name == NULL || out == NULL)
        return bad_arg(err, "root_get needs a name and an output");
    rc = q_get(st, S_ROOT_GET, &q, err);
    if (rc != TW_OK)
        return rc;
    q_str(&q, 1, name);
    rc = q_row(&q, "API root", err);
    if (rc == TW_OK)
        read_root(&q, out);
    q_put(&q);
    return rc;
}

int tw_store_root_each(struct tw_store *st, tw_store_root_fn *fn, void *arg, struct tw_err *err)
{
    struct tw_api_root r;
    struct q q;
    int rc;

    if (st == NULL || fn == NULL)
        return bad_arg(err, "root_each needs a store and a callback");
    rc = q_get(st, S_ROOT_EACH, &q, err);
    if (rc != TW_OK)
        return rc;
    while ((rc = q_step(&q, err)) == TW__DB_ROW) {
        read_root(&q, &r);
        rc = fn(&r, arg);
        if (rc != 0)
            break;
    }
    q_put(&q);
    return rc == TW__DB_DONE ? TW_OK : rc;
}

static void read_collection(struct q *q, struct tw_collection *c)
{
    memset(c, 0, sizeof(*c));
    c->id = c_int(q, 0);
    c_copy(q, 1, c->uuid, sizeof(c->uuid));
    c_copy(q, 2, c->root, sizeof(c->root));
    c_copy(q, 3, c->title, sizeof(c->title));
    c_copy(q, 4, c->description, sizeof(c->description));
    c_copy(q, 5, c->alias, sizeof(c->alias));
    c->default_tlp = (uint8_t)c_int(q, 6);
    c->group = c_int(q, 7);
    c->created = c_int(q, 8);
}

/* Parses s as a UUID and writes its canonical lower-case form; false when it is not one. */
static bool canonical_uuid(const char *s, char out[TW_UUID_STRLEN])
{
    uint8_t u[16];

    if (!tw_uuid_parse(tw_str_cstr(s), u))
        return false;
    tw_uuid_format(u, out);
    return true;
}

int tw_store_collection_add(struct tw_store *st, struct tw_collection *c, struct tw_err *err)
{
    char uuid[TW_UUID_STRLEN];
    uint8_t tlp;
    int64_t created;
    struct q q;
    int rc;

    if (st == NULL || c == NULL || !fits(c->uuid, sizeof(c->uuid)) ||
            !fits(c->root, sizeof(c->root)) || c->root[0] == '\0' ||
            !fits(c->title, sizeof(c->title)) || !fits(c->description, sizeof(c->description)) ||
            !fits(c->alias, sizeof(c->alias)))
        return bad_arg(err, "a collection needs an API root; every field NUL-terminated");
    tlp = c->default_tlp != TW_TLP_NONE ? c->default_tlp : (uint8_t)TW_TLP_AMBER;
    if (tlp > TW_TLP_RED)
        return bad_arg(err, "default_tlp is not a TLP level");
    if (c->alias[0] != '\0' && canonical_uuid(c->alias, uuid))
        return bad_arg(err, "a collection alias may not be a UUID");
    if (c->uuid[0] == '\0') {
        uint8_t u[16];

        rc = tw_uuid_v4(u);
        if (rc != TW_OK)
            return TW_E_HERE(err, rc, TW_NOPOS, "store: no random source for a collection id");
        tw_uuid_format(u, uuid);
    } else if (!canonical_uuid(c->uuid, uuid)) {
        return bad_arg(err, "a collection id must be a UUID");
    }
    created = c->created != 0 ? c->created : now_us();
    rc = q_get(st, S_COLL_ADD, &q, err);
    if (rc != TW_OK)
        return rc;
    q_str(&q, 1, uuid);
    q_str(&q, 2, c->root);
    q_str(&q, 3, c->title);
    q_str(&q, 4, c->description);
    q_str(&q, 5, c->alias);
    q_int(&q, 6, tlp);
    q_opt(&q, 7, c->group);
    q_int(&q, 8, created);
    rc = q_row(&q, "collection", err);
    if (rc == TW_OK) {
        c->id = c_int(&q, 0);
        memcpy(c->uuid, uuid, sizeof(uuid));
        c->default_tlp = tlp;
        c->created = created;
    } else if (rc == TW_EEXIST) {
        rc = TW_E_HERE(
                err, TW_EEXIST, TW_NOPOS, "collection id or alias taken in root %s", c->root);
    } else if (rc == TW_ENOTFOUND) {
        rc = TW_E_HERE(err, TW_ENOTFOUND, TW_NOPOS, "no API root %s or no such group", c->root);
    }
    q_put(&q);
    return rc;
}

int tw_store_collection_get(struct tw_store *st, const char *root, const char *key,
        struct tw_collection *out, struct tw_err *err)
{
    char uuid[TW_UUID_STRLEN];
    bool by_uuid;
    struct q q;
    int rc;

    if (st == NULL || root == NULL || key == NULL || key[0] == '\0' || out == NULL)
        return bad_arg(err, "collection_get needs a root, a key and an output");
    by_uuid = canonical_uuid(key, uuid);
    rc = q_get(st, by_uuid ? S_COLL_BY_UUID : S_COLL_BY_ALIAS, &q, err);
    if (rc != TW_OK)
        return rc;
    q_str(&q, 1, root);
    q_str(&q, 2, by_uuid ? uuid : key);
    rc = q_row(&q, "collection", err);
    if (rc == TW_OK)
        read_collection(&q, out);
    q_put(&q);
    return rc;
}

int tw_store_collection_each(struct tw_store *st, const char *root, tw_store_collection_fn *fn,
        void *arg, struct tw_err *err)
{
    struct tw_collection c;
    struct q q;
    int rc;

    if (st == NULL || fn == NULL)
        return bad_arg(err, "collection_each needs a store and a callback");
    rc = q_get(st, root != NULL ? S_COLL_EACH_ROOT : S_COLL_EACH, &q, err);
    if (rc != TW_OK)
        return rc;
    if (root != NULL)
        q_str(&q, 1, root);
    while ((rc = q_step(&q, err)) == TW__DB_ROW) {
        read_collection(&q, &c);
        rc = fn(&c, arg);
        if (rc != 0)
            break;
    }
    q_put(&q);
    return rc == TW__DB_DONE ? TW_OK : rc;
}

int tw_store_grant(struct tw_store *st, int64_t collection, int64_t org, int64_t group,
        bool can_read, bool can_write, struct tw_err *err)
{
    struct q q;
    int rc;

    if (st == NULL || (org > 0) == (group > 0))
        return bad_arg(err, "a grant names exactly one organisation or one group");
    rc = q_get(st, org > 0 ? S_GRANT_ORG : S_GRANT_GROUP, &q, err);
    if (rc != TW_OK)
        return rc;
    q_int(&q, 1, collection);
    q_int(&q, 2, org > 0 ? org : group);
    q_int(&q, 3, can_read ? 1 : 0);
    q_int(&q, 4, can_write ? 1 : 0);
    rc = q_exec(&q, err);
    if (rc == TW_ENOTFOUND)
        rc = TW_E_HERE(err, TW_ENOTFOUND, TW_NOPOS, "no such collection, organisation or group");
    q_put(&q);
    return rc;
}

int tw_store_access(struct tw_store *st, int64_t collection, int64_t org, struct tw_access *out,
        struct tw_err *err)
{
    struct q q;
    int rc;

    if (st == NULL || out == NULL)
        return bad_arg(err, "access needs a store and an output");
    memset(out, 0, sizeof(*out));
    rc = q_get(st, S_ACCESS, &q, err);
    if (rc != TW_OK)
        return rc;
    q_int(&q, 1, collection);
    q_int(&q, 2, org);
    rc = q_row(&q, "collection", err);
    if (rc == TW_OK) {
        out->can_read = c_int(&q, 0) != 0;
        out->can_write = c_int(&q, 1) != 0;
        out->in_audience = c_int(&q, 2) != 0;
    }
    q_put(&q);
    return rc;
}

/* ==== Objects: keys of versions ==== */

/*
 * A STIX version (modified/created) as microseconds, so that versions order
 * by time whatever their number of fractional digits. "" (an SCO without a
 * version) is 0. TW_EINVAL for anything that is not a STIX timestamp.
 */
static int version_key(const char *version, int64_t *out)
{
    struct tw_time t;

    *out = 0;
    if (version[0] == '\0')
        return TW_OK;
    if (tw_time_parse(tw_str_cstr(version), 0, &t, NULL) != TW_OK)
        return TW_EINVAL;
    *out = t.sec * 1000000 + (int64_t)(t.nsec / 1000);
    return TW_OK;
}

/* "2.1" as 2000001, so spec versions compare as numbers ("2.10" > "2.9"); 0 when unreadable. */
static int64_t spec_key(struct tw_str s)
{
    struct tw_str major;
    uint64_t a = 0, b = 0;

    if (!tw_str_split(&s, '.', &major) || tw_parse_u64(major, 999999, &a) != TW_OK ||
            tw_parse_u64(s, 999999, &b) != TW_OK)
        return 0;
    return (int64_t)(a * 1000000 + b);
}

/* ==== Objects: adding ==== */

static int check_obj(const struct tw_obj_in *o, size_t i, struct tw_err *err)
{
    int64_t vkey;

    if (o->id == NULL || o->id[0] == '\0' || o->type == NULL || o->type[0] == '\0' ||
            o->spec_version == NULL || o->version == NULL || o->json == NULL || o->json_len == 0)
        return TW_E_HERE(err, TW_EINVAL, i, "object %zu lacks an id, type, version or body", i);
    if (memchr(o->json, '\0', o->json_len) != NULL)
        return TW_E_HERE(err, TW_EINVAL, i, "object %zu: body holds a NUL byte", i);
    if (o->tlp < TW_TLP_CLEAR || o->tlp > TW_TLP_RED)
        return TW_E_HERE(err, TW_EINVAL, i, "object %zu: no effective TLP", i);
    if ((o->n_recipient_orgs > 0 && o->recipient_orgs == NULL) ||
            (o->n_recipient_keys > 0 && o->recipient_keys == NULL))
        return TW_E_HERE(err, TW_EINVAL, i, "object %zu: recipients missing", i);
    if (o->n_recipient_orgs > TW_STORE_MAX_RECIPIENTS ||
            o->n_recipient_keys > TW_STORE_MAX_RECIPIENTS)
        return TW_E_HERE(err, TW_ELIMIT, i, "object %zu: more than %d recipients", i,
                TW_STORE_MAX_RECIPIENTS);
    if (version_key(o->version, &vkey) != TW_OK)
        return TW_E_HERE(
                err, TW_EINVAL, i, "object %zu: version %s is not a STIX timestamp", i, o->version);
    return TW_OK;
}

/* Takes the collection's lock and its next date_added (STORE.md, "date_added"). */
static int stamp(
        struct tw_store *st, int64_t collection, int64_t now, int64_t *date, struct tw_err *err)
{
    struct q q;
    int rc = q_get(st, S_COLL_STAMP, &q, err);

    if (rc != TW_OK)
        return rc;
    q_int(&q, 1, collection);
    q_int(&q, 2, now);
    rc = q_row(&q, "collection", err);
    if (rc == TW_OK)
        *date = c_int(&q, 0);
    q_put(&q);
    return rc;
}

/* Relationship columns: parsed from the body, which the hub has validated. */
struct rel {
    json_t *doc;
    const char *type, *source, *target;
};

static int rel_parse(const struct tw_obj_in *o, struct rel *r, struct tw_err *err)
{
    json_error_t jerr;

    memset(r, 0, sizeof(*r));
    if (strcmp(o->type, "relationship") != 0)
        return TW_OK;
    r->doc = json_loadb(o->json, o->json_len, 0, &jerr);
    if (r->doc == NULL || !json_is_object(r->doc))
        return TW_E_HERE(
                err, TW_EINVAL, TW_NOPOS, "relationship %s: body is not a JSON object", o->id);
    r->type = json_string_value(json_object_get(r->doc, "relationship_type"));
    r->source = json_string_value(json_object_get(r->doc, "source_ref"));
    r->target = json_string_value(json_object_get(r->doc, "target_ref"));
    return TW_OK;
}

static int add_recipients(struct tw_store *st, enum stmt_id id, int64_t seq, const int64_t *v,
        size_t n, struct tw_err *err)
{
    for (size_t i = 0; i < n; i++) {
        struct q q;
        int rc = q_get(st, id, &q, err);

        if (rc != TW_OK)
            return rc;
        q_int(&q, 1, seq);
        q_int(&q, 2, v[i]);
        rc = q_exec(&q, err);
        q_put(&q);
        if (rc != TW_OK)
            return rc;
    }
    return TW_OK;
}

static int add_sighting(struct tw_store *st, int64_t collection, int64_t producer, int64_t seq,
        const struct tw_obj_in *o, struct tw_err *err)
{
    struct q q;
    int rc = q_get(st, S_SIGHTING_ADD, &q, err);

    if (rc != TW_OK)
        return rc;
    q_int(&q, 1, seq);
    q_int(&q, 2, collection);
    q_str(&q, 3, o->sighting_of);
    q_int(&q, 4, producer);
    q_opt(&q, 5, o->first_seen);
    q_opt(&q, 6, o->last_seen);
    q_int(&q, 7, o->count);
    rc = q_exec(&q, err);
    q_put(&q);
    return rc;
}

/*
 * Looks for the versions of o's id in the collection: *other when there is
 * any, *found when one is o's version, and *same when that one's body is the
 * same bytes.
 */
static int find_version(struct tw_store *st, int64_t collection, const struct tw_obj_in *o,
        bool *found, bool *same, bool *other, struct tw_err *err)
{
    struct q q;
    int rc = q_get(st, S_OBJ_FIND, &q, err);

    *found = false;
    *same = false;
    *other = false;
    if (rc != TW_OK)
        return rc;
    q_int(&q, 1, collection);
    q_str(&q, 2, o->id);
    q_str(&q, 3, o->version);
    while ((rc = q_step(&q, err)) == TW__DB_ROW) {
        *other = true;
        if (c_int(&q, 0) != 0) {
            size_t len;
            const char *body = c_text(&q, 1, &len);

            *found = true;
            *same = len == o->json_len && memcmp(body, o->json, len) == 0;
        }
    }
    q_put(&q);
    return rc == TW__DB_DONE ? TW_OK : rc;
}

/*
 * Adds one object. An id the collection has never held is stored with its
 * flags already set (its only version is first, last and latest-spec);
 * otherwise the flags start at 0 and *repair asks for refresh_flags.
 */
static int add_one(struct tw_store *st, int64_t collection, int64_t producer, int64_t key,
        int64_t date, const struct tw_obj_in *o, enum tw_obj_result *result, bool *repair,
        struct tw_err *err)
{
    bool found, same, other;
    struct rel r;
    int64_t vkey, seq = 0;
    struct q q;
    int rc = find_version(st, collection, o, &found, &same, &other, err);

    *repair = false;
    if (rc != TW_OK)
        return rc;
    if (found) {
        *result = same ? TW_OBJ_DUPLICATE : TW_OBJ_CONFLICT;
        return TW_OK;
    }
    if (version_key(o->version, &vkey) != TW_OK)
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "bad version %s", o->version);
    rc = rel_parse(o, &r, err);
    if (rc == TW_OK)
        rc = q_get(st, S_OBJ_INSERT, &q, err);
    if (rc != TW_OK) {
        json_decref(r.doc);
        return rc;
    }
    q_int(&q, 1, collection);
    q_str(&q, 2, o->id);
    q_str(&q, 3, o->type);
    q_str(&q, 4, o->spec_version);
    q_str(&q, 5, o->version);
    q_int(&q, 6, vkey);
    q_int(&q, 7, date);
    q_int(&q, 8, o->tlp);
    q_int(&q, 9, producer);
    q_int(&q, 10, key);
    q_str(&q, 11, r.type);
    q_str(&q, 12, r.source);
    q_str(&q, 13, r.target);
    tw__db_bind_text(q.s, 14, o->json, o->json_len);
    q_int(&q, 15, other ? 0 : 1);
    rc = q_row(&q, "inserted object", err);
    if (rc == TW_OK)
        seq = c_int(&q, 0);
    q_put(&q);
    json_decref(r.doc);
    /* Recipients matter only at their level: AMBER+STRICT names orgs, RED names keys. */
    if (rc == TW_OK && o->tlp == TW_TLP_AMBER_STRICT)
        rc = add_recipients(st, S_OBJ_ORG, seq, o->recipient_orgs, o->n_recipient_orgs, err);
    if (rc == TW_OK && o->tlp == TW_TLP_RED)
        rc = add_recipients(st, S_OBJ_KEY, seq, o->recipient_keys, o->n_recipient_keys, err);
    if (rc == TW_OK && o->sighting_of != NULL)
        rc = add_sighting(st, collection, producer, seq, o, err);
    if (rc == TW_OK) {
        *result = TW_OBJ_ADDED;
        *repair = other;
    }
    return rc;
}

/* ==== Objects: version flags ==== */

struct vrow {
    int64_t seq, vkey, spec;
    bool first, last, latest_spec;
};

/* Orders (vkey, seq): the version's time, then insertion for equal times. */
static bool vrow_before(const struct vrow *a, const struct vrow *b)
{
    return a->vkey < b->vkey || (a->vkey == b->vkey && a->seq < b->seq);
}

static int load_versions(struct tw_store *st, int64_t collection, const char *id, struct vrow **out,
        size_t *n_out, struct tw_err *err)
{
    struct vrow *v = NULL;
    size_t n = 0, cap = 0;
    struct q q;
    int rc = q_get(st, S_OBJ_VERSIONS, &q, err);

    *out = NULL;
    *n_out = 0;
    if (rc != TW_OK)
        return rc;
    q_int(&q, 1, collection);
    q_str(&q, 2, id);
    while ((rc = q_step(&q, err)) == TW__DB_ROW) {
        size_t len;
        const char *spec;

        if (n == cap) {
            size_t ncap = cap != 0 ? TW_MIN(cap * 2, (size_t)TW_STORE_MAX_VERSIONS) : 8;
            struct vrow *nv;

            if (n == TW_STORE_MAX_VERSIONS) {
                rc = TW_E_HERE(err, TW_ELIMIT, TW_NOPOS, "%s has over %d versions", id,
                        TW_STORE_MAX_VERSIONS);
                break;
            }
            nv = tw_reallocarray(v, ncap, sizeof(*v));
            if (nv == NULL) {
                rc = TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "store: out of memory");
                break;
            }
            v = nv;
            cap = ncap;
        }
        spec = c_text(&q, 2, &len);
        v[n].seq = c_int(&q, 0);
        v[n].vkey = c_int(&q, 1);
        v[n].spec = spec_key(tw_str_make(spec, len));
        v[n].first = c_int(&q, 3) != 0;
        v[n].last = c_int(&q, 4) != 0;
        v[n].latest_spec = c_int(&q, 5) != 0;
        n++;
    }
    q_put(&q);
    if (rc != TW__DB_DONE) {
        tw_free(v);
        return rc;
    }
    *out = v;
    *n_out = n;
    return TW_OK;
}

/*
 * Recomputes is_first, is_last and is_latest_spec over the versions of one id
 * in one collection and writes the rows whose flags change.
 */
static int refresh_flags(
        struct tw_store *st, int64_t collection, const char *id, struct tw_err *err)
{
    struct vrow *v;
    size_t n, first = 0, last = 0;
    int64_t max_spec = 0;
    int rc = load_versions(st, collection, id, &v, &n, err);

    if (rc != TW_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (vrow_before(&v[i], &v[first]))
            first = i;
        if (vrow_before(&v[last], &v[i]))
            last = i;
        max_spec = TW_MAX(max_spec, v[i].spec);
    }
    for (size_t i = 0; i < n && rc == TW_OK; i++) {
        bool f = i == first, l = i == last, s = v[i].spec == max_spec;
        struct q q;

        if (f == v[i].first && l == v[i].last && s == v[i].latest_spec)
            continue;
        rc = q_get(st, S_OBJ_FLAGS, &q, err);
        if (rc != TW_OK)
            break;
        q_int(&q, 1, v[i].seq);
        q_int(&q, 2, f ? 1 : 0);
        q_int(&q, 3, l ? 1 : 0);
        q_int(&q, 4, s ? 1 : 0);
        rc = q_exec(&q, err);
        q_put(&q);
    }
    tw_free(v);
    return rc;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Refreshes the flags of every id an add stored beside other versions, once per id. */
static int refresh_added(struct tw_store *st, int64_t collection, const struct tw_obj_in *objs,
        const bool *repair, size_t n, struct tw_err *err)
{
    const char **ids;
    size_t m = 0;
    int rc = TW_OK;

    if (n == 0)
        return TW_OK;
    ids = tw_calloc(n, sizeof(*ids));
    if (ids == NULL)
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "store: out of memory");
    for (size_t i = 0; i < n; i++)
        if (repair[i])
            ids[m++] = objs[i].id;
    qsort((void *)ids, m, sizeof(*ids), cmp_cstr);
    for (size_t i = 0; i < m && rc == TW_OK; i++)
        if (i == 0 || strcmp(ids[i], ids[i - 1]) != 0)
            rc = refresh_flags(st, collection, ids[i], err);
    tw_free((void *)ids);
    return rc;
}

int tw_store_objects_add(struct tw_store *st, int64_t collection, int64_t producer, int64_t key,
        int64_t now, const struct tw_obj_in *objs, size_t n, enum tw_obj_result *results,
        struct tw_err *err)
{
    int64_t date = 0;
    bool *repair;
    int rc;

    if (st == NULL || (n > 0 && (objs == NULL || results == NULL)))
        return bad_arg(err, "objects_add needs objects and room for their results");
    if (n == 0)
        return TW_OK;
    for (size_t i = 0; i < n; i++) {
        rc = check_obj(&objs[i], i, err);
        if (rc != TW_OK)
            return rc;
    }
    repair = tw_calloc(n, sizeof(*repair));
    if (repair == NULL)
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "store: out of memory");
    rc = tw__db_begin(st->db, err);
    if (rc != TW_OK) {
        tw_free(repair);
        return rc;
    }
    rc = stamp(st, collection, now, &date, err);
    for (size_t i = 0; i < n && rc == TW_OK; i++)
        rc = add_one(st, collection, producer, key, date, &objs[i], &results[i], &repair[i], err);
    if (rc == TW_OK)
        rc = refresh_added(st, collection, objs, repair, n, err);
    tw_free(repair);
    if (rc != TW_OK) {
        tw__db_rollback(st->db);
        return rc;
    }
    return tw__db_commit(st->db, err);
}

/* ==== Objects: queries ==== */

static int check_list(const char *const *v, size_t n, const char *what, struct tw_err *err)
{
    if (n > TW_STORE_MAX_MATCH)
        return TW_E_HERE(
                err, TW_ELIMIT, TW_NOPOS, "more than %d values for %s", TW_STORE_MAX_MATCH, what);
    if (n > 0 && v == NULL)
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "no values for %s", what);
    for (size_t i = 0; i < n; i++)
        if (v[i] == NULL)
            return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "a NULL value for %s", what);
    return TW_OK;
}

static int check_query(const struct tw_obj_query *q, struct tw_err *err)
{
    int rc;

    if (q->versions > TW_VERSIONS_LIST)
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "unknown version filter");
    if (q->versions == TW_VERSIONS_LIST && q->n_version_list == 0)
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "an empty version list");
    rc = check_list(q->ids, q->n_ids, "match[id]", err);
    if (rc == TW_OK)
        rc = check_list(q->types, q->n_types, "match[type]", err);
    if (rc == TW_OK && q->versions == TW_VERSIONS_LIST)
        rc = check_list(q->version_list, q->n_version_list, "match[version]", err);
    if (rc == TW_OK && q->spec_versions != NULL)
        rc = check_list(q->spec_versions, q->n_spec_versions, "match[spec_version]", err);
    return rc;
}

/*
 * The version, spec_version and visibility conditions of q on the row `o`,
 * each as " AND ...". The viewer's placeholders come first among those this
 * adds, so both branches of a page share them.
 */
static int sqlb_filters(struct sqlb *b, const struct tw_obj_query *q, struct tw_err *err)
{
    const struct tw_viewer *v = &q->viewer;

    switch (q->versions) {
        case TW_VERSIONS_LAST:
            sqlb_put(b, " AND o.is_last = 1");
            break;
        case TW_VERSIONS_FIRST:
            sqlb_put(b, " AND o.is_first = 1");
            break;
        case TW_VERSIONS_ALL:
            break;
        case TW_VERSIONS_LIST:
            sqlb_put(b, " AND o.vkey IN (");
            for (size_t i = 0; i < q->n_version_list; i++) {
                int64_t vkey;

                if (version_key(q->version_list[i], &vkey) != TW_OK)
                    return TW_E_HERE(err, TW_EINVAL, TW_NOPOS,
                            "match[version] %s is not a "
                            "timestamp",
                            q->version_list[i]);
                sqlb_put(b, "%s$%d", i > 0 ? ", " : "", sqlb_int(b, vkey));
            }
            sqlb_put(b, ")");
            break;
    }
    if (q->spec_versions == NULL || q->n_spec_versions == 0)
        sqlb_put(b, " AND o.is_latest_spec = 1");
    else
        sqlb_in_text(b, "o.spec_version", q->spec_versions, q->n_spec_versions);
    if (!v->all) {
        char max[16];
        int p_org = sqlb_int(b, viewer_id(v->org));
        int p_key = sqlb_int(b, viewer_id(v->key));
        /* AMBER+STRICT and RED are never reached by level alone. */
        int p_max = sqlb_int(b, TW_MIN(v->max_tlp, (uint8_t)TW_TLP_AMBER));

        (void)snprintf(max, sizeof(max), "$%d", p_max);
        sqlb_put(b, " AND ");
        sqlb_visible(b, "o", max, p_org, p_key);
    }
    return TW_OK;
}

/* The page query (store_int.h); with slot set, from the cache of page statements. */
static int objects_prepare(struct tw_store *st, const struct tw_obj_query *q, const char *prefix,
        struct tw__stmt **out, int *slot, struct tw_err *err)
{
    static const char cols_json[] = "o.seq, o.date_added, o.stix_id, o.type, o.version,"
                                    " o.spec_version, o.tlp, o.producer_org, o.body";
    static const char cols_manifest[] = "o.seq, o.date_added, o.stix_id, o.type, o.version,"
                                        " o.spec_version, o.tlp, o.producer_org, NULL AS body";
    struct sqlb *b;
    char *where;
    int64_t date, seq;
    int p_coll, p_date, p_seq, p_lim, rc;

    *out = NULL;
    if (st == NULL || q == NULL || prefix == NULL)
        return bad_arg(err, "objects_query needs a store and a query");
    if (q->limit == 0 || q->limit > TW_STORE_MAX_LIMIT)
        return TW_E_HERE(
                err, TW_EINVAL, TW_NOPOS, "a page holds 1 to %d objects", TW_STORE_MAX_LIMIT);
    rc = check_query(q, err);
    if (rc != TW_OK)
        return rc;
    /* The cursor: after (after_date, after_seq), and strictly after added_after. */
    date = q->after_date;
    seq = q->after_seq;
    if (q->added_after > 0 && q->added_after >= date) {
        date = q->added_after;
        seq = INT64_MAX;
    }
    b = tw_malloc(sizeof(*b));
    if (b == NULL)
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "store: out of memory");
    sqlb_init(b);
    p_coll = sqlb_int(b, q->collection);
    p_date = sqlb_int(b, date);
    p_seq = sqlb_int(b, seq);
    p_lim = sqlb_int(b, (int64_t)q->limit + 1);
    if (q->n_ids > 0)
        sqlb_in_text(b, "o.stix_id", q->ids, q->n_ids);
    if (q->n_types > 0)
        sqlb_in_text(b, "o.type", q->types, q->n_types);
    rc = sqlb_filters(b, q, err);
    where = rc == TW_OK && b->rc == TW_OK ? tw_buf_take(&b->sql, NULL) : NULL;
    if (where == NULL) {
        rc = rc != TW_OK ? rc
                         : TW_E_HERE(err, b->rc != TW_OK ? b->rc : TW_ENOMEM, TW_NOPOS,
                                   "store: cannot build the page query");
        tw_buf_cleanup(&b->sql);
        tw_free(b);
        return rc;
    }
    /*
     * Two index ranges merged in (date_added, seq) order: the rest of the
     * cursor's date_added (seq > cursor), then later dates. One range over
     * the row value (date_added, seq) would not seek on seq in SQLite, and a
     * bulk add puts thousands of rows on one date_added. The dialects want
     * the merge written differently (STORE.md, "Keyset pages"):
     *  - SQLite merges the two SELECTs of a compound as they come out of
     *    their indexes, each stopped at the LIMIT. Wrapped in subqueries,
     *    each branch's rows, bodies included, went through a temporary
     *    B-tree to be sorted again (most of a page's cost).
     *  - PostgreSQL plans the bare compound as a sort of both whole ranges;
     *    with each branch ordered and limited in a subquery, it merges two
     *    index scans.
     */
    if (st->pg)
        sqlb_put(b,
                "%sSELECT * FROM (SELECT %s FROM objects o WHERE o.collection = $%d"
                " AND o.date_added = $%d AND o.seq > $%d%s ORDER BY o.date_added, o.seq"
                " LIMIT $%d) a UNION ALL SELECT * FROM (SELECT %s FROM objects o"
                " WHERE o.collection = $%d AND o.date_added > $%d%s"
                " ORDER BY o.date_added, o.seq LIMIT $%d) b ORDER BY date_added, seq LIMIT $%d",
                prefix, q->with_json ? cols_json : cols_manifest, p_coll, p_date, p_seq, where,
                p_lim, q->with_json ? cols_json : cols_manifest, p_coll, p_date, where, p_lim,
                p_lim);
    else
        sqlb_put(b,
                "%sSELECT %s FROM objects o WHERE o.collection = $%d AND o.date_added = $%d"
                " AND o.seq > $%d%s UNION ALL SELECT %s FROM objects o WHERE o.collection = $%d"
                " AND o.date_added > $%d%s ORDER BY date_added, seq LIMIT $%d",
                prefix, q->with_json ? cols_json : cols_manifest, p_coll, p_date, p_seq, where,
                q->with_json ? cols_json : cols_manifest, p_coll, p_date, where, p_lim);
    tw_free(where);
    rc = sqlb_prepare(st, b, out, slot, err);
    tw_buf_cleanup(&b->sql);
    tw_free(b);
    return rc;
}

int tw__store_objects_prepare(struct tw_store *st, const struct tw_obj_query *q, const char *prefix,
        struct tw__stmt **out, struct tw_err *err)
{
    return objects_prepare(st, q, prefix, out, NULL, err);
}

int tw_store_objects_query(struct tw_store *st, const struct tw_obj_query *q, tw_store_obj_fn *fn,
        void *arg, bool *more, struct tw_err *err)
{
    struct tw__stmt *s;
    size_t n = 0;
    int rc, slot;

    if (more != NULL)
        *more = false;
    if (fn == NULL)
        return bad_arg(err, "objects_query needs a callback");
    rc = objects_prepare(st, q, "", &s, &slot, err);
    if (rc != TW_OK)
        return rc;
    assert(s != NULL);
    while ((rc = tw__db_step(s, err)) == TW__DB_ROW) {
        struct tw_obj_row r;

        if (n == q->limit) {
            if (more != NULL)
                *more = true;
            rc = TW__DB_DONE;
            break;
        }
        r.seq = tw__db_column_int(s, 0);
        r.date_added = tw__db_column_int(s, 1);
        r.id = tw__db_column_text(s, 2, NULL);
        r.type = tw__db_column_text(s, 3, NULL);
        r.version = tw__db_column_text(s, 4, NULL);
        r.spec_version = tw__db_column_text(s, 5, NULL);
        r.tlp = (uint8_t)tw__db_column_int(s, 6);
        r.producer = tw__db_column_int(s, 7);
        r.json = NULL;
        r.json_len = 0;
        if (q->with_json)
            r.json = tw__db_column_text(s, 8, &r.json_len);
        n++;
        rc = fn(&r, arg);
        if (rc != 0)
            break;
    }
    gen_release(st, s, slot);
    return rc == TW__DB_DONE ? TW_OK : rc;
}

int tw_store_objects_delete(struct tw_store *st, const struct tw_obj_query *q, const char *id,
        size_t *deleted, struct tw_err *err)
{
    struct tw__stmt *s = NULL;
    struct sqlb *b;
    size_t n = 0;
    struct q lock;
    int p_coll, p_id, rc;

    if (deleted != NULL)
        *deleted = 0;
    if (st == NULL || q == NULL || id == NULL)
        return bad_arg(err, "objects_delete needs a query and an id");
    rc = check_query(q, err);
    if (rc != TW_OK)
        return rc;
    b = tw_malloc(sizeof(*b));
    if (b == NULL)
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "store: out of memory");
    sqlb_init(b);
    p_coll = sqlb_int(b, q->collection);
    p_id = sqlb_arg(b, true, 0, id);
    sqlb_put(b,
            "DELETE FROM objects WHERE seq IN (SELECT o.seq FROM objects o"
            " WHERE o.collection = $%d AND o.stix_id = $%d",
            p_coll, p_id);
    rc = sqlb_filters(b, q, err);
    sqlb_put(b, ") RETURNING seq");
    if (rc == TW_OK)
        rc = tw__db_begin(st->db, err);
    if (rc != TW_OK) {
        tw_buf_cleanup(&b->sql);
        tw_free(b);
        return rc;
    }
    /* The collection's lock orders this against adds of the same ids. */
    rc = q_get(st, S_COLL_LOCK, &lock, err);
    if (rc == TW_OK) {
        q_int(&lock, 1, q->collection);
        rc = q_row(&lock, "collection", err);
        q_put(&lock);
    }
    if (rc == TW_OK)
        rc = sqlb_prepare(st, b, &s, NULL, err);
    while (rc == TW_OK && (rc = tw__db_step(s, err)) == TW__DB_ROW) {
        n++;
        rc = TW_OK;
    }
    if (rc == TW__DB_DONE)
        rc = TW_OK;
    tw__db_finalize(s);
    tw_buf_cleanup(&b->sql);
    tw_free(b);
    if (rc == TW_OK && n > 0)
        rc = refresh_flags(st, q->collection, id, err);
    if (rc == TW_OK)
        rc = tw__db_commit(st->db, err);
    else
        tw__db_rollback(st->db);
    if (rc == TW_OK && deleted != NULL)
        *deleted = n;
    return rc;
}

/* ==== Status resources ==== */

static bool size_ok(size_t v)
{
    return v <= (size_t)INT64_MAX;
}

int tw_store_status_put(struct tw_store *st, const struct tw_status_rec *s, struct tw_err *err)
{
    struct q q;
    int rc;

    if (st == NULL || s == NULL || !fits(s->id, sizeof(s->id)) || s->id[0] == '\0')
        return bad_arg(err, "a status needs an id");
    if (!size_ok(s->total) || !size_ok(s->success) || !size_ok(s->failure) || !size_ok(s->pending))
        return bad_arg(err, "status counts out of range");
    /* A transaction of its own, so it queues with the other writers (db_sqlite.c). */
    rc = tw__db_begin(st->db, err);
    if (rc != TW_OK)
        return rc;
    rc = q_get(st, S_STATUS_PUT, &q, err);
    if (rc != TW_OK) {
        tw__db_rollback(st->db);
        return rc;
    }
    q_str(&q, 1, s->id);
    q_int(&q, 2, s->collection);
    q_int(&q, 3, s->org);
    q_int(&q, 4, s->request_time);
    q_int(&q, 5, (int64_t)s->total);
    q_int(&q, 6, (int64_t)s->success);
    q_int(&q, 7, (int64_t)s->failure);
    q_int(&q, 8, (int64_t)s->pending);
    q_str(&q, 9, s->details);
    rc = q_exec(&q, err);
    q_put(&q);
    if (rc != TW_OK) {
        tw__db_rollback(st->db);
        return rc;
    }
    return tw__db_commit(st->db, err);
}

int tw_store_status_get(struct tw_store *st, const char *id, struct tw_status_rec *out,
        char **details, struct tw_err *err)
{
    struct q q;
    int rc;

    if (details != NULL)
        *details = NULL;
    if (st == NULL || id == NULL || out == NULL || details == NULL)
        return bad_arg(err, "status_get needs an id and outputs");
    rc = q_get(st, S_STATUS_GET, &q, err);
    if (rc != TW_OK)
        return rc;
    q_str(&q, 1, id);
    rc = q_row(&q, "status", err);
    if (rc == TW_OK) {
        memset(out, 0, sizeof(*out));
        c_copy(&q, 0, out->id, sizeof(out->id));
        out->collection = c_int(&q, 1);
        out->org = c_int(&q, 2);
        out->request_time = c_int(&q, 3);
        out->total = (size_t)c_int(&q, 4);
        out->success = (size_t)c_int(&q, 5);
        out->failure = (size_t)c_int(&q, 6);
        out->pending = (size_t)c_int(&q, 7);
        if (!tw__db_column_is_null(q.s, 8)) {
            size_t len;
            const char *d = c_text(&q, 8, &len);

            *details = tw_strndup(d, len);
            if (*details == NULL)
                rc = TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "store: out of memory");
        }
        out->details = *details;
    }
    q_put(&q);
    return rc;
}

/* ==== Sightings tally ==== */

/*
 * vis: the sightings the viewer can see (last version of each sighting,
 * readable collection, visible row), one row per sighting id. links: which
 * intrusion sets and campaigns each visible sighting counts for, through
 * visible `indicates` relationships from the sighted object. The tally
 * aggregates the union of (sighted ref, sighting) and (linked ref, sighting).
 */
static void tally_sql(struct sqlb *b, const struct tw_viewer *v, bool pg)
{
    static const char max_tlp_s[] = "CASE WHEN " SQL_AUDIENCE("s.collection", "$1") " THEN 3 "
                                                                                    "ELSE 2 END";
    static const char max_tlp_r[] = "CASE WHEN " SQL_AUDIENCE("r.collection", "$1") " THEN 3 "
                                                                                    "ELSE 2 END";
    int p_org = 0, p_key = 0;

    /* The viewer's placeholders are $1 and $2 (SQL_GRANTED and SQL_AUDIENCE say $1). */
    if (!v->all) {
        p_org = sqlb_int(b, viewer_id(v->org));
        p_key = sqlb_int(b, viewer_id(v->key));
    }
    sqlb_put(b, "WITH vis AS (SELECT o.stix_id AS sid, MIN(s.sighting_of) AS ref,"
                " MIN(s.reporter) AS reporter, MIN(s.first_seen) AS first_seen,"
                " MAX(s.last_seen) AS last_seen, MAX(s.sight_count) AS cnt"
                " FROM sightings s JOIN objects o ON o.seq = s.obj WHERE o.is_last = 1");
    if (!v->all) {
        sqlb_put(b, " AND " SQL_GRANTED("s.collection", "$1", "can_read") " AND ");
        sqlb_visible(b, "o", max_tlp_s, p_org, p_key);
    }
    sqlb_put(b, " GROUP BY o.stix_id),"
                " links AS (SELECT DISTINCT r.target_ref AS ref, v.sid AS sid FROM vis v"
                " JOIN objects r ON r.source_ref = v.ref WHERE r.relationship_type = 'indicates'"
                " AND r.is_last = 1 AND (substr(r.target_ref, 1, 15) = 'intrusion-set--'"
                " OR substr(r.target_ref, 1, 10) = 'campaign--')");
    if (!v->all) {
        sqlb_put(b, " AND " SQL_GRANTED("r.collection", "$1", "can_read") " AND ");
        sqlb_visible(b, "r", max_tlp_r, p_org, p_key);
    }
    sqlb_put(b,
            "), pairs AS (SELECT ref, sid FROM vis UNION SELECT ref, sid FROM links)"
            " SELECT p.ref, COUNT(DISTINCT v.reporter), MIN(v.first_seen), MAX(v.last_seen),"
            " CAST(SUM(v.cnt) AS BIGINT) FROM pairs p JOIN vis v ON v.sid = p.sid"
            " GROUP BY p.ref ORDER BY p.ref%s",
            pg ? " COLLATE \"C\"" : "");
}

int tw_store_tally(struct tw_store *st, const struct tw_viewer *v, tw_store_tally_fn *fn, void *arg,
        struct tw_err *err)
{
    struct tw__stmt *s = NULL;
    struct sqlb *b;
    int rc;

    if (st == NULL || v == NULL || fn == NULL)
        return bad_arg(err, "tally needs a viewer and a callback");
    b = tw_malloc(sizeof(*b));
    if (b == NULL)
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "store: out of memory");
    sqlb_init(b);
    tally_sql(b, v, st->pg);
    rc = sqlb_prepare(st, b, &s, NULL, err);
    tw_buf_cleanup(&b->sql);
    tw_free(b);
    if (rc != TW_OK)
        return rc;
    while ((rc = tw__db_step(s, err)) == TW__DB_ROW) {
        struct tw_tally_row r;

        r.ref = tw__db_column_text(s, 0, NULL);
        r.orgs = (size_t)tw__db_column_int(s, 1);
        r.first_seen = tw__db_column_int(s, 2);
        r.last_seen = tw__db_column_int(s, 3);
        r.count = tw__db_column_int(s, 4);
        rc = fn(&r, arg);
        if (rc != 0)
            break;
    }
    tw__db_finalize(s);
    return rc == TW__DB_DONE ? TW_OK : rc;
}

/* ==== Access log ==== */

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

/* The format tag that opens a record's canonical bytes: "TWLOG", version 0.0.1. */
static const uint8_t log_tag[8] = { 'T', 'W', 'L', 'O', 'G', 0, 0, 1 };

void tw_store_log_hash(const struct tw_log_rec *r, uint8_t out[32])
{
    /* prev and the canonical bytes (STORE.md, "The access log"): at most 157 bytes. */
    uint8_t buf[32 + 8 + 28 + 1 + TW_KEY_ID_LEN + 1 + 7 + 2 * TW_SHA256_LEN];
    size_t n = 0;
    size_t k = strnlen(r->key_id, TW_KEY_ID_LEN);
    size_t m = strnlen(r->method, sizeof(r->method) - 1);
    const char *path = r->path != NULL ? r->path : "";
    const char *ids = r->ids != NULL ? r->ids : "";

    memcpy(buf, r->prev, 32);
    n = 32;
    memcpy(buf + n, log_tag, sizeof(log_tag));
    n += sizeof(log_tag);
    put_be(buf + n, (uint64_t)r->seq, 8);
    n += 8;
    put_be(buf + n, (uint64_t)r->time, 8);
    n += 8;
    put_be(buf + n, (uint64_t)r->org, 8);
    n += 8;
    put_be(buf + n, (uint64_t)(uint32_t)r->status, 4);
    n += 4;
    buf[n++] = (uint8_t)k;
    memcpy(buf + n, r->key_id, k);
    n += k;
    buf[n++] = (uint8_t)m;
    memcpy(buf + n, r->method, m);
    n += m;
    tw_sha256(path, strlen(path), buf + n);
    n += TW_SHA256_LEN;
    tw_sha256(ids, strlen(ids), buf + n);
    n += TW_SHA256_LEN;
    tw_sha256(buf, n, out);
}

/*
 * Group commit. The appenders of one process that share a store location
 * queue their records in its log_group. One of them at a time is the leader:
 * it takes the whole queue, writes it in one transaction on its own handle
 * and commits (one WAL sync for the batch, where each record used to pay its
 * own), then hands each record of the batch its status and wakes its caller,
 * and makes the oldest record still queued (one that arrived during the
 * commit) the next leader. An appender that finds no leader leads at once.
 * Every caller still returns only once its own record is committed, or with
 * the error that kept it out: the durability of each record is what it was
 * with one transaction per record, only the syncs are shared.
 *
 * Each waiter sleeps on a semaphore of its own and is woken once, either
 * done or made leader; no thundering herd on the group's lock.
 *
 * If a batch of several records fails, each is written again alone, so one
 * record the database refuses cannot take the others' requests down with it.
 */
enum log_wait {
    LOG_QUEUED = 0, /* in the queue or in a batch being written */
    LOG_DONE,       /* written, or refused: rc says which */
    LOG_LEAD,       /* made the next leader */
};

struct log_waiter {
    struct tw_log_rec *rec;  /* the caller's record; seq, prev and hash are filled */
    struct tw_err *err;      /* the caller's, may be NULL */
    struct log_waiter *next; /* the queue */
    int rc;                  /* the record's status, once done */
    enum log_wait state;
    sem_t wake; /* posted once: done or lead */
};

struct log_group {
    struct log_group *next; /* the registry's list */
    char *location;         /* the store location, as given to tw_store_open */
    size_t refs;            /* handles using the group; freed at 0 */
    pthread_mutex_t lock;   /* guards the queue and leading */
    struct log_waiter *head, **tail;
    bool leading; /* a leader exists (writing, or woken to write) */
};

static pthread_mutex_t log_groups_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_group *log_groups;

/* The group of location, created or shared; NULL when out of memory (no grouping then). */
static struct log_group *log_group_ref(const char *location)
{
    struct log_group *g;

    (void)pthread_mutex_lock(&log_groups_lock);
    for (g = log_groups; g != NULL; g = g->next)
        if (strcmp(g->location, location) == 0)
            break;
    if (g == NULL) {
        g = tw_calloc(1, sizeof(*g));
        if (g != NULL && (g->location = tw_strdup(location)) == NULL) {
            tw_free(g);
            g = NULL;
        }
        if (g != NULL && pthread_mutex_init(&g->lock, NULL) != 0) {
            tw_free(g->location);
            tw_free(g);
            g = NULL;
        }
        if (g != NULL) {
            g->tail = &g->head;
            g->next = log_groups;
            log_groups = g;
        }
    }
    if (g != NULL)
        g->refs++;
    (void)pthread_mutex_unlock(&log_groups_lock);
    return g;
}

static void log_group_unref(struct log_group *g)
{
    struct log_group **p;

    if (g == NULL)
        return;
    (void)pthread_mutex_lock(&log_groups_lock);
    if (--g->refs == 0) {
        /* Its last handle is closing, so no append is queued or running. */
        assert(g->head == NULL && !g->leading);
        for (p = &log_groups; *p != g; p = &(*p)->next)
            continue;
        *p = g->next;
        (void)pthread_mutex_destroy(&g->lock);
        tw_free(g->location);
        tw_free(g);
    }
    (void)pthread_mutex_unlock(&log_groups_lock);
}

/*
 * Writes the records from first up to (not including) end in one transaction:
 * each chained to the one before, the first to the last record in the store.
 */
static int log_write(
        struct tw_store *st, struct log_waiter *first, struct log_waiter *end, struct tw_err *err)
{
    uint8_t prev[32];
    int64_t seq = 0;
    struct q q;
    int rc = tw__db_begin(st->db, err);

    if (rc != TW_OK)
        return rc;
    rc = q_get(st, S_LOG_LOCK, &q, err);
    if (rc == TW_OK) {
        rc = q_exec(&q, err);
        q_put(&q);
    }
    if (rc == TW_OK)
        rc = q_get(st, S_LOG_LAST, &q, err);
    if (rc == TW_OK) {
        rc = q_step(&q, err);
        if (rc == TW__DB_ROW) {
            size_t len;
            const void *p = tw__db_column_blob(q.s, 1, &len);

            seq = c_int(&q, 0);
            rc = len == sizeof(prev)
                         ? TW_OK
                         : TW_E_HERE(err, TW_EDB, TW_NOPOS,
                                   "access log record %lld has a damaged hash", (long long)seq);
            if (rc == TW_OK)
                memcpy(prev, p, len);
        } else if (rc == TW__DB_DONE) {
            memset(prev, 0, sizeof(prev));
            rc = TW_OK;
        }
        q_put(&q);
    }
    for (struct log_waiter *w = first; w != end && rc == TW_OK; w = w->next) {
        struct tw_log_rec *r = w->rec;

        r->seq = ++seq;
        memcpy(r->prev, prev, sizeof(r->prev));
        tw_store_log_hash(r, r->hash);
        memcpy(prev, r->hash, sizeof(prev));
        rc = q_get(st, S_LOG_ADD, &q, err);
        if (rc != TW_OK)
            break;
        q_int(&q, 1, r->seq);
        q_int(&q, 2, r->time);
        q_str(&q, 3, r->key_id);
        q_int(&q, 4, r->org);
        q_str(&q, 5, r->method);
        q_str(&q, 6, r->path != NULL ? r->path : "");
        q_int(&q, 7, r->status);
        q_str(&q, 8, r->ids != NULL ? r->ids : "");
        tw__db_bind_blob(q.s, 9, r->prev, sizeof(r->prev));
        tw__db_bind_blob(q.s, 10, r->hash, sizeof(r->hash));
        rc = q_exec(&q, err);
        q_put(&q);
    }
    if (rc != TW_OK) {
        tw__db_rollback(st->db);
        return rc;
    }
    return tw__db_commit(st->db, err);
}

/* The leader's work: one transaction for the batch, or one per record if that fails. */
static void log_write_batch(struct tw_store *st, struct log_waiter *batch)
{
    struct tw_err err;
    int rc;

    tw_err_clear(&err);
    rc = log_write(st, batch, NULL, &err);
    if (rc == TW_OK || batch->next == NULL) {
        for (struct log_waiter *w = batch; w != NULL; w = w->next) {
            w->rc = rc;
            if (rc != TW_OK && w->err != NULL)
                *w->err = err;
        }
        return;
    }
    for (struct log_waiter *w = batch; w != NULL; w = w->next)
        w->rc = log_write(st, w, w->next, w->err);
}

/* Sleeps until the waiter's semaphore is posted. */
static void log_sleep(struct log_waiter *w)
{
    while (sem_wait(&w->wake) != 0)
        continue; /* EINTR */
}

int tw_store_log_append(struct tw_store *st, struct tw_log_rec *r, struct tw_err *err)
{
    struct log_group *g;
    struct log_waiter me, *batch, *w, *next, *lead;
    bool leader;

    if (st == NULL || r == NULL || !fits(r->key_id, sizeof(r->key_id)) ||
            !fits(r->method, sizeof(r->method)))
        return bad_arg(err, "a log record needs NUL-terminated key_id and method");
    memset(&me, 0, sizeof(me));
    me.rec = r;
    me.err = err;
    g = st->lg;
    if (g == NULL || sem_init(&me.wake, 0, 0) != 0)
        return log_write(st, &me, NULL, err);

    (void)pthread_mutex_lock(&g->lock);
    *g->tail = &me;
    g->tail = &me.next;
    leader = !g->leading;
    g->leading = true;
    (void)pthread_mutex_unlock(&g->lock);
    if (!leader) {
        log_sleep(&me);
        if (me.state == LOG_DONE) {
            (void)sem_destroy(&me.wake);
            return me.rc;
        }
        assert(me.state == LOG_LEAD);
    }

    /* Lead: take the queue (this record is in it) and write it. */
    (void)pthread_mutex_lock(&g->lock);
    batch = g->head;
    g->head = NULL;
    g->tail = &g->head;
    (void)pthread_mutex_unlock(&g->lock);
    log_write_batch(st, batch);

    /* The next leader, if records came meanwhile; then wake this batch's callers. */
    (void)pthread_mutex_lock(&g->lock);
    lead = g->head;
    g->leading = lead != NULL;
    (void)pthread_mutex_unlock(&g->lock);
    for (w = batch; w != NULL; w = next) {
        next = w->next; /* a woken caller returns, and its waiter goes */
        if (w == &me)
            continue;
        w->state = LOG_DONE;
        (void)sem_post(&w->wake);
    }
    if (lead != NULL) {
        lead->state = LOG_LEAD;
        (void)sem_post(&lead->wake);
    }
    (void)sem_destroy(&me.wake);
    return me.rc;
}

static void read_log(struct q *q, struct tw_log_rec *r)
{
    size_t len;
    const void *p;

    memset(r, 0, sizeof(*r));
    r->seq = c_int(q, 0);
    r->time = c_int(q, 1);
    c_copy(q, 2, r->key_id, sizeof(r->key_id));
    r->org = c_int(q, 3);
    c_copy(q, 4, r->method, sizeof(r->method));
    r->path = c_text(q, 5, NULL);
    r->status = (int)c_int(q, 6);
    r->ids = c_text(q, 7, NULL);
    p = tw__db_column_blob(q->s, 8, &len);
    memcpy(r->prev, p, TW_MIN(len, sizeof(r->prev)));
    p = tw__db_column_blob(q->s, 9, &len);
    memcpy(r->hash, p, TW_MIN(len, sizeof(r->hash)));
}

int tw_store_log_each(struct tw_store *st, tw_store_log_fn *fn, void *arg, struct tw_err *err)
{
    int64_t after = 0;

    if (st == NULL || fn == NULL)
        return bad_arg(err, "log_each needs a store and a callback");
    /* Chunks of TW_STORE_LOG_CHUNK by seq, so a long log never sits in memory at once. */
    for (;;) {
        struct tw_log_rec r;
        size_t n = 0;
        struct q q;
        int rc = q_get(st, S_LOG_EACH, &q, err);

        if (rc != TW_OK)
            return rc;
        q_int(&q, 1, after);
        q_int(&q, 2, TW_STORE_LOG_CHUNK);
        while ((rc = q_step(&q, err)) == TW__DB_ROW) {
            read_log(&q, &r);
            after = r.seq;
            n++;
            rc = fn(&r, arg);
            if (rc != 0)
                break;
        }
        q_put(&q);
        if (rc != TW__DB_DONE)
            return rc;
        if (n < TW_STORE_LOG_CHUNK)
            return TW_OK;
    }
}

/* State of tw_store_log_verify's walk. */
struct log_verify {
    tw_store_log_fn *each;
    void *arg;
    uint8_t prev[32];
    int64_t n_ok, bad_seq;
};

static int verify_one(const struct tw_log_rec *r, void *arg)
{
    struct log_verify *v = arg;
    uint8_t h[32];

    if (v->each != NULL && v->each(r, v->arg) != 0)
        return 1;
    tw_store_log_hash(r, h);
    if (memcmp(r->prev, v->prev, sizeof(h)) != 0 || memcmp(h, r->hash, sizeof(h)) != 0) {
        v->bad_seq = r->seq;
        return 1;
    }
    memcpy(v->prev, h, sizeof(h));
    v->n_ok++;
    return 0;
}

int tw_store_log_verify(struct tw_store *st, tw_store_log_fn *each, void *arg, int64_t *n_ok,
        int64_t *bad_seq, struct tw_err *err)
{
    struct log_verify v;
    int rc;

    memset(&v, 0, sizeof(v));
    v.each = each;
    v.arg = arg;
    rc = tw_store_log_each(st, verify_one, &v, err);
    *n_ok = v.n_ok;
    *bad_seq = v.bad_seq;
    return rc < 0 ? rc : TW_OK;
}
