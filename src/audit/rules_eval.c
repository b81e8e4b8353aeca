/*
 * rules_eval.c: evaluating a rule set over one parsed device, and the drift
 * ownership look-up.
 *
 * An evaluation first indexes the device's configuration: every statement
 * goes into two hash tables, one keyed by (the statement whose child list
 * holds it, its first word) and one keyed by its first word alone, with
 * chains in file order. A regex with literal prefixes (rules_regex.c) then
 * looks only at the bucket of its prefix's first word under the context
 * statement (`has /^transport input /` under a `line vty` reads the vty's
 * "transport" statements) or, for `exists` and `missing`, anywhere; each
 * statement of the bucket is compared with the prefix before PCRE2 runs.
 * Regexes without a usable prefix, and operational outputs (small, and read
 * by few checks), are scanned statement by statement with the same prefix
 * test. The result of an `exists` or `missing` regex without `$N` is the
 * same for every candidate of a device, so it is computed once per device.
 *
 * Thread safety: the rule set is only read. Everything an evaluation writes
 * (PCRE2 match data, the index, the memo of global results, the compiled
 * `$N` substitutions, the findings of the rule being evaluated) belongs to
 * the call, so concurrent evaluations on distinct devices need no lock.
 *
 * Statements Junos marks inactive (TW_CFG_INACTIVE) are not in effect, so
 * no regex of a check sees them (drift, which compares texts, still does).
 *
 * Findings: each check adds the statements it finds to the rule's list;
 * when the rule's checks are done, the list is sorted (the configuration,
 * then each operational output, each by line), a statement
 * found by several checks is reported once (with the most severe of their
 * severities, and the first such check's message), and each is masked
 * (tw_devconf_mask) and handed to the caller.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_int.h"
#include "tidewatch/alloc.h"

/* ==== Types ==== */

#define EVIDENCE_MAX 1024 /* bytes of a finding's evidence (masked), cut to fit */
#define CONTEXT_MAX  1024 /* bytes of a finding's context (masked), cut to fit */
#define SUBST_SLOTS  256  /* compiled substitutions one evaluation keeps */

struct node_ix {
    const struct tw_cfg_node *node;
    const struct tw_cfg_node *parent; /* the statement (or root) whose child list holds it */
    uint32_t word_hash;
    uint32_t word_len;
    uint32_t next_child;  /* next in the same (parent, word) bucket + 1 */
    uint32_t next_global; /* next in the same word bucket + 1 */
};

struct caps {
    struct tw_str c[TW__RULE_CAPTURES];
};

struct subst_entry {
    const struct tw__regex *re; /* NULL: free slot */
    char *pat;
    size_t len;
    pcre2_code *code; /* NULL when the substituted pattern did not compile */
    uint8_t global;   /* exists/missing result: 0 unknown, 1 no, 2 yes */
};

struct hit {
    const struct tw_cfg_node *node; /* NULL: an absence at the top level */
    int doc;                        /* 0: the configuration; k + 1: output k */
    const struct tw__check *check;
    unsigned check_no; /* the check's position in its rule */
    enum tw_severity severity;
};

struct ev {
    const struct tw_ruleset *rs;
    const struct tw_devconf *d;
    struct tw_rule_stats *st;
    pcre2_match_data *md;
    /* The index of the configuration. */
    struct node_ix *ix;
    size_t n_ix;
    uint32_t *child_slots;
    uint32_t *global_slots;
    size_t slot_mask;
    bool indexed;
    /* Per-device results of exists/missing regexes without $N: 0 unknown, 1 no, 2 yes. */
    uint8_t *memo;
    /* Compiled substitutions, open addressing by (regex, pattern). */
    struct subst_entry *subst;
    size_t subst_used; /* entries of subst in use */
    size_t subst_bytes;
    char *subst_buf;
    uint64_t tries;        /* statements tried so far */
    uint64_t subst_budget; /* statements substituted regexes may still try */
    /* The rule being evaluated. */
    struct hit *hits;
    size_t n_hits;
    size_t cap_hits;
    /* The check being evaluated. */
    const struct tw__check *check;
    unsigned check_no;
    const struct tw_cfg_node *doc; /* &d->root, or &d->op[k] for an output check */
    const struct tw_cfg_node *ctx; /* the context statement of the `has` being scanned */
    bool doc_indexed;
    char evidence[EVIDENCE_MAX];
    char context[CONTEXT_MAX];
};

/* What a scan does with each statement the regex matches: 0 goes on, 1 stops, < 0 fails. */
typedef int (*visit_fn)(
        struct ev *ev, const struct tw_cfg_node *n, const struct caps *c, void *ctx);

static const struct caps no_caps;

