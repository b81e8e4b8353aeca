/*
 * cmd_hub_import.c: `tidewatch hub import`: copies an existing TAXII 2.1
 * server's API roots, collections and objects into the hub's store, so an
 * operator can move to the hub without losing history (docs/internals/HUB.md,
 * "Import").
 *
 * The walk: discovery, then each API root (relative or absolute URLs), then
 * its collections, then for each readable collection two page walks with
 * match[version]=all and match[spec_version]=2.0,2.1 (narrowed when the
 * server refuses it): the manifest first, which gives the date_added of every
 * object version, then the objects. Pages follow `next` when the server gives
 * one, else added_after = X-TAXII-Date-Added-Last minus one microsecond (the
 * overlap is dropped as repeats, so a page boundary inside one date loses
 * nothing).
 *
 * Objects go through the STIX validator of POST (tw_stix_read_mem on an
 * envelope). tw_store_objects_add stamps all rows of one call with one
 * date_added, max(now, last + 1), so the valid objects are handed over in runs
 * of equal source date_added, in the server's (ascending) order, one call per
 * run with `now` set to that date: a new collection then has the source's
 * dates exactly. Objects that do not come over are reported (id, version,
 * reason) and make the exit status 1; objects stored with a later date than
 * the source's (out of order, or a collection that already had later ones)
 * are counted as re-dated.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <getopt.h>
#include <jansson.h>

#include "cli.h"
#include "tidewatch/alloc.h"
#include "tidewatch/arena.h"
#include "tidewatch/buf.h"
#include "tidewatch/hash.h"
#include "tidewatch/hub.h"
#include "tidewatch/stix.h"
#include "tidewatch/store.h"
#include "tidewatch/str.h"
#include "tidewatch/taxii_client.h"
#include "tidewatch/time.h"
#include "tidewatch/tlp.h"

#define IMPORT_DEFAULT_PAGE 1000   /* objects asked for per page */
#define IMPORT_MAX_PAGE     10000  /* largest --page */
#define IMPORT_MAX_GROUP    100000 /* objects of one date_added handed to the store at once */
#define IMPORT_MAX_LIST     64     /* values of --root, --collection, --grant-org */
#define IMPORT_MAX_URL      16384  /* bytes of one request URL */
#define IMPORT_MAX_KEY      512    /* bytes of a manifest key "id|version" */
#define IMPORT_ARENA_MAX    ((size_t)4 << 30)

static const char *const prog = "tidewatch hub import";

/* ==== Types ==== */

struct counts {
    size_t seen;       /* object versions the objects walk returned */
    size_t imported;   /* stored now */
    size_t duplicates; /* present already with the same content */
    size_t refused;    /* invalid, unknown recipients, conflicting, no date */
    size_t missing;    /* listed by the manifest, never returned by the objects walk */
    size_t redated;    /* stored with a later date_added than the source's */
};

/* A source API root as given on the command line: --root SRC[=LOCAL]. */
struct root_sel {
    const char *src;
    const char *local; /* NULL: the source's name */
    bool used;
};

struct import {
    struct tw_taxii_client tc;
    struct tw_store *st;
    struct tw_buf disc_url; /* the discovery URL, ending in '/' */
    struct root_sel roots[IMPORT_MAX_LIST];
    size_t n_roots;
    const char *colls[IMPORT_MAX_LIST];
    bool coll_used[IMPORT_MAX_LIST];
    size_t n_colls;
    int64_t grants[IMPORT_MAX_LIST]; /* organisations granted read on created collections */
    size_t n_grants;
    uint8_t default_tlp;
    bool any_origin;
    size_t page;
    struct tw_org producer;
    json_t *orgs; /* organisation name or identity id -> org id (AMBER+STRICT recipients) */
    struct counts total;
    size_t n_collections;
    bool incomplete; /* something was skipped or refused: exit 1 */
    struct tw_err err;
};

/* Objects of one source date_added, waiting for the store. */
struct pending {
    int64_t date;
    struct tw_obj_in *objs;
    size_t n, cap;
    struct tw_arena arena; /* the entries' strings and recipient lists */
};

/* One collection being imported. */
struct coll {
    struct import *im;
    struct tw_collection col; /* ours */
    struct tw_buf url;        /* the source collection's URL, ending in '/' */
    const char *spec;         /* the match[spec_version] part of the filters, "" for none */
    json_t *manifest;         /* key -> date_added (us), -1 when the source's is no timestamp */
    json_t *seen;             /* keys the objects walk returned */
    struct pending pend;
    bool last_known; /* last is the collection's last date_added (its store stamp) */
    int64_t last;
    struct counts n;
};

/* ==== Small helpers ==== */

static int64_t now_us(void)
{
    struct tw_time t = tw_time_now();

    return t.sec * 1000000 + t.nsec / 1000;
}

/* A TAXII or STIX timestamp (offsets and lower case tolerated) as microseconds. */
static bool time_us(const char *s, int64_t *out)
{
    struct tw_time t;

    if (s == NULL || tw_time_parse(tw_str_cstr(s), TW_TIME_ALLOW_OFFSET | TW_TIME_ALLOW_LOWER, &t,
                             NULL) != TW_OK)
        return false;
    *out = t.sec * 1000000 + t.nsec / 1000;
    return true;
}

/* Microseconds as a TAXII timestamp (six fractional digits). */
static void format_us(int64_t us, char out[TW_TIME_STRLEN])
{
    struct tw_time t;

    t.sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    t.nsec = (uint32_t)((us - t.sec * 1000000) * 1000);
    t.frac_digits = 6;
    (void)tw_time_format(&t, 6, out);
}

/* Appends s percent-encoded (everything but RFC 3986 unreserved characters). */
static int put_encoded(struct tw_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = TW_OK;

    for (; *s != '\0' && rc == TW_OK; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            rc = tw_buf_putc(b, (char)ch);
        } else if ((rc = tw_buf_putc(b, '%')) == TW_OK &&
                   (rc = tw_buf_putc(b, hex[ch >> 4])) == TW_OK) {
            rc = tw_buf_putc(b, hex[ch & 15]);
        }
    }
    return rc;
}

/*
 * The key that joins a manifest record and an object: "id|t<us>" when the
 * version is a timestamp (so "...00Z" and "...00.000Z" agree), else
 * "id|r<version as given>". False when it does not fit.
 */
static bool version_key(const char *id, const char *version, char out[IMPORT_MAX_KEY])
{
    int64_t us;
    int n;

    if (time_us(version, &us))
        n = snprintf(out, IMPORT_MAX_KEY, "%s|t%lld", id, (long long)us);
    else
        n = snprintf(out, IMPORT_MAX_KEY, "%s|r%s", id, version != NULL ? version : "");
    return n > 0 && n < IMPORT_MAX_KEY;
}

