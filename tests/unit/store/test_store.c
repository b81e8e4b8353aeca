/*
 * test_store.c: the hub's storage against a real database: every function of
 * store.h, the visibility rule case by case, keyset pages over many rows with
 * one date_added, version flags through adds and deletes, duplicates against
 * conflicts, the sightings tally, the access-log chain (also with several
 * writers at once) and the page query's plan.
 *
 * Without arguments every test runs on a SQLite file in a temporary
 * directory. With --pg they run on the PostgreSQL server named by TW_TEST_PG
 * (tests/integration/pg_env.sh starts a throwaway one), each test in a schema
 * of its own; without TW_TEST_PG the run is skipped with status 77.
 */
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <unistd.h>

#include "db.h"
#include "store_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/hash.h"
#include "tidewatch/store.h"
#include "tidewatch/tlp.h"
#include "tw_test.h"

/* ==== Fixture: one empty store per test ==== */

static bool use_pg;
static const char *pg_base;
static unsigned schema_counter;

struct env {
    char location[1024];
    char schema[64]; /* PostgreSQL: the test's schema */
    char dir[256];   /* SQLite: the test's temporary directory */
    struct tw_store *st;
};

static void must(int rc, const struct tw_err *err)
{
    if (rc != TW_OK)
        fail_msg("store call failed: %s (%s)", tw_strerror(rc), err->msg);
}

/* Runs SQL on a fresh connection to the PostgreSQL test database. */
static void pg_admin(const char *sql)
{
    struct tw__db *db = NULL;
    struct tw_err err;

    tw_err_clear(&err);
    must(tw__db_open_pg(pg_base, &db, &err), &err);
    must(tw__db_exec(db, sql, &err), &err);
    tw__db_close(db);
}

/* Picks a location no store has used: a new schema, or a file in a new directory. */
static struct env *env_new(void)
{
    struct env *e = tw_calloc(1, sizeof(*e));

    assert_non_null(e);
    if (use_pg) {
        char sql[128];

        (void)snprintf(
                e->schema, sizeof(e->schema), "tw_t%ld_%u", (long)getpid(), schema_counter++);
        (void)snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", e->schema);
        pg_admin(sql);
        (void)snprintf(e->location, sizeof(e->location), "%s%coptions=-csearch_path%%3D%s", pg_base,
                strchr(pg_base, '?') != NULL ? '&' : '?', e->schema);
    } else {
        const char *tmp = getenv("TMPDIR");

        (void)snprintf(e->dir, sizeof(e->dir), "%s/tw-store-XXXXXX", tmp != NULL ? tmp : "/tmp");
        assert_non_null(mkdtemp(e->dir));
        (void)snprintf(e->location, sizeof(e->location), "%s/hub.db", e->dir);
    }
    return e;
}

static void env_free(struct env *e)
{
    tw_store_close(e->st);
    if (use_pg) {
        char sql[128];

        (void)snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", e->schema);
        pg_admin(sql);
    } else {
        static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
        char path[512];

        for (size_t i = 0; i < TW_ARRAY_LEN(suffix); i++) {
            (void)snprintf(path, sizeof(path), "%s/hub.db%s", e->dir, suffix[i]);
            (void)unlink(path);
        }
        assert_int_equal(rmdir(e->dir), 0);
    }
    tw_free(e);
}

static int setup(void **state)
{
    struct env *e = env_new();
    struct tw_err err;

    tw_err_clear(&err);
    must(tw_store_open(e->location, true, &e->st, &err), &err);
    *state = e;
    return 0;
}

static int setup_bare(void **state)
{
    *state = env_new();
    return 0;
}

static int teardown(void **state)
{
    env_free(*state);
    return 0;
}

/* ==== Fixture: a small hub ==== */

/*
 * Organisations: P produces, R is named as a recipient, O reads through the
 * group "readers" (not in the AMBER audience), V has a grant of its own (in
 * the audience), N has nothing. Keys: kp1/kp2 of P, kr1/kr2 of R, ko of O.
 */
struct hub {
    int64_t p, r, o, v, n;
    int64_t kp1, kp2, kr1, kr2, ko;
    int64_t readers, amber_group;
    int64_t coll, coll2;
};

static int64_t add_org(struct tw_store *st, const char *name)
{
    struct tw_org o;
    struct tw_err err;

    memset(&o, 0, sizeof(o));
    (void)snprintf(o.name, sizeof(o.name), "%s", name);
    (void)snprintf(o.sector, sizeof(o.sector), "telecommunications");
    (void)snprintf(o.identity_id, sizeof(o.identity_id), "identity--00000000-0000-4000-8000-%012d",
            (int)strlen(name));
    tw_err_clear(&err);
    must(tw_store_org_add(st, &o, &err), &err);
    assert_true(o.id > 0);
    assert_true(o.created > 0);
    return o.id;
}

static int64_t add_key(struct tw_store *st, int64_t org, const char *key_id)
{
    struct tw_key k;
    struct tw_err err;

    memset(&k, 0, sizeof(k));
    (void)snprintf(k.key_id, sizeof(k.key_id), "%s", key_id);
    tw_sha256(key_id, strlen(key_id), k.hash);
    k.org = org;
    k.role = TW_ROLE_CONTRIBUTOR;
    (void)snprintf(k.label, sizeof(k.label), "key %s", key_id);
    tw_err_clear(&err);
    must(tw_store_key_add(st, &k, &err), &err);
    return k.id;
}

static int64_t add_collection(struct tw_store *st, const char *alias, int64_t group)
{
    struct tw_collection c;
    struct tw_err err;

    memset(&c, 0, sizeof(c));
    (void)snprintf(c.root, sizeof(c.root), "api1");
    (void)snprintf(c.title, sizeof(c.title), "collection %s", alias);
    (void)snprintf(c.alias, sizeof(c.alias), "%s", alias);
    c.group = group;
    tw_err_clear(&err);
    must(tw_store_collection_add(st, &c, &err), &err);
    return c.id;
}

static void hub_init(struct tw_store *st, struct hub *h)
{
    struct tw_api_root root;
    struct tw_err err;

    tw_err_clear(&err);
    memset(&root, 0, sizeof(root));
    (void)snprintf(root.name, sizeof(root.name), "api1");
    (void)snprintf(root.title, sizeof(root.title), "Salt Typhoon sharing");
    must(tw_store_root_add(st, &root, &err), &err);
    h->p = add_org(st, "producer-gov");
    h->r = add_org(st, "recipient-telco");
    h->o = add_org(st, "other-telco");
    h->v = add_org(st, "viewer-isac");
    h->n = add_org(st, "nobody");
    h->kp1 = add_key(st, h->p, "00000000000000p1");
    h->kp2 = add_key(st, h->p, "00000000000000p2");
    h->kr1 = add_key(st, h->r, "00000000000000r1");
    h->kr2 = add_key(st, h->r, "00000000000000r2");
    h->ko = add_key(st, h->o, "00000000000000o1");
    must(tw_store_group_add(st, "readers", &h->readers, &err), &err);
    must(tw_store_group_add(st, "amber-circle", &h->amber_group, &err), &err);
    must(tw_store_group_member_add(st, h->readers, h->o, &err), &err);
    must(tw_store_group_member_add(st, h->amber_group, h->r, &err), &err);
    h->coll = add_collection(st, "campaign", h->amber_group);
    h->coll2 = add_collection(st, "closed", 0);
    must(tw_store_grant(st, h->coll, h->p, 0, true, true, &err), &err);
    must(tw_store_grant(st, h->coll, 0, h->readers, true, false, &err), &err);
    must(tw_store_grant(st, h->coll, 0, h->amber_group, true, false, &err), &err);
    must(tw_store_grant(st, h->coll, h->v, 0, true, false, &err), &err);
    must(tw_store_grant(st, h->coll2, h->p, 0, true, true, &err), &err);
}

/* ==== Objects: builders and collectors ==== */

#define MAX_BODY 512

/* Bodies live here for the duration of one add. */
struct batch {
    struct tw_obj_in in[400];
    char body[400][MAX_BODY];
    char id[400][80];
    enum tw_obj_result res[400];
    size_t n;
};

static struct tw_obj_in *batch_add(struct batch *b, const char *id, const char *type,
        const char *version, uint8_t tlp, const char *extra)
{
    struct tw_obj_in *o;
    int n;

    assert_true(b->n < TW_ARRAY_LEN(b->in));
    o = &b->in[b->n];
    memset(o, 0, sizeof(*o));
    (void)snprintf(b->id[b->n], sizeof(b->id[b->n]), "%s", id);
    n = snprintf(b->body[b->n], MAX_BODY,
            "{\"type\":\"%s\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"modified\":\"%s\"%s}", type,
            id, version, extra != NULL ? extra : "");
    assert_true(n > 0 && n < MAX_BODY);
    o->id = b->id[b->n];
    o->type = type;
    o->spec_version = "2.1";
    o->version = version;
    o->json = b->body[b->n];
    o->json_len = (size_t)n;
    o->tlp = tlp;
    o->count = 1;
    b->n++;
    return o;
}

