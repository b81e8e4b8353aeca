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
 *
 * Writers of one process queue on a mutex per database file (found by device
 * and inode) before BEGIN IMMEDIATE, and release it at COMMIT or ROLLBACK.
 * SQLite's own busy handler only polls: a connection that finds the write
 * lock taken sleeps 1, 2, 5, 10 ... 100 ms between tries, so two threads of
 * the hub committing small transactions back to back (an access-log record
 * per request) waited milliseconds for a lock held for a fraction of one.
 * With the mutex a waiting thread is woken as soon as the lock is free. The
 * busy timeout still covers writers in other processes (the hub's CLI).
 *
 * Checkpoints run after the write lock is released. SQLite's automatic
 * checkpoint runs inside the COMMIT that crosses the WAL threshold, so it ran
 * with the in-process mutex held: every writer of the hub waited while one
 * of them copied the WAL into the database file and synced it (with an
 * ingest of 5,000-object envelopes, nearly every add). Each connection now
 * has a WAL hook that only notes the WAL's size; once the lock is released
 * a connection that saw it reach TW_SQLITE_CHECKPOINT_FRAMES runs a PASSIVE
 * checkpoint, which takes no write lock: other writers go on meanwhile, and
 * a second checkpointer finds the checkpoint lock taken and leaves it.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "tidewatch/alloc.h"
#include "tidewatch/str.h"

/* How long a connection waits for another one's write lock before TW_EDB. */
#define TW_SQLITE_BUSY_TIMEOUT_MS 10000

/*
 * Bytes of a statement journal kept in memory before it moves to a temporary
 * file (SQLite's default: 64 KiB). Inside a transaction, every INSERT into
 * a table with a unique index journals the pages it changes, so that the
 * statement alone can be undone; an add of 5,000 objects is 5,000 such
 * statements. Once one statement had journaled more than 64 KiB (a B-tree
 * split across several indexes), the journal stayed a file for the rest of
 * the transaction and every later statement wrote its pages there: about
 * 16 pwrite calls per object added. The journal is emptied after each
 * statement, so this bounds memory per connection, not per transaction.
 */
#define TW_SQLITE_STMT_JOURNAL_SPILL (4 << 20)

/* WAL frames (pages) after which a connection checkpoints: SQLite's default. */
#define TW_SQLITE_CHECKPOINT_FRAMES 1000

/* The in-process write lock of one database file, shared by its connections. */
struct writer_lock {
    struct writer_lock *next; /* the registry's list */
    dev_t dev;                /* the file's identity */
    ino_t ino;
    size_t refs; /* connections using it; freed at 0 */
    pthread_mutex_t mutex;
};

struct sqlite_db {
    struct tw__db base;
    sqlite3 *h;
    struct writer_lock *wl; /* NULL when the file could not be identified */
    bool writing;           /* this connection holds wl->mutex */
    int wal_frames;         /* the WAL's size at this connection's last commit */
};

static pthread_mutex_t writer_locks_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct writer_lock *writer_locks;

/* The largest n of a "$n" placeholder that gets a slot in sqlite_stmt.params. */
#define TW_SQLITE_MAX_PARAM 65535

/* Where a statement from op_prepare_insert is: it makes its one row itself. */
enum key_row {
    KEY_ROW_NONE = 0, /* an ordinary statement */
    KEY_ROW_READY,    /* not stepped since the last reset */
    KEY_ROW_GIVEN,    /* the row (key) is current */
    KEY_ROW_DONE,
};

struct sqlite_stmt {
    struct tw__stmt base;
    sqlite3_stmt *s;
    int bind_rc;  /* first failed bind since the last reset, as a TW_E* code */
    int *params;  /* params[n]: SQLite's index of "$n", 0 when the statement has none */
    int n_params; /* entries in params */
    enum key_row key_row;
    int64_t key; /* the inserted rowid, while key_row is KEY_ROW_GIVEN */
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

/*
 * The SQLite index of placeholder $i, or 0 when the statement has none.
 * Looked up once per statement by map_params: finding it by name on every
 * bind (format "$i", then SQLite's linear search of the names) cost more
 * than some of the statements it bound for.
 */
static int param_index(const struct sqlite_stmt *st, int i)
{
    return i > 0 && i < st->n_params ? st->params[i] : 0;
}

/* The n of a "$n" placeholder name, or 0 for any other name. */
static int param_number(const char *name)
{
    int n = 0;

    if (name == NULL || name[0] != '$' || name[1] == '\0')
        return 0;
    for (const char *p = name + 1; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || n > TW_SQLITE_MAX_PARAM / 10)
            return 0;
        n = n * 10 + (*p - '0');
    }
    return n <= TW_SQLITE_MAX_PARAM ? n : 0;
}

/* Fills st->params from the statement's parameter names. */
static int map_params(struct sqlite_stmt *st)
{
    int count = sqlite3_bind_parameter_count(st->s), top = 0;

    for (int j = 1; j <= count; j++)
        top = TW_MAX(top, param_number(sqlite3_bind_parameter_name(st->s, j)));
    if (top == 0)
        return TW_OK;
    st->params = tw_calloc((size_t)top + 1, sizeof(*st->params));
    if (st->params == NULL)
        return TW_ENOMEM;
    st->n_params = top + 1;
    for (int j = 1; j <= count; j++) {
        int n = param_number(sqlite3_bind_parameter_name(st->s, j));

        if (n > 0)
            st->params[n] = j;
    }
    return TW_OK;
}

/* Records the first failed bind; the next step returns it. */
static void bind_done(struct sqlite_stmt *st, int rc)
{
    if (rc == SQLITE_OK || st->bind_rc != TW_OK)
        return;
    st->bind_rc = rc == SQLITE_NOMEM ? TW_ENOMEM : rc == SQLITE_RANGE ? TW_EINVAL : TW_EDB;
}

/* ==== The in-process write lock ==== */

/* The write lock of the file at path, created or shared; NULL when stat or malloc fail. */
static struct writer_lock *writer_lock_ref(const char *path)
{
    struct writer_lock *w;
    struct stat sb;

    if (stat(path, &sb) != 0)
        return NULL;
    (void)pthread_mutex_lock(&writer_locks_mutex);
    for (w = writer_locks; w != NULL; w = w->next)
        if (w->dev == sb.st_dev && w->ino == sb.st_ino)
            break;
    if (w == NULL) {
        w = tw_calloc(1, sizeof(*w));
        if (w != NULL && pthread_mutex_init(&w->mutex, NULL) != 0) {
            tw_free(w);
            w = NULL;
        }
        if (w != NULL) {
            w->dev = sb.st_dev;
            w->ino = sb.st_ino;
            w->next = writer_locks;
            writer_locks = w;
        }
    }
    if (w != NULL)
        w->refs++;
    (void)pthread_mutex_unlock(&writer_locks_mutex);
    return w;
}

static void writer_lock_unref(struct writer_lock *w)
{
    struct writer_lock **p;

    if (w == NULL)
        return;
    (void)pthread_mutex_lock(&writer_locks_mutex);
    if (--w->refs == 0) {
        for (p = &writer_locks; *p != w; p = &(*p)->next)
            continue;
        *p = w->next;
        (void)pthread_mutex_destroy(&w->mutex);
        tw_free(w);
    }
    (void)pthread_mutex_unlock(&writer_locks_mutex);
}

static void writer_enter(struct sqlite_db *d)
{
    assert(!d->writing);
    if (d->wl != NULL)
        (void)pthread_mutex_lock(&d->wl->mutex);
    d->writing = true;
}

static void writer_leave(struct sqlite_db *d)
{
    if (!d->writing)
        return;
    d->writing = false;
    if (d->wl != NULL)
        (void)pthread_mutex_unlock(&d->wl->mutex);
}

/*
 * Called by SQLite after each commit of this connection (sqlite3_wal_hook).
 * A transaction's commit only notes the size (op_commit checkpoints after
 * releasing the lock); a write outside a transaction holds no lock of ours,
 * so it checkpoints here, as SQLite's own hook would.
 */
static int wal_hook(void *arg, sqlite3 *h, const char *db, int frames)
{
    struct sqlite_db *d = arg;

    d->wal_frames = frames;
    if (!d->writing && frames >= TW_SQLITE_CHECKPOINT_FRAMES) {
        d->wal_frames = 0;
        (void)sqlite3_wal_checkpoint_v2(h, db, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    }
    return SQLITE_OK;
}

/*
 * Outside any transaction and without the write lock: a PASSIVE checkpoint
 * once the WAL has grown past the threshold. Its result is not the caller's
 * business (a busy checkpointer, a reader pinning the WAL): the next commit
 * tries again.
 */
static void checkpoint_if_due(struct sqlite_db *d)
{
    if (d->wal_frames < TW_SQLITE_CHECKPOINT_FRAMES || d->writing || !sqlite3_get_autocommit(d->h))
        return;
    d->wal_frames = 0;
    (void)sqlite3_wal_checkpoint_v2(d->h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}

/* ==== Operations ==== */

static void op_close(struct tw__db *db)
{
    struct sqlite_db *d = (struct sqlite_db *)db;

    /* Every statement is finalized by the store first, so close cannot be busy. */
    (void)sqlite3_close(d->h);
    writer_leave(d);
    writer_lock_unref(d->wl);
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
    if (map_params(st) != TW_OK) {
        (void)sqlite3_finalize(s);
        tw_free(st);
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "sqlite: out of memory");
    }
    *out = &st->base;
    return TW_OK;
}

/*
 * tw__db_prepare_insert: the INSERT without its " RETURNING k" (k the
 * rowid alias), the row made from sqlite3_last_insert_rowid when the
 * statement inserted its row.
 */
static int op_prepare_insert(
        struct tw__db *db, const char *sql, struct tw__stmt **out, struct tw_err *err)
{
    static const char kw[] = " RETURNING ";
    const char *ret = NULL, *k;
    struct tw__stmt *s = NULL;
    char *text;
    int rc;

    *out = NULL;
    for (const char *p = strstr(sql, kw); p != NULL; p = strstr(p + 1, kw))
        ret = p;
    if (ret == NULL || strncmp(sql, "INSERT INTO ", 12) != 0 || strstr(sql, "ON CONFLICT") != NULL)
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "sqlite: not an INSERT ... RETURNING key");
    for (k = ret + sizeof(kw) - 1; *k == '_' || tw_ascii_isalpha(*k) || tw_ascii_isdigit(*k); k++)
        continue;
    if (*k != '\0' || k == ret + sizeof(kw) - 1)
        return TW_E_HERE(err, TW_EINVAL, TW_NOPOS, "sqlite: not an INSERT ... RETURNING key");
    text = tw_strndup(sql, (size_t)(ret - sql));
    if (text == NULL)
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "sqlite: out of memory");
    rc = op_prepare(db, text, &s, err);
    tw_free(text);
    if (rc == TW_OK && s != NULL)
        ((struct sqlite_stmt *)s)->key_row = KEY_ROW_READY;
    *out = s;
    return rc;
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
    if (st->key_row == KEY_ROW_GIVEN || st->key_row == KEY_ROW_DONE) {
        st->key_row = KEY_ROW_DONE;
        return TW__DB_DONE;
    }
    rc = sqlite3_step(st->s);
    if (rc == SQLITE_ROW)
        return TW__DB_ROW;
    if (rc == SQLITE_DONE && st->key_row == KEY_ROW_READY) {
        sqlite3 *h = sqlite3_db_handle(st->s);

        st->key_row = KEY_ROW_DONE;
        if (sqlite3_changes(h) != 1)
            return TW__DB_DONE; /* no row inserted: RETURNING gives none */
        st->key = (int64_t)sqlite3_last_insert_rowid(h);
        st->key_row = KEY_ROW_GIVEN;
        return TW__DB_ROW;
    }
    if (rc == SQLITE_DONE)
        return TW__DB_DONE;
    return fail(sqlite3_db_handle(st->s), rc, "step", err);
}

