/*
 * devconf_junos.c: Junos configurations, in brace form (`show configuration`)
 * or in set form (`display set`), flattened to one top-level statement per
 * leaf, written as its full path in set form without `set `.
 *
 * A small lexer yields words (a double-quoted string, with its quotes and
 * `\"` escapes, is one word), `{`, `}`, `;`, `[`, `]` and, for the set form,
 * line ends; it skips C-style annotations, `#` comment lines (read for
 * collector metadata: `# Junos:`, `## Last commit: ... by U`) and trailing
 * `##` comments such as `## SECRET-DATA`. Brace form: words gather until `;`
 * (a leaf: its path is the words of the open containers, then its own words),
 * `{` (opens a container) or `}` (closes one; an empty container is a leaf of
 * its own, as `display set` prints it). A `[ a b c ]` list makes one
 * statement per element. `inactive:` marks everything under it
 * TW_CFG_INACTIVE; `protect:` and `replace:` are dropped. Set form: each
 * line starting with `set` is a statement; `deactivate P` marks the
 * statements under P inactive (and later ones under P too), `activate P`
 * undoes it, `delete P` removes them.
 *
 * Both forms give the same statements in the same order for the same
 * configuration (words are joined by one blank; quotes stay as written, as
 * `display set` prints them). Unbalanced braces, unclosed lists, quotes and
 * comments give warnings with their line; the statements read so far stay.
 */
#include <string.h>

#include "devconf_int.h"
#include "tidewatch/alloc.h"
#include "tidewatch/buf.h"

/* Most set-form `deactivate` paths remembered for later statements. */
#define JUNOS_MAX_INACTIVE 1024u
/* Node visits spent on activate/deactivate/delete before the rest are ignored (with a warning). */
#define JUNOS_OPS_BUDGET ((size_t)1 << 26)

enum jt_kind { JT_EOF = 0, JT_WORD, JT_LBRACE, JT_RBRACE, JT_SEMI, JT_LBRACK, JT_RBRACK, JT_NL };

struct jtok {
    enum jt_kind kind;
    const char *p;
    size_t n;
    uint32_t line;
};

struct jlevel {
    size_t path_len; /* length of the path before this level's words */
    uint32_t line;   /* line of its '{' */
    bool inactive;   /* `inactive:` container */
    bool has_child;  /* something was emitted under it */
};

enum set_verb { VERB_NONE = 0, VERB_SET, VERB_DEACTIVATE, VERB_ACTIVATE, VERB_DELETE, VERB_OTHER };

struct junos {
    struct tw__cfg_ctx *c;
    const char *t;
    size_t len, i;
    uint32_t line;
    bool line_start; /* only blanks since the last line end */
    /* The statement being read. */
    struct jtok *tok;
    size_t ntok, cap;
    long list_open, list_close; /* token indexes of '[' and ']', -1 when none */
    bool stmt_inactive;
    enum set_verb verb;
    uint32_t stmt_line;
    /* Open containers. */
    struct jlevel lv[TW_CFG_MAX_DEPTH];
    unsigned depth;    /* kept levels */
    unsigned overflow; /* levels beyond TW_CFG_MAX_DEPTH, not in the path */
    unsigned inactive_levels;
    struct tw_buf path;
    /* Set form. */
    struct tw_str *inactive; /* JUNOS_MAX_INACTIVE slots, allocated by the first deactivate */
    unsigned n_inactive;
    size_t ops_budget;
    bool ops_warned;
};

/* ==== Lexer ==== */

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static bool ends_word(char ch)
{
    return is_blank(ch) || ch == '\n' || ch == ';' || ch == '{' || ch == '}' || ch == '[' ||
           ch == ']' || ch == '"';
}

static size_t line_end(const struct junos *j, size_t i)
{
    const char *nl = memchr(j->t + i, '\n', j->len - i);

    return nl != NULL ? (size_t)(nl - j->t) : j->len;
}