static void batch_commit(struct tw_store *st, struct batch *b, int64_t coll, int64_t producer,
        int64_t key, int64_t now)
{
    struct tw_err err;

    tw_err_clear(&err);
    must(tw_store_objects_add(st, coll, producer, key, now, b->in, b->n, b->res, &err), &err);
}

static void add_single(struct tw_store *st, int64_t coll, int64_t producer, int64_t key,
        int64_t now, const char *id, const char *version, uint8_t tlp)
{
    struct batch *b = tw_calloc(1, sizeof(*b));

    assert_non_null(b);
    (void)batch_add(b, id, "indicator", version, tlp, NULL);
    batch_commit(st, b, coll, producer, key, now);
    assert_int_equal(b->res[0], TW_OBJ_ADDED);
    tw_free(b);
}

#define ID(n) "indicator--00000000-0000-4000-8000-0000000000" #n

/* Collects rows as "<last two chars of the id>@<version> " for compact comparisons. */
struct seen {
    char text[4096];
    size_t len;
    size_t n;
    int64_t last_date, last_seq;
    int64_t seqs[1000];
    int64_t dates[1000];
    bool json_null;
    bool with_version;
};

static int collect(const struct tw_obj_row *r, void *arg)
{
    struct seen *s = arg;
    size_t idlen = strlen(r->id);
    int n;

    if (s->with_version)
        n = snprintf(s->text + s->len, sizeof(s->text) - s->len, "%s@%.10s ", r->id + idlen - 2,
                r->version);
    else
        n = snprintf(s->text + s->len, sizeof(s->text) - s->len, "%s ", r->id + idlen - 2);
    assert_true(n > 0 && (size_t)n < sizeof(s->text) - s->len);
    s->len += (size_t)n;
    if (s->n < TW_ARRAY_LEN(s->seqs)) {
        s->seqs[s->n] = r->seq;
        s->dates[s->n] = r->date_added;
    }
    s->n++;
    s->last_date = r->date_added;
    s->last_seq = r->seq;
    if (r->json == NULL)
        s->json_null = true;
    return 0;
}

static struct tw_obj_query query(int64_t coll)
{
    struct tw_obj_query q;

    memset(&q, 0, sizeof(q));
    q.collection = coll;
    q.viewer.all = true;
    q.versions = TW_VERSIONS_ALL;
    q.limit = 1000;
    q.with_json = true;
    return q;
}

/* Runs q and returns what it saw (in a static buffer, valid until the next call). */
static const char *run(struct tw_store *st, const struct tw_obj_query *q, bool with_version)
{
    static struct seen s;
    struct tw_err err;
    bool more = true;

    memset(&s, 0, sizeof(s));
    s.with_version = with_version;
    tw_err_clear(&err);
    must(tw_store_objects_query(st, q, collect, &s, &more, &err), &err);
    assert_false(more);
    return s.text;
}

/* ==== Opening ==== */

static void store_open_create_and_errors(void **state)
{
    struct env *e = *state;
    struct tw_store *st = NULL, *again = NULL;
    struct tw_err err;

    tw_err_clear(&err);
    assert_int_equal(tw_store_open(e->location, false, &st, &err), TW_ENOTFOUND);
    assert_null(st);
    must(tw_store_open(e->location, true, &st, &err), &err);
    assert_string_equal(tw_store_backend(st), use_pg ? "postgresql" : "sqlite");
    assert_int_equal(tw_store_open(e->location, true, &again, &err), TW_EEXIST);
    assert_null(again);
    must(tw_store_open(e->location, false, &again, &err), &err);
    tw_store_close(again);
    tw_store_close(st);
    tw_store_close(NULL);
    assert_string_equal(tw_store_backend(NULL), "none");
    assert_int_equal(tw_store_open(NULL, false, &st, &err), TW_EINVAL);
    assert_int_equal(tw_store_open("", true, &st, &err), TW_EINVAL);
    if (!use_pg) {
        char path[512];
        FILE *f;

        /* A file that is not a store, and a directory that does not exist. */
        (void)snprintf(path, sizeof(path), "%s/empty.db", e->dir);
        f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(tw_store_open(path, false, &st, &err), TW_ENOTFOUND);
        assert_int_equal(tw_store_open(path, true, &st, &err), TW_EEXIST);
        assert_int_equal(unlink(path), 0);
        (void)snprintf(path, sizeof(path), "%s/no/such/dir/hub.db", e->dir);
        assert_int_equal(tw_store_open(path, true, &st, &err), TW_EIO);
    } else {
        assert_int_equal(
                tw_store_open("postgresql://nobody@127.0.0.1:1/none", false, &st, &err), TW_EDB);
    }
}

/* ==== Organisations, groups, keys ==== */

struct counter {
    int n;
    int stop_at;
    int64_t ids[16];
};

static int count_org(const struct tw_org *o, void *arg)
{
    struct counter *c = arg;

    c->ids[c->n++] = o->id;
    return c->n == c->stop_at ? 7 : 0;
}

static int count_key(const struct tw_key *k, void *arg)
{
    struct counter *c = arg;

    c->ids[c->n++] = k->id;
    return 0;
}

static void store_orgs_and_groups(void **state)
{
    struct env *e = *state;
    struct tw_store *st = e->st;
    struct tw_org o;
    struct counter c = { 0, 0, { 0 } };
    struct tw_err err;
    int64_t a, b, g, g2;

    tw_err_clear(&err);
    a = add_org(st, "alpha");
    b = add_org(st, "beta");
    memset(&o, 0, sizeof(o));
    (void)snprintf(o.name, sizeof(o.name), "alpha");
    assert_int_equal(tw_store_org_add(st, &o, &err), TW_EEXIST);
    memset(&o, 0, sizeof(o));
    assert_int_equal(tw_store_org_add(st, &o, &err), TW_EINVAL);
    must(tw_store_org_get(st, "beta", 0, &o, &err), &err);
    assert_int_equal(o.id, b);
    assert_string_equal(o.sector, "telecommunications");
    assert_false(o.disclose_sightings);
    must(tw_store_org_set_disclose(st, b, true, &err), &err);
    must(tw_store_org_get(st, NULL, b, &o, &err), &err);
    assert_string_equal(o.name, "beta");
    assert_true(o.disclose_sightings);
    assert_int_equal(tw_store_org_get(st, "gamma", 0, &o, &err), TW_ENOTFOUND);
    assert_int_equal(tw_store_org_get(st, NULL, 999, &o, &err), TW_ENOTFOUND);
    assert_int_equal(tw_store_org_set_disclose(st, 999, true, &err), TW_ENOTFOUND);
    must(tw_store_org_each(st, count_org, &c, &err), &err);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.ids[0], a);
    assert_int_equal(c.ids[1], b);
    c.n = 0;
    c.stop_at = 1;
    assert_int_equal(tw_store_org_each(st, count_org, &c, &err), 7);
    assert_int_equal(c.n, 1);

    must(tw_store_group_add(st, "telcos", &g, &err), &err);
    assert_int_equal(tw_store_group_add(st, "telcos", &g2, &err), TW_EEXIST);
    must(tw_store_group_get(st, "telcos", &g2, &err), &err);
    assert_int_equal(g, g2);
    assert_int_equal(tw_store_group_get(st, "isacs", &g2, &err), TW_ENOTFOUND);
    must(tw_store_group_member_add(st, g, a, &err), &err);
    must(tw_store_group_member_add(st, g, a, &err), &err); /* twice is fine */
    assert_int_equal(tw_store_group_member_add(st, g, 999, &err), TW_ENOTFOUND);
    assert_int_equal(tw_store_group_member_add(st, 999, a, &err), TW_ENOTFOUND);
}

