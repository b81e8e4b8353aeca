/*
 * pattern_match.c: evaluates a compiled pattern against observations
 * (STIX 2.1 sections 9.5 and 9.6).
 *
 * Two layers. The comparison layer decides whether one observation satisfies
 * a bracket: every object type the bracket names is bound to one object of
 * that type in the observation's "objects" map (so comparisons on the same
 * type joined by AND must hold on the same object), object paths walk
 * properties, list indexes and `_ref` and `_refs` references, and each operator
 * applies the coercion rules of section 9.6 to every value the path reaches.
 * The observation layer searches for an assignment of observations to
 * brackets that satisfies AND, OR, FOLLOWEDBY and the qualifiers. It is a
 * backtracking search in continuation-passing style over a stack of chosen
 * observations; each node sees its own binding as a segment of that stack.
 * The search counts its steps and stops with TW_ELIMIT at
 * TW_PATTERN_MAX_STEPS, and the stack and the observation count are capped,
 * so no input can make it run away.
 */
#include <stdint.h>
#include <string.h>

#include "pattern_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/err.h"
#include "tidewatch/hash.h"
#include "tidewatch/time.h"

/* Deepest binding (observations chosen at once) the search keeps. */
#define MAX_BINDING 1024
/* PCRE2 limits per regex match: backtracking steps and nesting. */
#define REGEX_MATCH_LIMIT 100000
#define REGEX_DEPTH_LIMIT 2000

/* ==== Types ==== */

struct obs_rec {
    const json_t *objects; /* the observation's "objects" map */
    struct tw_time first;  /* first_observed */
    struct tw_time last;   /* last_observed (first_observed when absent) */
};

/* One object bound to an object type (NULL when the observation has none of that type). */
struct slot {
    const json_t *v;
};

struct leaf_cache {
    bool done;
    size_t *hits; /* indexes of the observations that satisfy the bracket */
    size_t n_hits;
};

struct mctx {
    const struct tw_pattern *pat;
    struct obs_rec *obs;
    size_t n_obs;
    struct leaf_cache *leaves;
    size_t stack[MAX_BINDING];
    size_t top;
    uint64_t steps;
    int status; /* TW_OK, or the error that ended the search */
    struct tw_err *err;
    pcre2_match_data *md;
    pcre2_match_context *mc;
    const json_t *cur_objects; /* objects map of the observation being tested */
};

/* Outcome of testing one value: the operator holds, fails, or cannot apply. */
enum verdict { V_FALSE = 0, V_TRUE = 1, V_NA = 2 };

/* ==== Budget ==== */

static bool spend(struct mctx *m, uint64_t n)
{
    if (m->status != TW_OK)
        return false;
    m->steps += n;
    if (m->steps > TW_PATTERN_MAX_STEPS) {
        m->status = tw_err_set(m->err, TW_ELIMIT, TW_NOPOS, "pattern evaluation exceeded %d steps",
                TW_PATTERN_MAX_STEPS);
        return false;
    }
    return true;
}

/* ==== Value coercion ==== */

static int cmp_bytes(const void *a, size_t na, const void *b, size_t nb)
{
    int c = memcmp(a, b, TW_MIN(na, nb));

    if (c != 0)
        return c < 0 ? -1 : 1;
    return na < nb ? -1 : na > nb ? 1 : 0;
}

static bool all_hex(const char *s, size_t n)
{
    if (n % 2 != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!tw_ascii_isxdigit(s[i]))
            return false;
    }
    return true;
}

/*
 * Compares a binary property (hex for *_hex names, base64 for *_bin names,
 * otherwise whichever decodes) with a decoded literal. Returns V_NA when the
 * property does not decode, else sets *order.
 */
