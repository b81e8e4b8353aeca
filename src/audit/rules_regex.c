/*
 * rules_regex.c: the rule engine's regexes: compiling them with PCRE2,
 * substituting captures into `$N` templates, and extracting literal prefixes.
 *
 * Patterns are compiled once, at parse time, in 8-bit mode without UTF
 * (configurations are bytes; a stray Latin-1 byte in a banner must not make
 * a match fail), with JIT when the library and the machine allow it: when
 * JIT compilation fails the interpreter runs the same code. PCRE2 allocates
 * through tw_malloc (the set's general context), so allocation-failure tests
 * reach its paths too.
 *
 * The prefilter. An anchored regex such as `^snmp-server community ` can
 * only match a statement that starts with "snmp-server community ". Before
 * running PCRE2 on a statement the engine compares such a prefix (and, in its
 * index, picks the bucket of statements whose first word is "snmp-server").
 * The extraction is conservative: it reads literal bytes after a leading `^`
 * and stops at the first construct that is not one required literal byte
 * (a class, a group other than the first alternation, an escape that is a
 * class, a quantifier, which also drops the byte it applies to). A group of
 * alternatives right after the literal gives one prefix per alternative
 * (`^(ip access-list |access-list )`). A `|` at the top level, a pattern that
 * does not start with `^`, or anything unclear gives no prefix: the regex is
 * then tried on every statement, which is always correct.
 *
 * The required literal. A regex without a top-level `|` also needs, somewhere
 * in every match, the longest run of literal bytes it has outside groups and
 * classes (" 0 " for `\b(password|secret) 0 \S`, "privilege 15" for
 * `^username \S+ .*\bprivilege 15\b`); a statement without it is skipped
 * before PCRE2 runs (a memchr for its least common byte, then a compare).
 * The fuzz target and the tests check both prefilters against evaluations
 * without them.
 */
#include <string.h>

#include "rules_int.h"
#include "tidewatch/alloc.h"

/* ==== Pattern scanning ==== */

static bool is_alnum(char c)
{
    return tw_ascii_isdigit(c) || tw_ascii_isalpha(c);
}

static bool is_ref_digit(char c)
{
    return c >= '1' && c <= '9';
}

/* Index just past the \E that closes a \Q quote starting at i (s[i] is after "\Q"). */
static size_t skip_quote(const char *s, size_t n, size_t i)
{
    while (i + 1 < n) {
        if (s[i] == '\\' && s[i + 1] == 'E')
            return i + 2;
        i++;
    }
    return n;
}

/*
 * Index just past the escape sequence at s[i] == '\\', with its argument
 * (`\x{41}`, `\g{-1}`, `\k<name>`, `\p{L}`, `\cX`, digits of `\12`) or up to
 * the \E of a `\Q` quote, so that no byte of it is read as syntax or literal.
 */
static size_t escape_end(const char *s, size_t n, size_t i)
{
    size_t j = i + 2;
    char e;

    if (i + 1 >= n)
        return n;
    e = s[i + 1];
    switch (e) {
        case 'Q':
            return skip_quote(s, n, i + 2);
        case 'c':
            return TW_MIN(i + 3, n);
        case 'x':
        case 'o':
        case 'g':
        case 'k':
        case 'p':
        case 'P':
        case 'N':
            if (j < n && (s[j] == '{' || s[j] == '<' || s[j] == '\'')) {
                char close = '\'';
                if (s[j] == '{')
                    close = '}';
                else if (s[j] == '<')
                    close = '>';
                j++;
                while (j < n && s[j] != close)
                    j++;
                return j < n ? j + 1 : n;
            }
            if (e == 'x') {
                for (int k = 0; k < 2 && j < n && tw_ascii_isxdigit(s[j]); k++)
                    j++;
            } else if (e == 'g') {
                if (j < n && (s[j] == '-' || s[j] == '+'))
                    j++;
                while (j < n && tw_ascii_isdigit(s[j]))
                    j++;
            } else if (e == 'p' || e == 'P') {
                j = TW_MIN(j + 1, n);
            }
            return j;
        default:
            while (tw_ascii_isdigit(e) && j < n && tw_ascii_isdigit(s[j]))
                j++;
            return TW_MIN(j, n);
    }
}

