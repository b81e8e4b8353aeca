/*
 * stix.c: reading STIX 2.1 documents into a bundle of checked objects.
 *
 * Reading goes in four steps:
 *   1. load the JSON with jansson, rejecting duplicate keys; when the only
 *      complaint is a duplicate key, load again accepting them and record the
 *      duplicate as a problem (its JSON path is found by re-scanning the text
 *      up to the offset jansson gave);
 *   2. decide the shape (bundle, TAXII envelope, single object) and check the
 *      document level;
 *   3. check every object on its own (stix_check.c), recording problems;
 *   4. bundle-wide passes: duplicate (id, modified) pairs, the id index,
 *      marking-definitions that redeclare TLP, and each object's effective TLP.
 * This file also owns problem recording, JSON paths and the problem writers.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <unistd.h>

#include "stix_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/hash.h"

/* ==== Paths and problems ==== */

static bool key_is_plain(const char *key, size_t len)
{
    if (len == 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char ch = key[i];

        if (!tw_ascii_isalpha(ch) && !tw_ascii_isdigit(ch) && ch != '_' && ch != '-') {
            return false;
        }
    }
    return true;
}

/* The text of one step, as seg[] of at least TW_STIX_MAX_PATH + 8 bytes; its length. */
static size_t seg_text(const struct tw__stix_seg *sg, char *seg, size_t cap)
{
    size_t n = 0, len;
    const char *key = sg->key;

    if (key == NULL) {
        int w = snprintf(seg, cap, "[%zu]", sg->n);

        return w < 0 ? cap : (size_t)w;
    }
    len = sg->n == SIZE_MAX ? strlen(key) : strnlen(key, sg->n);
    if (key_is_plain(key, len)) {
        if (len + 1 >= cap)
            return cap;
        seg[n++] = '.';
        memcpy(seg + n, key, len);
        return n + len;
    }
    /* ['key'] with quotes, backslashes and control bytes escaped */
    seg[n++] = '[';
    seg[n++] = '\'';
    for (size_t i = 0; i < len && n + 6 < cap; i++) {
        unsigned char ch = (unsigned char)key[i];

        if (ch == '\'' || ch == '\\') {
            seg[n++] = '\\';
            seg[n++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            n += (size_t)snprintf(seg + n, cap - n, "\\x%02x", ch);
        } else {
            seg[n++] = (char)ch;
        }
    }
    seg[n++] = '\'';
    seg[n++] = ']';
    return n;
}

/*
 * Writes "$" and the steps into out (TW_STIX_MAX_PATH + 4 bytes). A step
 * that does not fit whole in TW_STIX_MAX_PATH, and every step after it, is
 * left out, and "..." ends the path instead.
 */
static void path_text(const struct tw__stix_ctx *c, char *out)
{
    char seg[TW_STIX_MAX_PATH + 8];
    size_t len = 1, n_kept = TW_MIN(c->n_segs, (size_t)TW__STIX_MAX_SEGS);
    bool cut = n_kept < c->n_segs;

    out[0] = '$';
    for (size_t i = 0; i < n_kept; i++) {
        size_t n = seg_text(&c->segs[i], seg, sizeof(seg));

        if (n >= sizeof(seg) || n > TW_STIX_MAX_PATH - len) {
            cut = true;
            break;
        }
        memcpy(out + len, seg, n);
        len += n;
    }
    if (cut) {
        memcpy(out + len, "...", 3);
        len += 3;
    }
    out[len] = '\0';
}

static size_t push_seg(struct tw__stix_ctx *c, const char *key, size_t n)
{
    size_t mark = c->n_segs;

    if (mark < TW__STIX_MAX_SEGS) {
        c->segs[mark].key = key;
        c->segs[mark].n = n;
    }
    c->n_segs++;
    return mark;
}

size_t tw__stix_push_key(struct tw__stix_ctx *c, const char *key)
{
    return push_seg(c, key, SIZE_MAX);
}

size_t tw__stix_push_index(struct tw__stix_ctx *c, size_t i)
{
    return push_seg(c, NULL, i);
}

void tw__stix_pop(struct tw__stix_ctx *c, size_t mark)
{
    assert(mark <= c->n_segs);
    c->n_segs = mark;
}

static void add_problem(struct tw_stix_bundle *b, enum tw_stix_severity sev, size_t index,
        const char *object, const char *path, const char *msg)
{
    size_t lo = strlen(object) + 1;
    size_t lp = strlen(path) + 1;
    size_t lm = strlen(msg) + 1;
    struct tw__stix_problem_rec *r;
    char *mem;

    if (sev == TW_STIX_ERROR) {
        b->n_errors++;
    } else {
        b->n_warnings++;
    }
    if (b->n_problems >= TW_STIX_MAX_PROBLEMS) {
        b->n_dropped++;
        return;
    }
    if (b->n_problems == b->cap_problems) {
        size_t cap = b->cap_problems == 0 ? 16 : b->cap_problems * 2;
        struct tw__stix_problem_rec *p = tw_reallocarray(b->problems, cap, sizeof(*p));

        if (p == NULL) {
            b->oom = true;
            return;
        }
        b->problems = p;
        b->cap_problems = cap;
    }
    mem = tw_malloc(lo + lp + lm);
    if (mem == NULL) {
        b->oom = true;
        return;
    }
    memcpy(mem, object, lo);
    memcpy(mem + lo, path, lp);
    memcpy(mem + lo + lp, msg, lm);
    r = &b->problems[b->n_problems++];
    r->mem = mem;
    r->pub.severity = sev;
    r->pub.index = index;
    r->pub.object = mem;
    r->pub.path = mem + lo;
    r->pub.msg = mem + lo + lp;
}

void tw__stix_report(struct tw__stix_ctx *c, enum tw_stix_severity sev, const char *fmt, ...)
{
    char msg[512];
    char path[TW_STIX_MAX_PATH + 4];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    path_text(c, path);
    if (c->obj != NULL) {
        if (sev == TW_STIX_ERROR) {
            c->obj->n_errors++;
            c->obj->valid = false;
        } else {
            c->obj->n_warnings++;
        }
    }
    add_problem(c->b, sev, c->index, c->label, path, msg);
}

/* ==== Contexts ==== */

static void ctx_doc(struct tw__stix_ctx *c, struct tw_stix_bundle *b)
{
    /* segs[] is read only below n_segs: not cleared, it is most of the context */
    c->b = b;
    c->obj = NULL;
    c->index = TW_NOPOS;
    c->label = b->id != NULL ? b->id : "bundle";
    c->label_buf[0] = '\0';
    c->n_segs = 0;
}

/* Points the context at objects[i] (or at the root for a single object). */
static void ctx_object(
        struct tw__stix_ctx *c, struct tw_stix_bundle *b, struct tw_stix_object *o, bool single)
{
    ctx_doc(c, b);
    c->obj = o;
    c->index = o->index;
    if (o->id != NULL) {
        c->label = o->id;
    } else {
        (void)snprintf(c->label_buf, sizeof(c->label_buf), "objects[%zu]", o->index);
        c->label = c->label_buf;
    }
    if (!single) {
        (void)tw__stix_push_key(c, "objects");
        (void)tw__stix_push_index(c, o->index);
    }
}

/* ==== Duplicate keys ==== */

/* One open container while scanning for a byte offset's JSON path. */
struct scan_frame {
    bool is_array;
    size_t index;   /* arrays: current element */
    size_t key_off; /* objects: last key's offset (inside the quotes) */
    size_t key_len;
};

#define SCAN_MAX_DEPTH (JSON_PARSER_MAX_DEPTH + 2)

/*
 * Re-scans valid JSON text up to `stop` and writes into c the JSON path of the
 * last key seen before it (where jansson reported a duplicate key). Returns
 * the index in the top-level "objects" array the key is inside, or TW_NOPOS.
 * The text has already been parsed by jansson, so it is well-formed.
 */
static size_t scan_path(struct tw__stix_ctx *c, const char *text, size_t len, size_t stop)
{
    struct scan_frame *st = tw_calloc(SCAN_MAX_DEPTH, sizeof(*st));
    size_t depth = 0;
    size_t obj_index = TW_NOPOS;
    bool objects_array = false;
    bool expect_key = false;

    if (st == NULL) {
        c->b->oom = true;
        return TW_NOPOS;
    }
    for (size_t i = 0; i < len && i < stop; i++) {
        char ch = text[i];

        if (ch == '"') {
            size_t start = ++i;

            while (i < len && text[i] != '"') {
                i += text[i] == '\\' ? 2 : 1;
            }
            if (expect_key && depth > 0 && !st[depth - 1].is_array) {
                st[depth - 1].key_off = start;
                st[depth - 1].key_len = (i < len ? i : len) - start;
                expect_key = false;
            }
        } else if (ch == '{' || ch == '[') {
            if (depth < SCAN_MAX_DEPTH) {
                st[depth].is_array = ch == '[';
                st[depth].index = 0;
                st[depth].key_len = 0;
                st[depth].key_off = 0;
            }
            depth++;
            expect_key = ch == '{';
        } else if (ch == '}' || ch == ']') {
            depth -= depth > 0 ? 1 : 0;
        } else if (ch == ',' && depth > 0 && depth <= SCAN_MAX_DEPTH) {
            if (st[depth - 1].is_array) {
                st[depth - 1].index++;
            } else {
                expect_key = true;
            }
        }
    }
    for (size_t d = 0; d < depth && d < SCAN_MAX_DEPTH; d++) {
        if (st[d].is_array) {
            (void)tw__stix_push_index(c, st[d].index);
            if (d == 1 && objects_array) {
                obj_index = st[d].index;
            }
        } else {
            /* the key's raw bytes in the text, at most TW_STIX_MAX_PATH of them */
            const char *key = text + st[d].key_off;
            size_t n = strnlen(key, TW_MIN(st[d].key_len, (size_t)TW_STIX_MAX_PATH));

            (void)push_seg(c, key, n);
            objects_array = d == 0 && n == 7 && memcmp(key, "objects", 7) == 0;
        }
    }
    tw_free(st);
    return obj_index;
}

/* ==== Reading ==== */

/* Drops jansson's " near '...'" suffix, which quotes input. */
static void strip_near(char *text)
{
    char *near = strstr(text, " near ");

    if (near != NULL) {
        *near = '\0';
    }
}

static int json_failure(const json_error_t *je, const char *name, struct tw_err *err)
{
    char text[JSON_ERROR_TEXT_LENGTH];
    size_t off = je->position >= 0 ? (size_t)je->position : TW_NOPOS;

    (void)snprintf(text, sizeof(text), "%s", je->text);
    strip_near(text);
    (void)tw_err_set(err, TW_ESYNTAX, off, "%s: line %d, column %d (byte %d): malformed JSON: %s",
            name, je->line, je->column, je->position, text);
    if (err != NULL) {
        err->line = je->line > 0 ? (size_t)je->line : 0;
        err->column = je->column > 0 ? (size_t)je->column : 0;
    }
    return TW_ESYNTAX;
}

static struct tw_stix_bundle *bundle_new(const char *name, unsigned flags)
{
    struct tw_stix_bundle *b = tw_calloc(1, sizeof(*b));

    if (b == NULL) {
        return NULL;
    }
    b->flags = flags;
    b->name = tw_strdup(name);

    b->tlp_local = json_object();
    if (b->name == NULL || b->tlp_local == NULL) {
        tw_stix_bundle_free(b);
        return NULL;
    }
    return b;
}

/* Document level: the container and its own properties. Returns the objects array or NULL. */
static const json_t *check_document(struct tw_stix_bundle *b, bool *single)
{
    struct tw__stix_ctx c;
    const json_t *root = b->root;
    const json_t *type;
    const json_t *objects;
    const json_t *id;
    size_t m;

    *single = false;
    ctx_doc(&c, b);
    if (!json_is_object(root)) {
        b->container = TW_STIX_OTHER;
        tw__stix_report(&c, TW_STIX_ERROR, "the document must be a JSON object (a bundle)");
        return NULL;
    }
    type = json_object_get(root, "type");
    objects = json_object_get(root, "objects");
    id = json_object_get(root, "id");
    if (json_is_string(id)) {
        b->id = json_string_value(id);
        c.label = b->id;
    }
    if (type == NULL) {
        if (objects == NULL) {
            b->container = TW_STIX_OTHER;
            tw__stix_report(&c, TW_STIX_ERROR,
                    "neither a STIX object, a bundle nor a TAXII envelope (no type, no objects)");
            return NULL;
        }
        b->container = TW_STIX_ENVELOPE;
        if (json_is_string(id) && strncmp(b->id, "bundle--", 8) == 0) {
            m = tw__stix_push_key(&c, "type");
            tw__stix_report(&c, TW_STIX_WARNING,
                    "has a bundle id but no type \"bundle\"; read as a TAXII envelope");
            tw__stix_pop(&c, m);
        }
    } else if (json_is_string(type) && strcmp(json_string_value(type), "bundle") == 0) {
        b->container = TW_STIX_BUNDLE;
        m = tw__stix_push_key(&c, "id");
        if (id == NULL) {
            tw__stix_report(&c, TW_STIX_ERROR, "missing required property");
        } else {
            struct tw_str t;

            if (!json_is_string(id) || !tw_stix_id_valid(tw_str_cstr(b->id), &t) ||
                    !tw_str_eq_cstr(t, "bundle")) {
                tw__stix_report(&c, TW_STIX_ERROR, "must be an identifier bundle--<UUID>");
            }
        }
        tw__stix_pop(&c, m);
        if (json_object_get(root, "spec_version") != NULL) {
            m = tw__stix_push_key(&c, "spec_version");
            tw__stix_report(&c, TW_STIX_WARNING,
                    "bundles have no spec_version in STIX 2.1 (it was a STIX 2.0 property)");
            tw__stix_pop(&c, m);
        }
    } else {
        b->container = TW_STIX_SINGLE;
        *single = true;
        return NULL;
    }
    m = tw__stix_push_key(&c, "objects");
    if (objects == NULL) {
        if (b->container == TW_STIX_ENVELOPE) {
            tw__stix_report(&c, TW_STIX_ERROR, "missing objects");
        }
        objects = NULL;
    } else if (!json_is_array(objects)) {
        tw__stix_report(&c, TW_STIX_ERROR, "must be a list of STIX objects");
        objects = NULL;
    } else if (json_array_size(objects) == 0 && b->container == TW_STIX_BUNDLE) {
        tw__stix_report(&c, TW_STIX_ERROR, "lists must not be empty (omit objects instead)");
    }
    tw__stix_pop(&c, m);
    return objects;
}

static void fill_identity(struct tw_stix_object *o)
{
    const json_t *t = json_object_get(o->json, "type");
    const json_t *id = json_object_get(o->json, "id");

    o->type = json_is_string(t) ? json_string_value(t) : "";
    if (json_is_string(id) &&
            tw_stix_id_valid(tw_str_make(json_string_value(id), json_string_length(id)), NULL)) {
        o->id = json_string_value(id);
    }
}

/* Sort context for pass_versions: qsort has none in C11. Bundles are read on
 * several threads at once (the hub validates concurrent POSTs), so it is
 * per thread. */
static _Thread_local const struct tw_stix_bundle *versions_ctx;

static const char *modified_text(const struct tw_stix_object *o)
{
    const char *m = json_string_value(json_object_get(o->json, "modified"));

    return m != NULL ? m : "";
}

/* Orders object indices by id, then modified text, then document position. */
static int cmp_versions(const void *pa, const void *pb)
{
    const struct tw_stix_object *x = &versions_ctx->objs[*(const uint32_t *)pa];
    const struct tw_stix_object *y = &versions_ctx->objs[*(const uint32_t *)pb];
    int c = strcmp(x->id, y->id);

    if (c == 0)
        c = strcmp(modified_text(x), modified_text(y));
    if (c == 0)
        c = x->index < y->index ? -1 : x->index > y->index;
    return c;
}

static int cmp_u32(const void *pa, const void *pb)
{
    uint32_t x = *(const uint32_t *)pa, y = *(const uint32_t *)pb;

    return x < y ? -1 : x > y;
}

static size_t id_slot(const struct tw_stix_bundle *b, const char *id)
{
    return (size_t)tw_hash64(id, strlen(id), 0x5354495856455253ull) & (b->n_id_slots - 1);
}

/*
 * Duplicate (id, modified) pairs, and the id -> latest-version table that
 * tw_stix_bundle_find uses. Sorting the ids keeps this O(n log n) with no
 * per-id allocation; warnings come out in document order.
 */
static int pass_versions(struct tw_stix_bundle *b, bool single)
{
    uint32_t *order = NULL, *dups = NULL;
    size_t n = 0, n_dups = 0, slots = 16;

    for (size_t i = 0; i < b->n_objs; i++)
        n += b->objs[i].id != NULL;
    if (n == 0)
        return TW_OK;
    order = tw_calloc(n, sizeof(*order));
    dups = tw_calloc(n, sizeof(*dups));
    while (slots < 2 * n)
        slots *= 2;
    b->id_slots = tw_calloc(slots, sizeof(*b->id_slots));
    if (order == NULL || dups == NULL || b->id_slots == NULL) {
        tw_free(order);
        tw_free(dups);
        return TW_ENOMEM;
    }
    b->n_id_slots = slots;
    n = 0;
    for (size_t i = 0; i < b->n_objs; i++)
        if (b->objs[i].id != NULL)
            order[n++] = (uint32_t)i;
    versions_ctx = b;
    qsort(order, n, sizeof(*order), cmp_versions);
    versions_ctx = NULL;
    for (size_t k = 0; k < n;) {
        size_t end = k + 1, latest;

        while (end < n && strcmp(b->objs[order[end]].id, b->objs[order[k]].id) == 0)
            end++;
        /* Equal (id, modified) pairs sit next to each other in this order. */
        for (size_t j = k + 1; j < end; j++)
            if (strcmp(modified_text(&b->objs[order[j]]), modified_text(&b->objs[order[j - 1]])) ==
                    0)
                dups[n_dups++] = order[j];
        /* In document order, a version replaces the one kept unless it is
         * strictly older; so the latest modified wins, the later one on a tie. */
        qsort(order + k, end - k, sizeof(*order), cmp_u32);
        latest = order[k];
        for (size_t j = k + 1; j < end; j++) {
            const struct tw_stix_object *o = &b->objs[order[j]], *p = &b->objs[latest];
            if (!(o->has_modified && p->has_modified &&
                        tw_time_cmp(&o->modified, &p->modified) < 0))
                latest = order[j];
        }
        {
            size_t h = id_slot(b, b->objs[latest].id);
            while (b->id_slots[h] != 0)
                h = (h + 1) & (slots - 1);
            b->id_slots[h] = (uint32_t)latest + 1;
        }
        k = end;
    }
    qsort(dups, n_dups, sizeof(*dups), cmp_u32);
    for (size_t j = 0; j < n_dups; j++) {
        struct tw__stix_ctx c;

        ctx_object(&c, b, &b->objs[dups[j]], single);
        (void)tw__stix_push_key(&c, "id");
        tw__stix_report(&c, TW_STIX_WARNING,
                "another object in this document has the same id and modified");
    }
    tw_free(order);
    tw_free(dups);
    return TW_OK;
}

static enum tw_tlp resolve_local(struct tw_str id, void *ctx)
{
    const struct tw_stix_bundle *b = ctx;
    const json_t *v = json_object_getn(b->tlp_local, id.ptr, id.len);

    return json_is_integer(v) ? (enum tw_tlp)json_integer_value(v) : TW_TLP_NONE;
}

static int set_index(json_t *map, const char *key, size_t value)
{
    json_t *v = json_integer((json_int_t)value);

    if (v == NULL || json_object_set_new(map, key, v) != 0) {
        return TW_ENOMEM;
    }
    return TW_OK;
}

/* Marking-definitions that declare TLP under other ids, then each object's TLP. */
static int pass_tlp(struct tw_stix_bundle *b)
{
    for (size_t i = 0; i < b->n_objs; i++) {
        struct tw_stix_object *o = &b->objs[i];
        enum tw_tlp level;
        int version;

        if (o->id == NULL || strcmp(o->type, "marking-definition") != 0 ||
                tw_tlp_from_definition(o->json, &level, &version) != TW_OK ||
                tw_tlp_from_marking_id(tw_str_cstr(o->id), NULL) != TW_TLP_NONE) {
            continue;
        }
        if (set_index(b->tlp_local, o->id, (size_t)level) != TW_OK) {
            return TW_ENOMEM;
        }
    }
    for (size_t i = 0; i < b->n_objs; i++) {
        b->objs[i].tlp = tw_tlp_of_object(b->objs[i].json, resolve_local, b);
    }
    return TW_OK;
}

/* ==== Parallel checks of large bundles ==== */

/*
 * The per-object checks of a bundle with many objects run on several
 * threads, each over a contiguous range of objects with a private problem
 * list; the lists are merged in document order, so the problems, their order
 * and the counts are exactly those of a single-thread run. (Parsing the JSON
 * on several threads was measured too: splitting the "objects" array and
 * parsing the parts in parallel saved under 15% of jansson's time, not worth
 * a second parser of hostile input.)
 */

/* Fewest objects worth a second thread, and most threads used. */
#define TW_STIX_PAR_MIN_PER_THREAD 2048u
#define TW_STIX_PAR_MAX_THREADS    8u

static unsigned thread_count(size_t n_items)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t t = n_items / TW_STIX_PAR_MIN_PER_THREAD;

    if (cpus < 1)
        cpus = 1;
    if (t > (size_t)cpus)
        t = (size_t)cpus;
    if (t > TW_STIX_PAR_MAX_THREADS)
        t = TW_STIX_PAR_MAX_THREADS;
    return t < 1 ? 1 : (unsigned)t;
}