static void store_keys(void **state)
{
    struct env *e = *state;
    struct tw_store *st = e->st;
    struct counter c = { 0, 0, { 0 } };
    struct tw_key k, got;
    struct tw_err err;
    int64_t a = add_org(st, "alpha"), b = add_org(st, "beta");
    int64_t k1 = add_key(st, a, "aaaaaaaaaaaaaaaa");
    int64_t k2 = add_key(st, b, "bbbbbbbbbbbbbbbb");
    int64_t k3 = add_key(st, a, "cccccccccccccccc");
    uint8_t want[32];

    tw_err_clear(&err);
    memset(&k, 0, sizeof(k));
    (void)snprintf(k.key_id, sizeof(k.key_id), "aaaaaaaaaaaaaaaa");
    k.org = a;
    k.role = TW_ROLE_READER;
    assert_int_equal(tw_store_key_add(st, &k, &err), TW_EEXIST);
    (void)snprintf(k.key_id, sizeof(k.key_id), "dddddddddddddddd");
    k.org = 999;
    assert_int_equal(tw_store_key_add(st, &k, &err), TW_ENOTFOUND);
    k.org = a;
    k.role = (enum tw_role)9;
    assert_int_equal(tw_store_key_add(st, &k, &err), TW_EINVAL);

    must(tw_store_key_get(st, "bbbbbbbbbbbbbbbb", &got, &err), &err);
    assert_int_equal(got.id, k2);
    assert_int_equal(got.org, b);
    assert_int_equal(got.role, TW_ROLE_CONTRIBUTOR);
    assert_string_equal(got.label, "key bbbbbbbbbbbbbbbb");
    assert_int_equal(got.revoked, 0);
    tw_sha256("bbbbbbbbbbbbbbbb", 16, want);
    assert_memory_equal(got.hash, want, 32);
    assert_int_equal(tw_store_key_get(st, "eeeeeeeeeeeeeeee", &got, &err), TW_ENOTFOUND);

    must(tw_store_key_revoke(st, "aaaaaaaaaaaaaaaa", 1234, &err), &err);
    must(tw_store_key_get(st, "aaaaaaaaaaaaaaaa", &got, &err), &err);
    assert_int_equal(got.revoked, 1234);
    assert_int_equal(tw_store_key_revoke(st, "aaaaaaaaaaaaaaaa", 99, &err), TW_ENOTFOUND);
    assert_int_equal(tw_store_key_revoke(st, "ffffffffffffffff", 99, &err), TW_ENOTFOUND);

    must(tw_store_key_each(st, -1, count_key, &c, &err), &err);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.ids[0], k1);
    assert_int_equal(c.ids[1], k2);
    assert_int_equal(c.ids[2], k3);
    c.n = 0;
    must(tw_store_key_each(st, a, count_key, &c, &err), &err);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.ids[0], k1);
    assert_int_equal(c.ids[1], k3);
}

/* ==== Roots, collections, grants, access ==== */

static int count_root(const struct tw_api_root *r, void *arg)
{
    struct counter *c = arg;

    c->ids[c->n++] = (int64_t)strlen(r->name);
    return 0;
}

static int count_collection(const struct tw_collection *col, void *arg)
{
    struct counter *c = arg;

    c->ids[c->n++] = col->id;
    return 0;
}

static void expect_access(struct tw_store *st, int64_t coll, int64_t org, bool r, bool w, bool a)
{
    struct tw_access acc;
    struct tw_err err;

    tw_err_clear(&err);
    must(tw_store_access(st, coll, org, &acc, &err), &err);
    assert_int_equal(acc.can_read, r);
    assert_int_equal(acc.can_write, w);
    assert_int_equal(acc.in_audience, a);
}

static void store_roots_collections_access(void **state)
{
    struct env *e = *state;
    struct tw_store *st = e->st;
    struct counter c = { 0, 0, { 0 } };
    struct tw_api_root root;
    struct tw_collection col, got;
    struct tw_access acc;
    struct tw_err err;
    struct hub h;
    char upper[40];

    tw_err_clear(&err);
    hub_init(st, &h);
    memset(&root, 0, sizeof(root));
    (void)snprintf(root.name, sizeof(root.name), "api1");
    assert_int_equal(tw_store_root_add(st, &root, &err), TW_EEXIST);
    (void)snprintf(root.name, sizeof(root.name), "archive");
    (void)snprintf(root.description, sizeof(root.description), "older campaigns");
    must(tw_store_root_add(st, &root, &err), &err);
    must(tw_store_root_get(st, "archive", &root, &err), &err);
    assert_string_equal(root.description, "older campaigns");
    assert_int_equal(tw_store_root_get(st, "nope", &root, &err), TW_ENOTFOUND);
    must(tw_store_root_each(st, count_root, &c, &err), &err);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.ids[0], 4); /* "api1" first: creation order */

    /* By id in any case, by alias; the default TLP is AMBER; a UUID was made. */
    must(tw_store_collection_get(st, "api1", "campaign", &col, &err), &err);
    assert_int_equal(col.id, h.coll);
    assert_int_equal(col.default_tlp, TW_TLP_AMBER);
    assert_int_equal(col.group, h.amber_group);
    assert_int_equal(strlen(col.uuid), 36);
    for (size_t i = 0; i <= strlen(col.uuid); i++)
        upper[i] =
                (char)(col.uuid[i] >= 'a' && col.uuid[i] <= 'f' ? col.uuid[i] - 32 : col.uuid[i]);
    must(tw_store_collection_get(st, "api1", upper, &got, &err), &err);
    assert_int_equal(got.id, h.coll);
    assert_int_equal(tw_store_collection_get(st, "archive", "campaign", &got, &err), TW_ENOTFOUND);
    assert_int_equal(tw_store_collection_get(st, "api1", "nope", &got, &err), TW_ENOTFOUND);

    memset(&col, 0, sizeof(col));
    (void)snprintf(col.root, sizeof(col.root), "api1");
    (void)snprintf(col.alias, sizeof(col.alias), "campaign");
    assert_int_equal(tw_store_collection_add(st, &col, &err), TW_EEXIST);
    (void)snprintf(col.root, sizeof(col.root), "archive"); /* aliases are per root */
    (void)snprintf(col.uuid, sizeof(col.uuid), "6E0C2E4B-1D59-4C26-A4B5-3D5C9E0F6A11");
    col.default_tlp = TW_TLP_GREEN;
    must(tw_store_collection_add(st, &col, &err), &err);
    assert_string_equal(col.uuid, "6e0c2e4b-1d59-4c26-a4b5-3d5c9e0f6a11");
    assert_int_equal(tw_store_collection_add(st, &col, &err), TW_EEXIST);
    (void)snprintf(col.root, sizeof(col.root), "nope");
    col.uuid[0] = '\0';
    assert_int_equal(tw_store_collection_add(st, &col, &err), TW_ENOTFOUND);
    (void)snprintf(col.root, sizeof(col.root), "api1");
    (void)snprintf(col.alias, sizeof(col.alias), "6e0c2e4b-1d59-4c26-a4b5-3d5c9e0f6a12");
    assert_int_equal(tw_store_collection_add(st, &col, &err), TW_EINVAL);
    (void)snprintf(col.alias, sizeof(col.alias), "grouped");
    col.group = 999;
    assert_int_equal(tw_store_collection_add(st, &col, &err), TW_ENOTFOUND);

    c.n = 0;
    must(tw_store_collection_each(st, "api1", count_collection, &c, &err), &err);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.ids[0], h.coll);
    assert_int_equal(c.ids[1], h.coll2);
    c.n = 0;
    must(tw_store_collection_each(st, NULL, count_collection, &c, &err), &err);
    assert_int_equal(c.n, 3);

    /* P: own grant rw; O: group read, not audience; R: group read and the AMBER group;
     * V: own read grant; N: nothing. */
    expect_access(st, h.coll, h.p, true, true, true);
    expect_access(st, h.coll, h.o, true, false, false);
    expect_access(st, h.coll, h.r, true, false, true);
    expect_access(st, h.coll, h.v, true, false, true);
    expect_access(st, h.coll, h.n, false, false, false);
    expect_access(st, h.coll2, h.o, false, false, false);
    assert_int_equal(tw_store_access(st, 999, h.p, &acc, &err), TW_ENOTFOUND);
    /* A later grant replaces the earlier one; false, false revokes. */
    must(tw_store_grant(st, h.coll, h.v, 0, false, true, &err), &err);
    expect_access(st, h.coll, h.v, false, true, true);
    must(tw_store_grant(st, h.coll, h.v, 0, false, false, &err), &err);
    expect_access(st, h.coll, h.v, false, false, false);
    assert_int_equal(tw_store_grant(st, h.coll, h.v, h.readers, true, true, &err), TW_EINVAL);
    assert_int_equal(tw_store_grant(st, h.coll, 0, 0, true, true, &err), TW_EINVAL);
    assert_int_equal(tw_store_grant(st, 999, h.v, 0, true, true, &err), TW_ENOTFOUND);
    assert_int_equal(tw_store_grant(st, h.coll, 0, 999, true, true, &err), TW_ENOTFOUND);
}

/* ==== Visibility ==== */

static const char *visible(
        struct tw_store *st, int64_t coll, int64_t org, int64_t key, uint8_t max_tlp)
{
    struct tw_obj_query q = query(coll);

    q.viewer.all = false;
    q.viewer.org = org;
    q.viewer.key = key;
    q.viewer.max_tlp = max_tlp;
    return run(st, &q, false);
}

