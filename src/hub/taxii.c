/*
 * taxii.c: the protocol half of the hub: one HTTP request in, one TAXII 2.1
 * response out (hub.h, docs/internals/HUB.md).
 *
 * Every request is authenticated first (no endpoint is public), then rate
 * limited per key, then routed. Collections the caller can neither read nor
 * write do not exist for it (404, the same answer as a collection that does
 * not exist). Which objects exist for a caller is decided by the store from
 * struct tw_viewer, inside the page query, so a page is never filtered after
 * the fact and never comes back short while more visible objects remain.
 * Every request leaves one access log record; AMBER, AMBER+STRICT and RED
 * objects returned are named in it.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hub_int.h"
#include "taxii_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/arena.h"
#include "tidewatch/hash.h"
#include "tidewatch/hub.h"
#include "tidewatch/log.h"
#include "tidewatch/stix.h"
#include "tidewatch/time.h"
#include "tidewatch/tlp.h"

#define TAXII_MEDIA "application/taxii+json;version=2.1"
#define STIX_MEDIA  "application/stix+json;version=2.1"

/* The identity that stands for a reporter who did not opt in (UUIDv5, fixed). */
#define ANON_IDENTITY "identity--5d1f6f07-0a4b-5c3a-9d3e-7469646577a1"

/* ==== Responses ==== */

/* A JSON value as the response body (consumed). */
void tw__hub_send_json(struct tw_http_resp *rs, int status, json_t *j)
{
    char *s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

    tw_buf_reset(&rs->body);
    rs->status = status;
    rs->content_type = TAXII_MEDIA;
    if (s == NULL || tw_buf_puts(&rs->body, s) != TW_OK) {
        tw_buf_reset(&rs->body);
        rs->status = 500;
        if (tw_buf_puts(&rs->body, "{\"title\":\"Internal error\",\"http_status\":\"500\"}") !=
                TW_OK)
            tw_buf_reset(&rs->body); /* an empty 500 then */
    }
    free(s);
    json_decref(j);
}

/* A TAXII error message (section 3.6.1). */
void tw__hub_send_error(struct tw_http_resp *rs, int status, const char *title, const char *desc)
{
    char code[8];
    json_t *j = json_object();

    (void)snprintf(code, sizeof(code), "%d", status);
    if (j != NULL) {
        json_object_set_new(j, "title", json_string(title));
        if (desc != NULL && *desc != '\0')
            json_object_set_new(j, "description", json_string(desc));
        json_object_set_new(j, "http_status", json_string(code));
    }
    tw__hub_send_json(rs, status, j);
}

static void not_found(struct tw_http_resp *rs)
{
    tw__hub_send_error(
            rs, 404, "Not found", "The resource does not exist or is not visible to you.");
}

/* ==== Per-request state ==== */

struct req {
    struct tw_hub *hub;
    struct tw_store *st;
    const struct tw_http_req *rq;
    struct tw_http_resp *rs;
    struct tw_arena arena;
    struct tw_key key;
    struct tw_org org;
    bool authed;
    bool admin;               /* hub admin: sees everything */
    bool government;          /* a government organisation: sees who reported sightings */
    struct tw_buf logged_ids; /* ids of AMBER+ objects returned */
    bool log_overflow;        /* too many to name: the request is refused */
    /* the path, split at '/' */
    const char *seg[8];
    size_t n_seg;
};

static void log_id(struct req *r, const char *id, uint8_t tlp)
{
    if (tlp < TW_TLP_AMBER)
        return;
    if ((r->logged_ids.len > 0 && tw_buf_putc(&r->logged_ids, ' ') != TW_OK) ||
            tw_buf_puts(&r->logged_ids, id) != TW_OK)
        r->log_overflow = true;
}

/* Splits the path into segments; false when it does not end with '/'. */
static bool split_path(struct req *r)
{
    const char *p = r->rq->path;
    size_t n = strlen(p);
    char *copy;

    if (n == 0 || p[0] != '/' || p[n - 1] != '/')
        return false;
    copy = tw_arena_alloc(&r->arena, n + 1);
    if (copy == NULL)
        return false;
    memcpy(copy, p, n + 1);
    r->n_seg = 0;
    for (char *s = copy + 1; *s != '\0';) {
        char *slash = strchr(s, '/');
        if (slash == s || r->n_seg == TW_ARRAY_LEN(r->seg))
            return false; /* "//" or too deep */
        *slash = '\0';
        r->seg[r->n_seg++] = s;
        s = slash + 1;
    }
    return true;
}

/* ==== Discovery, API roots, collections ==== */

static int root_to_json(const struct tw_api_root *root, void *arg)
{
    char url[80];

    (void)snprintf(url, sizeof(url), "/%s/", root->name);
    json_array_append_new(arg, json_string(url));
    return 0;
}

static void get_discovery(struct req *r)
{
    json_t *j = json_object(), *roots = json_array();

    if (j == NULL || roots == NULL ||
            tw_store_root_each(r->st, root_to_json, roots, NULL) != TW_OK) {
        json_decref(j);
        json_decref(roots);
        tw__hub_send_error(r->rs, 500, "Internal error", NULL);
        return;
    }
    json_object_set_new(j, "title", json_string(r->hub->cfg.title));
    json_object_set_new(j, "description",
            json_string("tidewatch sharing hub: TLP enforced by the server on every object"));
    if (json_array_size(roots) > 0) {
        json_object_set(j, "default", json_array_get(roots, 0));
        json_object_set_new(j, "api_roots", roots);
    } else {
        json_decref(roots);
    }
    tw__hub_send_json(r->rs, 200, j);
}

