/*
 * admin.c: the hub's own endpoints beside TAXII: the admin API under
 * /admin/ and the sightings tally under /tally/ (docs/internals/HUB.md).
 *
 * Bodies are JSON; errors use TAXII's error message shape so one client
 * parser serves both. Hub admins manage everything. Organisation admins
 * manage the keys of their own organisation (roles up to org-admin) and see
 * their organisation; everyone else gets 403.
 *
 *   GET    /admin/orgs/                      list (org admins: their own)
 *   POST   /admin/orgs/                      {name, sector?, identity_id?, disclose_sightings?}
 *   GET    /admin/keys/                      list (org admins: their organisation's)
 *   POST   /admin/keys/                      {org, role, label?, rate?} -> the key, once
 *   DELETE /admin/keys/<key id>/             revoke
 *   POST   /admin/groups/                    {name}
 *   POST   /admin/groups/<name>/members/     {org}
 *   GET    /admin/collections/               list
 *   POST   /admin/collections/               {title, root?, alias?, description?, default_tlp?,
 * group?} POST   /admin/collections/<id|alias>/grants/  {org | group, read, write, root?}
 */
#include <stdlib.h>
#include <string.h>

#include "hub_int.h"
#include "tidewatch/hash.h"
#include "tidewatch/hub.h"
#include "tidewatch/str.h"
#include "tidewatch/time.h"
#include "tidewatch/tlp.h"

#define MAX_ADMIN_BODY ((size_t)1 << 20)

static const char *const role_names[] = { "", "reader", "contributor", "org-admin", "hub-admin" };

static int64_t now_us(void)
{
    struct tw_time t = tw_time_now();

    return t.sec * 1000000 + t.nsec / 1000;
}

static void forbidden(struct tw_http_resp *rs)
{
    tw__hub_send_error(rs, 403, "Forbidden", "Your key's role may not do this.");
}

static void store_error(struct tw_http_resp *rs, int rc, const struct tw_err *err)
{
    if (rc == TW_EEXIST)
        tw__hub_send_error(rs, 409, "Conflict", err->msg);
    else if (rc == TW_ENOTFOUND)
        tw__hub_send_error(rs, 404, "Not found", err->msg);
    else if (rc == TW_EINVAL)
        tw__hub_send_error(rs, 400, "Bad request", err->msg);
    else
        tw__hub_send_error(rs, 500, "Internal error", NULL);
}

/* The request body as a JSON object, or NULL with the response set. */
static json_t *body_object(const struct tw_http_req *rq, struct tw_http_resp *rs)
{
    json_error_t e;
    json_t *j;

    if (rq->body_too_large || rq->body_len > MAX_ADMIN_BODY) {
        tw__hub_send_error(rs, 413, "Request too large", NULL);
        return NULL;
    }
    j = json_loadb(rq->body != NULL ? rq->body : "", rq->body_len, JSON_REJECT_DUPLICATES, &e);
    if (!json_is_object(j)) {
        json_decref(j);
        tw__hub_send_error(rs, 400, "Bad request", "The body must be a JSON object.");
        return NULL;
    }
    return j;
}

/* A string member of at most `max` bytes; NULL when absent or not a string. */
static const char *member(const json_t *j, const char *key, size_t max)
{
    const json_t *v = json_object_get(j, key);

    return json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < max &&
                           strlen(json_string_value(v)) == json_string_length(v)
                   ? json_string_value(v)
                   : NULL;
}

/* ==== Organisations ==== */

static json_t *org_json(const struct tw_org *o)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:b}", "id", (json_int_t)o->id, "name", o->name,
            "sector", o->sector, "identity_id", o->identity_id, "disclose_sightings",
            o->disclose_sightings);
}

struct list_ctx {
    json_t *arr;
    int64_t only_org; /* 0: all */
};

