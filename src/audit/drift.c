/*
 * drift.c: a device against its known-good baseline (docs/audit-rules.md,
 * "Drift"; tw_audit_drift in audit.h).
 *
 * Only statements a rule's `drift` line owns are compared
 * (tw_ruleset_drift_owner, which picks the most severe owner): for the IOS
 * family a top-level statement and everything under it, for Junos each
 * statement (the parser writes each as its full set-form path, so brace and
 * set files compare alike). Both sides become sets of paths, a path being
 * the statement's text after its ancestors' (`tacacs server TAC1 > address
 * ipv4 198.51.100.9`), with a Junos statement's inactive flag part of it;
 * reordering is therefore no change, and volatile lines (`ntp
 * clock-period`, collector and commit stamps, ASA checksums) are never
 * compared. A path on one side only is a change: added ('+', pointing at
 * the device's line) or removed ('-', pointing at the baseline's line and
 * file, and saying so). Each change is a finding of the `drift` builtin
 * rule, carrying the owning rule's id in `touches` and the owner's
 * severity; a change whose masked text equals a change on the other side
 * (a password hash or key that changed) says that only a masked value
 * differs. Raw statement texts are compared but never shown.
 *
 * Cost: O(n log n) in the statements of both sides, with no copy of their
 * texts; a path is compared by walking the two nodes' ancestor chains.
 */
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"
#include "tidewatch/alloc.h"

/* How a deactivated (Junos inactive:) statement is shown. */
#define INACTIVE_MARK "inactive: "

/* Ancestors followed when comparing paths (deeper trees are cut by the parser). */
#define DRIFT_CHAIN_MAX (TW_CFG_MAX_DEPTH + 2)

/* ==== Volatile lines ==== */

/* Statements whose text changes without anyone changing the configuration. */
static const char *const volatile_prefixes[] = {
    "ntp clock-period",
    "! Last configuration change",
    "! NVRAM config last updated",
    "!! Last configuration change",
    "!Time:",
    "!Running configuration last done at",
    "!Command: show running-config",
    "## Last commit",
    "## Last changed",
    "Cryptochecksum:",
    ": Written by",
    ": Saved",
    "Building configuration",
    "Current configuration",
};

static bool volatile_line(const struct tw_cfg_node *n)
{
    for (size_t i = 0; i < TW_ARRAY_LEN(volatile_prefixes); i++) {
        size_t k = strlen(volatile_prefixes[i]);
        if (n->len >= k && memcmp(n->text, volatile_prefixes[i], k) == 0)
            return true;
    }
    return false;
}

/* ==== Entries ==== */

/* One owned statement of one side. */
struct entry {
    const struct tw_cfg_node *node;
    long owner;   /* the rule owning its top-level statement */
    uint8_t side; /* 0: baseline, 1: device */
    bool changed; /* on this side only */
    bool masked;  /* a change on the other side has the same masked text */
    char *shown;  /* masked path, for changes only */
};

struct entries {
    struct entry *v;
    size_t n;
    size_t cap;
};

static int push(struct entries *e, const struct tw_cfg_node *n, long owner, uint8_t side)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 256;
        struct entry *v = tw_reallocarray(e->v, cap, sizeof(*v));
        if (v == NULL)
            return TW_ENOMEM;
        e->v = v;
        e->cap = cap;
    }
    memset(&e->v[e->n], 0, sizeof(e->v[0]));
    e->v[e->n].node = n;
    e->v[e->n].owner = owner;
    e->v[e->n].side = side;
    e->n++;
    return TW_OK;
}

/* x or the first sibling after it that is not volatile, or NULL. */
static const struct tw_cfg_node *kept(const struct tw_cfg_node *x)
{
    while (x != NULL && volatile_line(x))
        x = x->next;
    return x;
}

/* Adds top and its subtree, depth first, volatile subtrees left out. */
static int add_subtree(struct entries *e, const struct tw_cfg_node *top, long owner, uint8_t side)
{
    const struct tw_cfg_node *n = top;

    for (;;) {
        const struct tw_cfg_node *next;
        int rc = push(e, n, owner, side);

        if (rc != TW_OK)
            return rc;
        next = kept(n->child);
        while (next == NULL && n != top) {
            next = kept(n->next);
            if (next == NULL)
                n = n->parent;
        }
        if (next == NULL)
            return TW_OK;
        n = next;
    }
}

/* Adds the statements of one side that some rule owns. */
static int collect(struct entries *e, const struct tw_ruleset *rs, enum tw_platform p,
        const struct tw_devconf *dc, uint8_t side)
{
    for (const struct tw_cfg_node *top = dc->root.child; top != NULL; top = top->next) {
        long owner;
        int rc;

        if (volatile_line(top))
            continue;
        owner = tw_ruleset_drift_owner(rs, p, top->text, top->len);
        if (owner < 0)
            continue;
        rc = add_subtree(e, top, owner, side);
        if (rc != TW_OK)
            return rc;
    }
    return TW_OK;
}

/* ==== Path order ==== */