static void get_root(struct req *r, const struct tw_api_root *root)
{
    json_t *j = json_object();

    json_object_set_new(j, "title", json_string(root->title));
    if (root->description[0] != '\0')
        json_object_set_new(j, "description", json_string(root->description));
    json_object_set_new(j, "versions", json_pack("[s]", TAXII_MEDIA));
    json_object_set_new(j, "max_content_length", json_integer((json_int_t)r->hub->cfg.max_body));
    tw__hub_send_json(r->rs, 200, j);
}

/* What the caller may do with a collection; false when it does not exist for it. */
static bool collection_access(struct req *r, const struct tw_collection *c, struct tw_access *a)
{
    if (r->admin) {
        a->can_read = a->can_write = a->in_audience = true;
        return true;
    }
    if (tw_store_access(r->st, c->id, r->org.id, a, NULL) != TW_OK)
        return false;
    if (r->key.role < TW_ROLE_CONTRIBUTOR)
        a->can_write = false;
    return a->can_read || a->can_write;
}

static json_t *collection_json(const struct tw_collection *c, const struct tw_access *a)
{
    json_t *j = json_object();

    json_object_set_new(j, "id", json_string(c->uuid));
    json_object_set_new(j, "title", json_string(c->title));
    if (c->description[0] != '\0')
        json_object_set_new(j, "description", json_string(c->description));
    if (c->alias[0] != '\0')
        json_object_set_new(j, "alias", json_string(c->alias));
    json_object_set_new(j, "can_read", json_boolean(a->can_read));
    json_object_set_new(j, "can_write", json_boolean(a->can_write));
    json_object_set_new(j, "media_types", json_pack("[s]", STIX_MEDIA));
    return j;
}

struct coll_list {
    struct req *r;
    json_t *arr;
};

static int collection_to_json(const struct tw_collection *c, void *arg)
{
    struct coll_list *cl = arg;
    struct tw_access a;

    if (collection_access(cl->r, c, &a))
        json_array_append_new(cl->arr, collection_json(c, &a));
    return 0;
}

static void get_collections(struct req *r, const struct tw_api_root *root)
{
    struct coll_list cl = { r, json_array() };
    json_t *j = json_object();

    if (tw_store_collection_each(r->st, root->name, collection_to_json, &cl, NULL) != TW_OK) {
        json_decref(cl.arr);
        json_decref(j);
        tw__hub_send_error(r->rs, 500, "Internal error", NULL);
        return;
    }
    if (json_array_size(cl.arr) > 0)
        json_object_set_new(j, "collections", cl.arr);
    else
        json_decref(cl.arr); /* empty lists are omitted (5.1.1) */
    tw__hub_send_json(r->rs, 200, j);
}

/* ==== Objects, manifests, versions ==== */

/* Fills a store query from the TAXII filters and the caller. */
static void make_query(struct req *r, const struct tw_collection *c, const struct tw_access *a,
        const struct tw_taxii_query *tq, struct tw_obj_query *q)
{
    size_t cap = r->hub->cfg.max_page;

    memset(q, 0, sizeof(*q));
    q->collection = c->id;
    q->viewer.org = r->org.id;
    q->viewer.key = r->key.id;
    q->viewer.max_tlp = a->in_audience ? TW_TLP_AMBER : TW_TLP_GREEN;
    q->viewer.all = r->admin;
    q->added_after = tq->has_added_after ? tq->added_after : 0;
    q->after_date = tq->has_next ? tq->after_date : 0;
    q->after_seq = tq->has_next ? tq->after_seq : 0;
    q->ids = (const char *const *)tq->ids;
    q->n_ids = tq->n_ids;
    q->types = (const char *const *)tq->types;
    q->n_types = tq->n_types;
    q->versions = tq->versions;
    q->version_list = (const char *const *)tq->version_list;
    q->n_version_list = tq->n_version_list;
    q->spec_versions = (const char *const *)tq->spec_versions;
    q->n_spec_versions = tq->n_spec_versions;
    q->limit = tq->limit == 0 ? TW_MIN((size_t)TW_HUB_DEFAULT_PAGE, cap) : TW_MIN(tq->limit, cap);
}

/* What a page callback collects. */
struct page {
    struct req *r;
    struct tw_buf items; /* the list's members, comma-separated JSON text */
    int mode;            /* 0 objects, 1 manifest, 2 versions */
    int64_t first, last, last_seq;
    size_t n;
    json_t *disclose; /* org id (text) -> true/false cache for sightings */
    int rc;
};

/* Reporter identity of a sighting as this caller may see it. */
static bool may_see_reporter(struct page *pg, const struct tw_obj_row *row)
{
    struct req *r = pg->r;
    char key[24];
    json_t *cached;
    struct tw_org o;
    bool ok;

    if (r->admin || r->government || row->producer == r->org.id)
        return true;
    (void)snprintf(key, sizeof(key), "%lld", (long long)row->producer);
    cached = json_object_get(pg->disclose, key);
    if (cached != NULL)
        return json_is_true(cached);
    ok = tw_store_org_get(r->st, NULL, row->producer, &o, NULL) == TW_OK && o.disclose_sightings;
    json_object_set_new(pg->disclose, key, json_boolean(ok));
    return ok;
}

/* Appends s as a JSON string with its quotes. */
static int json_quoted(struct tw_buf *b, const char *s)
{
    int rc = tw_buf_putc(b, '"');

    if (rc == TW_OK)
        rc = tw_buf_json_escape(b, s, strlen(s));
    return rc == TW_OK ? tw_buf_putc(b, '"') : rc;
}