/* ==== Matching ==== */

static uint32_t mix(uint32_t word_hash, const void *parent)
{
    uint64_t h = ((uint64_t)(uintptr_t)parent >> 4) * 0x9e3779b97f4a7c15ull;

    return word_hash ^ (uint32_t)(h >> 32) ^ (uint32_t)h;
}

static size_t word_len(const char *text, size_t len)
{
    size_t i = 0;

    while (i < len && !tw__word_end(text[i]))
        i++;
    return i;
}

/*
 * Runs code on text: 1 matched (captures in *c when c is not NULL), 0 not
 * (a match stopped by a limit counts as not, and is counted), TW_ENOMEM.
 */
static int run(struct ev *ev, const pcre2_code *code, const char *text, size_t len, struct caps *c)
{
    int rc = pcre2_match(code, (PCRE2_SPTR)text, len, 0, 0, ev->md, ev->rs->mctx);

    if (rc >= 0) {
        if (c != NULL) {
            const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(ev->md);
            uint32_t n = rc == 0 ? TW__RULE_CAPTURES : (uint32_t)rc;
            memset(c, 0, sizeof(*c));
            for (size_t i = 0; i < n && i < TW__RULE_CAPTURES; i++) {
                if (ov[2 * i] != PCRE2_UNSET && ov[2 * i + 1] >= ov[2 * i])
                    c->c[i] = tw_str_make(text + ov[2 * i], ov[2 * i + 1] - ov[2 * i]);
            }
        }
        return 1;
    }
    switch (rc) {
        case PCRE2_ERROR_NOMATCH:
            return 0;
        case PCRE2_ERROR_NOMEMORY:
            return TW_ENOMEM;
        case PCRE2_ERROR_MATCHLIMIT:
        case PCRE2_ERROR_DEPTHLIMIT:
        case PCRE2_ERROR_HEAPLIMIT:
        case PCRE2_ERROR_JIT_STACKLIMIT:
            if (ev->st != NULL)
                ev->st->regex_limit++;
            return 0;
        default:
            return 0;
    }
}

/* Tries one statement: prefix, then PCRE2, then the visitor. */
static int try_node(struct ev *ev, const struct tw__regex *re, const pcre2_code *code,
        const struct tw_cfg_node *n, visit_fn visit, void *ctx)
{
    struct caps c;
    int rc;

    ev->tries++;
    if (n->text == NULL || (n->flags & TW_CFG_INACTIVE) != 0 ||
            !tw__regex_prefilter(re, n->text, n->len))
        return 0;
    rc = run(ev, code, n->text, n->len, &c);
    if (rc <= 0)
        return rc;
    return visit(ev, n, &c, ctx);
}

/* True when every prefix of re names a first word, so the index can be used. */
static bool keyed(const struct tw__regex *re)
{
    if (re->n_prefix == 0)
        return false;
    for (unsigned i = 0; i < re->n_prefix; i++) {
        if (re->prefix[i].key_len == 0)
            return false;
    }
    return true;
}

/* True when prefix i's key was already looked up for an earlier prefix. */
static bool key_seen(const struct tw__regex *re, unsigned i)
{
    for (unsigned j = 0; j < i; j++) {
        const struct tw__prefix *a = &re->prefix[j], *b = &re->prefix[i];
        if (a->key_len == b->key_len && a->key_hash == b->key_hash) {
            bool same = true;
            for (size_t k = 0; k < a->key_len && same; k++)
                same = tw_ascii_lower(a->lit[k]) == tw_ascii_lower(b->lit[k]);
            if (same)
                return true;
        }
    }
    return false;
}

/* Visits the statements directly under parent that re matches. */
static int scan_children(struct ev *ev, const struct tw_cfg_node *parent,
        const struct tw__regex *re, const pcre2_code *code, visit_fn visit, void *ctx)
{
    int rc;

    if (ev->doc_indexed && keyed(re)) {
        for (unsigned i = 0; i < re->n_prefix; i++) {
            const struct tw__prefix *p = &re->prefix[i];
            uint32_t e;
            if (key_seen(re, i))
                continue;
            e = ev->child_slots[mix(p->key_hash, parent) & ev->slot_mask];
            while (e != 0) {
                const struct node_ix *x = &ev->ix[e - 1];
                e = x->next_child;
                if (x->parent != parent || x->word_hash != p->key_hash || x->word_len != p->key_len)
                    continue;
                if ((rc = try_node(ev, re, code, x->node, visit, ctx)) != 0)
                    return rc;
            }
        }
        return 0;
    }
    for (const struct tw_cfg_node *n = parent->child; n != NULL; n = n->next) {
        if ((rc = try_node(ev, re, code, n, visit, ctx)) != 0)
            return rc;
    }
    return 0;
}

