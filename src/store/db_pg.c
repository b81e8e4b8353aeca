/*
 * db_pg.c: the PostgreSQL driver behind the store's SQL seam (db.h).
 *
 * This is the only file of the project that includes libpq-fe.h. The store's
 * SQL already uses PostgreSQL's $1..$n placeholders, so statements are passed
 * through unchanged. Parameters travel in binary form with explicit types
 * (int8, text, bytea), and results are requested in binary form too: an
 * integer column is read by its width (8, 4, 2 or 1 bytes, big-endian), text
 * and bytea columns are the bytes themselves (libpq always appends a NUL).
 *
 * A statement is executed with PQexecParams the first time (one round trip,
 * nothing left on the server) and prepared on the server with PQprepare from
 * its second execution on, so the store's cached statements are parsed and
 * planned once per connection while one-off queries cost no extra trip. A
 * whole result is fetched at once; the store keeps results small (pages,
 * chunks of the access log).
 */
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "tidewatch/alloc.h"

/* Type OIDs of pg_type that parameters are declared with (catalog/pg_type_d.h). */
#define TW_PG_BYTEAOID 17
#define TW_PG_INT8OID  20
#define TW_PG_TEXTOID  25

/* PostgreSQL's own limit on parameters of one statement. */
#define TW_PG_MAX_PARAMS 65535

struct pg_db {
    struct tw__db base;
    PGconn *conn;
    unsigned long next_name; /* names server-side prepared statements */
};

struct pg_param {
    Oid type; /* 0 until bound: the server infers it */
    bool null;
    char inl[8]; /* int8 values and empty texts */
    char *heap;  /* text and bytea values */
    int len;
};

struct pg_stmt {
    struct tw__stmt base;
    char *sql;
    int n_params;
    struct pg_param *params;
    const char **values; /* execution arrays, n_params long */
    int *lengths;
    int *formats;
    Oid *types;
    Oid *prepared_types; /* what the server-side statement was prepared with */
    char name[32];
    bool prepared;
    unsigned long runs;
    int bind_rc;
    PGresult *res;
    int row, n_rows;
};

/* ==== Helpers ==== */

static PGconn *conn_of(struct tw__db *db)
{
    return ((struct pg_db *)db)->conn;
}

/* Copies a libpq message into err without its trailing newline. */
static int fail_msg(int code, const char *what, const char *msg, struct tw_err *err)
{
    size_t n = msg != NULL ? strlen(msg) : 0;

    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        n--;
    return TW_E_HERE(err, code, TW_NOPOS, "postgresql: %s: %.*s", what, (int)TW_MIN(n, 200u),
            msg != NULL ? msg : "");
}

/* Maps a failed result (or its absence) onto the store's statuses. */
static int fail_res(PGconn *conn, const PGresult *res, const char *what, struct tw_err *err)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    int code = TW_EDB;

    if (state != NULL) {
        if (strcmp(state, "23505") == 0 || strcmp(state, "42P07") == 0 ||
                strcmp(state, "42P06") == 0)
            code = TW_EEXIST; /* unique violation, duplicate table or schema */
        else if (strcmp(state, "23503") == 0)
            code = TW_ENOTFOUND; /* foreign key violation */
        else if (strncmp(state, "23", 2) == 0)
            code = TW_EINVAL; /* other integrity constraints */
    }
    if (msg == NULL)
        msg = PQerrorMessage(conn);
    return fail_msg(code, what, msg, err);
}

/* Counts the placeholders of sql: the largest n of a $n outside quotes. */
static int count_params(const char *sql)
{
    int max = 0;
    char quote = 0;

    for (const char *p = sql; *p != '\0'; p++) {
        if (quote != 0) {
            if (*p == quote)
                quote = 0;
            continue;
        }
        if (*p == '\'' || *p == '"') {
            quote = *p;
            continue;
        }
        if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
            long n = 0;

            while (p[1] >= '0' && p[1] <= '9') {
                if (n <= TW_PG_MAX_PARAMS)
                    n = n * 10 + (p[1] - '0');
                p++;
            }
            if (n > TW_PG_MAX_PARAMS)
                return -1;
            if (n > max)
                max = (int)n;
        }
    }
    return max;
}

