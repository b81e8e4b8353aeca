/*
 * pattern_format.c: prints a compiled pattern in canonical form and extracts
 * the atoms the indicator index keys on.
 *
 * Canonical text has one space around every operator, keywords in upper case,
 * "=" and "!=" for equality, property names bare when they are identifiers
 * and quoted otherwise, integers in decimal, floats without redundant zeros,
 * and parentheses only where the tree needs them: around a child of lower
 * precedence, around a child built from the same operator (the text had
 * explicit parentheses there), and around a qualified expression whose chain
 * would otherwise repeat a qualifier. Parsing canonical text gives back the
 * same tree, so formatting is idempotent; the fuzz target checks that.
 *
 * Atoms follow the rules documented in pattern.h and docs/internals/PATTERN.md:
 * a conjunction needs only one side's atoms (the side with fewer), a
 * disjunction needs every side's, and anything else yields none.
 */
#include <stdint.h>
#include <stdio.h>

#include "pattern_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/buf.h"

/* ==== Formatting ==== */

static int fmt_quoted(struct tw_buf *b, struct tw_str s)
{
    int rc = tw_buf_putc(b, '\'');

    for (size_t i = 0; i < s.len && rc == TW_OK; i++) {
        if (s.ptr[i] == '\'' || s.ptr[i] == '\\')
            rc = tw_buf_putc(b, '\\');
        if (rc == TW_OK)
            rc = tw_buf_putc(b, s.ptr[i]);
    }
    return rc == TW_OK ? tw_buf_putc(b, '\'') : rc;
}

static int fmt_lit(struct tw_buf *b, const struct tw__lit *l)
{
    switch (l->kind) {
        case TW__LIT_STR:
            return fmt_quoted(b, l->text);
        case TW__LIT_TIME:
            return tw_buf_printf(b, "t'%.*s'", (int)l->text.len, l->text.ptr);
        case TW__LIT_HEX:
            return tw_buf_printf(b, "h'%.*s'", (int)l->text.len, l->text.ptr);
        case TW__LIT_BIN:
            return tw_buf_printf(b, "b'%.*s'", (int)l->text.len, l->text.ptr);
        default:
            return tw_buf_append(b, l->text.ptr, l->text.len);
    }
}

static const char *const op_names[] = {
    [TW__OP_EQ] = "=",
    [TW__OP_NE] = "!=",
    [TW__OP_LT] = "<",
    [TW__OP_LE] = "<=",
    [TW__OP_GT] = ">",
    [TW__OP_GE] = ">=",
    [TW__OP_IN] = "IN",
    [TW__OP_LIKE] = "LIKE",
    [TW__OP_MATCHES] = "MATCHES",
    [TW__OP_ISSUBSET] = "ISSUBSET",
    [TW__OP_ISSUPERSET] = "ISSUPERSET",
    [TW__OP_EXISTS] = "EXISTS",
};

static int fmt_path(struct tw_buf *b, const struct tw__path *path)
{
    return tw_buf_printf(b, "%.*s:%.*s", (int)path->type.len, path->type.ptr, (int)path->canon.len,
            path->canon.ptr);
}

static int cmp_prec(const struct tw__cmp *c)
{
    return c->kind == TW__CMP_OR ? 0 : c->kind == TW__CMP_AND ? 1 : 2;
}