/* Index just past the class that starts at s[i] == '['. */
static size_t skip_class(const char *s, size_t n, size_t i)
{
    i++;
    if (i < n && s[i] == '^')
        i++;
    if (i < n && s[i] == ']')
        i++;
    while (i < n) {
        if (s[i] == '\\') {
            i = escape_end(s, n, i);
        } else if (s[i] == '[' && i + 1 < n && s[i + 1] == ':') {
            size_t j = i + 2;
            while (j + 1 < n && !(s[j] == ':' && s[j + 1] == ']'))
                j++;
            i = j + 2;
        } else if (s[i] == ']') {
            return i + 1;
        } else {
            i++;
        }
    }
    return n;
}

/* Index of the `)` of the comment "(?#" at s[i], plus one. */
static size_t skip_comment(const char *s, size_t n, size_t i)
{
    while (i < n && s[i] != ')')
        i++;
    return i < n ? i + 1 : n;
}

/*
 * Walks a pattern's syntax: records whether it has a `|` outside every group
 * and where its `$1`..`$9` are (outside classes, quotes and escapes).
 * Returns false when there are more than TW__RULE_REFS_MAX of them.
 */
static bool scan_pattern(
        const char *s, size_t n, bool *top_alt, uint16_t *refs, uint8_t *n_refs, uint8_t *max_ref)
{
    unsigned depth = 0;
    size_t i = 0;

    *top_alt = false;
    *n_refs = 0;
    *max_ref = 0;
    while (i < n) {
        char c = s[i];
        if (c == '\\') {
            i = escape_end(s, n, i);
        } else if (c == '[') {
            i = skip_class(s, n, i);
        } else if (c == '(') {
            if (i + 2 < n && s[i + 1] == '?' && s[i + 2] == '#') {
                i = skip_comment(s, n, i + 3);
                continue;
            }
            depth++;
            i++;
        } else if (c == ')') {
            if (depth > 0)
                depth--;
            i++;
        } else if (c == '$' && i + 1 < n && is_ref_digit(s[i + 1])) {
            if (*n_refs == TW__RULE_REFS_MAX)
                return false;
            refs[(*n_refs)++] = (uint16_t)i;
            if ((uint8_t)(s[i + 1] - '0') > *max_ref)
                *max_ref = (uint8_t)(s[i + 1] - '0');
            i += 2;
        } else {
            if (c == '|' && depth == 0)
                *top_alt = true;
            i++;
        }
    }
    return true;
}

/* ==== Prefix extraction ==== */

struct lit {
    char buf[TW__RULE_PREFIX_MAX];
    size_t n;
    bool word_done; /* what follows the literal ends the first word (`\s`, `$`) */
};

/* True when s[i] makes the item before it optional: `?`, `*` or a `{` quantifier. */
static bool optional_quant(const char *s, size_t end, size_t i)
{
    return i < end && (s[i] == '?' || s[i] == '*' || s[i] == '{');
}

/*
 * Appends to l the literal bytes of s[*pos..end) that every match must
 * contain there, and leaves *pos at the first construct that is not one.
 */
static void read_literal(const char *s, size_t end, size_t *pos, bool subst, struct lit *l)
{
    size_t p = *pos;

    while (p < end && l->n < sizeof(l->buf)) {
        char c = s[p], lit;
        size_t next;

        if (c == '\\') {
            if (p + 1 >= end)
                break;
            if (is_alnum(s[p + 1])) {
                /* A class escape (\s, \d, ...) or a special one: the literal ends. */
                if (s[p + 1] == 's' && !optional_quant(s, end, p + 2))
                    l->word_done = true;
                break;
            }
            lit = s[p + 1];
            next = p + 2;
        } else if (c == '$') {
            bool ref = subst && p + 1 < end && is_ref_digit(s[p + 1]);
            if (!ref && (p + 1 == end || s[p + 1] == ')' || s[p + 1] == '|'))
                l->word_done = true;
            break;
        } else if (c == '.' || c == '^' || c == '|' || c == '(' || c == ')' || c == '[' ||
                   c == '*' || c == '+' || c == '?' || c == '{' || c == '\0') {
            break;
        } else {
            lit = c;
            next = p + 1;
        }
        if (optional_quant(s, end, next))
            break; /* this byte may be absent */
        l->buf[l->n++] = lit;
        p = next;
        if (p < end && s[p] == '+')
            break; /* one or more: what follows is not known */
    }
    *pos = p;
}