static int64_t op_column_int(struct tw__stmt *s, int i)
{
    struct sqlite_stmt *st = (struct sqlite_stmt *)s;

    if (st->key_row == KEY_ROW_GIVEN)
        return i == 0 ? st->key : 0;
    return (int64_t)sqlite3_column_int64(st->s, i);
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
    if (st->key_row != KEY_ROW_NONE)
        st->key_row = KEY_ROW_READY;
}

static void op_finalize(struct tw__stmt *s)
{
    struct sqlite_stmt *st = (struct sqlite_stmt *)s;

    (void)sqlite3_finalize(st->s);
    tw_free(st->params);
    tw_free(st);
}

/* Takes the in-process write lock, then SQLite's (BEGIN IMMEDIATE); both or neither. */
static int op_begin(struct tw__db *db, struct tw_err *err)
{
    struct sqlite_db *d = (struct sqlite_db *)db;
    int rc;

    writer_enter(d);
    rc = op_exec(db, "BEGIN IMMEDIATE", err);
    if (rc != TW_OK)
        writer_leave(d);
    return rc;
}

static void op_rollback(struct tw__db *db)
{
    struct sqlite_db *d = (struct sqlite_db *)db;

    if (!sqlite3_get_autocommit(d->h))
        (void)sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
    writer_leave(d);
}