/* Visits every statement of the configuration that re matches. */
static int scan_all(struct ev *ev, const struct tw__regex *re, const pcre2_code *code,
        visit_fn visit, void *ctx)
{
    int rc;

    if (ev->indexed && keyed(re)) {
        for (unsigned i = 0; i < re->n_prefix; i++) {
            const struct tw__prefix *p = &re->prefix[i];
            uint32_t e;
            if (key_seen(re, i))
                continue;
            e = ev->global_slots[p->key_hash & ev->slot_mask];
            while (e != 0) {
                const struct node_ix *x = &ev->ix[e - 1];
                e = x->next_global;
                if (x->word_hash != p->key_hash || x->word_len != p->key_len)
                    continue;
                if ((rc = try_node(ev, re, code, x->node, visit, ctx)) != 0)
                    return rc;
            }
        }
        return 0;
    }
    for (size_t i = 0; i < ev->n_ix; i++) {
        if ((rc = try_node(ev, re, code, ev->ix[i].node, visit, ctx)) != 0)
            return rc;
    }
    return 0;
}

static int visit_found(struct ev *ev, const struct tw_cfg_node *n, const struct caps *c, void *ctx)
{
    (void)ev;
    (void)n;
    (void)c;
    (void)ctx;
    return 1;
}

/* ==== Substitution ==== */

static uint32_t subst_hash(const struct tw__regex *re, const char *pat, size_t len)
{
    return mix(tw__word_hash(pat, len), re);
}

static void subst_free(struct ev *ev)
{
    if (ev->subst == NULL)
        return;
    for (size_t i = 0; i < SUBST_SLOTS && ev->subst_used > 0; i++) {
        if (ev->subst[i].re != NULL)
            ev->subst_used--;
        tw_free(ev->subst[i].pat);
        pcre2_code_free(ev->subst[i].code);
    }
    tw_free(ev->subst);
    ev->subst = NULL;
}

/*
 * The compiled form of template re with the captures c substituted: *out is
 * the entry (cached, or *tmp when the cache is full: the caller frees
 * tmp->code), or NULL when the substituted pattern is too long or does not
 * compile (both counted as a limit: the filter sees no match). TW_OK or
 * TW_ENOMEM.
 */
static int subst_get(struct ev *ev, const struct tw__regex *re, const struct caps *c,
        struct subst_entry **out, struct subst_entry *tmp)
{
    size_t len = tw__regex_subst(re, c->c, ev->subst_buf, TW__RULE_SUBST_MAX);
    struct subst_entry *e = NULL;
    int ecode;
    PCRE2_SIZE eoff;

    *out = NULL;
    memset(tmp, 0, sizeof(*tmp));
    if (len == (size_t)-1) {
        if (ev->st != NULL)
            ev->st->regex_limit++;
        return TW_OK;
    }
    if (ev->subst == NULL) {
        ev->subst = tw_calloc(SUBST_SLOTS, sizeof(*ev->subst));
        if (ev->subst == NULL)
            return TW_ENOMEM;
    }
    {
        size_t i = subst_hash(re, ev->subst_buf, len) & (SUBST_SLOTS - 1);
        for (size_t probe = 0; probe < SUBST_SLOTS; probe++, i = (i + 1) & (SUBST_SLOTS - 1)) {
            struct subst_entry *s = &ev->subst[i];
            if (s->re == NULL) {
                e = s;
                break;
            }
            if (s->re == re && s->len == len && memcmp(s->pat, ev->subst_buf, len) == 0) {
                *out = s->code != NULL ? s : NULL;
                return TW_OK;
            }
        }
    }
    if (e == NULL || ev->subst_bytes + len > TW__RULE_SUBST_CACHE_BYTES)
        e = tmp; /* the cache is full: compile for this use only */
    e->code = pcre2_compile((PCRE2_SPTR)ev->subst_buf, len, re->caseless ? PCRE2_CASELESS : 0,
            &ecode, &eoff, ev->rs->cctx);
    if (e->code == NULL && (ecode == PCRE2_ERROR_NOMEMORY || ecode == PCRE2_ERROR_HEAP_FAILED))
        return TW_ENOMEM;
    if (e != tmp) {
        e->pat = tw_strndup(ev->subst_buf, len);
        if (e->pat == NULL) {
            pcre2_code_free(e->code);
            e->code = NULL;
            return TW_ENOMEM;
        }
        e->re = re;
        e->len = len;
        ev->subst_bytes += len;
        ev->subst_used++;
    }
    if (e->code == NULL) {
        if (ev->st != NULL)
            ev->st->regex_limit++;
        return TW_OK;
    }
    *out = e;
    return TW_OK;
}