static void store_visibility_matrix(void **state)
{
    struct env *e = *state;
    struct tw_store *st = e->st;
    struct batch *b = tw_calloc(1, sizeof(*b));
    struct tw_obj_in *o;
    struct tw_obj_query q;
    struct hub h;

    assert_non_null(b);
    hub_init(st, &h);
    (void)batch_add(b, ID(01), "indicator", "2025-01-01T00:00:00.000Z", TW_TLP_CLEAR, NULL);
    (void)batch_add(b, ID(02), "indicator", "2025-01-01T00:00:00.000Z", TW_TLP_GREEN, NULL);
    (void)batch_add(b, ID(03), "indicator", "2025-01-01T00:00:00.000Z", TW_TLP_AMBER, NULL);
    o = batch_add(b, ID(04), "indicator", "2025-01-01T00:00:00.000Z", TW_TLP_AMBER_STRICT, NULL);
    o->recipient_orgs = &h.r;
    o->n_recipient_orgs = 1;
    o = batch_add(b, ID(05), "indicator", "2025-01-01T00:00:00.000Z", TW_TLP_RED, NULL);
    o->recipient_keys = &h.kr1;
    o->n_recipient_keys = 1;
    /* Recipients given at another level are not kept: they grant nothing. */
    o = batch_add(b, ID(06), "indicator", "2025-01-01T00:00:00.000Z", TW_TLP_RED, NULL);
    o->recipient_orgs = &h.o;
    o->n_recipient_orgs = 1;
    batch_commit(st, b, h.coll, h.p, h.kp1, 1000);
    tw_free(b);

    q = query(h.coll);
    assert_string_equal(run(st, &q, false), "01 02 03 04 05 06 ");                  /* hub admin */
    assert_string_equal(visible(st, h.coll, h.o, h.ko, TW_TLP_GREEN), "01 02 ");    /* out */
    assert_string_equal(visible(st, h.coll, h.o, h.ko, TW_TLP_AMBER), "01 02 03 "); /* in */
    /* Levels above AMBER are never reached by level alone. */
    assert_string_equal(visible(st, h.coll, h.o, h.ko, TW_TLP_RED), "01 02 03 ");
    /* AMBER+STRICT recipient org; RED recipient key; another key of the same org. */
    assert_string_equal(visible(st, h.coll, h.r, h.kr1, TW_TLP_AMBER), "01 02 03 04 05 ");
    assert_string_equal(visible(st, h.coll, h.r, h.kr2, TW_TLP_AMBER), "01 02 03 04 ");
    assert_string_equal(visible(st, h.coll, h.r, h.kr2, TW_TLP_GREEN), "01 02 04 ");
    /* AMBER+STRICT non-recipient in the audience. */
    assert_string_equal(visible(st, h.coll, h.v, 0, TW_TLP_AMBER), "01 02 03 ");
    /* The producer's org sees below RED whatever its level; RED only with the adding key. */
    assert_string_equal(visible(st, h.coll, h.p, h.kp1, TW_TLP_GREEN), "01 02 03 04 05 06 ");
    assert_string_equal(visible(st, h.coll, h.p, h.kp2, TW_TLP_GREEN), "01 02 03 04 ");
    /* An unknown collection is empty, not an error. */
    assert_string_equal(visible(st, 999, h.p, h.kp1, TW_TLP_AMBER), "");
}

/* ==== Pages ==== */

static void store_keyset_pages_equal_date(void **state)
{
    struct env *e = *state;
    struct tw_store *st = e->st;
    struct batch *b = tw_calloc(1, sizeof(*b));
    struct seen *all = tw_calloc(1, sizeof(*all));
    struct tw_obj_query q;
    struct tw_err err;
    struct hub h;
    size_t pages = 0;
    bool more = true;
    char id[80];

    assert_non_null(b);
    assert_non_null(all);
    hub_init(st, &h);
    /* 250 rows on one date_added (one add), then 50 on the next; every fourth RED. */
    for (int i = 0; i < 300; i++) {
        (void)snprintf(id, sizeof(id), "indicator--00000000-0000-4000-8000-%012d", i);
        (void)batch_add(b, id, "indicator", "2025-01-01T00:00:00.000Z",
                i % 4 == 3 ? TW_TLP_RED : TW_TLP_GREEN, NULL);
        if (i == 249) {
            batch_commit(st, b, h.coll, h.p, h.kp1, 5000);
            b->n = 0;
        }
    }
    batch_commit(st, b, h.coll, h.p, h.kp1, 5000);
    tw_free(b);

    tw_err_clear(&err);
    q = query(h.coll);
    q.limit = 7;
    q.with_json = false;
    q.viewer.all = false;
    q.viewer.org = h.o;
    q.viewer.key = h.ko;
    q.viewer.max_tlp = TW_TLP_GREEN;
    while (more) {
        size_t before = all->n;

        must(tw_store_objects_query(st, &q, collect, all, &more, &err), &err);
        assert_true(all->n - before <= 7);
        assert_true(more || all->n - before < 7 || all->n == 225);
        q.after_date = all->last_date;
        q.after_seq = all->last_seq;
        pages++;
        assert_true(pages < 100);
    }
    /* 300 rows, 75 of them RED: 225 visible, each once, in seq order. */
    assert_int_equal(all->n, 225);
    for (size_t i = 1; i < all->n; i++)
        assert_true(all->seqs[i] > all->seqs[i - 1]);
    assert_true(all->json_null);
    tw_free(all);
}

static void store_added_after_strict(void **state)
{
    struct env *e = *state;
    struct tw_store *st = e->st;
    struct tw_obj_query q;
    struct seen s;
    struct tw_err err;
    struct hub h;

    hub_init(st, &h);
    add_single(st, h.coll, h.p, h.kp1, 1000, ID(01), "2025-01-01T00:00:00.000Z", TW_TLP_GREEN);
    add_single(st, h.coll, h.p, h.kp1, 2000, ID(02), "2025-01-01T00:00:00.000Z", TW_TLP_GREEN);
    /* The clock went back: the add still lands strictly after the last one. */
    add_single(st, h.coll, h.p, h.kp1, 500, ID(03), "2025-01-01T00:00:00.000Z", TW_TLP_GREEN);
    /* The same instant as the last add: still strictly later. */
    add_single(st, h.coll, h.p, h.kp1, 2001, ID(04), "2025-01-01T00:00:00.000Z", TW_TLP_GREEN);

    tw_err_clear(&err);
    q = query(h.coll);
    memset(&s, 0, sizeof(s));
    must(tw_store_objects_query(st, &q, collect, &s, NULL, &err), &err);
    assert_string_equal(s.text, "01 02 03 04 ");
    assert_int_equal(s.last_date, 2002);
    q.added_after = 1000; /* ID(01)'s date */
    assert_string_equal(run(st, &q, false), "02 03 04 ");
    q.added_after = 2001; /* ID(03)'s date: strictly after it */
    assert_string_equal(run(st, &q, false), "04 ");
    q.added_after = 999;
    assert_string_equal(run(st, &q, false), "01 02 03 04 ");
    q.added_after = 2002;
    assert_string_equal(run(st, &q, false), "");
    /* A cursor further on than added_after wins, and the other way round. */
    q.added_after = 1000;
    q.after_date = 2000;
    q.after_seq = INT64_MAX;
    assert_string_equal(run(st, &q, false), "03 04 ");
    q.added_after = 2001;
    q.after_date = 1000;
    q.after_seq = 0;
    assert_string_equal(run(st, &q, false), "04 ");
}

/* ==== Versions ==== */