/* The slot for $i, or NULL (and a remembered error) when there is none. */
static struct pg_param *param(struct pg_stmt *st, int i)
{
    struct pg_param *p;

    if (i < 1 || i > st->n_params) {
        if (st->bind_rc == TW_OK)
            st->bind_rc = TW_EINVAL;
        return NULL;
    }
    p = &st->params[i - 1];
    tw_free(p->heap);
    p->heap = NULL;
    p->null = false;
    p->len = 0;
    return p;
}

static void set_bytes(struct pg_stmt *st, int i, Oid type, const void *v, size_t len)
{
    struct pg_param *p = param(st, i);

    if (p == NULL)
        return;
    p->type = type;
    if (len > (size_t)0x3fffffff) {
        p->null = true;
        if (st->bind_rc == TW_OK)
            st->bind_rc = TW_ELIMIT;
        return;
    }
    p->len = (int)len;
    if (len == 0)
        return;
    p->heap = tw_malloc(len);
    if (p->heap == NULL) {
        p->null = true;
        if (st->bind_rc == TW_OK)
            st->bind_rc = TW_ENOMEM;
        return;
    }
    memcpy(p->heap, v, len);
}

static void clear_result(struct pg_stmt *st)
{
    PQclear(st->res);
    st->res = NULL;
    st->row = 0;
    st->n_rows = 0;
}

/* Runs a command with no parameters and no rows (simple query protocol). */
static int run_simple(PGconn *conn, const char *sql, const char *what, struct tw_err *err)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType s = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    int rc = TW_OK;

    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        rc = fail_res(conn, res, what, err);
    PQclear(res);
    return rc;
}

/* ==== Operations ==== */

static void op_close(struct tw__db *db)
{
    struct pg_db *d = (struct pg_db *)db;

    PQfinish(d->conn);
    tw_free(d);
}

static int op_exec(struct tw__db *db, const char *sql, struct tw_err *err)
{
    return run_simple(conn_of(db), sql, "exec", err);
}

static void stmt_free(struct pg_stmt *st)
{
    if (st == NULL)
        return;
    clear_result(st);
    for (int i = 0; i < st->n_params && st->params != NULL; i++)
        tw_free(st->params[i].heap);
    tw_free(st->params);
    tw_free((void *)st->values);
    tw_free(st->lengths);
    tw_free(st->formats);
    tw_free(st->types);
    tw_free(st->prepared_types);
    tw_free(st->sql);
    tw_free(st);
}

static int op_prepare(struct tw__db *db, const char *sql, struct tw__stmt **out, struct tw_err *err)
{
    struct pg_stmt *st;
    int n = count_params(sql);
    size_t k;

    *out = NULL;
    if (n < 0)
        return TW_E_HERE(err, TW_ELIMIT, TW_NOPOS, "postgresql: too many parameters");
    k = n > 0 ? (size_t)n : 1;
    st = tw_calloc(1, sizeof(*st));
    if (st == NULL)
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "postgresql: out of memory");
    st->base.db = db;
    st->n_params = n;
    st->sql = tw_strdup(sql);
    st->params = tw_calloc(k, sizeof(*st->params));
    st->values = tw_calloc(k, sizeof(*st->values));
    st->lengths = tw_calloc(k, sizeof(*st->lengths));
    st->formats = tw_calloc(k, sizeof(*st->formats));
    st->types = tw_calloc(k, sizeof(*st->types));
    st->prepared_types = tw_calloc(k, sizeof(*st->prepared_types));
    if (st->sql == NULL || st->params == NULL || st->values == NULL || st->lengths == NULL ||
            st->formats == NULL || st->types == NULL || st->prepared_types == NULL) {
        stmt_free(st);
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "postgresql: out of memory");
    }
    *out = &st->base;
    return TW_OK;
}

static void op_bind_int(struct tw__stmt *s, int i, int64_t v)
{
    struct pg_stmt *st = (struct pg_stmt *)s;
    struct pg_param *p = param(st, i);
    uint64_t u = (uint64_t)v;

    if (p == NULL)
        return;
    p->type = TW_PG_INT8OID;
    p->len = 8;
    for (int b = 7; b >= 0; b--) {
        p->inl[b] = (char)(u & 0xff);
        u >>= 8;
    }
}