static enum verdict cmp_binary(
        const json_t *v, struct tw_str key, const struct tw__lit *lit, int *order, struct mctx *m)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    bool as_hex;
    uint8_t *buf;
    long got;

    if (s == NULL)
        return V_NA;
    if (tw_str_ends_with(key, TW_STR("_hex")))
        as_hex = true;
    else if (tw_str_ends_with(key, TW_STR("_bin")))
        as_hex = false;
    else
        as_hex = all_hex(s, n);
    buf = tw_malloc(n / 2 + n / 4 * 3 + 1);
    if (buf == NULL) {
        m->status = tw_err_set(m->err, TW_ENOMEM, TW_NOPOS, "out of memory");
        return V_NA;
    }
    if (as_hex)
        got = all_hex(s, n) && tw_hex_decode(tw_str_make(s, n), buf, n / 2) == TW_OK ? (long)(n / 2)
                                                                                     : -1;
    else
        got = tw__pattern_b64_decode(tw_str_make(s, n), buf);
    if (got >= 0)
        *order = cmp_bytes(buf, (size_t)got, lit->bytes, lit->n_bytes);
    tw_free(buf);
    return got >= 0 ? V_TRUE : V_NA;
}

/* Orders value v against lit: V_TRUE with *order set, or V_NA when they do not compare. */
static enum verdict order_of(
        const json_t *v, struct tw_str key, const struct tw__lit *lit, int *order, struct mctx *m)
{
    switch (lit->kind) {
        case TW__LIT_STR:
            if (!json_is_string(v))
                return V_NA;
            *order = cmp_bytes(
                    json_string_value(v), json_string_length(v), lit->text.ptr, lit->text.len);
            return V_TRUE;
        case TW__LIT_INT:
        case TW__LIT_FLOAT:
            if (json_is_integer(v) && lit->kind == TW__LIT_INT) {
                json_int_t a = json_integer_value(v);
                *order = a < lit->i ? -1 : a > lit->i ? 1 : 0;
                return V_TRUE;
            }
            if (json_is_number(v)) {
                double a = json_number_value(v);
                *order = a < lit->f ? -1 : a > lit->f ? 1 : 0;
                return V_TRUE;
            }
            return V_NA;
        case TW__LIT_BOOL:
            if (!json_is_boolean(v))
                return V_NA;
            *order = json_is_true(v) == lit->b ? 0 : 1;
            return V_TRUE;
        case TW__LIT_TIME: {
            struct tw_time t;
            if (!json_is_string(v) ||
                    tw_time_parse(tw_str_make(json_string_value(v), json_string_length(v)),
                            TW_TIME_ALLOW_OFFSET | TW_TIME_ALLOW_LOWER, &t, NULL) != TW_OK)
                return V_NA;
            *order = tw_time_cmp(&t, &lit->t);
            return V_TRUE;
        }
        default:
            return cmp_binary(v, key, lit, order, m);
    }
}

/* Length of the UTF-8 sequence starting at s[i] (at least 1, at most what is left). */
static size_t cp_len(const char *s, size_t n, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    size_t k = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

    return TW_MIN(k, n - i);
}

/* SQL LIKE: % matches any run of characters, _ exactly one. */
static bool like(const char *s, size_t sn, const char *p, size_t pn, struct mctx *m)
{
    size_t si = 0, pi = 0, star_p = SIZE_MAX, star_s = 0;

    while (si < sn) {
        if ((si & 0xff) == 0 && !spend(m, 1))
            return false;
        if (pi < pn && p[pi] == '%') {
            star_p = pi++;
            star_s = si;
        } else if (pi < pn && p[pi] == '_') {
            pi++;
            si += cp_len(s, sn, si);
        } else if (pi < pn && p[pi] == s[si]) {
            pi++;
            si++;
        } else if (star_p != SIZE_MAX) {
            pi = star_p + 1;
            star_s += cp_len(s, sn, star_s);
            si = star_s;
        } else {
            return false;
        }
    }
    while (pi < pn && p[pi] == '%')
        pi++;
    return pi == pn;
}

/* Applies a comparison's operator (not its NOT) to one value the path reached. */
static enum verdict test_value(
        struct mctx *m, const struct tw__cmp *c, const json_t *v, struct tw_str key)
{
    int order = 0;
    enum verdict r;