static void store_versions(void **state)
{
    struct env *e = *state;
    struct tw_store *st = e->st;
    struct batch *b = tw_calloc(1, sizeof(*b));
    static const char *const v2_other_text[] = { "2025-02-01T00:00:00Z" };
    static const char *const two_versions[] = { "2025-03-01T00:00:00.000Z",
        "2025-01-01T00:00:00.000000Z" };
    static const char *const spec20[] = { "2.0" };
    static const char *const spec_both[] = { "2.0", "2.1" };
    static const char *const ids[] = { ID(07) };
    static const char *const types[] = { "malware" };
    static const char *const bad_version[] = { "yesterday" };
    static const char *const newest08[] = { "2024-06-01T00:00:00.000Z" };
    struct tw_obj_in *o;
    struct tw_obj_query q;
    struct tw_err err;
    struct hub h;
    size_t n = 0;

    assert_non_null(b);
    hub_init(st, &h);
    /* ID(07): v2 first, v3 (other precision) next, v1 last of all. */
    add_single(st, h.coll, h.p, h.kp1, 1000, ID(07), "2025-02-01T00:00:00.000Z", TW_TLP_GREEN);
    add_single(st, h.coll, h.p, h.kp1, 2000, ID(07), "2025-03-01T00:00:00Z", TW_TLP_GREEN);
    add_single(st, h.coll, h.p, h.kp1, 3000, ID(07), "2025-01-01T00:00:00.000Z", TW_TLP_GREEN);
    /* ID(08): a malware in spec 2.0, then a newer version in 2.1. */
    o = batch_add(b, ID(08), "malware", "2024-01-01T00:00:00.000Z", TW_TLP_GREEN, NULL);
    o->spec_version = "2.0";
    (void)batch_add(b, ID(08), "malware", "2024-06-01T00:00:00.000Z", TW_TLP_GREEN, NULL);
    batch_commit(st, b, h.coll, h.p, h.kp1, 4000);
    tw_free(b);

    tw_err_clear(&err);
    q = query(h.coll);
    q.versions = TW_VERSIONS_LAST;
    assert_string_equal(run(st, &q, true), "07@2025-03-01 08@2024-06-01 ");
    q.versions = TW_VERSIONS_FIRST;
    /* ID(08)'s first version is spec 2.0: hidden by the default spec filter. */
    assert_string_equal(run(st, &q, true), "07@2025-01-01 ");
    q.versions = TW_VERSIONS_ALL;
    assert_string_equal(
            run(st, &q, true), "07@2025-02-01 07@2025-03-01 07@2025-01-01 08@2024-06-01 ");
    q.versions = TW_VERSIONS_LIST;
    q.version_list = v2_other_text; /* the same instant written with other precision */
    q.n_version_list = 1;
    assert_string_equal(run(st, &q, true), "07@2025-02-01 ");
    q.version_list = two_versions;
    q.n_version_list = 2;
    assert_string_equal(run(st, &q, true), "07@2025-03-01 07@2025-01-01 ");
    q.version_list = bad_version;
    q.n_version_list = 1;
    assert_int_equal(tw_store_objects_query(st, &q, collect, NULL, NULL, &err), TW_EINVAL);
    q.n_version_list = 0;
    assert_int_equal(tw_store_objects_query(st, &q, collect, NULL, NULL, &err), TW_EINVAL);

    /* spec_version: explicit lists; match[id] and match[type]. */
    q.versions = TW_VERSIONS_ALL;
    q.spec_versions = spec20;
    q.n_spec_versions = 1;
    assert_string_equal(run(st, &q, true), "08@2024-01-01 ");
    q.spec_versions = spec_both;
    q.n_spec_versions = 2;
    q.types = types;
    q.n_types = 1;
    assert_string_equal(run(st, &q, true), "08@2024-01-01 08@2024-06-01 ");
    q.types = NULL;
    q.n_types = 0;
    q.ids = ids;
    q.n_ids = 1;
    q.versions = TW_VERSIONS_LAST;
    assert_string_equal(run(st, &q, true), "07@2025-03-01 ");

    /* Deleting ID(08)'s 2.1 version makes its 2.0 version the latest spec: it shows by default. */
    q = query(h.coll);
    q.versions = TW_VERSIONS_LIST;
    q.version_list = newest08;
    q.n_version_list = 1;
    must(tw_store_objects_delete(st, &q, ID(08), &n, &err), &err);
    assert_int_equal(n, 1);
    q = query(h.coll);
    q.types = types;
    q.n_types = 1;
    assert_string_equal(run(st, &q, true), "08@2024-01-01 ");
    q.versions = TW_VERSIONS_LAST;
    assert_string_equal(run(st, &q, true), "08@2024-01-01 ");
}

static void store_delete_repairs_flags(void **state)
{
    struct env *e = *state;
    struct tw_store *st = e->st;
    static const char *const ids[] = { ID(07) };
    struct tw_obj_query q, viewer;
    struct tw_err err;
    struct hub h;
    size_t n = 99;

    hub_init(st, &h);
    add_single(st, h.coll, h.p, h.kp1, 1000, ID(07), "2025-02-01T00:00:00.000Z", TW_TLP_GREEN);
    add_single(st, h.coll, h.p, h.kp1, 2000, ID(07), "2025-03-01T00:00:00.000Z", TW_TLP_GREEN);
    add_single(st, h.coll, h.p, h.kp1, 3000, ID(07), "2025-01-01T00:00:00.000Z", TW_TLP_GREEN);
    add_single(st, h.coll, h.p, h.kp1, 4000, ID(09), "2025-01-01T00:00:00.000Z", TW_TLP_RED);
    /* The same id in another collection is another object. */
    add_single(st, h.coll2, h.p, h.kp1, 4000, ID(07), "2025-03-01T00:00:00.000Z", TW_TLP_GREEN);

    tw_err_clear(&err);
    q = query(h.coll);
    q.ids = ids;
    q.n_ids = 1;
    q.versions = TW_VERSIONS_LAST;
    must(tw_store_objects_delete(st, &q, ID(07), &n, &err), &err);
    assert_int_equal(n, 1);
    assert_string_equal(run(st, &q, true), "07@2025-02-01 ");
    q.versions = TW_VERSIONS_FIRST;
    must(tw_store_objects_delete(st, &q, ID(07), &n, &err), &err);
    assert_int_equal(n, 1);
    assert_string_equal(run(st, &q, true), "07@2025-02-01 "); /* now first and last */
    q.versions = TW_VERSIONS_LAST;
    assert_string_equal(run(st, &q, true), "07@2025-02-01 ");
    q.versions = TW_VERSIONS_ALL;
    must(tw_store_objects_delete(st, &q, ID(07), &n, &err), &err);
    assert_int_equal(n, 1);
    assert_string_equal(run(st, &q, true), "");
    must(tw_store_objects_delete(st, &q, ID(07), &n, &err), &err);
    assert_int_equal(n, 0);
    q.collection = h.coll2;
    assert_string_equal(run(st, &q, true), "07@2025-03-01 ");

    /* Only what the viewer sees: RED of another org stays; the producer's key deletes it. */
    viewer = query(h.coll);
    viewer.viewer.all = false;
    viewer.viewer.org = h.o;
    viewer.viewer.key = h.ko;
    viewer.viewer.max_tlp = TW_TLP_AMBER;
    must(tw_store_objects_delete(st, &viewer, ID(09), &n, &err), &err);
    assert_int_equal(n, 0);
    viewer.viewer.org = h.p;
    viewer.viewer.key = h.kp1;
    must(tw_store_objects_delete(st, &viewer, ID(09), &n, &err), &err);
    assert_int_equal(n, 1);
    viewer.collection = 999;
    assert_int_equal(tw_store_objects_delete(st, &viewer, ID(09), &n, &err), TW_ENOTFOUND);
}

static void store_duplicate_and_conflict(void **state)
{
    struct env *e = *state;
    struct tw_store *st = e->st;
    struct batch *b = tw_calloc(1, sizeof(*b));
    struct tw_obj_query q;
    struct seen s;
    struct tw_err err;
    struct hub h;

    assert_non_null(b);
    hub_init(st, &h);
    (void)batch_add(b, ID(01), "indicator", "2025-01-01T00:00:00.000Z", TW_TLP_GREEN, NULL);
    batch_commit(st, b, h.coll, h.p, h.kp1, 1000);
    assert_int_equal(b->res[0], TW_OBJ_ADDED);
    /* The same bytes again: a duplicate; other bytes under the same version: a conflict. */
    batch_commit(st, b, h.coll, h.o, h.ko, 2000);
    assert_int_equal(b->res[0], TW_OBJ_DUPLICATE);
    b->n = 0;
    (void)batch_add(b, ID(01), "indicator", "2025-01-01T00:00:00.000Z", TW_TLP_GREEN,
            ",\"name\":\"changed\"");
    /* Within one add: the second copy of a new version is a duplicate of the first. */
    (void)batch_add(b, ID(01), "indicator", "2025-01-02T00:00:00.000Z", TW_TLP_GREEN, NULL);
    (void)batch_add(b, ID(01), "indicator", "2025-01-02T00:00:00.000Z", TW_TLP_GREEN, NULL);
    batch_commit(st, b, h.coll, h.p, h.kp1, 3000);
    assert_int_equal(b->res[0], TW_OBJ_CONFLICT);
    assert_int_equal(b->res[1], TW_OBJ_ADDED);
    assert_int_equal(b->res[2], TW_OBJ_DUPLICATE);
    tw_free(b);

    tw_err_clear(&err);
    q = query(h.coll);
    memset(&s, 0, sizeof(s));
    s.with_version = true;
    must(tw_store_objects_query(st, &q, collect, &s, NULL, &err), &err);
    assert_string_equal(s.text, "01@2025-01-01 01@2025-01-02 ");
}

static int stop_after_one(const struct tw_obj_row *r, void *arg)
{
    int *n = arg;

    assert_non_null(r->json);
    assert_true(r->json_len > 10);
    assert_int_equal(r->tlp, TW_TLP_GREEN);
    (*n)++;
    return 42;
}