/*
 * Whether some statement matches re (under parent, or anywhere when parent
 * is NULL), with the captures c substituted into a template. 1, 0 or < 0.
 */
static int any_match(struct ev *ev, const struct tw_cfg_node *parent, const struct tw__regex *re,
        const struct caps *c)
{
    struct subst_entry *e = NULL, tmp;
    uint64_t before;
    int rc;

    if (!re->subst) {
        if (parent != NULL)
            return scan_children(ev, parent, re, re->code, visit_found, NULL);
        if (ev->memo[re->memo] == 0) {
            rc = scan_all(ev, re, re->code, visit_found, NULL);
            if (rc < 0)
                return rc;
            ev->memo[re->memo] = (uint8_t)(rc + 1);
        }
        return ev->memo[re->memo] - 1;
    }
    if (ev->subst_budget == 0) {
        if (ev->st != NULL)
            ev->st->regex_limit++;
        return 0;
    }
    if ((rc = subst_get(ev, re, c, &e, &tmp)) != TW_OK)
        return rc;
    if (e == NULL)
        return 0;
    before = ev->tries;
    if (parent != NULL) {
        rc = scan_children(ev, parent, re, e->code, visit_found, NULL);
    } else if (e != &tmp && e->global != 0) {
        rc = e->global - 1;
    } else {
        rc = scan_all(ev, re, e->code, visit_found, NULL);
        if (rc >= 0 && e != &tmp)
            e->global = (uint8_t)(rc + 1);
    }
    if (e == &tmp)
        pcre2_code_free(tmp.code);
    ev->subst_budget -= TW_MIN(ev->tries - before, ev->subst_budget);
    return rc;
}

/* ==== Filters ==== */

static struct tw_str operand_text(
        const struct ev *ev, const struct tw__operand *o, const struct caps *c)
{
    switch (o->kind) {
        case TW__OPND_CAPTURE:
            return c->c[o->capture];
        case TW__OPND_HOSTNAME:
            return tw_str_cstr(ev->d->hostname);
        case TW__OPND_NUMBER:
        case TW__OPND_STRING:
            break;
    }
    return tw_str_make(o->text, o->len);
}

static bool operand_number(const struct tw__operand *o, struct tw_str text, double *out)
{
    if (o->kind == TW__OPND_NUMBER) {
        *out = o->num;
        return true;
    }
    return tw__rules_number(text.ptr, text.len, out);
}

static int eval_if(struct ev *ev, const struct tw__filter *f, const struct caps *c)
{
    struct tw_str a = operand_text(ev, &f->a, c), b;
    double x, y;
    int rc;

    if (f->cmp == TW__CMP_MATCH || f->cmp == TW__CMP_NMATCH) {
        rc = run(ev, f->re->code, a.ptr != NULL ? a.ptr : "", a.len, NULL);
        if (rc < 0)
            return rc;
        return f->cmp == TW__CMP_MATCH ? rc : !rc;
    }
    b = operand_text(ev, &f->b, c);
    if (operand_number(&f->a, a, &x) && operand_number(&f->b, b, &y)) {
        switch (f->cmp) {
            case TW__CMP_EQ:
                return x == y;
            case TW__CMP_NE:
                return x != y;
            case TW__CMP_LT:
                return x < y;
            case TW__CMP_LE:
                return x <= y;
            case TW__CMP_GT:
                return x > y;
            case TW__CMP_GE:
                return x >= y;
            default:
                return 0;
        }
    }
    if (f->cmp == TW__CMP_EQ)
        return tw_str_eq(a, b);
    if (f->cmp == TW__CMP_NE)
        return !tw_str_eq(a, b);
    return 0; /* an ordering with a side that is not a number */
}

/* Whether a candidate with context ctx and captures c passes every filter: 1, 0 or < 0. */
static int filters(struct ev *ev, const struct tw_cfg_node *ctx, const struct caps *c)
{
    for (const struct tw__filter *f = ev->check->filters; f != NULL; f = f->next) {
        int rc;
        switch (f->kind) {
            case TW__FILTER_IF:
                rc = eval_if(ev, f, c);
                break;
            case TW__FILTER_WITH:
            case TW__FILTER_WITHOUT:
                rc = any_match(ev, ctx, f->re, c);
                if (rc >= 0 && f->kind == TW__FILTER_WITHOUT)
                    rc = !rc;
                break;
            default:
                rc = any_match(ev, NULL, f->re, c);
                if (rc >= 0 && f->kind == TW__FILTER_MISSING)
                    rc = !rc;
                break;
        }
        if (rc <= 0)
            return rc;
    }
    return 1;
}