/* The node's ancestors below the root, outermost first; returns how many. */
static size_t chain(const struct tw_cfg_node *n, const struct tw_cfg_node **out)
{
    const struct tw_cfg_node *tmp[DRIFT_CHAIN_MAX];
    size_t k = 0;

    for (const struct tw_cfg_node *x = n; x != NULL && x->parent != NULL && k < DRIFT_CHAIN_MAX;
            x = x->parent)
        tmp[k++] = x;
    for (size_t i = 0; i < k; i++)
        out[i] = tmp[k - 1 - i];
    return k;
}

static int cmp_node_text(const struct tw_cfg_node *a, const struct tw_cfg_node *b)
{
    size_t n = TW_MIN(a->len, b->len);
    int r = n > 0 ? memcmp(a->text, b->text, n) : 0;
    unsigned ia = a->flags & TW_CFG_INACTIVE, ib = b->flags & TW_CFG_INACTIVE;

    if (r == 0)
        r = (a->len > b->len) - (a->len < b->len);
    if (r == 0)
        r = (ia > ib) - (ia < ib);
    return r;
}

static int cmp_path(const struct tw_cfg_node *a, const struct tw_cfg_node *b)
{
    const struct tw_cfg_node *ca[DRIFT_CHAIN_MAX], *cb[DRIFT_CHAIN_MAX];
    size_t na = chain(a, ca), nb = chain(b, cb);

    for (size_t i = 0; i < na && i < nb; i++) {
        int r = cmp_node_text(ca[i], cb[i]);
        if (r != 0)
            return r;
    }
    return (na > nb) - (na < nb);
}

/* Path, then side, then line: equal paths sit together, earliest line first. */
static int cmp_entry(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    int r = cmp_path(a->node, b->node);

    if (r == 0)
        r = (a->side > b->side) - (a->side < b->side);
    if (r == 0)
        r = (a->node->line > b->node->line) - (a->node->line < b->node->line);
    return r;
}

/* Changes in report order: removed lines (baseline order), then added lines (device order). */
static int cmp_report(const void *pa, const void *pb)
{
    const struct entry *a = *(const struct entry *const *)pa, *b = *(const struct entry *const *)pb;

    if (a->side != b->side)
        return (a->side > b->side) - (a->side < b->side);
    if (a->node->line != b->node->line)
        return (a->node->line > b->node->line) - (a->node->line < b->node->line);
    return cmp_path(a->node, b->node);
}

static int cmp_shown(const void *pa, const void *pb)
{
    const struct entry *a = *(const struct entry *const *)pa, *b = *(const struct entry *const *)pb;
    int r = strcmp(a->shown, b->shown);

    if (r == 0)
        r = (a->owner > b->owner) - (a->owner < b->owner);
    return r;
}

/* ==== Findings ==== */

struct run {
    const struct tw_ruleset *rs;
    const struct tw_devconf *d;
    const struct tw_devconf *baseline;
    long drift_rule;
    tw_finding_fn fn;
    void *ctx;
};

/* Fills e->shown with the masked path of a change. */
static int show(const struct run *r, struct entry *e)
{
    const struct tw_devconf *dc = e->side ? r->d : r->baseline;

    size_t k = 0;

    e->shown = tw_malloc(TW_AUDIT_MSG_MAX);
    if (e->shown == NULL)
        return TW_ENOMEM;
    if (e->node->flags & TW_CFG_INACTIVE) {
        memcpy(e->shown, INACTIVE_MARK, sizeof(INACTIVE_MARK));
        k = sizeof(INACTIVE_MARK) - 1;
    }
    (void)tw_devconf_path(dc->platform, e->node, e->shown + k, TW_AUDIT_MSG_MAX - k);
    return TW_OK;
}