/* One thread's work: fn(arg). */
struct range_job {
    void *(*fn)(void *);
    void *arg;
};

/*
 * Runs every job, the first on the calling thread and the others on threads
 * of their own; a job whose thread cannot be started runs here afterwards.
 */
static void run_jobs(struct range_job *jobs, unsigned n_jobs)
{
    pthread_t tid[TW_STIX_PAR_MAX_THREADS];
    bool started[TW_STIX_PAR_MAX_THREADS] = { false };

    for (unsigned t = 1; t < n_jobs; t++)
        started[t] = pthread_create(&tid[t], NULL, jobs[t].fn, jobs[t].arg) == 0;
    (void)jobs[0].fn(jobs[0].arg);
    for (unsigned t = 1; t < n_jobs; t++) {
        if (started[t])
            (void)pthread_join(tid[t], NULL);
        else
            (void)jobs[t].fn(jobs[t].arg); /* no thread: do it here */
    }
}

/* One thread's share of the per-object checks, with its own problem list. */
struct par_check {
    struct tw_stix_bundle shadow; /* a copy of the bundle; only its problems are its own */
    const json_t *objects;
    size_t lo, hi;
};

static void check_one(struct tw_stix_bundle *b, const json_t *objects, bool single, size_t i)
{
    struct tw_stix_object *o = &b->objs[i];
    struct tw__stix_ctx c;

    o->json = single ? b->root : json_array_get(objects, i);
    o->index = i;
    o->valid = true;
    o->type = "";
    if (json_is_object(o->json)) {
        fill_identity(o);
    }
    ctx_object(&c, b, o, single);
    tw__stix_check_object(&c, o->json);
}