/* Index of the `)` closing the group whose body starts at i, recording its top-level `|`. */
static size_t group_end(const char *s, size_t n, size_t i, size_t *alts, size_t *n_alts)
{
    unsigned depth = 0;

    *n_alts = 0;
    while (i < n) {
        char c = s[i];
        if (c == '\\') {
            i = escape_end(s, n, i);
        } else if (c == '[') {
            i = skip_class(s, n, i);
        } else if (c == '(') {
            if (i + 2 < n && s[i + 1] == '?' && s[i + 2] == '#') {
                i = skip_comment(s, n, i + 3);
                continue;
            }
            depth++;
            i++;
        } else if (c == ')') {
            if (depth == 0)
                return i;
            depth--;
            i++;
        } else {
            if (c == '|' && depth == 0) {
                if (*n_alts == TW__RULE_PREFIXES_MAX - 2)
                    return n; /* too many alternatives to keep (one more may be the empty one) */
                alts[(*n_alts)++] = i;
            }
            i++;
        }
    }
    return n;
}

static bool prefix_eq(const struct lit *a, const struct lit *b, bool caseless)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        char x = a->buf[i], y = b->buf[i];
        if (caseless ? tw_ascii_lower(x) != tw_ascii_lower(y) : x != y)
            return false;
    }
    return true;
}

/* Appends src to dst, as far as it fits; a cut literal no longer knows where its word ends. */
static void lit_append(struct lit *dst, const struct lit *src)
{
    size_t n = TW_MIN(src->n, sizeof(dst->buf) - dst->n);

    memcpy(dst->buf + dst->n, src->buf, n);
    dst->n += n;
    dst->word_done = n == src->n && src->word_done;
}

/*
 * Fills lits[] with the regex's prefixes; returns how many (0: none). The
 * prefixes are the literal after `^`, then, when a group of alternatives
 * follows, that literal with each alternative's own; when every alternative
 * is a plain literal and the group occurs once (or, with `?`, at most once:
 * an empty alternative then), with the literal after the group as well:
 * `^(no )?iox$` gives "no iox" and "iox", `^(tacacs|radius) server ` gives
 * "tacacs server " and "radius server ".
 */
static size_t extract(const char *s, size_t n, bool subst, struct lit *lits)
{
    struct lit head, cont, alt[TW__RULE_PREFIXES_MAX];
    size_t pos = 1, bounds[TW__RULE_PREFIXES_MAX], n_bounds, body, end, after, n_alt = 0;
    size_t n_lits = 0, from;
    bool optional = false, repeated = false, all_full = true, any_empty = false;

    if (n == 0 || s[0] != '^')
        return 0;
    memset(&head, 0, sizeof(head));
    read_literal(s, n, &pos, subst, &head);
    lits[0] = head;
    if (pos >= n || s[pos] != '(' || head.word_done || head.n == sizeof(head.buf))
        return head.n > 0 ? 1 : 0;
    /* A group right after the literal: `(a|b)` or `(?:a|b)`. */
    body = pos + 1;
    if (body < n && s[body] == '?') {
        if (body + 1 >= n || s[body + 1] != ':')
            return head.n > 0 ? 1 : 0;
        body += 2;
    }
    end = group_end(s, n, body, bounds, &n_bounds);
    if (end >= n)
        return head.n > 0 ? 1 : 0;
    after = end + 1;
    if (after < n && s[after] == '?') {
        optional = true; /* zero or one time: an empty alternative */
        after++;
        if (after < n && (s[after] == '?' || s[after] == '+'))
            after++; /* lazy or possessive: the same strings */
    } else if (after < n && (s[after] == '*' || s[after] == '{')) {
        return head.n > 0 ? 1 : 0; /* maybe absent, maybe repeated */
    } else if (after < n && s[after] == '+') {
        repeated = true; /* at least once: nothing is known after the first time */
    }
    from = body;
    for (size_t k = 0; k <= n_bounds; k++) {
        size_t to = k < n_bounds ? bounds[k] : end, p = from;
        memset(&alt[n_alt], 0, sizeof(alt[n_alt]));
        read_literal(s, to, &p, subst, &alt[n_alt]);
        if (p != to) {
            all_full = false;
            if (alt[n_alt].n == 0)
                return head.n > 0 ? 1 : 0; /* this alternative tells nothing */
        } else {
            alt[n_alt].word_done = false; /* its end is the group's */
        }
        any_empty = any_empty || alt[n_alt].n == 0;
        n_alt++;
        from = to + 1;
    }
    if (optional) {
        memset(&alt[n_alt++], 0, sizeof(alt[0]));
        any_empty = true;
    }
    memset(&cont, 0, sizeof(cont));
    if (all_full && !repeated)
        read_literal(s, n, &after, subst, &cont);
    else if (any_empty)
        return head.n > 0 ? 1 : 0;
    for (size_t k = 0; k < n_alt; k++) {
        struct lit l = head;
        bool dup = false;
        lit_append(&l, &alt[k]);
        if (all_full && !repeated)
            lit_append(&l, &cont);
        if (l.n == 0)
            return 0;
        for (size_t j = 0; j < n_lits; j++)
            dup = dup || prefix_eq(&lits[j], &l, false);
        if (!dup)
            lits[n_lits++] = l;
    }
    return n_lits;
}