static void store_bad_input(void **state)
{
    struct env *e = *state;
    struct tw_store *st = e->st;
    struct batch *b = tw_calloc(1, sizeof(*b));
    const char *many[TW_STORE_MAX_MATCH + 1];
    struct tw_obj_query q;
    struct tw_err err;
    struct hub h;
    int n = 0;

    assert_non_null(b);
    hub_init(st, &h);
    tw_err_clear(&err);
    (void)batch_add(b, ID(01), "indicator", "2025-01-01T00:00:00.000Z", TW_TLP_GREEN, NULL);
    assert_int_equal(
            tw_store_objects_add(st, 999, h.p, h.kp1, 1, b->in, 1, b->res, &err), TW_ENOTFOUND);
    b->in[0].version = "not a time";
    assert_int_equal(
            tw_store_objects_add(st, h.coll, h.p, h.kp1, 1, b->in, 1, b->res, &err), TW_EINVAL);
    b->in[0].version = "2025-01-01T00:00:00.000Z";
    b->in[0].tlp = TW_TLP_NONE;
    assert_int_equal(
            tw_store_objects_add(st, h.coll, h.p, h.kp1, 1, b->in, 1, b->res, &err), TW_EINVAL);
    b->in[0].tlp = TW_TLP_GREEN;
    b->in[0].id = NULL;
    assert_int_equal(
            tw_store_objects_add(st, h.coll, h.p, h.kp1, 1, b->in, 1, b->res, &err), TW_EINVAL);
    b->in[0].id = b->id[0];
    /* A failed add keeps nothing: the second object's relationship body is not JSON. */
    b->in[1] = b->in[0];
    b->in[1].type = "relationship";
    b->in[1].id = "relationship--00000000-0000-4000-8000-000000000001";
    b->in[1].json = "not json";
    b->in[1].json_len = 8;
    assert_int_equal(
            tw_store_objects_add(st, h.coll, h.p, h.kp1, 1, b->in, 2, b->res, &err), TW_EINVAL);
    q = query(h.coll);
    assert_string_equal(run(st, &q, false), "");
    must(tw_store_objects_add(st, h.coll, h.p, h.kp1, 1, b->in, 0, b->res, &err), &err);
    must(tw_store_objects_add(st, h.coll, h.p, h.kp1, 1, b->in, 1, b->res, &err), &err);
    tw_free(b);

    /* A callback's non-zero return stops the walk and comes back. */
    assert_int_equal(tw_store_objects_query(st, &q, stop_after_one, &n, NULL, &err), 42);
    assert_int_equal(n, 1);
    q.limit = 0;
    assert_int_equal(tw_store_objects_query(st, &q, collect, NULL, NULL, &err), TW_EINVAL);
    q.limit = TW_STORE_MAX_LIMIT + 1;
    assert_int_equal(tw_store_objects_query(st, &q, collect, NULL, NULL, &err), TW_EINVAL);
    q.limit = 10;
    for (size_t i = 0; i < TW_ARRAY_LEN(many); i++)
        many[i] = ID(01);
    q.ids = many;
    q.n_ids = TW_ARRAY_LEN(many);
    assert_int_equal(tw_store_objects_query(st, &q, collect, NULL, NULL, &err), TW_ELIMIT);
    q.n_ids = TW_STORE_MAX_MATCH;
    assert_string_equal(run(st, &q, false), "01 ");
}

/* ==== Status resources ==== */

static void store_status_round_trip(void **state)
{
    struct env *e = *state;
    struct tw_store *st = e->st;
    struct tw_status_rec s, got;
    char *details = NULL;
    struct tw_err err;

    tw_err_clear(&err);
    memset(&s, 0, sizeof(s));
    (void)snprintf(s.id, sizeof(s.id), "2d086da7-4bdc-4f91-900e-d77486753710");
    s.collection = 3;
    s.org = 4;
    s.request_time = 1700000000123456;
    s.total = 10;
    s.success = 7;
    s.failure = 1;
    s.pending = 2;
    s.details = "{\"successes\":[],\"failures\":[{\"id\":\"x\",\"version\":\"v\"}]}";
    must(tw_store_status_put(st, &s, &err), &err);
    must(tw_store_status_get(st, s.id, &got, &details, &err), &err);
    assert_string_equal(got.id, s.id);
    assert_int_equal(got.collection, 3);
    assert_int_equal(got.org, 4);
    assert_int_equal(got.request_time, s.request_time);
    assert_int_equal(got.total, 10);
    assert_int_equal(got.success, 7);
    assert_int_equal(got.failure, 1);
    assert_int_equal(got.pending, 2);
    assert_non_null(details);
    assert_string_equal(details, s.details);
    assert_ptr_equal(got.details, details);
    tw_free(details);
    /* The pending objects were processed: the status is replaced. */
    s.success = 9;
    s.pending = 0;
    s.details = NULL;
    must(tw_store_status_put(st, &s, &err), &err);
    must(tw_store_status_get(st, s.id, &got, &details, &err), &err);
    assert_int_equal(got.success, 9);
    assert_int_equal(got.pending, 0);
    assert_null(details);
    assert_int_equal(tw_store_status_get(st, "nope", &got, &details, &err), TW_ENOTFOUND);
    s.id[0] = '\0';
    assert_int_equal(tw_store_status_put(st, &s, &err), TW_EINVAL);
}

/* ==== Sightings tally ==== */

struct tally {
    char text[2048];
    size_t len;
};

static int collect_tally(const struct tw_tally_row *r, void *arg)
{
    struct tally *t = arg;
    int n = snprintf(t->text + t->len, sizeof(t->text) - t->len, "%.4s:%zu:%lld:%lld:%lld ", r->ref,
            r->orgs, (long long)r->first_seen, (long long)r->last_seen, (long long)r->count);

    assert_true(n > 0 && (size_t)n < sizeof(t->text) - t->len);
    t->len += (size_t)n;
    return 0;
}

#define IND  "indicator--11111111-0000-4000-8000-000000000001"
#define SET  "intrusion-set--11111111-0000-4000-8000-000000000002"
#define SET2 "intrusion-set--11111111-0000-4000-8000-000000000003"
#define CAMP "campaign--11111111-0000-4000-8000-000000000004"
#define MAL  "malware--11111111-0000-4000-8000-000000000005"

static void add_rel(struct batch *b, int n, const char *target, uint8_t tlp)
{
    char id[80], extra[200];

    (void)snprintf(id, sizeof(id), "relationship--11111111-0000-4000-8000-0000000001%02d", n);
    (void)snprintf(extra, sizeof(extra),
            ",\"relationship_type\":\"indicates\",\"source_ref\":\"%s\",\"target_ref\":\"%s\"", IND,
            target);
    (void)batch_add(b, id, "relationship", "2025-01-01T00:00:00.000Z", tlp, extra);
}

static void add_sighting(struct tw_store *st, int64_t coll, int64_t org, int n, const char *version,
        uint8_t tlp, int64_t first, int64_t last, int64_t count)
{
    struct batch *b = tw_calloc(1, sizeof(*b));
    struct tw_obj_in *o;
    char id[80];

    assert_non_null(b);
    (void)snprintf(id, sizeof(id), "sighting--11111111-0000-4000-8000-0000000002%02d", n);
    o = batch_add(b, id, "sighting", version, tlp, ",\"sighting_of_ref\":\"" IND "\"");
    o->sighting_of = IND;
    o->first_seen = first;
    o->last_seen = last;
    o->count = count;
    batch_commit(st, b, coll, org, 0, 1000 + n);
    assert_int_equal(b->res[0], TW_OBJ_ADDED);
    tw_free(b);
}