static void *check_range(void *arg)
{
    struct par_check *pc = arg;

    for (size_t i = pc->lo; i < pc->hi; i++)
        check_one(&pc->shadow, pc->objects, false, i);
    return NULL;
}

/* Appends a shadow's problems to b, keeping the first TW_STIX_MAX_PROBLEMS in order. */
static void merge_problems(struct tw_stix_bundle *b, struct tw_stix_bundle *sh)
{
    b->n_errors += sh->n_errors;
    b->n_warnings += sh->n_warnings;
    b->n_dropped += sh->n_dropped;
    b->oom = b->oom || sh->oom;
    for (size_t i = 0; i < sh->n_problems; i++) {
        if (b->n_problems >= TW_STIX_MAX_PROBLEMS) {
            b->n_dropped++;
            tw_free(sh->problems[i].mem);
            continue;
        }
        if (b->n_problems == b->cap_problems) {
            size_t cap = b->cap_problems == 0 ? 16 : b->cap_problems * 2;
            struct tw__stix_problem_rec *p = tw_reallocarray(b->problems, cap, sizeof(*p));
            if (p == NULL) {
                b->oom = true;
                tw_free(sh->problems[i].mem);
                continue;
            }
            b->problems = p;
            b->cap_problems = cap;
        }
        b->problems[b->n_problems++] = sh->problems[i];
    }
    tw_free(sh->problems);
    sh->problems = NULL;
    sh->n_problems = 0;
}

