/*
 * db.h: the store's SQL driver seam (docs/internals/STORE.md, "The driver
 * seam").
 *
 * store.c holds every piece of store logic and speaks SQL through this small
 * interface only. Two drivers implement it: db_sqlite.c (the only file that
 * includes sqlite3.h) and db_pg.c (the only file that includes libpq-fe.h).
 * SQL is written once with PostgreSQL-style positional placeholders $1..$n;
 * the SQLite driver maps "$n" to SQLite's own parameter index, the
 * PostgreSQL driver passes the text through unchanged. A placeholder may
 * appear several times in one statement. Integers are 64-bit, text is bytes
 * with a length, blobs are bytes.
 *
 * Errors. Binding never fails on the spot: a bind that cannot be honoured
 * (out of memory, no such parameter in a PostgreSQL statement) is remembered
 * by the statement and returned by the next tw__db_step, so callers check one
 * status per execution. Statuses are TW_OK or negative TW_E* codes; the
 * drivers map constraint violations onto the store's vocabulary: a unique
 * key already present is TW_EEXIST, a foreign key naming nothing is
 * TW_ENOTFOUND, any other constraint TW_EINVAL, everything else TW_EDB.
 *
 * Lifetimes. Column values returned by tw__db_column_* are valid until the
 * next step, reset or finalize of the statement. A statement belongs to its
 * connection and must be finalized before the connection is closed.
 */
#ifndef TIDEWATCH_STORE_DB_H
#define TIDEWATCH_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tidewatch/common.h"
#include "tidewatch/err.h"

/* tw__db_step results besides the negative error codes. */
#define TW__DB_DONE 0 /* the statement has finished */
#define TW__DB_ROW  1 /* a row is ready for tw__db_column_* */

/* How tw__db_open_sqlite treats the file. */
enum tw__db_mode {
    TW__DB_OPEN = 0, /* the file must exist: TW_ENOTFOUND otherwise */
    TW__DB_CREATE,   /* the file must not exist: TW_EEXIST otherwise; it is created empty */
};

struct tw__db;
struct tw__stmt;

/* The operations every driver supplies; store.c never calls them directly. */
struct tw__db_ops {
    const char *name; /* "sqlite" or "postgresql", as tw_store_backend reports */
    void (*close)(struct tw__db *db);
    int (*exec)(struct tw__db *db, const char *sql, struct tw_err *err);
    int (*prepare)(struct tw__db *db, const char *sql, struct tw__stmt **out, struct tw_err *err);
    /* optional (NULL: prepare): see tw__db_prepare_insert */
    int (*prepare_insert)(
            struct tw__db *db, const char *sql, struct tw__stmt **out, struct tw_err *err);
    void (*bind_int)(struct tw__stmt *s, int i, int64_t v);
    void (*bind_text)(struct tw__stmt *s, int i, const char *p, size_t len);
    void (*bind_blob)(struct tw__stmt *s, int i, const void *p, size_t len);
    void (*bind_null)(struct tw__stmt *s, int i);
    int (*step)(struct tw__stmt *s, struct tw_err *err);
    int64_t (*column_int)(struct tw__stmt *s, int i);
    const char *(*column_text)(struct tw__stmt *s, int i, size_t *len);
    const void *(*column_blob)(struct tw__stmt *s, int i, size_t *len);
    bool (*column_is_null)(struct tw__stmt *s, int i);
    void (*reset)(struct tw__stmt *s);
    void (*finalize)(struct tw__stmt *s);
    int (*begin)(struct tw__db *db, struct tw_err *err);
    int (*commit)(struct tw__db *db, struct tw_err *err);
    void (*rollback)(struct tw__db *db);
};

/* The part of a connection every driver shares; drivers embed it first. */
struct tw__db {
    const struct tw__db_ops *ops;
};

/* The part of a prepared statement every driver shares; drivers embed it first. */
struct tw__stmt {
    struct tw__db *db;
};

/*
 * Opens the SQLite database file `path` in WAL mode with synchronous=FULL,
 * foreign keys on and a busy timeout, so that several handles (threads or
 * processes) can share the file. `mode` says whether the file must exist
 * (TW_ENOTFOUND when missing) or must be created (TW_EEXIST when present).
 * Returns TW_OK with *out set, or an error with *out NULL.
 */
int tw__db_open_sqlite(const char *path, enum tw__db_mode mode, struct tw__db **out,
        struct tw_err *err) TW_MUST_CHECK;

/*
 * Connects to PostgreSQL with a libpq connection string or URI
 * ("postgresql://user@host:port/db?options=..."). Returns TW_OK with *out
 * set, TW_EDB when the server cannot be reached or refuses the connection.
 */