/* Prints a key back as "id version" for messages (a STIX id holds no '|'). */
static void print_key(const char *key, FILE *out)
{
    const char *bar = strchr(key, '|');
    char t[TW_TIME_STRLEN];

    if (bar == NULL) {
        fprintf(out, "%s", key);
        return;
    }
    if (bar[1] == 't') {
        format_us(strtoll(bar + 2, NULL, 10), t);
        fprintf(out, "%.*s %s", (int)(bar - key), key, t);
    } else {
        fprintf(out, "%.*s %s", (int)(bar - key), key, bar[2] != '\0' ? bar + 2 : "-");
    }
}

static const char *version_of(const json_t *o)
{
    const char *v = json_string_value(json_object_get(o, "modified"));

    if (v == NULL)
        v = json_string_value(json_object_get(o, "created"));
    return v != NULL ? v : "";
}

static void refuse(struct coll *cs, const char *id, const char *version, const char *why)
{
    printf("refused %s %s: %s\n", id != NULL ? id : "(no id)",
            version != NULL && version[0] != '\0' ? version : "-", why);
    cs->n.refused++;
}

/* Reads the first line of a file (a key or a password) into out. */
static int read_secret(const char *path, char *out, size_t size)
{
    FILE *f = fopen(path, "r");
    bool ok = f != NULL && fgets(out, (int)size, f) != NULL;

    if (f != NULL)
        (void)fclose(f);
    if (!ok) {
        fprintf(stderr, "%s: cannot read %s\n", prog, path);
        return TW_EXIT_ERROR;
    }
    out[strcspn(out, "\r\n")] = '\0';
    return TW_EXIT_OK;
}

/* "host[:port]" of a URL, without any user information. */
static void authority_of(const char *url, char *out, size_t size)
{
    const char *p = strstr(url, "://"), *end, *at;

    p = p != NULL ? p + 3 : url;
    end = p + strcspn(p, "/?#");
    at = memchr(p, '@', (size_t)(end - p));
    if (at != NULL)
        p = at + 1;
    (void)snprintf(out, size, "%.*s", (int)(end - p), p);
}

/* The last non-empty path segment of a URL ("" when none). */
static void last_segment(const char *url, char *out, size_t size)
{
    const char *p = strstr(url, "://"), *end, *seg;

    p = p != NULL ? p + 3 : url;
    p += strcspn(p, "/");
    end = p + strcspn(p, "?#");
    while (end > p && end[-1] == '/')
        end--;
    seg = end;
    while (seg > p && seg[-1] != '/')
        seg--;
    if ((size_t)(end - seg) >= size)
        out[0] = '\0';
    else
        (void)snprintf(out, size, "%.*s", (int)(end - seg), seg);
}

/* ==== Pages ==== */

/*
 * Called with each page's list ("objects" of an envelope or a manifest; may be
 * NULL for an empty page); sets *n_new to how many entries were not seen
 * before. A negative return stops the walk and is returned.
 */
typedef int page_fn(struct coll *cs, const json_t *list, size_t *n_new);

/*
 * Walks `what` ("manifest/" or "objects/") of the collection with the given
 * filters, page by page. With `next` the walk follows it. Without, it pages
 * with added_after one microsecond before X-TAXII-Date-Added-Last, so records
 * sharing the last date that did not fit the page come again on the next one
 * (the callback drops repeats); when a whole page repeats (more records share
 * one date than fit a page) it steps past that date and says so. *status gets
 * the HTTP status of a failed request, *pages the pages received.
 */
static int walk(struct coll *cs, const char *what, page_fn *fn, long *status, size_t *pages)
{
    struct import *im = cs->im;
    struct tw_buf url;
    char next[1024] = "", used[1024] = "";
    int64_t after = -1;
    int rc = TW_OK;

    *status = 0;
    *pages = 0;
    tw_buf_init(&url, IMPORT_MAX_URL);
    for (;;) {
        struct tw_taxii_reply rp;
        const json_t *jn;
        size_t n_new = 0;
        bool more;
        int64_t last;

        tw_buf_reset(&url);
        rc = tw_buf_printf(&url, "%s%s?limit=%zu&match%%5Bversion%%5D=all%s%s", cs->url.ptr, what,
                im->page, cs->spec[0] != '\0' ? "&" : "", cs->spec);
        if (rc == TW_OK && next[0] != '\0' && (rc = tw_buf_puts(&url, "&next=")) == TW_OK)
            rc = put_encoded(&url, next);
        if (rc == TW_OK && next[0] == '\0' && after >= 0) {
            char t[TW_TIME_STRLEN];
            format_us(after, t);
            if ((rc = tw_buf_puts(&url, "&added_after=")) == TW_OK)
                rc = put_encoded(&url, t);
        }
        if (rc != TW_OK) {
            rc = tw_err_set(&im->err, rc, TW_NOPOS, "a request URL is too long");
            break;
        }
        rc = tw_taxii_get(&im->tc, url.ptr, &rp, &im->err);
        if (rc != TW_OK) {
            *status = rp.status;
            tw_taxii_reply_cleanup(&rp);
            break;
        }
        (*pages)++;
        rc = fn(cs, json_object_get(rp.json, "objects"), &n_new);
        more = json_is_true(json_object_get(rp.json, "more"));
        jn = json_object_get(rp.json, "next");
        (void)snprintf(used, sizeof(used), "%s", next);
        next[0] = '\0';
        if (json_is_string(jn) && json_string_length(jn) < sizeof(next))
            (void)snprintf(next, sizeof(next), "%s", json_string_value(jn));
        if (rc != TW_OK || !more) {
            tw_taxii_reply_cleanup(&rp);
            break;
        }
        if (next[0] != '\0' && n_new == 0 && strcmp(next, used) == 0) {
            rc = tw_err_set(&im->err, TW_EINVAL, TW_NOPOS,
                    "%s: the server gives the same next again with nothing new", url.ptr);
        } else if (next[0] == '\0') {
            /* TAXII 3.5: without `next`, page on by the last date_added. */
            if (!time_us(rp.date_added_last, &last)) {
                rc = tw_err_set(&im->err, TW_EINVAL, TW_NOPOS,
                        "%s: the server says more but gives neither next nor "
                        "X-TAXII-Date-Added-Last",
                        url.ptr);
            } else if (last - 1 > after) {
                after = last - 1;
            } else if (n_new == 0 && last > after) {
                fprintf(stderr,
                        "%s: collection %s: a whole page (%zu records) has date_added %s and "
                        "the server gives no next: further records of that date, if any, are "
                        "missed\n",
                        prog, cs->col.uuid, im->page, rp.date_added_last);
                im->incomplete = true;
                after = last;
            } else if (n_new == 0) {
                rc = tw_err_set(&im->err, TW_EINVAL, TW_NOPOS,
                        "%s: the server says more but gives no way to page on", url.ptr);
            }
        }
        tw_taxii_reply_cleanup(&rp);
        if (rc != TW_OK)
            break;
    }
    tw_buf_cleanup(&url);
    return rc;
}