static void comment_line(struct junos *j, size_t i, size_t e)
{
    while (i < e && (j->t[i] == '#' || is_blank(j->t[i])))
        i++;
    while (e > i && is_blank(j->t[e - 1]))
        e--;
    if (e > i)
        tw__meta_line(&j->c->meta, j->t + i, e - i, "comments");
}

static struct jtok next_token(struct junos *j)
{
    struct jtok tk;

    for (;;) {
        char ch;

        memset(&tk, 0, sizeof(tk));
        tk.line = j->line;
        if (j->i >= j->len) {
            tk.kind = JT_EOF;
            return tk;
        }
        ch = j->t[j->i];
        if (is_blank(ch)) {
            j->i++;
            continue;
        }
        if (ch == '\n') {
            j->i++;
            if (j->line < UINT32_MAX)
                j->line++;
            j->line_start = true;
            tk.kind = JT_NL;
            return tk;
        }
        if (ch == '#') {
            size_t e = line_end(j, j->i);
            if (j->line_start)
                comment_line(j, j->i, e);
            j->i = e;
            continue;
        }
        if (ch == '/' && j->i + 1 < j->len && j->t[j->i + 1] == '*') {
            size_t k = j->i + 2;
            uint32_t start = j->line;
            while (k + 1 < j->len && !(j->t[k] == '*' && j->t[k + 1] == '/')) {
                if (j->t[k] == '\n' && j->line < UINT32_MAX)
                    j->line++;
                k++;
            }
            if (k + 1 >= j->len) {
                tw__cfg_warn(j->c, start, "annotation '/*' never closed");
                if (k < j->len && j->t[k] == '\n' && j->line < UINT32_MAX)
                    j->line++;
                j->i = j->len;
            } else {
                j->i = k + 2;
            }
            continue;
        }
        j->line_start = false;
        tk.p = j->t + j->i;
        tk.n = 1;
        switch (ch) {
            case '{':
                tk.kind = JT_LBRACE;
                j->i++;
                return tk;
            case '}':
                tk.kind = JT_RBRACE;
                j->i++;
                return tk;
            case ';':
                tk.kind = JT_SEMI;
                j->i++;
                return tk;
            case '[':
                tk.kind = JT_LBRACK;
                j->i++;
                return tk;
            case ']':
                tk.kind = JT_RBRACK;
                j->i++;
                return tk;
            case '"': {
                size_t k = j->i + 1;
                uint32_t nls = 0;
                while (k < j->len && j->t[k] != '"') {
                    if (j->t[k] == '\\' && k + 1 < j->len)
                        k++;
                    nls += j->t[k] == '\n';
                    k++;
                }
                tk.kind = JT_WORD;
                if (k >= j->len) {
                    /* Unclosed: the string ends with its line. */
                    size_t e = line_end(j, j->i);
                    tw__cfg_warn(j->c, j->line, "quoted string never closed");
                    while (e > j->i && is_blank(j->t[e - 1]))
                        e--;
                    tk.n = e - j->i;
                    j->i = e;
                    return tk;
                }
                tk.n = k + 1 - j->i;
                j->i = k + 1;
                j->line = j->line > UINT32_MAX - nls ? UINT32_MAX : j->line + nls;
                return tk;
            }
            default: {
                size_t k = j->i;
                while (k < j->len && !ends_word(j->t[k]))
                    k++;
                tk.kind = JT_WORD;
                tk.n = k - j->i;
                j->i = k;
                return tk;
            }
        }
    }
}

/* ==== Statements ==== */

static bool word_is(const struct jtok *tk, const char *lit)
{
    size_t ln = strlen(lit);

    return tk->n == ln && memcmp(tk->p, lit, ln) == 0;
}

static void reset_stmt(struct junos *j)
{
    j->ntok = 0;
    j->list_open = j->list_close = -1;
    j->stmt_inactive = false;
    j->verb = VERB_NONE;
}