/* The per-object checks on several threads. Returns false when it did not run. */
static bool check_parallel(struct tw_stix_bundle *b, const json_t *objects, size_t n)
{
    struct par_check pc[TW_STIX_PAR_MAX_THREADS];
    struct range_job jobs[TW_STIX_PAR_MAX_THREADS];
    unsigned n_thr = thread_count(n);

    if (n_thr < 2)
        return false;
    for (unsigned t = 0; t < n_thr; t++) {
        pc[t].shadow = *b;
        pc[t].shadow.problems = NULL;
        pc[t].shadow.n_problems = pc[t].shadow.cap_problems = 0;
        pc[t].shadow.n_errors = pc[t].shadow.n_warnings = pc[t].shadow.n_dropped = 0;
        pc[t].shadow.oom = false;
        pc[t].objects = objects;
        pc[t].lo = n * t / n_thr;
        pc[t].hi = n * (t + 1) / n_thr;
        jobs[t].fn = check_range;
        jobs[t].arg = &pc[t];
    }
    run_jobs(jobs, n_thr);
    for (unsigned t = 0; t < n_thr; t++)
        merge_problems(b, &pc[t].shadow);
    return true;
}

static int read_objects(struct tw_stix_bundle *b)
{
    bool single;
    const json_t *objects = check_document(b, &single);
    size_t n = single ? 1 : json_array_size(objects);

    if (n > TW_STIX_MAX_OBJECTS) {
        return TW_ELIMIT;
    }
    if (n > 0) {
        b->objs = tw_calloc(n, sizeof(*b->objs));
        if (b->objs == NULL) {
            return TW_ENOMEM;
        }
    }
    b->n_objs = n;
    if (single || !check_parallel(b, objects, n)) {
        for (size_t i = 0; i < n; i++) {
            check_one(b, objects, single, i);
        }
    }
    if (pass_versions(b, single) != TW_OK || pass_tlp(b) != TW_OK) {
        return TW_ENOMEM;
    }
    return b->oom ? TW_ENOMEM : TW_OK;
}

