/*
 * schema.c: the store's tables, once per backend (docs/internals/STORE.md,
 * "Schema").
 *
 * The two texts describe the same tables, columns and indexes; they differ
 * only where the dialects do: SQLite's rowid aliases (INTEGER PRIMARY KEY
 * AUTOINCREMENT, so a sequence number is never reused) against PostgreSQL's
 * identity columns, BLOB against BYTEA, 64-bit INTEGER against BIGINT, and
 * SQLite's WITHOUT ROWID for the recipient tables. Every other statement of
 * the store is written once, in store.c.
 *
 * The SQLite text ends by seeding sqlite_stat1 with the shape of a large hub
 * (a million objects, few versions per id, many ids per type). Without
 * statistics SQLite's planner prefers any index that yields the ORDER BY,
 * even for a match[id] query where the (collection, stix_id, version) index
 * finds the handful of rows at once. ANALYZE is never run by the store, so
 * these figures stay; PostgreSQL gathers its own (autovacuum).
 */
#include "store_int.h"

static const char *const sqlite_ddl[] = {
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "INSERT INTO schema_version (version) VALUES (1)",
    "CREATE TABLE orgs (\n"
    "    id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "    name TEXT NOT NULL UNIQUE,\n"
    "    sector TEXT NOT NULL,\n"
    "    identity_id TEXT NOT NULL,\n"
    "    disclose_sightings INTEGER NOT NULL,\n"
    "    created INTEGER NOT NULL)",
    "CREATE TABLE sharing_groups (\n"
    "    id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "    name TEXT NOT NULL UNIQUE)",
    "CREATE TABLE group_members (\n"
    "    grp INTEGER NOT NULL REFERENCES sharing_groups (id),\n"
    "    org INTEGER NOT NULL REFERENCES orgs (id),\n"
    "    PRIMARY KEY (grp, org))",
    "CREATE INDEX group_members_org ON group_members (org, grp)",
    "CREATE TABLE api_keys (\n"
    "    id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "    key_id TEXT NOT NULL UNIQUE,\n"
    "    hash BLOB NOT NULL,\n"
    "    org INTEGER NOT NULL REFERENCES orgs (id),\n"
    "    role INTEGER NOT NULL,\n"
    "    label TEXT NOT NULL,\n"
    "    rate_per_min INTEGER NOT NULL,\n"
    "    created INTEGER NOT NULL,\n"
    "    revoked INTEGER NOT NULL)",
    "CREATE INDEX api_keys_org ON api_keys (org, id)",
    "CREATE TABLE api_roots (\n"
    "    id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "    name TEXT NOT NULL UNIQUE,\n"
    "    title TEXT NOT NULL,\n"
    "    description TEXT NOT NULL)",
    "CREATE TABLE collections (\n"
    "    id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "    uuid TEXT NOT NULL UNIQUE,\n"
    "    root TEXT NOT NULL REFERENCES api_roots (name),\n"
    "    title TEXT NOT NULL,\n"
    "    description TEXT NOT NULL,\n"
    "    alias TEXT NOT NULL,\n"
    "    default_tlp INTEGER NOT NULL,\n"
    "    grp INTEGER REFERENCES sharing_groups (id),\n"
    "    created INTEGER NOT NULL,\n"
    "    last_added INTEGER NOT NULL)",
    "CREATE UNIQUE INDEX collections_alias ON collections (root, alias) WHERE alias <> ''",
    "CREATE INDEX collections_root ON collections (root, id)",
    "CREATE TABLE grants_org (\n"
    "    collection INTEGER NOT NULL REFERENCES collections (id),\n"
    "    org INTEGER NOT NULL REFERENCES orgs (id),\n"
    "    can_read INTEGER NOT NULL,\n"
    "    can_write INTEGER NOT NULL,\n"
    "    PRIMARY KEY (collection, org))",
    "CREATE TABLE grants_group (\n"
    "    collection INTEGER NOT NULL REFERENCES collections (id),\n"
    "    grp INTEGER NOT NULL REFERENCES sharing_groups (id),\n"
    "    can_read INTEGER NOT NULL,\n"
    "    can_write INTEGER NOT NULL,\n"
    "    PRIMARY KEY (collection, grp))",
    "CREATE TABLE objects (\n"
    "    seq INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "    collection INTEGER NOT NULL REFERENCES collections (id),\n"
    "    stix_id TEXT NOT NULL,\n"
    "    type TEXT NOT NULL,\n"
    "    spec_version TEXT NOT NULL,\n"
    "    version TEXT NOT NULL,\n"
    "    vkey INTEGER NOT NULL,\n"
    "    date_added INTEGER NOT NULL,\n"
    "    tlp INTEGER NOT NULL,\n"
    "    producer_org INTEGER NOT NULL,\n"
    "    producer_key INTEGER NOT NULL,\n"
    "    is_first INTEGER NOT NULL,\n"
    "    is_last INTEGER NOT NULL,\n"
    "    is_latest_spec INTEGER NOT NULL,\n"
    "    relationship_type TEXT,\n"
    "    source_ref TEXT,\n"
    "    target_ref TEXT,\n"
    "    body TEXT NOT NULL)",
    "CREATE INDEX objects_page ON objects (collection, date_added, seq)",
    "CREATE UNIQUE INDEX objects_version ON objects (collection, stix_id, version)",
    "CREATE INDEX objects_type ON objects (collection, type, date_added, seq)",
    "CREATE INDEX objects_last ON objects (collection, date_added, seq) WHERE is_last = 1",
    "CREATE INDEX objects_indicates ON objects (source_ref)\n"
    "    WHERE relationship_type = 'indicates'",
    "CREATE TABLE object_orgs (\n"
    "    obj INTEGER NOT NULL REFERENCES objects (seq) ON DELETE CASCADE,\n"
    "    org INTEGER NOT NULL,\n"
    "    PRIMARY KEY (obj, org)) WITHOUT ROWID",
    "CREATE TABLE object_keys (\n"
    "    obj INTEGER NOT NULL REFERENCES objects (seq) ON DELETE CASCADE,\n"
    "    key_ref INTEGER NOT NULL,\n"
    "    PRIMARY KEY (obj, key_ref)) WITHOUT ROWID",
    "CREATE TABLE sightings (\n"
    "    seq INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "    obj INTEGER NOT NULL UNIQUE REFERENCES objects (seq) ON DELETE CASCADE,\n"
    "    collection INTEGER NOT NULL,\n"
    "    sighting_of TEXT NOT NULL,\n"
    "    reporter INTEGER NOT NULL,\n"
    "    first_seen INTEGER,\n"
    "    last_seen INTEGER,\n"
    "    sight_count INTEGER NOT NULL)",
    "CREATE INDEX sightings_of ON sightings (sighting_of)",
    "CREATE TABLE statuses (\n"
    "    id TEXT PRIMARY KEY,\n"
    "    collection INTEGER NOT NULL,\n"
    "    org INTEGER NOT NULL,\n"
    "    request_time INTEGER NOT NULL,\n"
    "    total INTEGER NOT NULL,\n"
    "    success INTEGER NOT NULL,\n"
    "    failure INTEGER NOT NULL,\n"
    "    pending INTEGER NOT NULL,\n"
    "    details TEXT)",
    "CREATE TABLE access_log (\n"
    "    seq INTEGER PRIMARY KEY,\n"
    "    logged_at INTEGER NOT NULL,\n"
    "    key_id TEXT NOT NULL,\n"
    "    org INTEGER NOT NULL,\n"
    "    method TEXT NOT NULL,\n"
    "    path TEXT NOT NULL,\n"
    "    status INTEGER NOT NULL,\n"
    "    ids TEXT NOT NULL,\n"
    "    prev BLOB NOT NULL,\n"
    "    hash BLOB NOT NULL)",
    "CREATE TABLE log_head (id INTEGER PRIMARY KEY, appends INTEGER NOT NULL)",
    "INSERT INTO log_head (id, appends) VALUES (1, 0)",
    /* Planner statistics: "rows, then rows per distinct prefix of 1, 2, ... columns". */
    "ANALYZE sqlite_schema",
    "DELETE FROM sqlite_stat1",
    "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES\n"
    "    ('objects', 'objects_page', '1000000 100000 20 1'),\n"
    "    ('objects', 'objects_version', '1000000 100000 2 1'),\n"
    "    ('objects', 'objects_type', '1000000 100000 10000 20 1'),\n"
    "    ('objects', 'objects_last', '500000 50000 10 1'),\n"
    "    ('objects', 'objects_indicates', '20000 4'),\n"
    "    ('object_orgs', 'object_orgs', '100000 5 1'),\n"
    "    ('object_keys', 'object_keys', '100000 5 1'),\n"
    "    ('sightings', 'sightings_of', '100000 20'),\n"
    "    ('sightings', 'sqlite_autoindex_sightings_1', '100000 1')",
    NULL,
};