static int push_token(struct junos *j, const struct jtok *tk)
{
    if (j->ntok == j->cap) {
        size_t ncap = j->cap != 0 ? j->cap * 2 : 32;
        struct jtok *nt = tw_reallocarray(j->tok, ncap, sizeof(*nt));
        if (nt == NULL)
            return TW_ENOMEM;
        j->tok = nt;
        j->cap = ncap;
    }
    j->tok[j->ntok++] = *tk;
    return TW_OK;
}

/* Bytes of tokens [from, to) joined by single blanks. */
static size_t joined_len(const struct junos *j, size_t from, size_t to)
{
    size_t n = 0;

    for (size_t k = from; k < to; k++)
        n += j->tok[k].n + (n > 0);
    return n;
}

static char *put_tokens(const struct junos *j, char *w, size_t from, size_t to, bool blank)
{
    for (size_t k = from; k < to; k++) {
        if (blank)
            *w++ = ' ';
        memcpy(w, j->tok[k].p, j->tok[k].n);
        w += j->tok[k].n;
        blank = true;
    }
    return w;
}

static bool under(struct tw_str prefix, const char *s, size_t n)
{
    return n >= prefix.len && memcmp(s, prefix.ptr, prefix.len) == 0 &&
           (n == prefix.len || prefix.len == 0 || s[prefix.len] == ' ');
}

/*
 * Spends cost node visits of the budget of the set form's operations
 * (deactivate, activate, delete and the checks of later statements against
 * deactivated paths); false, with one warning, once it is spent.
 */
static bool spend(struct junos *j, uint32_t line, size_t cost)
{
    if (cost > j->ops_budget) {
        if (!j->ops_warned)
            tw__cfg_warn(j->c, line,
                    "too many activate/deactivate/delete lines for the statements; the rest "
                    "are ignored");
        j->ops_warned = true;
        return false;
    }
    j->ops_budget -= cost;
    return true;
}

static int add_node(struct junos *j, char *text, size_t n, uint32_t line, bool inactive)
{
    struct tw_cfg_node *node = tw__cfg_node_new(j->c, text, n, line);

    if (node == NULL)
        return TW_ENOMEM;
    if (inactive)
        node->flags |= TW_CFG_INACTIVE;
    if (j->n_inactive > 0 && spend(j, line, j->n_inactive)) {
        for (unsigned k = 0; k < j->n_inactive && !(node->flags & TW_CFG_INACTIVE); k++) {
            if (under(j->inactive[k], text, n))
                node->flags |= TW_CFG_INACTIVE;
        }
    }
    if (tw__has_redaction(text, n))
        node->flags |= TW_CFG_REDACTED;
    tw__cfg_append_top(j->c, node);
    tw__meta_junos_statement(&j->c->meta, text, n);
    return TW_OK;
}

/*
 * Emits the statement of tokens [first, ntok) under `path` (path_len bytes),
 * one node per element of its list when it has one.
 */
static int emit(struct junos *j, const char *path, size_t path_len, size_t first, uint32_t line,
        bool inactive)
{
    size_t lo = j->list_open >= 0 ? (size_t)j->list_open : j->ntok;
    size_t lc = j->list_close >= 0 ? (size_t)j->list_close : j->ntok;
    size_t pre, post, n_elems;

    if (lo < first)
        lo = first;
    if (lc < lo)
        lc = lo;
    pre = joined_len(j, first, lo);
    post = joined_len(j, lc, j->ntok);
    n_elems = j->list_open >= 0 ? lc - lo : 0;
    if (j->list_open >= 0 && n_elems == 0)
        tw__cfg_warn(j->c, line, "empty list '[ ]'");
    for (size_t e = 0; e < (n_elems > 0 ? n_elems : 1); e++) {
        const struct jtok *el = n_elems > 0 ? &j->tok[lo + e] : NULL;
        size_t n = path_len + 1 + pre + 1 + (el != NULL ? el->n : 0) + 1 + post;
        char *text = tw__cfg_alloc(j->c->mem, n + 1), *w = text;
        bool blank = path_len > 0;
        int rc;

        if (text == NULL)
            return TW_ENOMEM;
        memcpy(w, path, path_len);
        w += path_len;
        w = put_tokens(j, w, first, lo, blank);
        blank = blank || lo > first;
        if (el != NULL) {
            if (blank)
                *w++ = ' ';
            memcpy(w, el->p, el->n);
            w += el->n;
            blank = true;
        }
        w = put_tokens(j, w, lc, j->ntok, blank);
        *w = '\0';
        if (w == text) {
            tw__cfg_warn(j->c, line, "empty statement");
            continue;
        }
        rc = add_node(j, text, (size_t)(w - text), line, inactive);
        if (rc != TW_OK)
            return rc;
    }
    return TW_OK;
}

