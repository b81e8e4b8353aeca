/*
 * demo_hub.c: the sharing loop of `tidewatch demo`: a hub on a temporary
 * SQLite store, served on a loopback port; the agency publishes the sample
 * package over TAXII, an operator pulls what TLP lets it see, hunts the
 * sample capture with it and reports its sightings back; the tally and the
 * access log close the loop.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "cli.h"
#include "intel_cli.h"
#include "tidewatch/hash.h"
#include "tidewatch/hub.h"
#include "tidewatch/hunt.h"
#include "tidewatch/index.h"
#include "tidewatch/log.h"
#include "tidewatch/stix.h"
#include "tidewatch/store.h"
#include "tidewatch/taxii_client.h"
#include "tidewatch/time.h"
#include "tidewatch/tlp.h"

extern const unsigned char tw_demo_bundle[];
extern const unsigned long tw_demo_bundle_len;
extern const unsigned char tw_demo_capture[];
extern const unsigned long tw_demo_capture_len;

#define AGENCY   "National Cyber Agency"
#define OPERATOR "Operator A"

struct server {
    struct tw_hub *hub;
    volatile sig_atomic_t stop;
    int rc;
};

static void *serve_thread(void *arg)
{
    struct server *s = arg;
    struct tw_err err;

    s->rc = tw_hub_serve(s->hub, &s->stop, &err);
    if (s->rc != TW_OK)
        fprintf(stderr, "tidewatch demo: hub: %s\n", err.msg);
    return NULL;
}

static int64_t now_us(void)
{
    struct tw_time t = tw_time_now();

    return t.sec * 1000000 + t.nsec / 1000;
}

/* An organisation, its key (written to key), and its id. */
static int add_org(struct tw_store *st, const char *name, const char *sector, enum tw_role role,
        char key[TW_HUB_KEY_LEN + 1], int64_t *id, struct tw_err *err)
{
    struct tw_org o;
    struct tw_key k;
    int rc;

    memset(&o, 0, sizeof(o));
    (void)snprintf(o.name, sizeof(o.name), "%s", name);
    (void)snprintf(o.sector, sizeof(o.sector), "%s", sector);
    tw_hub_org_identity(name, o.identity_id);
    if ((rc = tw_store_org_add(st, &o, err)) != TW_OK)
        return rc;
    memset(&k, 0, sizeof(k));
    if ((rc = tw_hub_key_generate(&k, key)) != TW_OK)
        return rc;
    k.org = o.id;
    k.role = role;
    k.created = now_us();
    (void)snprintf(k.label, sizeof(k.label), "demo");
    *id = o.id;
    return tw_store_key_add(st, &k, err);
}

/* Sets up the store: root, two organisations, a group, two collections. */
static int setup(struct tw_store *st, char *agency_key, char *op_key, char *campaign_id,
        char *sightings_id, struct tw_err *err)
{
    struct tw_api_root root;
    struct tw_collection c;
    int64_t agency, op, group;
    uint8_t u[16];
    int rc;

    memset(&root, 0, sizeof(root));
    (void)snprintf(root.name, sizeof(root.name), "api");
    (void)snprintf(root.title, sizeof(root.title), "Salt Typhoon response");
    if ((rc = tw_store_root_add(st, &root, err)) != TW_OK ||
            (rc = add_org(st, AGENCY, "government-national", TW_ROLE_CONTRIBUTOR, agency_key,
                     &agency, err)) != TW_OK ||
            (rc = add_org(st, OPERATOR, "telecommunications", TW_ROLE_CONTRIBUTOR, op_key, &op,
                     err)) != TW_OK ||
            (rc = tw_store_group_add(st, "responders", &group, err)) != TW_OK ||
            (rc = tw_store_group_member_add(st, group, agency, err)) != TW_OK ||
            (rc = tw_store_group_member_add(st, group, op, err)) != TW_OK)
        return rc;
    memset(&c, 0, sizeof(c));
    (void)snprintf(c.root, sizeof(c.root), "api");
    (void)snprintf(c.title, sizeof(c.title), "Salt Typhoon intelligence");
    (void)snprintf(c.alias, sizeof(c.alias), "campaign");
    c.default_tlp = TW_TLP_AMBER;
    c.group = group;
    if ((rc = tw_uuid_v4(u)) != TW_OK)
        return rc;
    tw_uuid_format(u, c.uuid);
    if ((rc = tw_store_collection_add(st, &c, err)) != TW_OK ||
            (rc = tw_store_grant(st, c.id, agency, 0, true, true, err)) != TW_OK ||
            (rc = tw_store_grant(st, c.id, 0, group, true, false, err)) != TW_OK)
        return rc;
    memcpy(campaign_id, c.uuid, sizeof(c.uuid));
    memset(&c, 0, sizeof(c));
    (void)snprintf(c.root, sizeof(c.root), "api");
    (void)snprintf(c.title, sizeof(c.title), "Sightings from operators");
    (void)snprintf(c.alias, sizeof(c.alias), "sightings");
    c.default_tlp = TW_TLP_GREEN;
    if ((rc = tw_uuid_v4(u)) != TW_OK)
        return rc;
    tw_uuid_format(u, c.uuid);
    if ((rc = tw_store_collection_add(st, &c, err)) != TW_OK ||
            (rc = tw_store_grant(st, c.id, agency, 0, true, true, err)) != TW_OK ||
            (rc = tw_store_grant(st, c.id, op, 0, true, true, err)) != TW_OK)
        return rc;
    memcpy(sightings_id, c.uuid, sizeof(c.uuid));
    return TW_OK;
}