/*
 * The longest run of literal bytes outside every group, class and quote:
 * each match of a pattern without a top-level `|` contains it. A quantifier
 * takes its byte out of the run; anything that is not a literal byte ends
 * the run; an inline option (`(?i)`, `(?x)`) ends the search, since it
 * changes how what follows is read.
 */
static void required_literal(const char *s, size_t n, bool subst, struct lit *best)
{
    struct lit run;
    size_t i = 0;

    memset(best, 0, sizeof(*best));
    memset(&run, 0, sizeof(run));
    while (i <= n) {
        char c = '\0';
        bool lit = false;
        size_t next = i + 1;
        char b;

        if (i < n)
            c = s[i];
        b = c;
        if (i == n) {
            next = n + 1;
        } else if (c == '\\') {
            if (i + 1 < n && !is_alnum(s[i + 1])) {
                lit = true;
                b = s[i + 1];
                next = i + 2;
            } else {
                next = escape_end(s, n, i);
            }
        } else if (c == '[') {
            next = skip_class(s, n, i);
        } else if (c == '{') {
            while (next < n && s[next - 1] != '}')
                next++; /* a quantifier's bounds (or a literal brace: lost, which is safe) */
        } else if (c == '(') {
            size_t alts[TW__RULE_PREFIXES_MAX], n_alts, end;
            bool option = i + 2 < n && s[i + 1] == '?' &&
                          (tw_ascii_isalpha(s[i + 2]) || s[i + 2] == '^' || s[i + 2] == '-' ||
                                  s[i + 2] == ')');
            /* After an inline option, or an unclosed group, the run so far is all that counts. */
            end = option ? n : group_end(s, n, i + 1, alts, &n_alts);
            next = end >= n ? n + 1 : end + 1;
        } else if (c == '$' && subst && i + 1 < n && is_ref_digit(s[i + 1])) {
            next = i + 2;
        } else if (c != '.' && c != '^' && c != '$' && c != '|' && c != ')' && c != '*' &&
                   c != '+' && c != '?' && c != '{' && c != '\0') {
            lit = true;
        }
        if (lit && i < n && optional_quant(s, n, next))
            lit = false; /* this byte may be absent */
        if (lit && run.n < sizeof(run.buf)) {
            run.buf[run.n++] = b;
            if (next < n && s[next] == '+')
                lit = false; /* one or more: the run ends after it */
            else
                lit = true;
        }
        if (!lit || run.n == sizeof(run.buf)) {
            if (run.n > best->n)
                *best = run;
            run.n = 0;
        }
        i = next;
    }
}

static bool find_exact(const char *hay, size_t len, const char *need, size_t n, size_t anchor);
static int rarity(char c);

static int keep_need(struct tw__regex *re, struct tw_arena *a)
{
    struct lit need;

    required_literal(re->src, re->src_len, re->subst, &need);
    re->need = NULL;
    re->need_len = 0;
    if (need.n < 2)
        return TW_OK;
    /* A prefix that already holds the literal says as much, at less cost. */
    for (unsigned i = 0; i < re->n_prefix; i++) {
        if (re->prefix[i].len >= need.n &&
                find_exact(re->prefix[i].lit, re->prefix[i].len, need.buf, need.n, 0))
            return TW_OK;
    }
    re->need = tw_arena_strndup(a, need.buf, TW_MIN(need.n, (size_t)TW__RULE_NEED_MAX));
    if (re->need == NULL)
        return TW_ENOMEM;
    re->need_len = (uint16_t)TW_MIN(need.n, (size_t)TW__RULE_NEED_MAX);
    re->need_anchor = 0;
    for (uint16_t i = 1; i < re->need_len; i++) {
        if (rarity(re->need[i]) > rarity(re->need[re->need_anchor]))
            re->need_anchor = i;
    }
    return TW_OK;
}