static int org_to_json(const struct tw_org *o, void *arg)
{
    struct list_ctx *lc = arg;

    if (lc->only_org == 0 || lc->only_org == o->id)
        json_array_append_new(lc->arr, org_json(o));
    return 0;
}

static void orgs(struct tw_store *st, const struct tw__caller *who, const struct tw_http_req *rq,
        struct tw_http_resp *rs)
{
    struct tw_err err;
    int rc;

    tw_err_clear(&err);
    if (strcmp(rq->method, "GET") == 0) {
        struct list_ctx lc = { json_array(), who->admin ? 0 : who->org->id };
        if (tw_store_org_each(st, org_to_json, &lc, &err) != TW_OK) {
            json_decref(lc.arr);
            store_error(rs, TW_EDB, &err);
            return;
        }
        tw__hub_send_json(rs, 200, json_pack("{s:o}", "organisations", lc.arr));
    } else if (strcmp(rq->method, "POST") == 0) {
        struct tw_org o;
        json_t *j;
        const char *name, *sector, *identity;

        if (!who->admin) {
            forbidden(rs);
            return;
        }
        if ((j = body_object(rq, rs)) == NULL)
            return;
        memset(&o, 0, sizeof(o));
        name = member(j, "name", sizeof(o.name));
        sector = member(j, "sector", sizeof(o.sector));
        identity = member(j, "identity_id", sizeof(o.identity_id));
        if (name == NULL || (identity != NULL && strncmp(identity, "identity--", 10) != 0)) {
            json_decref(j);
            tw__hub_send_error(rs, 400, "Bad request", "Give a name (and an identity--... id).");
            return;
        }
        (void)snprintf(o.name, sizeof(o.name), "%s", name);
        (void)snprintf(o.sector, sizeof(o.sector), "%s", sector ? sector : "telecommunications");
        if (identity != NULL) {
            (void)snprintf(o.identity_id, sizeof(o.identity_id), "%s", identity);
        } else {
            tw_hub_org_identity(o.name, o.identity_id);
        }
        o.disclose_sightings = json_is_true(json_object_get(j, "disclose_sightings"));
        json_decref(j);
        rc = tw_store_org_add(st, &o, &err);
        if (rc != TW_OK)
            store_error(rs, rc, &err);
        else
            tw__hub_send_json(rs, 201, org_json(&o));
    } else {
        tw__hub_send_error(rs, 405, "Method not allowed", NULL);
    }
}

/* ==== Keys ==== */

static int key_to_json(const struct tw_key *k, void *arg)
{
    json_array_append_new(
            arg, json_pack("{s:s, s:I, s:s, s:s, s:b, s:I}", "key_id", k->key_id, "org",
                         (json_int_t)k->org, "role", role_names[k->role], "label", k->label,
                         "revoked", k->revoked != 0, "rate_per_min", (json_int_t)k->rate_per_min));
    return 0;
}