static int collect(const json_t *objects, void *arg)
{
    return json_array_extend(arg, (json_t *)(uintptr_t)objects) == 0 ? 0 : 1;
}

/* Per indicator id: count, first and last alert time (from the EVE lines). */
static json_t *sightings_from_eve(const char *eve, size_t len, const char *reporter)
{
    json_t *per = json_object(), *objs = json_array(), *v;
    struct tw_str rest = tw_str_make(eve, len), line;
    const char *id;
    char stamp[TW_TIME_STRLEN];
    struct tw_time now = tw_time_now();

    now.frac_digits = 3;
    (void)tw_time_format(&now, 3, stamp);
    while (tw_str_next_line(&rest, &line)) {
        json_error_t e;
        json_t *a = json_loadb(line.ptr, line.len, 0, &e);
        const char *ind = json_string_value(json_object_get(
                json_object_get(json_object_get(a, "tidewatch"), "indicator"), "id"));
        const char *ts = json_string_value(json_object_get(a, "timestamp"));
        json_t *s;

        if (ind != NULL && ts != NULL && strlen(ts) >= 19) {
            char t[32];
            (void)snprintf(t, sizeof(t), "%.19sZ", ts);
            s = json_object_get(per, ind);
            if (s == NULL)
                json_object_set_new(per, ind, json_pack("{s:s, s:s, s:i}", "f", t, "l", t, "n", 0));
            s = json_object_get(per, ind);
            json_object_set_new(s, "l", json_string(t));
            json_object_set_new(
                    s, "n", json_integer(json_integer_value(json_object_get(s, "n")) + 1));
        }
        json_decref(a);
    }
    json_object_foreach(per, id, v)
    {
        static const uint8_t ns[16] = { 0x51, 0x9e, 0x7c, 0x02, 0x4d, 0x11, 0x4a, 0x8b, 0x93, 0x20,
            0x6f, 0x1e, 0x74, 0x77, 0x73, 0x67 };
        uint8_t u[16];
        char us[TW_UUID_STRLEN], sid[64], name[160];

        (void)snprintf(name, sizeof(name), "%s|%s", reporter, id);
        tw_uuid_v5(ns, name, strlen(name), u);
        tw_uuid_format(u, us);
        (void)snprintf(sid, sizeof(sid), "sighting--%s", us);
        json_array_append_new(
                objs, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:s, s:s, s:O}", "type",
                              "sighting", "spec_version", "2.1", "id", sid, "created", stamp,
                              "modified", stamp, "created_by_ref", reporter, "sighting_of_ref", id,
                              "where_sighted_refs", reporter, "first_seen",
                              json_string_value(json_object_get(v, "f")), "last_seen",
                              json_string_value(json_object_get(v, "l")), "count",
                              json_object_get(v, "n")));
    }
    json_decref(per);
    return objs;
}

static int print_tally(const struct tw_tally_row *r, void *arg)
{
    const char *name = json_string_value(json_object_get(arg, r->ref));
    char what[64];

    (void)snprintf(what, sizeof(what), "%s", name != NULL ? name : r->ref);
    printf("  %-52.52s %zu org%s %4lld sighting%s\n", what, r->orgs, r->orgs == 1 ? ", " : "s,",
            (long long)r->count, r->count == 1 ? "" : "s");
    return 0;
}

