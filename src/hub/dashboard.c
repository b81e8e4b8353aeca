/*
 * dashboard.c: GET /dashboard/, the hub's web page: who you are, the
 * collections you may read or write, the sightings tally you may see with
 * names, and for hub admins the organisations and keys. Server-rendered
 * HTML with no script; every value is escaped, and the page is served with
 * a Content-Security-Policy that allows nothing but its own inline style.
 * Browsers authenticate with HTTP Basic (any user name, the API key as the
 * password); the page shows only what the key could read over TAXII.
 */
#include <stdlib.h>
#include <string.h>

#include "hub_int.h"
#include "tidewatch/hub.h"
#include "tidewatch/time.h"
#include "tidewatch/tlp.h"

static const char *const role_names[] = { "", "reader", "contributor", "org-admin", "hub-admin" };

/* Appends s with &, <, >, " and ' escaped. */
static int esc(struct tw_buf *b, const char *s)
{
    int rc = TW_OK;

    for (; *s != '\0' && rc == TW_OK; s++) {
        switch (*s) {
            case '&':
                rc = tw_buf_puts(b, "&amp;");
                break;
            case '<':
                rc = tw_buf_puts(b, "&lt;");
                break;
            case '>':
                rc = tw_buf_puts(b, "&gt;");
                break;
            case '"':
                rc = tw_buf_puts(b, "&quot;");
                break;
            case '\'':
                rc = tw_buf_puts(b, "&#39;");
                break;
            default:
                rc = tw_buf_putc(b, *s);
        }
    }
    return rc;
}

struct page {
    struct tw_store *st;
    const struct tw__caller *who;
    struct tw_buf *b;
    json_t *names;    /* id -> name of objects the caller may see */
    json_t *readable; /* collection ids (text) the caller may read, with their audience flag */
    int rc;
};

static void put(struct page *p, const char *s)
{
    if (p->rc == TW_OK)
        p->rc = tw_buf_puts(p->b, s);
}

static void put_esc(struct page *p, const char *s)
{
    if (p->rc == TW_OK)
        p->rc = esc(p->b, s);
}

static int collection_row(const struct tw_collection *c, void *arg)
{
    struct page *p = arg;
    struct tw_access a;
    char id[24];

    if (p->who->admin) {
        a.can_read = a.can_write = a.in_audience = true;
    } else if (tw_store_access(p->st, c->id, p->who->org->id, &a, NULL) != TW_OK ||
               (!a.can_read && !a.can_write)) {
        return 0;
    }
    if (p->who->key->role < TW_ROLE_CONTRIBUTOR && !p->who->admin)
        a.can_write = false;
    if (a.can_read) {
        (void)snprintf(id, sizeof(id), "%lld", (long long)c->id);
        json_object_set_new(p->readable, id, json_boolean(a.in_audience));
    }
    put(p, "<tr><td>");
    put_esc(p, c->title);
    put(p, "</td><td><code>/");
    put_esc(p, c->root);
    put(p, "/collections/");
    put_esc(p, c->alias[0] ? c->alias : c->uuid);
    put(p, "/</code></td><td>");
    put_esc(p, tw_tlp_name((enum tw_tlp)c->default_tlp));
    put(p, "</td><td>");
    put(p, a.can_read ? (a.in_audience ? "read (AMBER audience)" : "read (CLEAR, GREEN)") : "");
    put(p, a.can_read && a.can_write ? ", " : "");
    put(p, a.can_write ? "write" : "");
    put(p, "</td></tr>\n");
    return 0;
}

/* Collects names of visible objects, to show the tally with them. */
static int name_row(const struct tw_obj_row *r, void *arg)
{
    struct page *p = arg;
    json_error_t e;
    json_t *o = json_loadb(r->json, r->json_len, 0, &e);
    const char *name = json_string_value(json_object_get(o, "name"));

    if (name != NULL)
        json_object_set_new(p->names, r->id, json_string(name));
    json_decref(o);
    return 0;
}

/* Collects the tally rows first, so their names can be looked up by id. */
static int tally_collect(const struct tw_tally_row *r, void *arg)
{
    json_array_append_new(
            arg, json_pack("{s:s, s:I, s:I, s:I, s:I}", "ref", r->ref, "orgs", (json_int_t)r->orgs,
                         "count", (json_int_t)r->count, "first", (json_int_t)r->first_seen, "last",
                         (json_int_t)r->last_seen));
    return 0;
}

/* Names of the tally's refs, from the collections the caller may read (by id, 64 at a time). */
static void collect_names(struct page *p, const json_t *rows)
{
    const char *key;
    json_t *aud;

    json_object_foreach(p->readable, key, aud)
    {
        for (size_t start = 0; start < json_array_size(rows); start += TW_STORE_MAX_MATCH) {
            const char *ids[TW_STORE_MAX_MATCH];
            struct tw_obj_query q;
            size_t n = 0;
            bool more;

            for (size_t i = start; i < json_array_size(rows) && n < TW_STORE_MAX_MATCH; i++)
                ids[n++] = json_string_value(json_object_get(json_array_get(rows, i), "ref"));
            memset(&q, 0, sizeof(q));
            q.collection = strtoll(key, NULL, 10);
            q.viewer.org = p->who->org->id;
            q.viewer.key = p->who->key->id;
            q.viewer.max_tlp = json_is_true(aud) ? TW_TLP_AMBER : TW_TLP_GREEN;
            q.viewer.all = p->who->admin;
            q.ids = ids;
            q.n_ids = n;
            q.limit = n;
            q.with_json = true;
            (void)tw_store_objects_query(p->st, &q, name_row, p, &more, NULL);
        }
    }
}