/* Appends a sighting with its reporter replaced by the anonymous identity. */
static int append_anonymous(struct tw_buf *b, const struct tw_obj_row *row)
{
    json_error_t e;
    json_t *item = json_loadb(row->json, row->json_len, 0, &e);
    char *text;
    int rc;

    if (item == NULL)
        return TW_EDB;
    json_object_set_new(item, "created_by_ref", json_string(ANON_IDENTITY));
    if (json_object_get(item, "where_sighted_refs") != NULL)
        json_object_set_new(item, "where_sighted_refs", json_pack("[s]", ANON_IDENTITY));
    text = json_dumps(item, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(item);
    rc = text != NULL ? tw_buf_puts(b, text) : TW_ENOMEM;
    free(text);
    return rc;
}

/*
 * One row into the page. Stored objects are compact JSON written by the hub
 * itself, so they are spliced into the envelope as text; only sightings whose
 * reporter must be hidden are parsed and rewritten.
 */
static int page_row(const struct tw_obj_row *row, void *arg)
{
    struct page *pg = arg;
    struct tw_buf *b = &pg->items;
    int rc = TW_OK;

    if (pg->n == 0)
        pg->first = row->date_added;
    else
        rc = tw_buf_putc(b, ',');
    pg->last = row->date_added;
    pg->last_seq = row->seq;
    pg->n++;
    log_id(pg->r, row->id, row->tlp);
    if (rc != TW_OK) {
        /* fall through to the error below */
    } else if (pg->mode == 0) {
        if (strcmp(row->type, "sighting") == 0 && !may_see_reporter(pg, row))
            rc = append_anonymous(b, row);
        else
            rc = tw_buf_append(b, row->json, row->json_len);
    } else if (pg->mode == 2) {
        rc = json_quoted(b, row->version);
    } else {
        char date[TW_TIME_STRLEN];

        tw__taxii_time(row->date_added, date);
        rc = tw_buf_puts(b, "{\"id\":");
        if (rc == TW_OK)
            rc = json_quoted(b, row->id);
        if (rc == TW_OK)
            rc = tw_buf_printf(b, ",\"date_added\":\"%s\",\"version\":", date);
        if (rc == TW_OK)
            rc = json_quoted(b, row->version);
        if (rc == TW_OK)
            rc = tw_buf_puts(b, ",\"media_type\":\"" STIX_MEDIA "\"}");
    }
    pg->rc = rc;
    return rc;
}

/* Runs a page query and answers with an envelope, a manifest or versions. */
static void send_page(struct req *r, struct tw_obj_query *q, int mode, bool must_exist)
{
    struct page pg;
    struct tw_http_resp *rs = r->rs;
    bool more = false;
    int rc;

    memset(&pg, 0, sizeof(pg));
    pg.r = r;
    pg.mode = mode;
    pg.disclose = json_object();
    tw_buf_init(&pg.items, rs->body.max);
    q->with_json = mode == 0;
    /* Room for a page of typical objects at once, rather than growing by doubling. */
    if (mode == 0 && tw_buf_reserve(&pg.items, TW_MIN(q->limit, (size_t)1000) * 1024) != TW_OK)
        tw_buf_reset(&pg.items); /* no room at once: it grows row by row */
    rc = tw_store_objects_query(r->st, q, page_row, &pg, &more, NULL);
    json_decref(pg.disclose);
    if (rc != TW_OK || pg.rc != TW_OK) {
        tw_buf_cleanup(&pg.items);
        tw__hub_send_error(rs, 500, "Internal error", NULL);
        return;
    }
    if (must_exist && pg.n == 0) {
        tw_buf_cleanup(&pg.items);
        not_found(rs);
        return;
    }
    tw_buf_reset(&rs->body);
    rc = tw_buf_reserve(&rs->body, pg.items.len + 128);
    if (rc == TW_OK)
        rc = tw_buf_putc(&rs->body, '{');
    if (rc == TW_OK && (pg.n > 0 || more))
        rc = tw_buf_puts(&rs->body, more ? "\"more\":true" : "\"more\":false");
    if (rc == TW_OK && more) {
        char next[48];
        if (tw__taxii_cursor_format(pg.last, pg.last_seq, next, sizeof(next)) == TW_OK)
            rc = tw_buf_printf(&rs->body, ",\"next\":\"%s\"", next);
    }
    if (rc == TW_OK && pg.n > 0) {
        char t[TW_TIME_STRLEN];

        rc = tw_buf_printf(&rs->body, ",\"%s\":[", mode == 2 ? "versions" : "objects");
        if (rc == TW_OK)
            rc = tw_buf_append(&rs->body, pg.items.ptr, pg.items.len);
        if (rc == TW_OK)
            rc = tw_buf_putc(&rs->body, ']');
        tw__taxii_time(pg.first, t);
        tw_http_resp_header(rs, "X-TAXII-Date-Added-First", t);
        tw__taxii_time(pg.last, t);
        tw_http_resp_header(rs, "X-TAXII-Date-Added-Last", t);
    }
    if (rc == TW_OK)
        rc = tw_buf_putc(&rs->body, '}');
    tw_buf_cleanup(&pg.items);
    if (rc != TW_OK) {
        rs->n_headers = 0;
        tw__hub_send_error(rs, 500, "Internal error", "The page does not fit the response.");
        return;
    }
    rs->status = 200;
    rs->content_type = TAXII_MEDIA;
}

/* ==== Adding objects (5.5) ==== */

/* AMBER+STRICT recipients: organisations named by identity id or by name. */
struct org_map {
    json_t *by_name; /* identity id / name -> org id */
};

static int map_org(const struct tw_org *o, void *arg)
{
    struct org_map *m = arg;

    json_object_set_new(m->by_name, o->name, json_integer(o->id));
    if (o->identity_id[0] != '\0')
        json_object_set_new(m->by_name, o->identity_id, json_integer(o->id));
    return 0;
}

/* Reads a list of strings under `prop` into ids via `resolve`; -1 when one is unknown. */
static long recipients(
        struct req *r, const json_t *obj, const char *prop, json_t *orgs, int64_t **out)
{
    const json_t *list = json_object_get(obj, prop), *v;
    size_t i, n = json_array_size(list);
    int64_t *ids;

    *out = NULL;
    if (n == 0)
        return 0;
    ids = tw_arena_alloc(&r->arena, n * sizeof(*ids));
    if (ids == NULL)
        return -1;
    json_array_foreach(list, i, v)
    {
        const char *s = json_string_value(v);
        if (s == NULL)
            return -1;
        if (orgs != NULL) {
            json_t *id = json_object_get(orgs, s);
            if (id == NULL)
                return -1;
            ids[i] = json_integer_value(id);
        } else {
            struct tw_key k;
            if (tw_store_key_get(r->st, s, &k, NULL) != TW_OK)
                return -1;
            ids[i] = k.id;
        }
    }
    *out = ids;
    return (long)n;
}

static int64_t stix_time_us(const json_t *obj, const char *prop)
{
    const char *s = json_string_value(json_object_get(obj, prop));
    struct tw_time t;

    if (s == NULL || tw_time_parse(tw_str_cstr(s), 0, &t, NULL) != TW_OK)
        return 0;
    return t.sec * 1000000 + t.nsec / 1000;
}

static const char *version_of(const struct tw_stix_object *o)
{
    const char *v = json_string_value(json_object_get(o->json, "modified"));

    if (v == NULL)
        v = json_string_value(json_object_get(o->json, "created"));
    return v != NULL ? v : "";
}

/* Appends s as a JSON string exactly as jansson's json_dumps writes one. */
static int jansson_string(struct tw_buf *b, const char *s)
{
    size_t run = 0, i;
    int rc = tw_buf_putc(b, '"');

    for (i = 0; rc == TW_OK && s[i] != '\0'; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[8];

        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        switch (ch) {
            case '"':
            case '\\':
                esc[0] = '\\';
                esc[1] = (char)ch;
                esc[2] = '\0';
                break;
            case '\b':
                memcpy(esc, "\\b", 3);
                break;
            case '\f':
                memcpy(esc, "\\f", 3);
                break;
            case '\n':
                memcpy(esc, "\\n", 3);
                break;
            case '\r':
                memcpy(esc, "\\r", 3);
                break;
            case '\t':
                memcpy(esc, "\\t", 3);
                break;
            default:
                (void)snprintf(esc, sizeof(esc), "\\u%04X", ch);
                break;
        }
        rc = tw_buf_append(b, s + run, i - run);
        if (rc == TW_OK)
            rc = tw_buf_puts(b, esc);
        run = i + 1;
    }
    if (rc == TW_OK)
        rc = tw_buf_append(b, s + run, i - run);
    return rc == TW_OK ? tw_buf_putc(b, '"') : rc;
}

/* Appends one success of a status, {"id":...,"version":...}, after a comma unless first. */
static int success_text(struct tw_buf *b, bool first, const char *id, const char *version)
{
    int rc = tw_buf_puts(b, first ? "{\"id\":" : ",{\"id\":");

    if (rc == TW_OK)
        rc = jansson_string(b, id != NULL ? id : "");
    if (rc == TW_OK)
        rc = tw_buf_puts(b, ",\"version\":");
    if (rc == TW_OK)
        rc = jansson_string(b, version);
    return rc == TW_OK ? tw_buf_putc(b, '}') : rc;
}

static void status_detail(json_t *list, const char *id, const char *version, const char *msg)
{
    json_t *d = json_pack("{s:s, s:s}", "id", id != NULL ? id : "", "version", version);

    if (d != NULL && msg != NULL)
        json_object_set_new(d, "message", json_string(msg));
    json_array_append_new(list, d);
}

/* Members of every object in v (duplicates merged, as parsed); SIZE_MAX when too deep to count. */
static size_t tree_members(const json_t *v, int depth)
{
    size_t n = 0;
    const json_t *x;

    if (depth > TW_TAXII_SPAN_DEPTH)
        return SIZE_MAX;
    if (json_is_object(v)) {
        const char *k;

        json_object_foreach((json_t *)(uintptr_t)v, k, x)
        {
            size_t m = tree_members(x, depth + 1);

            if (m == SIZE_MAX)
                return SIZE_MAX;
            n += 1 + m;
        }
    } else if (json_is_array(v)) {
        size_t i;

        json_array_foreach(v, i, x)
        {
            size_t m = tree_members(x, depth + 1);

            if (m == SIZE_MAX)
                return SIZE_MAX;
            n += m;
        }
    }
    return n;
}

/*
 * The text stored for the valid object o, element `elem` of the envelope's
 * objects: what json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER) writes for
 * it. GET returns this text as it is, and a later POST of the same version
 * is a duplicate only when its text is the same bytes, so every POST must
 * give the same bytes for the same object. When the scan of the body
 * vouches for the element's own bytes (sp, see taxii_int.h), and its
 * members are those of the parsed object (no duplicate key), those bytes
 * are that text once the whitespace between tokens is dropped: they are
 * used as they are, or compacted into the arena, instead of serialising
 * the tree again. Returns TW_ENOMEM when there is no room.
 */
static int object_text(struct req *r, const struct tw_stix_object *o, const json_t *elem,
        const struct tw_taxii_span *sp, const char **out, size_t *len)
{
    char *text, *copy;

    if (sp != NULL && sp->canonical && elem == o->json && json_is_object(o->json) &&
            tree_members(o->json, 0) == sp->n_members) {
        const char *src = r->rq->body + sp->off;

        if (!sp->has_space) {
            *out = src;
            *len = sp->len;
            return TW_OK;
        }
        copy = tw_arena_alloc(&r->arena, sp->len);
        if (copy == NULL)
            return TW_ENOMEM;
        *len = tw__taxii_compact(src, sp->len, copy);
        *out = copy;
        return TW_OK;
    }
    text = json_dumps(o->json, JSON_COMPACT | JSON_PRESERVE_ORDER);
    *len = text != NULL ? strlen(text) : 0;
    copy = text != NULL ? tw_arena_alloc(&r->arena, *len + 1) : NULL;
    if (copy != NULL)
        memcpy(copy, text, *len + 1);
    free(text);
    *out = copy;
    return copy != NULL ? TW_OK : TW_ENOMEM;
}

static void post_objects(struct req *r, const struct tw_collection *c)
{
    const struct tw_http_req *rq = r->rq;
    struct tw_stix_bundle *b = NULL;
    struct org_map om = { json_object() };
    struct tw_obj_in *in = NULL;
    enum tw_obj_result *res = NULL;
    struct tw_taxii_span *spans = NULL;
    const json_t *objects;
    size_t n, n_in = 0, *map = NULL;
    json_t *fail = json_array();
    struct tw_buf succ, details, *body;
    size_t n_succ = 0;
    char *fail_text = NULL;
    int rc;
    struct tw_err err;
    struct tw_time now = tw_time_now();
    int64_t now_us = now.sec * 1000000 + now.nsec / 1000;
    struct tw_status_rec sr;
    uint8_t uuid[16];
    char ts[TW_TIME_STRLEN];

    tw_buf_init(&succ, r->rs->body.max);
    tw_buf_init(&details, r->rs->body.max);
    if (rq->body_too_large) {
        tw__hub_send_error(r->rs, 413, "Request too large", "The body exceeds max_content_length.");
        goto out;
    }
    if (!tw__taxii_content_type_ok(rq->content_type)) {
        tw__hub_send_error(
                r->rs, 415, "Unsupported media type", "Send application/taxii+json;version=2.1.");
        goto out;
    }
    if (tw_stix_read_mem(rq->body != NULL ? rq->body : "", rq->body_len, "request", 0, &b, &err) !=
            TW_OK) {
        tw__hub_send_error(r->rs, 422, "Unprocessable envelope", err.msg);
        goto out;
    }
    objects = json_object_get(tw_stix_bundle_json(b), "objects");
    if (!json_is_array(objects)) {
        tw__hub_send_error(
                r->rs, 422, "Unprocessable envelope", "The body is not a TAXII envelope.");
        goto out;
    }
    n = tw_stix_bundle_count(b);
    /* The objects' own bytes, when the scan finds exactly the elements jansson parsed. */
    spans = n > 0 ? tw_arena_alloc(&r->arena, n * sizeof(*spans)) : NULL;
    if (spans != NULL &&
            (json_array_size(objects) != n ||
                    tw__taxii_object_spans(rq->body, rq->body_len, spans, n) != (long)n))
        spans = NULL;
    in = tw_calloc(n ? n : 1, sizeof(*in));
    res = tw_calloc(n ? n : 1, sizeof(*res));
    map = tw_calloc(n ? n : 1, sizeof(*map));
    if (in == NULL || res == NULL || map == NULL || om.by_name == NULL ||
            tw_store_org_each(r->st, map_org, &om, NULL) != TW_OK) {
        tw__hub_send_error(r->rs, 500, "Internal error", NULL);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const struct tw_stix_object *o = tw_stix_bundle_object(b, i);
        struct tw_obj_in *x = &in[n_in];
        const char *msg = NULL;
        long nr;
        int64_t *ids;

        if (!o->valid) {
            char why[320];
            for (size_t p = 0; p < tw_stix_bundle_n_problems(b) && msg == NULL; p++) {
                const struct tw_stix_problem *pr = tw_stix_bundle_problem(b, p);
                if (pr->index == i && pr->severity == TW_STIX_ERROR) {
                    (void)snprintf(why, sizeof(why), "%s (%s)", pr->msg, pr->path);
                    msg = why;
                }
            }
            status_detail(fail, o->id, version_of(o), msg != NULL ? msg : "invalid object");
            continue;
        }
        if (object_text(r, o, json_array_get(objects, i), spans != NULL ? &spans[i] : NULL,
                    &x->json, &x->json_len) != TW_OK) {
            status_detail(fail, o->id, version_of(o), "out of memory");
            continue;
        }
        x->id = o->id;
        x->type = o->type;
        x->spec_version = json_string_value(json_object_get(o->json, "spec_version"));
        if (x->spec_version == NULL)
            x->spec_version = "2.1";
        x->version = version_of(o);
        x->tlp = o->tlp != TW_TLP_NONE ? (uint8_t)o->tlp : c->default_tlp;
        if (x->tlp == TW_TLP_AMBER_STRICT) {
            nr = recipients(r, o->json, "x_tidewatch_recipients", om.by_name, &ids);
            if (nr < 0) {
                status_detail(fail, o->id, x->version,
                        "x_tidewatch_recipients names an organisation the hub does not know");
                continue;
            }
            x->recipient_orgs = ids;
            x->n_recipient_orgs = (size_t)nr;
        } else if (x->tlp == TW_TLP_RED) {
            nr = recipients(r, o->json, "x_tidewatch_recipient_keys", NULL, &ids);
            if (nr < 0) {
                status_detail(fail, o->id, x->version,
                        "x_tidewatch_recipient_keys names a key the hub does not know");
                continue;
            }
            x->recipient_keys = ids;
            x->n_recipient_keys = (size_t)nr;
        }
        if (strcmp(o->type, "sighting") == 0) {
            json_int_t cnt = json_integer_value(json_object_get(o->json, "count"));
            x->sighting_of = json_string_value(json_object_get(o->json, "sighting_of_ref"));
            x->first_seen = stix_time_us(o->json, "first_seen");
            x->last_seen = stix_time_us(o->json, "last_seen");
            x->count = json_object_get(o->json, "count") != NULL ? cnt : 1;
        }
        map[n_in++] = i;
    }
    if (n_in > 0 && tw_store_objects_add(r->st, c->id, r->org.id, r->key.id, now_us, in, n_in, res,
                            &err) != TW_OK) {
        tw__hub_send_error(r->rs, 500, "Internal error", "The objects could not be stored.");
        goto out;
    }
    /*
     * The successes (most of a status) are written as text, the few failures
     * with jansson; both exactly as json_dumps wrote the whole status.
     */
    rc = tw_buf_putc(&succ, '[');
    for (size_t k = 0; k < n_in && rc == TW_OK; k++) {
        if (res[k] == TW_OBJ_CONFLICT)
            status_detail(fail, in[k].id, in[k].version,
                    "this version exists with other content; change modified");
        else
            rc = success_text(&succ, n_succ++ == 0, in[k].id, in[k].version);
    }
    if (rc == TW_OK)
        rc = tw_buf_putc(&succ, ']');
    fail_text = json_dumps(fail, JSON_COMPACT | JSON_PRESERVE_ORDER);
    memset(&sr, 0, sizeof(sr));
    if (rc != TW_OK || fail_text == NULL || tw_uuid_v4(uuid) != TW_OK) {
        tw__hub_send_error(r->rs, 500, "Internal error", NULL);
        goto out;
    }
    tw_uuid_format(uuid, sr.id);
    sr.collection = c->id;
    sr.org = r->org.id;
    sr.request_time = now_us;
    sr.total = n;
    sr.success = n_succ;
    sr.failure = json_array_size(fail);
    rc = tw_buf_puts(&details, "{\"successes\":");
    if (rc == TW_OK)
        rc = tw_buf_append(&details, succ.ptr, succ.len);
    if (rc == TW_OK)
        rc = tw_buf_puts(&details, ",\"failures\":");
    if (rc == TW_OK)
        rc = tw_buf_puts(&details, fail_text);
    if (rc == TW_OK)
        rc = tw_buf_putc(&details, '}');
    sr.details = rc == TW_OK ? details.ptr : NULL;
    if (sr.details == NULL || tw_store_status_put(r->st, &sr, NULL) != TW_OK) {
        tw__hub_send_error(r->rs, 500, "Internal error", NULL);
        goto out;
    }
    tw__taxii_time(now_us, ts);
    body = &r->rs->body;
    tw_buf_reset(body);
    rc = tw_buf_printf(body,
            "{\"id\":\"%s\",\"status\":\"complete\",\"request_timestamp\":\"%s\","
            "\"total_count\":%zu,\"success_count\":%zu,\"failure_count\":%zu,"
            "\"pending_count\":0",
            sr.id, ts, sr.total, sr.success, sr.failure);
    if (rc == TW_OK && sr.success > 0)
        rc = tw_buf_puts(body, ",\"successes\":");
    if (rc == TW_OK && sr.success > 0)
        rc = tw_buf_append(body, succ.ptr, succ.len);
    if (rc == TW_OK && sr.failure > 0)
        rc = tw_buf_puts(body, ",\"failures\":");
    if (rc == TW_OK && sr.failure > 0)
        rc = tw_buf_puts(body, fail_text);
    if (rc == TW_OK)
        rc = tw_buf_putc(body, '}');
    if (rc != TW_OK) {
        tw__hub_send_json(r->rs, 202, NULL); /* the same 500 as a status json_dumps failed on */
        goto out;
    }
    r->rs->status = 202;
    r->rs->content_type = TAXII_MEDIA;
out:
    free(fail_text);
    tw_buf_cleanup(&details);
    tw_buf_cleanup(&succ);
    json_decref(fail);
    json_decref(om.by_name);
    tw_free(in);
    tw_free(res);
    tw_free(map);
    tw_stix_bundle_free(b);
}

/* ==== Status (4.3) ==== */

static void get_status(struct req *r, const char *id)
{
    struct tw_status_rec s;
    char *details = NULL, ts[TW_TIME_STRLEN];
    json_t *j, *d;
    json_error_t e;

    if (tw_store_status_get(r->st, id, &s, &details, NULL) != TW_OK ||
            (!r->admin && s.org != r->org.id)) {
        free(details);
        not_found(r->rs);
        return;
    }
    tw__taxii_time(s.request_time, ts);
    j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "id", s.id, "status",
            s.pending > 0 ? "pending" : "complete", "request_timestamp", ts, "total_count",
            (json_int_t)s.total, "success_count", (json_int_t)s.success, "failure_count",
            (json_int_t)s.failure, "pending_count", (json_int_t)s.pending);
    d = details != NULL ? json_loads(details, 0, &e) : NULL;
    free(details);
    if (j != NULL && d != NULL) {
        if (json_array_size(json_object_get(d, "successes")) > 0)
            json_object_set(j, "successes", json_object_get(d, "successes"));
        if (json_array_size(json_object_get(d, "failures")) > 0)
            json_object_set(j, "failures", json_object_get(d, "failures"));
    }
    json_decref(d);
    tw__hub_send_json(r->rs, 200, j);
}

