/*
 * store_int.h: what the files of src/store share, and the hooks the store's
 * unit test uses to look inside (the connection, the page query it runs).
 */
#ifndef TIDEWATCH_STORE_INT_H
#define TIDEWATCH_STORE_INT_H

#include <stdbool.h>

#include "db.h"
#include "tidewatch/err.h"
#include "tidewatch/store.h"

/* The schema this build writes and reads (table schema_version). */
#define TW__STORE_SCHEMA_VERSION 1

/*
 * The DDL that creates an empty store, for PostgreSQL (pg) or SQLite: a
 * NULL-terminated list of statements, run inside one transaction by
 * tw_store_open. The SQLite list also seeds the planner statistics
 * (STORE.md, "Indexes").
 */
const char *const *tw__store_ddl(bool pg);

/* SQL that returns one row when the current database/schema holds a store. */
const char *tw__store_probe_sql(bool pg);

/* The store's connection, for tests that inspect the database directly. */
struct tw__db *tw__store_db(struct tw_store *st);

/*
 * Builds the page query tw_store_objects_query runs for q, prefixed with
 * `prefix` ("" to run it, "EXPLAIN QUERY PLAN " or "EXPLAIN " to look at its
 * plan), prepares it on the store's connection and binds every parameter.
 * The caller finalizes *out. Returns TW_OK, TW_EINVAL or TW_ELIMIT for a bad
 * query, or the driver's error.
 */
int tw__store_objects_prepare(struct tw_store *st, const struct tw_obj_query *q, const char *prefix,
        struct tw__stmt **out, struct tw_err *err) TW_MUST_CHECK;

#endif