int tw__db_open_pg(const char *conninfo, struct tw__db **out, struct tw_err *err) TW_MUST_CHECK;

/* Closes a connection; NULL is a no-op. Every statement must be finalized first. */
static inline void tw__db_close(struct tw__db *db)
{
    if (db != NULL)
        db->ops->close(db);
}

static inline const char *tw__db_name(const struct tw__db *db)
{
    return db->ops->name;
}

/* Runs one or more statements without parameters and without rows (DDL, PRAGMA). */
static inline int TW_MUST_CHECK tw__db_exec(struct tw__db *db, const char *sql, struct tw_err *err)
{
    return db->ops->exec(db, sql, err);
}

/* Prepares one statement; *out is finalized by tw__db_finalize. */
static inline int TW_MUST_CHECK tw__db_prepare(
        struct tw__db *db, const char *sql, struct tw__stmt **out, struct tw_err *err)
{
    return db->ops->prepare(db, sql, out, err);
}

/*
 * Prepares "INSERT INTO t (...) VALUES (...) RETURNING k" of one row, where
 * k is t's integer key (SQLite: INTEGER PRIMARY KEY, the rowid), without
 * ON CONFLICT. Stepping it gives the one row, k alone, as the statement
 * would; a driver may run the INSERT without the RETURNING clause and make
 * that row itself. SQLite's RETURNING stores the row in a temporary table
 * and reads it back: about a quarter of the cost of adding an object.
 */
static inline int TW_MUST_CHECK tw__db_prepare_insert(
        struct tw__db *db, const char *sql, struct tw__stmt **out, struct tw_err *err)
{
    if (db->ops->prepare_insert == NULL)
        return db->ops->prepare(db, sql, out, err);
    return db->ops->prepare_insert(db, sql, out, err);
}

/* Binds placeholder $i (1-based). Values are copied before the call returns. */
static inline void tw__db_bind_int(struct tw__stmt *s, int i, int64_t v)
{
    s->db->ops->bind_int(s, i, v);
}

static inline void tw__db_bind_text(struct tw__stmt *s, int i, const char *p, size_t len)
{
    s->db->ops->bind_text(s, i, p, len);
}

static inline void tw__db_bind_blob(struct tw__stmt *s, int i, const void *p, size_t len)
{
    s->db->ops->bind_blob(s, i, p, len);
}

static inline void tw__db_bind_null(struct tw__stmt *s, int i)
{
    s->db->ops->bind_null(s, i);
}

/*
 * Runs the statement (first call) or moves to its next row. Returns
 * TW__DB_ROW, TW__DB_DONE, or a negative TW_E* code (also for a failed bind
 * since the last reset).
 */
static inline int TW_MUST_CHECK tw__db_step(struct tw__stmt *s, struct tw_err *err)
{
    return s->db->ops->step(s, err);
}

/* Column i (0-based) of the current row. NULL reads as 0, "" or an empty blob. */
static inline int64_t tw__db_column_int(struct tw__stmt *s, int i)
{
    return s->db->ops->column_int(s, i);
}

/* NUL-terminated text; *len (when len is not NULL) receives its length. */
static inline const char *tw__db_column_text(struct tw__stmt *s, int i, size_t *len)
{
    return s->db->ops->column_text(s, i, len);
}

static inline const void *tw__db_column_blob(struct tw__stmt *s, int i, size_t *len)
{
    return s->db->ops->column_blob(s, i, len);
}

static inline bool tw__db_column_is_null(struct tw__stmt *s, int i)
{
    return s->db->ops->column_is_null(s, i);
}

/* Makes the statement ready to run again; bindings are kept. */
static inline void tw__db_reset(struct tw__stmt *s)
{
    s->db->ops->reset(s);
}

/* Frees a statement; NULL is a no-op. */
static inline void tw__db_finalize(struct tw__stmt *s)
{
    if (s != NULL)
        s->db->ops->finalize(s);
}

/*
 * Starts a write transaction. SQLite takes the database's write lock at once
 * (BEGIN IMMEDIATE), so writers queue on the busy timeout instead of failing
 * when they upgrade; PostgreSQL starts a READ COMMITTED transaction and the
 * store takes row locks where it needs order (STORE.md, "Concurrency").
 */
static inline int TW_MUST_CHECK tw__db_begin(struct tw__db *db, struct tw_err *err)
{
    return db->ops->begin(db, err);
}

/* Commits; on failure the transaction is rolled back. */
static inline int TW_MUST_CHECK tw__db_commit(struct tw__db *db, struct tw_err *err)
{
    return db->ops->commit(db, err);
}

/* Rolls back the open transaction, if any. Never fails from the caller's view. */
static inline void tw__db_rollback(struct tw__db *db)
{
    db->ops->rollback(db);
}

#endif