/* Records the duplicate key jansson found, at its JSON path. */
static void report_duplicate(
        struct tw_stix_bundle *b, const char *data, size_t len, const json_error_t *je, bool single)
{
    struct tw__stix_ctx c;
    size_t idx;
    size_t stop = je->position >= 0 ? (size_t)je->position : len;

    ctx_doc(&c, b);
    idx = scan_path(&c, data, len, stop);
    if (idx != TW_NOPOS && idx < b->n_objs) {
        struct tw_stix_object *o = &b->objs[idx];

        c.obj = o;
        c.index = idx;
        if (o->id != NULL) {
            c.label = o->id;
        } else {
            (void)snprintf(c.label_buf, sizeof(c.label_buf), "objects[%zu]", idx);
            c.label = c.label_buf;
        }
    } else if (single && b->n_objs == 1) {
        c.obj = &b->objs[0];
        c.index = 0;
        c.label = b->objs[0].id != NULL ? b->objs[0].id : "objects[0]";
    }
    tw__stix_report(&c, TW_STIX_ERROR,
            "duplicate key (line %d, column %d): the last value was used", je->line, je->column);
}

int tw_stix_read_mem(const char *data, size_t len, const char *name, unsigned flags,
        struct tw_stix_bundle **out, struct tw_err *err)
{
    json_error_t je;
    json_error_t dup = { 0 };
    struct tw_stix_bundle *b;
    bool had_dup = false;
    int rc;