/* ==== Routing ==== */

static void route_collection(struct req *r, const struct tw_api_root *root)
{
    const struct tw_http_req *rq = r->rq;
    struct tw_collection c;
    struct tw_access a;
    struct tw_taxii_query tq;
    struct tw_obj_query q;
    const char *what = r->n_seg > 3 ? r->seg[3] : NULL;
    bool get = strcmp(rq->method, "GET") == 0;

    if (tw_store_collection_get(r->st, root->name, r->seg[2], &c, NULL) != TW_OK ||
            !collection_access(r, &c, &a)) {
        not_found(r->rs);
        return;
    }
    if (r->n_seg == 3) {
        if (!get) {
            tw__hub_send_error(r->rs, 405, "Method not allowed", NULL);
            return;
        }
        tw__hub_send_json(r->rs, 200, collection_json(&c, &a));
        return;
    }
    if (strcmp(what, "objects") != 0 && strcmp(what, "manifest") != 0) {
        not_found(r->rs);
        return;
    }
    if (strcmp(what, "objects") == 0 && r->n_seg == 4 && strcmp(rq->method, "POST") == 0) {
        if (!a.can_write) {
            tw__hub_send_error(r->rs, 403, "Forbidden", "You may not write to this collection.");
            return;
        }
        post_objects(r, &c);
        return;
    }
    if (!get && !(strcmp(rq->method, "DELETE") == 0 && r->n_seg == 5)) {
        tw__hub_send_error(r->rs, 405, "Method not allowed", NULL);
        return;
    }
    if (tw__taxii_parse_query(rq->query, &r->arena, &tq) != TW_OK) {
        tw__hub_send_error(r->rs, 400, "Bad filter", tq.error);
        return;
    }
    if (!a.can_read || (!get && !a.can_write)) {
        tw__hub_send_error(r->rs, 403, "Forbidden",
                get ? "You may not read this collection." : "Deleting needs read and write.");
        return;
    }
    make_query(r, &c, &a, &tq, &q);
    if (strcmp(what, "manifest") == 0 && r->n_seg == 4) {
        send_page(r, &q, 1, false);
        return;
    }
    if (r->n_seg == 4) {
        send_page(r, &q, 0, false);
        return;
    }
    /* objects/<id>/ and objects/<id>/versions/: only version and spec_version filters. */
    if (!tw_stix_id_valid(tw_str_cstr(r->seg[4]), NULL) || tq.n_ids > 0 || tq.n_types > 0) {
        if (tq.n_ids > 0 || tq.n_types > 0)
            tw__hub_send_error(
                    r->rs, 400, "Bad filter", "Only match[version] and match[spec_version].");
        else
            not_found(r->rs);
        return;
    }
    q.ids = (const char *const *)&r->seg[4];
    q.n_ids = 1;
    if (r->n_seg == 5 && get) {
        send_page(r, &q, 0, !tq.has_next);
    } else if (r->n_seg == 5) {
        size_t deleted = 0;
        if (tw_store_objects_delete(r->st, &q, r->seg[4], &deleted, NULL) != TW_OK) {
            tw__hub_send_error(r->rs, 500, "Internal error", NULL);
        } else if (deleted == 0) {
            not_found(r->rs);
        } else {
            tw_buf_reset(&r->rs->body);
            r->rs->status = 200;
        }
    } else if (r->n_seg == 6 && strcmp(r->seg[5], "versions") == 0) {
        if (tq.versions != TW_VERSIONS_LAST) {
            tw__hub_send_error(r->rs, 400, "Bad filter", "versions takes no match[version].");
            return;
        }
        q.versions = TW_VERSIONS_ALL;
        send_page(r, &q, 2, !tq.has_next);
    } else {
        not_found(r->rs);
    }
}