/* ==== Checks ==== */

static int add_hit(struct ev *ev, const struct tw_cfg_node *n)
{
    struct hit *h;

    if (ev->n_hits == ev->cap_hits) {
        size_t cap = ev->cap_hits ? ev->cap_hits * 2 : 32;
        struct hit *p = tw_reallocarray(ev->hits, cap, sizeof(*p));
        if (p == NULL)
            return TW_ENOMEM;
        ev->hits = p;
        ev->cap_hits = cap;
    }
    h = &ev->hits[ev->n_hits++];
    h->node = n;
    h->doc = ev->check->output + 1;
    h->check = ev->check;
    h->check_no = ev->check_no;
    h->severity = ev->check->severity >= 0 ? (enum tw_severity)ev->check->severity
                                           : TW_SEV_INFO; /* the rule's: set by the caller */
    return TW_OK;
}

static int visit_has(struct ev *ev, const struct tw_cfg_node *n, const struct caps *c, void *ctx)
{
    int rc = filters(ev, ev->ctx, c);

    (void)ctx;
    if (rc <= 0)
        return rc;
    return add_hit(ev, n);
}

/* The candidates of one context statement (or the document's root). */
static int at_context(struct ev *ev, const struct tw_cfg_node *ctx, const struct caps *in_caps)
{
    const struct tw__check *k = ev->check;
    int rc;

    switch (k->anchor) {
        case TW__ANCHOR_HAS:
            ev->ctx = ctx;
            return scan_children(ev, ctx, k->anchor_re, k->anchor_re->code, visit_has, NULL);
        case TW__ANCHOR_LACKS:
            rc = scan_children(ev, ctx, k->anchor_re, k->anchor_re->code, visit_found, NULL);
            if (rc != 0)
                return rc < 0 ? rc : 0;
            break;
        case TW__ANCHOR_NONE:
            break;
    }
    rc = filters(ev, ctx, in_caps);
    if (rc <= 0)
        return rc;
    return add_hit(ev, ctx == ev->doc ? NULL : ctx);
}

struct in_walk {
    unsigned level;
};

static int walk_in(
        struct ev *ev, unsigned level, const struct tw_cfg_node *ctx, const struct caps *caps);

static int visit_in(struct ev *ev, const struct tw_cfg_node *n, const struct caps *c, void *ctx)
{
    const struct in_walk *w = ctx;
    int rc = walk_in(ev, w->level + 1, n, c);

    return rc < 0 ? rc : 0;
}

static int walk_in(
        struct ev *ev, unsigned level, const struct tw_cfg_node *ctx, const struct caps *caps)
{
    const struct tw__check *k = ev->check;
    struct in_walk w;

    if (level == k->n_in)
        return at_context(ev, ctx, caps);
    w.level = level;
    return scan_children(ev, ctx, k->in[level], k->in[level]->code, visit_in, &w);
}

static int eval_check(struct ev *ev, const struct tw__check *k, unsigned check_no)
{
    const struct tw_devconf *d = ev->d;
    int rc;

    if ((unsigned)d->platform >= 32 || (k->platforms & TW_PLAT_BIT(d->platform)) == 0)
        return TW_OK;
    if (k->output >= 0) {
        if (k->output >= TW_OP_COUNT || !d->op_present[k->output]) {
            if (ev->st != NULL)
                ev->st->checks_skipped++;
            return TW_OK;
        }
        ev->doc = &d->op[k->output];
        ev->doc_indexed = false;
    } else {
        ev->doc = &d->root;
        ev->doc_indexed = ev->indexed;
    }
    if (ev->st != NULL)
        ev->st->checks_run++;
    ev->check = k;
    ev->check_no = check_no;
    rc = walk_in(ev, 0, ev->doc, &no_caps);
    return rc < 0 ? rc : TW_OK;
}

/* ==== Findings ==== */

static int cmp_hits(const void *pa, const void *pb)
{
    const struct hit *a = pa, *b = pb;
    uint32_t la = a->node != NULL ? a->node->line : 0, lb = b->node != NULL ? b->node->line : 0;
    int c;

    if (a->doc != b->doc)
        return a->doc < b->doc ? -1 : 1;
    if (la != lb)
        return la < lb ? -1 : 1;
    if (a->node == NULL || b->node == NULL) {
        if (a->node != b->node)
            return a->node == NULL ? -1 : 1;
        /* Two absences: by regex, then check. */
        c = strcmp(a->check->anchor_re->src, b->check->anchor_re->src);
        if (c != 0)
            return c;
        if (a->check->anchor_re->caseless != b->check->anchor_re->caseless)
            return a->check->anchor_re->caseless ? 1 : -1;
        return a->check_no < b->check_no ? -1 : a->check_no > b->check_no;
    }
    if (a->node != b->node) {
        c = strcmp(a->node->text, b->node->text);
        if (c != 0)
            return c;
        return (uintptr_t)a->node < (uintptr_t)b->node ? -1 : 1;
    }
    return a->check_no < b->check_no ? -1 : a->check_no > b->check_no;
}