static void op_bind_text(struct tw__stmt *s, int i, const char *p, size_t len)
{
    set_bytes((struct pg_stmt *)s, i, TW_PG_TEXTOID, p, len);
}

static void op_bind_blob(struct tw__stmt *s, int i, const void *p, size_t len)
{
    set_bytes((struct pg_stmt *)s, i, TW_PG_BYTEAOID, p, len);
}

static void op_bind_null(struct tw__stmt *s, int i)
{
    struct pg_stmt *st = (struct pg_stmt *)s;
    struct pg_param *p = param(st, i);

    /* The type stays what it was, so a prepared statement can be reused. */
    if (p != NULL)
        p->null = true;
}

/* Fills the execution arrays; returns whether the types differ from the prepared ones. */
static bool build_args(struct pg_stmt *st)
{
    bool differ = false;

    for (int i = 0; i < st->n_params; i++) {
        const struct pg_param *p = &st->params[i];

        st->types[i] = p->type;
        st->formats[i] = 1;
        st->lengths[i] = p->len;
        if (p->null)
            st->values[i] = NULL;
        else
            st->values[i] = p->heap != NULL ? p->heap : p->inl;
        if (p->type != 0 && p->type != st->prepared_types[i])
            differ = true;
    }
    return differ;
}

static int server_prepare(struct pg_stmt *st, struct tw_err *err)
{
    struct pg_db *d = (struct pg_db *)st->base.db;
    PGresult *res;
    int rc = TW_OK;

    if (st->prepared) {
        char sql[64];

        (void)snprintf(sql, sizeof(sql), "DEALLOCATE %s", st->name);
        rc = run_simple(d->conn, sql, "deallocate", err);
        if (rc != TW_OK)
            return rc;
        st->prepared = false;
    }
    (void)snprintf(st->name, sizeof(st->name), "tw_%lu", d->next_name++);
    res = PQprepare(d->conn, st->name, st->sql, st->n_params, st->types);
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = fail_res(d->conn, res, "prepare", err);
    PQclear(res);
    if (rc != TW_OK)
        return rc;
    st->prepared = true;
    if (st->n_params > 0)
        memcpy(st->prepared_types, st->types, (size_t)st->n_params * sizeof(*st->types));
    return TW_OK;
}

static int execute(struct pg_stmt *st, struct tw_err *err)
{
    PGconn *conn = conn_of(st->base.db);
    bool differ = build_args(st);
    ExecStatusType status;
    int rc;

    if (st->runs > 0 && (!st->prepared || differ)) {
        rc = server_prepare(st, err);
        if (rc != TW_OK)
            return rc;
    }
    st->runs++;
    if (st->prepared)
        st->res = PQexecPrepared(
                conn, st->name, st->n_params, st->values, st->lengths, st->formats, 1);
    else
        st->res = PQexecParams(
                conn, st->sql, st->n_params, st->types, st->values, st->lengths, st->formats, 1);
    status = st->res != NULL ? PQresultStatus(st->res) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        rc = fail_res(conn, st->res, "query", err);
        clear_result(st);
        return rc;
    }
    st->n_rows = status == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
    st->row = -1;
    return TW_OK;
}

static int op_step(struct tw__stmt *s, struct tw_err *err)
{
    struct pg_stmt *st = (struct pg_stmt *)s;

    if (st->bind_rc != TW_OK)
        return TW_E_HERE(
                err, st->bind_rc, TW_NOPOS, "postgresql: bind: %s", tw_strerror(st->bind_rc));
    if (st->res == NULL) {
        int rc = execute(st, err);

        if (rc != TW_OK)
            return rc;
    }
    if (st->row < st->n_rows)
        st->row++;
    return st->row < st->n_rows ? TW__DB_ROW : TW__DB_DONE;
}

/* Whether column i of the current row exists and is not NULL. */
static bool has_value(const struct pg_stmt *st, int i)
{
    return st->res != NULL && st->row >= 0 && st->row < st->n_rows && i >= 0 &&
           i < PQnfields(st->res) && !PQgetisnull(st->res, st->row, i);
}