/* ==== Brace form ==== */

static int brace_leaf(struct junos *j, uint32_t line)
{
    bool inactive = j->stmt_inactive || j->inactive_levels > 0;
    int rc;

    if (j->ntok == 0) {
        if (j->list_open >= 0 || j->stmt_inactive)
            tw__cfg_warn(j->c, line, "empty statement");
        reset_stmt(j);
        return TW_OK;
    }
    rc = emit(j, j->path.ptr != NULL ? j->path.ptr : "", j->path.len, 0, line, inactive);
    if (j->depth > 0)
        j->lv[j->depth - 1].has_child = true;
    reset_stmt(j);
    return rc;
}

static int brace_open(struct junos *j, uint32_t line)
{
    struct jlevel *l;
    int rc = TW_OK;

    if (j->depth > 0)
        j->lv[j->depth - 1].has_child = true;
    if (j->depth == TW_CFG_MAX_DEPTH) {
        tw__cfg_warn(j->c, line,
                "nesting deeper than %d levels; deeper containers are not in "
                "the statements' paths",
                TW_CFG_MAX_DEPTH);
        j->overflow++;
        reset_stmt(j);
        return TW_OK;
    }
    if (j->ntok == 0)
        tw__cfg_warn(j->c, line, "'{' without a name");
    l = &j->lv[j->depth++];
    l->path_len = j->path.len;
    l->line = line;
    l->inactive = j->stmt_inactive;
    l->has_child = false;
    if (l->inactive)
        j->inactive_levels++;
    for (size_t k = 0; k < j->ntok && rc == TW_OK; k++) {
        if (j->path.len > 0)
            rc = tw_buf_putc(&j->path, ' ');
        if (rc == TW_OK)
            rc = tw_buf_append(&j->path, j->tok[k].p, j->tok[k].n);
    }
    reset_stmt(j);
    return rc;
}

static int brace_close(struct junos *j, uint32_t line)
{
    struct jlevel *l;
    int rc = TW_OK;

    if (j->ntok > 0) {
        tw__cfg_warn(j->c, line, "statement without ';' before '}'; kept");
        rc = brace_leaf(j, line);
        if (rc != TW_OK)
            return rc;
    }
    reset_stmt(j);
    if (j->overflow > 0) {
        j->overflow--;
        return TW_OK;
    }
    if (j->depth == 0) {
        tw__cfg_warn(j->c, line, "'}' without a matching '{'; ignored");
        return TW_OK;
    }
    l = &j->lv[--j->depth];
    if (l->inactive)
        j->inactive_levels--;
    if (!l->has_child && j->path.len > l->path_len) {
        /* An empty container is a statement of its own. */
        char *text = tw__cfg_alloc(j->c->mem, j->path.len + 1);
        if (text == NULL)
            return TW_ENOMEM;
        memcpy(text, j->path.ptr, j->path.len);
        text[j->path.len] = '\0';
        rc = add_node(j, text, j->path.len, l->line, l->inactive || j->inactive_levels > 0);
    }
    j->path.len = l->path_len;
    if (j->path.ptr != NULL)
        j->path.ptr[j->path.len] = '\0';
    return rc;
}