static bool same_hit(const struct hit *a, const struct hit *b)
{
    if (a->doc != b->doc)
        return false;
    if (a->node != NULL || b->node != NULL)
        return a->node == b->node;
    return strcmp(a->check->anchor_re->src, b->check->anchor_re->src) == 0 &&
           a->check->anchor_re->caseless == b->check->anchor_re->caseless;
}

static bool top_level(const struct tw_cfg_node *n)
{
    return n->depth == 0 || n->parent == NULL || n->parent->parent == NULL;
}

static int emit(struct ev *ev, size_t rule_no, const struct tw__rule *r, const struct hit *h,
        tw_finding_fn fn, void *ctx)
{
    const struct tw_devconf *d = ev->d;
    struct tw_finding f;

    memset(&f, 0, sizeof(f));
    f.device = d->name != NULL ? d->name : "";
    f.file = d->path != NULL ? d->path : "";
    if (h->doc > 0 && h->doc <= TW_OP_COUNT && d->op_path[h->doc - 1] != NULL &&
            d->op_path[h->doc - 1][0] != '\0')
        f.file = d->op_path[h->doc - 1];
    f.platform = d->platform;
    f.rule = rule_no;
    f.rule_id = r->info.id;
    f.severity = h->severity;
    f.title = r->info.title;
    f.message = h->check->message;
    f.implicit = h->check->implicit;
    f.touches = "";
    f.ref = "";
    f.context = "";
    f.evidence = ev->evidence;
    if (h->node == NULL) {
        const struct tw__regex *re = h->check->anchor_re;
        (void)snprintf(ev->evidence, sizeof(ev->evidence), "absent: /%s/%s", re->src,
                re->caseless ? "i" : "");
    } else {
        const struct tw_cfg_node *n = h->node;
        const char *nl = memchr(n->text, '\n', n->len);
        size_t len = nl != NULL ? (size_t)(nl - n->text) : n->len;
        f.line = n->line;
        (void)tw_devconf_mask(d->platform, n->text, len, ev->evidence, sizeof(ev->evidence));
        if (!top_level(n)) {
            (void)tw_devconf_path(d->platform, n->parent, ev->context, sizeof(ev->context));
            f.context = ev->context;
        }
    }
    if (ev->st != NULL)
        ev->st->findings++;
    return fn(ctx, &f);
}

/* Sorts, merges and reports the hits of rule r. TW_OK or fn's non-zero return. */
static int report_rule(
        struct ev *ev, size_t rule_no, const struct tw__rule *r, tw_finding_fn fn, void *ctx)
{
    size_t i = 0;

    for (size_t k = 0; k < ev->n_hits; k++) {
        if (ev->hits[k].check->severity < 0)
            ev->hits[k].severity = r->info.severity;
    }
    if (ev->n_hits > 1)
        qsort(ev->hits, ev->n_hits, sizeof(*ev->hits), cmp_hits);
    while (i < ev->n_hits) {
        struct hit best = ev->hits[i];
        size_t j = i + 1;
        int rc;
        /* Equal hits are adjacent, in check order: keep the most severe, first among equals. */
        for (; j < ev->n_hits && same_hit(&ev->hits[i], &ev->hits[j]); j++) {
            if (ev->hits[j].severity > best.severity)
                best = ev->hits[j];
        }
        if ((rc = emit(ev, rule_no, r, &best, fn, ctx)) != 0)
            return rc;
        i = j;
    }
    ev->n_hits = 0;
    return TW_OK;
}

/* ==== The index ==== */

