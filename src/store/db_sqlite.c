/*
 * db_sqlite.c: the SQLite driver behind the store's SQL seam (db.h).
 *
 * This is the only file of the project that includes sqlite3.h. It opens one
 * connection per store handle on a database file shared by every handle of
 * the hub (threads and processes): WAL journal, synchronous=FULL so that a
 * commit is on disk before it returns, foreign keys on, and a busy timeout so
 * that writers queue instead of failing. Placeholders are written "$n" in the
 * store's SQL; SQLite reads "$n" as a named parameter, and binding looks its
 * index up with sqlite3_bind_parameter_index. Extended result codes are on,
 * so constraint violations can be told apart (db.h, "Errors").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "tidewatch/alloc.h"

/* How long a connection waits for another one's write lock before TW_EDB. */
#define TW_SQLITE_BUSY_TIMEOUT_MS 10000

struct sqlite_db {
    struct tw__db base;
    sqlite3 *h;
};

struct sqlite_stmt {
    struct tw__stmt base;
    sqlite3_stmt *s;
    int bind_rc; /* first failed bind since the last reset, as a TW_E* code */
};

static const struct tw__db_ops sqlite_ops;

/* ==== Helpers ==== */

static sqlite3 *handle_of(struct tw__db *db)
{
    return ((struct sqlite_db *)db)->h;
}

/* Maps an (extended) SQLite result code onto the store's statuses and fills err. */
static int fail(sqlite3 *h, int rc, const char *what, struct tw_err *err)
{
    int code;

    switch (rc) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
            code = TW_EEXIST;
            break;
        case SQLITE_CONSTRAINT_FOREIGNKEY:
            code = TW_ENOTFOUND;
            break;
        default:
            if ((rc & 0xff) == SQLITE_CONSTRAINT)
                code = TW_EINVAL;
            else if ((rc & 0xff) == SQLITE_NOMEM)
                code = TW_ENOMEM;
            else
                code = TW_EDB;
            break;
    }
    return TW_E_HERE(err, code, TW_NOPOS, "sqlite: %s: %s", what,
            h != NULL ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
}

/* The SQLite index of placeholder $i, or 0 when the statement has none. */
static int param_index(struct sqlite_stmt *st, int i)
{
    char name[16];
    int n = snprintf(name, sizeof(name), "$%d", i);

    if (n < 0 || (size_t)n >= sizeof(name))
        return 0;
    return sqlite3_bind_parameter_index(st->s, name);
}

/* Records the first failed bind; the next step returns it. */
static void bind_done(struct sqlite_stmt *st, int rc)
{
    if (rc == SQLITE_OK || st->bind_rc != TW_OK)
        return;
    st->bind_rc = rc == SQLITE_NOMEM ? TW_ENOMEM : rc == SQLITE_RANGE ? TW_EINVAL : TW_EDB;
}

/* ==== Operations ==== */

static void op_close(struct tw__db *db)
{
    struct sqlite_db *d = (struct sqlite_db *)db;

    /* Every statement is finalized by the store first, so close cannot be busy. */
    (void)sqlite3_close(d->h);
    tw_free(d);
}

static int op_exec(struct tw__db *db, const char *sql, struct tw_err *err)
{
    sqlite3 *h = handle_of(db);
    int rc = sqlite3_exec(h, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        return fail(h, sqlite3_extended_errcode(h), "exec", err);
    return TW_OK;
}

static int op_prepare(struct tw__db *db, const char *sql, struct tw__stmt **out, struct tw_err *err)
{
    sqlite3 *h = handle_of(db);
    struct sqlite_stmt *st;
    sqlite3_stmt *s = NULL;
    int rc;

    *out = NULL;
    rc = sqlite3_prepare_v2(h, sql, -1, &s, NULL);
    if (rc != SQLITE_OK)
        return fail(h, sqlite3_extended_errcode(h), "prepare", err);
    if (s == NULL)
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "sqlite: prepare: empty statement");
    st = tw_calloc(1, sizeof(*st));
    if (st == NULL) {
        (void)sqlite3_finalize(s);
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "sqlite: out of memory");
    }
    st->base.db = db;
    st->s = s;
    *out = &st->base;
    return TW_OK;
}