static int keep_prefixes(struct tw__regex *re, struct tw_arena *a)
{
    struct lit lits[TW__RULE_PREFIXES_MAX];
    size_t n = extract(re->src, re->src_len, re->subst, lits);

    re->n_prefix = 0;
    for (size_t i = 0; i < n; i++) {
        struct tw__prefix *p = &re->prefix[i];
        size_t key = 0;
        char *lit = tw_arena_strndup(a, lits[i].buf, lits[i].n);
        if (lit == NULL)
            return TW_ENOMEM;
        while (key < lits[i].n && !tw__word_end(lits[i].buf[key]))
            key++;
        if (key == lits[i].n && !lits[i].word_done)
            key = 0; /* the first word may go on past the literal */
        p->lit = lit;
        p->len = (uint16_t)lits[i].n;
        p->key_len = (uint16_t)key;
        p->key_hash = key > 0 ? tw__word_hash(lit, key) : 0;
    }
    re->n_prefix = (uint8_t)n;
    return TW_OK;
}

/* ==== Compiling ==== */

static int compile_error(int code, char *msg, size_t msg_cap)
{
    PCRE2_UCHAR text[160];

    if (code == PCRE2_ERROR_NOMEMORY || code == PCRE2_ERROR_HEAP_FAILED)
        return TW_ENOMEM;
    if (pcre2_get_error_message(code, text, sizeof(text)) < 0)
        (void)snprintf((char *)text, sizeof(text), "PCRE2 error %d", code);
    (void)snprintf(msg, msg_cap, "%s", (const char *)text);
    return TW_ESYNTAX;
}

int tw__regex_compile(const struct tw_ruleset *rs, struct tw__regex *re, bool allow_subst,
        struct tw_arena *a, char *msg, size_t msg_cap, size_t *err_off)
{
    uint32_t opts = re->caseless ? PCRE2_CASELESS : 0;
    const char *pat = re->src;
    size_t pat_len = re->src_len;
    char *tmp = NULL;
    pcre2_code *code;
    PCRE2_SIZE off = 0;
    bool top_alt;
    int ecode, rc;

    re->code = NULL;
    re->memo = UINT32_MAX;
    if (!scan_pattern(re->src, re->src_len, &top_alt, re->ref_off, &re->n_refs, &re->max_ref)) {
        (void)snprintf(
                msg, msg_cap, "more than %d $N substitutions in one regex", TW__RULE_REFS_MAX);
        *err_off = 0;
        return TW_ELIMIT;
    }
    if (re->n_refs > 0 && !allow_subst) {
        (void)snprintf(msg, msg_cap,
                "'$%c' is substituted only in with, without, exists and missing (write \\$ for "
                "a dollar sign)",
                re->src[re->ref_off[0] + 1]);
        *err_off = re->ref_off[0];
        return TW_ESYNTAX;
    }
    re->subst = re->n_refs > 0;
    if (re->subst) {
        /* Check the template with each $N standing for one literal byte. */
        static const char stand_in[] = "(?:x)";
        size_t sl = sizeof(stand_in) - 1, cap = re->src_len + re->n_refs * sl + 1, o = 0, from = 0;
        tmp = tw_malloc(cap);
        if (tmp == NULL)
            return TW_ENOMEM;
        for (unsigned i = 0; i < re->n_refs; i++) {
            memcpy(tmp + o, re->src + from, re->ref_off[i] - from);
            o += re->ref_off[i] - from;
            memcpy(tmp + o, stand_in, sl);
            o += sl;
            from = re->ref_off[i] + 2u;
        }
        memcpy(tmp + o, re->src + from, re->src_len - from);
        o += re->src_len - from;
        pat = tmp;
        pat_len = o;
    }
    code = pcre2_compile((PCRE2_SPTR)pat, pat_len, opts, &ecode, &off, rs->cctx);
    if (code == NULL) {
        rc = compile_error(ecode, msg, msg_cap);
        *err_off = re->subst ? 0 : (size_t)off;
        tw_free(tmp);
        return rc;
    }
    tw_free(tmp);
    if (pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &re->n_groups) != 0)
        re->n_groups = 0;
    if (re->subst) {
        pcre2_code_free(code);
    } else {
        /* JIT when available; on failure the interpreter runs the same code. */
        if (!rs->no_jit)
            (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
        re->code = code;
    }
    if (!rs->no_index && !top_alt) {
        rc = keep_prefixes(re, a);
        if (rc == TW_OK)
            rc = keep_need(re, a);
        if (rc != TW_OK)
            return rc; /* re->code is freed with the rule's list */
    }
    return TW_OK;
}