static int64_t op_column_int(struct tw__stmt *s, int i)
{
    struct pg_stmt *st = (struct pg_stmt *)s;
    const unsigned char *p;
    uint64_t u = 0;
    int n;

    if (!has_value(st, i))
        return 0;
    p = (const unsigned char *)PQgetvalue(st->res, st->row, i);
    n = PQgetlength(st->res, st->row, i);
    if (n != 1 && n != 2 && n != 4 && n != 8)
        return 0;
    for (int b = 0; b < n; b++)
        u = (u << 8) | p[b];
    /* Sign-extend the narrower integer types (int2, int4) and bool. */
    if (n < 8 && (p[0] & 0x80) != 0)
        u |= ~(uint64_t)0 << (8 * n);
    return (int64_t)u;
}

static const char *op_column_text(struct tw__stmt *s, int i, size_t *len)
{
    struct pg_stmt *st = (struct pg_stmt *)s;
    const char *p = "";
    int n = 0;

    if (has_value(st, i)) {
        p = PQgetvalue(st->res, st->row, i);
        n = PQgetlength(st->res, st->row, i);
    }
    if (len != NULL)
        *len = (size_t)n;
    return p;
}

static const void *op_column_blob(struct tw__stmt *s, int i, size_t *len)
{
    return op_column_text(s, i, len);
}

static bool op_column_is_null(struct tw__stmt *s, int i)
{
    return !has_value((struct pg_stmt *)s, i);
}

static void op_reset(struct tw__stmt *s)
{
    struct pg_stmt *st = (struct pg_stmt *)s;

    clear_result(st);
    st->bind_rc = TW_OK;
}

static void op_finalize(struct tw__stmt *s)
{
    struct pg_stmt *st = (struct pg_stmt *)s;
    struct pg_db *d = (struct pg_db *)s->db;

    if (st->prepared && PQtransactionStatus(d->conn) == PQTRANS_IDLE) {
        char sql[64];

        /* Best effort: a statement left behind dies with the session. */
        (void)snprintf(sql, sizeof(sql), "DEALLOCATE %s", st->name);
        PQclear(PQexec(d->conn, sql));
    }
    stmt_free(st);
}

static int op_begin(struct tw__db *db, struct tw_err *err)
{
    return run_simple(conn_of(db), "BEGIN", "begin", err);
}

static void op_rollback(struct tw__db *db)
{
    PGconn *conn = conn_of(db);

    if (PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
}

static int op_commit(struct tw__db *db, struct tw_err *err)
{
    PGconn *conn = conn_of(db);
    PGresult *res = PQexec(conn, "COMMIT");
    int rc = TW_OK;

    /* COMMIT of a transaction that had failed answers "ROLLBACK", not an error. */
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = fail_res(conn, res, "commit", err);
    else if (strcmp(PQcmdStatus(res), "COMMIT") != 0)
        rc = TW_E_HERE(err, TW_EDB, TW_NOPOS, "postgresql: commit: the transaction was aborted");
    PQclear(res);
    if (rc != TW_OK)
        op_rollback(db);
    return rc;
}

static const struct tw__db_ops pg_ops = {
    .name = "postgresql",
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

/* Server notices (NOTICE, WARNING) are not the store's output. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int tw__db_open_pg(const char *conninfo, struct tw__db **out, struct tw_err *err)
{
    struct pg_db *d;
    PGconn *conn;
    int rc;

    *out = NULL;
    conn = PQconnectdb(conninfo);
    if (conn == NULL)
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "postgresql: out of memory");
    if (PQstatus(conn) != CONNECTION_OK) {
        rc = fail_msg(TW_EDB, "connect", PQerrorMessage(conn), err);
        PQfinish(conn);
        return rc;
    }
    (void)PQsetNoticeProcessor(conn, quiet, NULL);
    if (PQsetClientEncoding(conn, "UTF8") != 0) {
        rc = fail_msg(TW_EDB, "client encoding", PQerrorMessage(conn), err);
        PQfinish(conn);
        return rc;
    }
    d = tw_calloc(1, sizeof(*d));
    if (d == NULL) {
        PQfinish(conn);
        return TW_E_HERE(err, TW_ENOMEM, TW_NOPOS, "postgresql: out of memory");
    }
    d->base.ops = &pg_ops;
    d->conn = conn;
    *out = &d->base;
    return TW_OK;
}