static void route(struct req *r)
{
    const struct tw_http_req *rq = r->rq;
    struct tw_api_root root;
    bool get = strcmp(rq->method, "GET") == 0;

    if (!split_path(r) || r->n_seg == 0) {
        not_found(r->rs);
        return;
    }
    if (strcmp(r->seg[0], "taxii2") == 0 && r->n_seg == 1) {
        if (get)
            get_discovery(r);
        else
            tw__hub_send_error(r->rs, 405, "Method not allowed", NULL);
        return;
    }
    if (strcmp(r->seg[0], "dashboard") == 0 && r->n_seg == 1 && get) {
        struct tw__caller who = { &r->key, &r->org, r->admin };
        tw__hub_dashboard(r->st, &who, r->hub->cfg.title, r->rs);
        return;
    }
    if (strcmp(r->seg[0], "admin") == 0 || strcmp(r->seg[0], "tally") == 0) {
        struct tw__caller who = { &r->key, &r->org, r->admin };
        if (strcmp(r->seg[0], "admin") == 0)
            tw__hub_admin(r->st, &who, rq, r->seg, r->n_seg, r->rs);
        else if (r->n_seg == 1 && get)
            tw__hub_tally(r->st, &who, r->rs);
        else
            not_found(r->rs);
        r->rs->content_type = "application/json";
        return;
    }
    if (tw_store_root_get(r->st, r->seg[0], &root, NULL) != TW_OK) {
        not_found(r->rs);
        return;
    }
    if (r->n_seg == 1) {
        if (get)
            get_root(r, &root);
        else
            tw__hub_send_error(r->rs, 405, "Method not allowed", NULL);
    } else if (strcmp(r->seg[1], "status") == 0 && r->n_seg == 3 && get) {
        get_status(r, r->seg[2]);
    } else if (strcmp(r->seg[1], "collections") == 0 && r->n_seg == 2) {
        if (get)
            get_collections(r, &root);
        else
            tw__hub_send_error(r->rs, 405, "Method not allowed", NULL);
    } else if (strcmp(r->seg[1], "collections") == 0 && r->n_seg >= 3) {
        route_collection(r, &root);
    } else {
        not_found(r->rs);
    }
}