    switch (c->op) {
        case TW__OP_EXISTS:
            return V_TRUE;
        case TW__OP_EQ:
        case TW__OP_NE:
        case TW__OP_LT:
        case TW__OP_LE:
        case TW__OP_GT:
        case TW__OP_GE:
            if ((r = order_of(v, key, &c->lits[0], &order, m)) != V_TRUE)
                return r;
            switch (c->op) {
                case TW__OP_EQ:
                    return order == 0 ? V_TRUE : V_FALSE;
                case TW__OP_NE:
                    return order != 0 ? V_TRUE : V_FALSE;
                case TW__OP_LT:
                    return order < 0 ? V_TRUE : V_FALSE;
                case TW__OP_LE:
                    return order <= 0 ? V_TRUE : V_FALSE;
                case TW__OP_GT:
                    return order > 0 ? V_TRUE : V_FALSE;
                default:
                    return order >= 0 ? V_TRUE : V_FALSE;
            }
        case TW__OP_IN: {
            enum verdict acc = V_NA;
            for (size_t i = 0; i < c->n_lits; i++) {
                if (order_of(v, key, &c->lits[i], &order, m) != V_TRUE)
                    continue;
                if (order == 0)
                    return V_TRUE;
                acc = V_FALSE;
            }
            return acc;
        }
        case TW__OP_LIKE:
            if (!json_is_string(v))
                return V_NA;
            return like(json_string_value(v), json_string_length(v), c->lits[0].text.ptr,
                           c->lits[0].text.len, m)
                           ? V_TRUE
                           : V_FALSE;
        case TW__OP_MATCHES: {
            int rc;
            if (!json_is_string(v))
                return V_NA;
            rc = pcre2_match(c->re, (PCRE2_SPTR)json_string_value(v), json_string_length(v), 0, 0,
                    m->md, m->mc);
            if (rc >= 0)
                return V_TRUE;
            if (rc == PCRE2_ERROR_NOMATCH)
                return V_FALSE;
            if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
                    rc == PCRE2_ERROR_HEAPLIMIT) {
                m->status = tw_err_set(m->err, TW_ELIMIT, c->lits[0].off,
                        "regular expression hit its match limit");
                return V_NA;
            }
            return V_NA;
        }
        case TW__OP_ISSUBSET:
        case TW__OP_ISSUPERSET: {
            struct tw__cidr have;
            if (!json_is_string(v) ||
                    !tw__pattern_cidr_parse(
                            tw_str_make(json_string_value(v), json_string_length(v)), &have) ||
                    have.family != c->cidr.family)
                return V_NA;
            if (c->op == TW__OP_ISSUBSET)
                return tw__pattern_cidr_within(&have, &c->cidr) ? V_TRUE : V_FALSE;
            return tw__pattern_cidr_within(&c->cidr, &have) ? V_TRUE : V_FALSE;
        }
    }
    return V_NA;
}

/* ==== Object paths ==== */

/*
 * Walks path steps [k..] from value v and returns true when some value at the
 * end satisfies the comparison (with its NOT applied). `deref` says v came
 * from a `_ref` property or a `_refs` list, so a string there names another
 * object of the same observation.
 */
static bool walk(struct mctx *m, const struct tw__cmp *c, const json_t *v, size_t k, bool deref,
        bool in_refs, struct tw_str key)
{
    const struct tw__path *path = &c->path;

    if (!spend(m, 1))
        return false;
    if (v == NULL || json_is_null(v))
        return false;
    if (k == path->n_steps) {
        enum verdict r = test_value(m, c, v, key);
        if (r == V_NA)
            return false;
        return c->negated ? r == V_FALSE : r == V_TRUE;
    }
    {
        const struct tw__step *st = &path->steps[k];
        if (st->kind == TW__STEP_KEY) {
            const json_t *next;
            if (json_is_string(v) && deref)
                v = json_object_getn(m->cur_objects, json_string_value(v), json_string_length(v));
            if (!json_is_object(v))
                return false;
            next = json_object_getn(v, st->key.ptr, st->key.len);
            return walk(m, c, next, k + 1, tw_str_ends_with(st->key, TW_STR("_ref")),
                    tw_str_ends_with(st->key, TW_STR("_refs")), st->key);
        }
        if (!json_is_array(v))
            return false;
        if (st->kind == TW__STEP_INDEX) {
            int64_t n = (int64_t)json_array_size(v), i = st->index;
            if (i < 0)
                i += n;
            if (i < 0 || i >= n)
                return false;
            return walk(m, c, json_array_get(v, (size_t)i), k + 1, in_refs, false, key);
        }
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (walk(m, c, json_array_get(v, i), k + 1, in_refs, false, key))
                return true;
            if (m->status != TW_OK)
                return false;
        }
        return false;
    }
}