/* ==== Set form ==== */

static enum set_verb verb_of(const struct jtok *tk)
{
    if (word_is(tk, "set"))
        return VERB_SET;
    if (word_is(tk, "deactivate"))
        return VERB_DEACTIVATE;
    if (word_is(tk, "activate"))
        return VERB_ACTIVATE;
    if (word_is(tk, "delete"))
        return VERB_DELETE;
    if (word_is(tk, "protect") || word_is(tk, "unprotect") || word_is(tk, "insert") ||
            word_is(tk, "rename") || word_is(tk, "annotate") || word_is(tk, "copy") ||
            word_is(tk, "edit") || word_is(tk, "replace"))
        return VERB_OTHER;
    return VERB_NONE;
}

/* Removes remembered deactivated paths at or under p. */
static void forget_inactive(struct junos *j, struct tw_str p)
{
    unsigned w = 0;

    for (unsigned k = 0; k < j->n_inactive; k++) {
        if (!under(p, j->inactive[k].ptr, j->inactive[k].len))
            j->inactive[w++] = j->inactive[k];
    }
    j->n_inactive = w;
}

static int set_op(struct junos *j, uint32_t line)
{
    struct tw_devconf *d = j->c->d;
    size_t n = joined_len(j, 0, j->ntok);
    char *p = tw__cfg_alloc(j->c->mem, n + 1);
    struct tw_str ps;

    if (p == NULL)
        return TW_ENOMEM;
    *put_tokens(j, p, 0, j->ntok, false) = '\0';
    ps = tw_str_make(p, n);
    if (!spend(j, line, (size_t)d->n_nodes + 1u))
        return TW_OK;
    if (j->verb == VERB_DELETE) {
        struct tw_cfg_node **pp = &d->root.child, *prev = NULL;
        while (*pp != NULL) {
            struct tw_cfg_node *x = *pp;
            if (under(ps, x->text, x->len)) {
                *pp = x->next;
                d->n_nodes--;
            } else {
                prev = x;
                pp = &x->next;
            }
        }
        j->c->root_tail = prev;
        forget_inactive(j, ps);
        return TW_OK;
    }
    for (struct tw_cfg_node *x = d->root.child; x != NULL; x = x->next) {
        if (!under(ps, x->text, x->len))
            continue;
        if (j->verb == VERB_DEACTIVATE)
            x->flags |= TW_CFG_INACTIVE;
        else
            x->flags &= (uint16_t)~TW_CFG_INACTIVE;
    }
    if (j->verb == VERB_ACTIVATE) {
        forget_inactive(j, ps);
    } else if (j->n_inactive < JUNOS_MAX_INACTIVE) {
        if (j->inactive == NULL) {
            j->inactive = tw_malloc(JUNOS_MAX_INACTIVE * sizeof(*j->inactive));
            if (j->inactive == NULL)
                return TW_ENOMEM;
        }
        j->inactive[j->n_inactive++] = ps;
    } else {
        tw__cfg_warn(j->c, line,
                "more than %u deactivated paths; later statements under this "
                "one are not marked inactive",
                JUNOS_MAX_INACTIVE);
    }
    return TW_OK;
}

static int set_end(struct junos *j)
{
    uint32_t line = j->stmt_line;
    int rc = TW_OK;

    switch (j->verb) {
        case VERB_SET:
            if (j->ntok == 0)
                tw__cfg_warn(j->c, line, "'set' without a statement");
            else
                rc = emit(j, "", 0, 0, line, false);
            break;
        case VERB_DEACTIVATE:
        case VERB_ACTIVATE:
        case VERB_DELETE:
            rc = set_op(j, line);
            break;
        case VERB_OTHER:
            tw__cfg_warn(j->c, line,
                    "set-form command other than set, delete, activate or "
                    "deactivate; ignored");
            break;
        case VERB_NONE:
            break;
    }
    reset_stmt(j);
    return rc;
}