static void keys(struct tw_store *st, const struct tw__caller *who, const struct tw_http_req *rq,
        const char *const *seg, size_t n_seg, struct tw_http_resp *rs)
{
    struct tw_err err;
    int rc;

    tw_err_clear(&err);
    if (n_seg == 2 && strcmp(rq->method, "GET") == 0) {
        json_t *arr = json_array();
        if (tw_store_key_each(st, who->admin ? -1 : who->org->id, key_to_json, arr, &err) !=
                TW_OK) {
            json_decref(arr);
            store_error(rs, TW_EDB, &err);
            return;
        }
        tw__hub_send_json(rs, 200, json_pack("{s:o}", "keys", arr));
    } else if (n_seg == 2 && strcmp(rq->method, "POST") == 0) {
        struct tw_key k;
        struct tw_org o;
        char full[TW_HUB_KEY_LEN + 1];
        const char *org_name, *role, *label;
        json_t *j = body_object(rq, rs);
        json_int_t rate;
        int r = 0;

        if (j == NULL)
            return;
        org_name = member(j, "org", TW_STORE_NAME_MAX);
        role = member(j, "role", 16);
        label = member(j, "label", TW_STORE_NAME_MAX);
        rate = json_integer_value(json_object_get(j, "rate"));
        for (int i = 1; i <= 4 && role != NULL; i++)
            if (strcmp(role, role_names[i]) == 0)
                r = i;
        if (org_name == NULL || r == 0 || rate < 0 || rate > 10000000) {
            json_decref(j);
            tw__hub_send_error(rs, 400, "Bad request",
                    "Give org, role (reader, contributor, "
                    "org-admin, hub-admin) and a rate >= 0.");
            return;
        }
        rc = tw_store_org_get(st, org_name, 0, &o, &err);
        if (rc != TW_OK) {
            json_decref(j);
            store_error(rs, rc, &err);
            return;
        }
        /* Org admins: their own organisation, roles up to their own. */
        if (!who->admin && (o.id != who->org->id || r > TW_ROLE_ORG_ADMIN)) {
            json_decref(j);
            forbidden(rs);
            return;
        }
        memset(&k, 0, sizeof(k));
        if (tw_hub_key_generate(&k, full) != TW_OK) {
            json_decref(j);
            tw__hub_send_error(rs, 500, "Internal error", NULL);
            return;
        }
        k.org = o.id;
        k.role = (enum tw_role)r;
        k.rate_per_min = (uint32_t)rate;
        (void)snprintf(k.label, sizeof(k.label), "%s", label ? label : "");
        k.created = now_us();
        json_decref(j);
        rc = tw_store_key_add(st, &k, &err);
        if (rc != TW_OK)
            store_error(rs, rc, &err);
        else
            tw__hub_send_json(rs, 201,
                    json_pack("{s:s, s:s, s:s, s:s}", "key_id", k.key_id, "role", role_names[r],
                            "org", o.name, "api_key", full));
        memset(full, 0, sizeof(full));
    } else if (n_seg == 3 && strcmp(rq->method, "DELETE") == 0) {
        struct tw_key k;

        if (tw_store_key_get(st, seg[2], &k, NULL) != TW_OK ||
                (!who->admin && k.org != who->org->id)) {
            tw__hub_send_error(rs, 404, "Not found", "No such key.");
            return;
        }
        rc = tw_store_key_revoke(st, seg[2], now_us(), &err);
        if (rc != TW_OK)
            store_error(rs, rc, &err);
        else
            tw__hub_send_json(rs, 200, json_pack("{s:s, s:b}", "key_id", seg[2], "revoked", 1));
    } else {
        tw__hub_send_error(rs, 405, "Method not allowed", NULL);
    }
}

/* ==== Groups ==== */

static void groups(struct tw_store *st, const struct tw_http_req *rq, const char *const *seg,
        size_t n_seg, struct tw_http_resp *rs)
{
    struct tw_err err;
    json_t *j;
    int64_t gid;
    int rc;

    if (strcmp(rq->method, "POST") != 0 ||
            !(n_seg == 2 || (n_seg == 4 && strcmp(seg[3], "members") == 0))) {
        tw__hub_send_error(rs, 405, "Method not allowed", NULL);
        return;
    }
    if ((j = body_object(rq, rs)) == NULL)
        return;
    tw_err_clear(&err);
    if (n_seg == 2) {
        const char *name = member(j, "name", TW_STORE_NAME_MAX);
        rc = name == NULL ? TW_EINVAL : tw_store_group_add(st, name, &gid, &err);
        if (rc == TW_OK)
            tw__hub_send_json(
                    rs, 201, json_pack("{s:s, s:I}", "name", name, "id", (json_int_t)gid));
    } else {
        const char *org_name = member(j, "org", TW_STORE_NAME_MAX);
        struct tw_org o;
        rc = org_name == NULL ? TW_EINVAL : tw_store_group_get(st, seg[2], &gid, &err);
        if (rc == TW_OK)
            rc = tw_store_org_get(st, org_name, 0, &o, &err);
        if (rc == TW_OK)
            rc = tw_store_group_member_add(st, gid, o.id, &err);
        if (rc == TW_OK)
            tw__hub_send_json(rs, 201, json_pack("{s:s, s:s}", "group", seg[2], "org", org_name));
    }
    json_decref(j);
    if (rc != TW_OK) {
        if (err.msg[0] == '\0')
            (void)snprintf(err.msg, sizeof(err.msg), "Give a name (or an org).");
        store_error(rs, rc, &err);
    }
}