static int fmt_cmp(struct tw_buf *b, const struct tw__cmp *c, int parent_prec)
{
    int rc = TW_OK;

    if (c->kind == TW__CMP_TEST) {
        if (c->op == TW__OP_EXISTS) {
            if ((rc = tw_buf_puts(b, "EXISTS ")) != TW_OK)
                return rc;
            return fmt_path(b, &c->path);
        }
        if ((rc = fmt_path(b, &c->path)) != TW_OK)
            return rc;
        if ((rc = tw_buf_printf(b, "%s %s ", c->negated ? " NOT" : "", op_names[c->op])) != TW_OK)
            return rc;
        if (c->op != TW__OP_IN)
            return fmt_lit(b, &c->lits[0]);
        rc = tw_buf_putc(b, '(');
        for (size_t i = 0; i < c->n_lits && rc == TW_OK; i++) {
            if (i > 0)
                rc = tw_buf_puts(b, ", ");
            if (rc == TW_OK)
                rc = fmt_lit(b, &c->lits[i]);
        }
        return rc == TW_OK ? tw_buf_putc(b, ')') : rc;
    }
    {
        int prec = cmp_prec(c);
        bool paren = prec <= parent_prec;
        if (paren)
            rc = tw_buf_putc(b, '(');
        for (size_t i = 0; i < c->n_kids && rc == TW_OK; i++) {
            if (i > 0)
                rc = tw_buf_puts(b, c->kind == TW__CMP_AND ? " AND " : " OR ");
            if (rc == TW_OK)
                rc = fmt_cmp(b, c->kids[i], prec);
        }
        if (paren && rc == TW_OK)
            rc = tw_buf_putc(b, ')');
    }
    return rc;
}

static bool is_qual(const struct tw__obs *o)
{
    return o->kind == TW__OBS_WITHIN || o->kind == TW__OBS_REPEATS || o->kind == TW__OBS_STARTSTOP;
}

static unsigned qual_bit(const struct tw__obs *o)
{
    return o->kind == TW__OBS_WITHIN    ? TW__QUAL_WITHIN
           : o->kind == TW__OBS_REPEATS ? TW__QUAL_REPEATS
                                        : TW__QUAL_STARTSTOP;
}

/* Qualifier kinds that the printed form of o shows without parentheses in one chain. */
static unsigned chain_mask(const struct tw__obs *o)
{
    unsigned m;

    if (!is_qual(o))
        return 0;
    m = chain_mask(o->kids[0]);
    if (m & qual_bit(o))
        m = 0;
    return m | qual_bit(o);
}

static int obs_prec(const struct tw__obs *o)
{
    switch (o->kind) {
        case TW__OBS_FOLLOWEDBY:
            return 0;
        case TW__OBS_OR:
            return 1;
        case TW__OBS_AND:
            return 2;
        default:
            return 3;
    }
}

static int fmt_obs(struct tw_buf *b, const struct tw__obs *o, int parent_prec)
{
    int rc = TW_OK;

    if (o->kind == TW__OBS_BRACKET) {
        if ((rc = tw_buf_putc(b, '[')) != TW_OK || (rc = fmt_cmp(b, o->cmp, -1)) != TW_OK)
            return rc;
        return tw_buf_putc(b, ']');
    }
    if (is_qual(o)) {
        const struct tw__obs *kid = o->kids[0];
        bool paren = kid->kind != TW__OBS_BRACKET &&
                     (!is_qual(kid) || (chain_mask(kid) & qual_bit(o)) != 0);
        if (paren && (rc = tw_buf_putc(b, '(')) != TW_OK)
            return rc;
        if ((rc = fmt_obs(b, kid, paren ? -1 : 3)) != TW_OK)
            return rc;
        if (paren && (rc = tw_buf_putc(b, ')')) != TW_OK)
            return rc;
        if (o->kind == TW__OBS_WITHIN)
            return tw_buf_printf(
                    b, " WITHIN %.*s SECONDS", (int)o->within.text.len, o->within.text.ptr);
        if (o->kind == TW__OBS_REPEATS)
            return tw_buf_printf(b, " REPEATS %lld TIMES", (long long)o->repeats);
        return tw_buf_printf(b, " START t'%.*s' STOP t'%.*s'", (int)o->start.text.len,
                o->start.text.ptr, (int)o->stop.text.len, o->stop.text.ptr);
    }
    {
        int prec = obs_prec(o);
        bool paren = prec <= parent_prec;
        const char *sep = o->kind == TW__OBS_AND  ? " AND "
                          : o->kind == TW__OBS_OR ? " OR "
                                                  : " FOLLOWEDBY ";
        if (paren)
            rc = tw_buf_putc(b, '(');
        for (size_t i = 0; i < o->n_kids && rc == TW_OK; i++) {
            if (i > 0)
                rc = tw_buf_puts(b, sep);
            if (rc == TW_OK)
                rc = fmt_obs(b, o->kids[i], prec);
        }
        if (paren && rc == TW_OK)
            rc = tw_buf_putc(b, ')');
    }
    return rc;
}