static void op_bind_int(struct tw__stmt *s, int i, int64_t v)
{
    struct sqlite_stmt *st = (struct sqlite_stmt *)s;

    bind_done(st, sqlite3_bind_int64(st->s, param_index(st, i), (sqlite3_int64)v));
}

static void op_bind_text(struct tw__stmt *s, int i, const char *p, size_t len)
{
    struct sqlite_stmt *st = (struct sqlite_stmt *)s;

    /* A NULL pointer would bind SQL NULL: an empty text is "". */
    bind_done(st, sqlite3_bind_text64(st->s, param_index(st, i), p != NULL ? p : "",
                          (sqlite3_uint64)len, SQLITE_TRANSIENT, SQLITE_UTF8));
}

static void op_bind_blob(struct tw__stmt *s, int i, const void *p, size_t len)
{
    struct sqlite_stmt *st = (struct sqlite_stmt *)s;

    if (len == 0) {
        bind_done(st, sqlite3_bind_zeroblob(st->s, param_index(st, i), 0));
        return;
    }
    bind_done(st, sqlite3_bind_blob64(
                          st->s, param_index(st, i), p, (sqlite3_uint64)len, SQLITE_TRANSIENT));
}

static void op_bind_null(struct tw__stmt *s, int i)
{
    struct sqlite_stmt *st = (struct sqlite_stmt *)s;

    bind_done(st, sqlite3_bind_null(st->s, param_index(st, i)));
}

static int op_step(struct tw__stmt *s, struct tw_err *err)
{
    struct sqlite_stmt *st = (struct sqlite_stmt *)s;
    int rc;

    if (st->bind_rc != TW_OK)
        return TW_E_HERE(err, st->bind_rc, TW_NOPOS, "sqlite: bind: %s", tw_strerror(st->bind_rc));
    rc = sqlite3_step(st->s);
    if (rc == SQLITE_ROW)
        return TW__DB_ROW;
    if (rc == SQLITE_DONE)
        return TW__DB_DONE;
    return fail(sqlite3_db_handle(st->s), rc, "step", err);
}

static int64_t op_column_int(struct tw__stmt *s, int i)
{
    return (int64_t)sqlite3_column_int64(((struct sqlite_stmt *)s)->s, i);
}

static const char *op_column_text(struct tw__stmt *s, int i, size_t *len)
{
    sqlite3_stmt *h = ((struct sqlite_stmt *)s)->s;
    const unsigned char *t = sqlite3_column_text(h, i);
    int n = sqlite3_column_bytes(h, i);

    if (t == NULL) {
        t = (const unsigned char *)"";
        n = 0;
    }
    if (len != NULL)
        *len = (size_t)n;
    return (const char *)t;
}

static const void *op_column_blob(struct tw__stmt *s, int i, size_t *len)
{
    sqlite3_stmt *h = ((struct sqlite_stmt *)s)->s;
    const void *p = sqlite3_column_blob(h, i);
    int n = sqlite3_column_bytes(h, i);

    if (p == NULL) {
        p = "";
        n = 0;
    }
    if (len != NULL)
        *len = (size_t)n;
    return p;
}

static bool op_column_is_null(struct tw__stmt *s, int i)
{
    return sqlite3_column_type(((struct sqlite_stmt *)s)->s, i) == SQLITE_NULL;
}

static void op_reset(struct tw__stmt *s)
{
    struct sqlite_stmt *st = (struct sqlite_stmt *)s;

    /* sqlite3_reset repeats the last step's error, which was reported then. */
    (void)sqlite3_reset(st->s);
    st->bind_rc = TW_OK;
}

static void op_finalize(struct tw__stmt *s)
{
    struct sqlite_stmt *st = (struct sqlite_stmt *)s;

    (void)sqlite3_finalize(st->s);
    tw_free(st);
}

static int op_begin(struct tw__db *db, struct tw_err *err)
{
    return op_exec(db, "BEGIN IMMEDIATE", err);
}