static const char *const pg_ddl[] = {
    "CREATE TABLE schema_version (version BIGINT NOT NULL)",
    "INSERT INTO schema_version (version) VALUES (1)",
    "CREATE TABLE orgs (\n"
    "    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "    name TEXT NOT NULL UNIQUE,\n"
    "    sector TEXT NOT NULL,\n"
    "    identity_id TEXT NOT NULL,\n"
    "    disclose_sightings INTEGER NOT NULL,\n"
    "    created BIGINT NOT NULL)",
    "CREATE TABLE sharing_groups (\n"
    "    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "    name TEXT NOT NULL UNIQUE)",
    "CREATE TABLE group_members (\n"
    "    grp BIGINT NOT NULL REFERENCES sharing_groups (id),\n"
    "    org BIGINT NOT NULL REFERENCES orgs (id),\n"
    "    PRIMARY KEY (grp, org))",
    "CREATE INDEX group_members_org ON group_members (org, grp)",
    "CREATE TABLE api_keys (\n"
    "    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "    key_id TEXT NOT NULL UNIQUE,\n"
    "    hash BYTEA NOT NULL,\n"
    "    org BIGINT NOT NULL REFERENCES orgs (id),\n"
    "    role INTEGER NOT NULL,\n"
    "    label TEXT NOT NULL,\n"
    "    rate_per_min BIGINT NOT NULL,\n"
    "    created BIGINT NOT NULL,\n"
    "    revoked BIGINT NOT NULL)",
    "CREATE INDEX api_keys_org ON api_keys (org, id)",
    "CREATE TABLE api_roots (\n"
    "    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "    name TEXT NOT NULL UNIQUE,\n"
    "    title TEXT NOT NULL,\n"
    "    description TEXT NOT NULL)",
    "CREATE TABLE collections (\n"
    "    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "    uuid TEXT NOT NULL UNIQUE,\n"
    "    root TEXT NOT NULL REFERENCES api_roots (name),\n"
    "    title TEXT NOT NULL,\n"
    "    description TEXT NOT NULL,\n"
    "    alias TEXT NOT NULL,\n"
    "    default_tlp INTEGER NOT NULL,\n"
    "    grp BIGINT REFERENCES sharing_groups (id),\n"
    "    created BIGINT NOT NULL,\n"
    "    last_added BIGINT NOT NULL)",
    "CREATE UNIQUE INDEX collections_alias ON collections (root, alias) WHERE alias <> ''",
    "CREATE INDEX collections_root ON collections (root, id)",
    "CREATE TABLE grants_org (\n"
    "    collection BIGINT NOT NULL REFERENCES collections (id),\n"
    "    org BIGINT NOT NULL REFERENCES orgs (id),\n"
    "    can_read INTEGER NOT NULL,\n"
    "    can_write INTEGER NOT NULL,\n"
    "    PRIMARY KEY (collection, org))",
    "CREATE TABLE grants_group (\n"
    "    collection BIGINT NOT NULL REFERENCES collections (id),\n"
    "    grp BIGINT NOT NULL REFERENCES sharing_groups (id),\n"
    "    can_read INTEGER NOT NULL,\n"
    "    can_write INTEGER NOT NULL,\n"
    "    PRIMARY KEY (collection, grp))",
    "CREATE TABLE objects (\n"
    "    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "    collection BIGINT NOT NULL REFERENCES collections (id),\n"
    "    stix_id TEXT NOT NULL,\n"
    "    type TEXT NOT NULL,\n"
    "    spec_version TEXT NOT NULL,\n"
    "    version TEXT NOT NULL,\n"
    "    vkey BIGINT NOT NULL,\n"
    "    date_added BIGINT NOT NULL,\n"
    "    tlp INTEGER NOT NULL,\n"
    "    producer_org BIGINT NOT NULL,\n"
    "    producer_key BIGINT NOT NULL,\n"
    "    is_first INTEGER NOT NULL,\n"
    "    is_last INTEGER NOT NULL,\n"
    "    is_latest_spec INTEGER NOT NULL,\n"
    "    relationship_type TEXT,\n"
    "    source_ref TEXT,\n"
    "    target_ref TEXT,\n"
    "    body TEXT NOT NULL)",
    "CREATE INDEX objects_page ON objects (collection, date_added, seq)",
    "CREATE UNIQUE INDEX objects_version ON objects (collection, stix_id, version)",
    "CREATE INDEX objects_type ON objects (collection, type, date_added, seq)",
    "CREATE INDEX objects_last ON objects (collection, date_added, seq) WHERE is_last = 1",
    "CREATE INDEX objects_indicates ON objects (source_ref)\n"
    "    WHERE relationship_type = 'indicates'",
    "CREATE TABLE object_orgs (\n"
    "    obj BIGINT NOT NULL REFERENCES objects (seq) ON DELETE CASCADE,\n"
    "    org BIGINT NOT NULL,\n"
    "    PRIMARY KEY (obj, org))",
    "CREATE TABLE object_keys (\n"
    "    obj BIGINT NOT NULL REFERENCES objects (seq) ON DELETE CASCADE,\n"
    "    key_ref BIGINT NOT NULL,\n"
    "    PRIMARY KEY (obj, key_ref))",
    "CREATE TABLE sightings (\n"
    "    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "    obj BIGINT NOT NULL UNIQUE REFERENCES objects (seq) ON DELETE CASCADE,\n"
    "    collection BIGINT NOT NULL,\n"
    "    sighting_of TEXT NOT NULL,\n"
    "    reporter BIGINT NOT NULL,\n"
    "    first_seen BIGINT,\n"
    "    last_seen BIGINT,\n"
    "    sight_count BIGINT NOT NULL)",
    "CREATE INDEX sightings_of ON sightings (sighting_of)",
    "CREATE TABLE statuses (\n"
    "    id TEXT PRIMARY KEY,\n"
    "    collection BIGINT NOT NULL,\n"
    "    org BIGINT NOT NULL,\n"
    "    request_time BIGINT NOT NULL,\n"
    "    total BIGINT NOT NULL,\n"
    "    success BIGINT NOT NULL,\n"
    "    failure BIGINT NOT NULL,\n"
    "    pending BIGINT NOT NULL,\n"
    "    details TEXT)",
    "CREATE TABLE access_log (\n"
    "    seq BIGINT PRIMARY KEY,\n"
    "    logged_at BIGINT NOT NULL,\n"
    "    key_id TEXT NOT NULL,\n"
    "    org BIGINT NOT NULL,\n"
    "    method TEXT NOT NULL,\n"
    "    path TEXT NOT NULL,\n"
    "    status INTEGER NOT NULL,\n"
    "    ids TEXT NOT NULL,\n"
    "    prev BYTEA NOT NULL,\n"
    "    hash BYTEA NOT NULL)",
    "CREATE TABLE log_head (id INTEGER PRIMARY KEY, appends BIGINT NOT NULL)",
    "INSERT INTO log_head (id, appends) VALUES (1, 0)",
    NULL,
};

const char *const *tw__store_ddl(bool pg)
{
    return pg ? pg_ddl : sqlite_ddl;
}

const char *tw__store_probe_sql(bool pg)
{
    if (pg)
        return "SELECT 1 FROM pg_catalog.pg_tables "
               "WHERE schemaname = current_schema() AND tablename = 'schema_version'";
    return "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'";
}