int tw_demo_hub(void)
{
    char dir[] = "/tmp/tidewatch-demo-XXXXXX", db[64], url[160], sights_url[160];
    char agency_key[TW_HUB_KEY_LEN + 1], op_key[TW_HUB_KEY_LEN + 1];
    char campaign[37], sightings[37], last[TW_TIME_STRLEN];
    struct tw_hub_config cfg;
    struct server srv = { NULL, 0, TW_OK };
    struct tw_store *st = NULL;
    struct tw_taxii_client tc;
    struct tw_err err;
    struct tw_viewer v;
    pthread_t th;
    json_t *status = NULL, *pulled = json_array(), *env = NULL, *sobjs = NULL;
    json_t *names = json_object(); /* id -> name, for the tally */
    size_t n_pulled = 0;
    char *eve_buf = NULL, *text = NULL;
    size_t eve_len = 0;
    int result = TW_EXIT_ERROR;
    bool started = false;

    tw_err_clear(&err);
    if (mkdtemp(dir) == NULL || pulled == NULL) {
        fprintf(stderr, "tidewatch demo: cannot make a temporary directory\n");
        json_decref(pulled);
        return TW_EXIT_ERROR;
    }
    (void)snprintf(db, sizeof(db), "%s/hub.db", dir);
    if (tw_store_open(db, true, &st, &err) != TW_OK ||
            setup(st, agency_key, op_key, campaign, sightings, &err) != TW_OK) {
        fprintf(stderr, "tidewatch demo: hub store: %s\n", err.msg);
        goto out;
    }
    tw_hub_config_init(&cfg);
    cfg.store = db;
    cfg.listen = "127.0.0.1:0";
    cfg.threads = 2;
    cfg.quiet = true;
    cfg.title = "tidewatch demo hub";
    tw_log_setup(stderr, TW_LOG_TEXT, TW_LOG_ERROR); /* no plain-HTTP warning in the demo */
    if (tw_hub_new(&cfg, &srv.hub, &err) != TW_OK ||
            pthread_create(&th, NULL, serve_thread, &srv) != 0) {
        fprintf(stderr, "tidewatch demo: hub: %s\n", err.msg);
        goto out;
    }
    started = true;
    for (int i = 0; i < 200 && tw_hub_port(srv.hub) == 0 && srv.rc == TW_OK; i++) {
        struct timespec ts = { 0, 10L * 1000 * 1000 };
        (void)nanosleep(&ts, NULL);
    }
    if (tw_hub_port(srv.hub) == 0)
        goto out;
    (void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/collections/%s/",
            tw_hub_port(srv.hub), campaign);
    (void)snprintf(sights_url, sizeof(sights_url), "http://127.0.0.1:%u/api/collections/%s/",
            tw_hub_port(srv.hub), sightings);
    printf("A hub on a temporary SQLite store, TAXII 2.1 on 127.0.0.1:%u (plain HTTP: loopback "
           "only).\nOrganisations: \"%s\" (government) and \"%s\" (telecoms), both in the\n"
           "sharing group that is the collection's AMBER audience.\n\n",
            tw_hub_port(srv.hub), AGENCY, OPERATOR);

    /* The agency publishes. */
    memset(&tc, 0, sizeof(tc));
    tc.collection_url = url;
    tc.key = agency_key;
    if (tw_taxii_push(&tc, (const char *)tw_demo_bundle, tw_demo_bundle_len, &status, &err) !=
            TW_OK) {
        fprintf(stderr, "tidewatch demo: push: %s\n", err.msg);
        goto out;
    }
    printf("%s publishes the package   (tidewatch intel push)\n  %lld objects sent, %lld "
           "accepted, %lld refused\n\n",
            AGENCY, (long long)json_integer_value(json_object_get(status, "total_count")),
            (long long)json_integer_value(json_object_get(status, "success_count")),
            (long long)json_integer_value(json_object_get(status, "failure_count")));

    /* The operator pulls what TLP lets it see. */
    tc.key = op_key;
    if (tw_taxii_pull(&tc, NULL, collect, pulled, last, &n_pulled, &err) != TW_OK) {
        fprintf(stderr, "tidewatch demo: pull: %s\n", err.msg);
        goto out;
    }
    printf("%s pulls the collection   (tidewatch intel pull)\n  %zu objects; withheld by "
           "the hub: ",
            OPERATOR, n_pulled);
    {
        struct tw_stix_bundle *b = NULL;
        bool any = false;
        if (tw_stix_read_mem((const char *)tw_demo_bundle, tw_demo_bundle_len, "demo", 0, &b,
                    &err) == TW_OK) {
            for (size_t i = 0; i < tw_stix_bundle_count(b); i++) {
                const struct tw_stix_object *o = tw_stix_bundle_object(b, i);
                const json_t *nm = json_object_get(o->json, "name");
                bool seen = false;

                size_t k;
                json_t *p;

                if (o->id == NULL)
                    continue;
                if (json_is_string(nm))
                    json_object_set(names, o->id, (json_t *)(uintptr_t)nm);
                json_array_foreach(pulled, k, p)
                {
                    const char *pid = json_string_value(json_object_get(p, "id"));
                    seen = seen || (pid != NULL && strcmp(pid, o->id) == 0);
                }
                if (!seen) {
                    const char *name = json_string_value(json_object_get(o->json, "name"));
                    printf("%s%s %s (%s)", any ? ",\n    " : "\n    ", o->type, name ? name : o->id,
                            o->tlp ? tw_tlp_name(o->tlp) : "unmarked");
                    any = true;
                }
            }
        }
        tw_stix_bundle_free(b);
        printf("%s\n\n", any ? "" : "none");
    }

    /* It hunts with what it received and reports its sightings. */
    {
        struct tw_stix_bundle *b = NULL;
        struct tw_index *idx = tw_index_new(TW_INDEX_MAX_INDICATORS);
        struct tw_hunt_stats hs;
        FILE *eve = open_memstream(&eve_buf, &eve_len);
        json_t *bundle = json_pack("{s:s, s:s, s:O}", "type", "bundle", "id",
                "bundle--00000000-0000-4000-8000-000000000001", "objects", pulled);

        text = bundle != NULL ? json_dumps(bundle, JSON_COMPACT) : NULL;
        json_decref(bundle);
        if (idx == NULL || eve == NULL || text == NULL ||
                tw_stix_read_mem(text, strlen(text), "pulled", TW_STIX_NO_PATTERNS, &b, &err) !=
                        TW_OK ||
                tw_intel_index_bundle(idx, b) != TW_OK || tw_index_build(idx) != TW_OK ||
                tw_hunt_capture_mem(idx, tw_demo_capture, tw_demo_capture_len,
                        "salt-typhoon-demo.pcap", eve, &hs) != TW_EXIT_OK) {
            if (eve != NULL)
                (void)fclose(eve);
            tw_stix_bundle_free(b);
            tw_index_free(idx);
            fprintf(stderr, "tidewatch demo: hunting with the pulled intelligence failed\n");
            goto out;
        }
        (void)fclose(eve);
        tw_stix_bundle_free(b);
        tw_index_free(idx);
        printf("%s hunts the sample capture with it   (tidewatch hunt)\n  %llu alerts\n", OPERATOR,
                (unsigned long long)hs.alerts);
    }
    {
        struct tw_org o;
        if (tw_store_org_get(st, OPERATOR, 0, &o, &err) != TW_OK)
            goto out;
        sobjs = sightings_from_eve(eve_buf, eve_len, o.identity_id);
    }
    env = json_pack("{s:O}", "objects", sobjs);
    free(text);
    text = env != NULL ? json_dumps(env, JSON_COMPACT) : NULL;
    json_decref(status);
    status = NULL;
    tc.collection_url = sights_url;
    if (text == NULL || tw_taxii_push(&tc, text, strlen(text), &status, &err) != TW_OK) {
        fprintf(stderr, "tidewatch demo: sightings: %s\n", err.msg[0] ? err.msg : "out of memory");
        goto out;
    }
    printf("  and reports %lld sightings to the hub (STIX sighting objects, its identity\n"
           "  hidden from other operators unless it opts in)\n\n",
            (long long)json_integer_value(json_object_get(status, "success_count")));

    /* The tally, as the hub keeps it. */
    printf("The tally   (tidewatch hub tally: distinct organisations and sightings per\n"
           "indicator, and per intrusion set through 'indicates' relationships)\n");
    memset(&v, 0, sizeof(v));
    v.all = true;
    if (tw_store_tally(st, &v, print_tally, names, &err) != TW_OK)
        goto out;
    result = TW_EXIT_OK;
out:
    if (started) {
        srv.stop = 1;
        (void)pthread_join(th, NULL);
    }
    if (st != NULL && result == TW_EXIT_OK) {
        int64_t n_ok = 0, bad_seq = 0;
        if (tw_store_log_verify(st, NULL, NULL, &n_ok, &bad_seq, &err) == TW_OK && bad_seq == 0)
            printf("\nThe access log: every request recorded and hash-chained; the chain "
                   "verifies   (tidewatch hub log verify)\n");
        else
            result = TW_EXIT_ERROR;
    }
    tw_hub_free(srv.hub);
    tw_store_close(st);
    memset(agency_key, 0, sizeof(agency_key));
    memset(op_key, 0, sizeof(op_key));
    json_decref(status);
    json_decref(env);
    json_decref(sobjs);
    json_decref(pulled);
    json_decref(names);
    free(text);
    free(eve_buf);
    {
        char path[128];
        static const char *const files[] = { "hub.db", "hub.db-wal", "hub.db-shm" };
        for (size_t i = 0; i < TW_ARRAY_LEN(files); i++) {
            (void)snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
            (void)unlink(path);
        }
        (void)rmdir(dir);
    }
    return result;
}