static void op_rollback(struct tw__db *db)
{
    sqlite3 *h = handle_of(db);

    if (!sqlite3_get_autocommit(h))
        (void)sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
}

static int op_commit(struct tw__db *db, struct tw_err *err)
{
    int rc = op_exec(db, "COMMIT", err);

    if (rc != TW_OK)
        op_rollback(db);
    return rc;
}

static const struct tw__db_ops sqlite_ops = {
    .name = "sqlite",
    .close = op_close,
    .exec = op_exec,
    .prepare = op_prepare,
    .bind_int = op_bind_int,
    .bind_text = op_bind_text,
    .bind_blob = op_bind_blob,
    .bind_null = op_bind_null,
    .step = op_step,
    .column_int = op_column_int,
    .column_text = op_column_text,
    .column_blob = op_column_blob,
    .column_is_null = op_column_is_null,
    .reset = op_reset,
    .finalize = op_finalize,
    .begin = op_begin,
    .commit = op_commit,
    .rollback = op_rollback,
};

/* ==== Opening ==== */

/* Creates `path` as an empty file, failing when it exists (O_EXCL: atomic). */
static int create_file(const char *path, struct tw_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0) {
        int e = errno;

        if (e == EEXIST)
            return TW_E_HERE(err, TW_EEXIST, TW_NOPOS, "store %s exists already", path);
        return TW_E_HERE(err, TW_EIO, TW_NOPOS, "cannot create %s: %s", path, strerror(e));
    }
    if (close(fd) != 0)
        return TW_E_HERE(err, TW_EIO, TW_NOPOS, "cannot create %s: %s", path, strerror(errno));
    return TW_OK;
}

/* Switches to WAL and checks that SQLite agreed (it refuses for some file systems). */
static int set_wal(sqlite3 *h, struct tw_err *err)
{
    sqlite3_stmt *s = NULL;
    const unsigned char *mode;
    bool ok;
    int rc;

    rc = sqlite3_prepare_v2(h, "PRAGMA journal_mode=WAL", -1, &s, NULL);
    if (rc != SQLITE_OK)
        return fail(h, sqlite3_extended_errcode(h), "journal_mode", err);
    rc = sqlite3_step(s);
    mode = rc == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;
    ok = mode != NULL && strcmp((const char *)mode, "wal") == 0;
    (void)sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return fail(h, rc, "journal_mode", err);
    if (!ok)
        return TW_E_HERE(err, TW_EDB, TW_NOPOS, "sqlite: the database refused WAL mode");
    return TW_OK;
}

int tw__db_open_sqlite(
        const char *path, enum tw__db_mode mode, struct tw__db **out, struct tw_err *err)
{
    struct sqlite_db *d;
    sqlite3 *h = NULL;
    struct stat sb;
    int rc;

    *out = NULL;
    if (mode == TW__DB_CREATE) {
        rc = create_file(path, err);
        if (rc != TW_OK)
            return rc;
    } else if (stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return TW_E_HERE(err, TW_ENOTFOUND, TW_NOPOS, "no store at %s", path);
        return TW_E_HERE(err, TW_EIO, TW_NOPOS, "cannot open %s: %s", path, strerror(errno));
    }
    rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        rc = fail(h, rc, "open", err);
        (void)sqlite3_close(h);
        return rc;
    }
    (void)sqlite3_extended_result_codes(h, 1);
    (void)sqlite3_busy_timeout(h, TW_SQLITE_BUSY_TIMEOUT_MS);
    rc = set_wal(h, err);
    if (rc == TW_OK && sqlite3_exec(h, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", NULL,
                               NULL, NULL) != SQLITE_OK)
        rc = fail(h, sqlite3_extended_errcode(h), "pragma", err);
    if (rc != TW_OK) {
        (void)sqlite3_close(h);
        return rc;
    }
    d = tw_calloc(1, sizeof(*d));
    if (d == NULL) {
        (void)sqlite3_close(h);
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "sqlite: out of memory");
    }
    d->base.ops = &sqlite_ops;
    d->h = h;
    *out = &d->base;
    return TW_OK;
}