/* ==== Comparison expressions ==== */

static bool eval_cmp(struct mctx *m, const struct tw__cmp *c, const struct slot *bound)
{
    if (c->kind == TW__CMP_TEST) {
        const json_t *obj = bound[c->path.type_slot].v;
        if (obj == NULL)
            return false;
        return walk(m, c, obj, 0, false, false, TW_STR(""));
    }
    for (size_t i = 0; i < c->n_kids; i++) {
        bool r = eval_cmp(m, c->kids[i], bound);
        if (m->status != TW_OK)
            return false;
        if (c->kind == TW__CMP_AND && !r)
            return false;
        if (c->kind == TW__CMP_OR && r)
            return true;
    }
    return c->kind == TW__CMP_AND;
}

/*
 * Does observation `oi` satisfy bracket o? Tries every binding of the
 * bracket's object types to objects of those types (a type with no object
 * binds to nothing, so comparisons on it fail).
 */
static bool eval_bracket(struct mctx *m, const struct tw__obs *o, size_t oi)
{
    const json_t *objects = m->obs[oi].objects;
    size_t n_obj = json_object_size(objects), nt = o->n_types;
    struct slot *cands, *bound;
    size_t *count, *pos;
    bool found = false;

    m->cur_objects = objects;
    if (!spend(m, n_obj * nt + 1))
        return false;
    cands = tw_calloc(nt * (n_obj + 1) + 1, sizeof(*cands));
    bound = tw_calloc(nt + 1, sizeof(*bound));
    count = tw_calloc(nt + 1, sizeof(*count));
    pos = tw_calloc(nt + 1, sizeof(*pos));
    if (cands == NULL || bound == NULL || count == NULL || pos == NULL) {
        m->status = tw_err_set(m->err, TW_ENOMEM, TW_NOPOS, "out of memory");
        goto out;
    }
    for (size_t t = 0; t < nt; t++) {
        const char *key;
        const json_t *obj;
        json_object_foreach((json_t *)(uintptr_t)objects, key, obj)
        {
            const json_t *ty = json_object_get(obj, "type");
            if (json_is_string(ty) &&
                    tw_str_eq(tw_str_make(json_string_value(ty), json_string_length(ty)),
                            o->types[t]))
                cands[t * (n_obj + 1) + count[t]++].v = obj;
        }
        (void)key;
        if (count[t] == 0)
            cands[t * (n_obj + 1) + count[t]++].v = NULL;
    }
    /* Odometer over the bindings. */
    for (;;) {
        size_t t;
        for (t = 0; t < nt; t++)
            bound[t] = cands[t * (n_obj + 1) + pos[t]];
        if (!spend(m, 1))
            goto out;
        if (eval_cmp(m, o->cmp, bound)) {
            found = true;
            break;
        }
        if (m->status != TW_OK)
            goto out;
        for (t = 0; t < nt; t++) {
            if (++pos[t] < count[t])
                break;
            pos[t] = 0;
        }
        if (t == nt)
            break;
    }
out:
    tw_free(cands);
    tw_free(bound);
    tw_free(count);
    tw_free(pos);
    return found && m->status == TW_OK;
}