static int op_commit(struct tw__db *db, struct tw_err *err)
{
    int rc = op_exec(db, "COMMIT", err);

    if (rc != TW_OK) {
        op_rollback(db);
    } else {
        writer_leave((struct sqlite_db *)db);
        checkpoint_if_due((struct sqlite_db *)db);
    }
    return rc;
}

static const struct tw__db_ops sqlite_ops = {
    .name = "sqlite",
    .close = op_close,
    .exec = op_exec,
    .prepare = op_prepare,
    .prepare_insert = op_prepare_insert,
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

/*
 * Process-wide settings, made once before SQLite initialises. This file is
 * the only user of SQLite in the program; if SQLite had been initialised
 * already, sqlite3_config refuses and SQLite's defaults stay.
 */
static void sqlite_setup(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, TW_SQLITE_STMT_JOURNAL_SPILL);
}

int tw__db_open_sqlite(
        const char *path, enum tw__db_mode mode, struct tw__db **out, struct tw_err *err)
{
    static pthread_once_t setup_once = PTHREAD_ONCE_INIT;

    struct sqlite_db *d;
    sqlite3 *h = NULL;
    struct stat sb;
    int rc;

    *out = NULL;
    (void)pthread_once(&setup_once, sqlite_setup);
    if (mode == TW__DB_CREATE) {
        rc = create_file(path, err);
        if (rc != TW_OK)
            return rc;
    } else if (stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return TW_E_HERE(err, TW_ENOTFOUND, TW_NOPOS, "no store at %s", path);
        return TW_E_HERE(err, TW_EIO, TW_NOPOS, "cannot open %s: %s", path, strerror(errno));
    }
    /*
     * NOMUTEX: a store handle is used by one thread at a time (store.h), so
     * SQLite's per-connection mutex, taken by every step, bind and column
     * call, only cost time (about a tenth of a page's instructions).
     */
    rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
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
    (void)sqlite3_wal_hook(h, wal_hook, d);
    d->wl = writer_lock_ref(path);
    *out = &d->base;
    return TW_OK;
}
