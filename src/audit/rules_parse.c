/*
 * rules_parse.c: the rule language of docs/audit-rules.md, parsed into a
 * rule set, and the rule set's lifetime and look-ups.
 *
 * A rule file is read one line at a time. Each line is one statement: a
 * keyword and its arguments, as words, double-quoted strings (escapes `\"`
 * and `\\`) and regexes (`/.../` with `\/` for a slash and an optional `i`
 * flag). `#` starts a comment outside strings and regexes. The parser is
 * strict on purpose: an unknown keyword, platform, severity or flag is an
 * error naming the file, line and column, since a typo that silently
 * disabled a rule would be worse than a refusal to start. A file is taken
 * whole or not at all: its rules are built aside and merged into the set
 * only when the whole file has parsed, by steps that cannot fail once the
 * memory they need has been reserved.
 *
 * The compiled-in catalogue is the concatenation of the files of rules/,
 * each after a line "# file: NAME"; errors in it also name that file and its
 * own line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rules_int.h"
#include "tidewatch/alloc.h"

/* ==== Types ==== */

enum tok_kind {
    TOK_END = 0,
    TOK_WORD,
    TOK_STRING,
    TOK_REGEX,
};

struct tok {
    enum tok_kind kind;
    const char *p; /* word, string body (escapes not undone) or regex source */
    size_t len;
    size_t col;    /* 1-based column of its first byte */
    bool caseless; /* regex: the i flag */
};

struct parser {
    struct tw_ruleset *rs;
    const char *path;
    struct tw_err *err;
    const char *text;
    /* The current line. */
    const char *line;
    size_t line_len;
    size_t line_no;
    size_t line_off;
    size_t pos;
    /* The catalogue's "# file: NAME" marker in force. */
    const char *file_name;
    size_t file_name_len;
    size_t file_line0;
    /* Rules of this file, merged on success. */
    struct tw__rule **pending;
    size_t n_pending;
    size_t cap_pending;
    size_t n_new; /* pending rules whose id is not in the set */
    uint32_t n_memo;
    /* The rule and check being read. */
    struct tw__rule *cur;
    struct tw__check *check;
    struct tw__check **check_tail;
    struct tw__filter **filter_tail;
    struct tw__drift **drift_tail;
    unsigned n_filters;
    bool has_severity;
    bool has_check_severity;
    int status; /* the error recorded last */
};

/* ==== Rule set ==== */

static void *pcre2_alloc(size_t n, void *data)
{
    (void)data;
    return tw_malloc(n);
}

static void pcre2_release(void *p, void *data)
{
    (void)data;
    tw_free(p);
}

struct tw_ruleset *tw_ruleset_new(void)
{
    struct tw_ruleset *rs = tw_calloc(1, sizeof(*rs));

    if (rs == NULL)
        return NULL;
    rs->gctx = pcre2_general_context_create(pcre2_alloc, pcre2_release, NULL);
    if (rs->gctx != NULL) {
        rs->cctx = pcre2_compile_context_create(rs->gctx);
        rs->mctx = pcre2_match_context_create(rs->gctx);
    }
    if (rs->cctx == NULL || rs->mctx == NULL) {
        tw_ruleset_free(rs);
        return NULL;
    }
    (void)pcre2_set_match_limit(rs->mctx, TW__RULE_MATCH_LIMIT);
    (void)pcre2_set_depth_limit(rs->mctx, TW__RULE_DEPTH_LIMIT);
    (void)pcre2_set_heap_limit(rs->mctx, TW__RULE_HEAP_LIMIT);
    return rs;
}

static void rule_free(struct tw__rule *r)
{
    if (r == NULL)
        return;
    tw__regex_free_all(r->regexes);
    tw_arena_cleanup(&r->arena);
    tw_free(r);
}

void tw_ruleset_free(struct tw_ruleset *rs)
{
    if (rs == NULL)
        return;
    for (size_t i = 0; i < rs->n_rules; i++)
        rule_free(rs->rules[i]);
    tw_free(rs->rules);
    tw_free(rs->id_slots);
    tw__drift_table_free(&rs->drift);
    pcre2_match_context_free(rs->mctx);
    pcre2_compile_context_free(rs->cctx);
    pcre2_general_context_free(rs->gctx);
    tw_free(rs);
}

void tw__ruleset_set_jit(struct tw_ruleset *rs, bool on)
{
    rs->no_jit = !on;
}

void tw__ruleset_set_index(struct tw_ruleset *rs, bool on)
{
    rs->no_index = !on;
}

size_t tw_ruleset_count(const struct tw_ruleset *rs)
{
    return rs != NULL ? rs->n_rules : 0;
}

const struct tw_rule_info *tw_ruleset_rule(const struct tw_ruleset *rs, size_t i)
{
    if (rs == NULL || i >= rs->n_rules)
        return NULL;
    return &rs->rules[i]->info;
}

static uint32_t id_hash(const char *id, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)id[i];
        h *= 16777619u;
    }
    return h;
}