char *tw_pattern_format(const struct tw_pattern *p)
{
    struct tw_buf b;

    /* Canonical text is at most a small multiple of the source; the cap only guards bugs. */
    tw_buf_init(&b, (size_t)TW_PATTERN_MAX_LEN * 8);
    if (fmt_obs(&b, p->root, -1) != TW_OK) {
        tw_buf_cleanup(&b);
        return NULL;
    }
    return tw_buf_take(&b, NULL);
}

/* ==== Atoms ==== */

/* The caller's filter of usable atoms (NULL accepts every atom). */
struct filt {
    tw_pattern_accept_fn *accept;
    void *ctx;
};

/*
 * Whether a LIKE comparison names "any subdomain of X": domain-name:value
 * LIKE '%.X' where X has no further wildcard. Sets *suffix to X.
 */
static bool like_suffix(const struct tw__cmp *c, struct tw_str *suffix)
{
    struct tw_str v;

    if (c->op != TW__OP_LIKE || c->n_lits != 1 || !tw_str_eq_cstr(c->path.type, "domain-name") ||
            !tw_str_eq_cstr(c->path.canon, "value"))
        return false;
    v = c->lits[0].text;
    if (v.len < 3 || v.ptr[0] != '%' || v.ptr[1] != '.')
        return false;
    for (size_t i = 2; i < v.len; i++)
        if (v.ptr[i] == '%' || v.ptr[i] == '_')
            return false;
    *suffix = tw_str_make(v.ptr + 2, v.len - 2);
    return true;
}

/* The atoms of one positive comparison, one per literal; false when it has none. */
static bool test_atom(const struct tw__cmp *c, size_t i, struct tw_pattern_atom *atom)
{
    atom->type = c->path.type;
    atom->path = c->path.canon;
    if (c->negated)
        return false;
    if (c->op == TW__OP_LIKE) {
        atom->op = TW_ATOM_SUFFIX;
        return i == 0 && like_suffix(c, &atom->value);
    }
    if (c->op != TW__OP_EQ && c->op != TW__OP_ISSUBSET && c->op != TW__OP_IN)
        return false;
    atom->op = c->op == TW__OP_ISSUBSET ? TW_ATOM_SUBSET : TW_ATOM_EQ;
    atom->value = c->lits[i].text;
    return true;
}

/* Atom count of a comparison tree; false when it has no (usable) atom set. */
static bool cmp_count(const struct filt *f, const struct tw__cmp *c, size_t *n, bool *exact)
{
    if (c->kind == TW__CMP_TEST) {
        size_t n_atoms = c->op == TW__OP_IN ? c->n_lits : 1;
        for (size_t i = 0; i < n_atoms; i++) {
            struct tw_pattern_atom atom;
            if (!test_atom(c, i, &atom) || (f->accept != NULL && !f->accept(&atom, f->ctx)))
                return false;
        }
        /* A suffix atom also covers the parent name itself: a candidate only. */
        *exact = c->op != TW__OP_LIKE;
        *n = n_atoms;
        return true;
    }
    if (c->kind == TW__CMP_OR) {
        size_t sum = 0;
        bool all_exact = true;
        for (size_t i = 0; i < c->n_kids; i++) {
            size_t k;
            bool e;
            if (!cmp_count(f, c->kids[i], &k, &e))
                return false;
            sum += k;
            all_exact = all_exact && e;
        }
        *n = sum;
        *exact = all_exact;
        return true;
    }
    {
        bool found = false;
        for (size_t i = 0; i < c->n_kids; i++) {
            size_t k;
            bool e;
            if (cmp_count(f, c->kids[i], &k, &e) && (!found || k < *n)) {
                *n = k;
                found = true;
            }
        }
        *exact = false;
        return found;
    }
}