static void store_tally(void **state)
{
    struct env *e = *state;
    struct tw_store *st = e->st;
    struct batch *b = tw_calloc(1, sizeof(*b));
    struct tw_viewer v;
    struct tally t;
    struct tw_err err;
    struct hub h;
    int64_t a, bb, d;

    assert_non_null(b);
    hub_init(st, &h);
    a = add_org(st, "operator-a");
    bb = add_org(st, "operator-b");
    d = add_org(st, "operator-d");
    tw_err_clear(&err);
    must(tw_store_grant(st, h.coll, a, 0, true, true, &err), &err);
    must(tw_store_grant(st, h.coll, bb, 0, true, true, &err), &err);
    must(tw_store_grant(st, h.coll, d, 0, true, true, &err), &err);
    must(tw_store_grant(st, h.coll2, bb, 0, true, true, &err), &err);
    /* The indicator links to a set, a campaign, a malware (not tallied) and, in RED, set 2. */
    (void)batch_add(b, IND, "indicator", "2025-01-01T00:00:00.000Z", TW_TLP_GREEN, NULL);
    add_rel(b, 1, SET, TW_TLP_GREEN);
    add_rel(b, 2, CAMP, TW_TLP_GREEN);
    add_rel(b, 3, MAL, TW_TLP_GREEN);
    add_rel(b, 4, SET2, TW_TLP_RED);
    add_rel(b, 5, SET, TW_TLP_GREEN); /* a second link to SET counts its sightings once */
    batch_commit(st, b, h.coll, h.p, h.kp1, 900);
    tw_free(b);

    /* A twice (one sighting in two versions: the last counts), B once in AMBER,
     * D in RED, and B in a collection the viewer cannot read. */
    add_sighting(st, h.coll, a, 1, "2025-02-01T00:00:00.000Z", TW_TLP_GREEN, 100, 200, 3);
    add_sighting(st, h.coll, a, 1, "2025-02-02T00:00:00.000Z", TW_TLP_GREEN, 100, 250, 4);
    add_sighting(st, h.coll, a, 2, "2025-02-01T00:00:00.000Z", TW_TLP_GREEN, 50, 150, 2);
    add_sighting(st, h.coll, bb, 3, "2025-02-01T00:00:00.000Z", TW_TLP_AMBER, 300, 400, 5);
    add_sighting(st, h.coll, d, 4, "2025-02-01T00:00:00.000Z", TW_TLP_RED, 10, 900, 100);
    add_sighting(st, h.coll2, bb, 5, "2025-02-01T00:00:00.000Z", TW_TLP_GREEN, 1, 2, 7);

    /* V reads the collection and is in its audience: A and B, 4 + 2 + 5. The
     * sightings were added without a key (0), and V asks without one: no key
     * matches no key, so D's RED sighting stays hidden. */
    memset(&v, 0, sizeof(v));
    v.org = h.v;
    memset(&t, 0, sizeof(t));
    must(tw_store_tally(st, &v, collect_tally, &t, &err), &err);
    assert_string_equal(t.text, "camp:2:50:400:11 indi:2:50:400:11 intr:2:50:400:11 ");
    /* O reads through a group, outside the audience: the AMBER sighting is hidden. */
    v.org = h.o;
    memset(&t, 0, sizeof(t));
    must(tw_store_tally(st, &v, collect_tally, &t, &err), &err);
    assert_string_equal(t.text, "camp:1:50:250:6 indi:1:50:250:6 intr:1:50:250:6 ");
    /* N reads nothing. */
    v.org = h.n;
    memset(&t, 0, sizeof(t));
    must(tw_store_tally(st, &v, collect_tally, &t, &err), &err);
    assert_string_equal(t.text, "");
    /* The hub admin: every sighting, and the RED link to set 2. */
    v.all = true;
    memset(&t, 0, sizeof(t));
    must(tw_store_tally(st, &v, collect_tally, &t, &err), &err);
    assert_string_equal(t.text, "camp:3:1:900:118 indi:3:1:900:118 intr:3:1:900:118 "
                                "intr:3:1:900:118 ");
}

/* ==== Access log ==== */

struct chain {
    size_t n;
    uint8_t last[32];
    int64_t last_seq;
    size_t bad_hash, bad_link;
    char paths[8][32];
};

static int verify(const struct tw_log_rec *r, void *arg)
{
    struct chain *c = arg;
    uint8_t h[32];

    tw_store_log_hash(r, h);
    if (memcmp(h, r->hash, 32) != 0)
        c->bad_hash++;
    if (memcmp(r->prev, c->last, 32) != 0 || r->seq != c->last_seq + 1)
        c->bad_link++;
    memcpy(c->last, r->hash, 32);
    c->last_seq = r->seq;
    if (c->n < TW_ARRAY_LEN(c->paths))
        (void)snprintf(c->paths[c->n], sizeof(c->paths[c->n]), "%s", r->path);
    c->n++;
    return 0;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

/* The canonical bytes exactly as STORE.md's table gives them, written independently. */
static void spec_hash(const struct tw_log_rec *r, uint8_t out[32])
{
    static const uint8_t tag[8] = { 'T', 'W', 'L', 'O', 'G', 0, 0, 1 };
    uint8_t buf[256];
    size_t n = 0, k = strlen(r->key_id), m = strlen(r->method);

    memcpy(buf, r->prev, 32);
    n += 32;
    memcpy(buf + n, tag, sizeof(tag));
    n += sizeof(tag);
    put_be(buf + n, (uint64_t)r->seq, 8);
    put_be(buf + n + 8, (uint64_t)r->time, 8);
    put_be(buf + n + 16, (uint64_t)r->org, 8);
    put_be(buf + n + 24, (uint32_t)r->status, 4);
    n += 28;
    buf[n++] = (uint8_t)k;
    memcpy(buf + n, r->key_id, k);
    n += k;
    buf[n++] = (uint8_t)m;
    memcpy(buf + n, r->method, m);
    n += m;
    tw_sha256(r->path != NULL ? r->path : "", r->path != NULL ? strlen(r->path) : 0, buf + n);
    n += 32;
    tw_sha256(r->ids != NULL ? r->ids : "", r->ids != NULL ? strlen(r->ids) : 0, buf + n);
    n += 32;
    tw_sha256(buf, n, out);
}

static void store_log_chain(void **state)
{
    struct env *e = *state;
    struct tw_store *st = e->st;
    static const char *const paths[] = { "/api1/collections/", "/api1/collections/x/objects/", NULL,
        "/taxii2/", "/api1/status/y/" };
    struct chain c;
    struct tw_log_rec r;
    uint8_t h[32], zero[32];
    struct tw_err err;

    tw_err_clear(&err);
    memset(zero, 0, sizeof(zero));
    for (int i = 0; i < 5; i++) {
        memset(&r, 0, sizeof(r));
        r.time = 1700000000000000 + i;
        if (i != 2)
            (void)snprintf(r.key_id, sizeof(r.key_id), "00000000000000p%c", (char)('0' + i));
        r.org = i != 2 ? 7 : 0;
        (void)snprintf(r.method, sizeof(r.method), i == 1 ? "POST" : "GET");
        r.path = paths[i];
        r.status = i == 2 ? 401 : 200;
        r.ids = i == 1 ? ID(01) " " ID(02) : NULL;
        must(tw_store_log_append(st, &r, &err), &err);
        assert_int_equal(r.seq, i + 1);
        if (i == 0)
            assert_memory_equal(r.prev, zero, 32);
        spec_hash(&r, h);
        assert_memory_equal(h, r.hash, 32);
    }
    memset(&c, 0, sizeof(c));
    must(tw_store_log_each(st, verify, &c, &err), &err);
    assert_int_equal(c.n, 5);
    assert_int_equal(c.bad_hash, 0);
    assert_int_equal(c.bad_link, 0);
    assert_string_equal(c.paths[1], "/api1/collections/x/objects/");
    assert_string_equal(c.paths[2], "");

    /* Every field is covered: rewriting one record's path breaks its hash. */
    must(tw__db_exec(
                 tw__store_db(st), "UPDATE access_log SET path = '/other/' WHERE seq = 3", &err),
            &err);
    memset(&c, 0, sizeof(c));
    must(tw_store_log_each(st, verify, &c, &err), &err);
    assert_int_equal(c.bad_hash, 1);
    assert_int_equal(c.bad_link, 0);
}

struct writer {
    const char *location;
    int n;
    int rc;
};

static void *write_log(void *arg)
{
    struct writer *w = arg;
    struct tw_store *st = NULL;
    struct tw_err err;

    tw_err_clear(&err);
    w->rc = tw_store_open(w->location, false, &st, &err);
    for (int i = 0; i < w->n && w->rc == TW_OK; i++) {
        struct tw_log_rec r;

        memset(&r, 0, sizeof(r));
        r.time = i;
        (void)snprintf(r.method, sizeof(r.method), "GET");
        r.path = "/taxii2/";
        r.status = 200;
        w->rc = tw_store_log_append(st, &r, &err);
    }
    tw_store_close(st);
    return NULL;
}

static void store_log_concurrent_writers(void **state)
{
    struct env *e = *state;
    struct writer w[4];
    pthread_t t[4];
    struct chain c;
    struct tw_err err;

    for (size_t i = 0; i < TW_ARRAY_LEN(w); i++) {
        w[i].location = e->location;
        w[i].n = 25;
        w[i].rc = -100;
        assert_int_equal(pthread_create(&t[i], NULL, write_log, &w[i]), 0);
    }
    for (size_t i = 0; i < TW_ARRAY_LEN(w); i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].rc, TW_OK);
    }
    tw_err_clear(&err);
    memset(&c, 0, sizeof(c));
    must(tw_store_log_each(e->st, verify, &c, &err), &err);
    assert_int_equal(c.n, 100);
    assert_int_equal(c.bad_hash, 0);
    assert_int_equal(c.bad_link, 0);
}

/* Adds n single-object batches to one collection from a handle of its own. */
struct adder {
    const char *location;
    int64_t coll, org, key;
    int first, n;
    int rc;
};