/* Appends the statements under root to ev->ix in file order (pre-order), with their parent. */
static int collect(struct ev *ev, const struct tw_cfg_node *root)
{
    const struct tw_cfg_node **stack = NULL;
    size_t depth = 0, cap_stack = 0, cap = 256;
    const struct tw_cfg_node *n = root->child, *parent = root;

    ev->ix = tw_malloc(cap * sizeof(*ev->ix));
    if (ev->ix == NULL)
        return TW_ENOMEM;
    while (n != NULL) {
        struct node_ix *x;
        if (ev->n_ix == cap) {
            struct node_ix *p = NULL;
            if (cap < UINT32_MAX / 4)
                p = tw_reallocarray(ev->ix, cap * 2, sizeof(*p));
            if (p == NULL) {
                tw_free(stack);
                return TW_ENOMEM;
            }
            ev->ix = p;
            cap *= 2;
        }
        x = &ev->ix[ev->n_ix++];
        x->node = n;
        x->parent = parent;
        x->word_len = n->text != NULL ? (uint32_t)word_len(n->text, n->len) : 0;
        x->word_hash = tw__word_hash(n->text != NULL ? n->text : "", x->word_len);
        x->next_child = x->next_global = 0;
        if (n->child != NULL) {
            if (depth == cap_stack) {
                size_t c = cap_stack ? cap_stack * 2 : 32;
                const struct tw_cfg_node **s = tw_reallocarray(
                        stack, c, sizeof(*s)); /* NOLINT(bugprone-sizeof-expression) */
                if (s == NULL) {
                    tw_free(stack);
                    return TW_ENOMEM;
                }
                stack = s;
                cap_stack = c;
            }
            stack[depth++] = n;
            parent = n;
            n = n->child;
            continue;
        }
        while (n->next == NULL && depth > 0) {
            n = stack[--depth];
            parent = depth > 0 ? stack[depth - 1] : root;
        }
        n = n->next;
    }
    tw_free(stack);
    return TW_OK;
}

static int build_index(struct ev *ev)
{
    size_t n_slots = 16;
    int rc = collect(ev, &ev->d->root);

    if (rc != TW_OK || !ev->indexed)
        return rc;
    while (n_slots < ev->n_ix * 2)
        n_slots *= 2;
    ev->child_slots = tw_calloc(n_slots, sizeof(*ev->child_slots));
    ev->global_slots = tw_calloc(n_slots, sizeof(*ev->global_slots));
    if (ev->child_slots == NULL || ev->global_slots == NULL)
        return TW_ENOMEM;
    ev->slot_mask = n_slots - 1;
    /* Inserting at the heads in reverse leaves every chain in file order. */
    for (size_t i = ev->n_ix; i-- > 0;) {
        struct node_ix *x = &ev->ix[i];
        uint32_t *c = &ev->child_slots[mix(x->word_hash, x->parent) & ev->slot_mask];
        uint32_t *g = &ev->global_slots[x->word_hash & ev->slot_mask];
        x->next_child = *c;
        *c = (uint32_t)i + 1;
        x->next_global = *g;
        *g = (uint32_t)i + 1;
    }
    return TW_OK;
}

static void ev_cleanup(struct ev *ev)
{
    subst_free(ev);
    tw_free(ev->subst_buf);
    tw_free(ev->hits);
    tw_free(ev->memo);
    tw_free(ev->child_slots);
    tw_free(ev->global_slots);
    tw_free(ev->ix);
    pcre2_match_data_free(ev->md);
}

/* ==== Public API ==== */

int tw_ruleset_eval(const struct tw_ruleset *rs, const struct tw_devconf *d, tw_finding_fn fn,
        void *ctx, struct tw_rule_stats *stats)
{
    struct ev ev;
    int rc;

    if (rs == NULL || d == NULL || fn == NULL)
        return TW_EINVAL;
    memset(&ev, 0, sizeof(ev));
    ev.rs = rs;
    ev.d = d;
    ev.st = stats;
    ev.indexed = !rs->no_index;
    ev.subst_budget = TW__RULE_SUBST_BUDGET;
    ev.md = pcre2_match_data_create(TW__RULE_CAPTURES, rs->gctx);
    ev.memo = tw_calloc(rs->n_memo + 1, 1);
    ev.subst_buf = tw_malloc(TW__RULE_SUBST_MAX);
    rc = ev.md == NULL || ev.memo == NULL || ev.subst_buf == NULL ? TW_ENOMEM : build_index(&ev);
    for (size_t i = 0; i < rs->n_rules && rc == TW_OK; i++) {
        const struct tw__rule *r = rs->rules[i];
        unsigned no = 0;
        if (r->info.builtin != TW_BUILTIN_NONE)
            continue;
        for (const struct tw__check *k = r->checks; k != NULL && rc == TW_OK; k = k->next)
            rc = eval_check(&ev, k, no++);
        if (rc == TW_OK)
            rc = report_rule(&ev, i, r, fn, ctx);
        ev.n_hits = 0;
    }
    ev_cleanup(&ev);
    return rc;
}

/* ==== Drift ==== */

size_t tw__drift_table_need(const struct tw__rule *r)
{
    size_t n = 0;

    for (const struct tw__drift *d = r->drifts; d != NULL; d = d->next)
        n += d->re->n_prefix > 0 ? d->re->n_prefix : 1;
    return n;
}