static int emit(const struct run *r, const struct entry *e)
{
    const struct tw_devconf *dc = e->side ? r->d : r->baseline;
    const struct tw_rule_info *owner = tw_ruleset_rule(r->rs, (size_t)e->owner);
    size_t rule = r->drift_rule >= 0 ? (size_t)r->drift_rule : (size_t)e->owner;
    const struct tw_rule_info *ri = tw_ruleset_rule(r->rs, rule);
    char msg[TW_AUDIT_MSG_MAX];
    char *context = NULL, *evidence = NULL;
    const char *nl;
    size_t elen = 0;
    struct tw_finding f;
    int rc;

    if (tw__audit_context(dc->platform, e->node, &context) != TW_OK)
        return TW_ENOMEM;
    if (tw__audit_mask_node(dc->platform, e->node, &evidence, &elen) != TW_OK) {
        tw_free(context);
        return TW_ENOMEM;
    }
    nl = memchr(evidence, '\n', elen);
    if (nl != NULL)
        evidence[nl - evidence] = '\0';
    if (e->node->flags & TW_CFG_INACTIVE) {
        size_t n = strlen(evidence);
        char *marked = tw_malloc(n + sizeof(INACTIVE_MARK));
        if (marked == NULL) {
            tw_free(evidence);
            tw_free(context);
            return TW_ENOMEM;
        }
        memcpy(marked, INACTIVE_MARK, sizeof(INACTIVE_MARK) - 1);
        memcpy(marked + sizeof(INACTIVE_MARK) - 1, evidence, n + 1);
        tw_free(evidence);
        evidence = marked;
    }
    if (e->side)
        snprintf(msg, sizeof(msg), "%s since the baseline (owned by %s: %s)",
                e->masked ? "changed, only in a masked value," : "added", owner->id, owner->title);
    else
        snprintf(msg, sizeof(msg),
                "%s since the baseline (this is the baseline's line: %s line %u; owned by %s: "
                "%s)",
                e->masked ? "changed, only in a masked value," : "removed", r->baseline->path,
                (unsigned)e->node->line, owner->id, owner->title);
    memset(&f, 0, sizeof(f));
    f.device = r->d->name;
    f.file = dc->path;
    f.platform = r->d->platform;
    f.rule = rule;
    f.rule_id = ri->id;
    f.severity = owner->severity;
    f.title = ri->title;
    f.line = e->node->line;
    f.context = context;
    f.evidence = evidence;
    f.message = msg;
    f.delta = e->side ? '+' : '-';
    f.touches = owner->id;
    f.ref = "";
    rc = r->fn(r->ctx, &f);
    tw_free(evidence);
    tw_free(context);
    return rc;
}

/* Marks changes whose masked text has a twin on the other side (same owner). */
static void mark_masked(struct entry **ch, size_t n)
{
    qsort(ch, n, sizeof(struct entry *), cmp_shown);
    for (size_t g = 0; g < n;) {
        size_t e = g + 1;
        bool sides[2] = { false, false };

        sides[ch[g]->side] = true;
        while (e < n && cmp_shown(&ch[g], &ch[e]) == 0)
            sides[ch[e++]->side] = true;
        if (sides[0] && sides[1])
            for (size_t k = g; k < e; k++)
                ch[k]->masked = true;
        g = e;
    }
}

int tw__audit_drift_run(const struct tw_ruleset *rs, const struct tw_devconf *d,
        const struct tw_devconf *baseline, long drift_rule, tw_finding_fn fn, void *ctx,
        uint64_t *n_changes)
{
    struct run r = { rs, d, baseline, drift_rule, fn, ctx };
    struct entries e = { NULL, 0, 0 };
    struct entry **ch = NULL;
    size_t n_ch = 0;
    int rc;

    if (n_changes != NULL)
        *n_changes = 0;
    if (rs == NULL || d == NULL || baseline == NULL || fn == NULL)
        return TW_EINVAL;
    /* Both sides are owned as the device's platform says, so a rule set reads them alike. */
    rc = collect(&e, rs, d->platform, baseline, 0);
    if (rc == TW_OK)
        rc = collect(&e, rs, d->platform, d, 1);
    if (rc != TW_OK)
        goto out;
    if (e.n > 0)
        qsort(e.v, e.n, sizeof(e.v[0]), cmp_entry);
    for (size_t g = 0; g < e.n;) {
        size_t k = g + 1;
        bool sides[2] = { false, false };

        sides[e.v[g].side] = true;
        while (k < e.n && cmp_path(e.v[g].node, e.v[k].node) == 0)
            sides[e.v[k++].side] = true;
        if (sides[0] != sides[1]) {
            e.v[g].changed = true; /* the earliest line of the path on its side */
            n_ch++;
        }
        g = k;
    }
    if (n_changes != NULL)
        *n_changes = n_ch;
    if (n_ch == 0)
        goto out;
    ch = tw_calloc(n_ch, sizeof(struct entry *));
    if (ch == NULL) {
        rc = TW_ENOMEM;
        goto out;
    }
    n_ch = 0;
    for (size_t i = 0; i < e.n; i++) {
        if (!e.v[i].changed)
            continue;
        ch[n_ch++] = &e.v[i];
        rc = show(&r, &e.v[i]);
        if (rc != TW_OK)
            goto out;
    }
    mark_masked(ch, n_ch);
    qsort(ch, n_ch, sizeof(struct entry *), cmp_report);
    for (size_t i = 0; i < n_ch && rc == 0; i++)
        rc = emit(&r, ch[i]);
out:
    for (size_t i = 0; i < e.n; i++)
        tw_free(e.v[i].shown);
    tw_free(ch);
    tw_free(e.v);
    return rc;
}

int tw_audit_drift(const struct tw_ruleset *rs, const struct tw_devconf *d,
        const struct tw_devconf *baseline, tw_finding_fn fn, void *ctx, uint64_t *n_changes)
{
    long drift_rule = -1;
    size_t n = tw_ruleset_count(rs);

    for (size_t i = 0; i < n && drift_rule < 0; i++)
        if (tw_ruleset_rule(rs, i)->builtin == TW_BUILTIN_DRIFT)
            drift_rule = (long)i;
    return tw__audit_drift_run(rs, d, baseline, drift_rule, fn, ctx, n_changes);
}