void tw__regex_free_all(struct tw__regex *list)
{
    while (list != NULL) {
        pcre2_code_free(list->code);
        list->code = NULL;
        list = list->next_owned;
    }
}

/* ==== Substitution and prefixes at evaluation ==== */

/* Appends the capture c to out[*o..cap) as literal atoms in a group; false when it does not fit. */
static bool put_literal(struct tw_str c, char *out, size_t cap, size_t *o)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = *o;

    if (cap - n < 4)
        return false;
    out[n++] = '(';
    out[n++] = '?';
    out[n++] = ':';
    for (size_t i = 0; i < c.len; i++) {
        unsigned char b = (unsigned char)c.ptr[i];
        if (cap - n < 7)
            return false;
        if (is_alnum((char)b)) {
            out[n++] = (char)b;
        } else if (b >= 0x20 && b < 0x7f) {
            out[n++] = '\\';
            out[n++] = (char)b;
        } else {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = '{';
            out[n++] = hex[b >> 4];
            out[n++] = hex[b & 15];
            out[n++] = '}';
        }
    }
    if (cap - n < 1)
        return false;
    out[n++] = ')';
    *o = n;
    return true;
}

size_t tw__regex_subst(const struct tw__regex *re, const struct tw_str caps[TW__RULE_CAPTURES],
        char *out, size_t cap)
{
    size_t o = 0, from = 0;

    for (unsigned i = 0; i < re->n_refs; i++) {
        size_t seg = re->ref_off[i] - from;
        unsigned k = (unsigned)(re->src[re->ref_off[i] + 1] - '0');
        if (cap - o < seg)
            return (size_t)-1;
        memcpy(out + o, re->src + from, seg);
        o += seg;
        if (!put_literal(caps[k], out, cap, &o))
            return (size_t)-1;
        from = re->ref_off[i] + 2u;
    }
    if (cap - o < re->src_len - from + 1)
        return (size_t)-1;
    memcpy(out + o, re->src + from, re->src_len - from);
    o += re->src_len - from;
    out[o] = '\0';
    return o;
}

static bool starts_with(const char *text, size_t len, const struct tw__prefix *p, bool caseless)
{
    if (len < p->len)
        return false;
    if (!caseless)
        return memcmp(text, p->lit, p->len) == 0;
    for (size_t i = 0; i < p->len; i++) {
        if (tw_ascii_lower(text[i]) != tw_ascii_lower(p->lit[i]))
            return false;
    }
    return true;
}

/*
 * Whether hay[0..len) contains need[0..n) (n > 0), exactly: a memchr for
 * need[anchor], the byte least likely in configurations, then a compare.
 */
static bool find_exact(const char *hay, size_t len, const char *need, size_t n, size_t anchor)
{
    const char *p, *end;

    if (len < n)
        return false;
    p = hay + anchor;
    end = hay + len - (n - anchor); /* the last place the anchor byte can be */
    while (p <= end) {
        p = memchr(p, need[anchor], (size_t)(end - p) + 1);
        if (p == NULL)
            return false;
        if (memcmp(p - anchor, need, n) == 0)
            return true;
        p++;
    }
    return false;
}

/* How unusual a byte is in configuration text: the higher, the fewer false starts. */
static int rarity(char c)
{
    if (c == ' ')
        return 0;
    if (c >= 'a' && c <= 'z')
        return strchr("etaoinsrlc", c) != NULL ? 1 : 2;
    return 3;
}

/* Whether text contains the required literal of re. */
static bool contains(const struct tw__regex *re, const char *text, size_t len)
{
    const char *need = re->need;
    size_t n = re->need_len;

    if (len < n)
        return false;
    if (!re->caseless)
        return find_exact(text, len, need, n, re->need_anchor);
    for (size_t i = 0; i + n <= len; i++) {
        size_t k = 0;
        while (k < n && tw_ascii_lower(text[i + k]) == tw_ascii_lower(need[k]))
            k++;
        if (k == n)
            return true;
    }
    return false;
}

bool tw__regex_prefilter(const struct tw__regex *re, const char *text, size_t len)
{
    if (re->n_prefix > 0) {
        bool ok = false;
        for (unsigned i = 0; i < re->n_prefix && !ok; i++)
            ok = starts_with(text, len, &re->prefix[i], re->caseless);
        if (!ok)
            return false;
    }
    return re->need == NULL || contains(re, text, len);
}