static bool obs_count(const struct filt *f, const struct tw__obs *o, size_t *n, bool *exact)
{
    switch (o->kind) {
        case TW__OBS_BRACKET:
            return cmp_count(f, o->cmp, n, exact);
        case TW__OBS_OR: {
            size_t sum = 0;
            bool all_exact = true;
            for (size_t i = 0; i < o->n_kids; i++) {
                size_t k;
                bool e;
                if (!obs_count(f, o->kids[i], &k, &e))
                    return false;
                sum += k;
                all_exact = all_exact && e;
            }
            *n = sum;
            *exact = all_exact;
            return true;
        }
        case TW__OBS_AND:
        case TW__OBS_FOLLOWEDBY: {
            bool found = false;
            for (size_t i = 0; i < o->n_kids; i++) {
                size_t k;
                bool e;
                if (obs_count(f, o->kids[i], &k, &e) && (!found || k < *n)) {
                    *n = k;
                    found = true;
                }
            }
            *exact = false;
            return found;
        }
        default: {
            bool found = obs_count(f, o->kids[0], n, exact);
            *exact = false;
            return found;
        }
    }
}

struct emit {
    struct filt filt;
    tw_pattern_atom_fn *fn;
    void *ctx;
};

static int emit_test(const struct emit *e, const struct tw__cmp *c)
{
    size_t n_atoms = c->op == TW__OP_IN ? c->n_lits : 1;

    for (size_t i = 0; i < n_atoms; i++) {
        struct tw_pattern_atom atom;
        int rc;
        if (!test_atom(c, i, &atom))
            continue;
        if ((rc = e->fn(&atom, e->ctx)) != 0)
            return rc;
    }
    return 0;
}

static int emit_cmp(const struct emit *e, const struct tw__cmp *c)
{
    size_t best = 0, best_n = 0;
    bool found = false;

    if (c->kind == TW__CMP_TEST)
        return emit_test(e, c);
    if (c->kind == TW__CMP_OR) {
        for (size_t i = 0; i < c->n_kids; i++) {
            int rc = emit_cmp(e, c->kids[i]);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    for (size_t i = 0; i < c->n_kids; i++) {
        size_t k;
        bool ex;
        if (cmp_count(&e->filt, c->kids[i], &k, &ex) && (!found || k < best_n)) {
            best = i;
            best_n = k;
            found = true;
        }
    }
    return found ? emit_cmp(e, c->kids[best]) : 0;
}

static int emit_obs(const struct emit *e, const struct tw__obs *o)
{
    size_t best = 0, best_n = 0;
    bool found = false;

    switch (o->kind) {
        case TW__OBS_BRACKET:
            return emit_cmp(e, o->cmp);
        case TW__OBS_OR:
            for (size_t i = 0; i < o->n_kids; i++) {
                int rc = emit_obs(e, o->kids[i]);
                if (rc != 0)
                    return rc;
            }
            return 0;
        case TW__OBS_AND:
        case TW__OBS_FOLLOWEDBY:
            for (size_t i = 0; i < o->n_kids; i++) {
                size_t k;
                bool ex;
                if (obs_count(&e->filt, o->kids[i], &k, &ex) && (!found || k < best_n)) {
                    best = i;
                    best_n = k;
                    found = true;
                }
            }
            return found ? emit_obs(e, o->kids[best]) : 0;
        default:
            return emit_obs(e, o->kids[0]);
    }
}

int tw_pattern_atoms_filtered(const struct tw_pattern *p, tw_pattern_accept_fn *accept,
        void *accept_ctx, tw_pattern_atom_fn *fn, void *ctx, bool *exact)
{
    struct emit e = { { accept, accept_ctx }, fn, ctx };
    size_t n = 0;
    bool ex = false;

    *exact = false;
    if (!obs_count(&e.filt, p->root, &n, &ex))
        return TW_ENOTFOUND;
    *exact = ex;
    return emit_obs(&e, p->root);
}

int tw_pattern_atoms(const struct tw_pattern *p, tw_pattern_atom_fn *fn, void *ctx, bool *exact)
{
    return tw_pattern_atoms_filtered(p, NULL, NULL, fn, ctx, exact);
}