static void *add_many(void *arg)
{
    struct adder *a = arg;
    struct tw_store *st = NULL;
    struct tw_err err;

    tw_err_clear(&err);
    a->rc = tw_store_open(a->location, false, &st, &err);
    for (int i = 0; i < a->n && a->rc == TW_OK; i++) {
        char id[80], body[200];
        struct tw_obj_in o;
        enum tw_obj_result res;
        int len;

        (void)snprintf(id, sizeof(id), "indicator--00000000-0000-4000-8000-%012d", a->first + i);
        len = snprintf(body, sizeof(body), "{\"type\":\"indicator\",\"id\":\"%s\"}", id);
        memset(&o, 0, sizeof(o));
        o.id = id;
        o.type = "indicator";
        o.spec_version = "2.1";
        o.version = "2025-01-01T00:00:00.000Z";
        o.json = body;
        o.json_len = (size_t)len;
        o.tlp = TW_TLP_GREEN;
        /* One clock for everyone: the store must still give every add its own date. */
        a->rc = tw_store_objects_add(st, a->coll, a->org, a->key, 1000, &o, 1, &res, &err);
    }
    tw_store_close(st);
    return NULL;
}

static void store_concurrent_adds_keep_order(void **state)
{
    struct env *e = *state;
    struct seen *all = tw_calloc(1, sizeof(*all));
    struct adder a[4];
    pthread_t t[4];
    struct tw_obj_query q;
    struct tw_err err;
    struct hub h;
    bool more = true;

    assert_non_null(all);
    hub_init(e->st, &h);
    for (size_t i = 0; i < TW_ARRAY_LEN(a); i++) {
        a[i].location = e->location;
        a[i].coll = h.coll;
        a[i].org = h.p;
        a[i].key = h.kp1;
        a[i].first = (int)i * 100;
        a[i].n = 25;
        a[i].rc = -100;
        assert_int_equal(pthread_create(&t[i], NULL, add_many, &a[i]), 0);
    }
    for (size_t i = 0; i < TW_ARRAY_LEN(a); i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(a[i].rc, TW_OK);
    }
    /* 100 adds: 100 distinct dates, increasing with seq, every row once through pages. */
    tw_err_clear(&err);
    q = query(h.coll);
    q.limit = 9;
    while (more) {
        must(tw_store_objects_query(e->st, &q, collect, all, &more, &err), &err);
        q.after_date = all->last_date;
        q.after_seq = all->last_seq;
    }
    assert_int_equal(all->n, 100);
    for (size_t i = 1; i < all->n; i++) {
        assert_true(all->seqs[i] > all->seqs[i - 1]);
        assert_true(all->dates[i] > all->dates[i - 1]);
    }
    tw_free(all);
}

/* ==== The page query's plan ==== */

/* The plan of q's page query as one line per step, "|"-separated. */
static void plan_of(struct tw_store *st, const struct tw_obj_query *q, char *out, size_t cap)
{
    struct tw__stmt *s = NULL;
    struct tw_err err;
    size_t len = 0;
    int rc;

    tw_err_clear(&err);
    out[0] = '\0';
    must(tw__store_objects_prepare(st, q, use_pg ? "EXPLAIN " : "EXPLAIN QUERY PLAN ", &s, &err),
            &err);
    while ((rc = tw__db_step(s, &err)) == TW__DB_ROW) {
        const char *line = tw__db_column_text(s, use_pg ? 0 : 3, NULL);
        int n = snprintf(out + len, cap - len, "%s|", line);

        assert_true(n > 0 && (size_t)n < cap - len);
        len += (size_t)n;
    }
    tw__db_finalize(s);
    assert_int_equal(rc, TW__DB_DONE);
}

/* No full scan of objects: SQLite says "SCAN o", PostgreSQL "Seq Scan on objects". */
static void assert_no_scan(const char *plan)
{
    if (strstr(plan, "|SCAN o|") != NULL || strncmp(plan, "SCAN o|", 7) == 0 ||
            strstr(plan, "SCAN o USING") != NULL || strstr(plan, "Seq Scan on objects") != NULL)
        fail_msg("the page query scans the objects table: %s", plan);
}

static void assert_has(const char *plan, const char *what)
{
    if (strstr(plan, what) == NULL)
        fail_msg("the plan lacks \"%s\": %s", what, plan);
}

static void assert_lacks(const char *plan, const char *what)
{
    if (strstr(plan, what) != NULL)
        fail_msg("the plan has \"%s\": %s", what, plan);
}

/*
 * Which index serves a page. SQLite's choice follows the statistics the
 * schema pins (schema.c), so it is asserted by name; PostgreSQL plans from
 * statistics it gathers itself, which an empty table in a test does not
 * have, so there only "an index, no sequential scan" is asserted.
 */
static void assert_index(const char *plan, const char *name)
{
    assert_no_scan(plan);
    assert_has(plan, use_pg ? "Index" : name);
}

static void store_page_query_plan(void **state)
{
    struct env *e = *state;
    struct tw_store *st = e->st;
    static const char *const ids[] = { ID(01), ID(02) };
    static const char *const types[] = { "indicator" };
    struct tw_obj_query q;
    struct tw_err err;
    char plan[8192];
    struct hub h;

    hub_init(st, &h);
    tw_err_clear(&err);
    if (use_pg) {
        /* A tiny table makes any plan cheap: forbid the sequential scan to see
         * that an index can serve the page in order without sorting the table. */
        must(tw__db_exec(tw__store_db(st), "SET enable_seqscan = off", &err), &err);
    }
    q = query(h.coll);
    q.limit = 100;
    q.versions = TW_VERSIONS_LAST;
    q.viewer.all = false;
    q.viewer.org = h.o;
    q.viewer.key = h.ko;
    q.viewer.max_tlp = TW_TLP_GREEN;
    q.after_date = 1000;
    q.after_seq = 10;

    /*
     * The default page: the is_last index, sought to (date, seq) in both
     * branches. On SQLite the two ranges are merged as the index yields
     * them, in order: no temporary B-tree sorts rows (and their bodies).
     */
    plan_of(st, &q, plan, sizeof(plan));
    assert_index(plan, "objects_last");
    if (!use_pg) {
        assert_has(plan, "MERGE (UNION ALL)");
        assert_has(plan, "(collection=? AND date_added=? AND seq>?)");
        assert_has(plan, "(collection=? AND date_added>?)");
        assert_lacks(plan, "TEMP B-TREE");
    }
    /* Every version; one type: also merged without sorting. A list of ids. */
    q.versions = TW_VERSIONS_ALL;
    plan_of(st, &q, plan, sizeof(plan));
    assert_index(plan, "objects_page");
    if (!use_pg)
        assert_lacks(plan, "TEMP B-TREE");
    q.types = types;
    q.n_types = 1;
    plan_of(st, &q, plan, sizeof(plan));
    assert_index(plan, "objects_type");
    if (!use_pg)
        assert_lacks(plan, "TEMP B-TREE");
    q.types = NULL;
    q.n_types = 0;
    q.ids = ids;
    q.n_ids = 2;
    plan_of(st, &q, plan, sizeof(plan));
    assert_index(plan, "objects_version");
    if (!use_pg) {
        /* The recipient checks are index lookups, not scans. */
        assert_has(plan, "SEARCH vr USING PRIMARY KEY");
        assert_has(plan, "SEARCH vk USING PRIMARY KEY");
    }
}

/* ==== Driver ==== */

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(store_open_create_and_errors, setup_bare, teardown),
        cmocka_unit_test_setup_teardown(store_orgs_and_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(store_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(store_roots_collections_access, setup, teardown),
        cmocka_unit_test_setup_teardown(store_visibility_matrix, setup, teardown),
        cmocka_unit_test_setup_teardown(store_keyset_pages_equal_date, setup, teardown),
        cmocka_unit_test_setup_teardown(store_added_after_strict, setup, teardown),
        cmocka_unit_test_setup_teardown(store_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(store_delete_repairs_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(store_duplicate_and_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(store_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(store_status_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(store_tally, setup, teardown),
        cmocka_unit_test_setup_teardown(store_log_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(store_log_concurrent_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(store_concurrent_adds_keep_order, setup, teardown),
        cmocka_unit_test_setup_teardown(store_page_query_plan, setup, teardown),
    };

    if (argc > 1 && strcmp(argv[1], "--pg") == 0) {
        pg_base = getenv("TW_TEST_PG");
        if (pg_base == NULL || pg_base[0] == '\0') {
            (void)fprintf(stderr, "SKIP: TW_TEST_PG is not set; run through "
                                  "tests/integration/pg_env.sh\n");
            return 77;
        }
        use_pg = true;
        return cmocka_run_group_tests_name("store on PostgreSQL", tests, NULL, NULL);
    }
    return cmocka_run_group_tests_name("store on SQLite", tests, NULL, NULL);
}