static void tally_row(struct page *p, const json_t *row)
{
    const char *ref = json_string_value(json_object_get(row, "ref"));
    const char *name = json_string_value(json_object_get(p->names, ref));
    char line[256], first[TW_TIME_STRLEN], last[TW_TIME_STRLEN];
    struct tw_time t = { json_integer_value(json_object_get(row, "first")) / 1000000, 0, 0 };

    (void)tw_time_format(&t, 0, first);
    t.sec = json_integer_value(json_object_get(row, "last")) / 1000000;
    (void)tw_time_format(&t, 0, last);
    put(p, "<tr><td>");
    put_esc(p, name != NULL ? name : ref);
    put(p, "</td><td><code>");
    put_esc(p, ref);
    (void)snprintf(line, sizeof(line),
            "</code></td><td>%lld</td><td>%lld</td><td>%s</td><td>%s</td></tr>\n",
            (long long)json_integer_value(json_object_get(row, "orgs")),
            (long long)json_integer_value(json_object_get(row, "count")), first, last);
    put(p, line);
}

static int org_row(const struct tw_org *o, void *arg)
{
    struct page *p = arg;

    put(p, "<tr><td>");
    put_esc(p, o->name);
    put(p, "</td><td>");
    put_esc(p, o->sector);
    put(p, "</td><td><code>");
    put_esc(p, o->identity_id);
    put(p, o->disclose_sightings ? "</code></td><td>yes</td></tr>\n"
                                 : "</code></td><td>no</td></tr>\n");
    return 0;
}

static int key_row(const struct tw_key *k, void *arg)
{
    struct page *p = arg;
    char line[128];

    put(p, "<tr><td><code>");
    put_esc(p, k->key_id);
    (void)snprintf(line, sizeof(line), "</code></td><td>%lld</td><td>%s</td><td>%s</td><td>",
            (long long)k->org, role_names[k->role], k->revoked ? "revoked" : "live");
    put(p, line);
    put_esc(p, k->label);
    put(p, "</td></tr>\n");
    return 0;
}

void tw__hub_dashboard(struct tw_store *st, const struct tw__caller *who, const char *title,
        struct tw_http_resp *rs)
{
    struct page p = { st, who, &rs->body, json_object(), json_object(), TW_OK };
    struct tw_viewer v;
    json_t *tally_rows;

    tw_buf_reset(&rs->body);
    put(&p, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    put_esc(&p, title);
    put(&p, "</title><style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}"
            "table{border-collapse:collapse;margin:0 0 2em}td,th{border-bottom:1px solid #ddd;"
            "padding:.3em .8em;text-align:left}th{background:#f4f4f4}code{font-size:12px}"
            "</style></head><body>\n<h1>");
    put_esc(&p, title);
    put(&p, "</h1>\n<p>Signed in as <b>");
    put_esc(&p, who->org->name);
    put(&p, "</b> (");
    put_esc(&p, who->org->sector);
    put(&p, "), key <code>");
    put_esc(&p, who->key->key_id);
    put(&p, "</code>, role ");
    put(&p, role_names[who->key->role]);
    put(&p, ". This page shows what your key may read over TAXII 2.1, no more.</p>\n");

    put(&p, "<h2>Collections</h2>\n<table><tr><th>title</th><th>TAXII path</th><th>objects "
            "without a marking</th><th>your access</th></tr>\n");
    if (tw_store_collection_each(st, NULL, collection_row, &p, NULL) != TW_OK)
        p.rc = TW_EDB;
    put(&p, "</table>\n");

    memset(&v, 0, sizeof(v));
    v.org = who->org->id;
    v.key = who->key->id;
    v.max_tlp = TW_TLP_AMBER;
    v.all = who->admin;
    tally_rows = json_array();
    if (tally_rows == NULL || tw_store_tally(st, &v, tally_collect, tally_rows, NULL) != TW_OK)
        p.rc = TW_EDB;
    collect_names(&p, tally_rows);
    put(&p, "<h2>Sightings tally</h2>\n<p>Distinct organisations that reported sightings, "
            "per indicator and per intrusion set or campaign an <i>indicates</i> relationship "
            "links it to; only sightings you may see are counted.</p>\n<table><tr><th>name</th>"
            "<th>id</th><th>organisations</th><th>sightings</th><th>first seen</th><th>last "
            "seen</th></tr>\n");
    for (size_t i = 0; i < json_array_size(tally_rows); i++)
        tally_row(&p, json_array_get(tally_rows, i));
    json_decref(tally_rows);
    put(&p, "</table>\n");

    if (who->admin) {
        put(&p, "<h2>Organisations</h2>\n<table><tr><th>name</th><th>sector</th><th>STIX "
                "identity</th><th>discloses its sightings</th></tr>\n");
        if (tw_store_org_each(st, org_row, &p, NULL) != TW_OK)
            p.rc = TW_EDB;
        put(&p, "</table>\n<h2>API keys</h2>\n<table><tr><th>key id</th><th>organisation</th>"
                "<th>role</th><th>state</th><th>label</th></tr>\n");
        if (tw_store_key_each(st, -1, key_row, &p, NULL) != TW_OK)
            p.rc = TW_EDB;
        put(&p, "</table>\n");
    }
    put(&p, "<p><small>tidewatch hub &middot; TLP enforced by the server &middot; every request "
            "is in the hash-chained access log</small></p>\n</body></html>\n");
    json_decref(p.names);
    json_decref(p.readable);
    if (p.rc != TW_OK) {
        tw__hub_send_error(rs, 500, "Internal error", NULL);
        return;
    }
    rs->status = 200;
    rs->content_type = "text/html; charset=utf-8";
    tw_http_resp_header(rs, "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
}