/* ==== The parser ==== */

static int on_word(struct junos *j, const struct jtok *tk)
{
    if (j->ntok == 0 && j->verb == VERB_NONE) {
        if (word_is(tk, "inactive:")) {
            j->stmt_inactive = true;
            return TW_OK;
        }
        if (word_is(tk, "protect:") || word_is(tk, "replace:"))
            return TW_OK;
        if (j->depth == 0 && j->overflow == 0 && !j->stmt_inactive) {
            enum set_verb v = verb_of(tk);
            if (v != VERB_NONE) {
                j->verb = v;
                j->stmt_line = tk->line;
                return TW_OK;
            }
        }
    }
    return push_token(j, tk);
}

static int step(struct junos *j, const struct jtok *tk, bool *done)
{
    bool set_form = j->verb != VERB_NONE;

    switch (tk->kind) {
        case JT_WORD:
            return on_word(j, tk);
        case JT_NL:
            return set_form ? set_end(j) : TW_OK;
        case JT_SEMI:
            return set_form ? set_end(j) : brace_leaf(j, tk->line);
        case JT_LBRACK:
            if (j->list_open >= 0)
                tw__cfg_warn(j->c, tk->line, "'[' inside a list; ignored");
            else
                j->list_open = (long)j->ntok;
            return TW_OK;
        case JT_RBRACK:
            if (j->list_open < 0 || j->list_close >= 0)
                tw__cfg_warn(j->c, tk->line, "']' without a matching '['; ignored");
            else
                j->list_close = (long)j->ntok;
            return TW_OK;
        case JT_LBRACE:
            if (set_form) {
                tw__cfg_warn(j->c, tk->line, "'{' in a set-form line; ignored");
                return TW_OK;
            }
            return brace_open(j, tk->line);
        case JT_RBRACE:
            if (set_form) {
                tw__cfg_warn(j->c, tk->line, "'}' in a set-form line; ignored");
                return TW_OK;
            }
            return brace_close(j, tk->line);
        case JT_EOF:
            *done = true;
            if (set_form)
                return set_end(j);
            if (j->ntok > 0)
                tw__cfg_warn(j->c, tk->line,
                        "statement cut short at the end of the input; "
                        "dropped");
            if (j->depth + j->overflow == 0)
                return TW_OK;
            tw__cfg_warn(j->c, tk->line, "%u '{' never closed at the end of the input",
                    j->depth + j->overflow);
            if (j->overflow == 0 && !j->lv[j->depth - 1].has_child)
                return brace_close(j, tk->line); /* keep the empty container read so far */
            return TW_OK;
    }
    return TW_OK;
}

int tw__junos_parse(struct tw__cfg_ctx *c)
{
    struct junos *j = tw_calloc(1, sizeof(*j));
    bool done = false;
    int rc = TW_OK;

    if (j == NULL)
        return TW_ENOMEM;
    j->c = c;
    j->t = c->text;
    j->len = c->len;
    j->line = 1;
    j->line_start = true;
    j->ops_budget = JUNOS_OPS_BUDGET;
    tw_buf_init(&j->path, c->len + 16);
    reset_stmt(j);
    while (!done && rc == TW_OK) {
        struct jtok tk = next_token(j);
        rc = step(j, &tk, &done);
    }
    /* Lines: the last one counts when it has text. */
    c->d->n_lines = j->line - (c->len > 0 && c->text[c->len - 1] == '\n' ? 1u : 0u);
    tw_buf_cleanup(&j->path);
    tw_free(j->tok);
    tw_free(j->inactive);
    tw_free(j);
    if (rc == TW_ELIMIT)
        rc = TW_ENOMEM; /* the path buffer's cap is the input's size: only memory runs out */
    return rc;
}