/* ==== The manifest ==== */

/* The key and the date_added (us; -1 when it is no timestamp) of a manifest record. */
static int manifest_key(const json_t *rec, char key[IMPORT_MAX_KEY], int64_t *date)
{
    const char *id = json_string_value(json_object_get(rec, "id"));
    const char *added = json_string_value(json_object_get(rec, "date_added"));

    if (id == NULL || !version_key(id, json_string_value(json_object_get(rec, "version")), key))
        return TW_EINVAL;
    if (!time_us(added, date))
        *date = -1;
    return TW_OK;
}

static int manifest_page(struct coll *cs, const json_t *list, size_t *n_new)
{
    const json_t *rec;
    size_t i;

    json_array_foreach(list, i, rec)
    {
        char key[IMPORT_MAX_KEY];
        int64_t date;

        if (manifest_key(rec, key, &date) != TW_OK)
            continue; /* no id: nothing to join an object with */
        if (json_object_get(cs->manifest, key) != NULL)
            continue;
        if (json_object_set_new(cs->manifest, key, json_integer((json_int_t)date)) != 0)
            return tw_err_set(&cs->im->err, TW_ENOMEM, TW_NOPOS, "out of memory");
        (*n_new)++;
    }
    return TW_OK;
}

/*
 * The date_added of an object the manifest walk did not list under the same
 * key (added during the import, or a version written differently): asks the
 * manifest for that id. A record with the object's key wins; an object
 * without a version takes the id's only record. Returns TW_OK with *found and
 * *date (-1 when the record's date_added is no timestamp), or a transport
 * error.
 */
static int manifest_lookup(struct coll *cs, const char *id, const char *key, bool versionless,
        bool *found, int64_t *date)
{
    struct import *im = cs->im;
    struct tw_taxii_reply rp;
    struct tw_buf url;
    const json_t *list, *rec;
    size_t i;
    int rc;

    *found = false;
    *date = -1;
    tw_buf_init(&url, IMPORT_MAX_URL);
    rc = tw_buf_printf(&url, "%smanifest/?match%%5Bid%%5D=", cs->url.ptr);
    if (rc == TW_OK)
        rc = put_encoded(&url, id);
    if (rc == TW_OK)
        rc = tw_buf_printf(
                &url, "&match%%5Bversion%%5D=all%s%s", cs->spec[0] != '\0' ? "&" : "", cs->spec);
    if (rc != TW_OK) {
        tw_buf_cleanup(&url);
        return tw_err_set(&im->err, rc, TW_NOPOS, "a request URL is too long");
    }
    rc = tw_taxii_get(&im->tc, url.ptr, &rp, &im->err);
    tw_buf_cleanup(&url);
    if (rc != TW_OK) {
        tw_taxii_reply_cleanup(&rp);
        return rc;
    }
    list = json_object_get(rp.json, "objects");
    json_array_foreach(list, i, rec)
    {
        char k[IMPORT_MAX_KEY];
        int64_t d;

        if (manifest_key(rec, k, &d) == TW_OK &&
                (strcmp(k, key) == 0 || (versionless && json_array_size(list) == 1))) {
            *found = true;
            *date = d;
            (void)json_object_del(cs->manifest, k);
            (void)json_object_set(cs->seen, k, json_true());
        }
    }
    tw_taxii_reply_cleanup(&rp);
    return TW_OK;
}

/* ==== The objects ==== */

/* The newest row (largest seq) of one id, to see which date_added it got. */
struct newest {
    int64_t seq, date;
};

static int take_newest(const struct tw_obj_row *r, void *arg)
{
    struct newest *nw = arg;

    if (r->seq > nw->seq) {
        nw->seq = r->seq;
        nw->date = r->date_added;
    }
    return 0;
}

/* Hands the pending run to the store. Returns TW_OK or a store failure. */
static int flush(struct coll *cs)
{
    struct import *im = cs->im;
    struct pending *p = &cs->pend;
    enum tw_obj_result *res;
    const struct tw_obj_in *added = NULL;
    size_t n_added = 0;
    int rc;

    if (p->n == 0)
        return TW_OK;
    res = tw_calloc(p->n, sizeof(*res));
    if (res == NULL)
        return tw_err_set(&im->err, TW_ENOMEM, TW_NOPOS, "out of memory");
    rc = tw_store_objects_add(
            im->st, cs->col.id, im->producer.id, 0, p->date, p->objs, p->n, res, &im->err);
    if (rc == TW_EINVAL) {
        /* The store refused the run as a whole (it should not after validation). */
        for (size_t i = 0; i < p->n; i++)
            refuse(cs, p->objs[i].id, p->objs[i].version, im->err.msg);
        rc = TW_OK;
    } else if (rc == TW_OK) {
        /* The store's stamp, max(now, last + 1), moved the collection's last
         * date_added whether or not anything was new. */
        if (cs->last_known)
            cs->last = p->date > cs->last ? p->date : cs->last + 1;
        for (size_t i = 0; i < p->n; i++) {
            if (res[i] == TW_OBJ_ADDED) {
                cs->n.imported++;
                n_added++;
                added = &p->objs[i];
            } else if (res[i] == TW_OBJ_DUPLICATE) {
                cs->n.duplicates++;
            } else {
                refuse(cs, p->objs[i].id, p->objs[i].version,
                        "this version exists here with other content");
            }
        }
    }
    if (rc == TW_OK && added != NULL && cs->last_known) {
        if (cs->last != p->date)
            cs->n.redated += n_added;
    } else if (rc == TW_OK && added != NULL) {
        /* The collection existed before this run, so its last date_added is
         * not known here: read the date the run got once, then follow. */
        struct tw_obj_query q;
        struct newest nw = { -1, 0 };

        memset(&q, 0, sizeof(q));
        q.collection = cs->col.id;
        q.viewer.all = true;
        q.ids = &added->id;
        q.n_ids = 1;
        q.versions = TW_VERSIONS_ALL;
        q.spec_versions = &added->spec_version;
        q.n_spec_versions = 1;
        q.limit = TW_STORE_MAX_LIMIT;
        rc = tw_store_objects_query(im->st, &q, take_newest, &nw, NULL, &im->err);
        if (rc == TW_OK && nw.seq >= 0) {
            cs->last_known = true;
            cs->last = nw.date;
            if (nw.date != p->date)
                cs->n.redated += n_added;
        }
    }
    tw_free(res);
    tw_arena_reset(&p->arena);
    p->n = 0;
    return rc;
}

static char *arena_str(struct tw_arena *a, const char *s)
{
    return s != NULL ? tw_arena_strndup(a, s, strlen(s)) : NULL;
}

/*
 * Reads the recipients under `prop` (names or identity ids of organisations
 * when by_org, else key ids) into an arena array; -1 when one is not known
 * here or is not a string.
 */
static long recipients(
        struct coll *cs, const json_t *obj, const char *prop, bool by_org, const int64_t **out)
{
    const json_t *list = json_object_get(obj, prop), *v;
    size_t i, n = json_array_size(list);
    int64_t *ids;