    *out = NULL;
    if (name == NULL) {
        name = "-";
    }
    if (len > TW_STIX_MAX_INPUT) {
        return tw_err_set(
                err, TW_ELIMIT, TW_NOPOS, "%s: larger than %zu bytes", name, TW_STIX_MAX_INPUT);
    }
    b = bundle_new(name, flags);
    if (b == NULL) {
        return tw_err_set(err, TW_ENOMEM, TW_NOPOS, "%s: out of memory", name);
    }
    b->root = tw__json_fast_load(data, len);
    if (b->root == NULL)
        b->root = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (b->root == NULL && json_error_code(&je) == json_error_duplicate_key) {
        dup = je;
        had_dup = true;
        b->root = json_loadb(data, len, JSON_DECODE_ANY, &je);
    }
    if (b->root == NULL) {
        tw_stix_bundle_free(b);
        if (json_error_code(&je) == json_error_out_of_memory) {
            return tw_err_set(err, TW_ENOMEM, TW_NOPOS, "%s: out of memory", name);
        }
        return json_failure(&je, name, err);
    }
    rc = read_objects(b);
    if (rc == TW_OK && had_dup) {
        report_duplicate(b, data, len, &dup, b->container == TW_STIX_SINGLE);
        rc = b->oom ? TW_ENOMEM : TW_OK;
    }
    for (size_t i = 0; i < b->n_objs; i++) {
        b->n_valid += b->objs[i].valid ? 1 : 0;
    }
    if (rc != TW_OK) {
        tw_stix_bundle_free(b);
        return tw_err_set(err, rc, TW_NOPOS, "%s: %s", name, tw_strerror(rc));
    }
    *out = b;
    return TW_OK;
}