/* ==== Collections ==== */

static int collection_to_json(const struct tw_collection *c, void *arg)
{
    json_array_append_new(
            arg, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", c->uuid, "root", c->root,
                         "title", c->title, "alias", c->alias, "description", c->description,
                         "default_tlp", tw_tlp_name((enum tw_tlp)c->default_tlp)));
    return 0;
}

static void collections(struct tw_store *st, const struct tw_http_req *rq, const char *const *seg,
        size_t n_seg, struct tw_http_resp *rs)
{
    struct tw_err err;
    json_t *j;
    int rc = TW_OK;

    tw_err_clear(&err);
    if (n_seg == 2 && strcmp(rq->method, "GET") == 0) {
        json_t *arr = json_array();
        if (tw_store_collection_each(st, NULL, collection_to_json, arr, &err) != TW_OK) {
            json_decref(arr);
            store_error(rs, TW_EDB, &err);
            return;
        }
        tw__hub_send_json(rs, 200, json_pack("{s:o}", "collections", arr));
        return;
    }
    if (strcmp(rq->method, "POST") != 0 ||
            !(n_seg == 2 || (n_seg == 4 && strcmp(seg[3], "grants") == 0))) {
        tw__hub_send_error(rs, 405, "Method not allowed", NULL);
        return;
    }
    if ((j = body_object(rq, rs)) == NULL)
        return;
    if (n_seg == 2) {
        struct tw_collection c;
        const char *title = member(j, "title", sizeof(c.title));
        const char *root = member(j, "root", sizeof(c.root));
        const char *alias = member(j, "alias", sizeof(c.alias));
        const char *desc = member(j, "description", sizeof(c.description));
        const char *tlp = member(j, "default_tlp", 32);
        const char *group = member(j, "group", TW_STORE_NAME_MAX);
        enum tw_tlp level = TW_TLP_AMBER;
        uint8_t u[16];

        memset(&c, 0, sizeof(c));
        if (title == NULL || (tlp != NULL && (tw_tlp_parse(tw_str_cstr(tlp), &level) != TW_OK ||
                                                     level == TW_TLP_NONE))) {
            json_decref(j);
            tw__hub_send_error(rs, 400, "Bad request", "Give a title (and a valid default_tlp).");
            return;
        }
        (void)snprintf(c.title, sizeof(c.title), "%s", title);
        (void)snprintf(c.root, sizeof(c.root), "%s", root ? root : "api");
        (void)snprintf(c.alias, sizeof(c.alias), "%s", alias ? alias : "");
        (void)snprintf(c.description, sizeof(c.description), "%s", desc ? desc : "");
        c.default_tlp = (uint8_t)level;
        if (group != NULL)
            rc = tw_store_group_get(st, group, &c.group, &err);
        if (rc == TW_OK)
            rc = tw_uuid_v4(u);
        if (rc == TW_OK) {
            tw_uuid_format(u, c.uuid);
            c.created = now_us();
            rc = tw_store_collection_add(st, &c, &err);
        }
        if (rc == TW_OK) {
            json_t *arr = json_array();
            (void)collection_to_json(&c, arr);
            tw__hub_send_json(rs, 201, json_incref(json_array_get(arr, 0)));
            json_decref(arr);
        }
    } else {
        struct tw_collection c;
        struct tw_org o;
        const char *org_name = member(j, "org", TW_STORE_NAME_MAX);
        const char *group = member(j, "group", TW_STORE_NAME_MAX);
        const char *root = member(j, "root", 64);
        int64_t gid = 0;
        bool can_read = json_is_true(json_object_get(j, "read"));
        bool can_write = json_is_true(json_object_get(j, "write"));

        o.id = 0;
        if ((org_name == NULL) == (group == NULL)) {
            json_decref(j);
            tw__hub_send_error(rs, 400, "Bad request", "Give either org or group.");
            return;
        }
        rc = tw_store_collection_get(st, root ? root : "api", seg[2], &c, &err);
        if (rc == TW_OK && org_name != NULL)
            rc = tw_store_org_get(st, org_name, 0, &o, &err);
        if (rc == TW_OK && group != NULL)
            rc = tw_store_group_get(st, group, &gid, &err);
        if (rc == TW_OK)
            rc = tw_store_grant(st, c.id, org_name ? o.id : 0, gid, can_read, can_write, &err);
        if (rc == TW_OK)
            tw__hub_send_json(rs, 201,
                    json_pack("{s:s, s:s, s:b, s:b}", "collection", c.uuid,
                            org_name ? "org" : "group", org_name ? org_name : group, "read",
                            can_read, "write", can_write));
    }
    json_decref(j);
    if (rc != TW_OK)
        store_error(rs, rc, &err);
}