    *out = NULL;
    if (n == 0)
        return 0;
    ids = tw_arena_calloc(&cs->pend.arena, n, sizeof(*ids));
    if (ids == NULL)
        return -1;
    json_array_foreach(list, i, v)
    {
        const char *s = json_string_value(v);
        struct tw_key k;
        const json_t *org = by_org ? json_object_get(cs->im->orgs, s != NULL ? s : "") : NULL;

        if (s == NULL)
            return -1;
        if (by_org && org == NULL)
            return -1;
        if (by_org)
            ids[i] = (int64_t)json_integer_value(org);
        else if (tw_store_key_get(cs->im->st, s, &k, NULL) == TW_OK)
            ids[i] = k.id;
        else
            return -1;
    }
    *out = ids;
    return (long)n;
}

/* Queues one valid object for the store under source date `date`. */
static int queue(struct coll *cs, const struct tw_stix_object *o, int64_t date)
{
    struct pending *p = &cs->pend;
    struct tw_arena *a = &p->arena;
    struct tw_obj_in x;
    char *text;
    long nr;

    if (p->n > 0 && (date != p->date || p->n >= IMPORT_MAX_GROUP)) {
        int rc = flush(cs);
        if (rc != TW_OK)
            return rc;
    }
    memset(&x, 0, sizeof(x));
    x.tlp = o->tlp != TW_TLP_NONE ? (uint8_t)o->tlp : cs->col.default_tlp;
    if (x.tlp == TW_TLP_AMBER_STRICT) {
        nr = recipients(cs, o->json, "x_tidewatch_recipients", true, &x.recipient_orgs);
        if (nr < 0) {
            refuse(cs, o->id, version_of(o->json),
                    "x_tidewatch_recipients names an organisation this store does not know "
                    "(add it with `hub org add` and import again)");
            return TW_OK;
        }
        x.n_recipient_orgs = (size_t)nr;
    } else if (x.tlp == TW_TLP_RED) {
        nr = recipients(cs, o->json, "x_tidewatch_recipient_keys", false, &x.recipient_keys);
        if (nr < 0) {
            refuse(cs, o->id, version_of(o->json),
                    "x_tidewatch_recipient_keys names a key this store does not know");
            return TW_OK;
        }
        x.n_recipient_keys = (size_t)nr;
    }
    text = json_dumps(o->json, JSON_COMPACT | JSON_PRESERVE_ORDER);
    x.json = text != NULL ? tw_arena_strndup(a, text, strlen(text)) : NULL;
    free(text);
    x.id = arena_str(a, o->id);
    x.type = arena_str(a, o->type);
    x.spec_version = json_string_value(json_object_get(o->json, "spec_version"));
    x.spec_version = arena_str(a, x.spec_version != NULL ? x.spec_version : "2.1");
    x.version = arena_str(a, version_of(o->json));
    if (x.json == NULL || x.id == NULL || x.type == NULL || x.spec_version == NULL ||
            x.version == NULL)
        return tw_err_set(&cs->im->err, TW_ENOMEM, TW_NOPOS, "out of memory");
    x.json_len = strlen(x.json);
    if (strcmp(o->type, "sighting") == 0) {
        const json_t *cnt = json_object_get(o->json, "count");
        int64_t us;
        x.sighting_of =
                arena_str(a, json_string_value(json_object_get(o->json, "sighting_of_ref")));
        x.first_seen =
                time_us(json_string_value(json_object_get(o->json, "first_seen")), &us) ? us : 0;
        x.last_seen =
                time_us(json_string_value(json_object_get(o->json, "last_seen")), &us) ? us : 0;
        x.count = cnt != NULL ? (int64_t)json_integer_value(cnt) : 1;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        struct tw_obj_in *grown = tw_reallocarray(p->objs, cap, sizeof(*grown));
        if (grown == NULL)
            return tw_err_set(&cs->im->err, TW_ENOMEM, TW_NOPOS, "out of memory");
        p->objs = grown;
        p->cap = cap;
    }
    p->objs[p->n++] = x;
    p->date = date;
    return TW_OK;
}

/*
 * The validator's first error about object i, as "message (property)": the
 * path without its "$.objects[N]" head, which names a place in our envelope
 * of the page rather than anything on the source.
 */
static const char *why_invalid(const struct tw_stix_bundle *b, size_t i, char *buf, size_t size)
{
    for (size_t k = 0; k < tw_stix_bundle_n_problems(b); k++) {
        const struct tw_stix_problem *pr = tw_stix_bundle_problem(b, k);
        const char *path = pr->path;

        if (pr->index != i || pr->severity != TW_STIX_ERROR)
            continue;
        if (strncmp(path, "$.objects[", 10) == 0 && strchr(path, ']') != NULL) {
            path = strchr(path, ']') + 1;
            path += *path == '.';
        }
        if (path[0] != '\0')
            (void)snprintf(buf, size, "%s (%s)", pr->msg, path);
        else
            (void)snprintf(buf, size, "%s", pr->msg);
        return buf;
    }
    return "invalid object";
}