/* ==== The hub ==== */

void tw_hub_config_init(struct tw_hub_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->title = "tidewatch hub";
    cfg->listen = "127.0.0.1:8443";
    cfg->max_body = TW_HUB_DEFAULT_MAX_BODY;
    cfg->max_page = TW_HUB_MAX_PAGE;
    cfg->rate_per_min = TW_HUB_DEFAULT_RATE_PER_MIN;
}

static char *dup_or_null(const char *s, bool *ok)
{
    char *d;

    if (s == NULL)
        return NULL;
    d = tw_strdup(s);
    if (d == NULL)
        *ok = false;
    return d;
}

int tw_hub_new(const struct tw_hub_config *cfg, struct tw_hub **out, struct tw_err *err)
{
    struct tw_hub *hub = tw_calloc(1, sizeof(*hub));
    bool ok = true;

    *out = NULL;
    if (hub == NULL)
        return tw_err_set(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    hub->cfg = *cfg;
    hub->store = dup_or_null(cfg->store, &ok);
    hub->title = dup_or_null(cfg->title, &ok);
    hub->listen = dup_or_null(cfg->listen, &ok);
    hub->tls_cert = dup_or_null(cfg->tls_cert, &ok);
    hub->tls_key = dup_or_null(cfg->tls_key, &ok);
    hub->cfg.store = hub->store;
    hub->cfg.title = hub->title != NULL ? hub->title : "tidewatch hub";
    hub->cfg.listen = hub->listen;
    hub->cfg.tls_cert = hub->tls_cert;
    hub->cfg.tls_key = hub->tls_key;
    if (hub->cfg.max_page == 0)
        hub->cfg.max_page = TW_HUB_MAX_PAGE;
    if (hub->cfg.max_body == 0)
        hub->cfg.max_body = TW_HUB_DEFAULT_MAX_BODY;
    hub->rate = tw_calloc(TW__RATE_SLOTS, sizeof(*hub->rate));
    if (!ok || hub->rate == NULL || pthread_mutex_init(&hub->rate_lock, NULL) != 0) {
        tw_free(hub->rate);
        hub->rate = NULL;
        tw_hub_free(hub);
        return tw_err_set(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    }
    *out = hub;
    return TW_OK;
}

unsigned tw_hub_port(struct tw_hub *hub)
{
    return atomic_load(&hub->port);
}

void tw_hub_free(struct tw_hub *hub)
{
    if (hub == NULL)
        return;
    if (hub->rate != NULL) {
        pthread_mutex_destroy(&hub->rate_lock);
        tw_free(hub->rate);
    }
    tw_free(hub->store);
    tw_free(hub->title);
    tw_free(hub->listen);
    tw_free(hub->tls_cert);
    tw_free(hub->tls_key);
    tw_free(hub);
}

/* Authenticates; false (with the response set) when the request stops here. */
static bool authenticate(struct req *r)
{
    char presented[256];
    struct tw_time now;

    if (tw__taxii_credentials(r->rq->authorization, presented, sizeof(presented)) != TW_OK ||
            tw_hub_key_check(r->st, presented, &r->key) != TW_OK ||
            tw_store_org_get(r->st, NULL, r->key.org, &r->org, NULL) != TW_OK) {
        memset(presented, 0, sizeof(presented));
        memset(&r->key, 0, sizeof(r->key));
        tw__hub_send_error(r->rs, 401, "Unauthorized", "Send a valid API key.");
        tw_http_resp_header(r->rs, "WWW-Authenticate", "Bearer realm=\"tidewatch\"");
        /* Browsers (the dashboard) answer this one: any user name, the key as password. */
        tw_http_resp_header(
                r->rs, "WWW-Authenticate", "Basic realm=\"tidewatch\", charset=\"UTF-8\"");
        return false;
    }
    memset(presented, 0, sizeof(presented));
    r->authed = true;
    r->admin = r->key.role == TW_ROLE_HUB_ADMIN;
    r->government = strncmp(r->org.sector, "government", 10) == 0;
    now = tw_time_now();
    if (!tw__hub_rate_take(r->hub, r->key.key_id,
                r->key.rate_per_min ? r->key.rate_per_min : r->hub->cfg.rate_per_min,
                now.sec * 1000000 + now.nsec / 1000)) {
        tw__hub_send_error(r->rs, 429, "Too many requests", "This key is over its request rate.");
        tw_http_resp_header(r->rs, "Retry-After", "1");
        return false;
    }
    return true;
}

void tw_hub_handle(struct tw_hub *hub, struct tw_store *st, const struct tw_http_req *rq,
        struct tw_http_resp *rs)
{
    struct req r;
    struct tw_log_rec lr;
    struct tw_time now;

    memset(&r, 0, sizeof(r));
    r.hub = hub;
    r.st = st;
    r.rq = rq;
    r.rs = rs;
    tw_arena_init(&r.arena, 16384, (size_t)1 << 30);
    tw_buf_init(&r.logged_ids, (size_t)64 << 20);
    if (authenticate(&r)) {
        if (!tw__taxii_accept_ok(rq->accept) && strncmp(rq->path, "/admin/", 7) != 0 &&
                strcmp(rq->path, "/tally/") != 0 && strcmp(rq->path, "/dashboard/") != 0)
            tw__hub_send_error(rs, 406, "Not acceptable", "This server speaks " TAXII_MEDIA ".");
        else
            route(&r);
    }

    if (r.log_overflow) {
        tw_buf_reset(&rs->body);
        rs->n_headers = 0;
        tw__hub_send_error(rs, 503, "Unavailable", "The ids returned cannot all be logged.");
        tw_buf_reset(&r.logged_ids);
    }
    memset(&lr, 0, sizeof(lr));
    now = tw_time_now();
    lr.time = now.sec * 1000000 + now.nsec / 1000;
    if (r.authed) {
        (void)snprintf(lr.key_id, sizeof(lr.key_id), "%s", r.key.key_id);
        lr.org = r.org.id;
    }
    (void)snprintf(lr.method, sizeof(lr.method), "%s", rq->method);
    lr.path = rq->path;
    lr.status = rs->status;
    lr.ids = r.logged_ids.len > 0 ? r.logged_ids.ptr : "";
    if (tw_store_log_append(st, &lr, NULL) != TW_OK) {
        /* No record, no answer: an unlogged read of AMBER material must not happen. */
        tw_buf_reset(&rs->body);
        rs->n_headers = 0;
        tw__hub_send_error(rs, 503, "Unavailable", "The access log cannot be written.");
    }
    if (!hub->cfg.quiet)
        tw_log(TW_LOG_INFO, "hub", "%s %s %s %d", rq->method, rq->path,
                r.authed ? r.key.key_id : "-", rs->status);
    tw_buf_cleanup(&r.logged_ids);
    tw_arena_cleanup(&r.arena);
}