int tw_stix_read_file(
        const char *path, unsigned flags, struct tw_stix_bundle **out, struct tw_err *err)
{
    FILE *fp;
    struct tw_buf buf;
    char chunk[65536];
    size_t n;
    int rc = TW_OK;

    *out = NULL;
    fp = fopen(path, "rb");
    if (fp == NULL) {
        return tw_err_set(err, TW_EIO, TW_NOPOS, "%s: cannot open: %s", path, strerror(errno));
    }
    tw_buf_init(&buf, TW_STIX_MAX_INPUT);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        rc = tw_buf_append(&buf, chunk, n);
        if (rc != TW_OK) {
            break;
        }
    }
    if (rc == TW_OK && ferror(fp)) {
        rc = TW_EIO;
    }
    (void)fclose(fp);
    if (rc == TW_ELIMIT) {
        tw_buf_cleanup(&buf);
        return tw_err_set(
                err, TW_ELIMIT, TW_NOPOS, "%s: larger than %zu bytes", path, TW_STIX_MAX_INPUT);
    }
    if (rc != TW_OK) {
        tw_buf_cleanup(&buf);
        return tw_err_set(err, rc, TW_NOPOS, "%s: cannot read: %s", path, tw_strerror(rc));
    }
    rc = tw_stix_read_mem(buf.ptr != NULL ? buf.ptr : "", buf.len, path, flags, out, err);
    tw_buf_cleanup(&buf);
    return rc;
}

void tw_stix_bundle_free(struct tw_stix_bundle *b)
{
    if (b == NULL) {
        return;
    }
    for (size_t i = 0; i < b->n_problems; i++) {
        tw_free(b->problems[i].mem);
    }
    tw_free(b->problems);
    tw_free(b->objs);
    json_decref(b->root);
    tw_free(b->id_slots);
    json_decref(b->tlp_local);
    tw_free(b->name);
    tw_free(b);
}

/* ==== Accessors ==== */

const char *tw_stix_bundle_name(const struct tw_stix_bundle *b)
{
    return b->name;
}

enum tw_stix_container tw_stix_bundle_container(const struct tw_stix_bundle *b)
{
    return b->container;
}

const char *tw_stix_bundle_id(const struct tw_stix_bundle *b)
{
    return b->id;
}

const json_t *tw_stix_bundle_json(const struct tw_stix_bundle *b)
{
    return b->root;
}

size_t tw_stix_bundle_count(const struct tw_stix_bundle *b)
{
    return b->n_objs;
}

size_t tw_stix_bundle_n_valid(const struct tw_stix_bundle *b)
{
    return b->n_valid;
}

const struct tw_stix_object *tw_stix_bundle_object(const struct tw_stix_bundle *b, size_t i)
{
    return i < b->n_objs ? &b->objs[i] : NULL;
}

const struct tw_stix_object *tw_stix_bundle_find(const struct tw_stix_bundle *b, const char *id)
{
    if (b->n_id_slots == 0 || id == NULL)
        return NULL;
    for (size_t h = id_slot(b, id); b->id_slots[h] != 0; h = (h + 1) & (b->n_id_slots - 1)) {
        const struct tw_stix_object *o = &b->objs[b->id_slots[h] - 1];
        if (strcmp(o->id, id) == 0)
            return o;
    }
    return NULL;
}

size_t tw_stix_bundle_n_problems(const struct tw_stix_bundle *b)
{
    return b->n_problems;
}

const struct tw_stix_problem *tw_stix_bundle_problem(const struct tw_stix_bundle *b, size_t i)
{
    return i < b->n_problems ? &b->problems[i].pub : NULL;
}

size_t tw_stix_bundle_n_errors(const struct tw_stix_bundle *b)
{
    return b->n_errors;
}

size_t tw_stix_bundle_n_warnings(const struct tw_stix_bundle *b)
{
    return b->n_warnings;
}