static const struct leaf_cache *leaf_hits(struct mctx *m, const struct tw__obs *o)
{
    struct leaf_cache *lc = &m->leaves[o->leaf_id];

    if (lc->done)
        return lc;
    lc->hits = tw_calloc(m->n_obs + 1, sizeof(*lc->hits));
    if (lc->hits == NULL) {
        m->status = tw_err_set(m->err, TW_ENOMEM, TW_NOPOS, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < m->n_obs; i++) {
        if (eval_bracket(m, o, i))
            lc->hits[lc->n_hits++] = i;
        if (m->status != TW_OK)
            return NULL;
    }
    lc->done = true;
    return lc;
}

/* ==== Observation expressions: the search ==== */

struct kont;
typedef int kont_fn(struct mctx *m, const struct kont *k);

/* What to do once a node's binding is complete on the stack. */
struct kont {
    kont_fn *fn;
    const struct tw__obs *node;
    const struct kont *next;
    size_t start;          /* where the node's binding begins on the stack */
    size_t idx;            /* AND, FOLLOWEDBY: children done; REPEATS: repetitions done */
    size_t seg_s;          /* FOLLOWEDBY, REPEATS: where the latest child's binding begins */
    size_t prev_s, prev_e; /* FOLLOWEDBY: the previous child's binding */
    size_t prev_min;       /* REPEATS: lowest observation index of the previous repetition */
};

/* Returns 1 when the whole pattern matched, 0 to keep searching, -1 on error. */
static int search(struct mctx *m, const struct tw__obs *o, const struct kont *next);

static int found_fn(struct mctx *m, const struct kont *k)
{
    (void)m;
    (void)k;
    return 1;
}

static void span(const struct mctx *m, size_t s, size_t e, struct tw_time *min_first,
        struct tw_time *max_first, struct tw_time *max_last)
{
    for (size_t i = s; i < e; i++) {
        const struct obs_rec *r = &m->obs[m->stack[i]];
        if (i == s || tw_time_cmp(&r->first, min_first) < 0)
            *min_first = r->first;
        if (i == s || tw_time_cmp(&r->first, max_first) > 0)
            *max_first = r->first;
        if (i == s || tw_time_cmp(&r->last, max_last) > 0)
            *max_last = r->last;
    }
}

static int and_fn(struct mctx *m, const struct kont *k)
{
    struct kont k2;

    if (!spend(m, 1))
        return -1;
    if (k->idx == k->node->n_kids)
        return k->next->fn(m, k->next);
    k2 = *k;
    k2.idx++;
    return search(m, k->node->kids[k->idx], &k2);
}

static int fb_fn(struct mctx *m, const struct kont *k)
{
    struct kont k2;

    if (!spend(m, 1))
        return -1;
    if (k->idx >= 2) {
        struct tw_time a_min, a_max, a_last, b_min, b_max, b_last;
        span(m, k->prev_s, k->prev_e, &a_min, &a_max, &a_last);
        span(m, k->seg_s, m->top, &b_min, &b_max, &b_last);
        if (tw_time_cmp(&a_max, &b_min) >= 0)
            return 0;
    }
    if (k->idx == k->node->n_kids)
        return k->next->fn(m, k->next);
    k2 = *k;
    k2.prev_s = k->seg_s;
    k2.prev_e = m->top;
    k2.seg_s = m->top;
    k2.idx++;
    return search(m, k->node->kids[k->idx], &k2);
}

static double seconds_between(const struct tw_time *a, const struct tw_time *b)
{
    return (double)(b->sec - a->sec) + ((double)b->nsec - (double)a->nsec) / 1e9;
}

static int within_fn(struct mctx *m, const struct kont *k)
{
    struct tw_time min_first, max_first, max_last;

    if (!spend(m, 1))
        return -1;
    span(m, k->start, m->top, &min_first, &max_first, &max_last);
    if (seconds_between(&min_first, &max_last) > k->node->within.f)
        return 0;
    return k->next->fn(m, k->next);
}

static int startstop_fn(struct mctx *m, const struct kont *k)
{
    if (!spend(m, 1))
        return -1;
    for (size_t i = k->start; i < m->top; i++) {
        const struct obs_rec *r = &m->obs[m->stack[i]];
        if (tw_time_cmp(&r->first, &k->node->start.t) < 0 ||
                tw_time_cmp(&r->last, &k->node->stop.t) >= 0)
            return 0;
    }
    return k->next->fn(m, k->next);
}

static int repeats_fn(struct mctx *m, const struct kont *k)
{
    size_t cur_min = SIZE_MAX;
    struct kont k2;

    if (!spend(m, 1 + (m->top - k->seg_s) * (k->seg_s - k->start)))
        return -1;
    for (size_t i = k->seg_s; i < m->top; i++) {
        cur_min = TW_MIN(cur_min, m->stack[i]);
        for (size_t j = k->start; j < k->seg_s; j++) {
            if (m->stack[j] == m->stack[i])
                return 0; /* repetitions must use distinct observations */
        }
    }
    /* Disjoint bindings have distinct minima: take them in increasing order only. */
    if (k->idx >= 2 && cur_min <= k->prev_min)
        return 0;
    if (k->idx == (size_t)k->node->repeats)
        return k->next->fn(m, k->next);
    k2 = *k;
    k2.idx++;
    k2.prev_min = cur_min;
    k2.seg_s = m->top;
    return search(m, k->node->kids[0], &k2);
}

static int search(struct mctx *m, const struct tw__obs *o, const struct kont *next)
{
    struct kont k;

    if (!spend(m, 1))
        return -1;
    memset(&k, 0, sizeof(k));
    k.node = o;
    k.next = next;
    k.start = m->top;
    k.seg_s = m->top;
    k.idx = 1;
    switch (o->kind) {
        case TW__OBS_BRACKET: {
            const struct leaf_cache *lc = leaf_hits(m, o);
            if (lc == NULL)
                return -1;
            if (lc->n_hits > 0 && m->top >= MAX_BINDING) {
                m->status = tw_err_set(m->err, TW_ELIMIT, TW_NOPOS,
                        "pattern needs more than %d observations at once", MAX_BINDING);
                return -1;
            }
            for (size_t i = 0; i < lc->n_hits; i++) {
                int r;
                if (!spend(m, 1))
                    return -1;
                m->stack[m->top++] = lc->hits[i];
                r = next->fn(m, next);
                m->top--;
                if (r != 0)
                    return r;
            }
            return 0;
        }
        case TW__OBS_OR:
            for (size_t i = 0; i < o->n_kids; i++) {
                int r = search(m, o->kids[i], next);
                if (r != 0)
                    return r;
            }
            return 0;
        case TW__OBS_AND:
            k.fn = and_fn;
            return search(m, o->kids[0], &k);
        case TW__OBS_FOLLOWEDBY:
            k.fn = fb_fn;
            return search(m, o->kids[0], &k);
        case TW__OBS_WITHIN:
            k.fn = within_fn;
            return search(m, o->kids[0], &k);
        case TW__OBS_STARTSTOP:
            k.fn = startstop_fn;
            return search(m, o->kids[0], &k);
        case TW__OBS_REPEATS:
            /* Every binding holds at least one observation, and repetitions are disjoint. */
            if ((uint64_t)o->repeats > m->n_obs)
                return 0;
            k.fn = repeats_fn;
            return search(m, o->kids[0], &k);
    }
    return 0;
}

/* ==== Observations ==== */

static int load_time(
        const json_t *o, const char *name, size_t idx, struct tw_time *out, struct tw_err *err)
{
    const json_t *v = json_object_get(o, name);

    if (!json_is_string(v) ||
            tw_time_parse(tw_str_make(json_string_value(v), json_string_length(v)),
                    TW_TIME_ALLOW_OFFSET | TW_TIME_ALLOW_LOWER, out, NULL) != TW_OK)
        return tw_err_set(
                err, TW_EINVAL, TW_NOPOS, "observation %zu: %s is not a timestamp", idx, name);
    return TW_OK;
}

static int load_observations(struct mctx *m, const json_t *arr)
{
    if (!json_is_array(arr))
        return tw_err_set(m->err, TW_EINVAL, TW_NOPOS, "observations must be a JSON array");
    m->n_obs = json_array_size(arr);
    if (m->n_obs > TW_PATTERN_MAX_OBSERVATIONS)
        return tw_err_set(m->err, TW_ELIMIT, TW_NOPOS, "more than %d observations",
                TW_PATTERN_MAX_OBSERVATIONS);
    m->obs = tw_calloc(m->n_obs + 1, sizeof(*m->obs));
    if (m->obs == NULL)
        return tw_err_set(m->err, TW_ENOMEM, TW_NOPOS, "out of memory");
    for (size_t i = 0; i < m->n_obs; i++) {
        const json_t *o = json_array_get(arr, i);
        const json_t *num;
        struct obs_rec *r = &m->obs[i];
        int rc;

        if (!json_is_object(o))
            return tw_err_set(m->err, TW_EINVAL, TW_NOPOS, "observation %zu is not an object", i);
        r->objects = json_object_get(o, "objects");
        if (!json_is_object(r->objects))
            return tw_err_set(m->err, TW_EINVAL, TW_NOPOS,
                    "observation %zu: \"objects\" must be an object", i);
        if ((rc = load_time(o, "first_observed", i, &r->first, m->err)) != TW_OK)
            return rc;
        r->last = r->first;
        if (json_object_get(o, "last_observed") != NULL &&
                (rc = load_time(o, "last_observed", i, &r->last, m->err)) != TW_OK)
            return rc;
        if (tw_time_cmp(&r->last, &r->first) < 0)
            return tw_err_set(m->err, TW_EINVAL, TW_NOPOS,
                    "observation %zu: last_observed is before first_observed", i);
        num = json_object_get(o, "number_observed");
        if (num != NULL && (!json_is_integer(num) || json_integer_value(num) < 1))
            return tw_err_set(m->err, TW_EINVAL, TW_NOPOS,
                    "observation %zu: number_observed must be a positive integer", i);
    }
    return TW_OK;
}

/* ==== Public API ==== */

int tw_pattern_match(
        const struct tw_pattern *p, const json_t *observations, bool *matched, struct tw_err *err)
{
    struct mctx *m;
    struct kont done;
    int rc;

    *matched = false;
    tw_err_clear(err);
    m = tw_calloc(1, sizeof(*m));
    if (m == NULL)
        return tw_err_set(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    m->pat = p;
    m->err = err;
    rc = load_observations(m, observations);
    if (rc == TW_OK) {
        m->leaves = tw_calloc(p->n_leaves + 1, sizeof(*m->leaves));
        if (p->regexes != NULL) {
            m->md = pcre2_match_data_create(1, NULL);
            m->mc = pcre2_match_context_create(NULL);
            if (m->mc != NULL) {
                (void)pcre2_set_match_limit(m->mc, REGEX_MATCH_LIMIT);
                (void)pcre2_set_depth_limit(m->mc, REGEX_DEPTH_LIMIT);
            }
        }
        if (m->leaves == NULL || (p->regexes != NULL && (m->md == NULL || m->mc == NULL)))
            rc = tw_err_set(err, TW_ENOMEM, TW_NOPOS, "out of memory");
    }
    if (rc == TW_OK) {
        int r;
        memset(&done, 0, sizeof(done));
        done.fn = found_fn;
        r = search(m, p->root, &done);
        if (m->status != TW_OK)
            rc = m->status;
        else
            *matched = r == 1;
    }
    if (m->leaves != NULL) {
        for (size_t i = 0; i < p->n_leaves; i++)
            tw_free(m->leaves[i].hits);
    }
    tw_free(m->leaves);
    tw_free(m->obs);
    pcre2_match_data_free(m->md);
    pcre2_match_context_free(m->mc);
    tw_free(m);
    return rc;
}