static int objects_page(struct coll *cs, const json_t *list, size_t *n_new)
{
    struct import *im = cs->im;
    struct tw_stix_bundle *b = NULL;
    json_t *env;
    char *text;
    int rc = TW_OK;

    if (json_array_size(list) == 0)
        return TW_OK;
    env = json_object();
    if (env == NULL || json_object_set(env, "objects", (json_t *)(uintptr_t)list) != 0) {
        json_decref(env);
        return tw_err_set(&im->err, TW_ENOMEM, TW_NOPOS, "out of memory");
    }
    text = json_dumps(env, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(env);
    if (text == NULL)
        return tw_err_set(&im->err, TW_ENOMEM, TW_NOPOS, "out of memory");
    rc = tw_stix_read_mem(text, strlen(text), "source page", 0, &b, &im->err);
    free(text);
    if (rc != TW_OK) {
        char why[sizeof(im->err.msg)];
        (void)snprintf(why, sizeof(why), "%s", im->err.msg);
        return tw_err_set(&im->err, rc, TW_NOPOS, "%s: a page of objects cannot be read (%s)%s",
                cs->url.ptr, why, rc == TW_ELIMIT ? "; try a smaller --page" : "");
    }
    for (size_t i = 0; i < tw_stix_bundle_count(b) && rc == TW_OK; i++) {
        const struct tw_stix_object *o = tw_stix_bundle_object(b, i);
        const char *version = version_of(o->json);
        const json_t *d;
        char key[IMPORT_MAX_KEY], why[320];
        int64_t date = -1;
        bool found;

        if (o->id == NULL || !version_key(o->id, version, key)) {
            cs->n.seen++;
            refuse(cs, json_string_value(json_object_get(o->json, "id")), version,
                    why_invalid(b, i, why, sizeof(why)));
            continue;
        }
        if (json_object_get(cs->seen, key) != NULL)
            continue; /* a repeat: pages overlap when paging by added_after */
        (*n_new)++;
        cs->n.seen++;
        d = json_object_get(cs->manifest, key);
        found = d != NULL;
        if (found) {
            date = (int64_t)json_integer_value(d);
            (void)json_object_del(cs->manifest, key);
        }
        if (json_object_set(cs->seen, key, json_true()) != 0) {
            rc = tw_err_set(&im->err, TW_ENOMEM, TW_NOPOS, "out of memory");
            break;
        }
        if (!o->valid) {
            refuse(cs, o->id, version, why_invalid(b, i, why, sizeof(why)));
            continue;
        }
        if (!found &&
                (rc = manifest_lookup(cs, o->id, key, version[0] == '\0', &found, &date)) != TW_OK)
            break;
        if (!found)
            refuse(cs, o->id, version,
                    "the source's manifest has no record of this version, so its date_added is "
                    "unknown (added during the import? import again)");
        else if (date < 0)
            refuse(cs, o->id, version, "the source's manifest gives no timestamp as date_added");
        else
            rc = queue(cs, o, date);
    }
    tw_stix_bundle_free(b);
    return rc;
}

/* ==== Collections ==== */

struct uuid_owner {
    const char *uuid;
    char root[64];
};

static int find_uuid(const struct tw_collection *c, void *arg)
{
    struct uuid_owner *u = arg;

    if (strcmp(c->uuid, u->uuid) == 0) {
        (void)snprintf(u->root, sizeof(u->root), "%s", c->root);
        return 1;
    }
    return 0;
}

/* Copies src into dst (size bytes), saying so when it does not fit. */
static void copy_field(char *dst, size_t size, const char *src, const char *owner, const char *what)
{
    if (src == NULL)
        src = "";
    if (strlen(src) >= size)
        fprintf(stderr, "%s: %s: %s cut to %zu bytes\n", prog, owner, what, size - 1);
    (void)snprintf(dst, size, "%s", src);
}

/*
 * Finds or creates our collection for source collection `src` in root `root`.
 * Returns TW_OK (created), TW_EEXIST (found), TW_ENOTFOUND when the
 * collection is skipped (reported), or a store failure.
 */
static int prepare_collection(
        struct import *im, const char *root, const json_t *src, struct tw_collection *col)
{
    const char *id = json_string_value(json_object_get(src, "id"));
    const char *alias = json_string_value(json_object_get(src, "alias"));
    struct tw_collection other;
    struct uuid_owner owner;
    char label[64];
    uint8_t u[16];
    int rc;

    memset(col, 0, sizeof(*col));
    if (id == NULL || !tw_uuid_parse(tw_str_cstr(id), u)) {
        fprintf(stderr, "%s: /%s/: collection id '%s' is not a UUID: skipped\n", prog, root,
                id != NULL ? id : "");
        im->incomplete = true;
        return TW_ENOTFOUND;
    }
    rc = tw_store_collection_get(im->st, root, id, col, &im->err);
    if (rc == TW_OK) {
        printf("collection %s /%s/ \"%s\": existing\n", col->uuid, root, col->title);
        return TW_EEXIST;
    }
    if (rc != TW_ENOTFOUND)
        return rc;
    owner.uuid = col->uuid;
    tw_uuid_format(u, col->uuid);
    owner.root[0] = '\0';
    rc = tw_store_collection_each(im->st, NULL, find_uuid, &owner, &im->err);
    if (rc < 0)
        return rc;
    if (owner.root[0] != '\0') {
        fprintf(stderr,
                "%s: collection %s: this id is taken by a collection of /%s/ here: skipped "
                "(its id is kept so that clients' URLs keep working, so it cannot be mapped)\n",
                prog, col->uuid, owner.root);
        im->incomplete = true;
        return TW_ENOTFOUND;
    }
    (void)snprintf(col->root, sizeof(col->root), "%s", root);
    (void)snprintf(label, sizeof(label), "collection %s", col->uuid);
    copy_field(col->title, sizeof(col->title), json_string_value(json_object_get(src, "title")),
            label, "the title");
    copy_field(col->description, sizeof(col->description),
            json_string_value(json_object_get(src, "description")), label, "the description");
    if (alias != NULL && alias[0] != '\0') {
        if (strlen(alias) >= sizeof(col->alias) || tw_uuid_parse(tw_str_cstr(alias), u)) {
            fprintf(stderr, "%s: collection %s: alias '%s' is not possible here: dropped\n", prog,
                    col->uuid, alias);
            im->incomplete = true;
        } else if (tw_store_collection_get(im->st, root, alias, &other, NULL) == TW_OK) {
            fprintf(stderr,
                    "%s: collection %s: alias '%s' is taken by collection %s here: dropped\n", prog,
                    col->uuid, alias, other.uuid);
            im->incomplete = true;
        } else {
            (void)snprintf(col->alias, sizeof(col->alias), "%s", alias);
        }
    }
    col->default_tlp = im->default_tlp;
    col->created = now_us();
    rc = tw_store_collection_add(im->st, col, &im->err);
    for (size_t i = 0; i < im->n_grants && rc == TW_OK; i++)
        rc = tw_store_grant(im->st, col->id, im->grants[i], 0, true, false, &im->err);
    if (rc != TW_OK)
        return rc;
    printf("collection %s /%s/ \"%s\"%s%s: created\n", col->uuid, root, col->title,
            col->alias[0] != '\0' ? " alias " : "", col->alias);
    return TW_OK;
}

static bool collection_selected(struct import *im, const json_t *src)
{
    const char *id = json_string_value(json_object_get(src, "id"));
    const char *alias = json_string_value(json_object_get(src, "alias"));
    bool hit = im->n_colls == 0;

    for (size_t i = 0; i < im->n_colls; i++)
        if ((id != NULL && strcmp(im->colls[i], id) == 0) ||
                (alias != NULL && strcmp(im->colls[i], alias) == 0)) {
            im->coll_used[i] = true;
            hit = true;
        }
    return hit;
}

static void counts_add(struct counts *to, const struct counts *n)
{
    to->seen += n->seen;
    to->imported += n->imported;
    to->duplicates += n->duplicates;
    to->refused += n->refused;
    to->missing += n->missing;
    to->redated += n->redated;
}

/* One summary line: `lead` then the counts. */
static void counts_print(const char *lead, const struct counts *n)
{
    printf("%sseen %zu, imported %zu, duplicates %zu, refused %zu, missing %zu, re-dated %zu\n",
            lead, n->seen, n->imported, n->duplicates, n->refused, n->missing, n->redated);
}

/* The match[spec_version] filters to try, widest first (the server may refuse
 * 2.0), as sent and as said in messages. */
static const char *const spec_filters[] = { "match%5Bspec_version%5D=2.0,2.1",
    "match%5Bspec_version%5D=2.1", "" };
static const char *const spec_names[] = { "match[spec_version]=2.0,2.1", "match[spec_version]=2.1",
    "its default (the latest spec_version of each object only)" };

/* Imports one source collection into ours. Returns TW_OK or a failure (exit 3). */
static int import_collection(
        struct import *im, const char *root_url, const char *root, const json_t *src)
{
    struct coll cs;
    const char *key;
    json_t *v;
    long status = 0;
    size_t pages = 0;
    int rc;

    memset(&cs, 0, sizeof(cs));
    cs.im = im;
    rc = prepare_collection(im, root, src, &cs.col);
    if (rc == TW_ENOTFOUND)
        return TW_OK;
    if (rc != TW_OK && rc != TW_EEXIST)
        return rc;
    cs.last_known = rc == TW_OK; /* a new collection starts with last date_added 0 */
    cs.last = 0;
    im->n_collections++;
    tw_buf_init(&cs.url, IMPORT_MAX_URL);
    tw_arena_init(&cs.pend.arena, 65536, IMPORT_ARENA_MAX);
    cs.manifest = json_object();
    cs.seen = json_object();
    if (cs.manifest == NULL || cs.seen == NULL ||
            tw_buf_printf(&cs.url, "%scollections/%s/", root_url,
                    json_string_value(json_object_get(src, "id"))) != TW_OK) {
        rc = tw_err_set(&im->err, TW_ENOMEM, TW_NOPOS, "out of memory");
        goto out;
    }
    for (size_t f = 0; f < TW_ARRAY_LEN(spec_filters); f++) {
        cs.spec = spec_filters[f];
        rc = walk(&cs, "manifest/", manifest_page, &status, &pages);
        if (!(rc == TW_EINVAL && status == 400 && pages == 0) ||
                f + 1 == TW_ARRAY_LEN(spec_filters))
            break;
        fprintf(stderr, "%s: collection %s: the server refuses %s (HTTP 400); trying %s\n", prog,
                cs.col.uuid, spec_names[f], spec_names[f + 1]);
        if (spec_filters[f + 1][0] == '\0')
            im->incomplete = true; /* older spec_versions of an object may be left behind */
    }
    if (rc == TW_OK)
        rc = walk(&cs, "objects/", objects_page, &status, &pages);
    if (rc == TW_OK)
        rc = flush(&cs);
    if (rc != TW_OK)
        goto out;
    json_object_foreach(cs.manifest, key, v)
    {
        printf("missing ");
        print_key(key, stdout);
        printf(": listed in the source's manifest, not returned by its objects endpoint\n");
        cs.n.missing++;
    }
    if (cs.n.redated > 0)
        fprintf(stderr,
                "%s: collection %s: %zu objects got a later date_added than on the source "
                "(the collection here already had later ones, or the source's order is not "
                "ascending)\n",
                prog, cs.col.uuid, cs.n.redated);
    {
        char what[80];
        (void)snprintf(what, sizeof(what), "collection %s: ", cs.col.uuid);
        counts_print(what, &cs.n);
    }
    counts_add(&im->total, &cs.n);
out:
    json_decref(cs.manifest);
    json_decref(cs.seen);
    tw_free(cs.pend.objs);
    tw_arena_cleanup(&cs.pend.arena);
    tw_buf_cleanup(&cs.url);
    return rc;
}

/* ==== API roots ==== */

/* Which --root names this source root, if any; false when it is not selected. */
static bool root_selected(struct import *im, const char *name, const char *url, const char **local)
{
    *local = name;
    if (im->n_roots == 0)
        return true;
    for (size_t i = 0; i < im->n_roots; i++)
        if (strcmp(im->roots[i].src, name) == 0 || strcmp(im->roots[i].src, url) == 0) {
            im->roots[i].used = true;
            if (im->roots[i].local != NULL)
                *local = im->roots[i].local;
            return true;
        }
    return false;
}

static bool root_name_ok(const char *s)
{
    struct tw_api_root r;

    return s[0] != '\0' && strlen(s) < sizeof(r.name) && strcmp(s, "taxii2") != 0 &&
           strchr(s, '/') == NULL;
}

/* Imports one API root (an absolute URL) as `local`, the source's `name`
 * unless --root renames it. Returns TW_OK or a failure. */
static int import_root(struct import *im, const char *url, const char *name, const char *local)
{
    struct tw_taxii_reply rp;
    struct tw_api_root r;
    struct tw_buf curl;
    const json_t *list, *c;
    size_t i;
    int rc;

    if (!root_name_ok(local)) {
        fprintf(stderr,
                "%s: API root %s: '%s' cannot name an API root here: skipped (rename it with "
                "--root %s=NAME)\n",
                prog, url, local, name);
        im->incomplete = true;
        return TW_OK;
    }
    rc = tw_taxii_get(&im->tc, url, &rp, &im->err);
    if (rc != TW_OK) {
        tw_taxii_reply_cleanup(&rp);
        return rc;
    }
    rc = tw_store_root_get(im->st, local, &r, &im->err);
    if (rc == TW_ENOTFOUND) {
        memset(&r, 0, sizeof(r));
        (void)snprintf(r.name, sizeof(r.name), "%s", local);
        copy_field(r.title, sizeof(r.title), json_string_value(json_object_get(rp.json, "title")),
                url, "the API root's title");
        copy_field(r.description, sizeof(r.description),
                json_string_value(json_object_get(rp.json, "description")), url,
                "the API root's description");
        rc = tw_store_root_add(im->st, &r, &im->err);
        if (rc == TW_OK)
            printf("api root /%s/ from %s: created\n", local, url);
    } else if (rc == TW_OK) {
        printf("api root /%s/ from %s: existing\n", local, url);
    }
    tw_taxii_reply_cleanup(&rp);
    if (rc != TW_OK)
        return rc;
    tw_buf_init(&curl, IMPORT_MAX_URL);
    if (tw_buf_printf(&curl, "%scollections/", url) != TW_OK) {
        tw_buf_cleanup(&curl);
        return tw_err_set(&im->err, TW_ENOMEM, TW_NOPOS, "out of memory");
    }
    rc = tw_taxii_get(&im->tc, curl.ptr, &rp, &im->err);
    tw_buf_cleanup(&curl);
    list = json_object_get(rp.json, "collections");
    json_array_foreach(list, i, c)
    {
        if (rc != TW_OK)
            break;
        if (!collection_selected(im, c))
            continue;
        if (!json_is_true(json_object_get(c, "can_read"))) {
            fprintf(stderr, "%s: collection %s: not readable with these credentials: skipped\n",
                    prog, json_string_value(json_object_get(c, "id")));
            im->incomplete = true;
            continue;
        }
        rc = import_collection(im, url, local, c);
    }
    tw_taxii_reply_cleanup(&rp);
    return rc;
}

/* Walks discovery (or a single API root when --url names one). */
static int import_server(struct import *im)
{
    struct tw_taxii_reply rp;
    struct tw_buf url;
    const json_t *roots, *v;
    char name[256];
    const char *local;
    size_t i;
    int rc;

    rc = tw_taxii_get(&im->tc, im->disc_url.ptr, &rp, &im->err);
    if (rc != TW_OK) {
        if (rp.status == 401 || rp.status == 403)
            (void)tw_err_set(&im->err, TW_EINVAL, TW_NOPOS,
                    "%s refused the credentials (HTTP %ld): check --key-file, or --user and "
                    "--password-file",
                    im->disc_url.ptr, rp.status);
        tw_taxii_reply_cleanup(&rp);
        return rc;
    }
    printf("source %s: \"%s\"\n", im->disc_url.ptr,
            json_string_value(json_object_get(rp.json, "title")) != NULL
                    ? json_string_value(json_object_get(rp.json, "title"))
                    : "");
    roots = json_object_get(rp.json, "api_roots");
    if (roots == NULL && json_object_get(rp.json, "versions") != NULL) {
        /* --url names an API root itself. */
        last_segment(im->disc_url.ptr, name, sizeof(name));
        rc = root_selected(im, name, im->disc_url.ptr, &local)
                     ? import_root(im, im->disc_url.ptr, name, local)
                     : TW_OK;
        tw_taxii_reply_cleanup(&rp);
        return rc;
    }
    if (json_array_size(roots) == 0)
        fprintf(stderr, "%s: the server lists no API roots for these credentials\n", prog);
    tw_buf_init(&url, IMPORT_MAX_URL);
    json_array_foreach(roots, i, v)
    {
        bool same = false;
        const char *ref = json_string_value(v);

        if (ref == NULL)
            continue;
        rc = tw_taxii_url_resolve(im->disc_url.ptr, ref, &url, &same, &im->err);
        if (rc == TW_OK && (url.len == 0 || url.ptr[url.len - 1] != '/'))
            rc = tw_buf_putc(&url, '/');
        if (rc != TW_OK) {
            fprintf(stderr, "%s: API root '%s': %s: skipped\n", prog, ref, im->err.msg);
            im->incomplete = true;
            rc = TW_OK;
            continue;
        }
        last_segment(url.ptr, name, sizeof(name));
        if (!root_selected(im, name, url.ptr, &local))
            continue;
        if (!same && !im->any_origin) {
            fprintf(stderr,
                    "%s: API root %s is on another server: skipped (credentials go only to "
                    "the server of --url; --any-origin sends them there too)\n",
                    prog, url.ptr);
            im->incomplete = true;
            continue;
        }
        rc = import_root(im, url.ptr, name, local);
        if (rc != TW_OK)
            break;
    }
    tw_buf_cleanup(&url);
    tw_taxii_reply_cleanup(&rp);
    return rc;
}

/* ==== Setup ==== */

static int map_org(const struct tw_org *o, void *arg)
{
    json_t *m = arg;

    json_object_set_new(m, o->name, json_integer((json_int_t)o->id));
    if (o->identity_id[0] != '\0')
        json_object_set_new(m, o->identity_id, json_integer((json_int_t)o->id));
    return 0;
}

/* Finds or creates the organisation imported objects are added as. */
static int producer_org(struct import *im, const char *name)
{
    char cut[TW_STORE_NAME_MAX];
    int rc;

    copy_field(cut, sizeof(cut), name, "the producer", "its name");
    rc = tw_store_org_get(im->st, cut, 0, &im->producer, &im->err);
    if (rc != TW_ENOTFOUND)
        return rc;
    memset(&im->producer, 0, sizeof(im->producer));
    (void)snprintf(im->producer.name, sizeof(im->producer.name), "%s", cut);
    tw_hub_org_identity(im->producer.name, im->producer.identity_id);
    rc = tw_store_org_add(im->st, &im->producer, &im->err);
    if (rc == TW_OK)
        printf("organisation \"%s\": created, producer of the imported objects\n",
                im->producer.name);
    return rc;
}

static const char import_help[] =
        "usage: tidewatch hub import --db STORE --url URL [options]\n"
        "\n"
        "Copies a TAXII 2.1 server's API roots, collections (id, title, description,\n"
        "alias) and every version of every object, with its original date_added,\n"
        "into the hub's store. URL is the server's discovery URL\n"
        "(https://server/taxii2/) or one of its API roots. Collections keep their\n"
        "ids, so clients' URLs keep working. Objects go through the same validator\n"
        "as a POST; refused ones are listed with the reason. Importing again adds\n"
        "only what is new (the rest are duplicates).\n"
        "\n"
        "options:\n"
        "      --db STORE           SQLite path or postgresql:// URL (required)\n"
        "      --url URL            the source's discovery URL (required)\n"
        "      --key-file FILE      API key, sent as a Bearer token (default: $TIDEWATCH_KEY)\n"
        "      --user USER          HTTP Basic user, with --password-file\n"
        "      --password-file FILE HTTP Basic password (first line)\n"
        "      --ca-file FILE       PEM certificates to verify the source with\n"
        "      --insecure           do not verify the source's certificate (testing only)\n"
        "      --root NAME[=LOCAL]  only this API root (last path segment or URL), stored\n"
        "                           as LOCAL; repeatable\n"
        "      --collection ID      only this collection (id or alias); repeatable\n"
        "      --grant-org NAME     grant NAME read on the collections created; repeatable\n"
        "      --as-org NAME        the producer of imported objects (default: the source's\n"
        "                           host[:port]; created when absent)\n"
        "      --default-tlp TLP    marking of unmarked objects in created collections\n"
        "                           (default amber)\n"
        "      --page N             objects per request (default 1000)\n"
        "      --any-origin         follow API roots on other servers with the same\n"
        "                           credentials\n"
        "  -h, --help               this help\n"
        "\n"
        "exit status: 0 everything imported, 1 something refused, missing or skipped,\n"
        "2 usage, 3 the source or the store failed\n";

static int add_list(const char **list, size_t *n, const char *v, const char *opt)
{
    if (*n >= IMPORT_MAX_LIST)
        return tw_cli_usage_error(prog, "at most %d %s", IMPORT_MAX_LIST, opt);
    list[(*n)++] = v;
    return TW_EXIT_OK;
}

int tw_hub_import(int argc, char **argv)
{
    static const struct option opts[] = { { "db", required_argument, NULL, 'd' },
        { "url", required_argument, NULL, 'u' }, { "key-file", required_argument, NULL, 'k' },
        { "user", required_argument, NULL, 'U' }, { "password-file", required_argument, NULL, 'P' },
        { "ca-file", required_argument, NULL, 'c' }, { "insecure", no_argument, NULL, 'I' },
        { "root", required_argument, NULL, 'r' }, { "collection", required_argument, NULL, 'C' },
        { "grant-org", required_argument, NULL, 'g' }, { "as-org", required_argument, NULL, 'o' },
        { "default-tlp", required_argument, NULL, 'L' }, { "page", required_argument, NULL, 'p' },
        { "any-origin", no_argument, NULL, 'A' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 } };
    const char *db = NULL, *url = NULL, *key_file = NULL, *pw_file = NULL, *as_org = NULL;
    const char *env_key = getenv("TIDEWATCH_KEY");
    const char *grant_names[IMPORT_MAX_LIST];
    size_t n_grant_names = 0;
    char secret[512], host[TW_STORE_NAME_MAX];
    struct import *im;
    enum tw_tlp tlp;
    uint64_t v;
    int c, rc, status = TW_EXIT_OK;

    im = tw_calloc(1, sizeof(*im));
    if (im == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return TW_EXIT_ERROR;
    }
    im->default_tlp = TW_TLP_AMBER;
    im->page = IMPORT_DEFAULT_PAGE;
    tw_buf_init(&im->disc_url, IMPORT_MAX_URL);
    secret[0] = '\0';
    while (status == TW_EXIT_OK && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
            case 'd':
                db = optarg;
                break;
            case 'u':
                url = optarg;
                break;
            case 'k':
                key_file = optarg;
                break;
            case 'U':
                im->tc.user = optarg;
                break;
            case 'P':
                pw_file = optarg;
                break;
            case 'c':
                im->tc.ca_file = optarg;
                break;
            case 'I':
                im->tc.insecure = true;
                break;
            case 'r': {
                char *eq = strchr(optarg, '=');
                if (im->n_roots >= IMPORT_MAX_LIST) {
                    status = tw_cli_usage_error(prog, "at most %d --root", IMPORT_MAX_LIST);
                    break;
                }
                if (eq != NULL)
                    *eq = '\0';
                im->roots[im->n_roots].src = optarg;
                im->roots[im->n_roots++].local = eq != NULL ? eq + 1 : NULL;
                break;
            }
            case 'C':
                status = add_list(im->colls, &im->n_colls, optarg, "--collection");
                break;
            case 'g':
                status = add_list(grant_names, &n_grant_names, optarg, "--grant-org");
                break;
            case 'o':
                as_org = optarg;
                break;
            case 'L':
                if (tw_tlp_parse(tw_str_cstr(optarg), &tlp) != TW_OK || tlp == TW_TLP_NONE)
                    status = tw_cli_usage_error(prog, "bad --default-tlp '%s'", optarg);
                else
                    im->default_tlp = (uint8_t)tlp;
                break;
            case 'p':
                if (tw_parse_u64(tw_str_cstr(optarg), IMPORT_MAX_PAGE, &v) != TW_OK || v == 0)
                    status = tw_cli_usage_error(
                            prog, "bad --page '%s' (1..%d)", optarg, IMPORT_MAX_PAGE);
                else
                    im->page = (size_t)v;
                break;
            case 'A':
                im->any_origin = true;
                break;
            case 'h':
                fputs(import_help, stdout);
                goto out;
            default:
                status = tw_cli_usage_error(prog, "bad option");
                break;
        }
    }
    if (status != TW_EXIT_OK)
        goto out;
    if (db == NULL || url == NULL || optind != argc) {
        status = tw_cli_usage_error(prog, "needs --db and --url, and no other arguments");
        goto out;
    }
    if ((im->tc.user != NULL) != (pw_file != NULL) || (im->tc.user != NULL && key_file != NULL)) {
        status = tw_cli_usage_error(
                prog, "--user goes with --password-file, and not with --key-file");
        goto out;
    }
    for (size_t i = 0; i < im->n_roots; i++)
        if (im->roots[i].local != NULL && !root_name_ok(im->roots[i].local)) {
            status = tw_cli_usage_error(prog, "bad local API root name in --root %s=%s",
                    im->roots[i].src, im->roots[i].local);
            goto out;
        }
    if (im->tc.user != NULL) {
        status = read_secret(pw_file, secret, sizeof(secret));
        im->tc.password = secret;
    } else if (key_file != NULL) {
        status = read_secret(key_file, secret, sizeof(secret));
        im->tc.key = secret;
    } else if (env_key != NULL && env_key[0] != '\0') {
        (void)snprintf(secret, sizeof(secret), "%s", env_key);
        im->tc.key = secret;
    } else {
        status = tw_cli_usage_error(
                prog, "no credentials: --key-file, --user with --password-file, or TIDEWATCH_KEY");
    }
    if (status != TW_EXIT_OK)
        goto out;
    if (tw_buf_puts(&im->disc_url, url) != TW_OK ||
            (im->disc_url.ptr[im->disc_url.len - 1] != '/' &&
                    tw_buf_putc(&im->disc_url, '/') != TW_OK)) {
        status = tw_cli_usage_error(prog, "--url is too long");
        goto out;
    }
    authority_of(url, host, sizeof(host));
    tw_err_clear(&im->err);
    if (tw_store_open(db, false, &im->st, &im->err) != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, im->err.msg);
        status = TW_EXIT_ERROR;
        goto out;
    }
    for (size_t i = 0; i < n_grant_names; i++) {
        struct tw_org o;
        if (tw_store_org_get(im->st, grant_names[i], 0, &o, &im->err) != TW_OK) {
            fprintf(stderr, "%s: no organisation '%s' (for --grant-org)\n", prog, grant_names[i]);
            status = TW_EXIT_ERROR;
            goto out;
        }
        im->grants[im->n_grants++] = o.id;
    }
    im->orgs = json_object();
    rc = im->orgs != NULL ? producer_org(im, as_org != NULL ? as_org : host) : TW_ENOMEM;
    if (rc == TW_OK)
        rc = tw_store_org_each(im->st, map_org, im->orgs, &im->err);
    if (rc == TW_OK)
        rc = import_server(im);
    if (rc != TW_OK) {
        fprintf(stderr, "%s: %s\n", prog, im->err.msg[0] ? im->err.msg : tw_strerror(rc));
        status = TW_EXIT_ERROR;
        goto out;
    }
    for (size_t i = 0; i < im->n_roots; i++)
        if (!im->roots[i].used) {
            fprintf(stderr, "%s: the source has no API root '%s'\n", prog, im->roots[i].src);
            im->incomplete = true;
        }
    for (size_t i = 0; i < im->n_colls; i++)
        if (!im->coll_used[i]) {
            fprintf(stderr, "%s: the source has no collection '%s' in the API roots imported\n",
                    prog, im->colls[i]);
            im->incomplete = true;
        }
    {
        char what[64];
        (void)snprintf(what, sizeof(what), "import: %zu collections, ", im->n_collections);
        counts_print(what, &im->total);
    }
    if (im->incomplete || im->total.refused > 0 || im->total.missing > 0)
        status = TW_EXIT_FINDINGS;
out:
    memset(secret, 0, sizeof(secret));
    json_decref(im->orgs);
    tw_store_close(im->st);
    tw_buf_cleanup(&im->disc_url);
    tw_free(im);
    return status;
}