enum tw_tlp tw_stix_property_tlp(
        const struct tw_stix_bundle *b, const struct tw_stix_object *o, const char *prop)
{
    return tw_tlp_of_property(o->json, tw_str_cstr(prop), resolve_local, (void *)(uintptr_t)b);
}

/* ==== Indicators ==== */

int tw_stix_indicator_get(const struct tw_stix_object *o, struct tw_stix_indicator *out)
{
    const json_t *pat;
    const json_t *name;
    const json_t *vu;

    if (!o->valid || o->id == NULL || strcmp(o->type, "indicator") != 0) {
        return TW_EINVAL;
    }
    memset(out, 0, sizeof(*out));
    pat = json_object_get(o->json, "pattern");
    name = json_object_get(o->json, "name");
    vu = json_object_get(o->json, "valid_until");
    out->obj = o;
    out->id = o->id;
    out->name = json_is_string(name) ? json_string_value(name) : NULL;
    out->pattern = tw_str_make(json_string_value(pat), json_string_length(pat));
    out->pattern_type = json_string_value(json_object_get(o->json, "pattern_type"));
    if (tw_time_parse(tw_str_cstr(json_string_value(json_object_get(o->json, "valid_from"))), 0,
                &out->valid_from, NULL) != TW_OK) {
        return TW_EINVAL;
    }
    if (json_is_string(vu)) {
        out->has_valid_until = tw_time_parse(tw_str_cstr(json_string_value(vu)), 0,
                                       &out->valid_until, NULL) == TW_OK;
    }
    out->revoked = json_is_true(json_object_get(o->json, "revoked"));
    out->tlp = o->tlp;
    return TW_OK;
}

int tw_stix_each_indicator(const struct tw_stix_bundle *b, tw_stix_indicator_fn *fn, void *ctx)
{
    for (size_t i = 0; i < b->n_objs; i++) {
        struct tw_stix_indicator ind;
        int rc;

        if (tw_stix_indicator_get(&b->objs[i], &ind) != TW_OK) {
            continue;
        }
        rc = fn(&ind, ctx);
        if (rc != 0) {
            return rc;
        }
    }
    return TW_OK;
}

/* ==== Writing problems ==== */

const char *tw_stix_severity_name(enum tw_stix_severity s)
{
    return s == TW_STIX_ERROR ? "error" : "warning";
}

static int put_json_string(struct tw_buf *out, const char *s)
{
    int rc = tw_buf_putc(out, '"');

    if (rc == TW_OK) {
        rc = tw_buf_json_escape(out, s, strlen(s));
    }
    if (rc == TW_OK) {
        rc = tw_buf_putc(out, '"');
    }
    return rc;
}

int tw_stix_problem_format(const struct tw_stix_problem *p, const char *file,
        enum tw_stix_format fmt, struct tw_buf *out)
{
    int rc;

    if (file == NULL) {
        file = "-";
    }
    if (fmt == TW_STIX_TEXT) {
        return tw_buf_printf(out, "%s: %s: %s %s: %s\n", file,
                p->severity == TW_STIX_ERROR ? "ERROR" : "WARNING", p->object, p->path, p->msg);
    }
    rc = tw_buf_puts(out, "{\"file\":");
    if (rc == TW_OK) {
        rc = put_json_string(out, file);
    }
    if (rc == TW_OK) {
        rc = tw_buf_printf(
                out, ",\"severity\":\"%s\",\"object\":", tw_stix_severity_name(p->severity));
    }
    if (rc == TW_OK) {
        rc = put_json_string(out, p->object);
    }
    if (rc == TW_OK) {
        rc = tw_buf_puts(out, ",\"path\":");
    }
    if (rc == TW_OK) {
        rc = put_json_string(out, p->path);
    }
    if (rc == TW_OK) {
        rc = tw_buf_puts(out, ",\"message\":");
    }
    if (rc == TW_OK) {
        rc = put_json_string(out, p->msg);
    }
    if (rc == TW_OK) {
        rc = tw_buf_puts(out, "}\n");
    }
    return rc;
}

int tw_stix_problems_write(const struct tw_stix_bundle *b, FILE *fp, enum tw_stix_format fmt)
{
    struct tw_buf line;
    int rc = TW_OK;

    tw_buf_init(&line, (size_t)64 * 1024);
    for (size_t i = 0; i < b->n_problems && rc == TW_OK; i++) {
        tw_buf_reset(&line);
        rc = tw_stix_problem_format(&b->problems[i].pub, b->name, fmt, &line);
        if (rc == TW_OK && fwrite(line.ptr, 1, line.len, fp) != line.len) {
            rc = TW_EIO;
        }
    }
    if (rc == TW_OK && b->n_dropped > 0 && fmt == TW_STIX_TEXT &&
            fprintf(fp, "%s: %zu more problems not recorded\n", b->name, b->n_dropped) < 0) {
        rc = TW_EIO;
    }
    tw_buf_cleanup(&line);
    return rc;
}