void tw__hub_admin(struct tw_store *st, const struct tw__caller *who, const struct tw_http_req *rq,
        const char *const *seg, size_t n_seg, struct tw_http_resp *rs)
{
    const char *what = n_seg >= 2 ? seg[1] : "";

    if (!who->admin && who->key->role < TW_ROLE_ORG_ADMIN) {
        forbidden(rs);
        return;
    }
    if (strcmp(what, "orgs") == 0 && n_seg == 2) {
        orgs(st, who, rq, rs);
    } else if (strcmp(what, "keys") == 0 && n_seg <= 3) {
        keys(st, who, rq, seg, n_seg, rs);
    } else if (!who->admin) {
        forbidden(rs);
    } else if (strcmp(what, "groups") == 0) {
        groups(st, rq, seg, n_seg, rs);
    } else if (strcmp(what, "collections") == 0) {
        collections(st, rq, seg, n_seg, rs);
    } else {
        tw__hub_send_error(rs, 404, "Not found", NULL);
    }
}

/* ==== Tally ==== */

static int tally_row(const struct tw_tally_row *r, void *arg)
{
    char first[TW_TIME_STRLEN], last[TW_TIME_STRLEN];
    struct tw_time t;

    t.sec = r->first_seen / 1000000;
    t.nsec = (uint32_t)(r->first_seen % 1000000) * 1000;
    (void)tw_time_format(&t, 3, first);
    t.sec = r->last_seen / 1000000;
    t.nsec = (uint32_t)(r->last_seen % 1000000) * 1000;
    (void)tw_time_format(&t, 3, last);
    json_array_append_new(arg, json_pack("{s:s, s:I, s:s, s:s, s:I}", "ref", r->ref,
                                       "organisations", (json_int_t)r->orgs, "first_seen", first,
                                       "last_seen", last, "count", (json_int_t)r->count));
    return 0;
}

void tw__hub_tally(struct tw_store *st, const struct tw__caller *who, struct tw_http_resp *rs)
{
    struct tw_viewer v;
    json_t *arr = json_array();

    memset(&v, 0, sizeof(v));
    v.org = who->org->id;
    v.key = who->key->id;
    v.max_tlp = TW_TLP_AMBER;
    v.all = who->admin;
    if (arr == NULL || tw_store_tally(st, &v, tally_row, arr, NULL) != TW_OK) {
        json_decref(arr);
        tw__hub_send_error(rs, 500, "Internal error", NULL);
        return;
    }
    tw__hub_send_json(rs, 200, json_pack("{s:o}", "tally", arr));
}