/* Slot of id in a table of rule indices + 1 (0 = empty), or of the empty slot it would take. */
static size_t id_slot(struct tw__rule *const *rules, const size_t *slots, size_t n_slots,
        const char *id, size_t n)
{
    size_t mask = n_slots - 1, i = id_hash(id, n) & mask;

    while (slots[i] != 0) {
        const char *other = rules[slots[i] - 1]->info.id;
        if (strncmp(other, id, n) == 0 && other[n] == '\0')
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

static long find_n(const struct tw_ruleset *rs, const char *id, size_t n)
{
    size_t i;

    if (rs == NULL || rs->n_id_slots == 0)
        return -1;
    i = id_slot(rs->rules, rs->id_slots, rs->n_id_slots, id, n);
    return rs->id_slots[i] != 0 ? (long)rs->id_slots[i] - 1 : -1;
}

long tw_ruleset_find(const struct tw_ruleset *rs, const char *id)
{
    if (id == NULL)
        return -1;
    return find_n(rs, id, strlen(id));
}

/* ==== Errors ==== */

static int vfail_at(struct parser *ps, int code, size_t line, size_t col, const char *fmt,
        va_list ap) TW_PRINTF(5, 0);

static int vfail_at(
        struct parser *ps, int code, size_t line, size_t col, const char *fmt, va_list ap)
{
    char msg[200], where[96] = "";
    size_t offset = TW_NOPOS;

    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    if (ps->file_name != NULL && line > ps->file_line0)
        (void)snprintf(where, sizeof(where), " (%.*s line %zu)", (int)TW_MIN(ps->file_name_len, 60),
                ps->file_name, line - ps->file_line0);
    if (line == ps->line_no && col > 0)
        offset = ps->line_off + col - 1;
    (void)TW_E_HERE(ps->err, code, offset, "%s:%zu:%zu: %s%s", ps->path, line, col, msg, where);
    if (ps->err != NULL) {
        ps->err->line = line;
        ps->err->column = col;
    }
    ps->status = code;
    return code;
}

static int fail_at(struct parser *ps, int code, size_t line, size_t col, const char *fmt, ...)
        TW_PRINTF(5, 6);

static int fail_at(struct parser *ps, int code, size_t line, size_t col, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vfail_at(ps, code, line, col, fmt, ap);
    va_end(ap);
    return rc;
}

static int fail(struct parser *ps, size_t col, const char *fmt, ...) TW_PRINTF(3, 4);

static int fail(struct parser *ps, size_t col, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = vfail_at(ps, TW_ESYNTAX, ps->line_no, col, fmt, ap);
    va_end(ap);
    return rc;
}

static int oom(struct parser *ps)
{
    return fail_at(ps, TW_ENOMEM, ps->line_no, 0, "out of memory");
}

/* Memory from the current rule's arena; NULL after recording the error. */
static void *rule_alloc(struct parser *ps, size_t n)
{
    struct tw_arena *a = &ps->cur->arena;
    void *p = tw_arena_calloc(a, 1, n);

    if (p == NULL) {
        if (a->used + n + 64 > a->max)
            (void)fail_at(ps, TW_ELIMIT, ps->line_no, 1, "rule '%s' is too large (over %zu bytes)",
                    ps->cur->info.id != NULL ? ps->cur->info.id : "", (size_t)TW__RULE_BYTES_MAX);
        else
            (void)oom(ps);
    }
    return p;
}

/* The status of the error recorded last (after a helper returned NULL). */
static int rule_alloc_status(const struct parser *ps)
{
    return ps->status != TW_OK ? ps->status : TW_ENOMEM;
}

/* ==== Tokens ==== */

static const char *tok_name(const struct tok *t)
{
    switch (t->kind) {
        case TOK_WORD:
            return "word";
        case TOK_STRING:
            return "string";
        case TOK_REGEX:
            return "regex";
        case TOK_END:
            break;
    }
    return "end of line";
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Bytes a token may be followed by: a blank, a comment or the end of the line. */
static bool at_boundary(const struct parser *ps, size_t i)
{
    return i >= ps->line_len || is_blank(ps->line[i]) || ps->line[i] == '#';
}

static int next_tok(struct parser *ps, struct tok *t)
{
    const char *s = ps->line;
    size_t n = ps->line_len, i = ps->pos;

    while (i < n && is_blank(s[i]))
        i++;
    memset(t, 0, sizeof(*t));
    t->col = i + 1;
    if (i >= n || s[i] == '#') {
        ps->pos = n;
        t->kind = TOK_END;
        return TW_OK;
    }
    if (s[i] == '"') {
        size_t j = i + 1;
        while (j < n && s[j] != '"') {
            if (s[j] == '\\') {
                if (j + 1 >= n)
                    break;
                if (s[j + 1] != '"' && s[j + 1] != '\\')
                    return fail(ps, j + 1, "unknown escape '\\%c' in a string (only \\\" and \\\\)",
                            s[j + 1]);
                j++;
            }
            j++;
        }
        if (j >= n)
            return fail(ps, i + 1, "unterminated string (expected a closing '\"')");
        if (!at_boundary(ps, j + 1))
            return fail(ps, j + 2, "expected a blank after the string");
        t->kind = TOK_STRING;
        t->p = s + i + 1;
        t->len = j - i - 1;
        ps->pos = j + 1;
        return TW_OK;
    }
    if (s[i] == '/') {
        size_t j = i + 1, k;
        while (j < n && s[j] != '/') {
            if (s[j] == '\\' && j + 1 < n)
                j++;
            j++;
        }
        if (j >= n)
            return fail(ps, i + 1, "unterminated regex (expected a closing '/')");
        t->kind = TOK_REGEX;
        t->p = s + i + 1;
        t->len = j - i - 1;
        for (k = j + 1; k < n && tw_ascii_isalpha(s[k]); k++) {
            if (s[k] != 'i')
                return fail(ps, k + 1, "unknown regex flag '%c' (only i)", s[k]);
            t->caseless = true;
        }
        if (!at_boundary(ps, k))
            return fail(ps, k + 1, "expected a blank after the regex");
        ps->pos = k;
        return TW_OK;
    }
    t->kind = TOK_WORD;
    t->p = s + i;
    while (i < n && !is_blank(s[i]) && s[i] != '#')
        i++;
    t->len = (size_t)(s + i - t->p);
    ps->pos = i;
    return TW_OK;
}

static bool tok_is(const struct tok *t, const char *word)
{
    return t->kind == TOK_WORD && strlen(word) == t->len && memcmp(t->p, word, t->len) == 0;
}

/* Requires the end of the line after a statement's arguments. */
static int expect_end(struct parser *ps, const char *what)
{
    struct tok t;
    int rc = next_tok(ps, &t);

    if (rc != TW_OK)
        return rc;
    if (t.kind != TOK_END)
        return fail(ps, t.col, "unexpected %s '%.*s' after %s", tok_name(&t),
                (int)TW_MIN(t.len, 40), t.p, what);
    return TW_OK;
}

static int expect(struct parser *ps, struct tok *t, enum tok_kind kind, const char *what)
{
    int rc = next_tok(ps, t);

    if (rc != TW_OK)
        return rc;
    if (t->kind != kind) {
        if (t->kind == TOK_END)
            return fail(ps, t->col, "expected %s", what);
        return fail(ps, t->col, "expected %s, found %s '%.*s'", what, tok_name(t),
                (int)TW_MIN(t->len, 40), t->p);
    }
    return TW_OK;
}

/* A string's text with its escapes undone, in the rule's arena. */
static const char *keep_string(struct parser *ps, const struct tok *t)
{
    char *out = rule_alloc(ps, t->len + 1);
    size_t o = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < t->len; i++) {
        if (t->p[i] == '\\' && i + 1 < t->len)
            i++;
        out[o++] = t->p[i];
    }
    out[o] = '\0';
    return out;
}

static const char *keep_text(struct parser *ps, const char *p, size_t n)
{
    char *out = rule_alloc(ps, n + 1);

    if (out != NULL)
        memcpy(out, p, n);
    return out;
}

/* Compiles a regex token into a regex of the current rule. NULL after recording the error. */
static struct tw__regex *keep_regex(struct parser *ps, const struct tok *t, bool allow_subst)
{
    struct tw__regex *re = rule_alloc(ps, sizeof(*re));
    char msg[180];
    size_t off = 0;
    int rc;

    if (re == NULL)
        return NULL;
    re->src = keep_text(ps, t->p, t->len);
    if (re->src == NULL)
        return NULL;
    re->src_len = (uint32_t)t->len;
    re->caseless = t->caseless;
    re->line = (uint32_t)ps->line_no;
    re->col = (uint32_t)t->col;
    rc = tw__regex_compile(ps->rs, re, allow_subst, &ps->cur->arena, msg, sizeof(msg), &off);
    /* Owned from now on, so that its code is freed with the rule even on error. */
    re->next_owned = ps->cur->regexes;
    ps->cur->regexes = re;
    if (rc == TW_ENOMEM) {
        (void)oom(ps);
        return NULL;
    }
    if (rc != TW_OK) {
        (void)fail_at(ps, rc, ps->line_no, t->col + 1 + off, "bad regex /%.*s/: %s",
                (int)TW_MIN(t->len, 60), t->p, msg);
        return NULL;
    }
    return re;
}

/* ==== Platforms ==== */

#define ALL_PLATFORMS                                                                              \
    (TW_PLAT_BIT(TW_PLAT_IOS) | TW_PLAT_BIT(TW_PLAT_IOSXE) | TW_PLAT_BIT(TW_PLAT_NXOS) |           \
            TW_PLAT_BIT(TW_PLAT_IOSXR) | TW_PLAT_BIT(TW_PLAT_JUNOS) | TW_PLAT_BIT(TW_PLAT_ASA))

static const struct {
    const char *name;
    unsigned bits;
} platform_words[] = {
    { "ios", TW_PLAT_BIT(TW_PLAT_IOS) | TW_PLAT_BIT(TW_PLAT_IOSXE) },
    { "iosxe", TW_PLAT_BIT(TW_PLAT_IOSXE) },
    { "nxos", TW_PLAT_BIT(TW_PLAT_NXOS) },
    { "iosxr", TW_PLAT_BIT(TW_PLAT_IOSXR) },
    { "junos", TW_PLAT_BIT(TW_PLAT_JUNOS) },
    { "asa", TW_PLAT_BIT(TW_PLAT_ASA) },
    { "all", ALL_PLATFORMS },
};

static int platform_word(struct parser *ps, const struct tok *t, unsigned *bits)
{
    for (size_t i = 0; i < TW_ARRAY_LEN(platform_words); i++) {
        if (tok_is(t, platform_words[i].name)) {
            *bits |= platform_words[i].bits;
            return TW_OK;
        }
    }
    if (t->kind != TOK_WORD)
        return fail(ps, t->col, "expected a platform, found %s '%.*s'", tok_name(t),
                (int)TW_MIN(t->len, 40), t->p);
    return fail(ps, t->col,
            "unknown platform '%.*s' (expected ios, iosxe, nxos, iosxr, junos, asa or all)",
            (int)TW_MIN(t->len, 40), t->p);
}

/* ==== Checks ==== */

/* The groups $N may name in a check: the anchor's (has) or the innermost in's. */
static uint32_t capture_groups(const struct tw__check *c)
{
    if (c->anchor == TW__ANCHOR_HAS)
        return c->anchor_re->n_groups;
    if (c->n_in > 0)
        return c->in[c->n_in - 1]->n_groups;
    return 0;
}

static int check_ref(struct parser *ps, unsigned n, uint32_t groups, size_t line, size_t col)
{
    if (n <= groups)
        return TW_OK;
    return fail_at(ps, TW_ESYNTAX, line, col,
            "$%u names no capture: the check's %s has %u capture group%s", n,
            groups == 0 ? "context" : "capture source", (unsigned)groups, groups == 1 ? "" : "s");
}

/* Validates the check being read, once its last statement is known. */
static int finish_check(struct parser *ps)
{
    struct tw__check *c = ps->check;
    uint32_t groups;
    int rc;

    if (c == NULL)
        return TW_OK;
    ps->check = NULL;
    if (c->anchor == TW__ANCHOR_NONE && c->n_in == 0)
        return fail_at(ps, TW_ESYNTAX, c->line, 1,
                "the check selects nothing: it needs 'in', 'has' or 'lacks'");
    groups = capture_groups(c);
    for (const struct tw__filter *f = c->filters; f != NULL; f = f->next) {
        if (f->kind == TW__FILTER_IF) {
            if (f->a.kind == TW__OPND_CAPTURE &&
                    (rc = check_ref(ps, f->a.capture, groups, f->line, f->a.col)) != TW_OK)
                return rc;
            if (f->cmp != TW__CMP_MATCH && f->cmp != TW__CMP_NMATCH &&
                    f->b.kind == TW__OPND_CAPTURE &&
                    (rc = check_ref(ps, f->b.capture, groups, f->line, f->b.col)) != TW_OK)
                return rc;
        } else if (f->re->subst) {
            const struct tw__regex *re = f->re;
            for (unsigned i = 0; i < re->n_refs; i++) {
                unsigned n = (unsigned)(re->src[re->ref_off[i] + 1] - '0');
                rc = check_ref(ps, n, groups, re->line, re->col + 1 + re->ref_off[i]);
                if (rc != TW_OK)
                    return rc;
            }
        }
    }
    return TW_OK;
}

static int start_check(struct parser *ps, size_t col)
{
    struct tw__check *c;
    struct tok t;
    int rc;

    if (ps->cur->info.builtin != TW_BUILTIN_NONE)
        return fail(ps, col, "a rule has checks or a builtin, not both");
    if (ps->cur->info.n_checks == TW__RULE_CHECKS_MAX)
        return fail_at(ps, TW_ELIMIT, ps->line_no, col, "more than %d checks in one rule",
                TW__RULE_CHECKS_MAX);
    c = rule_alloc(ps, sizeof(*c));
    if (c == NULL)
        return rule_alloc_status(ps);
    c->output = -1;
    c->severity = -1;
    c->message = "";
    c->line = (uint32_t)ps->line_no;
    for (;;) {
        if ((rc = next_tok(ps, &t)) != TW_OK)
            return rc;
        if (t.kind == TOK_END)
            break;
        if ((rc = platform_word(ps, &t, &c->platforms)) != TW_OK)
            return rc;
    }
    if (c->platforms == 0)
        return fail(ps, t.col,
                "expected the platforms of the check (ios, iosxe, nxos, iosxr, "
                "junos, asa or all)");
    *ps->check_tail = c;
    ps->check_tail = &c->next;
    ps->check = c;
    ps->filter_tail = &c->filters;
    ps->n_filters = 0;
    ps->has_check_severity = false;
    ps->cur->info.n_checks++;
    ps->cur->info.platforms |= c->platforms;
    return TW_OK;
}

static struct tw__filter *new_filter(struct parser *ps, enum tw__filter_kind kind, size_t col)
{
    struct tw__filter *f;

    if (ps->n_filters == TW__RULE_FILTERS_MAX) {
        (void)fail_at(ps, TW_ELIMIT, ps->line_no, col, "more than %d filters in one check",
                TW__RULE_FILTERS_MAX);
        return NULL;
    }
    f = rule_alloc(ps, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->kind = kind;
    f->line = (uint32_t)ps->line_no;
    *ps->filter_tail = f;
    ps->filter_tail = &f->next;
    ps->n_filters++;
    return f;
}

/* True when s is a decimal number: optional sign, digits, optional fraction. */
static bool parse_number(const char *s, size_t n, double *out)
{
    size_t i = 0, digits = 0;

    if (n > 0 && (s[0] == '-' || s[0] == '+'))
        i++;
    while (i < n && tw_ascii_isdigit(s[i])) {
        i++;
        digits++;
    }
    if (digits == 0)
        return false;
    if (i < n && s[i] == '.') {
        size_t frac = 0;
        i++;
        while (i < n && tw_ascii_isdigit(s[i])) {
            i++;
            frac++;
        }
        if (frac == 0)
            return false;
    }
    return i == n && tw_parse_double(tw_str_make(s, n), out) == TW_OK;
}

bool tw__rules_number(const char *s, size_t n, double *out)
{
    return parse_number(s, n, out);
}

static int operand(struct parser *ps, const struct tok *t, struct tw__operand *o)
{
    o->col = (uint32_t)t->col;
    if (t->kind == TOK_STRING) {
        o->kind = TW__OPND_STRING;
        o->text = keep_string(ps, t);
        if (o->text == NULL)
            return rule_alloc_status(ps);
        o->len = strlen(o->text);
        return TW_OK;
    }
    if (t->kind == TOK_WORD) {
        if (t->len == 2 && t->p[0] == '$' && t->p[1] >= '1' && t->p[1] <= '9') {
            o->kind = TW__OPND_CAPTURE;
            o->capture = (unsigned)(t->p[1] - '0');
            return TW_OK;
        }
        if (tok_is(t, "$hostname")) {
            o->kind = TW__OPND_HOSTNAME;
            return TW_OK;
        }
        if (parse_number(t->p, t->len, &o->num)) {
            o->kind = TW__OPND_NUMBER;
            o->text = keep_text(ps, t->p, t->len);
            o->len = t->len;
            return o->text != NULL ? TW_OK : rule_alloc_status(ps);
        }
    }
    if (t->kind == TOK_END)
        return fail(ps, t->col, "expected $1..$9, $hostname, a number or a string");
    return fail(ps, t->col, "expected $1..$9, $hostname, a number or a string, found %s '%.*s'",
            tok_name(t), (int)TW_MIN(t->len, 40), t->p);
}

static const struct {
    const char *word;
    enum tw__cmp cmp;
} cmp_words[] = {
    { "==", TW__CMP_EQ },
    { "!=", TW__CMP_NE },
    { "<", TW__CMP_LT },
    { "<=", TW__CMP_LE },
    { ">", TW__CMP_GT },
    { ">=", TW__CMP_GE },
    { "=~", TW__CMP_MATCH },
    { "!~", TW__CMP_NMATCH },
};

static int stmt_if(struct parser *ps, size_t col)
{
    struct tw__filter *f = new_filter(ps, TW__FILTER_IF, col);
    struct tok t;
    size_t i;
    int rc;

    if (f == NULL)
        return rule_alloc_status(ps);
    if ((rc = next_tok(ps, &t)) != TW_OK || (rc = operand(ps, &t, &f->a)) != TW_OK)
        return rc;
    if ((rc = next_tok(ps, &t)) != TW_OK)
        return rc;
    for (i = 0; i < TW_ARRAY_LEN(cmp_words); i++) {
        if (tok_is(&t, cmp_words[i].word))
            break;
    }
    if (i == TW_ARRAY_LEN(cmp_words))
        return fail(ps, t.col, "expected an operator (==, !=, <, <=, >, >=, =~ or !~)%s%.*s%s",
                t.kind == TOK_END ? "" : ", found '", (int)TW_MIN(t.len, 40), t.p,
                t.kind == TOK_END ? "" : "'");
    f->cmp = cmp_words[i].cmp;
    if (f->cmp == TW__CMP_MATCH || f->cmp == TW__CMP_NMATCH) {
        if ((rc = expect(ps, &t, TOK_REGEX, "a /regex/ after the operator")) != TW_OK)
            return rc;
        f->re = keep_regex(ps, &t, false);
        if (f->re == NULL)
            return rule_alloc_status(ps);
    } else {
        if ((rc = next_tok(ps, &t)) != TW_OK || (rc = operand(ps, &t, &f->b)) != TW_OK)
            return rc;
    }
    return expect_end(ps, "the comparison");
}

/* ==== Statements ==== */

enum scope {
    SCOPE_FILE,  /* outside a rule */
    SCOPE_RULE,  /* a rule-level statement */
    SCOPE_CHECK, /* inside a check */
    SCOPE_BOTH,  /* `severity`: the rule's, or inside a check its override */
};

typedef int (*stmt_fn)(struct parser *ps, const struct tok *kw);

static bool valid_id(const struct tok *t)
{
    if (t->len == 0 || t->len > TW__RULE_ID_MAX)
        return false;
    for (size_t i = 0; i < t->len; i++) {
        char c = t->p[i];
        if (!tw_ascii_isalpha(c) && !tw_ascii_isdigit(c) && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

static long pending_find(const struct parser *ps, const char *id, size_t n)
{
    for (size_t i = ps->n_pending; i-- > 0;) {
        const char *other = ps->pending[i]->info.id;
        if (strncmp(other, id, n) == 0 && other[n] == '\0')
            return (long)i;
    }
    return -1;
}

static int stmt_rule(struct parser *ps, const struct tok *kw)
{
    struct tw__rule *r;
    struct tok t;
    long dup;
    int rc;

    if (ps->cur != NULL)
        return fail(ps, kw->col, "expected 'end' of rule '%s' (line %u) before a new rule",
                ps->cur->info.id, (unsigned)ps->cur->info.line);
    if ((rc = expect(ps, &t, TOK_WORD, "a rule id after 'rule'")) != TW_OK)
        return rc;
    if (!valid_id(&t))
        return fail(ps, t.col, "bad rule id '%.*s' (letters, digits, '.', '_' and '-', at most %d)",
                (int)TW_MIN(t.len, 70), t.p, TW__RULE_ID_MAX);
    if ((rc = expect_end(ps, "the rule id")) != TW_OK)
        return rc;
    /* Duplicates in one file are errors; the pending list is searched from its end. */
    dup = ps->n_pending > 0 ? pending_find(ps, t.p, t.len) : -1;
    if (dup >= 0)
        return fail(ps, t.col, "duplicate rule id '%.*s' (first at line %u)", (int)t.len, t.p,
                (unsigned)ps->pending[dup]->info.line);
    if (find_n(ps->rs, t.p, t.len) < 0 && ps->rs->n_rules + ps->n_new >= TW_RULES_MAX)
        return fail_at(ps, TW_ELIMIT, ps->line_no, kw->col, "more than %d rules", TW_RULES_MAX);
    r = tw_calloc(1, sizeof(*r));
    if (r == NULL)
        return oom(ps);
    tw_arena_init(&r->arena, 1024, TW__RULE_BYTES_MAX);
    ps->cur = r;
    r->info.id = keep_text(ps, t.p, t.len);
    if (r->info.id == NULL)
        return rule_alloc_status(ps);
    r->info.title = r->info.rationale = r->info.remediation = r->info.source = "";
    r->info.file = ps->path;
    r->info.line = (uint32_t)ps->line_no;
    r->info.severity = TW_SEV_INFO;
    ps->check = NULL;
    ps->check_tail = &r->checks;
    ps->drift_tail = &r->drifts;
    ps->has_severity = false;
    return TW_OK;
}

static int stmt_end(struct parser *ps, const struct tok *kw)
{
    struct tw__rule *r = ps->cur;
    int rc;

    if ((rc = expect_end(ps, "'end'")) != TW_OK)
        return rc;
    if (r->info.title[0] == '\0')
        return fail(ps, kw->col, "rule '%s' has no title", r->info.id);
    if (!ps->has_severity)
        return fail(ps, kw->col, "rule '%s' has no severity", r->info.id);
    if (r->info.n_checks == 0 && r->info.builtin == TW_BUILTIN_NONE && r->drifts == NULL)
        return fail(ps, kw->col, "rule '%s' has no check, builtin or drift line", r->info.id);
    if (r->info.needs == 0)
        r->info.needs = TW_NEEDS_CONFIG;
    if (r->info.builtin != TW_BUILTIN_NONE) {
        r->info.platforms = ALL_PLATFORMS;
    } else if (r->info.n_checks == 0) {
        for (const struct tw__drift *d = r->drifts; d != NULL; d = d->next)
            r->info.platforms |= d->platforms;
    }
    if (ps->n_pending == ps->cap_pending) {
        size_t cap = ps->cap_pending ? ps->cap_pending * 2 : 16;
        struct tw__rule **p = tw_reallocarray(
                ps->pending, cap, sizeof(*p)); /* NOLINT(bugprone-sizeof-expression) */
        if (p == NULL)
            return oom(ps);
        ps->pending = p;
        ps->cap_pending = cap;
    }
    if (find_n(ps->rs, r->info.id, strlen(r->info.id)) < 0)
        ps->n_new++;
    ps->pending[ps->n_pending++] = r;
    ps->cur = NULL;
    return TW_OK;
}

static int stmt_text(struct parser *ps, const struct tok *kw)
{
    struct tw_rule_info *info = &ps->cur->info;
    const char **field;
    struct tok t;
    int rc;

    if (tok_is(kw, "title"))
        field = &info->title;
    else if (tok_is(kw, "source"))
        field = &info->source;
    else if (tok_is(kw, "rationale"))
        field = &info->rationale;
    else
        field = &info->remediation;
    if (**field != '\0')
        return fail(ps, kw->col, "duplicate '%.*s'", (int)kw->len, kw->p);
    if ((rc = expect(ps, &t, TOK_STRING, "a \"string\"")) != TW_OK)
        return rc;
    if ((rc = expect_end(ps, "the string")) != TW_OK)
        return rc;
    if (t.len == 0)
        return fail(ps, t.col, "empty '%.*s'", (int)kw->len, kw->p);
    *field = keep_string(ps, &t);
    return *field != NULL ? TW_OK : rule_alloc_status(ps);
}

static int stmt_severity(struct parser *ps, const struct tok *kw)
{
    enum tw_severity sev;
    struct tok t;
    int rc;

    if ((rc = expect(ps, &t, TOK_WORD, "a severity (critical, high, medium, low or info)")) !=
            TW_OK)
        return rc;
    if (tw_severity_parse(tw_str_make(t.p, t.len), &sev) != TW_OK)
        return fail(ps, t.col,
                "unknown severity '%.*s' (expected critical, high, medium, low or info)",
                (int)TW_MIN(t.len, 40), t.p);
    if ((rc = expect_end(ps, "the severity")) != TW_OK)
        return rc;
    if (ps->check != NULL) {
        if (ps->has_check_severity)
            return fail(ps, kw->col, "duplicate 'severity' in a check");
        ps->check->severity = (int)sev;
        ps->has_check_severity = true;
        return TW_OK;
    }
    if (ps->has_severity)
        return fail(ps, kw->col, "duplicate 'severity'");
    ps->cur->info.severity = sev;
    ps->has_severity = true;
    return TW_OK;
}

static const struct {
    const char *word;
    unsigned bit;
} needs_words[] = {
    { "config", TW_NEEDS_CONFIG },
    { "operational", TW_NEEDS_OPERATIONAL },
    { "baseline", TW_NEEDS_BASELINE },
    { "intel", TW_NEEDS_INTEL },
};

static int stmt_needs(struct parser *ps, const struct tok *kw)
{
    struct tok t;
    unsigned n = 0;
    int rc;

    for (;;) {
        size_t i;
        if ((rc = next_tok(ps, &t)) != TW_OK)
            return rc;
        if (t.kind == TOK_END)
            break;
        for (i = 0; i < TW_ARRAY_LEN(needs_words); i++) {
            if (tok_is(&t, needs_words[i].word))
                break;
        }
        if (i == TW_ARRAY_LEN(needs_words))
            return fail(ps, t.col,
                    "unknown need '%.*s' (expected config, operational, baseline or intel)",
                    (int)TW_MIN(t.len, 40), t.p);
        ps->cur->info.needs |= needs_words[i].bit;
        n++;
    }
    if (n == 0)
        return fail(ps, t.col, "expected what '%.*s' names: config, operational, baseline or intel",
                (int)kw->len, kw->p);
    return TW_OK;
}

static int stmt_drift(struct parser *ps, const struct tok *kw)
{
    struct tw__drift *d;
    struct tok t;
    int rc;

    if (ps->cur->n_drifts == TW__RULE_DRIFTS_MAX)
        return fail_at(ps, TW_ELIMIT, ps->line_no, kw->col, "more than %d drift lines in one rule",
                TW__RULE_DRIFTS_MAX);
    d = rule_alloc(ps, sizeof(*d));
    if (d == NULL)
        return rule_alloc_status(ps);
    for (;;) {
        if ((rc = next_tok(ps, &t)) != TW_OK)
            return rc;
        if (t.kind == TOK_REGEX || t.kind == TOK_END)
            break;
        if ((rc = platform_word(ps, &t, &d->platforms)) != TW_OK)
            return rc;
    }
    if (d->platforms == 0)
        return fail(ps, t.col, "expected the platforms of the drift line before its regex");
    if (t.kind != TOK_REGEX)
        return fail(ps, t.col, "expected a /regex/ after the platforms");
    d->re = keep_regex(ps, &t, false);
    if (d->re == NULL)
        return rule_alloc_status(ps);
    if ((rc = expect_end(ps, "the regex")) != TW_OK)
        return rc;
    *ps->drift_tail = d;
    ps->drift_tail = &d->next;
    ps->cur->n_drifts++;
    return TW_OK;
}

static int stmt_check(struct parser *ps, const struct tok *kw)
{
    return start_check(ps, kw->col);
}

static int stmt_builtin(struct parser *ps, const struct tok *kw)
{
    struct tok t;
    int rc;

    if (ps->cur->info.n_checks > 0)
        return fail(ps, kw->col, "a rule has checks or a builtin, not both");
    if (ps->cur->info.builtin != TW_BUILTIN_NONE)
        return fail(ps, kw->col, "duplicate 'builtin'");
    if ((rc = expect(ps, &t, TOK_WORD, "a builtin name")) != TW_OK)
        return rc;
    for (unsigned b = 1; b < TW_BUILTIN_COUNT; b++) {
        if (tok_is(&t, tw_builtin_name((enum tw_builtin)b))) {
            ps->cur->info.builtin = (enum tw_builtin)b;
            return expect_end(ps, "the builtin name");
        }
    }
    return fail(ps, t.col,
            "unknown builtin '%.*s' (expected ioc-addresses, cve, version-unknown or drift)",
            (int)TW_MIN(t.len, 40), t.p);
}

static int stmt_in(struct parser *ps, const struct tok *kw)
{
    struct tw__check *c = ps->check;
    struct tw__regex *re;
    struct tok t;
    int rc;

    if (c->n_in == TW__RULE_IN_MAX)
        return fail_at(ps, TW_ELIMIT, ps->line_no, kw->col, "more than %d 'in' in one check",
                TW__RULE_IN_MAX);
    if ((rc = expect(ps, &t, TOK_REGEX, "a /regex/ after 'in'")) != TW_OK)
        return rc;
    if ((re = keep_regex(ps, &t, false)) == NULL)
        return rule_alloc_status(ps);
    c->in[c->n_in++] = re;
    return expect_end(ps, "the regex");
}

static int stmt_output(struct parser *ps, const struct tok *kw)
{
    enum tw_opout k;
    struct tok t;
    int rc;

    if (ps->check->output >= 0)
        return fail(ps, kw->col, "duplicate 'output' in a check");
    if ((rc = expect(ps, &t, TOK_WORD, "the name of an operational output")) != TW_OK)
        return rc;
    if (tw_opout_parse(tw_str_make(t.p, t.len), &k) != TW_OK)
        return fail(ps, t.col,
                "unknown output '%.*s' (expected show-version, dir, show-monitor-capture, "
                "show-app-hosting-list, processes, show-vstack-config or show-ip-ssh)",
                (int)TW_MIN(t.len, 40), t.p);
    ps->check->output = (int)k;
    return expect_end(ps, "the output name");
}

static int stmt_anchor(struct parser *ps, const struct tok *kw)
{
    struct tw__check *c = ps->check;
    struct tok t;
    int rc;

    if (c->anchor != TW__ANCHOR_NONE)
        return fail(ps, kw->col, "a check has one anchor at most ('has' or 'lacks')");
    if ((rc = expect(ps, &t, TOK_REGEX, "a /regex/")) != TW_OK)
        return rc;
    if ((c->anchor_re = keep_regex(ps, &t, false)) == NULL)
        return rule_alloc_status(ps);
    c->anchor = tok_is(kw, "has") ? TW__ANCHOR_HAS : TW__ANCHOR_LACKS;
    return expect_end(ps, "the regex");
}

static int stmt_if_kw(struct parser *ps, const struct tok *kw)
{
    return stmt_if(ps, kw->col);
}

static int stmt_regex_filter(struct parser *ps, const struct tok *kw)
{
    enum tw__filter_kind kind = tok_is(kw, "with")      ? TW__FILTER_WITH
                                : tok_is(kw, "without") ? TW__FILTER_WITHOUT
                                : tok_is(kw, "exists")  ? TW__FILTER_EXISTS
                                                        : TW__FILTER_MISSING;
    struct tw__filter *f = new_filter(ps, kind, kw->col);
    struct tok t;
    int rc;

    if (f == NULL)
        return rule_alloc_status(ps);
    if ((rc = expect(ps, &t, TOK_REGEX, "a /regex/")) != TW_OK)
        return rc;
    if ((f->re = keep_regex(ps, &t, true)) == NULL)
        return rule_alloc_status(ps);
    if ((kind == TW__FILTER_EXISTS || kind == TW__FILTER_MISSING) && !f->re->subst)
        f->re->memo = ps->rs->n_memo + ps->n_memo++;
    return expect_end(ps, "the regex");
}

static int stmt_message(struct parser *ps, const struct tok *kw)
{
    struct tok t;
    int rc;

    if (ps->check->message[0] != '\0')
        return fail(ps, kw->col, "duplicate 'message' in a check");
    if ((rc = expect(ps, &t, TOK_STRING, "a \"string\"")) != TW_OK)
        return rc;
    if ((rc = expect_end(ps, "the string")) != TW_OK)
        return rc;
    ps->check->message = keep_string(ps, &t);
    return ps->check->message != NULL ? TW_OK : rule_alloc_status(ps);
}

static int stmt_implicit(struct parser *ps, const struct tok *kw)
{
    (void)kw;
    ps->check->implicit = true;
    return expect_end(ps, "'implicit'");
}

static const struct {
    const char *word;
    enum scope scope;
    stmt_fn fn;
} keywords[] = {
    { "rule", SCOPE_FILE, stmt_rule },
    { "end", SCOPE_RULE, stmt_end },
    { "title", SCOPE_RULE, stmt_text },
    { "severity", SCOPE_BOTH, stmt_severity },
    { "needs", SCOPE_RULE, stmt_needs },
    { "source", SCOPE_RULE, stmt_text },
    { "rationale", SCOPE_RULE, stmt_text },
    { "remediation", SCOPE_RULE, stmt_text },
    { "drift", SCOPE_RULE, stmt_drift },
    { "check", SCOPE_RULE, stmt_check },
    { "builtin", SCOPE_RULE, stmt_builtin },
    { "in", SCOPE_CHECK, stmt_in },
    { "output", SCOPE_CHECK, stmt_output },
    { "has", SCOPE_CHECK, stmt_anchor },
    { "lacks", SCOPE_CHECK, stmt_anchor },
    { "if", SCOPE_CHECK, stmt_if_kw },
    { "with", SCOPE_CHECK, stmt_regex_filter },
    { "without", SCOPE_CHECK, stmt_regex_filter },
    { "exists", SCOPE_CHECK, stmt_regex_filter },
    { "missing", SCOPE_CHECK, stmt_regex_filter },
    { "message", SCOPE_CHECK, stmt_message },
    { "implicit", SCOPE_CHECK, stmt_implicit },
};

static int statement(struct parser *ps)
{
    struct tok kw;
    size_t i;
    int rc;

    if ((rc = next_tok(ps, &kw)) != TW_OK)
        return rc;
    if (kw.kind == TOK_END)
        return TW_OK;
    if (kw.kind != TOK_WORD)
        return fail(ps, kw.col, "expected a keyword, found %s '%.*s'", tok_name(&kw),
                (int)TW_MIN(kw.len, 40), kw.p);
    for (i = 0; i < TW_ARRAY_LEN(keywords); i++) {
        if (tok_is(&kw, keywords[i].word))
            break;
    }
    if (i == TW_ARRAY_LEN(keywords))
        return fail(ps, kw.col, "unknown keyword '%.*s'", (int)TW_MIN(kw.len, 40), kw.p);
    if (ps->cur == NULL && keywords[i].scope != SCOPE_FILE)
        return fail(ps, kw.col, "'%s' outside a rule (expected 'rule ID')", keywords[i].word);
    if (keywords[i].scope == SCOPE_CHECK && ps->check == NULL)
        return fail(ps, kw.col, "'%s' outside a check (start one with 'check PLATFORMS')",
                keywords[i].word);
    if (keywords[i].scope == SCOPE_RULE && (rc = finish_check(ps)) != TW_OK)
        return rc;
    return keywords[i].fn(ps, &kw);
}

/* ==== Merging a parsed file ==== */

/* Reserves what merging the pending rules needs; nothing in the set changes. */
static int merge_reserve(
        struct parser *ps, size_t **slots, size_t *n_slots, struct tw__drift_table *drift)
{
    struct tw_ruleset *rs = ps->rs;
    size_t total = rs->n_rules + ps->n_new, need_drift = rs->drift.n_refs;

    *slots = NULL;
    *n_slots = rs->n_id_slots;
    if (total > rs->cap_rules) {
        size_t cap = TW_MAX(total, rs->cap_rules * 2);
        struct tw__rule **p = tw_reallocarray(
                rs->rules, cap, sizeof(*p)); /* NOLINT(bugprone-sizeof-expression) */
        if (p == NULL)
            return TW_ENOMEM;
        rs->rules = p;
        rs->cap_rules = cap;
    }
    if (total * 2 > rs->n_id_slots) {
        size_t n = 16;
        while (n < total * 2)
            n *= 2;
        *slots = tw_calloc(n, sizeof(**slots));
        if (*slots == NULL)
            return TW_ENOMEM;
        *n_slots = n;
    }
    for (size_t i = 0; i < ps->n_pending; i++)
        need_drift += tw__drift_table_need(ps->pending[i]);
    if (tw__drift_table_alloc(drift, need_drift) != TW_OK) {
        tw_free(*slots);
        *slots = NULL;
        return TW_ENOMEM;
    }
    return TW_OK;
}

static void id_insert(struct tw_ruleset *rs, size_t idx)
{
    const char *id = rs->rules[idx]->info.id;
    size_t s = id_slot(rs->rules, rs->id_slots, rs->n_id_slots, id, strlen(id));

    rs->id_slots[s] = idx + 1;
}

static void merge_commit(
        struct parser *ps, size_t *slots, size_t n_slots, struct tw__drift_table *drift)
{
    struct tw_ruleset *rs = ps->rs;

    if (slots != NULL) {
        tw_free(rs->id_slots);
        rs->id_slots = slots;
        rs->n_id_slots = n_slots;
        for (size_t i = 0; i < rs->n_rules; i++)
            id_insert(rs, i);
    }
    for (size_t i = 0; i < ps->n_pending; i++) {
        struct tw__rule *r = ps->pending[i];
        long at = tw_ruleset_find(rs, r->info.id);
        if (at >= 0) {
            rule_free(rs->rules[at]);
            rs->rules[at] = r;
        } else {
            rs->rules[rs->n_rules] = r;
            id_insert(rs, rs->n_rules++);
        }
    }
    ps->n_pending = 0;
    rs->n_memo += ps->n_memo;
    tw__drift_table_free(&rs->drift);
    rs->drift = *drift;
    tw__drift_table_fill(&rs->drift, rs);
}

/* ==== Public API ==== */

static bool catalogue_marker(const struct tw_str line, struct tw_str *name)
{
    static const char mark[] = "# file: ";

    if (line.len <= sizeof(mark) - 1 || memcmp(line.ptr, mark, sizeof(mark) - 1) != 0)
        return false;
    *name = tw_str_trim(tw_str_make(line.ptr + sizeof(mark) - 1, line.len - (sizeof(mark) - 1)));
    return name->len > 0;
}

static int parse_lines(struct parser *ps, size_t len)
{
    struct tw_str rest = tw_str_skip_bom(tw_str_make(ps->text, len)), line;
    int rc;

    while (tw_str_next_line(&rest, &line)) {
        struct tw_str name;
        ps->line_no++;
        ps->line = line.ptr;
        ps->line_len = line.len;
        ps->line_off = (size_t)(line.ptr - ps->text);
        ps->pos = 0;
        if (line.len > TW_RULE_LINE_MAX)
            return fail_at(ps, TW_ELIMIT, ps->line_no, TW_RULE_LINE_MAX + 1,
                    "line longer than %d bytes", TW_RULE_LINE_MAX);
        for (size_t i = 0; i < line.len; i++) {
            unsigned char c = (unsigned char)line.ptr[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return fail(ps, i + 1, "control character 0x%02x in a rule file", c);
        }
        if (catalogue_marker(line, &name)) {
            ps->file_name = name.ptr;
            ps->file_name_len = name.len;
            ps->file_line0 = ps->line_no;
            continue;
        }
        if ((rc = statement(ps)) != TW_OK)
            return rc;
    }
    if (ps->cur != NULL) {
        return fail_at(
                ps, TW_ESYNTAX, ps->cur->info.line, 1, "rule '%s' has no 'end'", ps->cur->info.id);
    }
    return TW_OK;
}

int tw_ruleset_parse(
        struct tw_ruleset *rs, const char *text, size_t len, const char *path, struct tw_err *err)
{
    struct parser ps;
    struct tw__drift_table drift;
    size_t *slots = NULL, n_slots = 0;
    int rc;

    tw_err_clear(err);
    memset(&ps, 0, sizeof(ps));
    ps.rs = rs;
    ps.err = err;
    ps.path = path != NULL ? path : "<input>";
    ps.text = text != NULL ? text : "";
    if (rs == NULL || (text == NULL && len > 0))
        return tw_err_set(err, TW_EINVAL, TW_NOPOS, "%s: no rule set or text", ps.path);
    if (len > TW__RULE_FILE_MAX)
        return tw_err_set(err, TW_ELIMIT, TW_NOPOS, "%s: rule file larger than %zu bytes", ps.path,
                (size_t)TW__RULE_FILE_MAX);
    rc = parse_lines(&ps, len);
    if (rc == TW_OK) {
        rc = merge_reserve(&ps, &slots, &n_slots, &drift);
        if (rc == TW_OK)
            merge_commit(&ps, slots, n_slots, &drift);
        else
            rc = tw_err_set(err, TW_ENOMEM, TW_NOPOS, "%s: out of memory", ps.path);
    }
    if (ps.cur != NULL)
        rule_free(ps.cur);
    for (size_t i = 0; i < ps.n_pending; i++)
        rule_free(ps.pending[i]);
    tw_free(ps.pending);
    return rc;
}