int tw__drift_table_alloc(struct tw__drift_table *t, size_t cap)
{
    size_t n_slots = 16;

    memset(t, 0, sizeof(*t));
    while (n_slots < cap * 2)
        n_slots *= 2;
    t->refs = tw_calloc(cap + 1, sizeof(*t->refs));
    t->unkeyed = tw_calloc(cap + 1, sizeof(*t->unkeyed));
    t->slots = tw_calloc(n_slots, sizeof(*t->slots));
    if (t->refs == NULL || t->unkeyed == NULL || t->slots == NULL) {
        tw__drift_table_free(t);
        return TW_ENOMEM;
    }
    t->cap_refs = cap;
    t->n_slots = n_slots;
    return TW_OK;
}

void tw__drift_table_free(struct tw__drift_table *t)
{
    tw_free(t->refs);
    tw_free(t->unkeyed);
    tw_free(t->slots);
    memset(t, 0, sizeof(*t));
}

void tw__drift_table_fill(struct tw__drift_table *t, const struct tw_ruleset *rs)
{
    for (size_t i = 0; i < rs->n_rules; i++) {
        const struct tw__rule *r = rs->rules[i];
        for (const struct tw__drift *d = r->drifts; d != NULL; d = d->next) {
            const struct tw__regex *re = d->re;
            bool fallback = r->info.builtin == TW_BUILTIN_DRIFT;
            if (!keyed(re)) {
                struct tw__drift_ref *x = &t->refs[t->n_refs];
                assert(t->n_refs < t->cap_refs);
                x->drift = d;
                x->rule = (uint32_t)i;
                x->fallback = fallback;
                t->unkeyed[t->n_unkeyed++] = (uint32_t)t->n_refs++;
                continue;
            }
            for (unsigned k = 0; k < re->n_prefix; k++) {
                struct tw__drift_ref *x;
                uint32_t *slot;
                if (key_seen(re, k))
                    continue;
                assert(t->n_refs < t->cap_refs);
                x = &t->refs[t->n_refs];
                x->drift = d;
                x->rule = (uint32_t)i;
                x->fallback = fallback;
                x->key_len = re->prefix[k].key_len;
                x->key_hash = re->prefix[k].key_hash;
                slot = &t->slots[x->key_hash & (t->n_slots - 1)];
                x->next = *slot;
                *slot = (uint32_t)++t->n_refs;
            }
        }
    }
}

/* Whether the drift line of ref owns text; on a better owner than *best, records it. */
static void drift_try(const struct tw_ruleset *rs, const struct tw__drift_ref *x,
        enum tw_platform p, const char *text, size_t len, pcre2_match_data *md, long best[2])
{
    const struct tw__rule *r = rs->rules[x->rule];
    long *b = &best[x->fallback ? 1 : 0];
    int rc;

    if ((x->drift->platforms & TW_PLAT_BIT(p)) == 0 ||
            !tw__regex_prefilter(x->drift->re, text, len))
        return;
    if (*b >= 0) {
        const struct tw__rule *o = rs->rules[*b];
        if (o->info.severity > r->info.severity ||
                (o->info.severity == r->info.severity && *b <= (long)x->rule))
            return; /* no better than the owner found already */
    }
    rc = pcre2_match(x->drift->re->code, (PCRE2_SPTR)text, len, 0, 0, md, rs->mctx);
    if (rc >= 0)
        *b = (long)x->rule;
}

long tw_ruleset_drift_owner(
        const struct tw_ruleset *rs, enum tw_platform p, const char *text, size_t len)
{
    const struct tw__drift_table *t;
    pcre2_match_data *md;
    long best[2] = { -1, -1 }; /* rules with drift lines, and `drift` builtins */

    if (rs == NULL || text == NULL || (unsigned)p >= 32 || rs->drift.n_refs == 0)
        return -1;
    t = &rs->drift;
    md = pcre2_match_data_create(1, rs->gctx);
    if (md == NULL)
        return -1;
    {
        size_t wl = word_len(text, len);
        uint32_t h = tw__word_hash(text, wl);
        for (uint32_t e = t->slots[h & (t->n_slots - 1)]; e != 0; e = t->refs[e - 1].next) {
            const struct tw__drift_ref *x = &t->refs[e - 1];
            if (x->key_hash == h && x->key_len == wl)
                drift_try(rs, x, p, text, len, md, best);
        }
    }
    for (size_t i = 0; i < t->n_unkeyed; i++)
        drift_try(rs, &t->refs[t->unkeyed[i]], p, text, len, md, best);
    pcre2_match_data_free(md);
    return best[0] >= 0 ? best[0] : best[1];
}
